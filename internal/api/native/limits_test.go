package native

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/limit"
	"github.com/liverec/liverec/internal/secret"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store/sqldb/sqldbtest"
	"github.com/liverec/liverec/internal/testutil"
)

// TestDuplicateKeysAreRefused: a key given twice in one object, at any depth, is a 400
// invalid_argument naming it, on every write that takes JSON.
func TestDuplicateKeysAreRefused(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	for _, tc := range []struct{ body, field string }{
		{`{"domain":"a.com","domain":"b.com","app":"live"}`, "domain"},
		{`{"domain":"a.com","Domain":"b.com","app":"live"}`, "Domain"},
		{`{"domain":"a.com","app":"live","formats":[{"format":"flv"},{"format":"hls","cycle_s":0,"cycle_s":60}]}`,
			"formats[1].cycle_s"},
		{`{"domain":"a.com","app":"live","storage":{"endpoint":"local","bucket":"a","bucket":"b"}}`, "storage.bucket"},
	} {
		r := c.json("p1", http.MethodPost, "/api/v1/rules", tc.body)
		r.requireError(t, http.StatusBadRequest, codeInvalidArgument, tc.field)
		require.Contains(t, string(r.body), "duplicate key "+tc.field)
	}
	require.Equal(t, 0, c.json("p1", http.MethodGet, "/api/v1/rules", "").list(t).Total, "nothing was written")
	c.json("p1", http.MethodPost, "/api/v1/callbacks", `{"domain":"a.com","app":"live","url":"http://x.test/","url":"http://y.test/"}`).
		requireError(t, http.StatusBadRequest, codeInvalidArgument, "url")
}

// throttledServer serves the API with a throttle on a settable clock, over a real service.
func throttledServer(t *testing.T, th *limit.Throttle) (url, id, secretKey string) {
	t.Helper()
	db := sqldbtest.OpenSQLiteAt(t, filepath.Join(t.TempDir(), "liverec.db"))
	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	box, err := secret.New(key)
	require.NoError(t, err)
	svc := &service.Service{Store: db, Sealer: box}
	id, secretKey = "LRTHROTTLEKEY00000000000", "throttlesecretthrottlesecret00"
	require.NoError(t, svc.EnsureAccessKey(t.Context(), id, secretKey, "p1", false))
	srv := httptest.NewServer(NewHandler(svc, Config{Throttle: th}))
	t.Cleanup(srv.Close)
	return srv.URL, id, secretKey
}

// clientFrom is an HTTP client whose connections come from the loopback address src.
func clientFrom(t *testing.T, src string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func get(t *testing.T, c *http.Client, url string, a auth) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url+"/api/v1/rules", nil)
	require.NoError(t, err)
	a(req)
	resp, err := c.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestAuthThrottle: after Limit failed authentications from one address, that address gets
// 429 with Retry-After even with good credentials, while they work from another address;
// after the cool-down they work again. Requests without credentials are not counted.
func TestAuthThrottle(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	logs := &testutil.SyncBuffer{}
	th := limit.NewThrottle(limit.ThrottleConfig{Limit: 3, Window: time.Minute, Cooldown: 2 * time.Minute,
		Now: clk.Now, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	url, id, sec := throttledServer(t, th)
	a, b := clientFrom(t, "127.0.0.2"), clientFrom(t, "127.0.0.3")

	for range 5 { // no credentials at all: a 401 that guesses nothing
		require.Equal(t, http.StatusUnauthorized, get(t, a, url, func(*http.Request) {}).StatusCode)
	}
	require.Equal(t, http.StatusUnauthorized, get(t, a, url, basicAuth(id, "wrong")).StatusCode)
	require.Equal(t, http.StatusUnauthorized, get(t, a, url, bearer("not-a-token")).StatusCode)
	require.Equal(t, http.StatusUnauthorized, get(t, a, url, xAuthToken("not-a-token")).StatusCode)
	resp := get(t, a, url, basicAuth(id, sec))
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "good credentials from the throttled address")
	require.Equal(t, "120", resp.Header.Get("Retry-After"))
	require.Equal(t, http.StatusOK, get(t, b, url, basicAuth(id, sec)).StatusCode, "the same credentials from another address")

	require.Equal(t, 1, strings.Count(logs.String(), "too many failures from one address"), logs.String())
	require.Contains(t, logs.String(), "remote=127.0.0.2")
	require.NotContains(t, logs.String(), sec)
	require.NotContains(t, logs.String(), "not-a-token")

	clk.Add(2 * time.Minute)
	require.Equal(t, http.StatusOK, get(t, a, url, basicAuth(id, sec)).StatusCode, "after the cool-down")
}
