package rtmp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/liverec/liverec/internal/limit"
)

// Limits of the chunk stream reader.
const (
	// maxMessageSize caps one message's body: gortmplib's cap, which publishers already live
	// with. A header announcing more is refused before any of the body is buffered.
	maxMessageSize = 10 << 20
	// maxPendingBytes bounds the buffers of one connection's messages. Every chunk stream
	// assembles its own message, each up to maxMessageSize; a publisher interleaving partial
	// messages on many chunk streams could otherwise hold gigabytes. Real publishers have
	// one video message in flight at a time.
	maxPendingBytes = 24 << 20
	// freePendingBytes of a connection's buffers are not charged to the server's budget for
	// all connections (Server.MaxPendingBytes): a publisher's ordinary frames, keyframes
	// included, fit, so only connections holding more compete for the budget.
	freePendingBytes = 1 << 20
	// maxWideChunkStreams bounds the chunk streams with 2- or 3-byte ids (64..65599, §5.3.1.1)
	// a connection may use: each costs state, and no common encoder uses any.
	maxWideChunkStreams = 64
	// maxKeptMessageBuf: a chunk stream keeps its buffer for the next message unless it is
	// larger than this (a rare huge message), as stream.Batch does with its arena.
	maxKeptMessageBuf = 4 << 20
	// minMessageBuf is the first allocation for a message spanning chunks, so that small
	// messages do not grow their buffer a chunk at a time.
	minMessageBuf = 4 << 10
	// extendedTimestamp in a 24-bit timestamp field means the real value follows in 32 bits
	// (§5.3.1.3).
	extendedTimestamp = 0xffffff
)

var (
	errTooMuchPending = errors.New("incomplete messages hold too many bytes")
	errPendingBudget  = errors.New("incomplete messages of all connections exceed the server's budget")
)

// chunkMessage is a message read from the chunk stream. Body is valid until the next Read.
type chunkMessage struct {
	Type      uint8
	Timestamp time.Duration
	// StreamID is the message stream id, decoded little-endian as §5.3.1.2.1 says.
	StreamID uint32
	CSID     uint32
	Body     []byte
}

// chunkStream is the state of one chunk stream id (§5.3.1.2): the last header's fields,
// which later headers inherit, and the message being assembled.
type chunkStream struct {
	started  bool // a type 0 header was seen: types 1-3 have something to inherit
	extended bool // the last header had an extended timestamp, so type 3 chunks repeat it
	typ      uint8
	msid     uint32
	ts       uint32 // ms, wrapping as the spec's serial-number arithmetic does (§4)
	delta    uint32
	length   uint32
	recv     uint32 // bytes of the current message received; 0 between messages
	buf      []byte
}

// chunkSource is the buffered reader the chunk reader parses in place: the connection's netIO,
// or a bufio.Reader over RTMPE's decryption (and in tests).
type chunkSource interface {
	io.Reader
	io.ByteReader
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
	Buffered() int
}

// chunkReader reads RTMP messages from the chunk stream (Adobe RTMP spec §5.3) without
// allocating in steady state: a message that fits one chunk is returned as a view into the
// source's buffer, and a message spanning chunks is assembled in its chunk stream's
// buffer, which is reused for the next message.
type chunkReader struct {
	br    chunkSource
	onAck func(uint32) error

	chunkSize uint32
	ackWindow uint32
	count     uint32 // bytes read, as the sequence number of an Acknowledgement (§5.4.3)
	lastAck   uint32
	held      int // capacity of all chunk streams' buffers
	// budget is shared by all connections; charged is what this reader holds of it: held
	// beyond freePendingBytes. Only buffer growth and release touch it, never a steady read.
	budget  *limit.Budget
	charged int

	narrow [64]chunkStream // csid 2..63, one-byte basic header
	wide   map[uint32]*chunkStream
	msg    chunkMessage
}

// newChunkReader reads from br; count is the number of bytes the peer sent before (the
// handshake), for acknowledgements. onAck sends an Acknowledgement.
func newChunkReader(br chunkSource, count uint32, onAck func(uint32) error) *chunkReader {
	return &chunkReader{br: br, onAck: onAck, chunkSize: 128, count: count} // §5.4.1 default
}

// SetChunkSize applies the peer's Set Chunk Size (§5.4.1).
func (r *chunkReader) SetChunkSize(v uint32) error {
	if v < 1 || v > maxMessageSize {
		return fmt.Errorf("chunk size (%d) outside [1, %d]", v, maxMessageSize)
	}
	r.chunkSize = v
	return nil
}

