package limit

import (
	"context"
	"crypto/rand"
	"net/netip"
	"strings"
	"time"
)

// DefaultSyncInterval is how often a shared throttle syncs with the other nodes by default.
const DefaultSyncInterval = time.Second

// defaultSyncTimeout bounds each database call of a sync by default.
const defaultSyncTimeout = 5 * time.Second

// maxPut bounds the counts one sync writes (a flood's changes wait for the next syncs).
const maxPut = 4096

// pruneEvery is how often a node deletes the shared counts that are over.
const pruneEvery = time.Minute

// Subjects name an address or a key id in the shared store.
const (
	addrPrefix = "addr:"
	keyPrefix  = "key:"
)

// SharedStore is the database through which the nodes of a deployment share a throttle (the
// store's AuthFailures, which the app adapts). Each node writes its own counts under an
// instance id and reads what all the nodes' counts add up to.
type SharedStore interface {
	// PutFailures writes instance's counts in scope, each replacing what instance wrote
	// before for its subject.
	PutFailures(ctx context.Context, scope, instance string, counts []SharedCount) error
	// HotFailures returns up to maxSubjects subjects of scope that at now cool down on some
	// instance, or whose open, not cooling counts add up to atLeast.
	HotFailures(ctx context.Context, scope string, now time.Time, atLeast, maxSubjects int) ([]SharedTotal, error)
	// PruneFailures deletes the counts of scope whose window and cool-down were over by now.
	PruneFailures(ctx context.Context, scope string, now time.Time) error
}

// SharedCount is one node's count of a subject: failures in the window ending at WindowEnd,
// and the end of its cool-down (zero when none; a cooling count counts no more).
type SharedCount struct {
	Subject       string
	Failures      int
	WindowEnd     time.Time
	CooldownUntil time.Time
}

// SharedTotal is a subject's standing across the nodes: the failures of the counts that are
// open and not cooling, and the latest cool-down still running (zero when none).
type SharedTotal struct {
	Subject       string
	Failures      int
	CooldownUntil time.Time
}

// SharedConfig makes a Throttle count across the nodes of a deployment.
type SharedConfig struct {
	Store SharedStore
	// Scope names the throttle's counts in Store: throttles of different scopes count apart.
	Scope string
	// Interval is how often the node syncs; failures make it sync sooner, at most ten times
	// per Interval. Default DefaultSyncInterval.
	Interval time.Duration
	// Timeout bounds each call to Store. Default 5s.
	Timeout time.Duration
}

// sharing is a throttle's state of sharing with the other nodes.
type sharing struct {
	cfg SharedConfig
	// instance names this throttle's counts in the store: a new one each run, so the counts
	// of a node's previous run still count until they expire.
	instance string
	// nudge wakes Run after a failure.
	nudge chan struct{}
	// changed are the subjects whose record changed since it was last written, under
	// Throttle.mu.
	changed map[string]struct{}

	// Run's own.
	degraded  bool // the last sync failed (logged once)
	lastPrune time.Time
}

func newSharing(cfg SharedConfig) *sharing {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultSyncInterval
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultSyncTimeout
	}
	return &sharing{cfg: cfg, instance: rand.Text(), nudge: make(chan struct{}, 1), changed: map[string]struct{}{}}
}

// changedKey and changedAddr note, under Throttle.mu, a record to write; nothing when not
// shared.
func (s *sharing) changedKey(keyID string) {
	if s != nil {
		s.changed[keyPrefix+keyID] = struct{}{}
	}
}

func (s *sharing) changedAddr(src netip.Addr) {
	if s != nil && src.IsValid() {
		s.changed[addrPrefix+src.String()] = struct{}{}
	}
}

// poke wakes Run without waiting; nothing when not shared.
func (s *sharing) poke() {
	if s == nil {
		return
	}
	select {
	case s.nudge <- struct{}{}:
	default:
	}
}

// Run shares the throttle with the other nodes until ctx ends. Each sync writes this node's
// counts and cool-downs that changed, then reads the subjects the deployment throttles: a
// cool-down another node started is taken on until it ends, and a subject whose counts on
// all the nodes add up to Limit starts one here. Check and Fail never wait for it: they
// count in memory, as when alone. A store that fails leaves the throttle counting on this
// node alone (logged once) until it answers again. Without sharing, Run waits for ctx.
func (t *Throttle) Run(ctx context.Context) error {
	if t == nil || t.share == nil {
		<-ctx.Done()
		return nil
	}
	s := t.share
	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	for {
		t.sync(ctx)
		// However fast failures come, the store sees at most ten syncs per interval.
		if !sleep(ctx, s.cfg.Interval/10) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-s.nudge:
		}
	}
}

