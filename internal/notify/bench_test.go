package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/notify/dialect"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/store/sqldb"
	"github.com/liverec/liverec/internal/testutil"
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

func openSQLite(tb testing.TB) *sqldb.DB {
	db, err := sqldb.OpenSQLite(context.Background(), filepath.Join(tb.TempDir(), "liverec.db"))
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// benchDatabase is a database the benchmarks run the store on.
type benchDatabase struct {
	name string
	open func(testing.TB) *sqldb.DB
}

// benchDatabases are SQLite as liverec opens it (WAL, synchronous NORMAL) and PostgreSQL on a
// server with its durability defaults, with commits waiting for the disk (its default) and
// not (synchronous_commit off: a crash may lose the last commits, as SQLite's NORMAL may).
func benchDatabases() []benchDatabase {
	return []benchDatabase{
		{"sqlite", openSQLite},
		{"postgres", func(tb testing.TB) *sqldb.DB { return openPostgresDurable(tb, "on") }},
		{"postgres-async-commit", func(tb testing.TB) *sqldb.DB { return openPostgresDurable(tb, "off") }},
	}
}

// openPostgresDurable opens a fresh database on the test binary's durable PostgreSQL server,
// its sessions with synchronous_commit set to syncCommit, and checks that the server does
// wait on the disk: the benchmarks' numbers are quoted as a production server's.
func openPostgresDurable(tb testing.TB, syncCommit string) *sqldb.DB {
	ctx := context.Background()
	u, err := url.Parse(testutil.PostgresDurable(tb))
	require.NoError(tb, err)
	q := u.Query()
	q.Set("synchronous_commit", syncCommit) // pgx sends unknown parameters as session settings
	u.RawQuery = q.Encode()
	dsn := u.String()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(tb, err, "connect to check the server's durability")
	var fsync, fullPageWrites, commit string
	err = conn.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('full_page_writes'),
		current_setting('synchronous_commit')`).Scan(&fsync, &fullPageWrites, &commit)
	require.NoError(tb, errors.Join(err, conn.Close(ctx)), "read the server's durability settings")
	require.Equal(tb, []string{"on", "on", syncCommit}, []string{fsync, fullPageWrites, commit},
		"fsync, full_page_writes, synchronous_commit")
	db, err := sqldb.OpenPostgres(ctx, dsn)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	return db
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
// to a local receiver answering 200, 100 streams to one endpoint (§14: ≥ 2,000/s from SQLite),
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
	for _, database := range benchDatabases() {
		for _, workers := range []int{8, 32} {
			b.Run(fmt.Sprintf("%s/workers=%d", database.name, workers), func(b *testing.B) {
				benchDeliverSQL(b, database.open(b), workers)
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
