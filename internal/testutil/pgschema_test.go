package testutil

import (
	"database/sql"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"
)

// TestPostgresSchemaMigrates applies the store's PostgreSQL migrations, takes them down and
// applies them again on a database of the harness, and checks the recording counts the
// schema's triggers keep. The store's own tests only ever migrate up.
func TestPostgresSchemaMigrates(t *testing.T) {
	ctx := t.Context()
	db, err := sql.Open("pgx", Postgres(t))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	p, err := goose.NewProvider(goose.DialectPostgres, db, os.DirFS("../store/sqldb/migrations/postgres"))
	require.NoError(t, err)

	_, err = p.Up(ctx)
	require.NoError(t, err)
	_, err = p.DownTo(ctx, 0)
	require.NoError(t, err)
	var tables int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_tables
		WHERE schemaname = 'public' AND tablename <> 'goose_db_version'`).Scan(&tables))
	require.Zero(t, tables, "tables left after Down")
	_, err = p.Up(ctx)
	require.NoError(t, err)

	exec := func(query string, args ...any) {
		t.Helper()
		_, execErr := db.ExecContext(ctx, query, args...)
		require.NoError(t, execErr, query)
	}
	exec(`INSERT INTO recordings (id, project, domain, app, stream, state, started_at, mode)
		VALUES ('r1', 'p', 'd', 'a', 's', 'live', $1, 'rule'), ('r2', 'p', 'd', 'a', 's', 'live', $1, 'rule'),
			('r3', 'p', 'd', 'a', 's', 'live', $1, 'manual')`, "2026-01-02T03:04:05.000000Z")
	exec(`UPDATE recordings SET state = 'ended', ended_at = started_at + interval '1 hour' WHERE id = 'r1'`)
	exec(`UPDATE recordings SET label = 'x' WHERE id = 'r2'`) // not counted: the trigger's WHEN
	exec(`DELETE FROM recordings WHERE id = 'r3'`)
	counts := map[string]int{}
	rows, err := db.QueryContext(ctx, `SELECT state || '/' || mode, n FROM recording_counts WHERE project = 'p'`)
	require.NoError(t, err)
	defer func() { require.NoError(t, rows.Close()) }()
	for rows.Next() {
		var (
			key string
			n   int
		)
		require.NoError(t, rows.Scan(&key, &n))
		counts[key] = n
	}
	require.NoError(t, rows.Err())
	require.Equal(t, map[string]int{"live/rule": 1, "ended/rule": 1, "live/manual": 0}, counts)

	var total int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM recording_counts`).Scan(&total))
	require.Equal(t, 2, total)
	var locked bool
	require.NoError(t, db.QueryRowContext(ctx, `UPDATE recordings SET locked = $1 WHERE id = 'r1'
		RETURNING locked`, true).Scan(&locked))
	require.True(t, locked)
}
