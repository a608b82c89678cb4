package retention

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/liverec/liverec/internal/blob"
	"github.com/liverec/liverec/internal/diskspace"
	"github.com/liverec/liverec/internal/events"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/store/sqldb"
	"github.com/liverec/liverec/internal/store/sqldb/sqldbtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// local is the one endpoint of the tests: a local bucket.
type local struct{ blob.Local }

func (l local) Delete(ctx context.Context, _, bucket, key string) error {
	return l.Local.Delete(ctx, bucket, key)
}

// failingMarker fails marks as told (the fail first ones, or the call numbered failAt), then
// marks through next: a crash between the objects' deletion and the mark. It records the size
// of every batch it is given.
type failingMarker struct {
	next    Marker
	mu      sync.Mutex
	fail    int
	failAt  int // 1-based; 0: none
	batches []int
}

func (m *failingMarker) FilesDeleted(ctx context.Context, files []store.DueFile, reason string) error {
	m.mu.Lock()
	m.batches = append(m.batches, len(files))
	if m.fail > 0 || len(m.batches) == m.failAt {
		m.fail = max(m.fail-1, 0)
		m.mu.Unlock()
		return errors.New("killed before the mark")
	}
	m.mu.Unlock()
	return m.next.FilesDeleted(ctx, files, reason)
}

func (m *failingMarker) calls() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int(nil), m.batches...)
}

type fixture struct {
	db      *sqldb.DB
	root    string
	bucket  local
	marker  *failingMarker
	metrics *Metrics
	reg     *prometheus.Registry
	now     time.Time
	rule    *recording.Rule
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	db := sqldbtest.OpenSQLiteAt(t, filepath.Join(dir, "db.sqlite"))
	reserve := &diskspace.Reserve{Path: filepath.Join(dir, "reserve"), Size: 4096}
	require.NoError(t, reserve.Hold())
	em := events.New(events.Config{Store: db, Slices: db, Reserve: reserve, DataDir: dir,
		RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond})
	rule := recording.DefaultRule()
	rule.Project, rule.Domain, rule.App, rule.RetentionS = "p1", "a.com", "live", 20
	rule.Normalize()
	require.NoError(t, db.RuleInsert(ctx, &rule))
	reg := prometheus.NewRegistry()
	fx := &fixture{db: db, root: filepath.Join(dir, "bucket"), marker: &failingMarker{next: em},
		metrics: NewMetrics(reg), reg: reg, now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), rule: &rule}
	fx.bucket = local{blob.Local{Root: fx.root}}
	return fx
}

func (fx *fixture) retention(t *testing.T, batch int) *Retention {
	t.Helper()
	r, err := New(Config{Store: fx.db, Deleter: &Deleter{Objects: fx.bucket, Slices: fx.db, Marker: fx.marker, Metrics: fx.metrics},
		BatchSize: batch, Pace: -1, Now: func() time.Time { return fx.now }})
	require.NoError(t, err)
	return r
}

// recording stores an ended recording with an MP4 file and an HLS playlist with two slices,
// all written to the bucket; it returns the recording and every object key.
func (fx *fixture) recording(t *testing.T, stream string, ended time.Time) (*recording.Recording, []string) {
	t.Helper()
	ctx := t.Context()
	rec := &recording.Recording{Project: "p1", RuleID: fx.rule.ID, Domain: "a.com", App: "live", Stream: stream,
		State: recording.RecordingOver, StartedAt: ended.Add(-time.Minute), EndedAt: &ended}
	require.NoError(t, fx.db.RecordingInsert(ctx, rec))
	var keys []string
	put := func(key string) {
		_, err := fx.bucket.PutBytes(ctx, "recordings", key, []byte("data"))
		require.NoError(t, err)
		keys = append(keys, key)
	}
	for i, format := range []recording.Format{recording.FormatMP4, recording.FormatHLS} {
		end := ended
		key := stream + "/" + rec.ID + "." + string(format)
		put(key)
		f := &recording.File{RecordingID: rec.ID, Format: format, Seq: i, State: recording.FileStored,
			Endpoint: "local", Bucket: "recordings", ObjectKey: key, StartedAt: rec.StartedAt, EndedAt: &end, Bytes: 4}
		require.NoError(t, fx.db.FileInsert(ctx, f))
		if format != recording.FormatHLS {
			continue
		}
		for s := range 2 {
			sk := stream + "/" + rec.ID + "/" + string(rune('a'+s)) + ".ts"
			put(sk)
			require.NoError(t, fx.db.SliceInsert(ctx, &recording.Slice{RecordingID: rec.ID, FileSeq: i, Seq: s,
				Endpoint: "local", Bucket: "recordings", ObjectKey: sk, StartedAt: rec.StartedAt, Duration: time.Second, Bytes: 2}))
		}
	}
	return rec, keys
}

