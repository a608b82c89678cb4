package notify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/notify/dialect"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/store/sqldb"
	"github.com/liverec/liverec/internal/store/sqldb/sqldbtest"
)

// benchStreams is the §14 callback target's shape: 100 streams to one endpoint.
const benchStreams = 100

// dialectEncode adapts the dialect encoders, as the app does.
func dialectEncode(ev *recording.OutboxEvent, cfg *recording.CallbackConfig, key string, now time.Time) (Request, bool, error) {
	r, ok, err := dialect.Encode(ev, cfg, key, now)
	return Request(r), ok, err
}

// countingStore closes done once want deliveries were delivered or given up.
type countingStore struct {
	DeliveryStore
	left atomic.Int64
	done chan struct{}
}

func (c *countingStore) DeliveryRecord(ctx context.Context, a recording.Attempt, state recording.DeliveryState, next time.Time, lastErr string) error {
	err := c.DeliveryStore.DeliveryRecord(ctx, a, state, next, lastErr)
	if err == nil && state != recording.DeliveryPending && c.left.Add(-1) == 0 {
		close(c.done)
	}
	return err
}

// sqliteCallbacks serves configurations from a sqldb store (SQLite or PostgreSQL) with plain
// keys from a map, as the app's adapter does through the service.
type sqliteCallbacks struct {
	db   *sqldb.DB
	keys map[string]string
}

func (s sqliteCallbacks) Callback(ctx context.Context, id string) (*recording.CallbackConfig, string, error) {
	c, err := s.db.CallbackGet(ctx, "p1", id)
	if err != nil {
		return nil, "", err
	}
	return c, s.keys[id], nil
}

// seedOutbox writes n events of benchStreams streams, one delivery each to cb.
func seedOutbox(tb testing.TB, db *sqldb.DB, cb string, n int) {
	const batch = 500
	for i := 0; i < n; i += batch {
		var c store.Change
		for j := i; j < min(i+batch, n); j++ {
			stream := fmt.Sprintf("s%03d", j%benchStreams)
			c.Events = append(c.Events, recording.OutboxEvent{Type: recording.EventFileCompleted,
				Data: recording.EventData{Project: "p1", RecordingID: "rec_" + stream, Domain: "d.example",
					App: "live", Stream: stream, Seq: int64(j/benchStreams + 1), ObjectKey: "live/" + stream + ".mp4"}})
			c.Deliveries = append(c.Deliveries, []recording.Delivery{{CallbackID: cb,
				OrderKey: stream + "|" + cb, Seq: int64(j/benchStreams + 1)}})
		}
		require.NoError(tb, db.Apply(context.Background(), c))
	}
}

// BenchmarkDeliver measures signed deliveries/s (standard dialect, HMAC-SHA256) from an outbox
// to a local receiver answering 200, 100 streams to one endpoint (≥ 2,000/s from SQLite),
// from a fake store and from each of benchDatabases.
func BenchmarkDeliver(b *testing.B) {
	for _, workers := range []int{8, 32} {
		b.Run(fmt.Sprintf("fake/workers=%d", workers), func(b *testing.B) {
			s := newFakeStore()
			benchDeliver(b, s, s, workers, func(url string) {
				s.addCallback("cb1", url, true)
				now := time.Now()
				for i := range b.N {
					s.add("cb1", fmt.Sprintf("s%03d", i%benchStreams), recording.EventFileCompleted, now)
				}
			})
		})
	}
	for _, database := range sqldbtest.Databases() {
		for _, workers := range []int{8, 32} {
			b.Run(fmt.Sprintf("%s/workers=%d", database.Name, workers), func(b *testing.B) {
				benchDeliverSQL(b, database.Open(b), workers)
			})
		}
	}
}

// benchDeliverSQL runs benchDeliver on db, seeded with b.N deliveries to one callback.
func benchDeliverSQL(b *testing.B, db *sqldb.DB, workers int) {
	cbs := sqliteCallbacks{db: db, keys: map[string]string{}}
	benchDeliver(b, db, cbs, workers, func(url string) {
		c := &recording.CallbackConfig{Project: "p1", Dialect: recording.DialectStandard,
			Domain: "d.example", App: "*", URL: url, Enabled: true, HasKey: true}
		require.NoError(b, db.CallbackInsert(context.Background(), c))
		cbs.keys[c.ID] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		seedOutbox(b, db, c.ID, b.N)
	})
}

func benchDeliver(b *testing.B, st DeliveryStore, cbs CallbackStore, workers int, seed func(url string)) {
	var received atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	seed(srv.URL)
	cs := &countingStore{DeliveryStore: st, done: make(chan struct{})}
	cs.left.Store(int64(b.N))
	n := mustNew(b, Config{Outbox: cs, Callbacks: cbs, Encode: dialectEncode, Workers: workers})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	b.ResetTimer()
	start := time.Now()
	go func() { done <- n.Run(ctx) }()
	<-cs.done
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	require.NoError(b, <-done)
	require.Equal(b, int64(b.N), received.Load(), "every delivery sent")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
}
