package rtmp

import (
	"bufio"
	"context"
	"crypto/rc4" //nolint:gosec // RTMPE is RC4 by definition; it is obfuscation, not security
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"net"
	"time"

	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/bluenviron/gortmplib/pkg/bytecounter"
	"github.com/bluenviron/gortmplib/pkg/handshake"
	"github.com/bluenviron/gortmplib/pkg/message"

	"github.com/liverec/liverec/internal/stream"
)

// Chunk sizes a publisher may set. Every chunk costs a header to parse, so tiny chunks would
// turn a 10 MiB message into 10^7 of them; the RTMP default (128) is the smallest real
// clients use. A chunk larger than any message means nothing.
const (
	// drainTimeout bounds the reads of a cancelled publication (see netIO.drain).
	drainTimeout = 500 * time.Millisecond
	minChunkSize = 128
	maxChunkSize = maxMessageSize
	minAckWindow = 4096 // a tiny window would make us write an ack per chunk
)

// msidStream1 is message stream 1 as gortmplib's chunk writer takes it: it writes the field
// big-endian, while the spec (and our chunk reader) has it little-endian.
const msidStream1 = 0x1000000

// replyCSID is the chunk stream of replies to a command that came on a chunk stream id above
// 63: gortmplib's writer only writes one-byte basic headers.
const replyCSID = 3

var errUnpublished = errors.New("publisher unpublished")

// closeError tells why a connection ended, as a metrics reason.
type closeError struct {
	reason string
	err    error
}

func (e *closeError) Error() string { return e.reason + ": " + e.err.Error() }
func (e *closeError) Unwrap() error { return e.err }

func withReason(reason string, err error) error { return &closeError{reason: reason, err: err} }

// command is a decoded AMF0 command message.
type command struct {
	name string
	txn  float64
	args amf0.Data
	csid byte
	msid uint32 // as gortmplib's writer takes it (see msidStream1)
}

// conn serves one RTMP connection: handshake, connect, publish, then media until the end.
type conn struct {
	s   *Server
	nc  net.Conn
	nio *netIO
	r   *chunkReader
	w   *message.Writer
	log *slog.Logger

	connected bool
	app       string
	tcURL     string

	pub     *stream.Publication
	media   bool // readMedia has begun: conv is set up
	conv    converter
	noted   int
	refused bool
}

func (c *conn) serve(ctx context.Context) error {
	if err := c.nc.SetDeadline(time.Now().Add(c.s.HandshakeTimeout)); err != nil {
		return fmt.Errorf("set handshake deadline: %w", err)
	}
	bc := bytecounter.NewReadWriter(c.nio)
	keyIn, keyOut, err := handshake.DoServer(bc, false)
	if err != nil {
		if c.nio.total > 0 && c.nio.sockErr != nil && !c.nio.timedOut && ctx.Err() == nil {
			// The client hung up halfway: a broken client, not a port probe.
			return withReason(reasonMalformed, fmt.Errorf("truncated handshake after %d bytes: %w", c.nio.total, err))
		}
		return fmt.Errorf("handshake: %w", err)
	}
	var w io.Writer = bc
	var src chunkSource = c.nio // the chunk reader parses netIO's buffer in place
	if keyIn != nil {
		rc, rcErr := newRC4(bc, keyIn, keyOut)
		if rcErr != nil {
			return withReason(reasonMalformed, fmt.Errorf("encrypted handshake: %w", rcErr))
		}
		w, src = rc, bufio.NewReaderSize(rc, rtmpeBufSize)
	}
	c.w = message.NewWriter(w, bc.Writer, false)
	c.r = newChunkReader(src, uint32(bc.Reader.Count()), func(n uint32) error {
		return c.w.Write(&message.Acknowledge{Value: n})
	})
	c.r.budget = c.s.budget // given back in serveConn

	cmd, err := c.negotiate()
	if err != nil {
		return err
	}
	if err := c.publish(ctx, cmd); err != nil {
		return err
	}
	return c.readMedia()
}

