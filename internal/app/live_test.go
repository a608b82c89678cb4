package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/testutil"
)

// TestLiveStreamsKickAndBlock is acceptance 2 at the app's level: a live ffmpeg publication is
// listed with its codecs, size and measured rates within 2 s; a kick disconnects ffmpeg within
// 1 s; a stored block refuses a republish (logged and counted) until it is deleted; and the
// publish history has every accepted publication with its end.
func TestLiveStreamsKickAndBlock(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 30, FPS: 30})
	ta := startApp(t, "")
	ta.putRule(t, cycleRule("127.0.0.1", "onair", 0, 2))
	live := ta.Live()

	cmd := ffmpegPublisher(t, src, ta.rtmpURL("onair/cam"))
	started := time.Now()
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	// Listed once ffmpeg is up and has published; its codecs and rates within 2 s of that.
	require.Eventually(t, func() bool { return len(live.LiveStreams()) == 1 }, 10*time.Second, 5*time.Millisecond,
		"ffmpeg never published")
	listed := time.Now()
	var got recording.LiveStream
	require.Eventually(t, func() bool {
		got = live.LiveStreams()[0]
		return got.VideoKbps > 0 && got.AudioKbps > 0 && got.FrameRate > 0 && got.Width > 0
	}, 2*time.Second, 20*time.Millisecond, "no codecs and rates within 2 s of publishing")
	t.Logf("measured %v after the publication was listed: %+v", time.Since(listed), got)
	require.Equal(t, "127.0.0.1", got.Domain)
	require.Equal(t, "onair", got.App)
	require.Equal(t, "cam", got.Stream)
	require.Equal(t, "rtmp", got.Protocol)
	require.True(t, strings.HasPrefix(got.ClientAddr, "127.0.0.1:"), got.ClientAddr)
	require.Equal(t, "H264", got.VideoCodec)
	require.Equal(t, "AAC", got.AudioCodec)
	require.Equal(t, 1280, got.Width)
	require.Equal(t, 720, got.Height)
	require.Equal(t, 44100, got.SampleRate)
	require.Positive(t, got.Channels)
	require.False(t, got.StartedAt.Before(started) || got.StartedAt.After(listed), "started at %v", got.StartedAt)

	// Once the recording is resolved and the window holds steady media, the rate is the
	// source's and the recording is shown.
	require.Eventually(t, func() bool {
		got = live.LiveStreams()[0]
		return got.RecordingState == recording.RecordingActive && got.FrameRate > 28 && got.FrameRate < 32
	}, 10*time.Second, 50*time.Millisecond, "frame rate or recording: %+v", got)
	require.True(t, strings.HasPrefix(got.RecordingID, store.RecordingPrefix), got.RecordingID)
	recs, _, err := ta.Store().RecordingList(context.Background(), recordingFilter("cam"))
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, recs[0].ID, got.RecordingID)

	require.False(t, live.Kick("127.0.0.1", "onair", "other", "test"), "not live")
	kicked := time.Now()
	require.True(t, live.Kick("127.0.0.1", "onair", "cam", "kicked by the test"))
	select {
	case exitErr := <-exited:
		require.Error(t, exitErr, "ffmpeg lost its connection")
		exited <- exitErr // for the cleanup
	case <-time.After(time.Second):
		t.Fatal("ffmpeg still publishing 1 s after the kick")
	}
	t.Logf("ffmpeg exited %v after the kick", time.Since(kicked))
	require.Empty(t, live.LiveStreams())

	// A block refuses the republish; deleting it lets the stream in again.
	ctx := context.Background()
	require.NoError(t, ta.Store().BlockPut(ctx, &recording.StreamBlock{Domain: "127.0.0.1", App: "onair",
		Stream: "cam", CreatedAt: time.Now()}))
	out, err := ffmpegPublisher(t, src, ta.rtmpURL("onair/cam"), "-t", "2").CombinedOutput()
	require.Error(t, err, "a forbidden stream must be refused: %s", out)
	require.Contains(t, string(out), "publish not authorized")
	require.Equal(t, "1", ta.refusedCount(t, "forbidden"))

	require.NoError(t, ta.Store().BlockDelete(ctx, "127.0.0.1", "onair", "cam"))
	out, err = ffmpegPublisher(t, src, ta.rtmpURL("onair/cam"), "-t", "2").CombinedOutput()
	require.NoError(t, err, "the block is lifted: %s", out)

	// The history has the kicked and the last publication, ended; not the refused one.
	require.Eventually(t, func() bool {
		pubs, _, listErr := ta.Store().PublishList(ctx, store.PublishFilter{Domain: "127.0.0.1", App: "onair", Stream: "cam"})
		require.NoError(t, listErr)
		return len(pubs) == 2 && pubs[0].EndedAt != nil && pubs[1].EndedAt != nil
	}, 5*time.Second, 20*time.Millisecond, "publish history")
	pubs, _, err := ta.Store().PublishList(ctx, store.PublishFilter{Domain: "127.0.0.1", App: "onair", Stream: "cam"})
	require.NoError(t, err)
	kickedPub := pubs[1] // newest first
	require.Equal(t, "rtmp", kickedPub.Protocol)
	require.True(t, strings.HasPrefix(kickedPub.ClientAddr, "127.0.0.1:"))
	require.WithinDuration(t, kicked, *kickedPub.EndedAt, time.Second)
}
