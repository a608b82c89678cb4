// Package rtmp is liverec's RTMP ingest: it accepts publishers (one goroutine per
// connection), checks their stream identity, and hands their media to the stream hub as
// batches of units, within the limits of §11.
package rtmp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/liverec/liverec/internal/backoff"
	"github.com/liverec/liverec/internal/limit"
	"github.com/liverec/liverec/internal/stream"
)

// acceptRetry spaces the retries of a failing Accept (out of file descriptors and the like):
// 5 ms, doubling up to 1 s, no jitter.
var acceptRetry = backoff.Policy{Min: 5 * time.Millisecond, Max: time.Second}

// Publisher accepts publications; *stream.Hub implements it.
type Publisher interface {
	Publish(ctx context.Context, req stream.PublishRequest) (*stream.Publication, error)
}

// Config configures a Server; zero fields take the documented defaults.
type Config struct {
	// Addr is the TCP listen address, e.g. ":1935".
	Addr string
	// Hub receives the publications. Required.
	Hub Publisher
	// HandshakeTimeout bounds the time from accepting a connection to its publish command.
	// Default 10 s.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a publishing connection that sends no bytes for this long (and bounds
	// each write to it). Default 30 s.
	IdleTimeout time.Duration
	// ReadBatch is the pause before each socket read of a publishing connection, so that each
	// read takes several packets: wake-ups, not bytes, dominate ingest's CPU (perf-notes).
	// Default 20 ms; negative disables the pause.
	ReadBatch time.Duration
	// MaxConns caps concurrent connections; extra ones are closed at once. Default 1000.
	MaxConns int
	// MaxConnsPerIP caps the connections from one source address (an IPv6 /64), so one client
	// cannot take every place; extra ones are closed at once. Default 100.
	MaxConnsPerIP int
	// MaxPendingBytes is the budget of all connections together for messages not yet complete,
	// beyond the first freePendingBytes of each; a connection that would exceed it is closed.
	// Default 256 MiB; negative: no budget (each connection keeps its own cap).
	MaxPendingBytes int64
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Metrics may be nil.
	Metrics *Metrics
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 30 * time.Second
	}
	if c.ReadBatch == 0 {
		c.ReadBatch = 20 * time.Millisecond
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 1000
	}
	if c.MaxConnsPerIP <= 0 {
		c.MaxConnsPerIP = 100
	}
	if c.MaxPendingBytes == 0 {
		c.MaxPendingBytes = 256 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Server accepts RTMP publishers: NewServer binds its address, Run accepts connections. A
// Server runs once.
type Server struct {
	Config // as NewServer completed it; read-only

	ln      net.Listener
	connSeq atomic.Uint64 // connections accepted: spreads their read phases
	budget  *limit.Budget // of MaxPendingBytes; nil without one
	mu      sync.Mutex
	started bool
	wg      sync.WaitGroup
	// noRecover lets panics escape a connection, so fuzzing sees them.
	noRecover bool
}

// NewServer checks cfg, fills in its defaults and binds Addr, so that BoundAddr works before
// Run.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Hub == nil {
		return nil, errors.New("rtmp: no hub")
	}
	s := &Server{Config: cfg.withDefaults()}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return nil, fmt.Errorf("rtmp listen: %w", err)
	}
	s.ln = ln
	if n := s.MaxPendingBytes; n > 0 {
		s.budget = limit.NewBudget(n)
	}
	return s, nil
}

// PendingBytes returns the bytes of unfinished messages charged to MaxPendingBytes now.
func (s *Server) PendingBytes() int64 { return s.budget.Used() }

// BoundAddr returns the listening address. (Addr is the configured address; with port 0 only
// this tells the port.)
func (s *Server) BoundAddr() net.Addr { return s.ln.Addr() }

// Run accepts connections until ctx is cancelled, then closes the listener and every
// connection and returns nil once all their goroutines have exited. Publications are passed
// ctx, so cancelling it also ends them.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	ln, started := s.ln, s.started
	s.started = true
	s.mu.Unlock()
	if started {
		return errors.New("rtmp: server already ran")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()

	log := s.Logger
	gate := limit.NewGate(limit.GateConfig{Name: "rtmp", Max: s.MaxConns, MaxPerAddr: s.MaxConnsPerIP,
		Refused: s.Metrics.refuse, Logger: log})
	s.Metrics.setLimits(s.budget, gate)
	log.Info("rtmp listening", "addr", ln.Addr().String())
	var err error
	for failures := 0; ; {
		nc, aerr := ln.Accept()
		if aerr != nil {
			if ctx.Err() != nil {
				break
			}
			var ne net.Error
			if errors.As(aerr, &ne) && !errors.Is(aerr, net.ErrClosed) {
				// Out of file descriptors and the like: wait instead of spinning.
				failures++
				log.Warn("rtmp accept failed", "err", aerr, "retry_in", acceptRetry.Delay(failures))
				_ = acceptRetry.Wait(ctx, failures) // ctx's end is seen by the next Accept
				continue
			}
			err = fmt.Errorf("rtmp accept: %w", aerr)
			break
		}
		failures = 0
		s.Metrics.connection()
		if gate.Admit(nc.RemoteAddr()) != "" {
			nc.Close() // counted and logged (rate-limited) by the gate
			continue
		}
		s.wg.Go(func() {
			defer gate.Release(nc.RemoteAddr())
			s.serveConn(ctx, nc)
		})
	}
	cancel()
	s.wg.Wait()
	return err
}