func (fx *fixture) exists(key string) bool {
	_, err := os.Stat(filepath.Join(fx.root, "recordings", filepath.FromSlash(key)))
	return err == nil
}

func (fx *fixture) fileStates(t *testing.T, recID string) []recording.FileState {
	t.Helper()
	files, _, err := fx.db.FileList(t.Context(), store.FileFilter{RecordingID: recID})
	require.NoError(t, err)
	var out []recording.FileState
	for _, f := range files {
		out = append(out, f.State)
	}
	return out
}

func (fx *fixture) deletedEvents(t *testing.T, recID string) int {
	t.Helper()
	evs, err := fx.db.EventsOf(t.Context(), recID)
	require.NoError(t, err)
	n := 0
	for _, ev := range evs {
		if ev.Type == recording.EventFileDeleted {
			require.Equal(t, recording.DeleteRetention, ev.Data.Reason)
			n++
		}
	}
	return n
}

func TestPassDeletesExpiredFilesAndKeepsTheRest(t *testing.T) {
	fx := newFixture(t)
	expired, expiredKeys := fx.recording(t, "old", fx.now.Add(-21*time.Second))
	fresh, freshKeys := fx.recording(t, "new", fx.now.Add(-19*time.Second))
	locked, lockedKeys := fx.recording(t, "locked", fx.now.Add(-time.Hour))
	_, err := fx.db.RecordingLock(t.Context(), "p1", locked.ID, true)
	require.NoError(t, err)
	// An object liverec did not write, beside them: never touched.
	_, err = fx.bucket.PutBytes(t.Context(), "recordings", "old/foreign.mp4", []byte("x"))
	require.NoError(t, err)
	r := fx.retention(t, 1)

	preview, err := r.Preview(t.Context(), "p1")
	require.NoError(t, err)
	require.Len(t, preview, 2)
	require.Equal(t, expired.ID, preview[0].RecordingID)
	require.Equal(t, fx.now.Add(-time.Second), preview[0].DueAt)
	other, err := r.Preview(t.Context(), "p2")
	require.NoError(t, err)
	require.Empty(t, other)

	n, bytes, err := r.Pass(t.Context())
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, int64(8), bytes)
	for _, k := range expiredKeys {
		require.False(t, fx.exists(k), k)
	}
	for _, k := range append(freshKeys, lockedKeys...) {
		require.True(t, fx.exists(k), k)
	}
	require.True(t, fx.exists("old/foreign.mp4"))
	require.Equal(t, []recording.FileState{recording.FileDeleted, recording.FileDeleted}, fx.fileStates(t, expired.ID))
	require.Equal(t, []recording.FileState{recording.FileStored, recording.FileStored}, fx.fileStates(t, fresh.ID))
	require.Equal(t, 2, fx.deletedEvents(t, expired.ID))
	require.InDelta(t, 2, testutil.ToFloat64(fx.metrics.files.WithLabelValues("retention")), 0)
	require.InDelta(t, 8, testutil.ToFloat64(fx.metrics.bytes.WithLabelValues("retention")), 0)
	slices, err := fx.db.SliceList(t.Context(), store.SliceFilter{RecordingID: expired.ID})
	require.NoError(t, err)
	require.Empty(t, slices, "the HLS file's slices are marked deleted")

	n, _, err = r.Pass(t.Context())
	require.NoError(t, err)
	require.Zero(t, n, "a second pass finds nothing")
	require.Equal(t, 2, fx.deletedEvents(t, expired.ID))

	fx.now = fx.now.Add(2 * time.Second)
	n, _, err = r.Pass(t.Context())
	require.NoError(t, err)
	require.Equal(t, 2, n, "the fresh recording expires in turn")
	require.Equal(t, 2, fx.deletedEvents(t, fresh.ID))
	require.Equal(t, []recording.FileState{recording.FileStored, recording.FileStored}, fx.fileStates(t, locked.ID))
}

