package console

import (
	"path"
	"regexp"
	"strings"
	"testing"
)

// What no console file (vendor/ aside, checked by its pinned sum) may hold: a link to another
// origin (the console works offline and the CSP would block it anyway), a source-map link (a
// devtools 404), a javascript: URL or eval (blocked by the CSP).
var (
	outsideURL = regexp.MustCompile(`(?i)https?://|\b(src|href|action|poster)\s*=\s*["']?//|url\(\s*["']?//|@import`)
	sourceMap  = regexp.MustCompile(`sourceMappingURL`)
	scriptURL  = regexp.MustCompile(`(?i)javascript:`)
	// Not links, so left out of the scan: an SVG's namespace (a standalone .svg file needs it)
	// and a URL on the reserved example domains (RFC 2606), say a form's placeholder.
	notALink = regexp.MustCompile(`\sxmlns(:[\w-]+)?\s*=\s*["']http://www\.w3\.org/[^"']*["']|` +
		`(?i)https?://([a-z0-9-]+\.)*example\.(com|org|net)([:/"'\s]|$)`)
	evalCall     = regexp.MustCompile(`\beval\s*\(|\bnew\s+Function\s*\(`)
	htmlTag      = regexp.MustCompile(`(?s)<[A-Za-z][^>]*>`)
	handlerAttr  = regexp.MustCompile(`(?i)\son\w+\s*=`)
	styleAttr    = regexp.MustCompile(`(?i)\sstyle\s*=`)
	scriptTag    = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)
	srcAttr      = regexp.MustCompile(`(?i)\ssrc\s*=`)
	styleElement = regexp.MustCompile(`(?i)<style\b`)
	// In a module, HTML built as text (innerHTML, templates) with a handler or style attribute,
	// an inline <script>, or such an attribute set by name: all refused by the CSP at run time.
	jsInlineAttr = regexp.MustCompile(`(?i)\s(on[a-z]+|style)=["'$]|<script\b|setAttribute\(\s*["'](style|on[a-z]+)["']`)
)

type finding struct {
	re   *regexp.Regexp
	what string
}

// TestOfflineAndCSPSafe scans every embedded file except vendor/ for what would break the
// console's promises as files are added: no URL of another origin, no inline script, style or
// event handler in the HTML (nor HTML with them built by the modules), no eval.
func TestOfflineAndCSPSafe(t *testing.T) {
	t.Parallel()
	for name, b := range webFiles(t) {
		if strings.HasPrefix(name, "vendor/") {
			continue
		}
		// Blank out what is not a link, keeping offsets for line numbers.
		text := notALink.ReplaceAllStringFunc(string(b), func(ns string) string { return strings.Repeat(" ", len(ns)) })
		checks := []finding{
			{outsideURL, "a URL of another origin"},
			{sourceMap, "a source-map link"},
			{scriptURL, "a javascript: URL"},
		}
		switch path.Ext(name) {
		case ".js", ".mjs":
			checks = append(checks, finding{evalCall, "eval or new Function"},
				finding{jsInlineAttr, "an inline handler, style attribute or script in built HTML"})
		case ".html":
			checks = append(checks, finding{styleElement, "an inline <style> element"})
			for _, tag := range htmlTag.FindAllString(text, -1) {
				if handlerAttr.MatchString(tag) {
					t.Errorf("%s: inline event handler in %s", name, tag)
				}
				if styleAttr.MatchString(tag) {
					t.Errorf("%s: style attribute in %s", name, tag)
				}
			}
			for _, m := range scriptTag.FindAllStringSubmatch(text, -1) {
				if !srcAttr.MatchString(m[1]) || strings.TrimSpace(m[2]) != "" {
					t.Errorf("%s: inline script %.80q", name, m[0])
				}
			}
		}
		for _, c := range checks {
			for _, loc := range c.re.FindAllStringIndex(text, -1) {
				line := strings.Count(text[:loc[0]], "\n") + 1
				t.Errorf("%s:%d: %s: %q", name, line, c.what, text[loc[0]:loc[1]])
			}
		}
	}
}

// TestScanFindsViolations: the scan's patterns catch what they are for (and so would fail the
// test above), and leave alone what the console legitimately holds.
func TestScanFindsViolations(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		re   *regexp.Regexp
		text string
		hit  bool
	}{
		{outsideURL, `<link rel="stylesheet" href="https://cdn.example.com/x.css">`, true},
		{outsideURL, `<script src="//cdn.example.com/x.js"></script>`, true},
		{outsideURL, `body { background: url(//example.com/a.png) }`, true},
		{outsideURL, `@import "fonts.css";`, true},
		{outsideURL, `fetch("HTTP://example.com")`, true},
		{outsideURL, `<link rel="stylesheet" href="style.css"> fetch("/api/v1/streams")`, false},
		{notALink, `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">`, true},
		{notALink, `placeholder: 'https://example.com/liverec'`, true},
		{notALink, `placeholder: 'https://hooks.example.org'`, true},
		{notALink, `<svg xmlns="http://www.w3.org.evil.net/2000/svg">`, false},
		{notALink, `fetch("https://example.com.evil.net/x")`, false},
		{notALink, `fetch("https://notexample.com/x")`, false},
		{handlerAttr, `<button onclick="go()">`, true},
		{handlerAttr, `<button data-action="online">`, false},
		{styleAttr, `<div style="color:red">`, true},
		{styleAttr, `<link rel="stylesheet" href="style.css">`, false},
		{jsInlineAttr, "el.innerHTML = `<img src=x onerror=\"f()\">`", true},
		{jsInlineAttr, "el.innerHTML = `<div style=\"width:${w}%\">`", true},
		{jsInlineAttr, "el.innerHTML = `<td style=${s}>`", true},
		{jsInlineAttr, `el.setAttribute("style", "x")`, true},
		{jsInlineAttr, `el.setAttribute('onclick', "x")`, true},
		{jsInlineAttr, `const s = document.createElement("script")`, false},
		{jsInlineAttr, "el.innerHTML = '<script>alert(1)</script>'", true},
		{jsInlineAttr, `el.onclick = go; el.style.width = "3px"; el.addEventListener("click", go)`, false},
		{evalCall, `eval("1")`, true},
		{evalCall, `new Function("return 1")`, true},
		{evalCall, `retrieval(x)`, false},
		{scriptURL, `<a href="JavaScript:void(0)">`, true},
		{styleElement, `<style>body{}</style>`, true},
	} {
		if got := c.re.MatchString(c.text); got != c.hit {
			t.Errorf("%s on %q: match %v, want %v", c.re, c.text, got, c.hit)
		}
	}
	m := scriptTag.FindAllStringSubmatch(`<script type="module" src="app.js"></script><script>x()</script>`, -1)
	if len(m) != 2 || !srcAttr.MatchString(m[0][1]) || srcAttr.MatchString(m[1][1]) || m[1][2] != "x()" {
		t.Errorf("script tags parsed as %q", m)
	}
}
