package backoff

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDelay(t *testing.T) {
	const s, ms = time.Second, time.Millisecond
	fixed := func(r float64) func() float64 { return func() float64 { return r } }
	for _, tc := range []struct {
		name string
		p    Policy
		n    int
		want time.Duration
	}{
		{"first retry waits Min", Policy{Min: s, Max: time.Hour}, 1, s},
		{"n below 1 counts as the first", Policy{Min: s, Max: time.Hour}, 0, s},
		{"doubles by default", Policy{Min: s, Max: time.Hour}, 4, 8 * s},
		{"factor", Policy{Min: s, Max: time.Hour, Factor: 3}, 3, 9 * s},
		{"factor 1 is constant", Policy{Min: 4 * s, Max: time.Minute, Factor: 1}, 9, 4 * s},
		{"capped at Max", Policy{Min: s, Max: time.Minute}, 7, time.Minute},
		{"huge n stays at Max", Policy{Min: s, Max: time.Hour}, 1 << 20, time.Hour},
		{"Max below Min is Min", Policy{Min: 2 * s, Max: s}, 3, 2 * s},
		{"accept retry", Policy{Min: 5 * ms, Max: s}, 1, 5 * ms},
		{"accept retry cap", Policy{Min: 5 * ms, Max: s}, 9, s},
		{"jitter middle", Policy{Min: s, Max: time.Hour, Jitter: 0.2, Rand: fixed(0.5)}, 1, s},
		{"jitter low", Policy{Min: s, Max: time.Hour, Jitter: 0.2, Rand: fixed(0)}, 1, 800 * ms},
		{"jitter high", Policy{Min: s, Max: time.Hour, Jitter: 0.2, Rand: fixed(0.75)}, 1, 1100 * ms},
		{"jitter stays within Max", Policy{Min: s, Max: time.Hour, Jitter: 0.2, Rand: fixed(0.99)}, 40, time.Hour},
		{"negative jitter is none", Policy{Min: s, Max: time.Hour, Jitter: -1, Rand: fixed(0)}, 2, 2 * s},
	} {
		require.Equal(t, tc.want, tc.p.Delay(tc.n), tc.name)
	}
}

// fakeClock fires After channels when advanced.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	asked   chan time.Duration
}

type waiter struct {
	at time.Time
	c  chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	c.asked <- d
	return ch
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.c <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

func TestWaitRunsOnTheClock(t *testing.T) {
	clk := &fakeClock{now: time.Unix(0, 0), asked: make(chan time.Duration, 1)}
	p := Policy{Min: time.Second, Max: time.Minute, Clock: clk}
	done := make(chan error, 1)
	go func() { done <- p.Wait(context.Background(), 3) }()
	require.Equal(t, 4*time.Second, <-clk.asked)
	clk.advance(3 * time.Second)
	select {
	case <-done:
		t.Fatal("returned before its delay")
	default:
	}
	clk.advance(time.Second)
	require.NoError(t, <-done)

	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- p.Wait(ctx, 1) }()
	<-clk.asked
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}

func TestRealClock(t *testing.T) {
	require.WithinDuration(t, time.Now(), RealClock{}.Now(), time.Second)
	<-RealClock{}.After(0)
}
