package callbacks_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/notify/dialect"
	"github.com/liverec/liverec/internal/recording"
)

// docPath is docs/callbacks.md from this directory. Its generated blocks are rewritten with
// LIVEREC_WRITE_DOCS=1 go test ./examples/callbacks -run TestDoc.
const docPath = "../../docs/callbacks.md"

// docURL is the callback URL of each dialect in the documentation's examples (the aliyun
// signature covers its host).
var docURL = map[string]string{
	"standard": "https://hooks.example.com/liverec",
	"aliyun":   "https://hooks.example.com/liverec/aliyun",
	"huawei":   "https://hooks.example.com/liverec/huawei",
}

// docBlock is a fenced block right after a marker line "<!-- KIND: ARG -->":
//   - file: PATH — the file at PATH (from the repository root), verbatim;
//   - body: DIALECT EVENT — that event's body in that dialect, indented;
//   - request: DIALECT EVENT — the whole signed request, as sent.
type docBlock struct {
	marker     string // "file: examples/…", "body: standard recording.file_completed"
	first, end int    // the lines of the content: [first, end)
}

// TestDocBlocks checks every marked block of docs/callbacks.md against what it shows (the
// verifier sources, bodies and requests rendered by liverec's encoder), and that every event
// of every dialect has its body there.
func TestDocBlocks(t *testing.T) {
	raw, err := os.ReadFile(docPath)
	require.NoError(t, err)
	lines := strings.Split(string(raw), "\n")
	blocks := findBlocks(t, lines)
	rendered := renderDocBlocks(t)
	write := os.Getenv("LIVEREC_WRITE_DOCS") == "1"
	var seen []string
	for i := len(blocks) - 1; i >= 0; i-- { // backwards, so rewriting keeps earlier line numbers
		b := blocks[i]
		seen = append(seen, b.marker)
		want, ok := rendered[b.marker]
		if path, isFile := strings.CutPrefix(b.marker, "file: "); isFile {
			src, err := os.ReadFile("../../" + path)
			require.NoError(t, err, "the file of %q", b.marker)
			want, ok = string(src), true
		}
		require.True(t, ok, "docs/callbacks.md line %d: unknown marker %q", b.first-1, b.marker)
		got := strings.Join(lines[b.first:b.end], "\n") + "\n"
		if got == want {
			continue
		}
		if !write {
			t.Errorf("docs/callbacks.md line %d: the block of %q differs from what it shows; "+
				"LIVEREC_WRITE_DOCS=1 go test ./examples/callbacks -run TestDocBlocks rewrites it. Want:\n%s",
				b.first-1, b.marker, want)
			continue
		}
		lines = slices.Concat(lines[:b.first], strings.Split(strings.TrimSuffix(want, "\n"), "\n"), lines[b.end:])
	}
	for marker := range rendered {
		require.Contains(t, seen, marker, "docs/callbacks.md has no block for %q", marker)
	}
	for _, name := range []string{"standard", "aliyun", "huawei"} {
		require.Contains(t, seen, "file: examples/callbacks/"+name+"/main.go")
	}
	if write {
		require.NoError(t, os.WriteFile(docPath, []byte(strings.Join(lines, "\n")), 0o644))
	}
}

// findBlocks finds the marker lines and the fenced block right after each.
func findBlocks(t *testing.T, lines []string) []docBlock {
	var blocks []docBlock
	for i, l := range lines {
		inner, isComment := strings.CutPrefix(l, "<!-- ")
		marker, closed := strings.CutSuffix(inner, " -->")
		if !isComment || !closed || !strings.Contains(marker, ": ") {
			continue
		}
		require.Less(t, i+1, len(lines), "marker %q ends the file", marker)
		require.True(t, strings.HasPrefix(lines[i+1], "```"), "line %d: marker %q is not followed by a fenced block", i+1, marker)
		end := i + 2
		for end < len(lines) && lines[end] != "```" {
			end++
		}
		require.Less(t, end, len(lines), "line %d: the block of %q is not closed", i+2, marker)
		blocks = append(blocks, docBlock{marker: marker, first: i + 2, end: end})
	}
	return blocks
}

// renderDocBlocks renders, with the documentation's keys and URLs and each event's first
// attempt at its creation time, the body of every event each dialect sends and the whole
// request of each dialect's file callback.
func renderDocBlocks(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, dc := range dialectCases() {
		cfg := dc.cfg
		cfg.URL = docURL[dc.name]
		for _, ev := range sampleEvents() {
			req, ok, err := dialect.Encode(&ev, &cfg, dc.key, ev.CreatedAt)
			require.NoError(t, err)
			if !ok {
				continue
			}
			name := dc.sends[ev.Type]
			var pretty bytes.Buffer
			require.NoError(t, json.Indent(&pretty, req.Body, "", "  "))
			out[fmt.Sprintf("body: %s %s", dc.name, name)] = pretty.String() + "\n"
			if ev.Type == recording.EventFileCompleted {
				out[fmt.Sprintf("request: %s %s", dc.name, name)] = wireForm(t, req)
			}
		}
	}
	return out
}

// wireForm is a request as HTTP/1.1 sends it, headers sorted (Go's client adds
// Accept-Encoding; it is left out here, as it is not part of the callback).
func wireForm(t *testing.T, req dialect.Request) string {
	u, err := url.Parse(req.URL)
	require.NoError(t, err)
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\nHost: %s\n", u.RequestURI(), u.Host)
	h := req.Header.Clone()
	h.Set("Content-Length", strconv.Itoa(len(req.Body)))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		fmt.Fprintf(&b, "%s: %s\n", k, h.Get(k))
	}
	fmt.Fprintf(&b, "\n%s\n", req.Body)
	return b.String()
}
