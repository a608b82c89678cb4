package huawei

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/limit"
	"github.com/liverec/liverec/internal/testutil"
)

// TestDuplicateKeysAreRefused: a key given twice in one object, at any depth, is
// LIVE.100011001 naming it, and nothing is written.
func TestDuplicateKeysAreRefused(t *testing.T) {
	e := newEnv(t)
	good := minimalRule("a.com", "live", "*")
	for _, tc := range []struct{ body, field string }{
		{strings.Replace(good, `"app":"live"`, `"app":"live","app":"other"`, 1), "app"},
		{strings.Replace(good, `"app":"live"`, `"app":"live","APP":"other"`, 1), "APP"},
		{strings.Replace(good, `"bucket":"b"`, `"bucket":"b","bucket":"c"`, 1), "default_record_config.obs_addr.bucket"},
		{strings.Replace(fullRule, `"record_cycle": 900`, `"record_cycle": 900, "record_cycle": 10`, 1),
			"default_record_config.hls_config.record_cycle"},
	} {
		e.do(req{method: http.MethodPost, path: rulesPath(projectA), body: tc.body}).
			requireError(t, http.StatusBadRequest, codeBadParameter, tc.field+": duplicate key")
	}
	r := e.do(req{method: http.MethodGet, path: rulesPath(projectA)})
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, string(r.body), `"total":0`, "nothing was written")
	require.Equal(t, http.StatusCreated, e.do(req{method: http.MethodPost, path: rulesPath(projectA), body: good}).status)
}

// TestAuthThrottle: after Limit bad signatures from one address, that address gets APIGW.0308
// (429) even with good credentials, while the same credentials from another address work;
// after the cool-down they work again.
func TestAuthThrottle(t *testing.T) {
	e := newEnv(t)
	now := testNow
	logs := &testutil.SyncBuffer{}
	th := limit.NewThrottle(limit.ThrottleConfig{Limit: 3, Window: time.Minute, Cooldown: 5 * time.Minute,
		Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	e.h = NewHandler(e.svc, Config{Now: func() time.Time { return testNow }, Throttle: th})
	from := func(addr string) func(*http.Request) { return func(r *http.Request) { r.RemoteAddr = addr + ":40000" } }

	for range 3 {
		e.do(req{method: http.MethodGet, path: rulesPath(projectA), secret: "wrong" + secretA[5:], key: keyA, tamper: from("192.0.2.7")}).
			requireError(t, http.StatusUnauthorized, codeAuth, "")
	}
	r := e.do(req{method: http.MethodGet, path: rulesPath(projectA), tamper: from("192.0.2.7")})
	r.requireError(t, http.StatusTooManyRequests, codeThrottled, "throttling threshold")
	require.Equal(t, "300", r.header.Get("Retry-After"))
	require.Equal(t, http.StatusOK, e.do(req{method: http.MethodGet, path: rulesPath(projectA), tamper: from("192.0.2.8")}).status,
		"the same credentials from another address work")

	out := logs.String()
	require.Equal(t, 1, strings.Count(out, "too many failures from one address"), out)
	require.Contains(t, out, "remote=192.0.2.7")
	require.Contains(t, out, "key_id="+keyA)
	require.Contains(t, out, "failures=3")
	require.NotContains(t, out, secretA)

	now = now.Add(5 * time.Minute)
	require.Equal(t, http.StatusOK, e.do(req{method: http.MethodGet, path: rulesPath(projectA), tamper: from("192.0.2.7")}).status,
		"after the cool-down")

	// A stale date is not a guess at the credentials: it is not counted.
	for range 5 {
		e.do(req{method: http.MethodGet, path: rulesPath(projectA), date: testNow.Add(-time.Hour), tamper: from("192.0.2.9")}).
			requireError(t, http.StatusUnauthorized, codeAuth, "")
	}
	require.Equal(t, http.StatusOK, e.do(req{method: http.MethodGet, path: rulesPath(projectA), tamper: from("192.0.2.9")}).status)
}
