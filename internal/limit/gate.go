package limit

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Reasons a connection is refused, as metric label values.
const (
	ReasonMaxConns        = "max_conns"
	ReasonMaxConnsPerAddr = "max_conns_per_ip"
)

// DefaultLogEvery is how often a refused source address is logged at warn by default.
const DefaultLogEvery = time.Minute

// maxSampled bounds the addresses whose last warning is remembered.
const maxSampled = 4096

// GateConfig configures a Gate.
type GateConfig struct {
	// Name is the listener in log lines ("rtmp", "http").
	Name string
	// Max caps the open connections in all; MaxPerAddr those from one source address (see
	// Source). 0 or less: no cap.
	Max, MaxPerAddr int
	// Refused is called with the reason of every refused connection (a metric); may be nil.
	Refused func(reason string)
	// Logger receives the refusals; nil discards.
	Logger *slog.Logger
	// LogEvery: a source address is logged at warn at most once per LogEvery (with the
	// refusals since); the other refusals are logged at debug. Default DefaultLogEvery.
	LogEvery time.Duration
}

// Gate admits connections within caps on the open connections, in all and per source address,
// so that one client holding many idle or slow connections cannot keep the others out.
type Gate struct {
	cfg  GateConfig
	log  *slog.Logger
	warn sampler

	mu     sync.Mutex
	open   int
	byAddr map[netip.Addr]int
}

// NewGate returns a gate with the given caps.
func NewGate(cfg GateConfig) *Gate {
	if cfg.LogEvery <= 0 {
		cfg.LogEvery = DefaultLogEvery
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Gate{cfg: cfg, log: log, warn: sampler{every: cfg.LogEvery}, byAddr: map[netip.Addr]int{}}
}

// Admit counts a connection from remote and returns "", or refuses it and returns why (it is
// counted and logged here; the caller closes it). Every admitted connection is Released once.
func (g *Gate) Admit(remote net.Addr) (reason string) {
	src := Source(remote)
	g.mu.Lock()
	switch {
	case g.cfg.Max > 0 && g.open >= g.cfg.Max:
		reason = ReasonMaxConns
	case g.cfg.MaxPerAddr > 0 && g.byAddr[src] >= g.cfg.MaxPerAddr:
		reason = ReasonMaxConnsPerAddr
	default:
		g.open++
		g.byAddr[src]++
	}
	g.mu.Unlock()
	if reason != "" {
		g.refuse(remote, src, reason)
	}
	return reason
}

// Release uncounts a connection that Admit admitted.
func (g *Gate) Release(remote net.Addr) {
	src := Source(remote)
	g.mu.Lock()
	g.open--
	if n := g.byAddr[src] - 1; n > 0 {
		g.byAddr[src] = n
	} else {
		delete(g.byAddr, src)
	}
	g.mu.Unlock()
}

// Open returns the number of admitted connections not yet released.
func (g *Gate) Open() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open
}

func (g *Gate) refuse(remote net.Addr, src netip.Addr, reason string) {
	if g.cfg.Refused != nil {
		g.cfg.Refused(reason)
	}
	capN := g.cfg.Max
	if reason == ReasonMaxConnsPerAddr {
		capN = g.cfg.MaxPerAddr
	}
	lvl, held := slog.LevelDebug, 0
	if ok, n := g.warn.allow(src, time.Now()); ok {
		lvl, held = slog.LevelWarn, n
	}
	if !g.log.Enabled(context.Background(), lvl) {
		return
	}
	args := []any{"listener", g.cfg.Name, "remote", addrString(remote), "reason", reason, "max", capN}
	if lvl == slog.LevelWarn {
		// Warnings are rate-limited per address; say how many refusals went to debug since.
		args = append(args, "refused_since_last_warning", held, "warn_every", g.cfg.LogEvery)
	}
	g.log.Log(context.Background(), lvl, "connection refused: too many connections", args...)
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// sampler lets one event per address through each interval and counts the ones it held back.
type sampler struct {
	every time.Duration
	mu    sync.Mutex
	last  map[netip.Addr]*sample
}

type sample struct {
	at   time.Time
	held int
}

func (s *sampler) allow(src netip.Addr, now time.Time) (ok bool, held int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.last[src]; e != nil {
		if now.Sub(e.at) < s.every {
			e.held++
			return false, 0
		}
		held, e.at, e.held = e.held, now, 0
		return true, held
	}
	if len(s.last) >= maxSampled {
		for a, e := range s.last {
			if now.Sub(e.at) >= s.every {
				delete(s.last, a)
			}
		}
		if len(s.last) >= maxSampled {
			s.last = nil // under a flood from many addresses: forget rather than grow
		}
	}
	if s.last == nil {
		s.last = map[netip.Addr]*sample{}
	}
	s.last[src] = &sample{at: now}
	return true, 0
}

// Listener hands out only the connections its gate admits: the others are closed at once and
// never reach the server.
type Listener struct {
	net.Listener
	gate *Gate
}

// NewListener wraps ln.
func NewListener(ln net.Listener, g *Gate) *Listener { return &Listener{Listener: ln, gate: g} }

// Accept returns the next admitted connection.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.gate.Admit(nc.RemoteAddr()) != "" {
			nc.Close()
			continue
		}
		return &gatedConn{Conn: nc, gate: l.gate}, nil
	}
}

// gatedConn releases its place in the gate when closed. It passes ReadFrom and CloseWrite on,
// so net/http keeps using sendfile(2) and its graceful close.
type gatedConn struct {
	net.Conn
	gate   *Gate
	closed atomic.Bool
}

func (c *gatedConn) Close() error {
	err := c.Conn.Close()
	if !c.closed.Swap(true) {
		c.gate.Release(c.RemoteAddr())
	}
	return err
}

func (c *gatedConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c.Conn}, r)
}

func (c *gatedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

type writerOnly struct{ io.Writer }
