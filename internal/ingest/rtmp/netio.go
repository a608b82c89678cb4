package rtmp

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"
)

// readBufSize is what one socket read can take. It is per connection and held all the time,
// so it is small: a 2 Mbit/s publisher sends ~50 KB per 200 ms pause, which takes a few reads
// in a row (a full read skips the pause), a few extra syscalls per second against ~48 KB less
// memory per stream.
const readBufSize = 16 << 10

// maxHeldReads bounds a batch that full reads keep growing: 256 KiB of media.
const maxHeldReads = 16

// pollLowat is the SO_RCVLOWAT of a publishing socket: more than a publisher sends during one
// ReadBatch pause, so the kernel does not signal readability (and wake Go's netpoller) for each
// arriving packet while the connection sleeps. With per-frame publishers those wake-ups were
// about a sixth of liverec's CPU. A read still returns whatever is queued; one that finds
// nothing waits at most one pause and the connection polls again (see socketRead).
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
	br   *bufio.Reader

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
}

// drain makes the connection read what its socket still holds, for at most d, and then end
// (the publication was cancelled: shutdown or replacement). Safe to call from any goroutine.
func (n *netIO) drain(d time.Duration) {
	until := time.Now().Add(d)
	n.drainUntil.Store(until.UnixNano())
	setRcvLowat(n.conn, 1)            // what arrives while draining is read at once
	_ = n.conn.SetReadDeadline(until) // wakes a read waiting for data
}

func newNetIO(conn net.Conn, m *Metrics) *netIO {
	n := &netIO{conn: conn, start: time.Now(), metrics: m}
	n.br = bufio.NewReaderSize(readerFunc(n.socketRead), readBufSize)
	return n
}

// Read serves the handshake (and RTMPE's decrypting reader) from the buffer.
func (n *netIO) Read(p []byte) (int, error) { return n.br.Read(p) }

func (n *netIO) socketRead(p []byte) (int, error) {
	// A full read means more is waiting and the next read comes at once: the batch grows on
	// until a read that will pause first, so a pause's media is still one batch (bounded, for
	// a publisher with a backlog).
	if n.beforeRead != nil {
		if n.fullRead && n.publishing && n.drainUntil.Load() == 0 && n.heldReads < maxHeldReads {
			n.heldReads++
		} else {
			n.heldReads = 0
			n.beforeRead()
		}
	}
	for {
		k, err := n.readOnce(p)
		if err != nil && n.polling && n.drainUntil.Load() == 0 && isTimeout(err) &&
			time.Since(n.lastData) < n.idleTimeout {
			continue // nothing arrived during one pause: poll again
		}
		n.fullRead = k == len(p)
		n.total += k
		n.metrics.bytes(k)
		n.now = time.Since(n.start)
		if k > 0 {
			n.lastData = time.Now()
		}
		if err != nil {
			n.sockFailed(err)
		}
		return k, err
	}
}

// readOnce is one socket read with its pause and deadline.
func (n *netIO) readOnce(p []byte) (int, error) {
	if until := n.drainUntil.Load(); until != 0 {
		if err := n.conn.SetReadDeadline(time.Unix(0, until)); err != nil {
			return 0, fmt.Errorf("set read deadline: %w", err)
		}
	} else if n.publishing {
		if n.pause > 0 && !n.fullRead {
			sleepToMultiple(n.pause)
		}
		deadline := time.Now().Add(n.idleTimeout)
		if n.polling {
			deadline = time.Now().Add(min(n.pause, n.idleTimeout))
		}
		if until := n.drainUntil.Load(); until != 0 {
			deadline = time.Unix(0, until) // drain began during the pause
		}
		if err := n.conn.SetReadDeadline(deadline); err != nil {
			return 0, fmt.Errorf("set read deadline: %w", err)
		}
	}
	return n.conn.Read(p)
}

// sleepToMultiple sleeps until the next multiple of d on the wall clock, so that connections
// pausing for the same d wake up at the same instants.
func sleepToMultiple(d time.Duration) {
	time.Sleep(d - time.Duration(time.Now().UnixNano()%int64(d)))
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

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
