package app

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// TestCatchAllCallbackServesTheDefaultRulesStreams: a callback configuration on domain "*"
// receives the events of streams the default rule records, while a stream whose domain has a
// configuration of its own goes there only.
func TestCatchAllCallbackServesTheDefaultRulesStreams(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 3})
	ta := startApp(t, "")
	catchAll, exact := newReceiver(t), newReceiver(t)
	for _, body := range []string{
		`{"dialect":"standard","domain":"*","app":"*","url":"` + catchAll.srv.URL + `/any"}`,
		`{"dialect":"standard","domain":"127.0.0.1","app":"own","url":"` + exact.srv.URL + `/own"}`,
	} {
		resp := ta.apiRequest(t, http.MethodPost, "/api/v1/callbacks", strings.NewReader(body))
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode, string(b))
	}
	over := func(r *receiver, app string) bool {
		for _, got := range r.snapshot() {
			data, _ := got.body["data"].(map[string]any)
			if got.body["type"] == "recording.record_over" && data["app"] == app {
				return true
			}
		}
		return false
	}
	// The default rule's merge window keeps its recording for a while after the publisher
	// left: both streams publish at once, and "own" has a rule of its own without one.
	ta.putRule(t, cycleRule("127.0.0.1", "own", 0, 2))
	var wg sync.WaitGroup
	for _, path := range []string{"anyapp/cam", "own/cam"} {
		wg.Go(func() { publishFFmpeg(t, src, ta.rtmpURL(path)) })
	}
	wg.Wait()
	require.Eventually(t, func() bool { return over(catchAll, "anyapp") }, 60*time.Second, 100*time.Millisecond,
		"the catch-all configuration never got the default rule's stream's record_over")
	require.Eventually(t, func() bool { return over(exact, "own") }, 60*time.Second, 100*time.Millisecond,
		"the exact configuration never got its stream's record_over")
	require.False(t, over(catchAll, "own"), "an exact domain's configuration wins over the catch-all")
	for _, got := range exact.snapshot() {
		data, _ := got.body["data"].(map[string]any)
		require.Equal(t, "own", data["app"], "the exact configuration gets only its app's events")
	}
}
