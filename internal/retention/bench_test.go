package retention

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/diskspace"
	"github.com/liverec/liverec/internal/events"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store/sqldb"
)

// countingObjects is a fake object store: deletions are counted, not made.
type countingObjects struct{ n atomic.Int64 }

func (o *countingObjects) Delete(context.Context, string, string, string) error {
	o.n.Add(1)
	return nil
}

// BenchmarkPass100k is a retention pass over 100,000 expired MP4 files (1,000 recordings of
// 100 files) in a SQLite store, with the real emitter writing the marks and their events and
// a fake object store, with the default batches (1000) and pace (20ms, 2 s of the pass).
// Issue 17's target is 10 s; run it with -benchtime 1x.
func BenchmarkPass100k(b *testing.B) {
	const recordings, perRecording = 1_000, 100
	for range b.N {
		b.StopTimer()
		ctx := b.Context()
		dir := b.TempDir()
		path := filepath.Join(dir, "db.sqlite")
		db, err := sqldb.OpenSQLite(ctx, path)
		require.NoError(b, err)
		rule := recording.DefaultRule()
		rule.Project, rule.Domain, rule.App, rule.RetentionS = "p1", "a.com", "live", 60
		rule.Normalize()
		require.NoError(b, db.RuleInsert(ctx, &rule))
		fill(b, path, rule.ID, recordings, perRecording, recording.FileStored)
		reserve := &diskspace.Reserve{Path: filepath.Join(dir, "reserve"), Size: 4096}
		require.NoError(b, reserve.Hold())
		em := events.New(events.Config{Store: db, Reserve: reserve, DataDir: dir})
		objects := &countingObjects{}
		r, err := New(Config{Store: db, Deleter: &Deleter{Objects: objects, Marker: em}})
		require.NoError(b, err)
		b.StartTimer()

		n, _, err := r.Pass(ctx)

		b.StopTimer()
		require.NoError(b, err)
		require.Equal(b, recordings*perRecording, n)
		require.Equal(b, int64(recordings*perRecording), objects.n.Load())
		require.NoError(b, db.Close())
		b.StartTimer()
	}
}

// fill writes the recordings and their files, in state, in one transaction through a
// connection of its own.
func fill(b *testing.B, path, ruleID string, recordings, perRecording int, state recording.FileState) {
	b.Helper()
	conn, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	require.NoError(b, err)
	defer func() { _ = conn.Close() }()
	tx, err := conn.Begin()
	require.NoError(b, err)
	recStmt, err := tx.Prepare(`INSERT INTO recordings (id, project, rule_id, domain, app, stream, state, started_at, ended_at)
		VALUES ($1, 'p1', $2, 'a.com', 'live', $3, 'over', $4, $5)`)
	require.NoError(b, err)
	fileStmt, err := tx.Prepare(`INSERT INTO files (id, recording_id, format, state, endpoint, bucket, object_key, started_at, ended_at, bytes, file_seq)
		VALUES ($1, $2, 'mp4', $7, 'local', 'recordings', $3, $4, $5, 1000, $6)`)
	require.NoError(b, err)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ts := func(t time.Time) string { return t.Format("2006-01-02T15:04:05.000000Z") }
	for i := range recordings {
		recID := fmt.Sprintf("rec_%016x", i)
		start := base.Add(time.Duration(i) * time.Hour)
		_, err := recStmt.Exec(recID, ruleID, fmt.Sprintf("s%d", i), ts(start), ts(start.Add(time.Hour)))
		require.NoError(b, err)
		for j := range perRecording {
			_, err := fileStmt.Exec(fmt.Sprintf("f_%08x%08x", i, j), recID, fmt.Sprintf("%s/%d.mp4", recID, j),
				ts(start), ts(start.Add(time.Hour)), j, state)
			require.NoError(b, err)
		}
	}
	require.NoError(b, tx.Commit())
}

// BenchmarkDueOverDeletedHistory is the query of a pass's batch when the rule's history is
// 100,000 recordings whose files are all deleted and nothing is due.
func BenchmarkDueOverDeletedHistory(b *testing.B) {
	ctx := b.Context()
	dir := b.TempDir()
	path := filepath.Join(dir, "db.sqlite")
	db, err := sqldb.OpenSQLite(ctx, path)
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Close() })
	rule := recording.DefaultRule()
	rule.Project, rule.Domain, rule.App, rule.RetentionS = "p1", "a.com", "live", 60
	rule.Normalize()
	require.NoError(b, db.RuleInsert(ctx, &rule))
	fill(b, path, rule.ID, 100_000, 1, recording.FileDeleted)
	b.ResetTimer()
	for range b.N {
		due, err := db.RetentionDue(ctx, rule.ID, time.Now(), 1000)
		require.NoError(b, err)
		require.Empty(b, due)
	}
}