// negotiate answers connect and createStream until the client asks to publish.
func (c *conn) negotiate() (*command, error) {
	for {
		raw, err := c.readMessage()
		if err != nil {
			return nil, err
		}
		cmd, err := c.command(raw)
		if err != nil {
			return nil, err
		}
		if !c.connected && cmd.name != "connect" {
			if cmd.name == "" {
				continue // not a command: media or data before publish is ignored
			}
			return nil, withReason(reasonMalformed, fmt.Errorf("command %q before connect", truncate(cmd.name)))
		}
		switch cmd.name {
		case "connect":
			if err := c.connect(cmd); err != nil {
				return nil, err
			}
		case "createStream":
			if err := c.reply(cmd, "_result", nil, float64(1)); err != nil {
				return nil, err
			}
		case "publish":
			return cmd, nil
		case "play", "play2":
			c.s.Metrics.reject(reasonPlay)
			c.refuse(cmd, "NetStream.Play.Failed", "playback is not supported: this server only records")
			return nil, withReason(reasonPlay, errors.New("play refused"))
		}
	}
}

func (c *conn) connect(cmd *command) error {
	if c.connected {
		return nil
	}
	get, ok := amfObject(arg(cmd.args, 0))
	if !ok {
		return withReason(reasonMalformed, errors.New("connect without a command object"))
	}
	app, _ := get("app")
	c.app, _ = app.(string)
	tc, ok := get("tcUrl")
	if !ok {
		tc, _ = get("tcurl")
	}
	c.tcURL, _ = tc.(string)
	c.connected = true

	for _, m := range []message.Message{
		&message.SetWindowAckSize{Value: 2500000},
		&message.SetPeerBandwidth{Value: 2500000, Type: 2},
		&message.SetChunkSize{Value: 65536},
	} {
		if err := c.w.Write(m); err != nil {
			return err
		}
	}
	return c.reply(cmd, "_result",
		amf0.Object{
			{Key: "fmsVer", Value: "LNX 9,0,124,2"},
			{Key: "capabilities", Value: float64(31)},
		},
		amf0.Object{
			{Key: "level", Value: "status"},
			{Key: "code", Value: "NetConnection.Connect.Success"},
			{Key: "description", Value: "Connection succeeded."},
			{Key: "objectEncoding", Value: float64(0)},
		})
}

// publish registers the publisher with the hub and answers the publish command.
func (c *conn) publish(ctx context.Context, cmd *command) error {
	name, ok := arg(cmd.args, 1).(string)
	if !ok {
		return withReason(reasonMalformed, errors.New("publish without a stream name"))
	}
	key, params, err := identity(c.app, c.tcURL, name)
	if err != nil {
		c.s.Metrics.reject(reasonBadName)
		c.refuse(cmd, "NetStream.Publish.BadName", err.Error()) // worded for the publisher
		return withReason(reasonBadName, err)
	}
	c.log = c.log.With("domain", key.Domain, "app", key.App, "stream", key.Stream)
	pub, err := c.s.Hub.Publish(ctx, stream.PublishRequest{Key: key, Params: params, Remote: c.nc.RemoteAddr().String(),
		Protocol: "rtmp"})
	switch {
	case errors.Is(err, stream.ErrBusy):
		c.s.Metrics.reject(reasonBusy)
		c.refuse(cmd, "NetStream.Publish.BadName",
			fmt.Sprintf("stream %q of app %q is already being published by another connection", key.Stream, key.App))
		return withReason(reasonBusy, err)
	case errors.Is(err, stream.ErrUnauthorized):
		return c.refuseUnauthorized(cmd, err)
	case err != nil:
		c.s.Metrics.reject(reasonError)
		desc := "publish refused: server error"
		if errors.Is(err, stream.ErrClosed) {
			desc = "publish refused: the server is shutting down"
		}
		c.refuse(cmd, "NetStream.Publish.Failed", desc)
		return withReason(reasonError, fmt.Errorf("hub: %w", err))
	}
	c.pub = pub
	c.s.Metrics.publishing(1)
	c.log = c.log.With("publication", pub.ID)
	c.log.Info("rtmp publish started")
	return c.onStatus(cmd, "status", "NetStream.Publish.Start", "publish start")
}

