package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/testutil"
)

// TestRefusePrivateTargets: with callbacks.refuse_private_targets the loopback receiver and
// decider are never reached; deliveries end failed at once and the decision fails.
func TestRefusePrivateTargets(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		io.WriteString(w, `{"NeedRecord":true}`)
	}))
	defer srv.Close()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 3})
	ta := startApp(t, "callbacks:\n  refuse_private_targets: true\n")
	ta.putRule(t, cycleRule("127.0.0.1", "guard", 0, 2))
	od := cycleRule("127.0.0.1", "guardod", 0, 2)
	od.Mode = recording.ModeOnDemandHTTP
	ta.putRule(t, od)
	for _, body := range []string{
		`{"dialect":"standard","domain":"127.0.0.1","app":"guard","url":"` + srv.URL + `"}`,
		`{"dialect":"aliyun","domain":"127.0.0.1","app":"guardod","on_demand_url":"` + srv.URL + `"}`,
	} {
		resp := ta.apiRequest(t, http.MethodPost, "/api/v1/callbacks", strings.NewReader(body))
		resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode)
	}
	publishFFmpeg(t, src, ta.rtmpURL("guard/cam1"))
	publishFFmpeg(t, src, ta.rtmpURL("guardod/cam2"))

	require.Eventually(t, func() bool {
		recs, _, err := ta.Store().RecordingList(context.Background(), store.RecordingFilter{App: "guardod"})
		return err == nil && len(recs) == 1 && recs[0].State == recording.RecordingNotRecorded &&
			strings.Contains(recs[0].Reason, "refused")
	}, 30*time.Second, 100*time.Millisecond, "the on-demand decision must fail")
	id := waitRecording(t, ta, "cam1")
	require.Eventually(t, func() bool {
		ds, total, err := ta.Store().DeliveryList(context.Background(), store.DeliveryFilter{Project: "default",
			RecordingID: id, State: recording.DeliveryFailed})
		return err == nil && total == 8 && strings.Contains(ds[0].LastError, "refused")
	}, 30*time.Second, 100*time.Millisecond, "every delivery fails at once, refused")
	require.Zero(t, hits.Load(), "nothing reached the loopback target")
}
