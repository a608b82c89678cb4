package rtmp

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/limit"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/testutil"
)

// dialFrom opens a TCP connection to addr from the loopback address src (Linux accepts any
// 127.x address on the loopback interface).
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	nc, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	return nc
}

// TestConnsPerIP: connections from one address beyond MaxConnsPerIP are closed at once and
// counted, with one warning for the address; a publisher from another address is served.
func TestConnsPerIP(t *testing.T) {
	e := startServer(t, func(s *Config, _ *stream.Hub) { s.MaxConnsPerIP = 3 })
	tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), testutil.RefOptions{Seconds: 2}))
	for range 3 {
		dialFrom(t, "127.0.0.2", e.addr)
	}
	require.Eventually(t, func() bool { return promtest.ToFloat64(e.srv.Metrics.connections) == 3 },
		5*time.Second, 10*time.Millisecond)
	for range 3 {
		waitClosed(t, dialFrom(t, "127.0.0.2", e.addr), 2*time.Second)
	}
	m := e.srv.Metrics
	require.Equal(t, float64(3), promtest.ToFloat64(m.refused.WithLabelValues(limit.ReasonMaxConnsPerAddr)))
	require.Equal(t, float64(3), promtest.ToFloat64(m.open))
	logs := e.logs.String()
	require.Equal(t, 1, strings.Count(grepLines(logs, "level=WARN"), "too many connections"), logs)
	require.Equal(t, 2, strings.Count(grepLines(logs, "level=DEBUG"), "too many connections"), logs)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, testutil.Publish(ctx, e.url("live#other"),
		[]testutil.Segment{{Tracks: tracks, Units: units}}, testutil.PublishOptions{}))
	s := e.nextSink(t, time.Second)
	s.waitEnd(t, 5*time.Second)
	require.Len(t, s.snapshot(), len(units))
}

