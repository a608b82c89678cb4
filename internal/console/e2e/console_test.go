package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"
)

// TestConsoleLoadsOffline loads the console signed out: the sign-in form shows, the page
// comes with a Content-Security-Policy that forbids inline scripts and outside origins, and
// it fits a phone screen. The harness checks that nothing left the loopback address and that
// no error was reported.
func TestConsoleLoadsOffline(t *testing.T) {
	h := newHarness(t, "")
	h.openConsole("")
	h.waitVisible(signInForm)
	h.waitVisible(signInForm + ` input[name="key_id"]`)
	h.waitVisible(signInForm + ` input[name="secret"]`)
	require.False(t, eval[bool](h.browser, `document.querySelector(`+jsString(signedInNav)+`).checkVisibility()`),
		"the page navigation shows while signed out")
	h.screenshot("signin")

	r, ok := h.response(h.consoleURL(""))
	require.True(t, ok, "no response recorded for %s", h.consoleURL(""))
	require.Equal(t, 200, r.Status)
	csp := r.Header.Get("Content-Security-Policy")
	require.NotEmpty(t, csp, "the console page has no Content-Security-Policy header")
	scripts := cspDirective(csp, "script-src")
	require.NotEmpty(t, scripts, "CSP %q sets neither script-src nor default-src", csp)
	for _, bad := range []string{"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:", "data:"} {
		require.NotContains(t, strings.Fields(scripts), bad, "CSP %q lets scripts come from %s", csp, bad)
	}

	h.phone()
	h.waitVisible(signInForm)
	require.LessOrEqual(t, eval[int](h.browser, `document.documentElement.scrollWidth`), phoneWidth,
		"the sign-in page scrolls sideways on a 375 px screen")
	h.screenshot("signin-phone")
}

// cspDirective returns the sources of a CSP directive, falling back to default-src as
// browsers do for fetch directives; "" when neither is set.
func cspDirective(csp, name string) string {
	var fallback string
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		switch strings.ToLower(f[0]) {
		case name:
			return strings.Join(f[1:], " ")
		case "default-src":
			fallback = strings.Join(f[1:], " ")
		}
	}
	return fallback
}

// TestHarnessSignsIn checks the harness's sign-in against the console: the form takes the
// admin key and the page navigation shows, with no error.
func TestHarnessSignsIn(t *testing.T) {
	h := newHarness(t, "")
	h.signIn()
	require.False(t, eval[bool](h.browser, `document.querySelector(`+jsString(signInForm)+`).checkVisibility()`),
		"the sign-in form is still shown after signing in")
	h.screenshot("signed-in")
}

// TestSignInWithKeyboard signs in by typing: the key id field has the focus on load, Tab
// moves to the secret, Enter submits.
func TestSignInWithKeyboard(t *testing.T) {
	h := newHarness(t, "")
	h.openConsole("")
	h.waitVisible(signInForm)
	h.waitFor("the key id field to have the focus", `document.activeElement && document.activeElement.name === "key_id"`)
	h.sendKeys(signInForm+` input[name="key_id"]`, adminKeyID+kb.Tab)
	require.Equal(t, "secret", eval[string](h.browser, `document.activeElement.name`), "Tab does not lead to the secret")
	h.sendKeys(signInForm+` input[name="secret"]`, adminKeySecret+"\n")
	h.waitVisible(signedInNav)
	h.run("wait for the sign-in form to go", chromedp.WaitNotVisible(chromedp.CSS(signInForm)))
	h.screenshot("signed-in-by-keyboard")
}
