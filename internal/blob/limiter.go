package blob

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Limiter is a token bucket in bytes per second shared by every upload that holds it, so the
// whole process stays under one bandwidth budget however many uploads run at once. A rate
// of 0 means unlimited; the limiter still counts the bytes that pass.
type Limiter struct {
	rate  float64 // bytes per second, 0 = unlimited
	burst float64

	mu     sync.Mutex
	tokens float64 // may go negative: a debt later callers wait off
	last   time.Time

	passed atomic.Int64
}

// NewLimiter returns a limiter of bytesPerSec (0 or less: unlimited). The bucket starts empty
// and holds at most 1/20 s of traffic, so a transfer cannot start with a large burst.
func NewLimiter(bytesPerSec int64) *Limiter {
	l := &Limiter{last: time.Now()}
	if bytesPerSec > 0 {
		l.rate = float64(bytesPerSec)
		l.burst = max(l.rate/20, 32<<10)
	}
	return l
}

var (
	sharedMu       sync.Mutex
	sharedLimiters = map[int64]*Limiter{}
)

// SharedLimiter returns the process's limiter of bytesPerSec, made on first use: every
// caller asking for the same rate shares one budget.
func SharedLimiter(bytesPerSec int64) *Limiter {
	bytesPerSec = max(bytesPerSec, 0)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	l := sharedLimiters[bytesPerSec]
	if l == nil {
		l = NewLimiter(bytesPerSec)
		sharedLimiters[bytesPerSec] = l
	}
	return l
}

// Bytes returns how many bytes have passed the limiter so far.
func (l *Limiter) Bytes() int64 { return l.passed.Load() }

// WaitN blocks until n bytes may pass, or ctx ends (its error is returned and the bytes do
// not count).
func (l *Limiter) WaitN(ctx context.Context, n int) error {
	if n <= 0 {
		return nil
	}
	if l.rate <= 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		l.passed.Add(int64(n))
		return nil
	}
	l.mu.Lock()
	now := time.Now()
	l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	l.tokens -= float64(n)
	var wait time.Duration
	if l.tokens < 0 {
		wait = time.Duration(-l.tokens / l.rate * float64(time.Second))
	}
	l.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			l.mu.Lock()
			l.tokens += float64(n) // give back what this caller will not send
			l.mu.Unlock()
			return ctx.Err()
		}
	} else if err := ctx.Err(); err != nil {
		return err
	}
	l.passed.Add(int64(n))
	return nil
}

// maxLimitedRead bounds one Read through the limiter so traffic stays smooth.
const maxLimitedRead = 64 << 10

// limitedReader reads a section of a file through the limiter. It seeks (minio-go rewinds a
// request body to retry it) and every byte it hands out, retries included, is paid for.
type limitedReader struct {
	ctx context.Context
	r   io.ReadSeeker
	l   *Limiter
}

func (r *limitedReader) Read(p []byte) (int, error) {
	if len(p) > maxLimitedRead {
		p = p[:maxLimitedRead]
	}
	n, err := r.r.Read(p)
	if n > 0 {
		if werr := r.l.WaitN(r.ctx, n); werr != nil {
			return 0, werr
		}
	}
	return n, err
}

func (r *limitedReader) Seek(offset int64, whence int) (int64, error) {
	return r.r.Seek(offset, whence)
}
