// Package sqldbtest opens the stores the benchmarks of other packages compare: SQLite as
// liverec opens it and PostgreSQL on a server with its durability defaults, and seeds migrated
// SQLite databases for the tests of other packages. It lives
// apart from sqldb because it needs testutil, whose PostgreSQL harness sqldb's own tests use.
package sqldbtest

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/store/sqldb"
	"github.com/liverec/liverec/internal/testutil"
)

// Database is a database a benchmark runs the store on.
type Database struct {
	Name string
	Open func(testing.TB) *sqldb.DB
}

// Databases are SQLite as liverec opens it (WAL, synchronous NORMAL) and PostgreSQL on a server
// with its durability defaults, with commits waiting for the disk (its default) and not
// (synchronous_commit off: a crash may lose the last commits, as SQLite's NORMAL may).
func Databases() []Database {
	return []Database{
		{"sqlite", OpenSQLite},
		{"postgres", func(tb testing.TB) *sqldb.DB { return OpenPostgresDurable(tb, "on") }},
		{"postgres-async-commit", func(tb testing.TB) *sqldb.DB { return OpenPostgresDurable(tb, "off") }},
	}
}

// OpenSQLite opens a fresh SQLite database in tb's temp dir, closed when tb ends.
func OpenSQLite(tb testing.TB) *sqldb.DB {
	tb.Helper()
	return OpenSQLiteAt(tb, filepath.Join(tb.TempDir(), "liverec.db"))
}

// OpenPostgresDurable opens a fresh database on the test binary's durable PostgreSQL server,
// its sessions with synchronous_commit set to syncCommit, and checks that the server does
// wait on the disk: the benchmarks' numbers are quoted as a production server's.
func OpenPostgresDurable(tb testing.TB, syncCommit string) *sqldb.DB {
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
