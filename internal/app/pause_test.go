package app

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/store/sqldb"
	"github.com/liverec/liverec/internal/testutil"
)

// mergeRule is cycleRule without cycles (one file per format) and with merge window w.
func mergeRule(app string, w int) recording.Rule {
	r := cycleRule("127.0.0.1", app, 0, 4)
	for i := range r.Formats {
		r.Formats[i].MergeWindowS = w
	}
	return r
}

// addCallbacks configures an Alibaba receiver with status callbacks and a Huawei receiver of
// file and end events for app.
func addCallbacks(t *testing.T, ta *testApp, app string) (ali, hw *receiver) {
	t.Helper()
	ali, hw = newReceiver(t), newReceiver(t)
	for _, body := range []string{
		`{"dialect":"huawei","domain":"127.0.0.1","app":"` + app + `","url":"` + hw.srv.URL + `/hook",
		  "events":["file_completed","record_over","record_failed"],"sign_type":"HMACSHA256","key":"` + callbackKey + `"}`,
		`{"dialect":"aliyun","domain":"127.0.0.1","app":"` + app + `","url":"` + ali.srv.URL + `/ali",
		  "need_status_notify":true,"key":"` + callbackKey + `"}`,
	} {
		resp := ta.apiRequest(t, http.MethodPost, "/api/v1/callbacks", strings.NewReader(body))
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode, string(b))
	}
	return ali, hw
}

// statuses lists the Alibaba status events received.
func statuses(r *receiver) []string {
	var out []string
	for _, x := range r.snapshot() {
		if ev, ok := x.body["event"].(string); ok {
			out = append(out, ev)
		}
	}
	return out
}

// huaweiTypes lists the Huawei event types received, with when each arrived.
func huaweiTypes(r *receiver) []string {
	var out []string
	for _, x := range r.snapshot() {
		out = append(out, x.body["event_type"].(string))
	}
	return out
}

// waitHuaweiEvent waits for the first Huawei callback of type typ and returns its body.
func waitHuaweiEvent(t *testing.T, hw *receiver, typ string) map[string]any {
	t.Helper()
	var body map[string]any
	require.Eventually(t, func() bool {
		for _, r := range hw.snapshot() {
			if r.body["event_type"] == typ {
				body = r.body
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "no %s: %v", typ, huaweiTypes(hw))
	return body
}

// waitHuaweiCount waits until the Huawei receiver got n callbacks of type typ.
func waitHuaweiCount(t *testing.T, hw *receiver, typ string, n int, within time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Count(strings.Join(huaweiTypes(hw), ","), typ) == n },
		within, 50*time.Millisecond, "want %d %s: %v", n, typ, huaweiTypes(hw))
}

// TestMergeWindowResumesIntoTheSameFiles is acceptance 1 of §6: with a 15 s merge window,
// 6 s published, away until the recording is paused, and 6 s again make one file per format
// holding both parts.
func TestMergeWindowResumesIntoTheSameFiles(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 6})
	_, units := testutil.LoadFLV(t, src)
	wantV, wantA := testutil.CountUnits(units)
	require.Equal(t, 180, wantV)

	ta := startApp(t, "")
	ta.putRule(t, mergeRule("merge", 15))
	ali, hw := addCallbacks(t, ta, "merge")
	publishFFmpeg(t, src, ta.rtmpURL("merge/cam"))
	require.Eventually(t, func() bool {
		return len(statuses(ali)) == 2
	}, 10*time.Second, 50*time.Millisecond, "no record_paused after the first publish: %v", statuses(ali))
	// Paused is what the resume needs: any gap within the window joins the same files.
	publishFFmpeg(t, src, ta.rtmpURL("merge/cam"))
	secondEnd := time.Now()

	var overAt time.Time
	require.Eventually(t, func() bool {
		ts := huaweiTypes(hw)
		if len(ts) > 0 && ts[len(ts)-1] == "RECORD_OVER" {
			overAt = time.Now()
			return true
		}
		return false
	}, 40*time.Second, 50*time.Millisecond, "no RECORD_OVER: %v", huaweiTypes(hw))
	require.GreaterOrEqual(t, overAt.Sub(secondEnd), 14*time.Second, "OVER came before the merge window expired")
	require.Equal(t, []string{"RECORD_FILE_COMPLETE", "RECORD_FILE_COMPLETE", "RECORD_FILE_COMPLETE", "RECORD_OVER"}, huaweiTypes(hw))
	require.Equal(t, []string{"record_started", "record_paused", "record_resumed", "record_paused"}, statuses(ali))

	recs, _, err := ta.Store().RecordingList(context.Background(), store.RecordingFilter{Stream: "cam", App: "merge"})
	require.NoError(t, err)
	require.Len(t, recs, 1, "one recording across the pause")
	files := ta.waitFiles(t, "cam", 3)
	for _, format := range []recording.Format{recording.FormatFLV, recording.FormatMP4, recording.FormatHLS} {
		require.Len(t, files[format], 1, format)
		p := ta.objectPath(files[format][0])
		v, a, dur := checkClean(t, p, fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
		require.Equal(t, 2*wantV, v, "%s video frames", format)
		// Audio sent just before the resume's keyframe cannot join the paused file.
		require.InDelta(t, 2*wantA, a, 4, "%s audio frames", format)
		require.InDelta(t, 12.0, dur, 0.3, "%s: the timeline continues without the gap", format)
		if format == recording.FormatHLS {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			require.Equal(t, 1, strings.Count(string(b), "#EXT-X-DISCONTINUITY\n"), "%s", b)
			require.True(t, strings.HasSuffix(string(b), "#EXT-X-ENDLIST\n"), "%s", b)
		}
	}
}

