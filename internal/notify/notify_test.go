package notify

import (
	"context"
	ltu "github.com/liverec/liverec/internal/testutil"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// hit is a request as a test receiver saw it.
type hit struct{ ID, Stream, TS, Sig string }

type hits struct {
	mu   sync.Mutex
	list []hit
}

func (h *hits) note(r *http.Request) hit {
	_, _ = io.Copy(io.Discard, r.Body)
	x := hit{ID: r.Header.Get("X-Liverec-Event-Id"), Stream: r.Header.Get("X-Test-Stream"),
		TS: r.Header.Get("X-Test-Timestamp"), Sig: r.Header.Get("X-Test-Signature")}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.list = append(h.list, x)
	return x
}

func (h *hits) all() []hit {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hit(nil), h.list...)
}

func (h *hits) ids(stream string) []string {
	var out []string
	for _, x := range h.all() {
		if stream == "" || x.Stream == stream {
			out = append(out, x.ID)
		}
	}
	return out
}

func receiver(t *testing.T, fn http.HandlerFunc) *httptest.Server {
	srv := httptest.NewServer(fn)
	t.Cleanup(srv.Close)
	return srv
}

// testNotifier is a Notifier of s with quick timings, changed by mods.
func testNotifier(t *testing.T, s *fakeStore, mods ...func(*Config)) *Notifier {
	cfg := Config{Outbox: s, Callbacks: s, Encode: testEncode, Timeout: 2 * time.Second,
		Backoff: Backoff{Min: 5 * time.Millisecond, Max: 50 * time.Millisecond, Jitter: -1, MaxAge: time.Hour},
		Poll:    5 * time.Millisecond,
		Logger:  slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, mod := range mods {
		mod(&cfg)
	}
	return mustNew(t, cfg)
}

func mustNew(t testing.TB, cfg Config) *Notifier {
	t.Helper()
	n, err := New(cfg)
	require.NoError(t, err)
	return n
}

// start runs n until the test ends.
func start(t *testing.T, n *Notifier) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 2*time.Millisecond)
}

func settled(s *fakeStore, ds ...*recording.Delivery) func() bool {
	return func() bool {
		for _, d := range ds {
			if s.delivery(d.ID).State == recording.DeliveryPending {
				return false
			}
		}
		return true
	}
}

// A receiver that answers 500, then times out, then is down, then answers 200 gets every
// event, in order, with the same event id on every attempt and a fresh signature.
func TestRetriesUntilDeliveredInOrder(t *testing.T) {
	s := newFakeStore()
	var h hits
	var calls atomic.Int32
	var up atomic.Bool
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.note(r)
		switch {
		case calls.Add(1) == 1:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, "boom")
		case calls.Load() == 2:
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		case !up.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	srv := httptest.NewServer(handler)
	addr := srv.Listener.Addr().String()
	s.addCallback("cb1", srv.URL, true)
	now := time.Now()
	d1 := s.add("cb1", "s1", recording.EventRecordStarted, now)
	d2 := s.add("cb1", "s1", recording.EventFileCompleted, now)
	d3 := s.add("cb1", "s1", recording.EventRecordOver, now)

	n := testNotifier(t, s, func(c *Config) {
		c.Timeout = 100 * time.Millisecond
		c.Backoff.Min, c.Backoff.Max = 30*time.Millisecond, 200*time.Millisecond
	})
	start(t, n)

	waitFor(t, func() bool { return len(s.attemptsOf(d1.ID)) >= 2 })
	srv.Close()
	refused := func() (k int) {
		for _, a := range s.attemptsOf(d1.ID) {
			if strings.Contains(a.Error, "dial tcp") { // refused, or reset while closing
				k++
			}
		}
		return k
	}
	waitFor(t, func() bool { return refused() >= 2 })
	require.Equal(t, recording.DeliveryPending, s.delivery(d2.ID).State)
	require.Zero(t, s.delivery(d2.ID).Attempts, "no event before the previous one is delivered")

	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	srv2 := httptest.NewUnstartedServer(handler)
	require.NoError(t, srv2.Listener.Close())
	srv2.Listener = ln
	up.Store(true)
	srv2.Start()
	t.Cleanup(srv2.Close)
	waitFor(t, settled(s, d1, d2, d3))

	for _, d := range []*recording.Delivery{d1, d2, d3} {
		require.Equal(t, recording.DeliveryDelivered, s.delivery(d.ID).State)
	}
	as := s.attemptsOf(d1.ID)
	require.Equal(t, 500, as[0].Status)
	require.Equal(t, "boom", as[0].ReplyHead)
	require.Equal(t, 0, as[1].Status)
	require.Equal(t, "timeout after 100ms", as[1].Error)
	require.GreaterOrEqual(t, refused(), 2)
	require.Equal(t, 200, as[len(as)-1].Status)
	require.Positive(t, as[0].Latency)

	ids := h.ids("")
	require.Equal(t, []string{d1.EventID, d2.EventID, d3.EventID}, ids[len(ids)-3:])
	stamps := map[string]bool{}
	for _, id := range ids[:len(ids)-2] {
		require.Equal(t, d1.EventID, id, "same X-Liverec-Event-Id on every attempt")
	}
	for _, x := range h.all() {
		if x.ID == d1.EventID {
			stamps[x.TS+x.Sig] = true
		}
	}
	require.Len(t, stamps, len(ids)-2, "a fresh signature per attempt")
}

