package sqldb_test

import (
	"testing"

	"github.com/liverec/liverec/internal/store/sqldb/sqldbtest"
	"github.com/liverec/liverec/internal/store/storetest"
)

// TestStore runs the store contract on SQLite. Each of its ~180 subtests starts from a copy of
// one migrated database (sqldbtest): the migrations themselves are tested where a database is
// opened new (TestReopenKeepsDataAndMigratesOnce and the migration tests).
func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Exercise(t, func(t *testing.T) storetest.Driver { return sqldbtest.OpenSQLite(t) })
}
