package notify

import (
	"testing"

	"github.com/liverec/liverec/internal/testutil"
)

// TestMain stops the benchmarks' PostgreSQL server after the tests, then checks for leaks.
func TestMain(m *testing.M) { testutil.PostgresMain(m) }
