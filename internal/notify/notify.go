// Package notify delivers outbox events to callback receivers: it claims due deliveries
// that head their stream's queue, POSTs each as its dialect encodes it, and records every
// attempt and the delivery's new state. Its subpackage dialect encodes the requests.
package notify

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// DeliveryStore is the part of store.Outbox the notifier uses.
type DeliveryStore interface {
	DeliveryClaim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]recording.Delivery, error)
	DeliveryRecord(ctx context.Context, a recording.Attempt, state recording.DeliveryState, next time.Time, lastErr string) error
	CallbackDisable(ctx context.Context, id, reason string) error
}

// BacklogCounter is optionally implemented by a DeliveryStore: it counts pending deliveries
// for the liverec_delivery_backlog gauge. Without it the gauge shows the deliveries in
// flight only.
type BacklogCounter interface {
	DeliveryBacklog(ctx context.Context) (int, error)
}

// CallbackStore loads a callback configuration by id, across projects, with its key in plain
// form ("" when none). It returns an error wrapping recording.ErrNotFound when the
// configuration was deleted.
type CallbackStore interface {
	Callback(ctx context.Context, id string) (*recording.CallbackConfig, string, error)
}

// Request is an encoded delivery: the dialect's URL, headers (X-Liverec-Event-Id and the
// signature among them) and JSON body.
type Request struct {
	URL    string
	Header http.Header
	Body   []byte
}

// Encoder encodes an event for a configuration, signed with key at now. ok is false when the
// configuration does not take this event (not subscribed, or no such callback in its dialect).
type Encoder func(ev *recording.OutboxEvent, cfg *recording.CallbackConfig, key string, now time.Time) (req Request, ok bool, err error)

// Backoff spaces the retries of a delivery: the n-th retry waits Min·Factor^(n-1),
// at most Max, varied by ±Jitter (a fraction); a delivery whose event would be older than
// MaxAge at its next attempt is given up.
type Backoff struct {
	Min    time.Duration // default 1 s
	Max    time.Duration // default 1 h
	Factor float64       // default 2
	Jitter float64       // default 0.2; negative for none
	MaxAge time.Duration // default 24 h
}

// Config configures a Notifier; zero fields take the documented defaults. An event its
// configuration does not take (Encode's ok=false) is recorded as delivered with status 0 and
// ReasonNotSent, so the stream's queue moves on.
type Config struct {
	Outbox    DeliveryStore
	Callbacks CallbackStore
	Encode    Encoder
	// Client sends the requests; default: one that follows no redirects (3xx gives up).
	Client *http.Client
	// Timeout bounds one attempt, reply head included; default 5 s.
	Timeout time.Duration
	Backoff Backoff
	// Workers is the number of concurrent attempts; default 8.
	Workers int
	// Poll is how often to claim when idle (retries falling due, other nodes' deliveries);
	// default 1 s: each claim is a store transaction. Notify wakes the notifier at once.
	Poll time.Duration
	// Lease is how long a claim holds a delivery before another claim may take it again (a
	// crashed worker's deliveries come back); default 2·Timeout.
	Lease time.Duration
	// ConfigTTL is how long a loaded configuration is reused; default 1 s, negative for never.
	ConfigTTL time.Duration
	// Now times attempts and schedules retries (default time.Now); latencies use the
	// monotonic clock.
	Now func() time.Time
	// Rand draws the retries' jitter, in [0,1); default math/rand/v2.Float64.
	Rand    func() float64
	Logger  *slog.Logger
	Metrics *Metrics
	// OnPanic, when set, counts a panic contained to one delivery.
	OnPanic func()
}

// Notifier delivers callback events. New builds it, Run runs it once.
type Notifier struct {
	Config // as New completed it; read-only

	wake       chan struct{}
	ownClient  bool
	counted    bool // the store counts the backlog
	batch      int  // free slots that make a claim worthwhile
	claimErrAt time.Time

	mu       sync.Mutex
	inflight map[string]bool
	configs  map[string]cachedConfig
}

type cachedConfig struct {
	cfg     *recording.CallbackConfig
	key     string
	expires time.Time
	gen     int // bumped by forgetConfig
}

// Defaults.
const (
	DefaultTimeout = 5 * time.Second
	DefaultWorkers = 8
	DefaultPoll    = time.Second
)

