package sqldb

import (
	"testing"

	"github.com/liverec/liverec/internal/testutil"
)

// TestMain stops the throw-away PostgreSQL server after the tests, then checks for leaks.
func TestMain(m *testing.M) { testutil.PostgresMain(m) }
