package blob

import (
	"bytes"
	"context"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLimiterRate: 10 MiB through a 20 MiB/s limiter takes about 0.5 s (at least 0.4 s),
// whether one caller or four share it.
func TestLimiterRate(t *testing.T) {
	for _, callers := range []int{1, 4} {
		l := NewBandwidthLimiter(20 << 20)
		start := time.Now()
		var wg sync.WaitGroup
		var sent atomic.Int64
		for range callers {
			wg.Go(func() {
				for range (10 << 20) / callers / (64 << 10) {
					require.NoError(t, waitBytes(context.Background(), l, 64<<10))
					sent.Add(64 << 10)
				}
			})
		}
		wg.Wait()
		el := time.Since(start)
		require.GreaterOrEqual(t, el, 400*time.Millisecond, "%d callers", callers)
		require.Less(t, el, 5*time.Second, "%d callers", callers)
		require.EqualValues(t, 10<<20, sent.Load())
	}
}

// TestLimiterWaitsBeyondItsBurst: a wait for more than the bucket holds is made in steps
// rather than refused (a 64 KiB read through a 32 KiB bucket).
func TestLimiterWaitsBeyondItsBurst(t *testing.T) {
	l := NewBandwidthLimiter(1 << 20)
	require.Equal(t, 52428, l.Burst(), "1/20 s of traffic")
	l = NewBandwidthLimiter(64 << 10)
	require.Equal(t, 32<<10, l.Burst(), "at least 32 KiB")
	start := time.Now()
	require.NoError(t, waitBytes(context.Background(), l, 64<<10))
	require.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "the bucket starts empty")
	require.Nil(t, NewBandwidthLimiter(0), "0: unlimited")
}

// TestLimiterWaitEndsWithItsContext: a wait stops at once when its context ends, and the
// bytes it did not send do not count.
func TestLimiterWaitEndsWithItsContext(t *testing.T) {
	l := NewBandwidthLimiter(1 << 20)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := waitBytes(ctx, l, 10<<20) // 10 s worth
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 2*time.Second)

	var sent atomic.Int64
	r := &limitedReader{ctx: ctx, r: bytes.NewReader(make([]byte, 10<<20)), l: l, sent: &sent}
	_, err = io.ReadAll(r)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 2*time.Second)
	require.Zero(t, sent.Load())
}

// TestLimitedReaderCountsRetries: the reader seeks back (minio-go retries) and every byte
// handed out passes the limiter; an unlimited (nil) limiter only counts.
func TestLimitedReaderCountsRetries(t *testing.T) {
	var sent atomic.Int64
	data := bytes.Repeat([]byte("x"), 200_000)
	r := &limitedReader{ctx: context.Background(), r: bytes.NewReader(data), sent: &sent}
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, data, got)
	_, err = r.Seek(0, io.SeekStart)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, r)
	require.NoError(t, err)
	require.EqualValues(t, 2*len(data), sent.Load())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = &limitedReader{ctx: ctx, r: bytes.NewReader(data), l: NewBandwidthLimiter(1 << 20), sent: &sent}
	_, err = io.ReadAll(r)
	require.ErrorIs(t, err, context.Canceled)
}

func TestSuffixed(t *testing.T) {
	for key, want := range map[string]string{
		"a.flv": "a_3.flv", "x/a.b/c": "x/a.b/c_3", "x/.env": "x/.env_3", "x/a.tar.gz": "x/a.tar_3.gz", "n": "n_3",
	} {
		require.Equal(t, want, suffixed(key, 3))
		require.Equal(t, key, suffixed(key, 0))
	}
	require.EqualValues(t, 16<<20, partSizeFor(100<<30, 16<<20), "under 10000 parts: unchanged")
	ps := partSizeFor(1<<40, 16<<20)
	require.LessOrEqual(t, (int64(1<<40)+ps-1)/ps, int64(maxParts))
	require.Zero(t, ps%(1<<20))
}
