package aliyun

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/limit"
	"github.com/liverec/liverec/internal/testutil"
)

// sendFrom sends a signed call from the loopback address src.
func (e *env) sendFrom(t *testing.T, src string, r *req) reply {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	defer tr.CloseIdleConnections()
	hr, err := http.NewRequestWithContext(t.Context(), r.method, e.url+"/?"+r.signed().Encode(), nil)
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(hr)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	require.NoError(t, json.Unmarshal(raw, &out.body), string(raw))
	return out
}

// TestAuthThrottle: after Limit bad signatures from one address, that address gets
// Throttling.User even with good credentials, while the same credentials from another address
// work; after the cool-down they work again. A stale timestamp is not counted.
func TestAuthThrottle(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	now := time.Now()
	clk := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	logs := &testutil.SyncBuffer{}
	th := limit.NewThrottle(limit.ThrottleConfig{Limit: 3, Window: time.Minute, Cooldown: 5 * time.Minute, Now: clk,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	srv := httptest.NewServer(NewHandler(e.svc, Config{Throttle: th}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	e.do(seedRecordConfig(keyP1)).ok(t)
	describe := func(key testKey) *req {
		return call(key, "DescribeLiveRecordConfig", "DomainName", "test.com")
	}

	bad := testKey{keyP1.id, "wrong" + keyP1.secret[5:]}
	for range 3 {
		e.sendFrom(t, "127.0.0.2", describe(bad)).fails(t, http.StatusBadRequest, "SignatureDoesNotMatch")
	}
	r := e.sendFrom(t, "127.0.0.2", describe(keyP1))
	r.fails(t, http.StatusBadRequest, "Throttling.User")
	require.Equal(t, "300", r.header.Get("Retry-After"))
	e.sendFrom(t, "127.0.0.3", describe(keyP1)).ok(t)

	out := logs.String()
	require.Equal(t, 1, strings.Count(out, "too many failures from one address"), out)
	require.Contains(t, out, "remote=127.0.0.2")
	require.Contains(t, out, "key_id="+keyP1.id)
	require.NotContains(t, out, keyP1.secret)

	mu.Lock()
	now = now.Add(5 * time.Minute)
	mu.Unlock()
	e.sendFrom(t, "127.0.0.2", describe(keyP1)).ok(t)

	// Unknown keys count (without a key id); stale timestamps do not.
	for range 5 {
		stale := describe(keyP1)
		stale.params.Set("Timestamp", time.Now().Add(-time.Hour).UTC().Format(timeLayout))
		e.sendFrom(t, "127.0.0.4", stale).fails(t, http.StatusBadRequest, "InvalidTimeStamp.Expired")
	}
	e.sendFrom(t, "127.0.0.4", describe(keyP1)).ok(t)
	for range 3 {
		e.sendFrom(t, "127.0.0.5", describe(testKey{"LRNOSUCHKEYAAAAAAAAAAAAA", keyP1.secret})).
			fails(t, http.StatusNotFound, "InvalidAccessKeyId.NotFound")
	}
	e.sendFrom(t, "127.0.0.5", describe(keyP1)).fails(t, http.StatusBadRequest, "Throttling.User")
}
