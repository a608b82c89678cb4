package sqldb

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// open returns a fresh database in a real file, so the test runs in WAL mode like production
// (an in-memory database silently ignores journal_mode=WAL).
func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := OpenSQLite(t.Context(), path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "liverec.db")
	db, err := OpenSQLite(ctx, path)
	require.NoError(t, err)
	r := recording.DefaultRule()
	require.NoError(t, db.RuleInsert(ctx, &r))
	require.NoError(t, db.Close())

	db = open(t, path)
	got, err := db.RuleGet(ctx, r.Project, r.ID)
	require.NoError(t, err)
	require.Equal(t, &r, got)

	var mode string
	require.NoError(t, db.read.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
	require.Equal(t, "wal", mode)
	var fk int
	require.NoError(t, db.write.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk))
	require.Equal(t, 1, fk)
}

func TestReadPoolIsQueryOnly(t *testing.T) {
	t.Parallel()
	db := open(t, filepath.Join(t.TempDir(), "liverec.db"))
	_, err := db.read.ExecContext(t.Context(), "DELETE FROM rules")
	require.Error(t, err)
}

func TestOpenFailsOnABadPath(t *testing.T) {
	t.Parallel()
	_, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "missing", "dir", "liverec.db"))
	require.Error(t, err)
}

// The contract cannot see pruning; here the table must not keep nonces that expired.
func TestNonceUsePrunesExpiredNonces(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := open(t, filepath.Join(t.TempDir(), "liverec.db"))
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, db.NonceUse(ctx, "k1", "old", t0.Add(time.Minute), t0))
	require.NoError(t, db.NonceUse(ctx, "k2", "live", t0.Add(time.Hour), t0))
	require.NoError(t, db.NonceUse(ctx, "k1", "new", t0.Add(time.Hour), t0.Add(2*time.Minute)))

	var nonces []string
	rows, err := db.read.QueryContext(ctx, "SELECT nonce FROM nonces ORDER BY nonce")
	require.NoError(t, err)
	defer func() { require.NoError(t, rows.Close()) }()
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		nonces = append(nonces, n)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"live", "new"}, nonces)
}

// TestMigrationMarksEarlierDatabasesSeeded: a database an earlier version seeded (it holds a
// rule) is not seeded again after the migration that added the marker, and one whose first
// start failed before seeding (migrated, empty) is.
func TestMigrationMarksEarlierDatabasesSeeded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		withRule bool
		want     bool
	}{{"SeededBefore", true, false}, {"FailedBeforeSeeding", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, path := t.Context(), filepath.Join(t.TempDir(), "liverec.db")
			raw, err := sql.Open("sqlite", path)
			require.NoError(t, err)
			fsys, err := fs.Sub(migrations, "migrations/sqlite")
			require.NoError(t, err)
			p, err := goose.NewProvider(goose.DialectSQLite3, raw, fsys)
			require.NoError(t, err)
			_, err = p.UpTo(ctx, 3)
			require.NoError(t, err)
			if tc.withRule {
				// In version 3's columns: insertRule writes the latest ones.
				_, err = raw.ExecContext(ctx, `INSERT INTO rules (id, project, dialect, domain, app, stream,
					mode, formats, storage_endpoint, storage_bucket, created_at, updated_at)
					VALUES ('r_1', 'default', 'native', '*', '*', '*', 'auto', '[]', 'local', 'recordings', $1, $1)`,
					fmtTime(time.Now()))
				require.NoError(t, err)
			}
			require.NoError(t, raw.Close())

			db := open(t, path)
			def := recording.DefaultRule()
			seeded, err := db.Seed(ctx, &def)
			require.NoError(t, err)
			require.Equal(t, tc.want, seeded)
		})
	}
}