// Any 4xx but those retried gives the event up after one attempt; the stream moves on.
func TestClientErrorGivesUp(t *testing.T) {
	s := newFakeStore()
	var h hits
	var first atomic.Bool
	srv := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		h.note(r)
		if first.CompareAndSwap(false, true) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, strings.Repeat("x", 1000))
		}
	})
	s.addCallback("cb1", srv.URL, true)
	d1 := s.add("cb1", "s1", recording.EventFileCompleted, time.Now())
	d2 := s.add("cb1", "s1", recording.EventRecordOver, time.Now())
	start(t, testNotifier(t, s))
	waitFor(t, settled(s, d1, d2))

	got := s.delivery(d1.ID)
	require.Equal(t, recording.DeliveryFailed, got.State)
	require.Equal(t, 1, got.Attempts)
	require.Equal(t, "HTTP 400 Bad Request", got.LastError)
	require.Len(t, s.attemptsOf(d1.ID)[0].ReplyHead, replyHead)
	require.Equal(t, recording.DeliveryDelivered, s.delivery(d2.ID).State)
	require.Equal(t, []string{d1.EventID, d2.EventID}, h.ids(""))
}

// 410 gives the event up and disables the configuration; its later events fail unsent.
// Neither the key nor a signature is logged.
func TestGoneDisablesConfiguration(t *testing.T) {
	s := newFakeStore()
	var h hits
	srv := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		h.note(r)
		w.WriteHeader(http.StatusGone)
	})
	s.addCallback("cb1", srv.URL, true)
	d1 := s.add("cb1", "s1", recording.EventFileCompleted, time.Now())
	d2 := s.add("cb1", "s1", recording.EventRecordOver, time.Now())
	var logs ltu.SyncBuffer
	n := testNotifier(t, s, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	start(t, n)
	waitFor(t, settled(s, d1, d2))

	require.Equal(t, recording.DeliveryFailed, s.delivery(d1.ID).State)
	require.Equal(t, 1, s.delivery(d1.ID).Attempts)
	cb := s.callback("cb1")
	require.False(t, cb.Enabled)
	require.Equal(t, ReasonGone, cb.DisabledReason)
	got := s.delivery(d2.ID)
	require.Equal(t, recording.DeliveryFailed, got.State)
	require.Equal(t, ReasonDisabled, got.LastError)
	require.Len(t, h.all(), 1)

	_, key, err := s.Callback(context.Background(), "cb1")
	require.NoError(t, err)
	require.NotContains(t, logs.String(), key)
	require.NotContains(t, logs.String(), h.all()[0].Sig)
	require.Contains(t, logs.String(), d1.ID)
}

