package testutil

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

func pgConnect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, conn.Close(context.Background())) })
	return conn
}

func TestPostgresDatabasesAreSeparate(t *testing.T) {
	ctx := t.Context()
	dsnA, dsnB := Postgres(t), Postgres(t)
	require.NotEqual(t, dsnA, dsnB)
	a, b := pgConnect(t, dsnA), pgConnect(t, dsnB)

	var nameA, nameB string
	require.NoError(t, a.QueryRow(ctx, `SELECT current_database()`).Scan(&nameA))
	require.NoError(t, b.QueryRow(ctx, `SELECT current_database()`).Scan(&nameB))
	require.NotEqual(t, nameA, nameB)

	for _, conn := range []*pgx.Conn{a, b} {
		_, err := conn.Exec(ctx, `CREATE TABLE things (name TEXT NOT NULL)`)
		require.NoError(t, err)
	}
	_, err := a.Exec(ctx, `INSERT INTO things (name) VALUES ('only in a')`)
	require.NoError(t, err)
	var inA, inB int
	require.NoError(t, a.QueryRow(ctx, `SELECT COUNT(*) FROM things`).Scan(&inA))
	require.NoError(t, b.QueryRow(ctx, `SELECT COUNT(*) FROM things`).Scan(&inB))
	require.Equal(t, 1, inA)
	require.Equal(t, 0, inB)
}

func TestPostgresDatabaseIsDroppedAfterTheTest(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var (
		dsn      string
		leftOpen *pgx.Conn
	)
	require.True(t, t.Run("user", func(t *testing.T) {
		dsn = Postgres(t)
		var err error
		leftOpen, err = pgx.Connect(ctx, dsn) // the drop must end it, not wait for it
		require.NoError(t, err)
	}))
	_ = leftOpen.Close(ctx) // its server process is gone: an error is expected
	conn, err := pgx.Connect(ctx, dsn)
	if err == nil {
		_ = conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "connect to a dropped database: %v", err)
	require.Equal(t, "3D000", pgErr.Code) // invalid_catalog_name: the database does not exist
}

// A start must not take another cluster's server, answering on the port picked, for its own.
func TestPostgresStartKnowsItsOwnServer(t *testing.T) {
	cfg, err := pgx.ParseConfig(Postgres(t))
	require.NoError(t, err)
	port := int(cfg.Port)
	sharedPostgres.mu.Lock()
	data := filepath.Join(sharedPostgres.dir, "data")
	sharedPostgres.mu.Unlock()

	require.NoError(t, waitPostgres(port, data, nil))
	err = waitPostgres(port, filepath.Join(t.TempDir(), "data"), nil)
	require.ErrorIs(t, err, errPortInUse)
}