// SetWindowAckSize applies the peer's Window Acknowledgement Size (§5.4.4); 0 disables acks.
func (r *chunkReader) SetWindowAckSize(v uint32) { r.ackWindow = v }

// AbortChunkStream drops the partial message of a chunk stream (§5.4.2).
func (r *chunkReader) AbortChunkStream(csid uint32) {
	var cs *chunkStream
	if csid < uint32(len(r.narrow)) {
		cs = &r.narrow[csid]
	} else {
		cs = r.wide[csid]
	}
	if cs != nil {
		cs.recv = 0
	}
}

// Read returns the next complete message. Its Body is valid until the next Read.
func (r *chunkReader) Read() (*chunkMessage, error) {
	for {
		done, err := r.readChunk()
		if err != nil {
			return nil, err
		}
		if done {
			return &r.msg, nil
		}
	}
}

// readChunk reads one chunk and tells whether it completed a message, now in r.msg.
func (r *chunkReader) readChunk() (bool, error) {
	fmtType, cs, csid, err := r.readBasicHeader()
	if err != nil {
		return false, err
	}
	if err = r.readMessageHeader(fmtType, cs, csid); err != nil {
		return false, err
	}
	n := min(cs.length-cs.recv, r.chunkSize)
	var body []byte
	if cs.recv == 0 && n == cs.length && int(n) <= r.br.Buffered() {
		// The whole message is this chunk and buffered: hand out the bytes without copying.
		// One that is still arriving is assembled below, so that when a read round ends
		// only a chunk header can be left unread (netIO keeps it between rounds).
		if body, err = r.br.Peek(int(n)); err != nil {
			return false, unexpected(err)
		}
		_, _ = r.br.Discard(int(n))
	} else {
		// Grow the buffer with the bytes that arrive, not with what the header announces.
		for end := cs.recv + n; cs.recv < end; {
			step := min(end-cs.recv, uint32(max(r.br.Buffered(), minMessageBuf)))
			if err := r.reserve(cs, cs.recv+step); err != nil {
				return false, err
			}
			if _, err := io.ReadFull(r.br, cs.buf[cs.recv:cs.recv+step]); err != nil {
				return false, err
			}
			cs.recv += step
		}
		if cs.recv < cs.length {
			return false, r.consumed(int(n))
		}
		body, cs.recv = cs.buf[:cs.length], 0
		if cap(cs.buf) > maxKeptMessageBuf {
			r.held -= cap(cs.buf)
			r.charge(r.held)
			cs.buf = nil // body keeps the array alive until the caller is done
		}
	}
	r.msg = chunkMessage{
		Type: cs.typ, Timestamp: time.Duration(cs.ts) * time.Millisecond, StreamID: cs.msid, CSID: csid, Body: body,
	}
	return true, r.consumed(int(n))
}

// readBasicHeader reads the chunk type and chunk stream id (§5.3.1.1).
func (r *chunkReader) readBasicHeader() (byte, *chunkStream, uint32, error) {
	b0, err := r.br.ReadByte()
	if err != nil {
		return 0, nil, 0, err
	}
	csid := uint32(b0 & 0x3f)
	switch csid {
	case 0: // 64..319 in one more byte
		b, err := r.next(1)
		if err != nil {
			return 0, nil, 0, err
		}
		csid = 64 + uint32(b[0])
	case 1: // 64..65599 in two more bytes, least significant first
		b, err := r.next(2)
		if err != nil {
			return 0, nil, 0, err
		}
		csid = 64 + uint32(b[0]) + uint32(b[1])<<8
	}
	r.count++
	if csid < uint32(len(r.narrow)) {
		return b0 >> 6, &r.narrow[csid], csid, nil
	}
	cs := r.wide[csid]
	if cs == nil {
		if len(r.wide) >= maxWideChunkStreams {
			return 0, nil, 0, fmt.Errorf("more than %d chunk streams with ids above 63", maxWideChunkStreams)
		}
		if r.wide == nil {
			r.wide = make(map[uint32]*chunkStream)
		}
		cs = &chunkStream{}
		r.wide[csid] = cs
	}
	return b0 >> 6, cs, csid, nil
}

