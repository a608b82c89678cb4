package app

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/blob"
	"github.com/liverec/liverec/internal/conf"
)

// fakeURL is the URL the rewrite tests give every object key.
func fakeURL(k string) (string, error) { return "https://signed.test/" + k + "?sig=1", nil }

func TestRewritePlaylist(t *testing.T) {
	t.Parallel()
	const key = "record/live/cam/2026-11-21-09-00-00_2026-11-21-09-12-30.m3u8"
	cases := []struct {
		name, in, want, err string
	}{
		{name: "relative slices, tags kept",
			in: "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n" +
				"#EXTINF:4.000,\nts/1763715600_0.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:3.960,\nts/1763715604_1.ts\n#EXT-X-ENDLIST\n",
			want: "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n" +
				"#EXTINF:4.000,\nhttps://signed.test/record/live/cam/ts/1763715600_0.ts?sig=1\n#EXT-X-DISCONTINUITY\n" +
				"#EXTINF:3.960,\nhttps://signed.test/record/live/cam/ts/1763715604_1.ts?sig=1\n#EXT-X-ENDLIST\n"},
		{name: "dot-dot paths inside the bucket",
			in:   "#EXTM3U\n#EXTINF:1,\n../../other/a.ts\n#EXTINF:1,\n./b.ts\n#EXTINF:1,\nx/../c.ts\n",
			want: "#EXTM3U\n#EXTINF:1,\nhttps://signed.test/record/other/a.ts?sig=1\n#EXTINF:1,\nhttps://signed.test/record/live/cam/b.ts?sig=1\n#EXTINF:1,\nhttps://signed.test/record/live/cam/c.ts?sig=1\n"},
		{name: "absolute and network-path URIs kept",
			in:   "#EXTM3U\n#EXTINF:1,\nhttps://cdn.example/a.ts?token=x\n#EXTINF:1,\nHTTP://cdn.example/b.ts\n#EXTINF:1,\n//cdn.example/c.ts\n",
			want: "#EXTM3U\n#EXTINF:1,\nhttps://cdn.example/a.ts?token=x\n#EXTINF:1,\nHTTP://cdn.example/b.ts\n#EXTINF:1,\n//cdn.example/c.ts\n"},
		{name: "bucket-rooted path, escapes, query dropped, unescapable kept as written",
			in:   "#EXTM3U\n#EXTINF:1,\n/top/a.ts\n#EXTINF:1,\na%20b.ts?x=1\n#EXTINF:1,\n100%.ts\n#EXTINF:1,\nc d.ts\n",
			want: "#EXTM3U\n#EXTINF:1,\nhttps://signed.test/top/a.ts?sig=1\n#EXTINF:1,\nhttps://signed.test/record/live/cam/a b.ts?sig=1\n#EXTINF:1,\nhttps://signed.test/record/live/cam/100%.ts?sig=1\n#EXTINF:1,\nhttps://signed.test/record/live/cam/c d.ts?sig=1\n"},
		{name: "CRLF, blank lines, comments and a missing final newline kept",
			in:   "\ufeff#EXTM3U\r\n# a comment\r\n\r\n#EXTINF:1,\r\n  a.ts  \r\n#EXT-X-ENDLIST",
			want: "#EXTM3U\r\n# a comment\r\n\r\n#EXTINF:1,\r\nhttps://signed.test/record/live/cam/a.ts?sig=1\r\n#EXT-X-ENDLIST"},
		{name: "URI attributes of MAP and KEY",
			in:   "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"10@0\"\n#EXT-X-KEY:METHOD=AES-128,URI=\"https://keys.example/k\"\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:1,\na.m4s\n",
			want: "#EXTM3U\n#EXT-X-MAP:URI=\"https://signed.test/record/live/cam/init.mp4?sig=1\",BYTERANGE=\"10@0\"\n#EXT-X-KEY:METHOD=AES-128,URI=\"https://keys.example/k\"\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:1,\nhttps://signed.test/record/live/cam/a.m4s?sig=1\n"},
		{name: "empty playlist", in: "#EXTM3U\n", want: "#EXTM3U\n"},
		{name: "not a playlist", in: "<html>nope</html>\n", err: "no #EXTM3U"},
		{name: "empty body", in: "", err: "no #EXTM3U"},
		{name: "header not first", in: "\n#EXTM3U\n", err: "no #EXTM3U"},
		{name: "leaves the bucket", in: "#EXTM3U\n#EXTINF:1,\n../../../../x.ts\n", err: "line 3: URI \"../../../../x.ts\" is outside the bucket"},
		{name: "names the bucket itself", in: "#EXTM3U\n#EXTINF:1,\n/\n", err: "outside the bucket"},
		{name: "MAP outside the bucket", in: "#EXTM3U\n#EXT-X-MAP:URI=\"../../../../i.mp4\"\n", err: "line 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := rewritePlaylist([]byte(c.in), key, fakeURL)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, string(got))
		})
	}
}

