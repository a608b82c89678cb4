package events

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/liverec/liverec/internal/diskspace"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeStore records the changes it is given and fails the next ones as told.
type fakeStore struct {
	mu        sync.Mutex
	callbacks []recording.CallbackConfig
	fail      []error // errors of the next Apply calls, in order
	applied   []store.Change
	tries     int
	lookups   int // CallbacksForStream calls
}

func (s *fakeStore) Apply(_ context.Context, c store.Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries++
	if len(s.fail) > 0 {
		err := s.fail[0]
		s.fail = s.fail[1:]
		if err != nil {
			return err
		}
	}
	s.applied = append(s.applied, c)
	return nil
}

func (s *fakeStore) CallbacksForStream(_ context.Context, domain string) ([]recording.CallbackConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lookups++
	var out []recording.CallbackConfig
	for _, c := range s.callbacks {
		if c.Domain == domain {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *fakeStore) failNext(errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, errs...)
}

// changes returns what was written so far.
func (s *fakeStore) changes() []store.Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]store.Change(nil), s.applied...)
}

// events lists the types of the events written so far, in order.
func (s *fakeStore) events() []recording.Event {
	var out []recording.Event
	for _, c := range s.changes() {
		for _, ev := range c.Events {
			out = append(out, ev.Type)
		}
	}
	return out
}

// newReserve is a held reserve of size bytes in a temporary directory.
func newReserve(t *testing.T, size int64) *diskspace.Reserve {
	t.Helper()
	r := &diskspace.Reserve{Path: filepath.Join(t.TempDir(), "reserve"), Size: size}
	if err := r.Hold(); err != nil {
		t.Fatal(err)
	}
	return r
}

// newEmitter is an Emitter on st with a held reserve and fast retries; notified counts the
// notifier's wake-ups.
func newEmitter(t *testing.T, st *fakeStore) (e *Emitter, notified func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	reserve := newReserve(t, 4096)
	e = New(Config{Store: st, Reserve: reserve, DataDir: filepath.Dir(reserve.Path),
		RetryMin: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond,
		Notify: func() { mu.Lock(); n++; mu.Unlock() },
		DownloadURL: func(_ context.Context, endpoint, bucket, key string) string {
			return "https://dl/" + endpoint + "/" + bucket + "/" + key
		}})
	return e, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// run runs e until the test ends.
func run(t *testing.T, e *Emitter) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitFor polls cond until it holds or a few seconds pass.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