// readMessageHeader reads the message header of a chunk (§5.3.1.2) and its extended
// timestamp (§5.3.1.3) into the chunk stream's state. As gortmplib (and so mediamtx), a type
// 3 chunk that starts a message after a type 0 header adds a delta of 0.
func (r *chunkReader) readMessageHeader(fmtType byte, cs *chunkStream, csid uint32) error {
	if fmtType != 3 && cs.recv != 0 {
		return fmt.Errorf("chunk stream %d: type %d chunk in the middle of a message", csid, fmtType)
	}
	if fmtType != 0 && cs.recv == 0 && !cs.started {
		return fmt.Errorf("chunk stream %d: type %d chunk without a preceding type 0 chunk", csid, fmtType)
	}
	hdrLen := [4]int{11, 7, 3, 0}[fmtType]
	h, err := r.next(hdrLen)
	if err != nil {
		return err
	}
	// Decode h now: reading the extended timestamp may refill the buffer under it.
	var ts uint32
	if fmtType < 3 {
		ts = be24(h)
		cs.extended = ts == extendedTimestamp
	}
	if fmtType <= 1 {
		cs.length, cs.typ = be24(h[3:]), h[6]
	}
	if fmtType == 0 {
		cs.msid = binary.LittleEndian.Uint32(h[7:])
	}
	if cs.length > maxMessageSize {
		return fmt.Errorf("body size (%d) exceeds maximum (%d)", cs.length, maxMessageSize)
	}
	if cs.extended {
		// On type 3 chunks encoders repeat the extended timestamp (FFmpeg, gortmplib);
		// as gortmplib, its value is not used there.
		x, err := r.next(4)
		if err != nil {
			return err
		}
		if fmtType < 3 {
			ts = binary.BigEndian.Uint32(x)
		}
	}
	switch fmtType {
	case 0:
		cs.started, cs.ts, cs.delta = true, ts, 0
	case 1, 2:
		cs.ts += ts
		cs.delta = ts
	case 3:
		if cs.recv == 0 {
			cs.ts += cs.delta
		}
	}
	return nil
}

// next returns the next n header bytes, consumed; they are valid until the next read.
func (r *chunkReader) next(n int) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	b, err := r.br.Peek(n)
	if err != nil {
		return nil, unexpected(err)
	}
	_, _ = r.br.Discard(n)
	r.count += uint32(n)
	return b, nil
}

// consumed counts a chunk's body and sends an Acknowledgement when a window has passed
// since the last one. As gortmplib, the window is checked once per chunk and the next one
// starts a window after the last, not at the current count.
func (r *chunkReader) consumed(n int) error {
	r.count += uint32(n)
	if r.ackWindow != 0 && r.count-r.lastAck > r.ackWindow {
		if err := r.onAck(r.count); err != nil {
			return err
		}
		r.lastAck += r.ackWindow
	}
	return nil
}

// reserve makes cs.buf hold at least need bytes, growing it geometrically up to the message
// length: memory follows the bytes received, not what a header announces.
func (r *chunkReader) reserve(cs *chunkStream, need uint32) error {
	if int(need) <= cap(cs.buf) {
		cs.buf = cs.buf[:cap(cs.buf)]
		return nil
	}
	size := min(max(int(need), 2*cap(cs.buf), minMessageBuf), int(cs.length))
	growth := size - cap(cs.buf)
	if r.held+growth > maxPendingBytes || !r.charge(r.held+growth) {
		r.release(cs)
		if r.held+growth > maxPendingBytes {
			return errTooMuchPending
		}
		if !r.charge(r.held + growth) {
			return errPendingBudget
		}
	}
	b := make([]byte, size)
	copy(b, cs.buf[:cs.recv])
	r.held += growth
	cs.buf = b
	return nil
}

// charge makes the reader's share of the budget what holding held bytes costs: acquiring
// growth, which may be refused (false, nothing changed), or releasing what was freed.
func (r *chunkReader) charge(held int) bool {
	d := max(held-freePendingBytes, 0) - r.charged
	switch {
	case d > 0:
		if !r.budget.Acquire(int64(d)) {
			return false
		}
	case d < 0:
		r.budget.Release(int64(-d))
	}
	r.charged += d
	return true
}

// releaseBudget gives the reader's share back when its connection ends (the buffers go with it).
func (r *chunkReader) releaseBudget() {
	r.budget.Release(int64(r.charged))
	r.charged = 0
}

// release frees the buffers of the chunk streams, other than keep, with no message in
// progress: a publisher that sent one large message on each of many chunk streams must not
// pin all those buffers.
func (r *chunkReader) release(keep *chunkStream) {
	free := func(cs *chunkStream) {
		if cs != keep && cs.recv == 0 && cs.buf != nil {
			r.held -= cap(cs.buf)
			cs.buf = nil
		}
	}
	for i := range r.narrow {
		free(&r.narrow[i])
	}
	for _, cs := range r.wide {
		free(cs)
	}
	r.charge(r.held)
}

func be24(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }

// unexpected turns the EOF of a truncated Peek into io.ErrUnexpectedEOF, as io.ReadFull does.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
