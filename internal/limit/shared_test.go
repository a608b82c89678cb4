package limit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeShared is an in-memory SharedStore with the store's semantics (storetest's contract),
// which can fail like a database that is down.
type fakeShared struct {
	mu   sync.Mutex
	down bool
	rows map[[3]string]SharedCount // by scope, subject, instance
	puts chan int                  // receives the size of every successful put, when set
}

var errDown = errors.New("database down")

func newFakeShared() *fakeShared { return &fakeShared{rows: map[[3]string]SharedCount{}} }

func (f *fakeShared) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func (f *fakeShared) PutFailures(_ context.Context, scope, instance string, counts []SharedCount) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	for _, c := range counts {
		f.rows[[3]string{scope, c.Subject, instance}] = c
	}
	if f.puts != nil {
		f.puts <- len(counts)
	}
	return nil
}

func (f *fakeShared) HotFailures(_ context.Context, scope string, now time.Time, atLeast, maxSubjects int,
) ([]SharedTotal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errDown
	}
	totals := map[string]*SharedTotal{}
	for k, c := range f.rows {
		if k[0] != scope || !expires(c).After(now) {
			continue
		}
		t := totals[c.Subject]
		if t == nil {
			t = &SharedTotal{Subject: c.Subject}
			totals[c.Subject] = t
		}
		if c.CooldownUntil.IsZero() {
			t.Failures += c.Failures
		} else if c.CooldownUntil.After(t.CooldownUntil) {
			t.CooldownUntil = c.CooldownUntil
		}
	}
	var hot []SharedTotal
	for _, t := range totals {
		if t.Failures >= atLeast || !t.CooldownUntil.IsZero() {
			hot = append(hot, *t)
		}
	}
	sort.Slice(hot, func(i, j int) bool { return hot[i].Subject < hot[j].Subject })
	return hot[:min(len(hot), maxSubjects)], nil
}

func (f *fakeShared) PruneFailures(_ context.Context, scope string, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	for k, c := range f.rows {
		if k[0] == scope && !expires(c).After(now) {
			delete(f.rows, k)
		}
	}
	return nil
}

func (f *fakeShared) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.rows)
}

func expires(c SharedCount) time.Time {
	if !c.CooldownUntil.IsZero() {
		return c.CooldownUntil
	}
	return c.WindowEnd
}

// node is one node's shared throttle.
type node struct {
	*Throttle
	logs *syncBuf
}

// newNodes returns throttles sharing store, one per node, on one clock.
func newNodes(store SharedStore, limit int, window, cooldown time.Duration, n int) ([]node, *clock) {
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	nodes := make([]node, n)
	for i := range nodes {
		logs := &syncBuf{}
		nodes[i] = node{NewThrottle(ThrottleConfig{Limit: limit, Window: window, Cooldown: cooldown, Now: c.now,
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			Shared: &SharedConfig{Store: store, Scope: "api"}}), logs}
	}
	return nodes, c
}

func syncAll(t *testing.T, nodes ...node) {
	t.Helper()
	for _, n := range nodes {
		n.sync(t.Context())
	}
}

func refused(th *Throttle, addr netip.Addr) bool {
	_, r := th.Check(addr)
	return r
}