// serveConn runs one connection to its end. A panic is contained to the connection.
func (s *Server) serveConn(ctx context.Context, nc net.Conn) {
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	c := &conn{s: s, nc: nc, nio: newNetIO(nc, s.Metrics, s.connSeq.Add(1)), log: s.Logger.With("remote", nc.RemoteAddr().String())}
	err := c.safeServe(ctx)
	// The budget goes back before the connection is reported closed, so whoever sees it
	// closed sees its share free.
	if c.r != nil {
		c.r.releaseBudget()
	}
	c.finish(ctx, err)
	c.nio.release()
}

type panicError struct {
	v     any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.v) }

func (c *conn) safeServe(ctx context.Context) (err error) {
	if !c.s.noRecover {
		defer func() {
			if v := recover(); v != nil {
				err = &panicError{v: v, stack: debug.Stack()}
			}
		}()
	}
	return c.serve(ctx)
}

// finish closes the connection and its publication, and logs and counts why it ended.
func (c *conn) finish(ctx context.Context, err error) {
	reason := c.classify(ctx, err)
	var pe *panicError
	panicked := errors.As(err, &pe)
	if c.pub != nil && c.media && !panicked {
		c.conv.end()
		c.flush() // units parsed before the end
	}
	if c.refused {
		c.lingerClose()
	} else {
		c.nc.Close()
	}
	if reason == reasonMalformed || reason == reasonBudget || (reason == reasonLimit && c.pub == nil) {
		c.s.Metrics.reject(reason)
	}
	args := []any{"reason", reason, "err", err, "bytes_in", c.nio.total}
	if panicked {
		args = append(args, "stack", string(pe.stack))
	}
	if c.pub == nil {
		before := c.beforePublish(reason)
		c.s.Metrics.closedBeforePublish(before)
		lvl := slog.LevelWarn
		switch {
		case before == beforeHandshake || before == beforeTimeout || before == beforeNoPublish || reason == closedShutdown:
			// Port scans, probes and idle connections: common, and harmless once closed.
			lvl = slog.LevelDebug
		case reason == reasonBusy, reason == reasonBadName, reason == reasonPlay, reason == reasonError,
			reason == reasonUnauthorized:
			lvl = slog.LevelInfo
		}
		c.log.Log(ctx, lvl, "rtmp connection closed", append(args, "before_publish", before)...)
		return
	}
	cause := fmt.Errorf("rtmp %s: %w", reason, err)
	if reason == closedKicked {
		cause = context.Cause(c.pub.Context())
	}
	c.pub.Close(cause)
	c.s.Metrics.publishing(-1)
	c.s.Metrics.close(reason)
	lvl := slog.LevelInfo
	if reason == reasonMalformed || reason == closedPanic {
		lvl = slog.LevelWarn
	}
	c.log.Log(context.Background(), lvl, "rtmp publish ended",
		append(args, "duration", time.Since(c.pub.Start).Round(time.Millisecond))...)
}

// classify maps the error that ended a connection to a metrics reason.
func (c *conn) classify(ctx context.Context, err error) string {
	var ce *closeError
	var pe *panicError
	switch {
	case errors.As(err, &pe):
		return closedPanic
	case errors.As(err, &ce):
		return ce.reason
	case ctx.Err() != nil:
		return closedShutdown
	case c.pub != nil && c.pub.Context().Err() != nil:
		return closedKicked
	case errors.Is(err, errTooMuchPending):
		return reasonLimit
	case errors.Is(err, errPendingBudget):
		return reasonBudget
	case c.nio.sockErr == nil && !errors.Is(err, errUnpublished):
		return reasonMalformed // the parser failed, not the socket
	case c.nio.timedOut && c.pub != nil:
		return closedIdle
	case c.nio.timedOut:
		return reasonLimit // handshake timeout
	}
	return closedEOF
}

// beforePublish tells how far a connection that ends without publishing got, as a metric label.
func (c *conn) beforePublish(reason string) string {
	switch {
	case reason == closedShutdown, reason == closedPanic:
		return reason
	case c.nio.timedOut:
		return beforeTimeout // HandshakeTimeout: connect to publish took too long
	case c.r == nil:
		return beforeHandshake
	case reason == reasonBusy, reason == reasonBadName, reason == reasonPlay, reason == reasonError,
		reason == reasonUnauthorized:
		return beforeRefused
	case reason == reasonLimit, reason == reasonBudget:
		return beforeMemory
	case reason == reasonMalformed:
		return reasonMalformed
	}
	return beforeNoPublish
}

// lingerClose lets a refused client read the error status: closing a socket with unread
// input makes the kernel send a reset, which can overtake the status.
func (c *conn) lingerClose() {
	_ = c.nc.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(c.nc, 1<<20))
	c.nc.Close()
}
