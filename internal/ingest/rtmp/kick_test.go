package rtmp

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/testutil"
)

// TestKickClosesTheConnection: a publication the hub kicks while its publisher keeps sending
// closes its connection at once (no drain), and its sink hears the kick's reason.
func TestKickClosesTheConnection(t *testing.T) {
	e := startServer(t, nil)
	tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), testutil.RefOptions{Seconds: 4}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	p, err := dialPublisher(ctx, e.url("live#kick"), tracks)
	require.NoError(t, err)
	defer p.close()
	s := e.nextSink(t, time.Second)
	require.Equal(t, "rtmp", s.pub.Req.Protocol)
	require.NotEmpty(t, s.pub.Req.Remote)

	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for _, u := range units {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if p.write(u, u.DTS) != nil {
				return
			}
		}
	}()
	defer func() { close(stop); <-stopped }()
	require.Eventually(t, func() bool { return s.count() > 10 }, 3*time.Second, 10*time.Millisecond)

	forbidden := errors.New("stream is forbidden")
	start := time.Now()
	require.True(t, e.hub.Kick(s.pub.Req.Key, forbidden))
	s.waitEnd(t, time.Second)
	waitClosed(t, p.c.NetConn(), time.Second)
	require.Less(t, time.Since(start), time.Second)
	t.Logf("closed %v after the kick", time.Since(start))
	s.mu.Lock()
	require.ErrorIs(t, s.reason, forbidden)
	require.ErrorIs(t, s.reason, stream.ErrKicked)
	s.mu.Unlock()
	e.waitLog(t, time.Second, "rtmp publish ended", "reason=kicked")
}
