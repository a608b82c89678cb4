// Package backoff spaces the retries of whatever liverec retries: callback deliveries, uploads,
// kept state changes and failed accepts. A Policy gives the delay of the n-th retry; waits run
// on an injectable Clock and jitter comes from an injectable random source, so tests neither
// sleep nor depend on chance.
package backoff

import (
	"context"
	"math"
	"math/rand/v2"
	"time"
)

// Policy is an exponential backoff: the n-th retry waits Min·Factor^(n-1), at most Max, varied
// by ±Jitter (a fraction of the delay) and never more than Max.
type Policy struct {
	Min time.Duration
	// Max caps every delay, jitter included; raised to Min when below it.
	Max time.Duration
	// Factor multiplies the delay from one retry to the next; default 2 when under 1.
	Factor float64
	// Jitter is the fraction the delay varies by either way (0.2: ±20 %); 0 or less for none.
	Jitter float64
	// Rand returns a number in [0,1) to draw jitter from; default math/rand/v2.Float64.
	Rand func() float64
	// Clock runs Wait; default the real clock.
	Clock Clock
}

// Delay returns the wait before the n-th retry (n from 1; less counts as 1).
func (p Policy) Delay(n int) time.Duration {
	f := p.Factor
	if f < 1 {
		f = 2
	}
	hi := float64(max(p.Max, p.Min))
	d := min(float64(p.Min)*math.Pow(f, float64(max(n-1, 0))), hi)
	if p.Jitter > 0 {
		r := p.Rand
		if r == nil {
			r = rand.Float64
		}
		d *= 1 + p.Jitter*(2*r()-1)
	}
	return time.Duration(min(max(d, 0), hi))
}

// After returns a channel that receives once the delay of the n-th retry has passed on the
// policy's clock, for loops that wait on more than the retry.
func (p Policy) After(n int) <-chan time.Time {
	c := p.Clock
	if c == nil {
		c = RealClock{}
	}
	return c.After(p.Delay(n))
}

// Wait waits the delay of the n-th retry on the policy's clock, or until ctx ends (its error
// is returned).
func (p Policy) Wait(ctx context.Context, n int) error {
	select {
	case <-p.After(n):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Clock is the time a retry loop reads and waits on.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// RealClock is the system clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
