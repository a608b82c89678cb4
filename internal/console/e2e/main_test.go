package e2e

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests: every liverec, browser and publisher
// a test starts is stopped by its cleanup.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
