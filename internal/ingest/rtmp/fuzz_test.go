package rtmp

import (
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/testutil"
)

// FuzzConn feeds arbitrary bytes as a whole connection to the per-connection handler. An input
// starting with 'H' gets a valid handshake prepended, so that the fuzzer explores the chunk,
// AMF and media parsers rather than the handshake only.
func FuzzConn(f *testing.F) {
	dir := f.TempDir()
	small := testutil.RefOptions{Seconds: 1, Width: 64, Height: 64, FPS: 5, Bitrate: "50k", SampleHz: 8000}
	avcTracks, avc := testutil.LoadFLV(f, testutil.RefStream(f, dir, small))
	small.Codec, small.Container, small.NoAudio = "libx265", "hevc", true
	hevcTracks, hevc := testutil.LoadAnnexB(f, testutil.RefStream(f, dir, small), media.CodecH265, small.FPS)
	for _, s := range []struct {
		tracks media.Tracks
		units  []media.Unit
	}{{avcTracks, avc}, {hevcTracks, hevc}} {
		prefix, body := encodeSession(f, s.tracks, s.units[:min(len(s.units), 8)])
		f.Add(append(append([]byte{'H'}, prefix...), body...))
		f.Add(append(append(plainHandshake(), prefix...), body...))
	}
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte{'H', 2, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(_ *testing.T, data []byte) {
		if len(data) > 0 && data[0] == 'H' {
			data = append(plainHandshake(), data[1:]...)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			runConn(data, nil)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			// A hang is a finding too: dump where the handler is stuck.
			_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
			panic("connection handler did not finish within 5 s")
		}
	})
}

// TestReplaySession checks the fuzz harness reaches the media path: a recorded session fed
// as one connection yields its units.
func TestReplaySession(t *testing.T) {
	small := testutil.RefOptions{Seconds: 1, Width: 64, Height: 64, FPS: 5, Bitrate: "50k", SampleHz: 8000}
	tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), small))
	prefix, body := encodeSession(t, tracks, units)
	var got *sink
	runConn(append(append(plainHandshake(), prefix...), body...), func(p *stream.Publication) stream.Sink {
		got = &sink{pub: p, ended: make(chan struct{})}
		return got
	})
	require.NotNil(t, got)
	<-got.ended
	require.Equal(t, stream.Key{Domain: "127.0.0.1", App: "live", Stream: "test"}, got.pub.Req.Key)
	require.Equal(t, "1", got.pub.Req.Params.Get("x"))
	require.Equal(t, "1", got.pub.Req.Params.Get("callback_a"))
	require.Equal(t, len(units), got.count())
}
