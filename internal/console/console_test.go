package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// hlsSHA256 pins web/vendor/hls.light.min.mjs: hls.js 1.7.4 as scripts/vendor-hls writes it.
const hlsSHA256 = "8f19a53e63e4e6db913e032e613d99831706c9e38c85c708b35fa0058a25ca97"

func serve(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		require.NoError(t, err)
		b, err = io.ReadAll(zr)
		require.NoError(t, err)
	}
	return b
}

func requireSecurityHeaders(t *testing.T, resp *http.Response, what string) {
	t.Helper()
	h := resp.Header
	require.Equal(t, policy(nil), h.Get("Content-Security-Policy"), what)
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), what)
	require.Equal(t, "no-referrer", h.Get("Referrer-Policy"), what)
	require.Equal(t, "DENY", h.Get("X-Frame-Options"), what)
	require.Equal(t, "same-origin", h.Get("Cross-Origin-Opener-Policy"), what)
}

func webFiles(t *testing.T) map[string][]byte {
	t.Helper()
	sub, err := fs.Sub(embedded, "web")
	require.NoError(t, err)
	files := map[string][]byte{}
	require.NoError(t, fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files[name], err = fs.ReadFile(sub, name)
		return err
	}))
	require.Contains(t, files, "index.html")
	require.Contains(t, files, "vendor/hls.light.min.mjs")
	return files
}

var wantTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// TestEveryFileServed: each embedded file answers GET and HEAD with its bytes, its type,
// no-cache with an ETag, and the security headers, with and without gzip.
func TestEveryFileServed(t *testing.T) {
	t.Parallel()
	h := Handler(Config{})
	for name, want := range webFiles(t) {
		for _, enc := range []string{"", "gzip, deflate, br"} {
			resp := serve(t, h, http.MethodGet, "/console/"+name, map[string]string{"Accept-Encoding": enc})
			require.Equal(t, http.StatusOK, resp.StatusCode, name)
			requireSecurityHeaders(t, resp, name)
			if ct, ok := wantTypes[path.Ext(name)]; ok {
				require.Equal(t, ct, resp.Header.Get("Content-Type"), name)
			}
			require.Equal(t, "no-cache", resp.Header.Get("Cache-Control"), name)
			require.Regexp(t, `^"[A-Za-z0-9_-]+(-gz)?"$`, resp.Header.Get("ETag"), name)
			require.Equal(t, want, body(t, resp), name)
		}
		head := serve(t, h, http.MethodHead, "/console/"+name, nil)
		require.Equal(t, http.StatusOK, head.StatusCode, name)
		requireSecurityHeaders(t, head, name)
		require.Empty(t, body(t, head), name)
	}
	resp := serve(t, h, http.MethodGet, "/console/", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, webFiles(t)["index.html"], body(t, resp))
}

// TestGzip: the big script goes gzipped to a browser that takes it, as it is to one that does
// not, and the answer varies on Accept-Encoding either way.
func TestGzip(t *testing.T) {
	t.Parallel()
	h := Handler(Config{})
	const hls = "/console/vendor/hls.light.min.mjs"
	for enc, want := range map[string]string{
		"gzip":                      "gzip",
		"br;q=1.0, gzip;q=0.8":      "gzip",
		"*":                         "gzip",
		"":                          "",
		"identity":                  "",
		"gzip;q=0":                  "",
		"gzip;q=0, *":               "",
		"*;q=0":                     "",
		"deflate, x-gzip;q=0.5":     "gzip",
		"br, *;q=0.1, gzip;q=0.000": "",
	} {
		resp := serve(t, h, http.MethodGet, hls, map[string]string{"Accept-Encoding": enc})
		require.Equal(t, want, resp.Header.Get("Content-Encoding"), "Accept-Encoding %q", enc)
		require.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"))
		b := body(t, resp)
		require.Len(t, b, len(webFiles(t)["vendor/hls.light.min.mjs"]))
	}
	resp := serve(t, h, http.MethodGet, hls, map[string]string{"Accept-Encoding": "gzip"})
	require.Less(t, resp.ContentLength, int64(200_000), "hls.js gzips to about a third")
}

// TestNotModified: a revalidation with the current ETag (of either encoding, weak or strong,
// or in a list) is answered 304 with the headers and no body; another tag gets the file.
func TestNotModified(t *testing.T) {
	t.Parallel()
	h := Handler(Config{})
	for _, file := range []string{"/console/", "/console/vendor/hls.light.min.mjs", "/console/vendor/hls.js.LICENSE"} {
		plain := serve(t, h, http.MethodGet, file, nil)
		zipped := serve(t, h, http.MethodGet, file, map[string]string{"Accept-Encoding": "gzip"})
		tag, ztag := plain.Header.Get("ETag"), zipped.Header.Get("ETag")
		require.NotEqual(t, tag, ztag, "each encoding has its own tag")
		for _, inm := range []string{tag, ztag, "W/" + tag, `"stale", ` + tag, "*"} {
			resp := serve(t, h, http.MethodGet, file, map[string]string{"If-None-Match": inm})
			require.Equal(t, http.StatusNotModified, resp.StatusCode, "%s If-None-Match %s", file, inm)
			requireSecurityHeaders(t, resp, file)
			require.Equal(t, tag, resp.Header.Get("ETag"))
			require.Empty(t, body(t, resp))
		}
		resp := serve(t, h, http.MethodGet, file, map[string]string{"If-None-Match": `"stale"`})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.NotEmpty(t, body(t, resp))
	}
}