// readMedia converts media messages into units until the connection ends. Units are handed
// on in one batch per socket read (netIO.beforeRead).
func (c *conn) readMedia() error {
	// A cancelled publication (shutdown, replacement) still reads what the socket holds; a
	// kicked one (a forbidden stream) is dropped at once.
	pctx := c.pub.Context()
	stop := context.AfterFunc(pctx, func() {
		d := drainTimeout
		if errors.Is(context.Cause(pctx), stream.ErrKicked) {
			d = 0
		}
		c.nio.drain(d)
	})
	defer stop()
	c.conv = converter{note: c.noteOnce, metadata: c.pub.SetMetadata}
	c.media = true
	c.nio.beforeRead = c.flush
	if err := c.nio.startPublishing(c.s.IdleTimeout, c.s.ReadBatch); err != nil {
		return err
	}
	for {
		raw, err := c.readMessage()
		if err != nil {
			return err
		}
		switch message.Type(raw.Type) {
		case message.TypeVideo:
			err = c.conv.videoMessage(raw.Body, raw.Timestamp, c.nio.now)
		case message.TypeAudio:
			err = c.conv.audioMessage(raw.Body, raw.Timestamp, c.nio.now)
		case message.TypeDataAMF0:
			err = c.data(raw.Body)
		default:
			var cmd *command
			if cmd, err = c.command(raw); err == nil {
				switch cmd.name {
				case "deleteStream", "FCUnpublish", "closeStream":
					return errUnpublished
				}
			}
		}
		if err != nil {
			return withReason(reasonMalformed, err)
		}
	}
}

// flush hands the units parsed so far to the publication.
func (c *conn) flush() {
	b := c.conv.batch // taken with its first unit, so never empty
	if b == nil {
		return
	}
	c.s.Metrics.units(c.conv.nVideo, c.conv.nAudio)
	c.conv.nVideo, c.conv.nAudio = 0, 0
	c.conv.batch = nil
	c.pub.WriteBatch(b)
}

// data handles AMF0 data messages: only onMetaData matters.
func (c *conn) data(body []byte) error {
	d, err := decodeAMF0(body)
	if err != nil {
		return err
	}
	if s, _ := arg(d, 0).(string); s == "@setDataFrame" {
		d = d[1:]
	}
	if s, _ := arg(d, 0).(string); s != "onMetaData" {
		return nil
	}
	if get, ok := amfObject(arg(d, 1)); ok {
		c.conv.onMetaData(get)
	}
	return nil
}

// readMessage returns the next message that is not protocol control, which it handles.
func (c *conn) readMessage() (*chunkMessage, error) {
	for {
		raw, err := c.r.Read()
		if err != nil {
			return nil, err
		}
		b := raw.Body
		switch message.Type(raw.Type) {
		case message.TypeSetChunkSize:
			if len(b) < 4 {
				return nil, withReason(reasonMalformed, errors.New("short SetChunkSize"))
			}
			v := binary.BigEndian.Uint32(b) & 0x7fffffff
			if v < minChunkSize || v > maxChunkSize {
				return nil, withReason(reasonMalformed, fmt.Errorf("chunk size %d outside [%d, %d]", v, minChunkSize, maxChunkSize))
			}
			if err := c.r.SetChunkSize(v); err != nil {
				return nil, withReason(reasonMalformed, err)
			}
		case message.TypeAbortMessage:
			if len(b) >= 4 {
				c.r.AbortChunkStream(binary.BigEndian.Uint32(b))
			}
		case message.TypeSetWindowAckSize:
			if len(b) >= 4 {
				c.r.SetWindowAckSize(max(binary.BigEndian.Uint32(b), minAckWindow))
			}
		case message.TypeUserControl:
			if len(b) == 6 && message.UserControlType(binary.BigEndian.Uint16(b)) == message.UserControlTypePingRequest {
				if err := c.w.Write(&message.UserControlPingResponse{ServerTime: binary.BigEndian.Uint32(b[2:])}); err != nil {
					return nil, err
				}
			}
		case message.TypeAcknowledge, message.TypeSetPeerBandwidth, message.TypeDataAMF3:
		default:
			return raw, nil
		}
	}
}

