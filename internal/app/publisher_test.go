package app

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/testutil"
)

// TestSecondPublisherRefused is acceptance 4, first half: a second publisher on an active key
// is refused and the first keeps recording every frame.
func TestSecondPublisherRefused(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 8})
	_, units := testutil.LoadFLV(t, src)
	wantV, _ := testutil.CountUnits(units)
	ta := startApp(t, "")
	ta.putRule(t, cycleRule("127.0.0.1", "dup", 0, 2))

	first := ffmpegPublisher(t, src, ta.rtmpURL("dup/cam"))
	require.NoError(t, first.Start())
	require.Eventually(t, func() bool { return ta.metric(t, "liverec_recordings_active") == 1 },
		10*time.Second, 20*time.Millisecond, "the first publisher is not recording")
	second := ffmpegPublisher(t, src, ta.rtmpURL("dup/cam"), "-t", "2")
	out, err := second.CombinedOutput()
	require.Error(t, err, "the second publisher must be refused: %s", out)
	require.NoError(t, first.Wait(), "the first publisher keeps publishing")

	files := ta.waitFiles(t, "cam", 3)
	recs, _, err := ta.Store().RecordingList(context.Background(), recordingFilter("cam"))
	require.NoError(t, err)
	require.Len(t, recs, 1, "the refused publisher starts no recording")
	ta.requireOneCleanFilePerFormat(t, files, wantV, -1)
}

// TestIdlePublisherReplaced is acceptance 4, second half: a publisher that went silent for
// publish_idle_timeout is replaced by the next one, whose stream is recorded.
func TestIdlePublisherReplaced(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	tracks, units := testutil.LoadFLV(t, src)
	wantV, _ := testutil.CountUnits(units)
	ta := startApp(t, "ingest:\n  publish_idle_timeout: 500ms\n")
	ta.putRule(t, cycleRule("127.0.0.1", "idle", 0, 2))

	// The first publisher sends two seconds, then hangs without closing its connection.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hung := make(chan error, 1)
	go func() {
		hung <- testutil.Publish(ctx, ta.rtmpURL("idle/cam"), []testutil.Segment{{Tracks: tracks, Units: units[:len(units)/2]}},
			testutil.PublishOptions{Realtime: true, HoldOpen: true})
	}()
	sentV, sentA := testutil.CountUnits(units[:len(units)/2])
	require.Eventually(t, func() bool {
		return ta.metric(t, `liverec_ingest_units_total{kind="video"}`) >= float64(sentV) &&
			ta.metric(t, `liverec_ingest_units_total{kind="audio"}`) >= float64(sentA)
	}, 10*time.Second, 20*time.Millisecond, "the first publisher's two seconds did not arrive")
	time.Sleep(600 * time.Millisecond) // silent past publish_idle_timeout: the hang under test
	publishFFmpeg(t, src, ta.rtmpURL("idle/cam"))
	cancel()
	<-hung

	files := ta.waitFiles(t, "cam", 6)
	recs, _, err := ta.Store().RecordingList(context.Background(), recordingFilter("cam"))
	require.NoError(t, err)
	require.Len(t, recs, 2, "the hung publisher's recording and the newcomer's")
	for _, format := range []recording.Format{recording.FormatFLV, recording.FormatMP4, recording.FormatHLS} {
		require.Len(t, files[format], 2)
		// The newcomer's file holds its whole stream.
		v, _, _ := checkClean(t, ta.objectPath(files[format][1]),
			fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
		require.Equal(t, wantV, v, format)
	}
}

// TestShutdownDuringPublish: stopping the service while a stream is publishing completes
// every open file cleanly.
func TestShutdownDuringPublish(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 10})
	ta := startApp(t, "")
	ta.putRule(t, cycleRule("127.0.0.1", "stop", 0, 2))
	cmd := ffmpegPublisher(t, src, ta.rtmpURL("stop/cam"))
	require.NoError(t, cmd.Start())
	// Stop mid-stream, with three seconds recorded.
	require.Eventually(t, func() bool { return ta.metric(t, `liverec_recorded_units_total{kind="video"}`) >= 90 },
		10*time.Second, 20*time.Millisecond, "nothing recorded")
	ta.stop(t)
	cmd.Wait()
	files := filesOnDisk(t, ta.data)
	for _, ext := range []string{".flv", ".mp4", ".m3u8"} {
		require.Len(t, files[ext], 1, ext)
		v, _, _ := checkClean(t, files[ext][0], fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
		require.Greater(t, v, 60, "%s holds what was published before the stop", ext)
	}
}

// TestShutdownRightAfterPublishKeepsEveryFrame: a stop that comes right after a publisher sent
// its last frame and left still records every frame (no frame is lost): the connection
// reads what the socket still holds before the publication ends.
func TestShutdownRightAfterPublishKeepsEveryFrame(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	_, units := testutil.LoadFLV(t, src)
	wantV, _ := testutil.CountUnits(units)
	ta := startApp(t, "")
	ta.putRule(t, cycleRule("127.0.0.1", "laststop", 0, 2))
	publishFFmpeg(t, src, ta.rtmpURL("laststop/cam"))
	ta.stop(t)
	files := filesOnDisk(t, ta.data)
	for _, ext := range []string{".flv", ".mp4", ".m3u8"} {
		require.Len(t, files[ext], 1, ext)
		v, _, _ := checkClean(t, files[ext][0], fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
		require.Equal(t, wantV, v, "%s holds every frame sent before the stop", ext)
	}
}
