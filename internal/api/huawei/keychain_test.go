package huawei

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/pubauth"
	"github.com/liverec/liverec/internal/service"
)

const hwKey = "LiveRec0123456789abcdefABCDEF012"

func keyChainPath(project, domain string) string {
	return "/v1/" + project + "/guard/key-chain?domain=" + url.QueryEscape(domain)
}

func keyChainBody(authType string, timeout int) string {
	return `{"key":"` + hwKey + `","auth_type":"` + authType + `","timeout":` + strconv.Itoa(timeout) + `}`
}

func TestKeyChainLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.svc.Now = func() time.Time { return time.Unix(1700000000, 0) }
	r := e.do(req{method: http.MethodPut, path: keyChainPath(projectA, "push.example.com"), body: keyChainBody("d_sha256", 3600)})
	require.Equal(t, http.StatusOK, r.status, string(r.body))

	var kc shownKeyChain
	r = e.do(req{method: http.MethodGet, path: keyChainPath(projectA, "push.example.com")})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	r.decode(t, &kc)
	require.Equal(t, shownKeyChain{Key: maskedKey, AuthType: "d_sha256", Timeout: 3600}, kc, "the key is masked, as the cloud does")
	require.NotContains(t, string(r.body), hwKey)

	// The auth chain is the signed publish URL; it is liverec's test vector for method D.
	var chain struct{ Keychain []string }
	r = e.do(req{method: http.MethodPost, path: "/v1/" + projectA + "/auth/chain",
		body: `{"domain":"push.example.com","domain_type":"push","app":"live","stream":"stream1"}`})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	r.decode(t, &chain)
	require.Equal(t, []string{"rtmp://push.example.com/live/stream1?hwSecret=" +
		"0f3620f4bcb7794745cf23e6ffbc0c21877f4e7a17bdcc9bc673c55b713765e6&hwTime=6553f100"}, chain.Keychain)

	// start_time moves the validity.
	r = e.do(req{method: http.MethodPost, path: "/v1/" + projectA + "/auth/chain",
		body: `{"domain":"push.example.com","domain_type":"push","app":"live","stream":"stream1","start_time":"2023-11-14T22:13:20Z"}`})
	r.decode(t, &chain)
	require.True(t, strings.HasSuffix(chain.Keychain[0], "&hwTime=6553f100"), chain.Keychain[0])

	for _, m := range []struct{ authType, param string }{{"a_md5", "auth_key="}, {"b_md5", "txSecret="}} {
		r = e.do(req{method: http.MethodPut, path: keyChainPath(projectA, "push.example.com"), body: keyChainBody(m.authType, 60)})
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		r = e.do(req{method: http.MethodPost, path: "/v1/" + projectA + "/auth/chain",
			body: `{"domain":"push.example.com","domain_type":"push","app":"live","stream":"stream1"}`})
		r.decode(t, &chain)
		require.Contains(t, chain.Keychain[0], "?"+m.param)
	}

	r = e.do(req{method: http.MethodDelete, path: keyChainPath(projectA, "push.example.com")})
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	e.do(req{method: http.MethodGet, path: keyChainPath(projectA, "push.example.com")}).requireError(t, http.StatusNotFound, codeNotFound, "")
	e.do(req{method: http.MethodDelete, path: keyChainPath(projectA, "push.example.com")}).requireError(t, http.StatusNotFound, codeNotFound, "")
	e.do(req{method: http.MethodPost, path: "/v1/" + projectA + "/auth/chain",
		body: `{"domain":"push.example.com","domain_type":"push","app":"live","stream":"stream1"}`}).
		requireError(t, http.StatusBadRequest, codeBadParameter, "domain")
}

func TestKeyChainValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct{ path, body, msg string }{
		{keyChainPath(projectA, "a.com"), keyChainBody("c_aes", 3600), "not documented well enough"},
		{keyChainPath(projectA, "a.com"), keyChainBody("e_sm3", 3600), "auth_type"},
		{keyChainPath(projectA, "a.com"), keyChainBody("d_sha256", 59), "timeout"},
		{keyChainPath(projectA, "a.com"), keyChainBody("d_sha256", 2592001), "timeout"},
		{keyChainPath(projectA, "a.com"), `{"key":"abcdefghijabcdefghijabcdefghijab","auth_type":"a_md5","timeout":60}`, "key"},
		{keyChainPath(projectA, "a.com"), `{"key":"short1","auth_type":"a_md5","timeout":60}`, "key"},
		{keyChainPath(projectA, "a.com"), `{"key":"` + hwKey + `","auth_type":"a_md5","timeout":60,"x":1}`, "x"},
		{"/v1/" + projectA + "/guard/key-chain", keyChainBody("d_sha256", 3600), "domain"},
	} {
		e.do(req{method: http.MethodPut, path: tc.path, body: tc.body}).requireError(t, http.StatusBadRequest, codeBadParameter, tc.msg)
	}
	chain := "/v1/" + projectA + "/auth/chain"
	for _, tc := range []struct{ body, msg string }{
		{`{"domain":"a.com","domain_type":"pull","app":"live","stream":"s"}`, "domain_type"},
		{`{"domain":"a.com","domain_type":"push","app":"live"}`, "stream"},
		{`{"domain":"a.com","domain_type":"push","app":"live","stream":"s","start_time":"yesterday"}`, "start_time"},
	} {
		e.do(req{method: http.MethodPost, path: chain, body: tc.body}).requireError(t, http.StatusBadRequest, codeBadParameter, tc.msg)
	}
	e.do(req{method: http.MethodPatch, path: keyChainPath(projectA, "a.com")}).requireError(t, http.StatusBadRequest, codeMethod, "PATCH")
	_, err := e.svc.GetPublishAuth(t.Context(), service.Principal{Project: projectA}, "a.com")
	require.Error(t, err, "nothing was written")
}

func TestKeyChainTenancyAndOtherDialects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(req{method: http.MethodPut, path: keyChainPath(projectA, "a.com"), body: keyChainBody("b_md5", 600)})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	b := func(q req) req {
		q.key, q.secret, q.projectHeader = keyB, secretB, ptr(projectB)
		return q
	}
	e.do(b(req{method: http.MethodGet, path: keyChainPath(projectB, "a.com")})).requireError(t, http.StatusNotFound, codeNotFound, "")
	e.do(b(req{method: http.MethodPut, path: keyChainPath(projectB, "a.com"), body: keyChainBody("a_md5", 60)})).
		requireError(t, http.StatusNotFound, codeNotFound, "")
	e.do(b(req{method: http.MethodDelete, path: keyChainPath(projectB, "a.com")})).requireError(t, http.StatusNotFound, codeNotFound, "")
	e.do(b(req{method: http.MethodPost, path: "/v1/" + projectB + "/auth/chain",
		body: `{"domain":"a.com","domain_type":"push","app":"live","stream":"s"}`})).requireError(t, http.StatusNotFound, codeNotFound, "")

	// Alibaba's type A reads as a_md5; the webhook has no key chain.
	pa := service.Principal{Project: projectA}
	_, err := e.svc.SetPublishAuth(t.Context(), pa, []string{"a.com"},
		pubauth.Config{Method: pubauth.MethodAliyunA, Key: "LiveRecPrimaryKey01", BackupKey: "LiveRecBackupKey02", Validity: 1800 * time.Second})
	require.NoError(t, err)
	var kc shownKeyChain
	e.do(req{method: http.MethodGet, path: keyChainPath(projectA, "a.com")}).decode(t, &kc)
	require.Equal(t, shownKeyChain{Key: maskedKey, AuthType: "a_md5", Timeout: 1800}, kc)
	_, err = e.svc.SetPublishAuth(t.Context(), pa, []string{"a.com"},
		pubauth.Config{Method: pubauth.MethodWebhook, WebhookURL: "https://auth.example.com/"})
	require.NoError(t, err)
	e.do(req{method: http.MethodGet, path: keyChainPath(projectA, "a.com")}).requireError(t, http.StatusNotFound, codeNotFound, "no URL validation key")
	e.do(req{method: http.MethodDelete, path: keyChainPath(projectA, "a.com")}).requireError(t, http.StatusNotFound, codeNotFound, "")
	a, err := e.svc.GetPublishAuth(t.Context(), pa, "a.com")
	require.NoError(t, err)
	require.Equal(t, pubauth.MethodWebhook, a.Method, "deleting a key chain leaves the webhook alone")
}
