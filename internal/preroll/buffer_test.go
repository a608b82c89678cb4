package preroll

import (
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	lrtest "github.com/liverec/liverec/internal/testutil"
)

// clock is a settable clock shared by the buffer and the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// refUnits is 20 s of the reference stream with 1 s GOPs.
func refUnits(t testing.TB) []media.Unit {
	src := lrtest.RefStream(t, t.TempDir(), lrtest.RefOptions{Seconds: 20, GOP: 30})
	_, units := lrtest.LoadFLV(t, src)
	require.NotEmpty(t, units)
	return units
}

// feed writes units one at a time with the clock at each unit's DTS past t0 (real time).
func feed(b *Buffer, c *clock, t0 time.Time, units []media.Unit) {
	for i := range units {
		c.set(t0.Add(units[i].DTS))
		b.Write(units[i : i+1])
	}
}

func TestBufferKeepsWholeGOPsCoveringKeep(t *testing.T) {
	units := refUnits(t)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	c := &clock{}
	b := New(Config{Keep: 5 * time.Second, Now: c.now, Metrics: m, Dir: t.TempDir()})
	feed(b, c, time.Unix(1000, 0), units)

	span := b.Span()
	require.GreaterOrEqual(t, span, 5*time.Second, "covers Keep")
	require.Less(t, span, 6*time.Second+100*time.Millisecond, "drops GOPs beyond Keep+1 GOP")
	b.mu.Lock()
	require.True(t, b.gops[0].units[0].Keyframe && b.gops[0].units[0].Track.IsVideo(), "starts at a keyframe")
	b.mu.Unlock()
	require.Equal(t, float64(b.Bytes()), testutil.ToFloat64(m.bytes))
	b.End()
	require.Zero(t, b.Bytes())
	require.Zero(t, testutil.ToFloat64(m.bytes), "End releases the memory")
}

func TestBufferOffHoldsNothing(t *testing.T) {
	units := refUnits(t)
	c := &clock{}
	b := New(Config{Now: c.now, Dir: t.TempDir()})
	feed(b, c, time.Unix(1000, 0), units[:300])
	require.Zero(t, b.Bytes())
	_, err := b.Event(Event{ID: "e", Pre: time.Second, Post: time.Second}, func(Result) {})
	require.ErrorAs(t, err, new(*LimitError))
}

func TestEventCutsFromPreRollToPost(t *testing.T) {
	units := refUnits(t)
	c := &clock{}
	t0 := time.Unix(1000, 0)
	b := New(Config{Keep: 6 * time.Second, Now: c.now, Dir: t.TempDir(), Poll: 10 * time.Millisecond})
	defer b.End()
	half := len(units) / 2 // ~10 s
	feed(b, c, t0, units[:half])
	call := c.now()
	results := make(chan Result, 2)
	st, err := b.Event(Event{ID: "e1", Label: "l", Pre: 4 * time.Second, Post: 3 * time.Second, Merge: true},
		func(r Result) { results <- r })
	require.NoError(t, err)
	require.False(t, st.Merged)
	require.False(t, st.From.After(call.Add(-4*time.Second)), "starts at or before call-pre")
	st2, err := b.Event(Event{ID: "e2", Post: 4 * time.Second, Merge: true}, func(r Result) { results <- r })
	require.NoError(t, err)
	require.True(t, st2.Merged)
	require.Equal(t, "e1", st2.ID)
	feed(b, c, t0, units[half:])

	r := <-results
	require.NoError(t, r.Err)
	require.Equal(t, "e1", r.ID)
	require.Equal(t, "l", r.Label)
	require.False(t, r.FirstAt.After(call.Add(-4*time.Second)))
	require.Greater(t, r.FirstAt, call.Add(-5*time.Second-10*time.Millisecond), "within one GOP")
	require.GreaterOrEqual(t, r.Duration, 8*time.Second, "4 s pre + 4 s merged post")
	require.Less(t, r.Duration, 10*time.Second+100*time.Millisecond)
	p := lrtest.Probe(t, r.Path)
	require.NotNil(t, p.Video())
	require.NotNil(t, p.Audio())
	require.True(t, lrtest.KeyframeFirst(t, r.Path))
}

// BenchmarkPreRollBytes reports the memory the buffer holds for 10 s of the reference stream
// (720p30, 2 Mbit/s, 1 s GOPs).
func BenchmarkPreRollBytes(b *testing.B) {
	units := refUnits(b)
	var bytes int64
	for b.Loop() {
		c := &clock{}
		buf := New(Config{Keep: 10 * time.Second, Now: c.now})
		feed(buf, c, time.Unix(1000, 0), units)
		bytes = buf.Bytes()
		buf.End()
	}
	b.ReportMetric(float64(bytes), "bytes/stream")
}
