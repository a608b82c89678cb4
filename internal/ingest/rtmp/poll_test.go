package rtmp

import (
	"context"
	"testing"
	"time"

	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/testutil"
	"github.com/stretchr/testify/require"
)

// A publisher that sends far less than pollLowat per pause must still be read every pause or
// two (the socket never signals readability below the low-water mark), and must not be taken
// for idle while it keeps sending.
func TestTrickleBelowLowWaterMarkIsReadEveryPause(t *testing.T) {
	const pause, idle = 50 * time.Millisecond, 400 * time.Millisecond
	e := startServer(t, func(s *Server, _ *stream.Hub) {
		s.ReadBatch = pause
		s.IdleTimeout = idle
	})
	tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), testutil.RefOptions{Seconds: 2, Width: 320, Height: 180, NoAudio: true}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := dialPublisher(ctx, e.url("live#trickle"), tracks)
	require.NoError(t, err)
	defer p.close()
	s := e.nextSink(t, time.Second)

	// One small video frame every 150 ms for 1.8 s, i.e. well past the idle timeout.
	const n = 12
	for i := range n {
		require.NoError(t, p.write(units[i], units[i].DTS))
		require.Eventually(t, func() bool { return s.count() >= i+1 }, 4*pause+50*time.Millisecond, 5*time.Millisecond,
			"frame %d not handed on within a few pauses", i)
		time.Sleep(150 * time.Millisecond)
	}
	select {
	case <-s.ended:
		t.Fatal("a publisher that keeps sending was ended")
	default:
	}
	// Silent now: the idle timeout still ends it.
	s.waitEnd(t, idle+time.Second)
	e.waitLog(t, time.Second, "rtmp publish ended", "reason=idle")
	require.Equal(t, n, s.count())
}
