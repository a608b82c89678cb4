package notify

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

func TestRunNeedsDependencies(t *testing.T) {
	_, err := New(Config{})
	require.ErrorContains(t, err, "no outbox")
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"120": 2 * time.Minute,
		" 0 ": 0, //nolint:gocritic // the spaces are the case: Retry-After is trimmed
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
	s := newFakeStore()
	n := mustNew(t, Config{Outbox: s, Callbacks: s, Encode: testEncode})
	b := n.Backoff
	require.Equal(t, Backoff{Min: time.Second, Max: time.Hour, Factor: 2, Jitter: 0.2, MaxAge: 24 * time.Hour}, b)
	delay := func(attempt int, r float64) time.Duration {
		return b.policy(func() float64 { return r }).Delay(attempt)
	}
	require.Equal(t, time.Second, delay(1, 0.5))
	require.Equal(t, 8*time.Second, delay(4, 0.5))
	require.Equal(t, time.Hour, delay(40, 0.5))
	require.Equal(t, time.Hour, delay(40, 0.99), "jitter stays within Max")
	require.Equal(t, 800*time.Millisecond, delay(1, 0))
	require.InDelta(t, float64(1200*time.Millisecond), float64(delay(1, 0.99999)), float64(time.Millisecond))

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
