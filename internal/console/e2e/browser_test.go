package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/liverec/liverec/internal/testutil"
)

// actionTimeout bounds every action and wait of the harness: a page that does not get there
// in this time fails the test with what it was waiting for.
const actionTimeout = 20 * time.Second

// closeTimeout bounds the graceful close of the browser at cleanup.
const closeTimeout = 10 * time.Second

// Viewports: the desktop window the browser starts with, and a phone (iPhone X size).
const (
	desktopWidth, desktopHeight = 1280, 900
	phoneWidth, phoneHeight     = 375, 812
)

// browser is one headless Chromium with one tab, started for one test. It records every
// request the tab makes and every error it reports; at cleanup a request off the loopback
// address or an error not allowed by allowError fails the test.
type browser struct {
	t     *testing.T
	ctx   context.Context // the tab; its first Run started the browser, so it has no deadline
	shots string          // where screenshots go (the test's temp dir)
	nshot int

	mu        sync.Mutex
	requests  []string // URLs, in the order the tab asked for them
	responses []response
	problems  []string // console errors, uncaught exceptions, log errors (formatted)
	allowed   []*regexp.Regexp
}

// response is what the tab received for one request (from network.EventResponseReceived).
type response struct {
	URL      string
	Status   int
	MimeType string
	Type     string      // resource type: Document, Script, Fetch, XHR, Media…
	Header   http.Header // canonical keys
}

// chromiumPath finds the browser: LIVEREC_CHROMIUM (set by scripts/test), else chromium on
// PATH. A missing browser fails the test: the test command installs it, so it is a broken
// setup, never a reason to skip.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LIVEREC_CHROMIUM"); p != "" {
		exe, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("LIVEREC_CHROMIUM=%s is not an executable browser: %v", p, err)
		}
		return exe
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if exe, err := exec.LookPath(name); err == nil {
			return exe
		}
	}
	t.Fatalf("headless Chromium is required and was not found: set LIVEREC_CHROMIUM or install " +
		"Debian's chromium package (scripts/test installs it)")
	return ""
}

// deadProxy returns the address of a loopback port nothing listens on. The browser sends
// every non-loopback request to it as its proxy (loopback always bypasses proxies), so an
// outside request fails at once and never leaves the machine, while the request is still
// recorded and reported.
func deadProxy(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("reserve a port for the dead proxy: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("close the dead proxy's port: %v", err)
	}
	return addr
}

// newBrowser starts a headless Chromium with a fresh profile and a 1280x900 window, and
// closes it when the test ends (after which it checks the recorded requests and errors).
func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := chromiumPath(t)
	profile := t.TempDir() // made before the cleanup below, so removed after the browser exits
	b := &browser{t: t, shots: t.TempDir()}
	var output testutil.SyncBuffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.ProxyServer(deadProxy(t)),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(desktopWidth, desktopHeight),
		chromedp.CombinedOutput(&output),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(b.onEvent))
	b.ctx = tabCtx
	t.Cleanup(func() {
		if t.Failed() {
			b.screenshotIfOpen("failure")
		}
		cctx, cancel := context.WithTimeout(tabCtx, closeTimeout)
		if err := chromedp.Cancel(cctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("close the browser: %v", err)
		}
		cancel()
		cancelTab()
		cancelAlloc() // waits until the browser process is gone
		for _, f := range b.findings() {
			t.Error(f)
		}
	})
	// The first Run starts the browser; it gets no deadline, which would end the browser.
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("start headless Chromium %s: %v\n%s", exe, err, output.String())
	}
	return b
}

// run runs actions on the tab within actionTimeout; an error fails the test with what.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// open navigates the tab to url and waits for the page's load event.
func (b *browser) open(url string) {
	b.t.Helper()
	b.run("open "+url, chromedp.Navigate(url))
}

// route moves the single-page console to a hash route ("#/live") without reloading it.
func (b *browser) route(hash string) {
	b.t.Helper()
	eval[string](b, "location.hash = "+jsString(hash))
}

// phone emulates a 375x812 phone screen (mobile viewport, portrait) until desktop is called.
func (b *browser) phone() {
	b.t.Helper()
	b.run("emulate a phone", chromedp.EmulateViewport(phoneWidth, phoneHeight,
		chromedp.EmulateMobile, chromedp.EmulatePortrait))
}

// desktop returns to the 1280x900 window the browser started with.
func (b *browser) desktop() {
	b.t.Helper()
	// An explicit desktop viewport: EmulateReset alone left full-page screenshots 375 px wide.
	b.run("leave phone emulation", chromedp.EmulateViewport(desktopWidth, desktopHeight))
}