// Retry-After (seconds) postpones the next attempt beyond the backoff.
func TestRetryAfterHonoured(t *testing.T) {
	s := newFakeStore()
	var h hits
	var first atomic.Bool
	srv := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		h.note(r)
		if first.CompareAndSwap(false, true) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	s.addCallback("cb1", srv.URL, true)
	clk := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	t0 := clk.Now()
	d := s.add("cb1", "s1", recording.EventFileCompleted, t0)
	n := testNotifier(t, s, func(c *Config) {
		c.Now = clk.Now
		c.Backoff = Backoff{Min: time.Second, Max: time.Hour, Jitter: -1, MaxAge: 24 * time.Hour}
	})
	start(t, n)

	waitFor(t, func() bool { return s.delivery(d.ID).Attempts == 1 })
	got := s.delivery(d.ID)
	require.Equal(t, recording.DeliveryPending, got.State)
	require.Equal(t, t0.Add(120*time.Second), got.NextAt)
	require.Equal(t, "HTTP 429 Too Many Requests", got.LastError)

	clk.Advance(119 * time.Second)
	n.Notify()
	time.Sleep(50 * time.Millisecond)
	require.Len(t, h.all(), 1, "not attempted before Retry-After")

	clk.Advance(time.Second)
	n.Notify()
	waitFor(t, settled(s, d))
	require.Equal(t, recording.DeliveryDelivered, s.delivery(d.ID).State)
	as := s.attemptsOf(d.ID)
	require.Equal(t, t0.Add(120*time.Second), as[1].At)
}

// A delivery whose next attempt would fall after MaxAge of its event is given up.
func TestMaxAgeGivesUp(t *testing.T) {
	s := newFakeStore()
	srv := receiver(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	s.addCallback("cb1", srv.URL, true)
	clk := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	d := s.add("cb1", "s1", recording.EventFileCompleted, clk.Now())
	n := testNotifier(t, s, func(c *Config) {
		c.Now = clk.Now
		c.Backoff = Backoff{Min: 4 * time.Second, Factor: 1, Max: time.Minute, Jitter: -1, MaxAge: 10 * time.Second}
	})
	start(t, n)

	for i := 1; i <= 2; i++ {
		waitFor(t, func() bool { return s.delivery(d.ID).Attempts == i })
		require.Equal(t, recording.DeliveryPending, s.delivery(d.ID).State)
		clk.Advance(4 * time.Second)
		n.Notify()
	}
	waitFor(t, settled(s, d))
	got := s.delivery(d.ID)
	require.Equal(t, recording.DeliveryFailed, got.State)
	require.Equal(t, 3, got.Attempts)
	require.Equal(t, "retries exhausted after 10s: HTTP 503 Service Unavailable", got.LastError)
}

// One stream waiting on retries does not hold back another stream to the same endpoint.
func TestStreamsIndependent(t *testing.T) {
	s := newFakeStore()
	var h hits
	var release atomic.Bool
	srv := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		if x := h.note(r); x.Stream == "a" && !release.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	s.addCallback("cb1", srv.URL, true)
	now := time.Now()
	var as, bs []*recording.Delivery
	for range 3 {
		as = append(as, s.add("cb1", "a", recording.EventFileCompleted, now))
		bs = append(bs, s.add("cb1", "b", recording.EventFileCompleted, now))
	}
	start(t, testNotifier(t, s))
	waitFor(t, settled(s, bs...))
	require.Equal(t, recording.DeliveryPending, s.delivery(as[0].ID).State)
	require.Zero(t, s.delivery(as[1].ID).Attempts)

	release.Store(true)
	waitFor(t, settled(s, as...))
	var want []string
	for _, d := range as {
		require.Equal(t, recording.DeliveryDelivered, s.delivery(d.ID).State)
		want = append(want, d.EventID)
	}
	ids := h.ids("a")
	require.Equal(t, want, ids[len(ids)-3:])
	for _, id := range ids[:len(ids)-3] {
		require.Equal(t, as[0].EventID, id)
	}
}

// Events a configuration does not take, disabled and deleted configurations, and redirects.
func TestNotSentAndNotFollowed(t *testing.T) {
	s := newFakeStore()
	var h hits
	srv := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		h.note(r)
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/", http.StatusFound)
		}
	})
	s.addCallback("on", srv.URL, true)
	s.addCallback("off", srv.URL, false)
	s.addCallback("moved", srv.URL+"/moved", true)
	now := time.Now()
	paused := s.add("on", "s1", recording.EventRecordPaused, now)
	over := s.add("on", "s1", recording.EventRecordOver, now)
	off := s.add("off", "s1", recording.EventRecordOver, now)
	gone := s.add("deleted", "s1", recording.EventRecordOver, now)
	moved := s.add("moved", "s1", recording.EventRecordOver, now)
	reg := prometheus.NewRegistry()
	n := testNotifier(t, s, func(c *Config) { c.Metrics = NewMetrics(reg) })
	start(t, n)
	waitFor(t, settled(s, paused, over, off, gone, moved))

	got := s.delivery(paused.ID)
	require.Equal(t, recording.DeliveryDelivered, got.State)
	require.Equal(t, ReasonNotSent, got.LastError)
	require.Zero(t, got.LastStatus)
	require.Equal(t, recording.DeliveryDelivered, s.delivery(over.ID).State)
	require.Equal(t, ReasonDisabled, s.delivery(off.ID).LastError)
	require.Equal(t, ReasonDeleted, s.delivery(gone.ID).LastError)
	got = s.delivery(moved.ID)
	require.Equal(t, recording.DeliveryFailed, got.State)
	require.Equal(t, "HTTP 302 Found", got.LastError)
	require.ElementsMatch(t, []string{over.EventID, moved.EventID}, h.ids(""))

	// Outcomes are counted just after the store has the state.
	count := func(o string) float64 { return testutil.ToFloat64(n.Metrics.outcomes.WithLabelValues(o)) }
	waitFor(t, func() bool { return count(OutcomeDelivered)+count(OutcomeDropped)+count(OutcomeFailed) == 5 })
	require.Equal(t, 1.0, testutil.ToFloat64(n.Metrics.outcomes.WithLabelValues(OutcomeDelivered)))
	require.Equal(t, 1.0, testutil.ToFloat64(n.Metrics.outcomes.WithLabelValues(OutcomeDropped)))
	require.Equal(t, 3.0, testutil.ToFloat64(n.Metrics.outcomes.WithLabelValues(OutcomeFailed)))
	require.Equal(t, uint64(2), histogramCount(t, reg, "liverec_delivery_latency_seconds"))
	waitFor(t, func() bool { return testutil.ToFloat64(n.Metrics.backlog) == 0 })
}