// command decodes a command message; other message types give a command without a name.
func (c *conn) command(raw *chunkMessage) (*command, error) {
	b := raw.Body
	switch message.Type(raw.Type) {
	case message.TypeCommandAMF0:
	case message.TypeCommandAMF3: // an AMF3 command is a 0x00 byte and then AMF0
		if len(b) == 0 || b[0] != 0 {
			return &command{}, nil
		}
		b = b[1:]
	default:
		return &command{}, nil
	}
	d, err := decodeAMF0(b)
	if err != nil {
		return nil, withReason(reasonMalformed, err)
	}
	name, ok1 := arg(d, 0).(string)
	txn, ok2 := arg(d, 1).(float64)
	if !ok1 || !ok2 {
		return nil, withReason(reasonMalformed, errors.New("command without name and transaction id"))
	}
	csid := byte(replyCSID)
	if raw.CSID < 64 {
		csid = byte(raw.CSID)
	}
	return &command{name: name, txn: txn, args: d[2:], csid: csid, msid: bits.ReverseBytes32(raw.StreamID)}, nil
}

func (c *conn) reply(cmd *command, name string, args ...any) error {
	return c.w.Write(&message.CommandAMF0{
		ChunkStreamID: cmd.csid, MessageStreamID: cmd.msid, Name: name, CommandID: int(cmd.txn), Arguments: args,
	})
}

func (c *conn) onStatus(cmd *command, level, code, desc string) error {
	msid := cmd.msid
	if msid == 0 {
		msid = msidStream1
	}
	return c.w.Write(&message.CommandAMF0{
		ChunkStreamID: 5, MessageStreamID: msid, Name: "onStatus", CommandID: int(cmd.txn),
		Arguments: []any{nil, amf0.Object{
			{Key: "level", Value: level}, {Key: "code", Value: code}, {Key: "description", Value: desc},
		}},
	})
}

// refuse answers a publish or play with an error status; the connection then closes.
func (c *conn) refuse(cmd *command, code, desc string) {
	c.refused = true
	if err := c.onStatus(cmd, "error", code, desc); err != nil {
		c.log.Debug("rtmp refusal not delivered", "err", err)
	}
}

func (c *conn) noteOnce(kind int, msg string, args ...any) {
	if c.noted&kind == 0 {
		c.noted |= kind
		c.log.Info(msg, args...)
	}
}

func arg(d amf0.Data, i int) any {
	if i < len(d) {
		return d[i]
	}
	return nil
}

// rc4RW is RTMPE's stream cipher, as gortmplib's unexported one: both key streams skip the
// handshake's 1536 bytes.
type rc4RW struct {
	rw      io.ReadWriter
	in, out *rc4.Cipher
}

func newRC4(rw io.ReadWriter, keyIn, keyOut []byte) (*rc4RW, error) {
	in, err := rc4.NewCipher(keyIn)
	if err != nil {
		return nil, err
	}
	out, err := rc4.NewCipher(keyOut)
	if err != nil {
		return nil, err
	}
	p := make([]byte, 1536)
	in.XORKeyStream(p, p)
	out.XORKeyStream(p, p)
	return &rc4RW{rw: rw, in: in, out: out}, nil
}

func (r *rc4RW) Read(p []byte) (int, error) {
	n, err := r.rw.Read(p)
	r.in.XORKeyStream(p[:n], p[:n])
	return n, err
}

func (r *rc4RW) Write(p []byte) (int, error) {
	r.out.XORKeyStream(p, p)
	return r.rw.Write(p)
}
