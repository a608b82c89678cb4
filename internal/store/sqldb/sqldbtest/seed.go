package sqldbtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/store/sqldb"
)

// migrated is the test binary's migrated, empty SQLite database, made once. Under the race
// detector a new file's migrations cost ~0.6 s of CPU and a copy of the result ~20 ms; the
// suite opens a fresh database several hundred times. It is the package's only mutable state.
var migrated struct {
	once  sync.Once
	bytes []byte
	err   error
}

// migratedSQLite returns the bytes of a database file as sqldb.OpenSQLite leaves a new one:
// migrated, empty and checkpointed (closing the last connection folds the WAL into the file).
func migratedSQLite() ([]byte, error) {
	migrated.once.Do(func() {
		dir, err := os.MkdirTemp("", "liverec-sqlite-template-")
		if err != nil {
			migrated.err = fmt.Errorf("make the template's folder: %w", err)
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "liverec.db")
		db, err := sqldb.OpenSQLite(context.Background(), path)
		if err != nil {
			migrated.err = fmt.Errorf("migrate the template database: %w", err)
			return
		}
		if err = db.Close(); err != nil {
			migrated.err = fmt.Errorf("close the template database: %w", err)
			return
		}
		if _, err = os.Stat(path + "-wal"); err == nil {
			migrated.err = errors.New("the template database kept a WAL after its close")
			return
		}
		migrated.bytes, migrated.err = os.ReadFile(path)
	})
	return migrated.bytes, migrated.err
}

// SeedSQLite writes at path a copy of a freshly migrated, empty SQLite database, so that
// liverec or sqldb.OpenSQLite opening it finds its migrations done, as at a second start.
// The copy is what a first start makes: sqldb.OpenSQLite made it. path must not exist.
func SeedSQLite(tb testing.TB, path string) {
	tb.Helper()
	b, err := migratedSQLite()
	require.NoError(tb, err)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	require.NoError(tb, err, "seed the test database")
	_, err = f.Write(b)
	require.NoError(tb, errors.Join(err, f.Close()), "seed the test database")
}

// OpenSQLiteAt seeds path (see SeedSQLite) and opens it, closed when tb ends.
func OpenSQLiteAt(tb testing.TB, path string) *sqldb.DB {
	tb.Helper()
	SeedSQLite(tb, path)
	db, err := sqldb.OpenSQLite(context.Background(), path)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	return db
}