func TestRewritePlaylistLimitsAndErrors(t *testing.T) {
	t.Parallel()
	many := "#EXTM3U\n" + strings.Repeat("a.ts\n", maxPlaylistURIs)
	_, err := rewritePlaylist([]byte(many), "p.m3u8", fakeURL)
	require.NoError(t, err, "maxPlaylistURIs URIs are served")
	_, err = rewritePlaylist([]byte(many+"b.ts\n"), "p.m3u8", fakeURL)
	require.ErrorContains(t, err, "more than")

	boom := errors.New("endpoint down")
	_, err = rewritePlaylist([]byte("#EXTM3U\n#EXTINF:1,\na.ts\n"), "p.m3u8", func(string) (string, error) { return "", boom })
	require.ErrorIs(t, err, boom)
}

// FuzzRewritePlaylist: the rewrite never panics; what it accepts keeps every tag line, and
// every URI line it changes becomes the URL of a key inside the bucket.
func FuzzRewritePlaylist(f *testing.F) {
	f.Add([]byte("#EXTM3U\n#EXTINF:4.000,\nts/1_0.ts\n#EXT-X-ENDLIST\n"), "a/b.m3u8")
	f.Add([]byte("#EXTM3U\r\n#EXT-X-MAP:URI=\"../i.mp4\"\r\n/x\r\nhttps://h/y\n%zz\n"), "p.m3u8")
	f.Add([]byte("\xef\xbb\xbf#EXTM3U\n../../x\n"), "a/b/c.m3u8")
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		var keys []string
		out, err := rewritePlaylist(body, key, func(k string) (string, error) {
			keys = append(keys, k)
			return "U", nil
		})
		if err != nil {
			require.Nil(t, out)
			return
		}
		for _, k := range keys {
			require.NotEmpty(t, k)
			require.False(t, k == ".." || strings.HasPrefix(k, "../") || strings.HasPrefix(k, "/"), "key %q leaves the bucket", k)
		}
		in := strings.Split(strings.TrimPrefix(string(body), "\ufeff"), "\n")
		got := strings.Split(string(out), "\n")
		require.Len(t, got, len(in), "one line out for each line in")
		for i := range in {
			if strings.HasPrefix(strings.TrimSpace(in[i]), "#") && !strings.Contains(in[i], `URI="`) {
				require.Equal(t, in[i], got[i], "tag line %d kept", i+1)
			}
		}
	})
}

// playbackApp is an App with only what serving signed links needs: one local endpoint at
// root, and conf c.
func playbackApp(t *testing.T, root string, c conf.Config) (*App, http.Handler) {
	t.Helper()
	if c.Storage.DownloadBaseURL == "" {
		c.Storage.DownloadBaseURL = "http://liverec.test"
	}
	if c.Storage.LinkExpiry == 0 {
		c.Storage.LinkExpiry = conf.Duration(time.Hour)
	}
	a := &App{conf: &c, log: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		stores: map[string]blob.Store{"local": &blob.Local{Root: root}}, alias: map[string]string{},
		linkKey: bytes.Repeat([]byte{7}, 32)}
	mux := http.NewServeMux()
	a.playbackRoutes(mux)
	return a, mux
}