// A claim whose worker died comes back when its lease ends (at least once).
func TestExpiredLeaseIsAttemptedAgain(t *testing.T) {
	s := newFakeStore()
	srv := receiver(t, func(http.ResponseWriter, *http.Request) {})
	s.addCallback("cb1", srv.URL, true)
	d := s.add("cb1", "s1", recording.EventRecordOver, time.Now())
	claimed, err := s.DeliveryClaim(context.Background(), time.Now(), 30*time.Millisecond, 10)
	require.NoError(t, err)
	require.Len(t, claimed, 1) // and never recorded: a crash
	start(t, testNotifier(t, s))
	waitFor(t, settled(s, d))
	require.Equal(t, recording.DeliveryDelivered, s.delivery(d.ID).State)
}

// Run returns only after the attempt in flight when ctx ends was made and recorded.
func TestRunFinishesInFlight(t *testing.T) {
	s := newFakeStore()
	arrived, unblock := make(chan struct{}), make(chan struct{})
	srv := receiver(t, func(http.ResponseWriter, *http.Request) {
		close(arrived)
		<-unblock
	})
	s.addCallback("cb1", srv.URL, true)
	d := s.add("cb1", "s1", recording.EventRecordOver, time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- testNotifier(t, s).Run(ctx) }()
	<-arrived
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned with an attempt in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(unblock)
	require.NoError(t, <-done)
	require.Equal(t, recording.DeliveryDelivered, s.delivery(d.ID).State)
}
