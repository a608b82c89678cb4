package rtmp

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// handshakeSize is what a client sends before its first chunk: C0, C1 and C2.
const handshakeSize = 1 + 2*1536

// TestFuzzSeeds checks the committed seed corpora (and rewrites them with
// LIVEREC_WRITE_FUZZ_SEEDS=1). They come from a real session: the bytes ffmpeg sends when it
// publishes a tiny recording to liverec, whole and cut, and the AMF0 bodies in it.
func TestFuzzSeeds(t *testing.T) {
	var session []byte
	capture := func(t testing.TB) []byte {
		if session == nil {
			session = captureFFmpeg(t.(*testing.T))
		}
		return session
	}
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzConn": func(t testing.TB) [][]any {
			s := capture(t)
			return fuzzcorpus.One(fuzzcorpus.Cuts(s, handshakeSize+200, handshakeSize+600, len(s)*2/3, len(s)-7)...)
		},
		"FuzzChunkReader": func(t testing.TB) [][]any {
			s := capture(t)[handshakeSize:]
			return fuzzcorpus.One(fuzzcorpus.Cuts(s, 12, 300, len(s)/2)...)
		},
		"FuzzDecodeAMF0": func(t testing.TB) [][]any {
			var seeds [][]any
			for _, m := range sessionMessages(t, capture(t)) {
				switch message.Type(m.Type) {
				case message.TypeCommandAMF0, message.TypeDataAMF0:
					seeds = append(seeds, []any{m.Body})
				}
			}
			return seeds
		},
		"FuzzIdentity": func(testing.TB) [][]any {
			return [][]any{
				{"live", "rtmp://127.0.0.1:1935/live", "test?x=1"}, // as ffmpeg sends rtmp://host/live/test?x=1
				{"live?vhost=a.com&k=1", "rtmp://host/live?vhost=a.com&k=1", "s?k=2"},
				{"live/", "rtmp://[::1]:1935/live/", "s"},
				{"live", "rtmp://host/live", "../x"},
			}
		},
	})
}

// captureFFmpeg publishes a tiny recording with ffmpeg to a liverec server through a proxy
// that keeps what ffmpeg sends, and checks that the server took the publication.
func captureFFmpeg(t *testing.T) []byte {
	e := startServer(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var (
		got  bytes.Buffer
		wg   sync.WaitGroup
		perr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		client, gerr := ln.Accept()
		if gerr != nil {
			perr = gerr
			return
		}
		defer client.Close()
		server, gerr := net.Dial("tcp", e.addr)
		if gerr != nil {
			perr = gerr
			return
		}
		defer server.Close()
		go func() { _, _ = io.Copy(client, server) }()
		_, perr = io.Copy(server, io.TeeReader(client, &got))
	}()
	path := fuzzcorpus.Tiny(t, t.TempDir(), "avc.flv", "libx264", true, "-f", "flv")
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-i", path, "-c", "copy", "-f", "flv",
		"rtmp://"+ln.Addr().String()+"/live/test?x=1").CombinedOutput()
	require.NoError(t, err, string(out))
	wg.Wait()
	require.NoError(t, perr)
	s := e.nextSink(t, 5*time.Second)
	s.waitEnd(t, 5*time.Second)
	require.Equal(t, stream.Key{Domain: "127.0.0.1", App: "live", Stream: "test"}, s.pub.Req.Key)
	require.Positive(t, s.count())
	return got.Bytes()
}

// sessionMessages reads the messages of a captured session (after its handshake).
func sessionMessages(t testing.TB, session []byte) []*chunkMessage {
	r := newChunkReader(bufio.NewReader(bytes.NewReader(session[handshakeSize:])), 0, func(uint32) error { return nil })
	var out []*chunkMessage
	for {
		m, err := r.Read()
		if err != nil {
			break
		}
		kept := *m // the reader reuses its message and buffers
		kept.Body = bytes.Clone(m.Body)
		out = append(out, &kept)
		if message.Type(m.Type) == message.TypeSetChunkSize && len(m.Body) >= 4 {
			require.NoError(t, r.SetChunkSize(uint32(m.Body[0])<<24|uint32(m.Body[1])<<16|uint32(m.Body[2])<<8|uint32(m.Body[3])))
		}
	}
	require.NotEmpty(t, out)
	return out
}
