package limit

import (
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// maxTracked bounds the addresses and the key ids a Throttle remembers. When a flood from more
// addresses fills it, addresses whose window and cool-down are over are forgotten; until some
// are, new addresses go uncounted (rather than growing memory without bound).
const maxTracked = 1 << 16

// ThrottleConfig configures a Throttle.
type ThrottleConfig struct {
	// Limit is how many failed authentications within Window start a cool-down. 0 or less
	// turns the throttle off.
	Limit    int
	Window   time.Duration
	Cooldown time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives one line per address and per key id per cool-down; nil discards.
	Logger *slog.Logger
	// Shared, when set, counts the failures across the nodes of a deployment (see Run).
	Shared *SharedConfig
}

// Throttle slows down guessing of credentials. An address that fails authentication Limit
// times within Window is refused for Cooldown, its credentials unchecked. Failures are counted
// per access key id as well: once a key has failed Limit times within Window (from any
// addresses), an address that fails for it during the key's cool-down is refused at once, so
// spreading guesses over many addresses gains one guess per address. A request is never
// refused for the failures of other addresses: an attacker cannot lock a legitimate client out
// by failing with its key id. Use one Throttle for every API, so failures add up across them.
// A nil *Throttle refuses nothing. Shared, its counts and cool-downs are those of every node
// (Run); Check never leaves memory.
type Throttle struct {
	cfg ThrottleConfig
	log *slog.Logger

	mu        sync.Mutex
	addrs     map[netip.Addr]*failures
	keys      map[string]*failures
	lastSweep time.Time
	// share is the sharing with the other nodes; nil when counting alone.
	share *sharing
}

// failures is one address's or key's count within its window, and its cool-down.
type failures struct {
	n     int
	since time.Time // start of the window
	until time.Time // end of the cool-down; zero when not cooling down
}

// NewThrottle returns a throttle; with cfg.Limit <= 0 it refuses nothing.
func NewThrottle(cfg ThrottleConfig) *Throttle {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Throttle{cfg: cfg, log: log, addrs: map[netip.Addr]*failures{}, keys: map[string]*failures{}}
	if cfg.Shared != nil && cfg.Shared.Store != nil && cfg.Limit > 0 {
		t.share = newSharing(*cfg.Shared)
	}
	return t
}

// Check tells whether a request from addr is refused, and how long its cool-down still lasts.
func (t *Throttle) Check(addr netip.Addr) (retryAfter time.Duration, refused bool) {
	if t == nil || t.cfg.Limit <= 0 {
		return 0, false
	}
	now := t.cfg.Now()
	src := SourceOf(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	if f := t.addrs[src]; f != nil && now.Before(f.until) {
		return f.until.Sub(now), true
	}
	return 0, false
}

// Fail records a failed authentication from addr. keyID is the access key whose secret or
// signature did not match, "" when the request named no existing key (unknown ids are not
// tracked: anyone can make up any number of them). via names the API, for the log.
func (t *Throttle) Fail(addr netip.Addr, keyID, via string) {
	if t == nil || t.cfg.Limit <= 0 {
		return
	}
	now := t.cfg.Now()
	src := SourceOf(addr)
	defer t.share.poke()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now)

	keyHot := false
	if keyID != "" {
		if k := track(t.keys, keyID, now); k != nil {
			if now.Before(k.until) {
				keyHot = true
			} else {
				t.share.changedKey(keyID)
				if k.count(now, t.cfg.Window) >= t.cfg.Limit {
					k.until = now.Add(t.cfg.Cooldown)
					t.log.Warn("authentication failures for one access key: addresses failing for it are throttled at once",
						"key_id", keyID, "failures", k.n, "remote", src.String(), "via", via, "cooldown", t.cfg.Cooldown)
				}
			}
		}
	}
	a := track(t.addrs, src, now)
	if a == nil || now.Before(a.until) {
		return
	}
	t.share.changedAddr(src)
	if a.count(now, t.cfg.Window) >= t.cfg.Limit || keyHot {
		a.until = now.Add(t.cfg.Cooldown)
		t.log.Warn("authentication throttled: too many failures from one address",
			"remote", src.String(), "key_id", keyID, "failures", a.n, "key_throttled", keyHot, "via", via,
			"cooldown", t.cfg.Cooldown)
	}
}

// count adds a failure at now to the window (a new one once the last window or cool-down is
// over) and returns the failures in it.
func (f *failures) count(now time.Time, window time.Duration) int {
	if !f.until.IsZero() || now.Sub(f.since) >= window {
		f.n, f.since, f.until = 0, now, time.Time{}
	}
	f.n++
	return f.n
}

// idle tells whether f holds nothing worth remembering at now.
func (f *failures) idle(now time.Time, window time.Duration) bool {
	return !now.Before(f.until) && now.Sub(f.since) >= window
}

// track returns m's record for k, added when missing unless m is full (then nil).
func track[K comparable](m map[K]*failures, k K, now time.Time) *failures {
	f := m[k]
	if f == nil {
		if len(m) >= maxTracked {
			return nil
		}
		f = &failures{since: now}
		m[k] = f
	}
	return f
}

// sweep forgets idle records once the maps are full, at most once a second.
func (t *Throttle) sweep(now time.Time) {
	if len(t.addrs) < maxTracked && len(t.keys) < maxTracked || now.Sub(t.lastSweep) < time.Second {
		return
	}
	t.lastSweep = now
	for k, f := range t.addrs {
		if f.idle(now, t.cfg.Window) {
			delete(t.addrs, k)
		}
	}
	for k, f := range t.keys {
		if f.idle(now, t.cfg.Window) {
			delete(t.keys, k)
		}
	}
}
