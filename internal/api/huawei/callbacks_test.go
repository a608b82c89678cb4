package huawei

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

const callbackKey = "abcdefghijABCDEFGHIJ0123456789xy"

func callbackBodyJSON(domain, app string, extra string) string {
	return fmt.Sprintf(`{"publish_domain":%q,"app":%q,"notify_callback_url":"https://hooks.example.com/rec"%s}`, domain, app, extra)
}

func (e *env) createCallback(t *testing.T, body string) callbackOut {
	t.Helper()
	r := e.do(req{method: http.MethodPost, path: callbacksPath(projectA), body: body})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	require.NotContains(t, string(r.body), `"key"`)
	var out callbackOut
	r.decode(t, &out)
	return out
}

func TestCallbackMappingBothWays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	got := e.createCallback(t, callbackBodyJSON("Push.Example.com", "live",
		`,"notify_event_subscription":["RECORD_START","RECORD_NEW_FILE_START","RECORD_FILE_COMPLETE","RECORD_OVER","RECORD_FAILED"],`+
			`"sign_type":"MD5","key":"`+callbackKey+`"`))
	want := callbackOut{ID: got.ID, PublishDomain: "push.example.com", App: "live", NotifyCallbackURL: "https://hooks.example.com/rec",
		NotifyEventSubscription: []string{"RECORD_START", "RECORD_NEW_FILE_START", "RECORD_FILE_COMPLETE", "RECORD_OVER", "RECORD_FAILED"},
		SignType:                "MD5", CreateTime: got.CreateTime, UpdateTime: got.UpdateTime}
	require.Equal(t, want, got)
	require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, got.CreateTime)

	r := e.do(req{method: http.MethodGet, path: callbacksPath(projectA) + "/" + got.ID})
	require.Equal(t, http.StatusOK, r.status)
	require.NotContains(t, string(r.body), callbackKey)
	var shown callbackOut
	r.decode(t, &shown)
	require.Equal(t, want, shown)

	c, err := e.svc.GetCallback(t.Context(), service.Principal{Project: projectA}, got.ID)
	require.NoError(t, err)
	require.Equal(t, recording.DialectHuawei, c.Dialect)
	require.Equal(t, []recording.Event{recording.EventRecordStarted, recording.EventFileStarted, recording.EventFileCompleted,
		recording.EventRecordOver, recording.EventRecordFailed}, c.Events)
	key, err := e.svc.CallbackKey(c)
	require.NoError(t, err)
	require.Equal(t, callbackKey, key)
}

func TestCallbackDefaultsAndUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	got := e.createCallback(t, callbackBodyJSON("a.com", "*", `,"key":"`+callbackKey+`"`))
	require.Equal(t, []string{"RECORD_FILE_COMPLETE"}, got.NotifyEventSubscription)
	require.Equal(t, "HMACSHA256", got.SignType)
	path := callbacksPath(projectA) + "/" + got.ID

	// An update without a key keeps the stored one.
	r := e.do(req{method: http.MethodPut, path: path, body: `{"publish_domain":"a.com","app":"*",
		"notify_callback_url":"http://hooks.example.com/v2","notify_event_subscription":["RECORD_OVER"]}`})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var updated callbackOut
	r.decode(t, &updated)
	require.Equal(t, got.ID, updated.ID)
	require.Equal(t, "http://hooks.example.com/v2", updated.NotifyCallbackURL)
	require.Equal(t, []string{"RECORD_OVER"}, updated.NotifyEventSubscription)
	c, err := e.svc.GetCallback(t.Context(), service.Principal{Project: projectA}, got.ID)
	require.NoError(t, err)
	key, err := e.svc.CallbackKey(c)
	require.NoError(t, err)
	require.Equal(t, callbackKey, key)
	require.True(t, c.Enabled, "an update through the Huawei API keeps the configuration enabled")

	// Delete, then gone.
	r = e.do(req{method: http.MethodDelete, path: path})
	require.Equal(t, http.StatusNoContent, r.status)
	e.do(req{method: http.MethodGet, path: path}).requireError(t, http.StatusNotFound, codeNotFound, "")
	e.do(req{method: http.MethodDelete, path: path}).requireError(t, http.StatusNotFound, codeNotFound, "")
	e.do(req{method: http.MethodPut, path: path, body: callbackBodyJSON("a.com", "*", "")}).requireError(t, http.StatusNotFound, codeNotFound, "")
}

func TestCallbackValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name, body, field, code string
	}{
		{"Duplicate", callbackBodyJSON("dup.com", "live", ""), "", codeExists},
		{"NoDomain", callbackBodyJSON("", "live", ""), "publish_domain", codeBadParameter},
		{"WildcardDomain", callbackBodyJSON("*", "live", ""), "publish_domain", codeBadParameter},
		{"NoApp", callbackBodyJSON("v.com", "", ""), "app", codeBadParameter},
		{"NoURL", `{"publish_domain":"v.com","app":"live"}`, "notify_callback_url", codeBadParameter},
		{"URLWithQuery", strings.Replace(callbackBodyJSON("v.com", "q", ""), "/rec", "/rec?a=1", 1), "notify_callback_url", codeBadParameter},
		{"URLNotHTTP", strings.Replace(callbackBodyJSON("v.com", "s", ""), "https:", "ftp:", 1), "notify_callback_url", codeBadParameter},
		{"URLWithCredentials", strings.Replace(callbackBodyJSON("v.com", "c", ""), "https://", "https://u:p@", 1), "notify_callback_url", codeBadParameter},
		{"UnknownEvent", callbackBodyJSON("v.com", "e", `,"notify_event_subscription":["RECORD_PAUSED"]`), "notify_event_subscription", codeBadParameter},
		{"UnknownSignType", callbackBodyJSON("v.com", "t", `,"sign_type":"SHA1"`), "sign_type", codeBadParameter},
		{"ShortKey", callbackBodyJSON("v.com", "k", `,"key":"short"`), "key", codeBadParameter},
		{"KeyNotAlnum", callbackBodyJSON("v.com", "k2", `,"key":"`+strings.Repeat("a", 31)+`-"`), "key", codeBadParameter},
		{"UnknownField", callbackBodyJSON("v.com", "u", `,"on_demand_url":"http://x"`), "on_demand_url", codeBadParameter},
		{"ReadOnlyFields", callbackBodyJSON("v.com", "r", `,"id":"x","create_time":"y","update_time":"z"`), "", ""},
	}
	e.createCallback(t, callbackBodyJSON("dup.com", "live", ""))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := e.do(req{method: http.MethodPost, path: callbacksPath(projectA), body: tc.body})
			switch tc.code {
			case "":
				require.Equal(t, http.StatusCreated, r.status, string(r.body))
			case codeExists:
				r.requireError(t, http.StatusBadRequest, codeExists, "")
			default:
				r.requireError(t, http.StatusBadRequest, tc.code, "Invalid request parameter: "+tc.field)
			}
		})
	}
}

func TestCallbackTenancyAndDialects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	got := e.createCallback(t, callbackBodyJSON("a.com", "live", ""))
	// A native configuration of the same project is not the Huawei API's.
	native := &recording.CallbackConfig{Domain: "a.com", App: "live", URL: "https://n.example.com/"}
	require.NoError(t, e.svc.CreateCallback(t.Context(), service.Principal{Project: projectA}, native))
	e.do(req{method: http.MethodGet, path: callbacksPath(projectA) + "/" + native.ID}).requireError(t, http.StatusNotFound, codeNotFound, "")
	e.do(req{method: http.MethodDelete, path: callbacksPath(projectA) + "/" + native.ID}).requireError(t, http.StatusNotFound, codeNotFound, "")
	var l callbackList
	e.do(req{method: http.MethodGet, path: callbacksPath(projectA)}).decode(t, &l)
	require.Equal(t, 1, l.Total)
	require.Equal(t, got.ID, l.CallbackConfig[0].ID)

	b := func(method, path, body string) resp {
		return e.do(req{method: method, path: path, body: body, key: keyB, secret: secretB, projectHeader: ptr(projectB)})
	}
	bPath := callbacksPath(projectB)
	b(http.MethodGet, bPath, "").decode(t, &l)
	require.Equal(t, callbackList{Total: 0, CallbackConfig: []callbackOut{}}, l)
	b(http.MethodGet, bPath+"/"+got.ID, "").requireError(t, http.StatusNotFound, codeNotFound, "")
	b(http.MethodPut, bPath+"/"+got.ID, callbackBodyJSON("b.com", "live", "")).requireError(t, http.StatusNotFound, codeNotFound, "")
	b(http.MethodDelete, bPath+"/"+got.ID, "").requireError(t, http.StatusNotFound, codeNotFound, "")
	b(http.MethodPost, bPath, callbackBodyJSON("a.com", "other", "")).requireError(t, http.StatusNotFound, codeNotFound, "")
	e.do(req{method: http.MethodGet, path: callbacksPath(projectA), key: keyB, secret: secretB}).requireError(t, http.StatusForbidden, codeDenied, "")
}

func TestCallbackListPagingAndFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var ids []string
	for i := range 12 {
		ids = append(ids, e.createCallback(t, callbackBodyJSON("a.com", fmt.Sprintf("app%02d", i), "")).ID)
	}
	e.createCallback(t, callbackBodyJSON("b.com", "app00", ""))
	list := func(query string) callbackList {
		t.Helper()
		r := e.do(req{method: http.MethodGet, path: callbacksPath(projectA) + query})
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		var l callbackList
		r.decode(t, &l)
		return l
	}
	l := list("")
	require.Equal(t, 13, l.Total)
	require.Len(t, l.CallbackConfig, 10)
	require.Equal(t, ids[0], l.CallbackConfig[0].ID)
	l = list("?offset=11&limit=1")
	require.Equal(t, ids[11], l.CallbackConfig[0].ID)
	require.Equal(t, 12, list("?publish_domain=a.com").Total)
	require.Equal(t, 2, list("?app=app00").Total)
	require.Equal(t, 1, list("?app=app00&publish_domain=b.com").Total)
	for _, q := range []string{"?limit=0", "?limit=101", "?offset=-1", "?offset=x"} {
		e.do(req{method: http.MethodGet, path: callbacksPath(projectA) + q}).requireError(t, http.StatusBadRequest, codeBadParameter, "")
	}
}