// TestSharedFailuresAddUpAcrossNodes: failures spread over the nodes count once, and the
// cool-down they start holds on every node, one that never saw the address fail too.
func TestSharedFailuresAddUpAcrossNodes(t *testing.T) {
	nodes, c := newNodes(newFakeShared(), 3, time.Minute, 5*time.Minute, 3)
	a, b, other := nodes[0], nodes[1], nodes[2]
	a.Fail(addrA, "", "test")
	a.Fail(addrA, "", "test")
	b.Fail(addrA, "", "test")
	require.False(t, refused(a.Throttle, addrA), "each node alone is under the limit")
	require.False(t, refused(b.Throttle, addrA))

	// A sync writes, then reads: the nodes that synced before the last failure was written
	// learn of it at their next sync.
	syncAll(t, a, b, other)
	require.False(t, refused(a.Throttle, addrA))
	require.True(t, refused(b.Throttle, addrA))
	require.True(t, refused(other.Throttle, addrA), "a node that saw no failure")
	require.Contains(t, b.logs.String(), "too many failures from one address across the nodes")
	require.Contains(t, b.logs.String(), "remote=192.0.2.1")
	require.Contains(t, b.logs.String(), "failures=3")
	syncAll(t, a, b, other)
	syncAll(t, a, b, other)
	for i, n := range nodes {
		wait, r := n.Check(addrA)
		require.True(t, r, "node %d", i)
		require.Equal(t, 5*time.Minute, wait, "node %d", i)
		require.False(t, refused(n.Throttle, addrB), "another address is not refused")
		require.Equal(t, 1, strings.Count(n.logs.String(), "authentication throttled"), "node %d: one line per cool-down: %s",
			i, n.logs.String())
	}

	c.advance(5 * time.Minute)
	syncAll(t, a, b, other)
	for i, n := range nodes {
		require.False(t, refused(n.Throttle, addrA), "node %d: the cool-down is over", i)
	}
	// A fresh window: the failures before the cool-down count no more.
	b.Fail(addrA, "", "test")
	syncAll(t, a, b, other)
	for i, n := range nodes {
		require.False(t, refused(n.Throttle, addrA), "node %d", i)
	}
	a.Fail(addrA, "", "test")
	other.Fail(addrA, "", "test")
	syncAll(t, a, b, other)
	syncAll(t, a, b, other)
	for i, n := range nodes {
		require.True(t, refused(n.Throttle, addrA), "node %d: three failures in the new window", i)
	}
}

// TestSharedFreshWindowWhenCooldownIsShort: with a cool-down shorter than the window, the
// failures that started it do not start another once it is over.
func TestSharedFreshWindowWhenCooldownIsShort(t *testing.T) {
	nodes, c := newNodes(newFakeShared(), 2, time.Hour, time.Minute, 2)
	a, b := nodes[0], nodes[1]
	a.Fail(addrA, "", "test")
	b.Fail(addrA, "", "test")
	syncAll(t, a, b, a, b)
	require.True(t, refused(a.Throttle, addrA))
	require.True(t, refused(b.Throttle, addrA))

	c.advance(time.Minute)
	syncAll(t, a, b)
	require.False(t, refused(a.Throttle, addrA))
	require.False(t, refused(b.Throttle, addrA))
	a.Fail(addrA, "", "test")
	syncAll(t, a, b)
	require.False(t, refused(a.Throttle, addrA), "one failure in the new window")
	require.False(t, refused(b.Throttle, addrA))
	b.Fail(addrA, "", "test")
	syncAll(t, b, a)
	require.True(t, refused(a.Throttle, addrA), "two")
	require.True(t, refused(b.Throttle, addrA))
}

// TestSharedKeyCooldown: a key's cool-down started on one node makes another refuse, at its
// first failure for that key, an address that never failed there.
func TestSharedKeyCooldown(t *testing.T) {
	nodes, _ := newNodes(newFakeShared(), 3, time.Minute, 5*time.Minute, 2)
	a, b := nodes[0], nodes[1]
	for i := range 3 {
		a.Fail(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), "KEY1", "test")
	}
	require.Contains(t, a.logs.String(), "authentication failures for one access key")
	syncAll(t, a, b)
	require.Contains(t, b.logs.String(), "authentication failures for one access key on another node")
	require.Contains(t, b.logs.String(), "key_id=KEY1")
	require.False(t, refused(b.Throttle, addrB), "an address that did not fail is not refused")
	b.Fail(addrB, "KEY1", "test")
	require.True(t, refused(b.Throttle, addrB), "one failure for the throttled key")
	b.Fail(addrC, "KEY2", "test")
	require.False(t, refused(b.Throttle, addrC))
}