// New checks cfg, fills in its defaults and returns the Notifier.
func New(cfg Config) (*Notifier, error) {
	switch {
	case cfg.Outbox == nil:
		return nil, errors.New("notifier: no outbox")
	case cfg.Callbacks == nil:
		return nil, errors.New("notifier: no callback store")
	case cfg.Encode == nil:
		return nil, errors.New("notifier: no encoder")
	}
	n := &Notifier{Config: cfg}
	if n.Timeout <= 0 {
		n.Timeout = DefaultTimeout
	}
	b := &n.Backoff
	if b.Min <= 0 {
		b.Min = time.Second
	}
	if b.Max <= 0 {
		b.Max = time.Hour
	}
	b.Max = max(b.Max, b.Min)
	if b.Factor < 1 {
		b.Factor = 2
	}
	if b.Jitter == 0 {
		b.Jitter = 0.2
	}
	if b.MaxAge <= 0 {
		b.MaxAge = 24 * time.Hour
	}
	if n.Workers <= 0 {
		n.Workers = DefaultWorkers
	}
	n.batch = max(1, n.Workers/4)
	if n.Poll <= 0 {
		n.Poll = DefaultPoll
	}
	if n.Lease <= 0 {
		n.Lease = 2 * n.Timeout
	}
	if n.ConfigTTL == 0 {
		n.ConfigTTL = time.Second
	}
	if n.Now == nil {
		n.Now = time.Now
	}
	if n.Logger == nil {
		n.Logger = slog.New(slog.DiscardHandler)
	}
	if n.Client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = n.Workers
		n.Client = &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
		n.ownClient = true
	}
	n.wake = make(chan struct{}, 1)
	n.inflight = make(map[string]bool)
	n.configs = make(map[string]cachedConfig)

	_, n.counted = n.Outbox.(BacklogCounter)
	return n, nil
}

// Notify wakes the notifier to claim at once, after new events were written. It never blocks;
// called before Run, the claim comes when Run starts.
func (n *Notifier) Notify() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Run claims and attempts deliveries until ctx ends, then waits for the attempts in flight
// (each bounded by Timeout) so that they are recorded, and returns nil.
func (n *Notifier) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		if n.ownClient {
			n.Client.CloseIdleConnections()
		}
	}()
	// Attempts outlive ctx so that they finish and are recorded; Timeout bounds them.
	attemptCtx := context.WithoutCancel(ctx)
	slots := make(chan struct{}, n.Workers)
	timer := time.NewTimer(n.Poll)
	defer timer.Stop()
	var lastCount time.Time
	for {
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(lastCount) >= time.Second {
			lastCount = time.Now()
			n.countBacklog(ctx)
		}
		n.claim(ctx, attemptCtx, &wg, slots)
		timer.Reset(n.Poll)
		select {
		case <-ctx.Done():
			return nil
		case <-n.wake: // Notify, or an attempt finished
		case <-timer.C:
		}
	}
}

// claim claims deliveries for the free slots and starts their attempts. While attempts are in
// flight it waits until a quarter of the slots are free: fewer, larger claims save store
// round trips, which bound throughput.
func (n *Notifier) claim(ctx, attemptCtx context.Context, wg *sync.WaitGroup, slots chan struct{}) {
	busy := len(slots)
	free := cap(slots) - busy
	if free == 0 || (busy > 0 && free < n.batch) {
		return
	}
	ds, err := n.Outbox.DeliveryClaim(ctx, n.Now(), n.Lease, free)
	if err != nil {
		if ctx.Err() == nil && time.Since(n.claimErrAt) >= 10*time.Second { // one a Poll is too many
			n.claimErrAt = time.Now()
			n.Logger.Error("claiming deliveries failed", "err", err)
		}
		return
	}
	for i := range ds {
		d := &ds[i]
		n.mu.Lock()
		busy := n.inflight[d.ID]
		n.inflight[d.ID] = true
		n.mu.Unlock()
		if busy {
			continue // its lease ran out while in flight; the running attempt records it
		}
		slots <- struct{}{}
		if !n.counted {
			n.Metrics.addBacklog(1)
		}
		wg.Go(func() {
			n.safeAttempt(attemptCtx, d)
			n.mu.Lock()
			delete(n.inflight, d.ID)
			n.mu.Unlock()
			if !n.counted {
				n.Metrics.addBacklog(-1)
			}
			<-slots
			n.Notify() // the next delivery of this stream may be due now
		})
	}
}

func (n *Notifier) countBacklog(ctx context.Context) {
	c, ok := n.Outbox.(BacklogCounter)
	if !ok || n.Metrics == nil {
		return
	}
	count, err := c.DeliveryBacklog(ctx)
	if err != nil {
		if ctx.Err() == nil {
			n.Logger.Warn("counting pending deliveries failed", "err", err)
		}
		return
	}
	n.Metrics.setBacklog(count)
}

// config returns a delivery's configuration and key, reused for ConfigTTL.
func (n *Notifier) config(ctx context.Context, id string) (*recording.CallbackConfig, string, error) {
	now := time.Now()
	n.mu.Lock()
	c, ok := n.configs[id]
	n.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.cfg, c.key, nil
	}
	gen := c.gen
	cfg, key, err := n.Callbacks.Callback(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if n.ConfigTTL > 0 {
		n.mu.Lock()
		// Not when forgotten meanwhile: this copy may predate a disable.
		if n.configs[id].gen == gen {
			n.configs[id] = cachedConfig{cfg: cfg, key: key, expires: now.Add(n.ConfigTTL), gen: gen}
		}
		n.mu.Unlock()
	}
	return cfg, key, nil
}

// forgetConfig drops a cached configuration, and any load of it under way.
func (n *Notifier) forgetConfig(id string) {
	n.mu.Lock()
	n.configs[id] = cachedConfig{gen: n.configs[id].gen + 1}
	n.mu.Unlock()
}
