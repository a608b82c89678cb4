package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// benchStart is when the benchmarks' first recording starts.
var benchStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fillTx runs fill in one write transaction with the prepared statement query: building the
// benchmarks' tables row by row through the API would take minutes.
func fillTx(ctx context.Context, b *testing.B, db *DB, query string, fill func(stmt *sql.Stmt) error) {
	b.Helper()
	require.NoError(b, db.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		defer func() { _ = stmt.Close() }()
		return fill(stmt)
	}))
}

// p99 returns the 99th percentile of ds in milliseconds.
func p99(ds []time.Duration) float64 {
	slices.Sort(ds)
	return float64(ds[(len(ds)-1)*99/100]) / float64(time.Millisecond)
}

// BenchmarkRecordingList100k lists pages of 50 of 100,000 recordings of one project (1,000
// streams of 4 domains, one starting every 30 s for 35 days, 20 min each, the last 1,000
// live) with the catalogue's usual filters, and reports each one's p99 (target ≤ 20 ms).
func BenchmarkRecordingList100k(b *testing.B) {
	ctx := context.Background()
	db, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "liverec.db"))
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, db.Close()) })

	const n, streams = 100_000, 1_000
	ids := make([]string, n)
	fillTx(ctx, b, db, `INSERT INTO recordings (`+recordingCols+`)
		VALUES ($1, 'p1', 'r_0123456789abcdef', $2, 'live', $3, $4, '', $5, $6, NULL, $7, 0, '', '')`,
		func(stmt *sql.Stmt) error {
			for i := range n {
				ids[i] = store.NewID(store.RecordingPrefix)
				start := benchStart.Add(time.Duration(i) * 30 * time.Second)
				end := start.Add(20 * time.Minute)
				state, ended := recording.RecordingOver, &end
				if i >= n-1_000 {
					state, ended = recording.RecordingActive, nil
				} else if i%10 == 0 {
					state = recording.RecordingFailed
				}
				mode := recording.ModeAuto
				if i%7 == 0 {
					mode = recording.ModeManual
				}
				s := i % streams
				if _, err := stmt.ExecContext(ctx, ids[i], fmt.Sprintf("d%d.example.com", s%4), fmt.Sprintf("s%d", s),
					state, fmtTime(start), fmtTimePtr(ended), mode); err != nil {
					return err
				}
			}
			return nil
		})

	mid := benchStart.Add(17 * 24 * time.Hour)
	for _, bc := range []struct {
		name string
		f    store.RecordingFilter
		want int
	}{
		{"None", store.RecordingFilter{}, 50},
		{"Stream", store.RecordingFilter{Domain: "d1.example.com", App: "live", Stream: "s501"}, 50},
		{"State", store.RecordingFilter{State: recording.RecordingFailed}, 50},
		{"TimeRange", store.RecordingFilter{From: mid, To: mid.Add(24 * time.Hour)}, 50},
		{"RecentTimeRange", store.RecordingFilter{From: benchStart.Add(n*30*time.Second - time.Hour)}, 50},
		{"DeepCursor", store.RecordingFilter{After: ids[n-90_000]}, 50},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := bc.f
			f.Project, f.Limit, f.OrderDesc = "p1", 50, true
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				recs, total, err := db.RecordingList(ctx, f)
				took = append(took, time.Since(start))
				if err != nil || len(recs) != bc.want || total == 0 {
					b.Fatalf("%d recordings of %d, err %v", len(recs), total, err)
				}
			}
			b.ReportMetric(p99(took), "p99-ms")
		})
	}
}

// BenchmarkSliceList12h lists the 21,600 slices of 12 h of one stream among the slices of 21
// streams (20 others with 3 h each), as an index or clip of the longest Huawei range does.
func BenchmarkSliceList12h(b *testing.B) {
	ctx := context.Background()
	db, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "liverec.db"))
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, db.Close()) })

	const sliceLen = 2 * time.Second
	hours := func(i int) time.Duration {
		if i == 0 {
			return 12 * time.Hour
		}
		return 3 * time.Hour
	}
	const streams = 21
	recIDs := make([]string, streams)
	fillTx(ctx, b, db, `INSERT INTO recordings (`+recordingCols+`)
		VALUES ($1, 'p1', '', 'a.com', 'live', $2, 'over', '', $3, $4, NULL, 'auto', 0, '', '')`,
		func(stmt *sql.Stmt) error {
			for i := range streams {
				recIDs[i] = store.NewID(store.RecordingPrefix)
				if _, err := stmt.ExecContext(ctx, recIDs[i], fmt.Sprintf("s%d", i), fmtTime(benchStart),
					fmtTime(benchStart.Add(hours(i)))); err != nil {
					return err
				}
			}
			return nil
		})
	fillTx(ctx, b, db, `INSERT INTO slices (recording_id, file_seq, seq, project, domain, app, stream,
			endpoint, bucket, object_key, started_at, ended_at, duration_ns, bytes)
		VALUES ($1, 0, $2, 'p1', 'a.com', 'live', $3, 'local', 'recordings', $4, $5, $6, $7, 500000)`,
		func(stmt *sql.Stmt) error {
			for i := range streams {
				for seq := range int(hours(i) / sliceLen) {
					start := benchStart.Add(time.Duration(seq) * sliceLen)
					key := fmt.Sprintf("record/live/s%d/%d.ts", i, start.Unix())
					if _, err := stmt.ExecContext(ctx, recIDs[i], seq, fmt.Sprintf("s%d", i), key,
						fmtTime(start), fmtTime(start.Add(sliceLen)), int64(sliceLen)); err != nil {
						return err
					}
				}
			}
			return nil
		})

	f := store.SliceFilter{Project: "p1", Domain: "a.com", App: "live", Stream: "s0",
		From: benchStart, To: benchStart.Add(12 * time.Hour)}
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		got, err := db.SliceList(ctx, f)
		took = append(took, time.Since(start))
		if err != nil || len(got) != int(12*time.Hour/sliceLen) {
			b.Fatalf("%d slices, err %v", len(got), err)
		}
	}
	b.ReportMetric(p99(took), "p99-ms")
}
