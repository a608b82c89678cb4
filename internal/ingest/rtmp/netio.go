package rtmp

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/liverec/liverec/internal/bufpool"
)

// readBufSize is what one socket read can take (and the most Peek returns): a 2 Mbit/s
// publisher sends ~50 KB per 200 ms pause, so one read takes a pause's data. The buffer is
// borrowed from a pool shared by all connections for each read round and given back before the
// pause, so a sleeping connection holds only the bytes of a chunk header it has not finished:
// memory grows with the connections reading at the same moment, not with the connections.
const readBufSize = 64 << 10

// rtmpeBufSize is the buffer of RTMPE's decrypted stream, which has its own reader (rare, so
// it keeps the small buffer every connection used to hold).
const rtmpeBufSize = 16 << 10

// maxKeptCarry bounds the unread bytes a connection keeps allocated between rounds. The chunk
// reader leaves at most a chunk header unread; a larger carry (the handshake's bytes, read
// through Read) is let go once it is back in a round's buffer.
const maxKeptCarry = 64

// maxHeldReads bounds a batch that full reads keep growing: 256 KiB of media.
const maxHeldReads = 4

// pollLowat is the SO_RCVLOWAT of a publishing socket: more than a publisher sends during one
// ReadBatch pause, so the kernel does not signal readability (and wake Go's netpoller) for each
// arriving packet while the connection sleeps. With per-frame publishers those wake-ups were
// about a sixth of liverec's CPU. A read still returns whatever is queued; one that finds
// nothing waits at most one pause and the connection polls again (see fill).
const pollLowat = 1 << 20

// netIO sits between the parsers and the socket. It reads through a buffer so one syscall
// takes what is pending; while publishing it pauses before each socket read until
// the next multiple of ReadBatch, so a connection wakes up a few times a second instead of once
// per packet (perf-notes: wake-ups dominate), and all connections wake together: one timer
// expiry of the runtime serves them all. The chunk reader parses br directly and only makes it
// read the socket when the buffered bytes cannot complete a chunk, so right before a socket
// read every complete message buffered has been parsed: that is where the parsed units are
// handed on as one batch.
type netIO struct {
	conn net.Conn
	// buf is the read round's buffer, from the pool (nil between rounds); the buffered bytes
	// are b[r:w], where b is buf.B or, between rounds, carry.
	buf   *bufpool.Buf
	b     []byte
	r, w  int
	carry []byte
	// rerr is the first read error, returned once the bytes before it are consumed.
	rerr error
	// sleep waits for the next read instant (sleepToPhase; tests watch it).
	sleep func(time.Duration)

	// beforeRead runs before the socket is read.
	beforeRead func()
	// publishing switches from the handshake deadline to per-read idle deadlines and pauses.
	publishing  bool
	idleTimeout time.Duration
	pause       time.Duration
	// fullRead: the last socket read filled the buffer, so more is waiting: do not pause.
	fullRead bool
	// heldReads counts the full reads since the units were last handed on.
	heldReads int
	// polling: the socket signals no readability below pollLowat, so reads wait at most one
	// pause and the idle timeout counts from lastData.
	polling  bool
	lastData time.Time

	// total counts every byte read, for metrics.
	total int
	// now is the monotonic time of the last socket read, relative to start.
	start time.Time
	now   time.Duration
	// sockErr is the first error of the socket itself (as opposed to the parser's);
	// timedOut tells whether it was a deadline.
	sockErr  error
	timedOut bool
	metrics  *Metrics
	// drainUntil (unix nanos, 0: not draining) ends the connection gracefully: no more pauses,
	// reads only until then, so what the socket holds is still read and handed on.
	drainUntil atomic.Int64
	// woken cuts a pause short when the connection starts draining: a kicked publisher is
	// dropped at once and a shutdown reads what the socket holds before its drain time ends,
	// however long ReadBatch is.
	woken chan struct{}
}