// TestSharedOutageKeepsLocalThrottling: while the store fails, each node throttles on its own
// counts, logs the failure once, and shares what it counted once the store answers again.
func TestSharedOutageKeepsLocalThrottling(t *testing.T) {
	store := newFakeShared()
	nodes, _ := newNodes(store, 3, time.Minute, 5*time.Minute, 2)
	a, b := nodes[0], nodes[1]
	store.setDown(true)
	for range 3 {
		a.Fail(addrA, "", "test")
		syncAll(t, a, b)
	}
	require.True(t, refused(a.Throttle, addrA), "local counts still throttle")
	require.False(t, refused(b.Throttle, addrA), "nothing is shared meanwhile")
	require.False(t, refused(a.Throttle, addrB), "an outage refuses no one else")
	require.Equal(t, 1, strings.Count(a.logs.String(), "level=WARN msg=\"sharing authentication failures"), a.logs.String())
	require.Equal(t, 1, strings.Count(b.logs.String(), "level=WARN msg=\"sharing authentication failures"), b.logs.String())
	require.Contains(t, a.logs.String(), "database down")

	store.setDown(false)
	syncAll(t, a, b)
	require.True(t, refused(b.Throttle, addrA), "the cool-down counted during the outage reaches the other node")
	require.Contains(t, b.logs.String(), "too many failures from one address on another node")
	require.Contains(t, a.logs.String(), "sharing authentication failures with the other nodes again")
	require.Contains(t, b.logs.String(), "sharing authentication failures with the other nodes again")
}

// TestSharedPrune: counts over are deleted from the store.
func TestSharedPrune(t *testing.T) {
	store := newFakeShared()
	nodes, c := newNodes(store, 3, time.Minute, 5*time.Minute, 1)
	nodes[0].Fail(addrA, "KEY1", "test")
	syncAll(t, nodes...)
	require.Equal(t, 2, store.len(), "the address and the key")
	c.advance(pruneEvery)
	syncAll(t, nodes...)
	require.Zero(t, store.len())
}

// TestSharedWritesAreBatched: a flood's changes are written maxPut at a time.
func TestSharedWritesAreBatched(t *testing.T) {
	store := newFakeShared()
	store.puts = make(chan int, 10)
	nodes, _ := newNodes(store, 3, time.Minute, 5*time.Minute, 1)
	for i := range maxPut + 10 {
		nodes[0].Fail(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), "", "test")
	}
	syncAll(t, nodes...)
	require.Equal(t, maxPut, <-store.puts)
	syncAll(t, nodes...)
	require.Equal(t, 10, <-store.puts)
	syncAll(t, nodes...)
	require.Empty(t, store.puts, "nothing changed: nothing written")
}

// TestSharedRun: Run writes a failure soon after it and returns when its context ends.
func TestSharedRun(t *testing.T) {
	store := newFakeShared()
	store.puts = make(chan int, 10)
	nodes, _ := newNodes(store, 3, time.Minute, 5*time.Minute, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- nodes[0].Run(ctx) }()
	nodes[0].Fail(addrA, "", "test")
	select {
	case n := <-store.puts:
		require.Equal(t, 1, n)
	case <-time.After(10 * time.Second):
		t.Fatal("the failure was not written")
	}
	cancel()
	require.NoError(t, <-done)

	// Not shared: Run only waits.
	th, _, _ := newTestThrottle(3)
	ctx, cancel = context.WithCancel(t.Context())
	go func() { done <- th.Run(ctx) }()
	cancel()
	require.NoError(t, <-done)
	require.Nil(t, th.share)
}

func TestParseSubject(t *testing.T) {
	for subject, want := range map[string]string{
		"addr:192.0.2.1":   "192.0.2.1/",
		"addr:2001:db8::":  "2001:db8::/",
		"addr:2001:db8::1": "2001:db8::/", // as SourceOf makes it
		"key:K:1":          "invalid IP/K:1",
		"key:":             "bad",
		"addr:nope":        "bad",
		"other:x":          "bad",
	} {
		addr, key, ok := parseSubject(subject)
		got := "bad"
		if ok {
			got = fmt.Sprintf("%s/%s", addr, key)
		}
		require.Equal(t, want, got, subject)
	}
}