// sync writes the changed records, reads the subjects to throttle, and prunes now and then.
func (t *Throttle) sync(ctx context.Context) {
	s := t.share
	now := t.cfg.Now()
	if counts := t.takeChanged(); len(counts) > 0 {
		if err := s.call(ctx, func(ctx context.Context) error {
			return s.cfg.Store.PutFailures(ctx, s.cfg.Scope, s.instance, counts)
		}); err != nil {
			t.markChanged(counts) // written by a later sync
			t.syncFailed(ctx, err)
			return
		}
	}
	var hot []SharedTotal
	if err := s.call(ctx, func(ctx context.Context) (err error) {
		hot, err = s.cfg.Store.HotFailures(ctx, s.cfg.Scope, now, t.cfg.Limit, maxTracked)
		return err
	}); err != nil {
		t.syncFailed(ctx, err)
		return
	}
	t.apply(now, hot)
	if now.Sub(s.lastPrune) >= pruneEvery {
		if err := s.call(ctx, func(ctx context.Context) error {
			return s.cfg.Store.PruneFailures(ctx, s.cfg.Scope, now)
		}); err != nil {
			t.syncFailed(ctx, err)
			return
		}
		s.lastPrune = now
	}
	if s.degraded {
		s.degraded = false
		t.log.Info("sharing authentication failures with the other nodes again", "scope", s.cfg.Scope)
	}
}

func (s *sharing) call(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	return fn(ctx)
}

// syncFailed logs the first failure of a run of them at warn, the others at debug; nothing
// once ctx is done (shutdown).
func (t *Throttle) syncFailed(ctx context.Context, err error) {
	s := t.share
	switch {
	case ctx.Err() != nil:
	case s.degraded:
		t.log.Debug("sharing authentication failures with the other nodes still fails", "scope", s.cfg.Scope, "err", err)
	default:
		s.degraded = true
		t.log.Warn("sharing authentication failures with the other nodes failed: this node counts alone until the database answers",
			"scope", s.cfg.Scope, "err", err)
	}
}

// takeChanged returns the current counts of up to maxPut changed records and forgets them.
func (t *Throttle) takeChanged() []SharedCount {
	s := t.share
	t.mu.Lock()
	defer t.mu.Unlock()
	counts := make([]SharedCount, 0, min(len(s.changed), maxPut))
	for subject := range s.changed {
		if len(counts) == maxPut {
			break
		}
		delete(s.changed, subject)
		if f := t.record(subject); f != nil {
			counts = append(counts, SharedCount{Subject: subject, Failures: f.n,
				WindowEnd: f.since.Add(t.cfg.Window), CooldownUntil: f.until})
		}
	}
	return counts
}

// markChanged notes counts' subjects to write again.
func (t *Throttle) markChanged(counts []SharedCount) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range counts {
		t.share.changed[c.Subject] = struct{}{}
	}
}

// record returns the record of subject; nil when there is none.
func (t *Throttle) record(subject string) *failures {
	addr, keyID, ok := parseSubject(subject)
	switch {
	case !ok:
		return nil
	case keyID != "":
		return t.keys[keyID]
	default:
		return t.addrs[addr]
	}
}

// apply starts or extends the cool-downs the deployment calls for. A record it changes is
// written back, so that this node's count too starts afresh after the cool-down.
func (t *Throttle) apply(now time.Time, hot []SharedTotal) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range hot {
		addr, keyID, ok := parseSubject(h.Subject)
		if !ok {
			continue
		}
		var f *failures
		if keyID != "" {
			f = track(t.keys, keyID, now)
		} else {
			f = track(t.addrs, addr, now)
		}
		switch {
		case f == nil: // full: see maxTracked
			continue
		case now.Before(f.until):
			if !h.CooldownUntil.After(f.until) {
				continue
			}
			f.until = h.CooldownUntil // another node started later: end together
		case h.CooldownUntil.After(now):
			f.until = h.CooldownUntil
			t.logShared(true, addr, keyID, "until", h.CooldownUntil)
		case h.Failures >= t.cfg.Limit:
			f.until = now.Add(t.cfg.Cooldown)
			t.logShared(false, addr, keyID, "failures", h.Failures, "cooldown", t.cfg.Cooldown)
		default:
			continue
		}
		t.share.changed[h.Subject] = struct{}{}
	}
}

// logShared logs a cool-down taken on from another node, or started for the failures on all
// of them: one line per address and per key id, as Fail.
func (t *Throttle) logShared(fromOther bool, addr netip.Addr, keyID string, args ...any) {
	where := "across the nodes"
	if fromOther {
		where = "on another node"
	}
	if keyID != "" {
		t.log.Warn("authentication failures for one access key "+where+": addresses failing for it are throttled at once",
			append([]any{"key_id", keyID, "scope", t.share.cfg.Scope}, args...)...)
		return
	}
	t.log.Warn("authentication throttled: too many failures from one address "+where,
		append([]any{"remote", addr.String(), "scope", t.share.cfg.Scope}, args...)...)
}

// parseSubject reads a subject back: an address (as SourceOf gives it) or a key id.
func parseSubject(subject string) (addr netip.Addr, keyID string, ok bool) {
	if id, found := strings.CutPrefix(subject, keyPrefix); found && id != "" {
		return netip.Addr{}, id, true
	}
	if s, found := strings.CutPrefix(subject, addrPrefix); found {
		if a, err := netip.ParseAddr(s); err == nil {
			return SourceOf(a), "", true
		}
	}
	return netip.Addr{}, "", false
}

// sleep waits d; false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
