package cluster

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/store/sqldb"
	"github.com/liverec/liverec/internal/store/sqldb/sqldbtest"
	"github.com/liverec/liverec/internal/stream"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newNode(t *testing.T, db *sqldb.DB, id string, clk *clock, cfg Config) *Node {
	t.Helper()
	cfg.Self, cfg.Store, cfg.Now = store.Node{ID: id}, db, clk.now
	cfg.LeaseTTL, cfg.Heartbeat = 10*time.Second, 3*time.Second
	n, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, n.Join(t.Context()))
	return n
}

func TestLeasesAcrossNodes(t *testing.T) {
	db := sqldbtest.OpenSQLiteAt(t, filepath.Join(t.TempDir(), "l.db"))
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var lost []stream.Key
	a := newNode(t, db, "a", clk, Config{OnLost: func(k stream.Key) { lost = append(lost, k) }})
	b := newNode(t, db, "b", clk, Config{})
	key := stream.Key{Domain: "d.com", App: "live", Stream: "s"}

	require.NoError(t, a.Acquire(t.Context(), key))
	require.ErrorIs(t, b.Acquire(t.Context(), key), stream.ErrBusy, "a stream live on a is refused on b")
	require.ErrorContains(t, b.Acquire(t.Context(), key), "node a")

	clk.add(5 * time.Second)
	a.tick(t.Context()) // renews to +15 s
	clk.add(8 * time.Second)
	require.ErrorIs(t, b.Acquire(t.Context(), key), stream.ErrBusy, "the renewed lease holds")

	clk.add(20 * time.Second) // a went silent
	require.NoError(t, b.Acquire(t.Context(), key), "an expired lease may be taken")
	a.tick(t.Context())
	require.Equal(t, []stream.Key{key}, lost, "a learns it lost the stream")

	// A key admitted without a lease row (the database was away) is taken at the renewal.
	other := stream.Key{Domain: "d.com", App: "live", Stream: "t"}
	a.mu.Lock()
	a.held[other] = true
	a.mu.Unlock()
	lost = nil
	a.tick(t.Context())
	require.Empty(t, lost)
	require.ErrorIs(t, b.Acquire(t.Context(), other), stream.ErrBusy)

	b.Release(key)
	b.releaseKey(t.Context(), <-b.release)
	require.NoError(t, a.Acquire(t.Context(), key), "a released key is free at once")
}

func TestDeadNodesRecordingIsAdoptedOnce(t *testing.T) {
	db := sqldbtest.OpenSQLiteAt(t, filepath.Join(t.TempDir(), "o.db"))
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	type orphan struct{ id, node, dead string }
	var got []orphan
	onOrphan := func(rec recording.Recording, dead string) { got = append(got, orphan{rec.ID, rec.Node, dead}) }
	dead := newNode(t, db, "dead", clk, Config{})
	a := newNode(t, db, "a", clk, Config{OnOrphan: onOrphan})
	b := newNode(t, db, "b", clk, Config{OnOrphan: onOrphan})
	_ = dead
	rec := &recording.Recording{Project: "p", Domain: "d.com", App: "live", Stream: "s",
		State: recording.RecordingActive, StartedAt: clk.now(), Node: "dead"}
	require.NoError(t, db.RecordingInsert(t.Context(), rec))

	a.tick(t.Context())
	require.Empty(t, got, "a node within its lease time is alive")
	clk.add(11 * time.Second)
	a.tick(t.Context())
	b.tick(t.Context())
	require.Equal(t, []orphan{{rec.ID, "a", "dead"}}, got, "one node adopts it, naming the dead node")
}

// TestSilentPublisherYieldsItsLease: a publisher silent here keeps its stream only until a
// newcomer on another node asks for it, as on one node; the node here learns it lost it.
func TestSilentPublisherYieldsItsLease(t *testing.T) {
	db := sqldbtest.OpenSQLiteAt(t, filepath.Join(t.TempDir(), "i.db"))
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	key := stream.Key{Domain: "d.com", App: "live", Stream: "s"}
	idle := false
	var lost []stream.Key
	a := newNode(t, db, "a", clk, Config{Idle: func(stream.Key) bool { return idle },
		OnLost: func(k stream.Key) { lost = append(lost, k) }})
	b := newNode(t, db, "b", clk, Config{})
	require.NoError(t, a.Acquire(t.Context(), key))

	clk.add(time.Second)
	a.tick(t.Context())
	require.ErrorIs(t, b.Acquire(t.Context(), key), stream.ErrBusy, "a live publisher keeps its stream")

	idle = true
	clk.add(time.Second)
	a.tick(t.Context())
	clk.add(time.Millisecond)
	require.NoError(t, b.Acquire(t.Context(), key), "a silent publisher's stream goes to the newcomer")
	a.tick(t.Context())
	require.Equal(t, []stream.Key{key}, lost, "and its node drops it")
}