// drain makes the connection read what its socket still holds, for at most d, and then end
// (the publication was cancelled: shutdown or replacement). Safe to call from any goroutine.
func (n *netIO) drain(d time.Duration) {
	until := time.Now().Add(d)
	n.drainUntil.Store(until.UnixNano())
	setRcvLowat(n.conn, 1)            // what arrives while draining is read at once
	_ = n.conn.SetReadDeadline(until) // wakes a read waiting for data
	select {                          // and a pause
	case n.woken <- struct{}{}:
	default:
	}
}

// newNetIO returns the netIO of conn, the seq-th connection of its server: seq picks its
// read phase.
func newNetIO(conn net.Conn, m *Metrics, seq uint64) *netIO {
	n := &netIO{conn: conn, start: time.Now(), metrics: m, woken: make(chan struct{}, 1)}
	phase := int64(seq % readPhases)
	n.sleep = func(d time.Duration) { n.sleepToPhase(d, time.Duration(phase*int64(d)/readPhases)) }
	return n
}

// Buffered is the number of bytes that can be read without touching the socket.
func (n *netIO) Buffered() int { return n.w - n.r }

// Peek returns the next k bytes without consuming them; they are valid until the next read.
func (n *netIO) Peek(k int) ([]byte, error) {
	if k > readBufSize {
		return n.b[n.r:n.w], bufio.ErrBufferFull
	}
	for n.w-n.r < k {
		if err := n.fill(); err != nil {
			return n.b[n.r:n.w], err
		}
	}
	return n.b[n.r : n.r+k], nil
}

// Discard skips the next k bytes.
func (n *netIO) Discard(k int) (int, error) {
	done := 0
	for done < k {
		if n.r == n.w {
			if err := n.fill(); err != nil {
				return done, err
			}
		}
		step := min(k-done, n.w-n.r)
		n.r += step
		done += step
	}
	return done, nil
}

// ReadByte reads one byte.
func (n *netIO) ReadByte() (byte, error) {
	for n.r == n.w {
		if err := n.fill(); err != nil {
			return 0, err
		}
	}
	c := n.b[n.r]
	n.r++
	return c, nil
}

// Read serves the handshake (and RTMPE's decrypting reader) from the buffer.
func (n *netIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for n.r == n.w {
		if err := n.fill(); err != nil {
			return 0, err
		}
	}
	k := copy(p, n.b[n.r:n.w])
	n.r += k
	return k, nil
}

// fill reads the socket once, after what is buffered. The chunk reader only needs the socket
// when the buffered bytes cannot complete a chunk, so the units parsed so far are handed on
// first (beforeRead). A full read means more is waiting and the next read comes at once: the
// batch grows on until a read that will pause first, so a pause's media is still one batch
// (bounded, for a publisher with a backlog).
func (n *netIO) fill() error {
	if n.rerr != nil {
		return n.rerr
	}
	if n.beforeRead != nil {
		if n.fullRead && n.publishing && n.drainUntil.Load() == 0 && n.heldReads < maxHeldReads {
			n.heldReads++
		} else {
			n.heldReads = 0
			n.beforeRead()
		}
	}
	for {
		k, space, err := n.readOnce()
		if err != nil && n.polling && n.drainUntil.Load() == 0 && isTimeout(err) &&
			time.Since(n.lastData) < n.idleTimeout {
			continue // nothing arrived during one pause: poll again
		}
		n.w += k
		n.fullRead = k == space
		n.total += k
		n.metrics.bytes(k)
		n.now = time.Since(n.start)
		if k > 0 {
			n.lastData = time.Now()
		}
		if err != nil {
			n.sockFailed(err)
			n.rerr = err
			if k > 0 {
				return nil // the bytes first, the error on the next fill
			}
		}
		return err
	}
}

// readOnce is one socket read with its pause and deadline; space is what the read could take.
func (n *netIO) readOnce() (k, space int, err error) {
	if until := n.drainUntil.Load(); until != 0 {
		if err = n.conn.SetReadDeadline(time.Unix(0, until)); err != nil {
			return 0, 0, fmt.Errorf("set read deadline: %w", err)
		}
	} else if n.publishing {
		if n.pause > 0 && !n.fullRead {
			n.endRound()
			n.sleep(n.pause)
		}
		deadline := time.Now().Add(n.idleTimeout)
		if n.polling {
			deadline = time.Now().Add(min(n.pause, n.idleTimeout))
		}
		if until := n.drainUntil.Load(); until != 0 {
			deadline = time.Unix(0, until) // drain began during the pause
		}
		if err = n.conn.SetReadDeadline(deadline); err != nil {
			return 0, 0, fmt.Errorf("set read deadline: %w", err)
		}
	}
	p := n.space()
	k, err = n.conn.Read(p)
	return k, len(p), err
}

