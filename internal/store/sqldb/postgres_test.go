package sqldb

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/store/storetest"
	"github.com/liverec/liverec/internal/testutil"
)

// openPostgres returns a fresh database on the test binary's throw-away PostgreSQL server.
func openPostgres(t *testing.T) *DB {
	t.Helper()
	db, err := OpenPostgres(t.Context(), testutil.Postgres(t))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

// TestStorePostgres runs the same contract as TestStore, on a real PostgreSQL (§12).
func TestStorePostgres(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t *testing.T) storetest.Driver { return openPostgres(t) })
}
