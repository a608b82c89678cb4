// Package console serves the embedded web console at /console/ (PRODUCT.md §10): plain HTML,
// ES modules and CSS from web/, with hls.js vendored in web/vendor/ (scripts/vendor-hls), no
// build step and nothing from other origins. The console works on the native API (/api/v1/)
// with a bearer token kept in sessionStorage, so its files are public and carry no secrets.
//
// Every response carries a Content-Security-Policy that allows scripts, styles and workers from
// the console's own origin only (no inline code, no eval), media and fetches from it and from
// the storage endpoints' origins (Config.ExtraOrigins, where players read recordings), and no
// framing. Files are read, hashed and gzipped once when the handler is made; each is served
// with Cache-Control: no-cache and a strong ETag, so a browser revalidates on every load and a
// new binary's files are used at once.
package console

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

//go:embed web
var embedded embed.FS

// Prefix is the path the console is served under.
const Prefix = "/console/"

// Config configures Handler.
type Config struct {
	// Logger receives configuration problems (an origin that is not one); nil discards.
	Logger *slog.Logger
	// ExtraOrigins are the origins, besides the console's own, that the CSP lets the page play
	// media from and fetch from: the storage endpoints' url and public_url origins, where
	// download and playback links point. Each is scheme://host[:port] (host may start with
	// "*." for every subdomain; see OriginsOf); anything else is logged and left out.
	ExtraOrigins []string
	// Files are the files served; nil serves the embedded web directory (tests pass others).
	Files fs.FS
}

type handler struct {
	assets map[string]*asset
	csp    string
	failed bool // the files could not be read: every file answers 500
}

// Handler serves GET and HEAD for /console/ (index.html) and /console/<file>; /console
// redirects to /console/, an unknown file is 404 and any other method 405.
func Handler(cfg Config) http.Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	origins, bad := checkOrigins(cfg.ExtraOrigins)
	for _, o := range bad {
		log.Warn("console: CSP origin left out: not scheme://host[:port]", "origin", o)
	}
	h := &handler{csp: policy(origins)}
	files := cfg.Files
	if files == nil {
		sub, err := fs.Sub(embedded, "web")
		if err != nil { // only a broken build: web is embedded
			log.Error("console: embedded files", "err", err)
			h.failed = true
			return h
		}
		files = sub
	}
	assets, err := load(files)
	if err != nil {
		log.Error("console: files not served", "err", err)
		h.failed = true
		return h
	}
	h.assets = assets
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", h.csp)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")

	name, under := strings.CutPrefix(r.URL.Path, Prefix)
	if !under && r.URL.Path != strings.TrimSuffix(Prefix, "/") {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !under {
		target := Prefix
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return
	}
	if h.failed {
		http.Error(w, "console unavailable", http.StatusInternalServerError)
		return
	}
	if name == "" {
		name = "index.html"
	}
	a, ok := h.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	body, tag, gz := a.body, a.etag, false
	if zbody := a.gzipped(); zbody != nil {
		hdr.Set("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body, tag, gz = zbody, a.gzTag(), true
		}
	}
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("ETag", tag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, a.etag, a.gzTag()) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Type", a.ctype)
	if gz {
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body) // an error is a client gone: nothing left to tell it
	}
}

// etagMatch is If-None-Match's weak comparison (RFC 9110 §13.1.2): "*" or any listed tag equal
// to one of ours, W/ ignored. Either encoding's tag answers 304: the bytes decode the same.
func etagMatch(header string, tags ...string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" {
			return true
		}
		for _, want := range tags {
			if t == want {
				return true
			}
		}
	}
	return false
}

// acceptsGzip tells whether an Accept-Encoding value allows gzip: named (or "*" when gzip is
// not named) with a q-value above 0.
func acceptsGzip(header string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		ok := true
		if k, v, found := strings.Cut(params, "="); found && strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			ok = err == nil && q > 0
		}
		if coding == "*" {
			star = ok
			continue
		}
		return ok
	}
	return star
}