// do serves one request to link (an absolute URL) on h.
func do(h http.Handler, method, link string, hdr http.Header) *httptest.ResponseRecorder {
	u, err := url.Parse(link)
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest(method, u.RequestURI(), nil)
	for k, v := range hdr {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// tamper changes one character of a link's signature.
func tamper(t *testing.T, link string) string {
	t.Helper()
	i := strings.Index(link, "signature=") + len("signature=") + 5
	require.Less(t, i, len(link), link)
	c := byte('0')
	if link[i] == '0' {
		c = '1'
	}
	return link[:i] + string(c) + link[i+1:]
}

// TestServedPlaylistSignsEverySlice: a local playlist is served with each slice as a signed
// link of the playlist's expiry that serves the slice (with Range), a changed signature on
// either is refused, a malformed or oversized playlist answers 502.
func TestServedPlaylistSignsEverySlice(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(key, data string) {
		p := filepath.Join(root, "rec", filepath.FromSlash(key))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	write("live/cam/p.m3u8", "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:2.000,\nts/0.ts\n#EXTINF:2.000,\n../cam/ts/1 a.ts\n#EXT-X-ENDLIST\n")
	write("live/cam/ts/0.ts", "slice zero")
	write("live/cam/ts/1 a.ts", "slice one")
	write("live/cam/bad.m3u8", "not a playlist")
	a, h := playbackApp(t, root, conf.Config{})
	ctx := t.Context()

	link := a.downloadURL(ctx, "local", "rec", "live/cam/p.m3u8")
	require.True(t, strings.HasPrefix(link, "http://liverec.test/download/local/rec/live/cam/p.m3u8?expires="), link)
	w := do(h, http.MethodGet, link, nil)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Equal(t, "application/vnd.apple.mpegurl", w.Header().Get("Content-Type"))
	require.Equal(t, "no-cache", w.Header().Get("Cache-Control"))
	require.Empty(t, w.Header().Get("Access-Control-Allow-Origin"), "no CORS unless configured")
	pl := w.Body.String()
	require.Contains(t, pl, "#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:2.000,\n")
	uris := playlistURIs(pl)
	require.Len(t, uris, 2)
	expires := func(l string) string { u, _ := url.Parse(l); return u.Query().Get("expires") }
	for i, want := range []string{"slice zero", "slice one"} {
		require.True(t, strings.HasPrefix(uris[i], "http://liverec.test/download/local/rec/live/cam/ts/"), uris[i])
		require.Equal(t, expires(link), expires(uris[i]), "a slice link expires with its playlist link")
		w = do(h, http.MethodGet, uris[i], nil)
		require.Equal(t, http.StatusOK, w.Code, uris[i])
		require.Equal(t, want, w.Body.String())
		require.Equal(t, "video/mp2t", w.Header().Get("Content-Type"))
		w = do(h, http.MethodGet, uris[i], http.Header{"Range": {"bytes=6-"}})
		require.Equal(t, http.StatusPartialContent, w.Code)
		require.Equal(t, want[6:], w.Body.String())
		require.Equal(t, http.StatusForbidden, do(h, http.MethodGet, tamper(t, uris[i]), nil).Code, "tampered slice link")
	}
	require.Equal(t, http.StatusForbidden, do(h, http.MethodGet, tamper(t, link), nil).Code, "tampered playlist link")
	head := do(h, http.MethodHead, link, nil)
	require.Equal(t, http.StatusOK, head.Code)
	require.Empty(t, head.Body.String())

	w = do(h, http.MethodGet, a.downloadURL(ctx, "local", "rec", "live/cam/bad.m3u8"), nil)
	require.Equal(t, http.StatusBadGateway, w.Code, "a malformed playlist")
	w = do(h, http.MethodGet, a.downloadURL(ctx, "local", "rec", "live/cam/missing.m3u8"), nil)
	require.Equal(t, http.StatusNotFound, w.Code)

	big := filepath.Join(root, "rec", "big.m3u8")
	require.NoError(t, os.WriteFile(big, []byte("#EXTM3U\n"), 0o644))
	require.NoError(t, os.Truncate(big, maxPlaylistSize+1))
	w = do(h, http.MethodGet, a.downloadURL(ctx, "local", "rec", "big.m3u8"), nil)
	require.Equal(t, http.StatusBadGateway, w.Code, "an oversized playlist")
}

// TestPlaybackLinksExpire: with a short storage.link_expiry, a playlist's link and its slice
// links serve until their expiry and are refused after it.
func TestPlaybackLinksExpire(t *testing.T) {
	t.Parallel()
	ta := startApp(t, "storage:\n  link_expiry: 2s\n")
	dir := filepath.Join(ta.data, "buckets", "rec", "p")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "l.m3u8"), []byte("#EXTM3U\n#EXTINF:1,\ns.ts\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "s.ts"), []byte("s"), 0o644))
	link := ta.downloadURL(t.Context(), "local", "rec", "p/l.m3u8")
	code, pl := get(t, link)
	require.Equal(t, http.StatusOK, code, pl)
	slice := playlistURIs(pl)[0]
	code, body := get(t, slice)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "s", body)
	u, err := url.Parse(link)
	require.NoError(t, err)
	sec, err := strconv.ParseInt(u.Query().Get("expires"), 10, 64)
	require.NoError(t, err)
	require.Eventually(t, func() bool { got, _ := get(t, slice); return got == http.StatusForbidden },
		5*time.Second, 50*time.Millisecond, "the slice link expires")
	require.False(t, time.Now().Before(time.Unix(sec, 0)), "refused only once expired")
	code, body = get(t, link)
	require.Equal(t, http.StatusForbidden, code)
	require.Contains(t, body, "expired")
}

// TestPlaybackCORS: with storage.cors_origins set the playback paths answer a listed origin
// (or any, with "*") and the preflight; an unlisted origin gets no Allow-Origin.
func TestPlaybackCORS(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "rec"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "rec", "a.mp4"), []byte("mp4"), 0o644))
	for _, c := range []struct {
		origins         []string
		origin, allowed string
	}{
		{[]string{"https://player.example"}, "https://player.example", "https://player.example"},
		{[]string{"https://other.example", "https://PLAYER.example"}, "https://player.example", "https://player.example"},
		{[]string{"https://other.example"}, "https://player.example", ""},
		{[]string{"*"}, "https://player.example", "*"},
		{[]string{"https://player.example", "*"}, "https://x.example", "*"},
	} {
		a, h := playbackApp(t, root, conf.Config{Storage: conf.Storage{CORSOrigins: c.origins}})
		link := a.downloadURL(t.Context(), "local", "rec", "a.mp4")
		for _, method := range []string{http.MethodGet, http.MethodOptions} {
			w := do(h, method, link, http.Header{"Origin": {c.origin}, "Access-Control-Request-Headers": {"range"}})
			what := method + " " + strings.Join(c.origins, ",") + " from " + c.origin
			if method == http.MethodGet {
				require.Equal(t, http.StatusOK, w.Code, what)
				require.Equal(t, "mp4", w.Body.String())
			} else {
				require.Equal(t, http.StatusNoContent, w.Code, what)
			}
			require.Equal(t, c.allowed, w.Header().Get("Access-Control-Allow-Origin"), what)
			require.Equal(t, []string{"Origin"}, w.Header().Values("Vary"), what)
			if c.allowed != "" {
				require.Equal(t, "GET, HEAD, OPTIONS", w.Header().Get("Access-Control-Allow-Methods"), what)
				require.Equal(t, "Range", w.Header().Get("Access-Control-Allow-Headers"), what)
				require.Equal(t, "Content-Length, Content-Range, Accept-Ranges", w.Header().Get("Access-Control-Expose-Headers"), what)
			} else {
				require.Empty(t, w.Header().Get("Access-Control-Allow-Methods"), what)
			}
		}
		w := do(h, http.MethodGet, tamper(t, link), http.Header{"Origin": {c.origin}})
		require.Equal(t, http.StatusForbidden, w.Code)
		require.Equal(t, c.allowed, w.Header().Get("Access-Control-Allow-Origin"), "a refusal is readable by the player")
	}
}
