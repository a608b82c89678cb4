package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/blob"
	"github.com/liverec/liverec/internal/service"
)

// Playback: every stored object has one playable URL (downloadURL), a recording in progress
// its live playlist's (LiveURL), and liverec serves the signed links among them on
// /download/{endpoint}/{bucket}/{key}?expires=&signature=. A playlist is served with each
// slice URI made a valid URL of its own: a signed link with the playlist link's expiry for a
// local endpoint, the slice's public or presigned URL for an S3 one.

// Limits of a playlist served through a signed link. 16 MiB of m3u8 is days of slices; the
// URI count bounds what the rewrite makes of it (each URI grows to a signed URL).
const (
	maxPlaylistSize = 16 << 20
	maxPlaylistURIs = 200_000
)

// playbackRoutes registers the playback paths, with CORS when storage.cors_origins is set.
func (a *App) playbackRoutes(mux *http.ServeMux) {
	mux.Handle("GET /download/{endpoint}/{bucket}/{key...}", a.cors(http.HandlerFunc(a.serveDownload)))
	mux.Handle("OPTIONS /download/", a.cors(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
	})))
}

// downloadURL is the playable URL of any stored object (download_url), valid for
// storage.link_expiry: the endpoint's own URL (public or presigned), or liverec's signed link
// for local objects and for playlists on S3 endpoints that presign (a presigned playlist's
// relative slice URIs would not be signed). "" when none can be made.
func (a *App) downloadURL(ctx context.Context, endpoint, bucket, key string) string {
	st, err := a.endpoint(endpoint)
	if err != nil {
		return ""
	}
	name, _ := a.endpointName(endpoint)
	u, err := a.objectURL(ctx, name, st, bucket, key, time.Now().Add(a.conf.Storage.LinkExpiry.D()))
	if err != nil {
		a.log.Warn("making a download URL", "endpoint", endpoint, "key", key, "err", err)
		return ""
	}
	return u
}

// eventDownloadURL is downloadURL for an event's download_url: stored and sent to callback
// servers, it must not take the host of the API request that caused it (a clip made through
// http://localhost would send its receiver a localhost link).
func (a *App) eventDownloadURL(ctx context.Context, endpoint, bucket, key string) string {
	return a.downloadURL(service.WithRequestBase(ctx, ""), endpoint, bucket, key)
}

// LiveURL returns the playable URL of the live playlist of a recording in progress (an EVENT
// playlist that grows with each stored slice), "" when it has none: not HLS, no slice stored
// yet, or over.
func (a *App) LiveURL(ctx context.Context, recordingID string) string {
	lps := a.up.LivePlaylists(recordingID)
	if len(lps) == 0 {
		return ""
	}
	return a.downloadURL(ctx, lps[0].Endpoint, lps[0].Bucket, lps[0].Key)
}

// objectURL is the URL of bucket/key on endpoint name, valid until exp.
func (a *App) objectURL(ctx context.Context, name string, st blob.Store, bucket, key string, exp time.Time) (string, error) {
	u, err := st.URL(ctx, bucket, key, time.Until(exp))
	if errors.Is(err, blob.ErrNoURL) || err == nil && isPlaylist(key) && presigns(st) {
		return a.signedLink(ctx, name, bucket, key, exp), nil
	}
	return u, err
}

func isPlaylist(key string) bool { return strings.EqualFold(path.Ext(key), ".m3u8") }

// presigns tells whether an endpoint's URLs are presigned, one object each.
func presigns(st blob.Store) bool {
	p, ok := st.(interface{ Presigns() bool })
	return ok && p.Presigns()
}

// signedLink makes an expiring link to an object, served by serveDownload. Without
// storage.download_base_url it points where the API request being answered came in (ctx's
// service.RequestBase), which a browser can reach, unlike a wildcard listen address; links
// made for callbacks (no request) use the listen address.
func (a *App) signedLink(ctx context.Context, endpoint, bucket, key string, exp time.Time) string {
	base := a.conf.Storage.DownloadBaseURL
	if base == "" {
		base = service.RequestBase(ctx)
	}
	if base == "" {
		base = "http://" + a.HTTPAddr().String()
	}
	ts := strconv.FormatInt(exp.Unix(), 10)
	p := "/download/" + url.PathEscape(endpoint) + "/" + url.PathEscape(bucket) + "/" + escapeKey(key)
	return strings.TrimSuffix(base, "/") + p + "?expires=" + ts + "&signature=" + a.linkSignature(endpoint, bucket, key, ts)
}

func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func (a *App) linkSignature(endpoint, bucket, key, expires string) string {
	m := hmac.New(sha256.New, a.linkKey)
	m.Write([]byte(endpoint + "\n" + bucket + "\n" + key + "\n" + expires))
	return hex.EncodeToString(m.Sum(nil))
}