// TestRoutes: /console redirects to /console/ (keeping the query), unknown files and
// directories are 404, other methods 405, and every answer carries the security headers.
func TestRoutes(t *testing.T) {
	t.Parallel()
	h := Handler(Config{})
	for _, c := range []struct {
		method, target string
		code           int
		location       string
	}{
		{http.MethodGet, "/console", http.StatusMovedPermanently, "/console/"},
		{http.MethodHead, "/console", http.StatusMovedPermanently, "/console/"},
		{http.MethodGet, "/console?lang=en", http.StatusMovedPermanently, "/console/?lang=en"},
		{http.MethodGet, "/console/nope.js", http.StatusNotFound, ""},
		{http.MethodGet, "/console/vendor/", http.StatusNotFound, ""},
		{http.MethodGet, "/console/vendor", http.StatusNotFound, ""},
		{http.MethodGet, "/console/vendor/hls.light.min.mjs.map", http.StatusNotFound, ""},
		{http.MethodGet, "/consoles/index.html", http.StatusNotFound, ""},
		{http.MethodPost, "/console/", http.StatusMethodNotAllowed, ""},
		{http.MethodPut, "/console/app.js", http.StatusMethodNotAllowed, ""},
		{http.MethodDelete, "/console", http.StatusMethodNotAllowed, ""},
		{http.MethodOptions, "/console/index.html", http.StatusMethodNotAllowed, ""},
	} {
		resp := serve(t, h, c.method, c.target, nil)
		require.Equal(t, c.code, resp.StatusCode, "%s %s", c.method, c.target)
		requireSecurityHeaders(t, resp, c.target)
		require.Equal(t, c.location, resp.Header.Get("Location"), "%s %s", c.method, c.target)
		if c.code == http.StatusMethodNotAllowed {
			require.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
		}
	}
}

// TestContentTypes: the types of files the console may add, from a file tree of its own.
func TestContentTypes(t *testing.T) {
	t.Parallel()
	h := Handler(Config{Files: fstest.MapFS{
		"index.html":          {Data: []byte("<!doctype html>")},
		"pages/live.js":       {Data: []byte("export function render() {}")},
		"vendor/x.mjs":        {Data: []byte("export default 1")},
		"style.css":           {Data: []byte("body{}")},
		"icon.svg":            {Data: []byte("<svg/>")},
		"manifest.json":       {Data: []byte("{}")},
		"logo.png":            {Data: []byte("\x89PNG")},
		"vendor/x.js.LICENSE": {Data: []byte("licence")},
		"blob.bin":            {Data: []byte{0, 1}},
	}})
	for name, want := range map[string]string{
		"":                    "text/html; charset=utf-8",
		"pages/live.js":       "text/javascript; charset=utf-8",
		"vendor/x.mjs":        "text/javascript; charset=utf-8",
		"style.css":           "text/css; charset=utf-8",
		"icon.svg":            "image/svg+xml",
		"manifest.json":       "application/json",
		"logo.png":            "image/png",
		"vendor/x.js.LICENSE": "text/plain; charset=utf-8",
		"blob.bin":            "application/octet-stream",
	} {
		resp := serve(t, h, http.MethodGet, "/console/"+name, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, name)
		require.Equal(t, want, resp.Header.Get("Content-Type"), name)
	}
}

// TestUnreadableFiles: files that cannot be read make a handler that answers 500, not a panic.
func TestUnreadableFiles(t *testing.T) {
	t.Parallel()
	h := Handler(Config{Files: fstest.MapFS{"bad": {Mode: fs.ModeSymlink, Data: []byte("nowhere")}}})
	resp := serve(t, h, http.MethodGet, "/console/", nil)
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	requireSecurityHeaders(t, resp, "500")
}

// TestVendoredHLS: the vendored hls.js is the pinned one, without a source-map link.
func TestVendoredHLS(t *testing.T) {
	t.Parallel()
	b := webFiles(t)["vendor/hls.light.min.mjs"]
	sum := sha256.Sum256(b)
	require.Equal(t, hlsSHA256, hex.EncodeToString(sum[:]),
		"web/vendor/hls.light.min.mjs changed: run scripts/vendor-hls, then pin the new sum here")
	require.NotContains(t, string(b), "sourceMappingURL")
	require.True(t, strings.HasPrefix(string(webFiles(t)["vendor/hls.js.LICENSE"]), "Copyright"))
}
