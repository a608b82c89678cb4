package notify

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

func TestRunNeedsDependencies(t *testing.T) {
	require.ErrorContains(t, (&Notifier{}).Run(context.Background()), "no outbox")
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"120": 2 * time.Minute,
		" 0 ": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		got, ok := parseRetryAfter(v, now)
		require.True(t, ok, v)
		require.Equal(t, want, got, v)
	}
	for _, v := range []string{"", "-1", "soon", "1.5"} {
		_, ok := parseRetryAfter(v, now)
		require.False(t, ok, v)
	}
}

func TestBackoff(t *testing.T) {
	n := &Notifier{}
	n.init()
	b := n.Backoff
	require.Equal(t, Backoff{Min: time.Second, Max: time.Hour, Factor: 2, Jitter: 0.2, MaxAge: 24 * time.Hour}, b)
	require.Equal(t, time.Second, b.delay(1, 0.5))
	require.Equal(t, 8*time.Second, b.delay(4, 0.5))
	require.Equal(t, time.Hour, b.delay(40, 0.5))
	require.Equal(t, time.Hour, b.delay(40, 0.99), "jitter stays within Max")
	require.Equal(t, 800*time.Millisecond, b.delay(1, 0))
	require.InDelta(t, float64(1200*time.Millisecond), float64(b.delay(1, 0.99999)), float64(time.Millisecond))

	// Retry-After wins when later than the backoff, capped at Max; never earlier.
	now := time.Now()
	d := &recording.Delivery{Attempts: 0, Event: &recording.OutboxEvent{CreatedAt: now}}
	n.Backoff.Jitter = -1
	next, ok := n.retryAt(d, now, "7200")
	require.True(t, ok)
	require.Equal(t, now.Add(time.Hour), next)
	next, _ = n.retryAt(d, now, "0")
	require.Equal(t, now.Add(time.Second), next)
}

func histogramCount(t *testing.T, reg *prometheus.Registry, name string) uint64 {
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
