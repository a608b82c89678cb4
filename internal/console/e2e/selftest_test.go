package e2e

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// The harness's own tests: its checks must catch what they are there to catch, on pages of
// their own served by httptest (the console is not needed).

// servePages serves fixed files (path → content, typed by extension, HTML without one) on a
// loopback test server, with range requests (for video). /csp.html gets a strict CSP. Pages
// declare an icon, or Chromium asks for /favicon.ico and logs its 404.
func servePages(t *testing.T, pages map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		typ := mime.TypeByExtension(path.Ext(r.URL.Path))
		if typ == "" {
			typ = "text/html; charset=utf-8"
		}
		w.Header().Set("Content-Type", typ)
		if r.URL.Path == "/csp.html" {
			w.Header().Set("Content-Security-Policy", "default-src 'self'")
		}
		http.ServeContent(w, r, r.URL.Path, time.Time{}, strings.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestOutsideRequests(t *testing.T) {
	urls := []string{
		"http://127.0.0.1:8080/console/",
		"http://localhost:1234/api/v1/streams",
		"http://[::1]:99/x",
		"ws://127.0.0.1:5/live",
		"data:image/png;base64,AAAA",
		"blob:http://127.0.0.1:8080/0d7c",
		"about:blank",
		"http://192.0.2.1/x.png",
		"https://cdn.example.com/hls.js",
		"http://127.0.0.1.example.com/",
		"http://127.0.0.1@example.com/",
		"http://localhost.example/",
		"chrome-extension://abc/x.js",
		"//no-scheme",
	}
	require.Equal(t, []string{
		"http://192.0.2.1/x.png",
		"https://cdn.example.com/hls.js",
		"http://127.0.0.1.example.com/",
		"http://127.0.0.1@example.com/",
		"http://localhost.example/",
		"chrome-extension://abc/x.js",
		"//no-scheme",
	}, outsideRequests(urls))
}

func TestHarnessCatchesOutsideRequests(t *testing.T) {
	srv := servePages(t, map[string]string{
		"/": `<!doctype html><link rel="icon" href="data:,"><title>outside</title><p>hi</p><img src="http://192.0.2.1/x.png" alt="">`,
	})
	b := newBrowser(t)
	// The image fails (the harness's dead proxy refuses it), so the page logs a load error too.
	b.allowError(`Failed to load resource: net::ERR_PROXY_CONNECTION_FAILED \[http://192\.0\.2\.1/x\.png\]$`)
	b.open(srv.URL + "/")
	b.waitVisible("p")
	eventually(t, "the outside request is recorded", func() bool {
		return slices.Contains(b.requestsSeen(), "http://192.0.2.1/x.png")
	})
	found := b.findings()
	require.Len(t, found, 1, "findings: %q", found)
	require.Contains(t, found[0], "off the loopback address: http://192.0.2.1/x.png")
	b.clearFindings() // provoked on purpose: this test must not fail at cleanup
}

func TestHarnessCatchesConsoleErrors(t *testing.T) {
	srv := servePages(t, map[string]string{
		"/": `<!doctype html><link rel="icon" href="data:,"><title>errors</title><p id="ready">hi</p><script src="/boom.js"></script>`,
		"/boom.js": `console.log("fine"); console.warn("also fine");
			console.error("boom-console", 42);
			fetch("/missing").then(r => { document.body.dataset.fetched = r.status });
			setTimeout(() => { throw new Error("boom-uncaught") }, 0);`,
		"/csp.html": `<!doctype html><link rel="icon" href="data:,"><title>csp</title><p id="csp">x</p><script>console.log("inline")</script>`,
	})
	b := newBrowser(t)
	b.open(srv.URL + "/")
	b.waitFor("the fetch to answer", `document.body.dataset.fetched === "404"`)
	b.open(srv.URL + "/csp.html")
	b.waitVisible("#csp")
	b.screenshot("csp")

	want := []*regexp.Regexp{
		regexp.MustCompile(`^console\.error: boom-console 42$`),
		regexp.MustCompile(`^uncaught exception: .*boom-uncaught`),
		regexp.MustCompile(`^browser log error \(network\): .*404.*\[` + regexp.QuoteMeta(srv.URL+"/missing") + `\]$`),
		regexp.MustCompile(`Content Security Policy`),
	}
	var problems []string
	eventually(t, "every provoked error is recorded", func() bool {
		b.mu.Lock()
		problems = append([]string(nil), b.problems...)
		b.mu.Unlock()
		for _, re := range want {
			if !slices.ContainsFunc(problems, re.MatchString) {
				return false
			}
		}
		return true
	})
	for _, p := range problems {
		require.NotContains(t, p, "fine", "a log or warning counted as an error")
	}
	// An allowed pattern tolerates exactly what it matches.
	unexpected, tolerated := unexpectedProblems(problems, []*regexp.Regexp{regexp.MustCompile(`status of 404`)})
	require.Len(t, tolerated, 1, "tolerated: %q", tolerated)
	require.Len(t, unexpected, len(problems)-1)
	require.Len(t, b.findings(), len(problems), "findings report every error")
	b.clearFindings()
}

// TestBrowserPlaysH264 checks that the system's Chromium can decode what liverec records
// (H.264 + AAC in MP4, and through Media Source Extensions, as hls.js needs) and autoplays
// without a gesture: the playback tests depend on it.
func TestBrowserPlaysH264(t *testing.T) {
	dir := filepath.Join(os.TempDir(), "liverec-test-fixtures")
	src := testutil.RefStream(t, dir, testutil.RefOptions{Seconds: 4, Width: 640, Height: 360, Container: "mp4"})
	video, err := os.ReadFile(src)
	require.NoError(t, err)
	srv := servePages(t, map[string]string{
		"/":      `<!doctype html><link rel="icon" href="data:,"><title>play</title><video id="v" src="/v.mp4" autoplay muted playsinline></video>`,
		"/v.mp4": string(video),
	})

	b := newBrowser(t)
	b.open(srv.URL + "/")
	require.True(t, eval[bool](b, `MediaSource.isTypeSupported('video/mp4; codecs="avc1.640028,mp4a.40.2"')`),
		"Chromium's Media Source Extensions cannot take H.264/AAC: hls.js could not play liverec's HLS")
	require.NotEmpty(t, eval[string](b, `document.createElement("video").canPlayType('video/mp4; codecs="avc1.640028"')`))
	b.waitFor("the video to play 1.5 s", `document.getElementById("v").currentTime > 1.5`)
	b.screenshot("playing")
}

// TestPublisherGoesLive checks the publisher helper against a real liverec: its stream shows
// in the native API with its codec and size, and a kick ends the ffmpeg process.
func TestPublisherGoesLive(t *testing.T) {
	srv := startLiverec(t, "")
	pub := startPublisher(t, srv.RTMPURL("harness/cam"), publishOptions{})
	type live struct {
		Domain     string `json:"domain"`
		App        string `json:"app"`
		Stream     string `json:"stream"`
		VideoCodec string `json:"video_codec"`
		Width      int    `json:"width"`
		Height     int    `json:"height"`
	}
	var got live
	eventually(t, "the published stream is live with its codec and size", func() bool {
		status, body := srv.API(t, http.MethodGet, "/api/v1/streams?app=harness&stream=cam", nil)
		require.Equal(t, http.StatusOK, status, "%s", body)
		var list struct{ Streams []live }
		require.NoError(t, json.Unmarshal(body, &list), "%s", body)
		if len(list.Streams) != 1 || list.Streams[0].Width == 0 {
			return false
		}
		got = list.Streams[0]
		return true
	})
	require.Equal(t, live{Domain: got.Domain, App: "harness", Stream: "cam", VideoCodec: "H264", Width: 1280, Height: 720}, got)
	// The admin sees every live stream, but stream control needs the domain in its project.
	status, body := srv.API(t, http.MethodPut, "/api/v1/domains/"+got.Domain, map[string]string{"project": "default"})
	require.Equal(t, http.StatusOK, status, "%s", body)
	status, body = srv.API(t, http.MethodPost, "/api/v1/streams/"+got.Domain+"/harness/cam/kick", nil)
	require.Equal(t, http.StatusNoContent, status, "%s", body)
	require.Error(t, pub.waitExit(t), "a kicked ffmpeg exits with an error")
}
