package huawei

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestControl(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createRule(t, strings.Replace(minimalRule("cmd.com", "live", "*"), `"stream"`, `"record_type":"COMMAND_RECORD","stream"`, 1))
	e.createRule(t, minimalRule("cmd.com", "live", "auto"))
	// Another project's domain.
	r := e.do(req{method: http.MethodPost, path: rulesPath(projectB), body: minimalRule("b.com", "live", "*"),
		key: keyB, secret: secretB, projectHeader: ptr(projectB)})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))

	control := "/v1/" + projectA + "/record/control"
	body := func(domain, app, stream string) string {
		return `{"publish_domain":"` + domain + `","app":"` + app + `","stream":"` + stream + `"}`
	}
	cases := []struct {
		name, query, body string
		status            int
		code, msg         string
	}{
		{"NoAction", "", body("cmd.com", "live", "s"), http.StatusBadRequest, codeBadParameter, "action"},
		{"BadAction", "?action=PAUSE", body("cmd.com", "live", "s"), http.StatusBadRequest, codeBadParameter, "action"},
		{"LowerCaseAction", "?action=start", body("cmd.com", "live", "s"), http.StatusBadRequest, codeBadParameter, "action"},
		{"NoStream", "?action=START", body("cmd.com", "live", ""), http.StatusBadRequest, codeBadParameter, "stream"},
		{"WildcardApp", "?action=START", body("cmd.com", "*", "s"), http.StatusBadRequest, codeBadParameter, "app"},
		{"NoDomain", "?action=STOP", body("", "live", "s"), http.StatusBadRequest, codeBadParameter, "publish_domain"},
		{"UnknownField", "?action=START", `{"publish_domain":"cmd.com","app":"live","stream":"s","x":1}`, http.StatusBadRequest, codeBadParameter, "x"},
		{"OtherProjectsDomain", "?action=START", body("b.com", "live", "s"), http.StatusNotFound, codeNotFound, ""},
		{"UnknownDomain", "?action=START", body("none.com", "live", "s"), http.StatusNotFound, codeNotFound, ""},
		{"NoRule", "?action=START", body("cmd.com", "other", "s"), http.StatusNotFound, codeNotFound, "rule"},
		{"ContinuousRule", "?action=START", body("cmd.com", "live", "auto"), http.StatusBadRequest, codeBadParameter, "COMMAND_RECORD"},
		{"StartNotLive", "?action=START", body("cmd.com", "live", "s"), http.StatusNotFound, codeNotFound, "not being published"},
		{"StopNotLive", "?action=STOP", body("CMD.com", "live", "s"), http.StatusNotFound, codeNotFound, "not being published"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e.do(req{method: http.MethodPost, path: control + tc.query, body: tc.body}).requireError(t, tc.status, tc.code, tc.msg)
		})
	}
}
