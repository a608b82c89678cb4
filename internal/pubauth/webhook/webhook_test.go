package webhook

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/netguard"
	"github.com/liverec/liverec/internal/pubauth"
)

func TestAsk(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		status int
		body   string
		want   pubauth.Reason // "" admits
	}{
		{"AllowJSON", 200, `{"allow": true}`, ""},
		{"AllowJSONCreated", 201, ` {"allow":true,"reason":"ok"}`, ""},
		{"PlainOK", 200, "", ""},
		{"PlainText", 200, "OK\n", ""},
		{"NoContent", 204, "", ""},
		{"DenyJSON", 200, `{"allow": false, "reason": "token revoked"}`, pubauth.ReasonDenied},
		{"Forbidden", 403, "", pubauth.ReasonDenied},
		{"Unauthorized", 401, `{"allow": true}`, pubauth.ReasonDenied},
		{"ServerError", 500, `{"allow": true}`, pubauth.ReasonWebhookFailed},
		{"NotFound", 404, "", pubauth.ReasonWebhookFailed},
		{"Redirect", 302, "", pubauth.ReasonWebhookFailed},
		{"JSONWithoutAllow", 200, `{"ok": true}`, pubauth.ReasonWebhookFailed},
		{"JSONAllowNotBool", 200, `{"allow": "yes"}`, pubauth.ReasonWebhookFailed},
		{"BrokenJSON", 200, `{"allow": tru`, pubauth.ReasonWebhookFailed},
		{"TooLong", 200, strings.Repeat(" ", MaxBody) + `{"allow": true}`, pubauth.ReasonWebhookFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var got Request
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				require.Equal(t, http.MethodPost, r.Method)
				require.Equal(t, "application/json", r.Header.Get("Content-Type"))
				b, _ := io.ReadAll(r.Body)
				require.NoError(t, json.Unmarshal(b, &got))
				if c.status == 302 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			}))
			defer srv.Close()
			hc := &Client{HTTP: netguard.Client(pubauth.MaxWebhookTimeout, false)}
			req := NewRequest("push.example.com", "live", "cam", "203.0.113.7:50312",
				url.Values{"token": {"t1", "t2"}, "vhost": {"push.example.com"}})
			err := hc.Ask(t.Context(), srv.URL+"/publish", time.Second, req)
			require.Equal(t, c.want, pubauth.ReasonOf(err), "%v", err)
			if c.want != "" {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, Request{Domain: "push.example.com", App: "live", Stream: "cam", ClientAddr: "203.0.113.7:50312",
				Params: map[string]string{"token": "t1", "vhost": "push.example.com"}}, got)
		})
	}
}

func TestAskDenialReasonIsKeptClean(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"allow": false, "reason": "line1\nline2`+strings.Repeat("x", 500)+`"}`)
	}))
	defer srv.Close()
	err := (&Client{}).Ask(t.Context(), srv.URL, time.Second, Request{})
	require.Equal(t, pubauth.ReasonDenied, pubauth.ReasonOf(err))
	require.NotContains(t, err.Error(), "\n")
	require.Less(t, len(err.Error()), 300)
}

// A webhook that never answers refuses once the configured timeout passes (fail closed).
func TestAskHangingWebhookTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	const timeout = 300 * time.Millisecond
	start := time.Now()
	err := (&Client{HTTP: netguard.Client(pubauth.MaxWebhookTimeout, false)}).Ask(t.Context(), srv.URL, timeout, Request{})
	elapsed := time.Since(start)
	require.Equal(t, pubauth.ReasonWebhookFailed, pubauth.ReasonOf(err), "%v", err)
	require.Contains(t, err.Error(), "no answer within 300ms")
	require.GreaterOrEqual(t, elapsed, timeout)
	require.Less(t, elapsed, timeout+5*time.Second, "the timeout, not the server, ends the wait")
}

func TestAskUnreachableFailsClosed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	err := (&Client{}).Ask(t.Context(), addr, time.Second, Request{})
	require.Equal(t, pubauth.ReasonWebhookFailed, pubauth.ReasonOf(err))

	guarded := &Client{HTTP: netguard.Client(time.Second, true)}
	err = guarded.Ask(t.Context(), "http://127.0.0.1:1/", time.Second, Request{})
	require.Equal(t, pubauth.ReasonWebhookFailed, pubauth.ReasonOf(err))
	require.Contains(t, err.Error(), "refused")
}
