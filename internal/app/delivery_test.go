package app

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// flakyReceiver answers 500 first, then stalls past the delivery timeout, then is down for a
// while, then answers 200: the sequence of acceptance 5 of the callbacks issue, on timings
// shortened through the config.
type flakyReceiver struct {
	addr string
	mu   sync.Mutex
	n    int
	ids  []string // X-Liverec-Event-Id of every request, in arrival order
	ok   []string // event types delivered with 200, in order
	srv  *http.Server
	down chan struct{}
}

func (f *flakyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body struct {
		Type string `json:"type"`
	}
	json.Unmarshal(b, &body)
	f.mu.Lock()
	f.n++
	n := f.n
	f.ids = append(f.ids, r.Header.Get("X-Liverec-Event-Id"))
	f.mu.Unlock()
	switch n {
	case 1:
		w.WriteHeader(http.StatusInternalServerError)
	case 2:
		<-r.Context().Done() // past callbacks.delivery_timeout: the client gives up first
	case 3:
		close(f.down) // the receiver goes away for a while
		w.WriteHeader(http.StatusServiceUnavailable)
	default:
		f.mu.Lock()
		f.ok = append(f.ok, body.Type)
		f.mu.Unlock()
	}
}

func (f *flakyReceiver) serve(l net.Listener) {
	f.srv = &http.Server{Handler: f}
	go f.srv.Serve(l)
}

func TestDeliveriesSurviveAFlakyReceiver(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &flakyReceiver{addr: l.Addr().String(), down: make(chan struct{})}
	f.serve(l)

	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	ta := startApp(t, "callbacks:\n  delivery_timeout: 300ms\n  retry_min: 100ms\n  retry_max: 400ms\n")
	quit, back := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(back)
		select {
		case <-f.down:
		case <-quit:
			return
		}
		f.srv.Shutdown(context.Background()) // down once the 503 is answered: connections refused
		// Down until two more attempts were refused.
		ticker := time.NewTicker(20 * time.Millisecond)
		defer ticker.Stop()
		base := deliveryRetries(ta)
		for base < 0 || deliveryRetries(ta) < base+2 {
			select {
			case <-ticker.C:
			case <-quit:
				return
			}
			if base < 0 {
				base = deliveryRetries(ta)
			}
		}
		l2, lerr := net.Listen("tcp", f.addr)
		if lerr != nil {
			t.Errorf("listen again: %v", lerr)
			return
		}
		f.mu.Lock()
		f.serve(l2)
		f.mu.Unlock()
	}()
	t.Cleanup(func() {
		close(quit)
		<-back
		f.mu.Lock()
		defer f.mu.Unlock()
		f.srv.Close()
	})
	ta.putRule(t, cycleRule("127.0.0.1", "flaky", 0, 2))
	resp := ta.apiRequest(t, http.MethodPost, "/api/v1/callbacks", strings.NewReader(
		`{"dialect":"standard","domain":"127.0.0.1","app":"*","url":"http://`+f.addr+`/hook"}`))
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	publishFFmpeg(t, src, ta.rtmpURL("flaky/cam"))

	require.Eventually(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.ok) > 0 && f.ok[len(f.ok)-1] == "recording.record_over"
	}, 60*time.Second, 100*time.Millisecond, "the receiver never got the over event")
	events, err := ta.Store().EventsOf(context.Background(), waitRecording(t, ta, "cam"))
	require.NoError(t, err)
	var want []string
	for _, e := range events {
		want = append(want, "recording."+string(e.Type))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Equal(t, want, f.ok, "every event, in order")
	require.GreaterOrEqual(t, len(f.ids), len(want)+3)
	require.Equal(t, f.ids[0], f.ids[1], "the same event id across retries")
	require.Equal(t, f.ids[0], f.ids[2])
	require.Equal(t, events[0].ID, f.ids[0])
}

// deliveryRetries reads liverec_deliveries_total{outcome="retry"} without failing the test
// (it runs off the test's goroutine): -1 when it cannot.
func deliveryRetries(ta *testApp) float64 {
	resp, err := http.Get(ta.base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^liverec_deliveries_total\{outcome="retry"\} (\S+)$`).FindSubmatch(b)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return -1
	}
	return v
}

// waitRecording returns the id of the stream's (single) recording once it is over.
func waitRecording(t *testing.T, ta *testApp, stream string) string {
	t.Helper()
	var id string
	require.Eventually(t, func() bool {
		recs, _, err := ta.Store().RecordingList(context.Background(), recordingFilter(stream))
		if err != nil || len(recs) != 1 || recs[0].State != "over" {
			return false
		}
		id = recs[0].ID
		return true
	}, 60*time.Second, 100*time.Millisecond)
	return id
}