// eval evaluates a JavaScript expression in the page (awaiting it when it is a promise) and
// decodes its value into T. An exception or an undefined/null result for a T that cannot be
// nil fails the test.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s) // a string always encodes
	return string(q)
}

// waitVisible waits until the first element matching the CSS selector is visible.
func (b *browser) waitVisible(sel string) {
	b.t.Helper()
	b.run("wait for "+sel+" to be visible", chromedp.WaitVisible(chromedp.CSS(sel)))
}

// waitGone waits until no element matches the CSS selector.
func (b *browser) waitGone(sel string) {
	b.t.Helper()
	b.run("wait for "+sel+" to go away", chromedp.WaitNotPresent(chromedp.CSS(sel)))
}

// waitFor waits until the JavaScript expression is truthy; what names the condition in the
// failure message.
func (b *browser) waitFor(what, js string) {
	b.t.Helper()
	b.run("wait for "+what, chromedp.Poll[chromedp.Void](js,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(actionTimeout)))
}

// waitText waits until the first element matching the CSS selector shows text containing
// substr (innerText: what a reader sees). On time-out it reports the text it last had.
func (b *browser) waitText(sel, substr string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.innerText.includes(%s) })()`,
		jsString(sel), jsString(substr))
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(actionTimeout)))
	if err != nil {
		last := eval[string](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e ? e.innerText : "(no such element)" })()`, jsString(sel)))
		b.t.Fatalf("wait for %s to show %q: %v; it shows %q", sel, substr, err, last)
	}
}

// text returns the visible text of the first element matching the CSS selector.
func (b *browser) text(sel string) string {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitReady(chromedp.CSS(sel)))
	return eval[string](b, fmt.Sprintf(`document.querySelector(%s).innerText`, jsString(sel)))
}

// count returns how many elements match the CSS selector now.
func (b *browser) count(sel string) int {
	b.t.Helper()
	return eval[int](b, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel)))
}

// click waits until the element is visible and clicks it with the mouse.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.run("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// sendKeys types keys into the element (focusing it first); "\n" is Enter, and the kb
// package of chromedp names the other special keys (kb.Tab, kb.Escape…).
func (b *browser) sendKeys(sel, keys string) {
	b.t.Helper()
	b.run("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), keys, chromedp.NodeVisible))
}

// setValue sets the value of an input, textarea or select and dispatches input and change
// events, as typing or choosing would. A select without such an option fails the test.
func (b *browser) setValue(sel, value string) {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitReady(chromedp.CSS(sel)))
	got := eval[string](b, fmt.Sprintf(`(() => {
		const e = document.querySelector(%s);
		e.focus();
		e.value = %s;
		e.dispatchEvent(new Event("input", {bubbles: true}));
		e.dispatchEvent(new Event("change", {bubbles: true}));
		return e.value;
	})()`, jsString(sel), jsString(value)))
	if got != value {
		b.t.Fatalf("set %s to %q: it holds %q (no such option, or the page rewrote it)", sel, value, got)
	}
}

// setChecked checks or unchecks a checkbox or radio button and dispatches input and change
// events.
func (b *browser) setChecked(sel string, on bool) {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitReady(chromedp.CSS(sel)))
	eval[bool](b, fmt.Sprintf(`(() => {
		const e = document.querySelector(%s);
		e.checked = %t;
		e.dispatchEvent(new Event("input", {bubbles: true}));
		e.dispatchEvent(new Event("change", {bubbles: true}));
		return e.checked;
	})()`, jsString(sel), on))
}

// screenshot writes a full-page PNG named NN-name.png into the test's temp dir and logs its
// path. When LIVEREC_E2E_SCREENSHOTS names a directory, a copy goes to DIR/<test name>/ too,
// to keep them after the run.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	return b.saveShot(name, png)
}

// screenshotIfOpen takes a screenshot at cleanup when the test failed; an error is only
// logged, since the page may be what broke.
func (b *browser) screenshotIfOpen(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.saveShot(name, png)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (b *browser) saveShot(name string, png []byte) string {
	b.t.Helper()
	b.nshot++
	file := fmt.Sprintf("%02d-%s.png", b.nshot, unsafeName.ReplaceAllString(name, "_"))
	p := filepath.Join(b.shots, file)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatalf("write screenshot: %v", err)
	}
	b.t.Logf("screenshot %s: %s", name, p)
	if dir := os.Getenv("LIVEREC_E2E_SCREENSHOTS"); dir != "" {
		keep := filepath.Join(dir, unsafeName.ReplaceAllString(b.t.Name(), "_"))
		if err := os.MkdirAll(keep, 0o755); err != nil {
			b.t.Fatalf("keep screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(keep, file), png, 0o644); err != nil {
			b.t.Fatalf("keep screenshot: %v", err)
		}
	}
	return p
}
