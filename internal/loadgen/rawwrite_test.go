//go:build unix

package loadgen

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func tcpPair(t *testing.T) (client, server *net.TCPConn) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	s, err := l.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// The raw path delivers every byte in order, also when the socket fills up on the way, and
// allocates nothing per write.
func TestRawWriterDeliversEverything(t *testing.T) {
	c, s := tcpPair(t)
	require.NoError(t, c.SetWriteBuffer(4096))
	w := newRawWriter(c)
	require.NotNil(t, w)
	want := make([]byte, 8<<20)
	for i := range want {
		want[i] = byte(i * 7)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(s)
		got <- b
	}()
	for p := want; len(p) > 0; {
		k := min(len(p), 300<<10)
		n, err := w.Write(p[:k])
		require.NoError(t, err)
		require.Equal(t, k, n)
		p = p[k:]
	}
	small := make([]byte, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		_, err := w.Write(small)
		require.NoError(t, err)
	})
	require.Zero(t, allocs)
	require.NoError(t, c.CloseWrite())
	b := <-got
	require.Equal(t, len(want)+101*len(small), len(b))
	require.True(t, bytes.Equal(want, b[:len(want)]))
}

// A peer that stops reading makes the write fail at the connection's write deadline.
func TestRawWriterHonoursWriteDeadline(t *testing.T) {
	c, s := tcpPair(t)
	require.NoError(t, c.SetWriteBuffer(4096))
	require.NoError(t, s.SetReadBuffer(4096))
	w := newRawWriter(c)
	require.NoError(t, c.SetWriteDeadline(time.Now().Add(200*time.Millisecond)))
	began := time.Now()
	n, err := w.Write(make([]byte, 64<<20))
	require.Error(t, err)
	var ne net.Error
	require.True(t, errors.As(err, &ne) && ne.Timeout(), "%v", err)
	require.Less(t, n, 64<<20)
	require.Less(t, time.Since(began), 5*time.Second)
}