// TestClosedBeforePublish: connections that end before publishing are counted by how far
// they got and logged at debug.
func TestClosedBeforePublish(t *testing.T) {
	e := startServer(t, func(s *Config, _ *stream.Hub) { s.HandshakeTimeout = 300 * time.Millisecond })
	m := e.srv.Metrics
	early := func(reason string) float64 { return promtest.ToFloat64(m.early.WithLabelValues(reason)) }

	// Connected and gone: the handshake never finished.
	nc, err := net.Dial("tcp", e.addr)
	require.NoError(t, err)
	nc.Close()
	// Silent, and trickling the handshake slower than the timeout.
	silent := dialFrom(t, "127.0.0.1", e.addr)
	slow := dialFrom(t, "127.0.0.1", e.addr)
	stop := make(chan struct{})
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		for range 40 {
			if _, werr := slow.Write([]byte{3}); werr != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	defer func() { close(stop); <-trickled }()
	// A whole handshake, then closed without a publish command.
	done := dialFrom(t, "127.0.0.1", e.addr)
	_, err = done.Write(plainHandshake())
	require.NoError(t, err)
	buf := make([]byte, 3073)
	_, err = readFull(done, buf) // S0 S1 S2: the handshake is over on the server's side too
	require.NoError(t, err)
	done.Close()

	waitClosed(t, silent, 2*time.Second)
	waitClosed(t, slow, 2*time.Second)
	// The counter is bumped before the line is logged: wait for both.
	closedLines := func() int {
		return strings.Count(grepLines(e.logs.String(), "rtmp connection closed"), "\n")
	}
	require.Eventually(t, func() bool {
		return early(beforeHandshake) == 1 && early(beforeTimeout) == 2 && early(beforeNoPublish) == 1 &&
			closedLines() == 4
	}, 5*time.Second, 10*time.Millisecond, "handshake %v timeout %v no_publish %v",
		early(beforeHandshake), early(beforeTimeout), early(beforeNoPublish))
	for _, line := range strings.Split(grepLines(e.logs.String(), "rtmp connection closed"), "\n") {
		if line != "" {
			require.Contains(t, line, "level=DEBUG", line)
		}
	}
	require.Len(t, strings.Split(strings.TrimSpace(grepLines(e.logs.String(), "rtmp connection closed")), "\n"), 4)
}

func readFull(nc net.Conn, buf []byte) (int, error) {
	if err := nc.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return 0, err
	}
	n := 0
	for n < len(buf) {
		k, err := nc.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// partialMessages is a handshake, a chunk size of 1 MiB, and the first n MiB of an 8 MiB video
// message on each chunk stream in csids: messages that are never finished.
func partialMessages(n int, csids ...uint32) []byte {
	b := append(plainHandshake(), chunk0(2, 0, 4, 1, 0, u32(1<<20))...)
	part := seq(1 << 20)
	for _, csid := range csids {
		b = append(b, chunk0(csid, 0, 8<<20, 9, 1, part)...)
		for range n - 1 {
			b = append(b, chunk3(csid, nil, part)...)
		}
	}
	return b
}

// TestPendingBudget: connections holding unfinished messages share MaxPendingBytes; one that
// would exceed it is closed with its reason while the others and a publisher go on.
func TestPendingBudget(t *testing.T) {
	e := startServer(t, func(s *Config, _ *stream.Hub) {
		s.MaxPendingBytes = 14 << 20
		s.HandshakeTimeout = 60 * time.Second // outlasts the waits below
		s.ReadBatch = 200 * time.Millisecond  // the publisher's share below was measured with it
	})
	tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), testutil.RefOptions{Seconds: 4}))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	goodErr := make(chan error, 1)
	go func() {
		goodErr <- testutil.Publish(ctx, e.url("live#good"), []testutil.Segment{{Tracks: tracks, Units: units}},
			testutil.PublishOptions{Realtime: true})
	}()
	good := e.nextSink(t, 2*time.Second)

	// Each holds 3 MiB of three messages: 9 to 12 MiB of buffers (they grow geometrically
	// with the bytes each read finds buffered), 8 to 11 MiB charged beyond the free MiB. The
	// first fits in the 14 MiB budget; the second does not. The first has read everything
	// when its share stops growing; the publisher's steady share comes on top.
	first := dialFrom(t, "127.0.0.3", e.addr)
	_, err := first.Write(partialMessages(3, 3, 4, 5))
	require.NoError(t, err)
	// Deadlines, not durations: the server's reads allocate and touch ~12 MiB under the race
	// detector, which took over 10 s once in a full suite run beside the browser tests.
	held := waitSteady(t, e.srv.budget.Used, 8<<20, 300*time.Millisecond, 40*time.Second)
	second := dialFrom(t, "127.0.0.4", e.addr)
	_, _ = second.Write(partialMessages(3, 3, 4, 5)) // the server may close it while it writes
	waitClosed(t, second, 30*time.Second)
	e.waitLog(t, 2*time.Second, "rtmp connection closed", "reason=budget", "before_publish=memory", "level=WARN")
	m := e.srv.Metrics
	require.Equal(t, float64(1), promtest.ToFloat64(m.rejected.WithLabelValues(reasonBudget)))
	require.Equal(t, float64(1), promtest.ToFloat64(m.early.WithLabelValues(beforeMemory)))
	require.Equal(t, held, e.srv.budget.Used(), "the refused connection gave its share back") // released before the close
	require.Equal(t, float64(held), promtest.ToFloat64(m.pending))

	// The first keeps its place: after the server's handshake it reads nothing, not an EOF.
	_, err = readFull(first, make([]byte, 3073))
	require.NoError(t, err)
	require.NoError(t, first.SetReadDeadline(time.Now().Add(200*time.Millisecond)))
	_, err = first.Read(make([]byte, 1))
	var ne net.Error
	require.True(t, asNetErr(err, &ne) && ne.Timeout(), "the first connection is still open: %v", err)
	first.Close()
	require.Eventually(t, func() bool { return e.srv.budget.Used() == 0 }, 5*time.Second, 10*time.Millisecond)

	require.NoError(t, <-goodErr)
	good.waitEnd(t, 10*time.Second)
	require.Len(t, good.snapshot(), len(units), "the publisher was not affected")
}

// waitSteady waits until value is at least atLeast and has not changed for steady, and returns it.
func waitSteady(t *testing.T, value func() int64, atLeast int64, steady, timeout time.Duration) int64 {
	t.Helper()
	last, since := value(), time.Now()
	require.Eventually(t, func() bool {
		v := value()
		if v != last {
			last, since = v, time.Now()
		}
		return v >= atLeast && time.Since(since) >= steady
	}, timeout, 10*time.Millisecond, "value %d, want a steady one of at least %d", last, atLeast)
	return last
}
