package app

import (
	"net/http"
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests: every App.Run must stop all it started.
func TestMain(m *testing.M) { goleak.VerifyTestMain(idleClosed{m}) }

// idleClosed closes the keep-alive connections of the tests' own http.Get calls before the
// leak check: their read and write loops belong to the default client, not to the App.
// (goleak.Cleanup would run after the check, and in place of os.Exit: a leak would not fail.)
type idleClosed struct{ m *testing.M }

func (c idleClosed) Run() int {
	code := c.m.Run()
	http.DefaultClient.CloseIdleConnections()
	return code
}
