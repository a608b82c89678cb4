// Package docs holds the tests of the project's documentation: every relative link resolves
// inside the repository (links_test.go), and the README's getting-started steps work when
// run as written (getting_started_test.go).
package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// repoRoot is the repository, one level above this package.
const repoRoot = ".."

// docFiles are the Markdown files a user reads: the README, docs/ and the deploy notes.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md"}
	for _, pattern := range []string{"docs/*.md", "deploy/*.md", "examples/*/*.md", "bench/*.md"} {
		m, err := filepath.Glob(filepath.Join(repoRoot, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m {
			rel, err := filepath.Rel(repoRoot, p)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, rel)
		}
	}
	return files
}

var (
	// inlineLink is [text](target) or ![alt](target), with an optional "title".
	inlineLink = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	// refLink is a reference definition: [label]: target.
	refLink = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s+.*)?$`)
	// htmlLink is an href or src in inline HTML.
	htmlLink  = regexp.MustCompile(`(?:href|src)="([^"]+)"`)
	codeSpan  = regexp.MustCompile("`[^`]*`")
	linkText  = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	heading   = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	htmlAnchr = regexp.MustCompile(`<a\s+(?:name|id)="([^"]+)"`)
	// outside are the marks of text that points outside the repository: the team's material
	// a clone does not have, and its section numbers.
	outside = regexp.MustCompile(`\.\./shared|PRODUCT\.md|§\s?\d`)
)

// mdLink is one link found in a Markdown file.
type mdLink struct {
	line   int
	target string
}

// mdLine is one line of a Markdown file; code is true inside a fenced block and on its fences.
type mdLine struct {
	n    int
	text string
	code bool
}

// readMarkdown returns a Markdown file's lines, marking those of fenced code blocks.
func readMarkdown(t *testing.T, path string) []mdLine {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	var lines []mdLine
	fence := ""
	for i, text := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(text)
		code := fence != ""
		switch {
		case fence != "" && strings.HasPrefix(trimmed, fence):
			fence = ""
		case fence == "" && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")):
			fence, code = trimmed[:3], true
		}
		lines = append(lines, mdLine{i + 1, text, code})
	}
	return lines
}

// scan returns a Markdown file's links and the lines that point outside the repository,
// leaving out fenced code blocks and code spans (commands and examples, not links).
func scan(path string, lines []mdLine) (links []mdLink, outsideLines []string) {
	for _, l := range lines {
		if outside.MatchString(l.text) {
			outsideLines = append(outsideLines, fmt.Sprintf("%s:%d: %s", path, l.n, strings.TrimSpace(l.text)))
		}
		if l.code {
			continue
		}
		text := codeSpan.ReplaceAllString(l.text, "")
		for _, re := range []*regexp.Regexp{inlineLink, htmlLink} {
			for _, m := range re.FindAllStringSubmatch(text, -1) {
				links = append(links, mdLink{l.n, m[1]})
			}
		}
		if m := refLink.FindStringSubmatch(text); m != nil {
			links = append(links, mdLink{l.n, m[1]})
		}
	}
	return links, outsideLines
}

// anchors returns the heading anchors of a Markdown file as GitHub makes them: lower case,
// punctuation dropped, spaces to hyphens, "-1", "-2" … after a repeated one; plus explicit
// <a name|id> anchors.
func anchors(lines []mdLine) map[string]bool {
	seen := map[string]int{}
	out := map[string]bool{}
	for _, l := range lines {
		if l.code {
			continue
		}
		for _, m := range htmlAnchr.FindAllStringSubmatch(l.text, -1) {
			out[m[1]] = true
		}
		m := heading.FindStringSubmatch(l.text)
		if m == nil {
			continue
		}
		slug := Slug(m[2])
		if k := seen[slug]; k > 0 {
			out[fmt.Sprintf("%s-%d", slug, k)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

// Slug is GitHub's anchor for a heading's text: inline Markdown (code marks, emphasis, link
// targets) removed, lower case, letters, digits, spaces, "-" and "_" kept, spaces to "-".
func Slug(text string) string {
	text = linkText.ReplaceAllString(text, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Getting started":                       "getting-started",
		"Pauses, resumes, failures and crashes": "pauses-resumes-failures-and-crashes",
		"`storage.file_mode`":                   "storagefile_mode",
		"RTMP: HAProxy":                         "rtmp-haproxy",
		"1. The database":                       "1-the-database",
		"What the [balancer](x.md) changes":     "what-the-balancer-changes",
		"Huawei's `record/control` — START":     "huaweis-recordcontrol--start",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLinks checks every relative link of the README and docs: it stays inside the
// repository, names a file that exists and, with a #fragment into Markdown, a heading there.
// No doc may point to material outside the repository.
func TestLinks(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	files := docFiles(t)
	if len(files) < 5 {
		t.Fatalf("found only %v: is the test running in docs/?", files)
	}
	checked := 0
	headings := map[string]map[string]bool{} // by file, read once
	for _, file := range files {
		links, outsideLines := scan(file, readMarkdown(t, file))
		for _, l := range outsideLines {
			t.Errorf("%s: points outside the repository (a clone has no such material)", l)
		}
		for _, l := range links {
			where := fmt.Sprintf("%s:%d: link %q", file, l.line, l.target)
			target := l.target
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue // an absolute URL: a web page, not part of the repository
			}
			checked++
			path, frag, _ := strings.Cut(target, "#")
			resolved := file
			if path != "" {
				if strings.HasPrefix(path, "/") {
					t.Errorf("%s: use a path relative to the file, not one from the site's root", where)
					continue
				}
				resolved = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
				abs := filepath.Join(root, resolved)
				if rel, err := filepath.Rel(root, abs); err != nil || strings.HasPrefix(rel, "..") {
					t.Errorf("%s: leaves the repository", where)
					continue
				}
				if _, err := os.Stat(abs); err != nil {
					t.Errorf("%s: no such file %s", where, resolved)
					continue
				}
			}
			if frag == "" || !strings.HasSuffix(resolved, ".md") {
				continue
			}
			if headings[resolved] == nil {
				headings[resolved] = anchors(readMarkdown(t, resolved))
			}
			if !headings[resolved][frag] {
				t.Errorf("%s: %s has no heading with the anchor #%s", where, resolved, frag)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no relative link found: the scanner is broken")
	}
}
