package sqldb

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// TestCatalogMigrationCountsEarlierRecordingsAndGoesDown: the totals kept by triggers start
// from the recordings an earlier version stored, and 00006 can be rolled back and applied
// again.
func TestCatalogMigrationCountsEarlierRecordingsAndGoesDown(t *testing.T) {
	t.Parallel()
	ctx, path := t.Context(), filepath.Join(t.TempDir(), "liverec.db")
	raw, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer func() { require.NoError(t, raw.Close()) }()
	fsys, err := fs.Sub(migrations, "migrations/sqlite")
	require.NoError(t, err)
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, fsys)
	require.NoError(t, err)
	_, err = p.UpTo(ctx, 5)
	require.NoError(t, err)
	for i, state := range []string{"active", "over", "over"} {
		_, err = raw.ExecContext(ctx, `INSERT INTO recordings (id, project, domain, app, stream, state, started_at)
			VALUES ($1, 'p1', 'a.com', 'live', 's1', $2, '2026-01-01T00:00:00.000000Z')`,
			store.NewID(store.RecordingPrefix), state)
		require.NoError(t, err, i)
	}
	_, err = p.Up(ctx)
	require.NoError(t, err)

	db := &DB{read: raw, d: sqliteDialect}
	_, total, err := db.RecordingList(ctx, store.RecordingFilter{Project: "p1", State: recording.RecordingOver})
	require.NoError(t, err)
	require.Equal(t, 2, total)
	_, total, err = db.RecordingList(ctx, store.RecordingFilter{Project: "p1"})
	require.NoError(t, err)
	require.Equal(t, 3, total)

	_, err = p.DownTo(ctx, 5)
	require.NoError(t, err)
	var n int
	require.NoError(t, raw.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM sqlite_master WHERE name IN ('slices', 'recording_counts', 'recordings_count_insert')`).Scan(&n))
	require.Zero(t, n)
	_, err = p.Up(ctx)
	require.NoError(t, err)
}
