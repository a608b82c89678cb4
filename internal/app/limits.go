package app

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/liverec/liverec/internal/limit"
	"github.com/liverec/liverec/internal/store"
)

// limits are the HTTP side's protections against one client starving the others (the RTMP
// side's live in rtmp.Server): a cap on connections, in all and per source address, and the
// failed-authentication throttle every API dialect shares; and publish authentication's
// throttle. Both throttles count across the nodes, through the database (Run).
type limits struct {
	gate     *limit.Gate
	throttle *limit.Throttle
	publish  *limit.Throttle
}

func (a *App) initLimits() {
	c := a.conf.API
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "liverec_http_conns_refused_total",
		Help: "HTTP connections closed at once because of api.max_conns or api.max_conns_per_ip, by reason."},
		[]string{"reason"})
	a.limits.gate = limit.NewGate(limit.GateConfig{Name: "http", Max: c.MaxConns, MaxPerAddr: c.MaxConnsPerIP,
		Logger: a.log.With("component", "http"), Refused: func(reason string) { refused.WithLabelValues(reason).Inc() }})
	open := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "liverec_http_connections",
		Help: "HTTP connections open."}, func() float64 { return float64(a.limits.gate.Open()) })
	a.reg.MustRegister(refused, open)
	a.limits.throttle = a.newThrottle("api", a.log.With("component", "api"))
	a.limits.publish = a.newThrottle("publish", a.log.With("component", "publish-auth"))
}

// newThrottle returns a failed-authentication throttle shared with the other nodes under
// scope.
func (a *App) newThrottle(scope string, log *slog.Logger) *limit.Throttle {
	c := a.conf.API
	cfg := limit.ThrottleConfig{Limit: c.AuthFailureLimit, Window: c.AuthFailureWindow.D(),
		Cooldown: c.AuthFailureCooldown.D(), Logger: log}
	cfg.Shared = &limit.SharedConfig{Store: sharedFailures{a.store}, Scope: scope, Timeout: dbTimeout}
	return limit.NewThrottle(cfg)
}

// Run shares the throttles' counts with the other nodes until ctx ends.
func (l *limits) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { _ = l.throttle.Run(ctx) })
	wg.Go(func() { _ = l.publish.Run(ctx) })
	wg.Wait()
	return nil
}

// sharedFailures is the store as the throttles count through it (internal/limit imports no
// store: its types mirror the store's field for field).
type sharedFailures struct{ db store.AuthFailures }

func (s sharedFailures) PutFailures(ctx context.Context, scope, instance string, counts []limit.SharedCount) error {
	rows := make([]store.AuthFailure, len(counts))
	for i, c := range counts {
		rows[i] = store.AuthFailure(c)
	}
	return s.db.AuthFailuresPut(ctx, scope, instance, rows)
}

func (s sharedFailures) HotFailures(ctx context.Context, scope string, now time.Time, atLeast, maxSubjects int,
) ([]limit.SharedTotal, error) {
	hot, err := s.db.AuthFailuresHot(ctx, scope, now, atLeast, maxSubjects)
	if err != nil {
		return nil, err
	}
	totals := make([]limit.SharedTotal, len(hot))
	for i, h := range hot {
		totals[i] = limit.SharedTotal(h)
	}
	return totals, nil
}

func (s sharedFailures) PruneFailures(ctx context.Context, scope string, now time.Time) error {
	return s.db.AuthFailuresPrune(ctx, scope, now)
}

// httpServer is the server of the APIs, /metrics and downloads, with the configured timeouts:
// a client sending its request slowly is dropped after api.read_timeout.
func (a *App) httpServer() *http.Server {
	c := a.conf.API
	return &http.Server{
		Handler:           a.httpHandler(),
		ReadHeaderTimeout: c.ReadHeaderTimeout.D(),
		ReadTimeout:       c.ReadTimeout.D(),
		WriteTimeout:      c.WriteTimeout.D(),
		IdleTimeout:       c.IdleTimeout.D(),
	}
}

// httpListener hands the server only the connections within api.max_conns and
// api.max_conns_per_ip.
func (a *App) httpListener() net.Listener { return limit.NewListener(a.httpLn, a.limits.gate) }

// downloadStep is how much of a download is sent under one write deadline.
const downloadStep = 1 << 20

// progressWriter renews the write deadline before each step of a download, so an object of
// any size is sent as long as the client keeps reading (api.write_timeout would cut a large
// one), and a client that stops reading is dropped after the timeout.
type progressWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (a *App) progressing(w http.ResponseWriter) *progressWriter {
	rc := http.NewResponseController(w)
	// The request is read: api.read_timeout must not end a long download either (net/http
	// would cancel the request once its read deadline passes).
	_ = rc.SetReadDeadline(time.Time{})
	return &progressWriter{ResponseWriter: w, rc: rc, timeout: a.conf.API.WriteTimeout.D()}
}

func (p *progressWriter) renew() { _ = p.rc.SetWriteDeadline(time.Now().Add(p.timeout)) }

func (p *progressWriter) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		p.renew()
		n, err := p.ResponseWriter.Write(b[done:min(len(b), done+downloadStep)])
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// ReadFrom sends src a step at a time. A file stays directly under one *io.LimitedReader, so
// net/http still sends it with sendfile(2).
func (p *progressWriter) ReadFrom(src io.Reader) (int64, error) {
	rf, ok := p.ResponseWriter.(io.ReaderFrom)
	if !ok {
		return io.Copy(writerOnly{p}, src)
	}
	outer, _ := src.(*io.LimitedReader)
	r, left := src, int64(math.MaxInt64)
	if outer != nil {
		r, left = outer.R, outer.N
	}
	var total int64
	for left > 0 {
		p.renew()
		step := min(left, downloadStep)
		n, err := rf.ReadFrom(&io.LimitedReader{R: r, N: step})
		total, left = total+n, left-n
		if outer != nil {
			outer.N = left
		}
		if err != nil || n < step {
			return total, err // n < step: src is at its end
		}
	}
	return total, nil
}

// Unwrap lets http.ResponseController reach the connection.
func (p *progressWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

type writerOnly struct{ io.Writer }
