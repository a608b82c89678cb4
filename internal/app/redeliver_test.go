package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// TestGivenUpDeliveriesAreListedAndRedelivered: a 400 gives each event up at once; the
// failed deliveries are listed through the native API and, redelivered, reach the receiver.
func TestGivenUpDeliveriesAreListedAndRedelivered(t *testing.T) {
	t.Parallel()
	var accept atomic.Bool
	var delivered atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !accept.Load() {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		delivered.Add(1)
	}))
	defer recv.Close()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 3})
	ta := startApp(t, "")
	ta.putRule(t, cycleRule("127.0.0.1", "redo", 0, 2))
	resp := ta.apiRequest(t, http.MethodPost, "/api/v1/callbacks", strings.NewReader(
		`{"dialect":"standard","domain":"127.0.0.1","app":"*","url":"`+recv.URL+`"}`))
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	publishFFmpeg(t, src, ta.rtmpURL("redo/cam"))
	waitRecording(t, ta, "cam")

	type list struct {
		Total      int `json:"total"`
		Deliveries []struct {
			ID       string `json:"id"`
			State    string `json:"state"`
			Attempts int    `json:"attempts"`
		} `json:"deliveries"`
	}
	get := func(query string) list {
		resp := ta.apiRequest(t, http.MethodGet, "/api/v1/deliveries"+query, nil)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
		var l list
		require.NoError(t, json.Unmarshal(b, &l))
		return l
	}
	var failed list
	require.Eventually(t, func() bool {
		failed = get("?state=failed")
		return failed.Total == 8 // started, 3 file started, 3 file completed, over
	}, 30*time.Second, 100*time.Millisecond, "every event is given up after the 400")
	for _, d := range failed.Deliveries {
		require.Equal(t, 1, d.Attempts, "a 400 is not retried")
	}
	accept.Store(true)
	for _, d := range failed.Deliveries {
		resp := ta.apiRequest(t, http.MethodPost, "/api/v1/deliveries/"+d.ID+"/redeliver", nil)
		resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
	}
	require.Eventually(t, func() bool { return delivered.Load() == 8 }, 30*time.Second, 100*time.Millisecond)
	// The receiver counts a delivery before the notifier has recorded its answer.
	require.Eventually(t, func() bool { return get("?state=delivered").Total == 8 }, 10*time.Second, 50*time.Millisecond,
		"every redelivered event is recorded delivered")
}