// TestMergeWindowZeroStartsANewRecording is acceptance 2 of §6: with W = 0 the same sequence
// gives two recordings, each with its own files and events.
func TestMergeWindowZeroStartsANewRecording(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 6})
	ta := startApp(t, "")
	ta.putRule(t, mergeRule("nomerge", 0))
	ali, hw := addCallbacks(t, ta, "nomerge")
	publishFFmpeg(t, src, ta.rtmpURL("nomerge/cam"))
	// The same key publishes again once the first recording has ended (no window holds it).
	require.Eventually(t, func() bool { return ta.metric(t, "liverec_recordings_active") == 0 },
		10*time.Second, 50*time.Millisecond, "the first recording did not end with its publisher")
	publishFFmpeg(t, src, ta.rtmpURL("nomerge/cam"))
	waitHuaweiCount(t, hw, "RECORD_OVER", 2, 30*time.Second)
	complete := []string{"RECORD_FILE_COMPLETE", "RECORD_FILE_COMPLETE", "RECORD_FILE_COMPLETE", "RECORD_OVER"}
	require.Equal(t, append(complete, complete...), huaweiTypes(hw))
	require.Equal(t, []string{"record_started", "record_started"}, statuses(ali), "no pause without a window")

	recs, _, err := ta.Store().RecordingList(context.Background(), store.RecordingFilter{Stream: "cam", App: "nomerge"})
	require.NoError(t, err)
	require.Len(t, recs, 2)
	for _, rec := range recs {
		require.Equal(t, recording.RecordingOver, rec.State)
		fs, _, err := ta.Store().FileList(context.Background(), store.FileFilter{RecordingID: rec.ID})
		require.NoError(t, err)
		require.Len(t, fs, 3, "recording %s files", rec.ID)
		for _, f := range fs {
			v, _, _ := checkClean(t, ta.objectPath(f), fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
			require.Equal(t, 180, v, "%s of %s", f.Format, rec.ID)
		}
	}
}

// TestShutdownDuringPause is acceptance 5 of §6: SIGTERM while a recording is paused completes
// its files and reports them.
func TestShutdownDuringPause(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	ta := startApp(t, "")
	ta.putRule(t, mergeRule("sigterm", 300))
	publishFFmpeg(t, src, ta.rtmpURL("sigterm/cam"))
	var id string
	require.Eventually(t, func() bool {
		recs, _, err := ta.Store().RecordingList(context.Background(), store.RecordingFilter{Stream: "cam", App: "sigterm"})
		require.NoError(t, err)
		if len(recs) == 1 && recs[0].State == recording.RecordingPaused {
			id = recs[0].ID
			return true
		}
		return false
	}, 10*time.Second, 50*time.Millisecond, "the recording never paused")
	ta.stop(t)
	db, err := sqldb.OpenSQLite(context.Background(), filepath.Join(ta.data, "liverec.db"))
	require.NoError(t, err)
	defer db.Close()

	rec, err := db.RecordingGet(context.Background(), "default", id)
	require.NoError(t, err)
	require.Equal(t, recording.RecordingOver, rec.State)
	fs, _, err := db.FileList(context.Background(), store.FileFilter{RecordingID: id})
	require.NoError(t, err)
	require.Len(t, fs, 3)
	for _, f := range fs {
		v, _, _ := checkClean(t, ta.objectPath(f), fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
		require.Equal(t, 120, v, f.Format)
	}
	events, err := db.EventsOf(context.Background(), id)
	require.NoError(t, err)
	var types []recording.Event
	for _, e := range events {
		types = append(types, e.Type)
	}
	require.Equal(t, []recording.Event{recording.EventRecordStarted, recording.EventFileStarted, recording.EventFileStarted,
		recording.EventFileStarted, recording.EventRecordPaused, recording.EventFileCompleted, recording.EventFileCompleted,
		recording.EventFileCompleted, recording.EventRecordOver}, types)
	entries, err := os.ReadDir(ta.conf.Storage.Spool)
	require.NoError(t, err)
	require.Empty(t, entries, "the spool is empty after the shutdown")
}
