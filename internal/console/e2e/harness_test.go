package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Selectors of the console shell that the harness relies on (the conventions of the console).
const (
	signInForm  = "form#signin"
	signedInNav = "#nav"
)

// harness is a test liverec plus a browser on it: what every console test starts with.
type harness struct {
	*browser
	srv *server
}

// newHarness starts liverec (with the optional YAML config) and a headless Chromium. Both stop
// when the test ends, the browser first; then the browser's findings are checked.
func newHarness(t *testing.T, yaml string) *harness {
	t.Helper()
	srv := startLiverec(t, yaml)
	return &harness{browser: newBrowser(t), srv: srv}
}

// consoleURL returns the console's URL with an optional hash route ("#/live").
func (h *harness) consoleURL(route string) string {
	return h.srv.URL("/console/") + route
}

// openConsole loads the console (a full page load) at the hash route ("" or "#/live").
func (h *harness) openConsole(route string) {
	h.t.Helper()
	h.open(h.consoleURL(route))
}

// signIn signs in with the admin key: it loads the console unless it is already open, fills
// form#signin and submits it with its button, then waits for the form to go and the
// navigation to show.
func (h *harness) signIn() {
	h.t.Helper()
	h.signInWith(adminKeyID, adminKeySecret)
}

// signInWith is signIn with another access key (for instance one of another project).
func (h *harness) signInWith(keyID, secret string) {
	h.t.Helper()
	if !strings.HasPrefix(eval[string](h.browser, "location.href"), h.consoleURL("")) {
		h.openConsole("")
	}
	h.waitVisible(signInForm)
	h.setValue(signInForm+` input[name="key_id"]`, keyID)
	h.setValue(signInForm+` input[name="secret"]`, secret)
	h.click(signInForm + ` button[type="submit"]`)
	h.run("wait for the sign-in form to go", chromedp.WaitNotVisible(chromedp.CSS(signInForm)))
	h.waitVisible(signedInNav)
}

// eventually polls cond until it holds, failing the test with what after actionTimeout. For
// conditions on the Go side (recorded events, the store); the page has waitFor.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(actionTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, actionTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