// space makes sure a round's buffer is borrowed, with the buffered bytes at its start, and
// returns its free part.
func (n *netIO) space() []byte {
	if n.buf == nil {
		n.buf = bufpool.Get(readBufSize)
		b := n.buf.B[:cap(n.buf.B)]
		n.w = copy(b, n.b[n.r:n.w])
		n.b, n.r = b, 0
		if cap(n.carry) > maxKeptCarry {
			n.carry = nil
		}
	} else if n.r > 0 {
		n.w = copy(n.b, n.b[n.r:n.w])
		n.r = 0
	}
	return n.b[n.w:]
}

// endRound gives the round's buffer back to the pool before a pause, keeping the unread bytes
// (an unfinished chunk header) in carry. Views handed out by Peek are dead by now: the chunk reader
// only reads the socket once the messages they belong to are handled.
func (n *netIO) endRound() {
	if n.buf == nil {
		return
	}
	n.carry = append(n.carry[:0], n.b[n.r:n.w]...)
	bufpool.Put(n.buf)
	n.buf = nil
	n.b, n.r, n.w = n.carry, 0, len(n.carry)
}

// release gives the buffer back when the connection ends.
func (n *netIO) release() {
	if n.buf != nil {
		bufpool.Put(n.buf)
		n.buf, n.b, n.r, n.w = nil, nil, 0, 0
	}
	n.carry = nil
}

// readPhases is how many groups the connections' read instants are spread over. All at one
// instant would cost the fewest timer wake-ups, but then every stream's round of media is in
// memory at once (at a 1 s pause, a second of every stream); in readPhases groups a pause
// brings only a readPhases-th of that to memory at a time, for readPhases timer expiries a
// pause whatever the number of connections.
const readPhases = 8

// untilPhase is how long until the next instant that lies phase past a multiple of d on the
// wall clock, so that connections of one phase pausing for the same d wake up together.
func untilPhase(d, phase time.Duration) time.Duration {
	return d - time.Duration((time.Now().UnixNano()-int64(phase))%int64(d))
}

// sleepToPhase pauses until the connection's next read instant, or until it starts draining.
func (n *netIO) sleepToPhase(d, phase time.Duration) {
	if n.drainUntil.Load() != 0 {
		return
	}
	t := time.NewTimer(untilPhase(d, phase))
	defer t.Stop()
	select {
	case <-t.C:
	case <-n.woken:
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (n *netIO) sockFailed(err error) {
	if n.sockErr == nil {
		n.sockErr = err
		n.timedOut = isTimeout(err)
	}
}

// Write writes to the socket; while publishing each write gets its own deadline so a
// publisher that stops reading cannot block the connection's goroutine forever.
func (n *netIO) Write(p []byte) (int, error) {
	if n.publishing {
		if err := n.conn.SetWriteDeadline(time.Now().Add(n.idleTimeout)); err != nil {
			return 0, fmt.Errorf("set write deadline: %w", err)
		}
	}
	k, err := n.conn.Write(p)
	if err != nil {
		n.sockFailed(err)
	}
	return k, err
}

// startPublishing clears the handshake deadline and switches to idle deadlines and pauses.
func (n *netIO) startPublishing(idle, pause time.Duration) error {
	n.publishing, n.idleTimeout, n.pause = true, idle, pause
	if err := n.conn.SetDeadline(time.Time{}); err != nil {
		return fmt.Errorf("clear deadline: %w", err)
	}
	// Without a pause there is nothing to poll; a socket without SO_RCVLOWAT (a test pipe,
	// TLS) keeps being woken per packet, which is only slower.
	n.polling = pause > 0 && n.drainUntil.Load() == 0 && setRcvLowat(n.conn, pollLowat)
	n.lastData = time.Now()
	return nil
}
