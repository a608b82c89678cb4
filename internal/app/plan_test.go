package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/testutil"
)

// TestPlanTaskAddedWhileLive: a plan-mode rule without a window of its own (Huawei's
// PLAN_RECORD) records a live stream only inside the window of a plan task added while the
// stream publishes: nothing before, one file of the window after.
func TestPlanTaskAddedWhileLive(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 30, GOP: 30})
	ta := startApp(t, "")
	r := cycleRule("127.0.0.1", "plan", 0, 2)
	r.Mode, r.Formats = recording.ModePlan, r.Formats[:1] // FLV
	ta.putRule(t, r)

	cmd := ffmpegPublisher(t, src, ta.rtmpURL("plan/cam"))
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	// The recording waits, idle: the stream is live with a recording, and two seconds of media
	// has come without a unit recorded.
	live := ta.Live()
	var got recording.LiveStream
	require.Eventually(t, func() bool {
		ls := live.LiveStreams()
		if len(ls) == 1 {
			got = ls[0]
		}
		return got.RecordingID != "" && got.FrameRate > 0 && time.Since(got.StartedAt) > 2*time.Second
	}, 15*time.Second, 20*time.Millisecond, "the stream never published with a recording")
	require.LessOrEqual(t, ta.metric(t, `liverec_bytes_written_total{format="flv"}`), 0.0, "nothing written outside a window")

	end := time.Now().Add(4 * time.Second).UTC()
	resp := ta.apiRequest(t, http.MethodPost, "/api/v1/plan-tasks", strings.NewReader(fmt.Sprintf(
		`{"domain":"127.0.0.1","app":"plan","stream":"cam","end_time":%q}`, end.Format(time.RFC3339Nano))))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))

	// The window's file is stored once the window ends, while the stream goes on.
	var files []recording.File
	require.Eventually(t, func() bool {
		var err error
		files, _, err = ta.Store().FileList(context.Background(), store.FileFilter{RecordingID: got.RecordingID})
		require.NoError(t, err)
		return len(files) == 1
	}, 20*time.Second, 100*time.Millisecond, "the task's window was never recorded")
	v, _, _ := checkClean(t, ta.objectPath(files[0]), fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
	// From the first keyframe in the window (GOP 1 s) to its end, which the recorder sees at its
	// next tick (recording.flush_interval, 1 s): 3 to 5 s at 30 fps. Recording from the
	// publication's start would hold over 6 s.
	require.GreaterOrEqual(t, v, 80, "video frames")
	require.LessOrEqual(t, v, 160, "video frames")
	require.Len(t, live.LiveStreams(), 1, "the stream is still live after its window")
}
