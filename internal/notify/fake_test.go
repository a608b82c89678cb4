package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// fakeStore is an in-memory outbox with the store's claim semantics: a claim returns pending,
// due deliveries that head their OrderKey (no lower Seq of the key still pending) and leases
// them by moving NextAt. It also serves callback configurations.
type fakeStore struct {
	mu        sync.Mutex
	seq       int64
	queues    map[string][]*recording.Delivery // by OrderKey, in Seq order
	heads     map[string]int                   // index of the first pending delivery of a key
	byID      map[string]*recording.Delivery
	attempts  map[string][]recording.Attempt
	callbacks map[string]*recording.CallbackConfig
	keys      map[string]string
	pending   int
	drained   chan struct{} // closed when pending reaches 0 after add
}

func newFakeStore() *fakeStore {
	return &fakeStore{queues: map[string][]*recording.Delivery{}, heads: map[string]int{},
		byID: map[string]*recording.Delivery{}, attempts: map[string][]recording.Attempt{},
		callbacks: map[string]*recording.CallbackConfig{}, keys: map[string]string{},
		drained: make(chan struct{})}
}

func (s *fakeStore) addCallback(id, url string, enabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callbacks[id] = &recording.CallbackConfig{ID: id, Project: "p1", Dialect: "standard", Domain: "d.example",
		App: "*", URL: url, Enabled: enabled, HasKey: true}
	s.keys[id] = "k" + id + "0123456789abcdef0123456789abcdef"
}

// add appends an event of stream for callback cb, pending and due at created.
func (s *fakeStore) add(cb, stream string, typ recording.Event, created time.Time) *recording.Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	ev := &recording.OutboxEvent{ID: fmt.Sprintf("ev_%d", s.seq), Type: typ, CreatedAt: created,
		Data: recording.EventData{Project: "p1", RecordingID: "rec_" + stream, Domain: "d.example", App: "live",
			Stream: stream, Seq: s.seq}}
	d := &recording.Delivery{ID: fmt.Sprintf("dl_%d", s.seq), EventID: ev.ID, CallbackID: cb, Project: "p1",
		OrderKey: stream + "|" + cb, Seq: s.seq, State: recording.DeliveryPending, NextAt: created,
		CreatedAt: created, UpdatedAt: created, Event: ev}
	s.queues[d.OrderKey] = append(s.queues[d.OrderKey], d)
	s.byID[d.ID] = d
	s.pending++
	return d
}

func (s *fakeStore) DeliveryClaim(_ context.Context, now time.Time, lease time.Duration, limit int) ([]recording.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []*recording.Delivery
	for k, q := range s.queues {
		if i := s.heads[k]; i < len(q) && !q[i].NextAt.After(now) {
			due = append(due, q[i])
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].NextAt.Equal(due[j].NextAt) {
			return due[i].NextAt.Before(due[j].NextAt)
		}
		return due[i].Seq < due[j].Seq
	})
	var out []recording.Delivery
	for _, d := range due[:min(limit, len(due))] {
		d.NextAt = now.Add(lease)
		c := *d
		ev := *d.Event
		c.Event = &ev
		out = append(out, c)
	}
	return out, nil
}

func (s *fakeStore) DeliveryRecord(_ context.Context, a recording.Attempt, state recording.DeliveryState, next time.Time, lastErr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.byID[a.DeliveryID]
	if !ok {
		return fmt.Errorf("delivery %s: %w", a.DeliveryID, recording.ErrNotFound)
	}
	if d.State != recording.DeliveryPending {
		return fmt.Errorf("delivery %s is %s: %w", d.ID, d.State, recording.ErrConflict)
	}
	s.attempts[d.ID] = append(s.attempts[d.ID], a)
	d.Attempts++
	d.State, d.NextAt, d.LastStatus, d.LastError, d.UpdatedAt = state, next, a.Status, lastErr, a.At
	q := s.queues[d.OrderKey]
	for s.heads[d.OrderKey] < len(q) && q[s.heads[d.OrderKey]].State != recording.DeliveryPending {
		s.heads[d.OrderKey]++
	}
	if state != recording.DeliveryPending {
		s.pending--
		if s.pending == 0 {
			select {
			case <-s.drained:
			default:
				close(s.drained)
			}
		}
	}
	return nil
}

func (s *fakeStore) CallbackDisable(_ context.Context, id, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.callbacks[id]
	if !ok {
		return fmt.Errorf("callback %s: %w", id, recording.ErrNotFound)
	}
	c.Enabled, c.DisabledReason = false, reason
	return nil
}

func (s *fakeStore) DeliveryBacklog(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending, nil
}

func (s *fakeStore) Callback(_ context.Context, id string) (*recording.CallbackConfig, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.callbacks[id]
	if !ok {
		return nil, "", fmt.Errorf("callback %s: %w", id, recording.ErrNotFound)
	}
	cp := *c
	return &cp, s.keys[id], nil
}

func (s *fakeStore) delivery(id string) recording.Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.byID[id]
}

func (s *fakeStore) attemptsOf(id string) []recording.Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recording.Attempt(nil), s.attempts[id]...)
}

func (s *fakeStore) callback(id string) recording.CallbackConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.callbacks[id]
}

// clock is an injected Now that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testEncode stands in for a dialect: the event as JSON, its id in X-Liverec-Event-Id, and an
// HMAC over the send time and body. record_paused is "not subscribed".
func testEncode(ev *recording.OutboxEvent, cfg *recording.CallbackConfig, key string, now time.Time) (Request, bool, error) {
	if ev.Type == recording.EventRecordPaused {
		return Request{}, false, nil
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return Request{}, false, fmt.Errorf("marshal event: %w", err)
	}
	ts := strconv.FormatInt(now.UnixNano(), 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	h := http.Header{}
	h.Set("X-Liverec-Event-Id", ev.ID)
	h.Set("X-Test-Stream", ev.Data.Stream)
	h.Set("X-Test-Timestamp", ts)
	h.Set("X-Test-Signature", hex.EncodeToString(mac.Sum(nil)))
	return Request{URL: cfg.URL, Header: h, Body: body}, true, nil
}
