package app

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/blob"
	"github.com/liverec/liverec/internal/conf"
)

// validObjectKey reports whether a local store takes key (blob's checkKey): relative, clean, no
// "." or ".." segment.
func validObjectKey(key string) bool {
	if key == "" || strings.HasPrefix(key, "/") || path.Clean(key) != key || strings.ContainsRune(key, 0) {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// FuzzDownloadLink makes signed download links for arbitrary local objects and serves them
// through the /download/ route: a link liverec made serves exactly its object (a playlist
// without URIs is served as it is) until it expires, and changing its signature, expiry,
// bucket or key makes it refused (403) without reading any file.
func FuzzDownloadLink(f *testing.F) {
	f.Add("recordings", "record/live/cam1/2026-11-21-09-00-00_2026-11-21-09-12-30.flv", uint16(3600), byte(0))
	f.Add("b", "a b/%2F?#/ü.ts", uint16(1), byte(7))
	f.Add("b.c", "x/..y/.z", uint16(0), byte(255))
	f.Add("recordings", "live/cam/p_live.M3U8", uint16(60), byte(3))
	f.Fuzz(func(t *testing.T, bucket, key string, ttl uint16, which byte) {
		if bucket == "" || strings.ContainsAny(bucket, "/\\\x00") || bucket == "." || bucket == ".." || !validObjectKey(key) ||
			strings.ContainsAny(key, "\\") || len(bucket)+len(key) > 1000 {
			return // no local object can have this name (blob refuses it)
		}
		root := t.TempDir()
		content := []byte("object " + key)
		if isPlaylist(key) {
			content = []byte("#EXTM3U\n# " + strings.ReplaceAll(key, "\n", " ") + "\n") // served rewritten: no URI, unchanged
		}
		p := filepath.Join(root, bucket, filepath.FromSlash(key))
		if os.MkdirAll(filepath.Dir(p), 0o755) != nil || os.WriteFile(p, content, 0o644) != nil {
			return // a name the file system refuses (too long a segment)
		}
		a := &App{conf: &conf.Config{Storage: conf.Storage{DownloadBaseURL: "http://liverec.test/"}}, log: slog.New(slog.DiscardHandler),
			stores: map[string]blob.Store{"local": &blob.Local{Root: root}}, linkKey: bytes.Repeat([]byte{9}, 32)}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /download/{endpoint}/{bucket}/{key...}", a.serveDownload)
		get := func(link string) *httptest.ResponseRecorder {
			u, err := url.Parse(link)
			require.NoError(t, err, link)
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, u.RequestURI(), nil))
			return w
		}

		link := a.signedLink(context.Background(), "local", bucket, key, time.Now().Add(time.Duration(ttl)*time.Second+time.Minute))
		require.True(t, strings.HasPrefix(link, "http://liverec.test/download/local/"), link)
		w := get(link)
		require.Equal(t, http.StatusOK, w.Code, "%s: %s", link, w.Body)
		require.Equal(t, content, w.Body.Bytes())

		u, err := url.Parse(link)
		require.NoError(t, err)
		q := u.Query()
		sig := []byte(q.Get("signature"))
		i := int(which) % len(sig)
		sig[i] = "0123456789abcdef"[(strings.IndexByte("0123456789abcdef", sig[i])+1)%16]
		tampered := map[string]string{}
		q2 := u.Query()
		q2.Set("signature", string(sig))
		tampered["signature"] = (&url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: q2.Encode()}).String()
		q2 = u.Query()
		q2.Set("expires", q.Get("expires")+"0")
		tampered["expires"] = (&url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: q2.Encode()}).String()
		tampered["key"] = strings.Replace(link, "?", "x?", 1)
		tampered["bucket"] = strings.Replace(link, "/download/local/", "/download/local/x", 1)
		tampered["expired"] = a.signedLink(context.Background(), "local", bucket, key, time.Now().Add(-time.Second))
		for what, l := range tampered {
			require.Equal(t, http.StatusForbidden, get(l).Code, "%s changed: %s", what, l)
		}
	})
}
