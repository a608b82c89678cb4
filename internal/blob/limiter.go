package blob

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// NewBandwidthLimiter returns the upload budget of bytesPerSec for S3Config.Limiter, or nil
// (unlimited) when bytesPerSec is 0 or less. Give the one limiter to every endpoint that
// shares the budget. The bucket starts empty and holds 1/20 s of traffic (at least 32 KiB),
// so a transfer cannot start with a large burst.
func NewBandwidthLimiter(bytesPerSec int64) *rate.Limiter {
	if bytesPerSec <= 0 {
		return nil
	}
	burst := int(max(bytesPerSec/20, 32<<10))
	l := rate.NewLimiter(rate.Limit(bytesPerSec), burst)
	l.AllowN(time.Now(), burst) // start empty
	return l
}

// waitBytes blocks until n bytes may pass lim (nil: at once), or ctx ends. x/time/rate refuses
// a wait for more than its burst, so larger ones wait in burst-sized steps.
func waitBytes(ctx context.Context, lim *rate.Limiter, n int) error {
	if lim == nil {
		return ctx.Err()
	}
	for n > 0 {
		step := min(n, lim.Burst())
		if err := lim.WaitN(ctx, step); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// rate refuses at once a wait that would end after ctx's deadline.
			return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
		n -= step
	}
	return nil
}

// maxLimitedRead bounds one Read through the limiter so traffic stays smooth.
const maxLimitedRead = 64 << 10

// limitedReader reads a section of a file through the limiter. It seeks (minio-go rewinds a
// request body to retry it) and every byte it hands out, retries included, is paid for and
// counted in sent.
type limitedReader struct {
	ctx  context.Context
	r    io.ReadSeeker
	l    *rate.Limiter // nil: unlimited
	sent *atomic.Int64
}

func (r *limitedReader) Read(p []byte) (int, error) {
	if len(p) > maxLimitedRead {
		p = p[:maxLimitedRead]
	}
	n, err := r.r.Read(p)
	if n > 0 {
		if werr := waitBytes(r.ctx, r.l, n); werr != nil {
			return 0, werr
		}
		r.sent.Add(int64(n))
	}
	return n, err
}

func (r *limitedReader) Seek(offset int64, whence int) (int64, error) {
	return r.r.Seek(offset, whence)
}
