package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/store/storetest"
)

// open returns a fresh database in a real file, so the test runs in WAL mode like production
// (an in-memory database silently ignores journal_mode=WAL).
func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(t.Context(), path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "liverec.db"))
	})
}

func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "liverec.db")
	db, err := Open(ctx, path)
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
	_, err := Open(t.Context(), filepath.Join(t.TempDir(), "missing", "dir", "liverec.db"))
	require.Error(t, err)
}