// serveDownload serves an object behind a signed, unexpired link: a playlist rewritten (see
// servePlaylist), a local object with Range support, any other object of an endpoint that
// makes URLs as a redirect to its URL.
func (a *App) serveDownload(w http.ResponseWriter, r *http.Request) {
	// A playlist's slice links point where the playlist was fetched from (see signedLink).
	r = r.WithContext(service.WithRequestBase(r.Context(), service.RequestBaseOf(r)))
	endpoint, bucket, key := r.PathValue("endpoint"), r.PathValue("bucket"), r.PathValue("key")
	expires := r.URL.Query().Get("expires")
	exp, err := strconv.ParseInt(expires, 10, 64)
	sig, _ := hex.DecodeString(r.URL.Query().Get("signature"))
	want, _ := hex.DecodeString(a.linkSignature(endpoint, bucket, key, expires))
	if err != nil || !hmac.Equal(sig, want) {
		http.Error(w, "invalid signature", http.StatusForbidden)
		return
	}
	if time.Now().Unix() > exp {
		http.Error(w, "link expired", http.StatusForbidden)
		return
	}
	st, ok := a.stores[endpoint]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if isPlaylist(key) {
		a.servePlaylist(w, r, endpoint, st, bucket, key, time.Unix(exp, 0))
		return
	}
	u, err := st.URL(r.Context(), bucket, key, time.Until(time.Unix(exp, 0)))
	switch {
	case err == nil:
		http.Redirect(w, r, u, http.StatusFound)
		return
	case errors.Is(err, blob.ErrBadKey):
		http.NotFound(w, r)
		return
	case !errors.Is(err, blob.ErrNoURL):
		a.log.Warn("download: making the object's URL", "endpoint", endpoint, "key", key, "err", err)
		http.Error(w, "storage unavailable", http.StatusBadGateway)
		return
	}
	rc, size, ok := a.openObject(w, r, endpoint, st, bucket, key)
	if !ok {
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", blob.ContentType(key))
	pw := a.progressing(w) // never cut by api.write_timeout
	if rs, seekable := rc.(io.ReadSeeker); seekable {
		var mod time.Time
		if f, isFile := rc.(*os.File); isFile {
			if fi, serr := f.Stat(); serr == nil {
				mod = fi.ModTime()
			}
		}
		http.ServeContent(pw, r, path.Base(key), mod, rs)
		return
	}
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	if r.Method != http.MethodHead {
		_, _ = io.Copy(pw, rc)
	}
}

// openObject opens an object to serve; it answers the request itself when that fails.
func (a *App) openObject(w http.ResponseWriter, r *http.Request, endpoint string, st blob.Store, bucket, key string) (io.ReadCloser, int64, bool) {
	rc, size, err := st.Open(r.Context(), bucket, key)
	switch {
	case errors.Is(err, blob.ErrNotFound), errors.Is(err, blob.ErrBadKey):
		http.NotFound(w, r)
		return nil, 0, false
	case err != nil:
		a.log.Warn("download: opening the object", "endpoint", endpoint, "bucket", bucket, "key", key, "err", err)
		http.Error(w, "storage unavailable", http.StatusBadGateway)
		return nil, 0, false
	}
	return rc, size, true
}

// servePlaylist reads a playlist (at most maxPlaylistSize) and serves it with each URI made a
// URL valid until exp; a malformed playlist answers 502.
func (a *App) servePlaylist(w http.ResponseWriter, r *http.Request, endpoint string, st blob.Store, bucket, key string, exp time.Time) {
	rc, size, ok := a.openObject(w, r, endpoint, st, bucket, key)
	if !ok {
		return
	}
	defer rc.Close()
	var body []byte
	err := fmt.Errorf("larger than %d bytes", maxPlaylistSize)
	if size <= maxPlaylistSize {
		body, err = io.ReadAll(io.LimitReader(rc, maxPlaylistSize+1))
		if err == nil && len(body) > maxPlaylistSize {
			err = fmt.Errorf("larger than %d bytes", maxPlaylistSize)
		}
	}
	var out []byte
	if err == nil {
		out, err = rewritePlaylist(body, key, func(k string) (string, error) {
			return a.objectURL(r.Context(), endpoint, st, bucket, k, exp)
		})
	}
	if err != nil {
		a.log.Warn("download: cannot serve the playlist", "endpoint", endpoint, "bucket", bucket, "key", key, "err", err)
		http.Error(w, "cannot serve the playlist", http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	w.Header().Set("Cache-Control", "no-cache") // a live playlist changes with each slice
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(out))
}

// rewritePlaylist returns the m3u8 body of the playlist at key with each URI line replaced by
// urlOf(the object key it names), and so the URI="…" attribute of EXT-X-MAP and EXT-X-KEY
// tags. Relative URIs resolve against the playlist's key (a leading / against the bucket);
// absolute URIs (http(s)…) are kept, as is every other line. A body that is not a playlist, a
// URI that leaves the bucket, or more than maxPlaylistURIs URIs is an error.
func rewritePlaylist(body []byte, key string, urlOf func(key string) (string, error)) ([]byte, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	first, _, _ := bytes.Cut(body, []byte("\n"))
	if string(bytes.TrimRight(first, " \t\r")) != "#EXTM3U" {
		return nil, errors.New("not a playlist: no #EXTM3U first line")
	}
	out := make([]byte, 0, len(body)+len(body)/2)
	uris := 0
	resolve := func(n int, uri string) (string, error) {
		if uris++; uris > maxPlaylistURIs {
			return "", fmt.Errorf("more than %d URIs", maxPlaylistURIs)
		}
		k, keep, err := resolveURI(key, uri)
		if err != nil {
			return "", fmt.Errorf("line %d: %w", n, err)
		}
		if keep {
			return uri, nil
		}
		u, err := urlOf(k)
		if err != nil {
			return "", fmt.Errorf("line %d: URL of %s: %w", n, k, err)
		}
		return u, nil
	}
	for n := 1; len(body) > 0; n++ {
		line, rest, hasNL := bytes.Cut(body, []byte("\n"))
		body = rest
		text := strings.TrimSuffix(string(line), "\r")
		eol := string(line[len(text):])
		if hasNL {
			eol += "\n"
		}
		trimmed := strings.TrimSpace(text)
		switch {
		case trimmed == "":
		case strings.HasPrefix(trimmed, "#EXT-X-MAP:") || strings.HasPrefix(trimmed, "#EXT-X-KEY:"):
			start, end, ok := uriAttr(text)
			if ok {
				u, err := resolve(n, text[start:end])
				if err != nil {
					return nil, err
				}
				text = text[:start] + u + text[end:]
			}
		case strings.HasPrefix(trimmed, "#"): // a tag or a comment
		default:
			u, err := resolve(n, trimmed)
			if err != nil {
				return nil, err
			}
			text = u
		}
		out = append(append(out, text...), eol...)
	}
	return out, nil
}

// uriAttr finds the value of a tag's URI="…" attribute: text[start:end].
func uriAttr(text string) (start, end int, ok bool) {
	i := strings.Index(text, `URI="`)
	if i < 0 || (i > 0 && text[i-1] != ':' && text[i-1] != ',') {
		return 0, 0, false
	}
	start = i + len(`URI="`)
	j := strings.IndexByte(text[start:], '"')
	if j <= 0 {
		return 0, 0, false
	}
	return start, start + j, true
}

// resolveURI gives the object key a playlist URI names, relative to the playlist at base, or
// keep for an absolute URI (http(s), a key server's skd://…) or a network-path one
// (//host/…), used as it is. A URI
// is percent-decoded when it parses as one; else (liverec writes keys unescaped, "100%.ts")
// it is taken as written. Its query and fragment are not part of the key.
func resolveURI(base, uri string) (key string, keep bool, err error) {
	p := uri
	if u, perr := url.Parse(uri); perr == nil {
		if u.Scheme != "" || u.Host != "" {
			return "", true, nil
		}
		p = u.Path
	}
	if strings.HasPrefix(p, "/") {
		key = strings.TrimPrefix(path.Clean(p), "/")
	} else {
		key = path.Join(path.Dir(base), p)
	}
	if key == "" || key == "." || key == ".." || strings.HasPrefix(key, "../") || strings.HasPrefix(key, "/") {
		return "", false, fmt.Errorf("URI %q is outside the bucket", clipURI(uri))
	}
	return key, false, nil
}

func clipURI(s string) string {
	if len(s) > 128 {
		return s[:128] + "…"
	}
	return s
}

// cors adds the CORS headers of storage.cors_origins to the playback paths' answers (403s
// included, so a player can tell why), and Vary: Origin for caches.
func (a *App) cors(h http.Handler) http.Handler {
	origins := a.conf.Storage.CORSOrigins
	if len(origins) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Add("Vary", "Origin")
		if allow := allowedOrigin(origins, r.Header.Get("Origin")); allow != "" {
			hd.Set("Access-Control-Allow-Origin", allow)
			hd.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
			hd.Set("Access-Control-Allow-Headers", "Range")
			hd.Set("Access-Control-Expose-Headers", "Content-Length, Content-Range, Accept-Ranges")
		}
		h.ServeHTTP(w, r)
	})
}

// allowedOrigin is the Access-Control-Allow-Origin for a request from origin: origin itself
// when listed, "*" when any origin is, else "".
func allowedOrigin(origins []string, origin string) string {
	star := false
	for _, o := range origins {
		if o == "*" {
			star = true
		} else if origin != "" && strings.EqualFold(o, origin) {
			return origin
		}
	}
	if star {
		return "*"
	}
	return ""
}
