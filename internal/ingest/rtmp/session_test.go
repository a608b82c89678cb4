package rtmp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/bluenviron/gortmplib/pkg/bytecounter"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/stream"
)

// plainHandshake is what a client sends for a plain RTMP handshake: C0, C1 and C2 (the server
// does not check C2 against S1 in non-strict mode).
func plainHandshake() []byte { return append([]byte{3}, make([]byte, 2*1536)...) }

// encConn lets gortmplib's Writer encode messages into a buffer.
type encConn struct{ w *message.Writer }

func (encConn) BytesReceived() uint64             { return 0 }
func (encConn) BytesSent() uint64                 { return 0 }
func (encConn) Read() (message.Message, error)    { return nil, errors.New("write only") }
func (e encConn) Write(msg message.Message) error { return e.w.Write(msg) }

// encodeSession returns the bytes a publisher sends after the handshake, as gortmplib's client
// sends them: the commands up to publish plus metadata and sequence headers (prefix), and the
// media messages of units (media).
func encodeSession(t testing.TB, tracks media.Tracks, units []media.Unit) (prefix, mediaPart []byte) {
	var buf bytes.Buffer
	mw := message.NewWriter(&buf, bytecounter.NewWriter(&buf), false)
	for _, m := range []message.Message{
		&message.SetChunkSize{Value: 65536},
		&message.CommandAMF0{ChunkStreamID: 3, Name: "connect", CommandID: 1, Arguments: []any{amf0.Object{
			{Key: "app", Value: "live"}, {Key: "tcUrl", Value: "rtmp://127.0.0.1/live?callback_a=1"},
		}}},
		&message.CommandAMF0{ChunkStreamID: 3, Name: "createStream", CommandID: 2, Arguments: []any{nil}},
		&message.CommandAMF0{ChunkStreamID: 4, MessageStreamID: msidStream1, Name: "publish", CommandID: 3,
			Arguments: []any{nil, "test?x=1", "live"}},
	} {
		require.NoError(t, mw.Write(m))
	}
	var vt, at *gortmplib.Track
	var ts []*gortmplib.Track
	if v := tracks.Video; v != nil {
		if v.Codec == media.CodecH265 {
			vt = &gortmplib.Track{Codec: &codecs.H265{VPS: v.VPS, SPS: v.SPS, PPS: v.PPS}}
		} else {
			vt = &gortmplib.Track{Codec: &codecs.H264{SPS: v.SPS, PPS: v.PPS}}
		}
		ts = append(ts, vt)
	}
	if a := tracks.Audio; a != nil {
		conf, err := a.AACConfig()
		require.NoError(t, err)
		at = &gortmplib.Track{Codec: &codecs.MPEG4Audio{Config: conf}}
		ts = append(ts, at)
	}
	w := &gortmplib.Writer{Conn: encConn{mw}, Tracks: ts}
	require.NoError(t, w.Initialize())
	prefix = bytes.Clone(buf.Bytes())
	buf.Reset()

	var nalus [][]byte
	for _, u := range units {
		var err error
		switch {
		case !u.Track.IsVideo():
			err = w.WriteMPEG4Audio(at, u.DTS, u.Data)
		case u.Track.Codec == media.CodecH265:
			nalus, _ = media.SplitAVCC(nalus[:0], u.Data)
			err = w.WriteH265(vt, u.PTS, u.DTS, nalus)
		default:
			nalus, _ = media.SplitAVCC(nalus[:0], u.Data)
			err = w.WriteH264(vt, u.PTS, u.DTS, nalus)
		}
		require.NoError(t, err)
	}
	return prefix, bytes.Clone(buf.Bytes())
}

// discardSink releases every batch; it counts units and reports the end.
type discardSink struct {
	units *int64
	mu    *sync.Mutex
	ended chan struct{}
}

func (s discardSink) WriteBatch(b *stream.Batch) {
	if s.units != nil {
		s.mu.Lock()
		*s.units += int64(len(b.Units))
		s.mu.Unlock()
	}
	b.Release()
}
func (discardSink) SetMetadata(float64) {}
func (s discardSink) End(error) {
	if s.ended != nil {
		close(s.ended)
	}
}

// memConn is a connection whose peer sent input and then closed its side; what the server
// writes is discarded. Unlike net.Pipe it never blocks, so one fuzz input is one quick run.
type memConn struct {
	r      *bytes.Reader
	closed bool
}

func (c *memConn) Read(p []byte) (int, error) {
	if c.closed {
		return 0, net.ErrClosed
	}
	return c.r.Read(p)
}

func (c *memConn) Write(p []byte) (int, error) {
	if c.closed {
		return 0, net.ErrClosed
	}
	return len(p), nil
}

func (c *memConn) Close() error                   { c.closed = true; return nil }
func (*memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (*memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1} }
func (*memConn) SetDeadline(time.Time) error      { return nil }
func (*memConn) SetReadDeadline(time.Time) error  { return nil }
func (*memConn) SetWriteDeadline(time.Time) error { return nil }

// runConn feeds input as a whole connection to the per-connection handler and returns when
// the handler is done. Panics are not recovered, so they fail the caller.
func runConn(input []byte, open stream.OpenFunc) {
	if open == nil {
		open = func(*stream.Publication) stream.Sink { return discardSink{} }
	}
	hub := &stream.Hub{Open: open}
	defer hub.Close()
	// No listener: the handler runs on an in-memory connection.
	s := &Server{Config: Config{Hub: hub, ReadBatch: -1, Logger: slog.New(slog.DiscardHandler)}.withDefaults(), noRecover: true}
	s.serveConn(context.Background(), &memConn{r: bytes.NewReader(input)})
}
