package rtmp

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/abema/go-mp4"
	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/testutil"
)

// TestMalformedInput: each bad connection is closed with a logged reason while a good
// publisher keeps delivering every unit.
func TestMalformedInput(t *testing.T) {
	e := startServer(t, func(s *Config, _ *stream.Hub) { s.HandshakeTimeout = 200 * time.Millisecond })
	tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), testutil.RefOptions{Seconds: 4}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	goodErr := make(chan error, 1)
	go func() {
		goodErr <- testutil.Publish(ctx, e.url("live#good"), []testutil.Segment{{Tracks: tracks, Units: units}},
			testutil.PublishOptions{Realtime: true})
	}()
	good := e.nextSink(t, 2*time.Second)

	raw := func(t *testing.T, b []byte) net.Conn {
		nc, err := net.Dial("tcp", e.addr)
		require.NoError(t, err)
		t.Cleanup(func() { nc.Close() })
		if b != nil {
			_, err = nc.Write(b)
			require.NoError(t, err)
		}
		return nc
	}
	pub := func(t *testing.T, name string) *publisher {
		p, err := dialPublisher(ctx, e.url("live#"+name), tracks)
		require.NoError(t, err)
		t.Cleanup(p.close)
		return p
	}
	nested := any(amf0.Object{})
	for range 100 {
		nested = amf0.Object{{Key: "a", Value: nested}}
	}

	cases := []struct {
		name string
		run  func(t *testing.T) net.Conn
		log  []string
	}{
		{"garbage", func(t *testing.T) net.Conn {
			return raw(t, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		}, []string{"reason=malformed", "invalid rtmp version"}},
		{"truncated handshake", func(t *testing.T) net.Conn {
			nc := raw(t, append([]byte{3}, make([]byte, 100)...))
			require.NoError(t, nc.(*net.TCPConn).CloseWrite())
			return nc
		}, []string{"reason=malformed", "truncated handshake"}},
		{"silent", func(t *testing.T) net.Conn {
			return raw(t, nil)
		}, []string{"reason=limit", "i/o timeout"}},
		{"chunk size", func(t *testing.T) net.Conn {
			p := pub(t, "chunk")
			require.NoError(t, p.c.Write(&message.SetChunkSize{Value: 0x7fffffff}))
			return p.c.NetConn()
		}, []string{"reason=malformed", "chunk size 2147483647"}},
		{"broken NAL length", func(t *testing.T) net.Conn {
			p := pub(t, "nal")
			require.NoError(t, p.c.Write(&message.Video{
				ChunkStreamID: 6, MessageStreamID: msidStream1, Codec: message.CodecH264,
				IsKeyFrame: true, Type: message.VideoTypeAU, AU: []byte{0, 0, 0, 50, 0x65, 1, 2},
			}))
			return p.c.NetConn()
		}, []string{"reason=malformed", media.ErrMalformedAU.Error()}},
		{"huge message", func(t *testing.T) net.Conn {
			p := pub(t, "huge")
			hdr := []byte{7, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0} // type 0 chunk, 16 MiB body
			_, err := p.c.NetConn().Write(append(hdr, make([]byte, 65536)...))
			require.NoError(t, err)
			return p.c.NetConn()
		}, []string{"reason=malformed", "body size"}},
		{"deep AMF", func(t *testing.T) net.Conn {
			p := pub(t, "amf")
			require.NoError(t, p.c.Write(&message.DataAMF0{
				ChunkStreamID: 4, MessageStreamID: msidStream1, Payload: amf0.Data{"onMetaData", nested},
			}))
			return p.c.NetConn()
		}, []string{"reason=malformed", "nested deeper"}},
		{"bad sequence header", func(t *testing.T) net.Conn {
			p := pub(t, "seq")
			require.NoError(t, p.c.Write(&message.VideoExSequenceStart{
				ChunkStreamID: 6, MessageStreamID: msidStream1, FourCC: message.FourCCHEVC, HEVCConfig: &mp4.HvcC{},
			}))
			return p.c.NetConn()
		}, []string{"reason=malformed", "video sequence header"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc := tc.run(t)
			waitClosed(t, nc, 2*time.Second)
			e.waitLog(t, 2*time.Second, tc.log...)
		})
	}

	require.NoError(t, <-goodErr)
	good.waitEnd(t, 5*time.Second)
	require.Equal(t, len(units), len(good.snapshot()), "the good publisher must not be affected")
}

func TestLimits(t *testing.T) {
	e := startServer(t, func(s *Config, _ *stream.Hub) {
		s.MaxConns = 1
		s.IdleTimeout = 300 * time.Millisecond
	})
	tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), testutil.RefOptions{Seconds: 4}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	p, err := dialPublisher(ctx, e.url("live#idle"), tracks)
	require.NoError(t, err)
	defer p.close()
	s := e.nextSink(t, time.Second)
	for _, u := range units[:10] {
		require.NoError(t, p.write(u, u.DTS))
	}

	extra, err := net.Dial("tcp", e.addr)
	require.NoError(t, err)
	defer extra.Close()
	waitClosed(t, extra, time.Second)
	e.waitLog(t, time.Second, "too many connections")

	// The publisher goes silent with its connection open: the idle timeout closes it.
	s.waitEnd(t, 2*time.Second)
	waitClosed(t, p.c.NetConn(), time.Second)
	e.waitLog(t, time.Second, "rtmp publish ended", "reason=idle")
	require.NotEmpty(t, s.snapshot())
}

func TestAudioOnly(t *testing.T) {
	e := startServer(t, nil)
	tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), testutil.RefOptions{Seconds: 2, NoVideo: true}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, n := range []int{len(units), 10} { // a whole stream, and one shorter than the 1 s wait
		require.NoError(t, testutil.Publish(ctx, e.url("live#audio"),
			[]testutil.Segment{{Tracks: tracks, Units: units[:n]}}, testutil.PublishOptions{}))
		s := e.nextSink(t, time.Second)
		s.waitEnd(t, 2*time.Second)
		got := s.snapshot()
		require.Equal(t, n, len(got))
		checkDTS(t, got)
	}
}
