package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/testutil"
)

// TestEventRecordingWithPreRoll is acceptance 3: an event with pre_s 10, post_s 5 on a live
// stream whose rule keeps 12 s of pre-roll yields one moov-first, ffprobe-clean MP4 starting
// 10 s (± one GOP) before the call; a merged event extends its end, an unmerged one makes a
// second recording.
func TestEventRecordingWithPreRoll(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 32, GOP: 30}) // 1 s GOP
	ta := startApp(t, "")
	r := cycleRule("127.0.0.1", "ev", 0, 2)
	r.Formats = r.Formats[2:] // HLS only: the event MP4 is the file under test
	r = ta.putRule(t, r)
	// The native rule body has no pre_roll_s yet (the rule API's owner adds it): set it in the store.
	r.PreRollS = 12
	require.NoError(t, ta.Store().RuleUpdate(context.Background(), &r))

	pub := ffmpegPublisher(t, src, ta.rtmpURL("ev/cam"))
	require.NoError(t, pub.Start())
	t.Cleanup(func() { _ = pub.Process.Kill(); _ = pub.Wait() })

	post := func(body string) (int, service.EventView, string) {
		resp := ta.apiRequest(t, http.MethodPost, "/api/v1/streams/127.0.0.1/ev/cam/events", strings.NewReader(body))
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var v service.EventView
		if resp.StatusCode == http.StatusAccepted {
			require.NoError(t, json.Unmarshal(raw, &v))
		}
		return resp.StatusCode, v, string(raw)
	}
	// Wait until the stream is live and its buffer covers 12 s: 15 s after the first accepted call.
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, body := post(`{"pre_s":13,"post_s":1}`)
		if code == http.StatusBadRequest {
			require.Contains(t, body, "pre_s") // live and configured: pre_s over the rule's 12 s
			break
		}
		require.Equal(t, http.StatusNotFound, code, body)
		require.True(t, time.Now().Before(deadline), "stream never became live")
		time.Sleep(200 * time.Millisecond)
	}
	live := time.Now()
	time.Sleep(time.Until(live.Add(15 * time.Second))) // the buffer fills in real time

	call := time.Now()
	code, first, body := post(`{"pre_s":10,"post_s":5,"label":"goal"}`)
	require.Equal(t, http.StatusAccepted, code, body)
	require.False(t, first.Merged)
	require.NotNil(t, first.From)
	code, merged, body := post(`{"pre_s":0,"post_s":6,"label":"again"}`)
	require.Equal(t, http.StatusAccepted, code, body)
	require.True(t, merged.Merged)
	require.Equal(t, first.RecordingID, merged.RecordingID)
	require.True(t, merged.To.After(first.To), "merge extends the end")
	code, other, body := post(`{"pre_s":2,"post_s":2,"merge":false}`)
	require.Equal(t, http.StatusAccepted, code, body)
	require.NotEqual(t, first.RecordingID, other.RecordingID)

	f := waitEventFile(t, ta, first.RecordingID)
	g := waitEventFile(t, ta, other.RecordingID)
	require.NotEqual(t, f.ObjectKey, g.ObjectKey)

	gop := 1500 * time.Millisecond // a GOP and the arrival jitter of a batch
	require.InDelta(t, call.Add(-10*time.Second).UnixMilli(), f.StartedAt.UnixMilli(), float64(gop.Milliseconds()),
		"first frame 10 s before the call")
	end := f.StartedAt.Add(f.Duration)
	require.False(t, end.Before(merged.To.Add(-gop)), "ends after the merged end: %v < %v", end, merged.To)
	require.InDelta(t, merged.To.Sub(call.Add(-10*time.Second)).Seconds(), f.Duration.Seconds(), 2*gop.Seconds())

	path := ta.objectPath(f)
	require.Equal(t, []string{"ftyp", "moov", "mdat"}, mp4Boxes(t, path), "moov first")
	v, a, dur := checkClean(t, path, fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
	require.Equal(t, int64(v), f.VideoFrames)
	require.Positive(t, a)
	require.InDelta(t, f.Duration.Seconds(), dur, 0.2)
	require.True(t, testutil.KeyframeFirst(t, path))
	checkClean(t, ta.objectPath(g), fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})

	rec, err := ta.Store().RecordingGet(context.Background(), "default", first.RecordingID)
	require.NoError(t, err)
	require.Equal(t, recording.ModeEvent, rec.Mode)
	evs, err := ta.Store().EventsOf(context.Background(), first.RecordingID)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, recording.EventFileCompleted, evs[0].Type)
	require.Equal(t, "goal", evs[0].Data.Label)
}

func waitEventFile(t *testing.T, ta *testApp, recID string) recording.File {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		fs, _, err := ta.Store().FileList(context.Background(), store.FileFilter{RecordingID: recID})
		require.NoError(t, err)
		if len(fs) > 0 {
			require.Len(t, fs, 1, "one MP4 per event recording")
			require.Equal(t, recording.FormatMP4, fs[0].Format)
			return fs[0]
		}
		require.True(t, time.Now().Before(deadline), fmt.Sprintf("no file for event recording %s", recID))
		time.Sleep(200 * time.Millisecond)
	}
}
