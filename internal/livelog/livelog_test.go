package livelog

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memStore keeps publications in memory; gate, when set, holds every write until closed.
type memStore struct {
	mu   sync.Mutex
	pubs map[string]*recording.Publish
	log  []string
	gate chan struct{}
}

func newMemStore() *memStore { return &memStore{pubs: map[string]*recording.Publish{}} }

func (s *memStore) wait(ctx context.Context) error {
	if s.gate == nil {
		return nil
	}
	select {
	case <-s.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *memStore) PublishInsert(ctx context.Context, p *recording.Publish) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *p
	s.pubs[p.ID] = &c
	s.log = append(s.log, "insert "+p.ID)
	return nil
}

func (s *memStore) PublishEnd(ctx context.Context, id string, at time.Time) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pubs[id]
	if p == nil {
		return recording.ErrNotFound
	}
	p.EndedAt = &at
	s.log = append(s.log, "end "+id)
	return nil
}

func (s *memStore) PublishList(_ context.Context, f store.PublishFilter) ([]recording.Publish, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []recording.Publish
	for _, p := range s.pubs {
		if !f.Live || p.EndedAt == nil {
			out = append(out, *p)
		}
	}
	return out, len(out), nil
}

func (s *memStore) get(id string) *recording.Publish {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.pubs[id]; p != nil {
		c := *p
		return &c
	}
	return nil
}

func run(t *testing.T, w *Writer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return func() {
		cancel()
		require.NoError(t, <-done)
	}
}

func TestWritesStartsAndEndsInOrder(t *testing.T) {
	st := newMemStore()
	crashed := time.Unix(500, 0)
	st.pubs["pub_old"] = &recording.Publish{ID: "pub_old", Domain: "a.com", StartedAt: crashed}
	restart := time.Unix(1000, 0)
	w, err := New(Config{Store: st, Now: func() time.Time { return restart }})
	require.NoError(t, err)

	start := time.Unix(1001, 0)
	id := w.Started(recording.Publish{Domain: "a.com", App: "live", Stream: "cam", ClientAddr: "203.0.113.1:1",
		Protocol: "rtmp", StartedAt: start})
	require.True(t, strings.HasPrefix(id, store.PublishPrefix), id)
	stop := run(t, w)
	require.Eventually(t, func() bool { return st.get(id) != nil }, 5*time.Second, 5*time.Millisecond)
	got := st.get(id)
	require.Nil(t, got.EndedAt, "queued before Run, it is not taken for a leftover")
	require.Equal(t, "203.0.113.1:1", got.ClientAddr)
	require.Equal(t, "rtmp", got.Protocol)
	old := st.get("pub_old")
	require.NotNil(t, old.EndedAt, "a previous run's open publication is ended")
	require.Equal(t, restart, *old.EndedAt)

	w.Ended(id, time.Unix(1010, 0))
	stop() // what is queued is written before Run returns
	require.Equal(t, time.Unix(1010, 0), *st.get(id).EndedAt)
	require.Equal(t, []string{"end pub_old", "insert " + id, "end " + id}, st.log)
}

// TestFullQueueDropsWithoutBlocking: with the store stuck, events beyond the queue are dropped
// and counted at once; the queued ones are written once it answers.
func TestFullQueueDropsWithoutBlocking(t *testing.T) {
	st := newMemStore()
	st.gate = make(chan struct{})
	reg := prometheus.NewRegistry()
	w, err := New(Config{Store: st, QueueLen: 2, Registerer: reg})
	require.NoError(t, err)
	ids := make([]string, 5)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range ids {
			ids[i] = w.Started(recording.Publish{Domain: "a.com", App: "live", Stream: "cam"})
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Started blocked on a full queue")
	}
	require.Equal(t, 3.0, promtest.ToFloat64(w.dropped))
	n, err := promtest.GatherAndCount(reg, "liverec_publish_log_dropped_total")
	require.NoError(t, err)
	require.Equal(t, 1, n)

	stop := run(t, w)
	close(st.gate)
	require.Eventually(t, func() bool { return st.get(ids[1]) != nil }, 5*time.Second, 5*time.Millisecond)
	stop()
	require.NotNil(t, st.get(ids[0]))
	require.Nil(t, st.get(ids[2]), "dropped")
	w.Ended(ids[2], time.Now()) // the end of a dropped start: logged, not fatal
	stop = run(t, w)
	stop()
}

func TestNewNeedsAStore(t *testing.T) {
	_, err := New(Config{})
	require.Error(t, err)
	_, err = New(Config{Store: newMemStore(), Registerer: prometheus.NewRegistry()})
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	_, err = New(Config{Store: newMemStore(), Registerer: reg})
	require.NoError(t, err)
	_, err = New(Config{Store: newMemStore(), Registerer: reg})
	require.Error(t, errors.Unwrap(err), "a second writer on one registry is an error, not a panic")
}