func TestCrashBetweenObjectDeleteAndMarkIsFinishedOnce(t *testing.T) {
	fx := newFixture(t)
	rec, keys := fx.recording(t, "old", fx.now.Add(-time.Hour))
	fx.marker.fail = 1
	r := fx.retention(t, 100)

	n, _, err := r.Pass(t.Context())
	require.ErrorContains(t, err, "killed before the mark")
	require.Zero(t, n)
	require.False(t, fx.exists(keys[0]), "the first file's object went before the crash")
	require.Equal(t, []recording.FileState{recording.FileStored, recording.FileStored}, fx.fileStates(t, rec.ID))
	require.Zero(t, fx.deletedEvents(t, rec.ID))

	// The restart: a new Retention on the same store.
	n, _, err = fx.retention(t, 100).Pass(t.Context())
	require.NoError(t, err)
	require.Equal(t, 2, n)
	for _, k := range keys {
		require.False(t, fx.exists(k), k)
	}
	require.Equal(t, []recording.FileState{recording.FileDeleted, recording.FileDeleted}, fx.fileStates(t, rec.ID))
	require.Equal(t, 2, fx.deletedEvents(t, rec.ID), "one file_deleted per file")
}

func TestDeleterSkipsWhatIsNoLongerStoredOrLocked(t *testing.T) {
	fx := newFixture(t)
	rec, keys := fx.recording(t, "old", fx.now.Add(-time.Hour))
	due, err := fx.db.RetentionDue(t.Context(), fx.rule.ID, fx.now, 0)
	require.NoError(t, err)
	require.Len(t, due, 2)
	d := &Deleter{Objects: fx.bucket, Slices: fx.db, Marker: fx.marker}

	n, _, err := d.Delete(t.Context(), due[:1], recording.DeleteDiskFull)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, _, err = d.Delete(t.Context(), due[:1], recording.DeleteDiskFull)
	require.NoError(t, err)
	require.Zero(t, n, "a file deleted meanwhile is not deleted or reported again")

	due[1].Recording.Locked = true
	n, _, err = d.Delete(t.Context(), due[1:], recording.DeleteDiskFull)
	require.NoError(t, err)
	require.Zero(t, n)
	require.True(t, fx.exists(keys[1]))
	n, _, err = d.Delete(t.Context(), due[1:], recording.DeleteAPI)
	require.NoError(t, err)
	require.Equal(t, 1, n, "an API request deletes a locked recording's files")
	require.Equal(t, []recording.FileState{recording.FileDeleted, recording.FileDeleted}, fx.fileStates(t, rec.ID))
}

func TestRunPassesEveryIntervalUntilCancelled(t *testing.T) {
	fx := newFixture(t)
	r, err := New(Config{Store: fx.db, Deleter: &Deleter{Objects: fx.bucket, Slices: fx.db, Marker: fx.marker},
		Interval: 10 * time.Millisecond, Pace: -1, Now: time.Now})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	// Expired only after Run started: a later pass must find it.
	rec, _ := fx.recording(t, "old", time.Now().Add(-time.Hour))
	require.Eventually(t, func() bool { return fx.deletedEvents(t, rec.ID) == 2 }, 5*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}
