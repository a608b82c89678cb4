package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
)

// What the browser reports, and the checks made on it at cleanup (acceptance 4): no request
// off the loopback address, no uncaught exception, console error or browser log error.

// onEvent records what the tab reports. It runs on chromedp's reading goroutine, so it only
// appends under the lock.
func (b *browser) onEvent(ev any) {
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		u := e.Request.URL
		if strings.HasPrefix(u, "data:") && len(u) > 64 {
			u = u[:64] + "…"
		}
		b.mu.Lock()
		b.requests = append(b.requests, u)
		b.mu.Unlock()
	case *network.EventResponseReceived:
		r := response{URL: e.Response.URL, Status: int(e.Response.Status), MimeType: e.Response.MimeType,
			Type: string(e.Type), Header: http.Header{}}
		for k, v := range e.Response.Headers {
			// Repeated headers arrive joined by newlines.
			for _, line := range strings.Split(fmt.Sprint(v), "\n") {
				r.Header.Add(k, line)
			}
		}
		b.mu.Lock()
		b.responses = append(b.responses, r)
		b.mu.Unlock()
	case *runtime.EventExceptionThrown:
		b.problem("uncaught exception: " + exceptionText(e.ExceptionDetails))
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			b.problem("console." + string(e.Type) + ": " + argsText(e.Args))
		}
	case *log.EventEntryAdded:
		if e.Entry != nil && e.Entry.Level == log.EntryLevelError {
			p := fmt.Sprintf("browser log error (%s): %s", e.Entry.Source, e.Entry.Text)
			if e.Entry.URL != "" {
				p += " [" + e.Entry.URL + "]"
			}
			b.problem(p)
		}
	}
}

func (b *browser) problem(p string) {
	b.mu.Lock()
	b.problems = append(b.problems, p)
	b.mu.Unlock()
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "(no details)"
	}
	s := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		s += " " + d.Exception.Description
	}
	if d.URL != "" {
		s += fmt.Sprintf(" [%s:%d:%d]", d.URL, d.LineNumber+1, d.ColumnNumber+1)
	}
	return s
}

func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case a == nil:
		case len(a.Value) > 0:
			var s string
			if json.Unmarshal(a.Value, &s) == nil {
				parts = append(parts, s)
			} else {
				parts = append(parts, string(a.Value))
			}
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

// isLoopback reports whether host (as in a URL, IPv6 in brackets) is one a console page may
// talk to.
func isLoopback(host string) bool {
	switch strings.ToLower(host) {
	case "127.0.0.1", "[::1]", "localhost":
		return true
	}
	return false
}

// outsideRequests returns the URLs that went somewhere other than the loopback address.
// data:, blob: and about: URLs never leave the page.
func outsideRequests(urls []string) []string {
	var out []string
	for _, u := range urls {
		scheme, rest, ok := strings.Cut(u, ":")
		switch strings.ToLower(scheme) {
		case "data", "blob", "about":
			continue
		case "http", "https", "ws", "wss":
			host := strings.TrimPrefix(rest, "//")
			if i := strings.IndexAny(host, "/?#"); i >= 0 {
				host = host[:i]
			}
			if i := strings.LastIndex(host, "@"); i >= 0 {
				host = host[i+1:]
			}
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
				if strings.Contains(h, ":") {
					host = "[" + h + "]"
				}
			}
			if ok && isLoopback(host) {
				continue
			}
		}
		out = append(out, u)
	}
	return out
}

// unexpectedProblems splits the recorded browser errors into those no allowed pattern
// matches (they fail the test) and those one does.
func unexpectedProblems(problems []string, allowed []*regexp.Regexp) (unexpected, tolerated []string) {
next:
	for _, p := range problems {
		for _, re := range allowed {
			if re.MatchString(p) {
				tolerated = append(tolerated, p)
				continue next
			}
		}
		unexpected = append(unexpected, p)
	}
	return unexpected, tolerated
}

// findings returns what fails the test at cleanup: every request off the loopback address and
// every browser error that allowError does not cover. Tolerated errors are logged.
func (b *browser) findings() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, u := range outsideRequests(b.requests) {
		out = append(out, "the page sent a request off the loopback address: "+u)
	}
	unexpected, tolerated := unexpectedProblems(b.problems, b.allowed)
	for _, p := range tolerated {
		b.t.Logf("allowed browser error: %s", p)
	}
	for _, p := range unexpected {
		out = append(out, "the page reported an error: "+p)
	}
	return out
}

// clearFindings forgets the recorded requests and errors. Only the harness's own tests use
// it, after checking that findings reported what they provoked.
func (b *browser) clearFindings() {
	b.mu.Lock()
	b.requests, b.problems = nil, nil
	b.mu.Unlock()
}

// allowError declares a browser error the test expects: a recorded error that the regular
// expression matches does not fail the test. Keep the pattern narrow (status, path), e.g.
// `status of 401 .*\[http://[^ ]+/api/v1/` for the API calls after sign-out.
func (b *browser) allowError(pattern string) {
	b.t.Helper()
	re, err := regexp.Compile(pattern)
	if err != nil {
		b.t.Fatalf("allowError(%q): %v", pattern, err)
	}
	b.mu.Lock()
	b.allowed = append(b.allowed, re)
	b.mu.Unlock()
}

// requestsSeen returns a copy of the URLs the tab asked for so far.
func (b *browser) requestsSeen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests...)
}

// response returns the last response whose URL is url (without the fragment).
func (b *browser) response(url string) (response, bool) {
	url, _, _ = strings.Cut(url, "#")
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.responses) - 1; i >= 0; i-- {
		if b.responses[i].URL == url {
			return b.responses[i], true
		}
	}
	return response{}, false
}
