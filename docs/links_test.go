// Package docs holds the tests of the project's documentation: every relative link resolves
// inside the repository (links_test.go), and the README's getting-started steps work when
// run as written (getting_started_test.go).
package docs

import (
	"bufio"
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

// scan returns a Markdown file's links and the lines that point outside the repository,
// leaving out fenced code blocks and code spans (commands and examples, not links).
func scan(t *testing.T, path string) (links []mdLink, outsideLines []string) {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	fence := ""
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if outside.MatchString(line) {
			outsideLines = append(outsideLines, fmt.Sprintf("%s:%d: %s", path, n, strings.TrimSpace(line)))
		}
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		text := codeSpan.ReplaceAllString(line, "")
		for _, re := range []*regexp.Regexp{inlineLink, htmlLink} {
			for _, m := range re.FindAllStringSubmatch(text, -1) {
				links = append(links, mdLink{n, m[1]})
			}
		}
		if m := refLink.FindStringSubmatch(text); m != nil {
			links = append(links, mdLink{n, m[1]})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return links, outsideLines
}

// anchors returns the heading anchors of a Markdown file as GitHub makes them: lower case,
// punctuation dropped, spaces to hyphens, "-1", "-2" … after a repeated one; plus explicit
// <a name|id> anchors.
func anchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	out := map[string]bool{}
	fence := ""
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		for _, m := range htmlAnchr.FindAllStringSubmatch(line, -1) {
			out[m[1]] = true
		}
		m := heading.FindStringSubmatch(line)
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
	text = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(text, "$1")
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
	for _, file := range files {
		links, outsideLines := scan(t, file)
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
			if frag != "" && strings.HasSuffix(resolved, ".md") && !anchors(t, resolved)[frag] {
				t.Errorf("%s: %s has no heading with the anchor #%s", where, resolved, frag)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no relative link found: the scanner is broken")
	}
}
