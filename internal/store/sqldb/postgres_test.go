package sqldb

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/store/storetest"
	"github.com/liverec/liverec/internal/testutil"
)

// openPostgres returns a fresh database on the test binary's throw-away PostgreSQL server.
func openPostgres(t *testing.T) *DB {
	t.Helper()
	db, err := OpenPostgres(t.Context(), testutil.PostgresFrom(t, "liverec_migrated", migratePostgres))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

// migratePostgres migrates the template database the contract's databases copy: the
// migrations run once per test binary, not for each of the ~180 subtests.
func migratePostgres(dsn string) error {
	db, err := OpenPostgres(context.Background(), dsn)
	if err != nil {
		return err
	}
	return db.Close()
}

// TestStorePostgres runs the same contract as TestStore, on a real PostgreSQL.
func TestStorePostgres(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t *testing.T) storetest.Driver { return openPostgres(t) })
}
