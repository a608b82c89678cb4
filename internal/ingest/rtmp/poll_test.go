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
	e := startServer(t, func(s *Config, _ *stream.Hub) {
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

// A publisher with a backlog is read in several full reads in a row; their media is still
// handed on as one batch per pause (bounded), not one per read, or the recorder would wake
// and write once per socket read.
func TestBacklogIsOneBatchPerPause(t *testing.T) {
	e := startServer(t, func(s *Config, _ *stream.Hub) { s.ReadBatch = 300 * time.Millisecond })
	tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), testutil.RefOptions{Seconds: 3}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := dialPublisher(ctx, e.url("live#backlog"), tracks)
	require.NoError(t, err)
	s := e.nextSink(t, time.Second)
	total := 0
	for i := range units {
		require.NoError(t, p.write(units[i], units[i].DTS)) // 3 s of media at once
		total += len(units[i].Data)
	}
	require.Eventually(t, func() bool { return s.count() == len(units) }, 5*time.Second, 10*time.Millisecond)
	p.close()
	s.mu.Lock()
	batches := s.batches
	s.mu.Unlock()
	reads := total / readBufSize
	t.Logf("%d bytes of media, at least %d full reads, %d batches", total, reads, batches)
	require.Greater(t, reads, 2*maxHeldReads, "the backlog must take many reads")
	require.LessOrEqual(t, batches, reads/maxHeldReads+3, "one batch per pause or per %d full reads", maxHeldReads)
}
