package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
)

// asset is one file, read and hashed once at start.
type asset struct {
	body  []byte
	ctype string
	etag  string // strong tag of body; the gzip variant's tag adds "-gz"

	// The gzip of body is made on first request, not at start: every liverec start (and
	// every test app) would otherwise pay ~0.2 s compressing hls.js that nobody may ask for.
	gzOnce sync.Once
	gz     []byte // nil when it would not be smaller or the type is compressed
}

// gzipped returns the compressed body, or nil when it is served uncompressed.
func (a *asset) gzipped() []byte {
	a.gzOnce.Do(func() {
		if compressible(a.ctype) {
			a.gz = gzipped(a.body)
		}
	})
	return a.gz
}

func (a *asset) gzTag() string { return strings.TrimSuffix(a.etag, `"`) + `-gz"` }

// contentTypes are the types of the files the console ships. A fixed table, not the system's
// mime database, so a host's /etc/mime.types cannot change what browsers are told (a module
// script served as anything but JavaScript does not run).
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".svg":         "image/svg+xml",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".png":         "image/png",
	".ico":         "image/x-icon",
	".webp":        "image/webp",
	".txt":         "text/plain; charset=utf-8",
	".md":          "text/plain; charset=utf-8",
	".license":     "text/plain; charset=utf-8",
}

func contentType(name string) string {
	if t, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	if strings.HasPrefix(path.Base(name), "LICENSE") {
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// compressible: text formats gain from gzip, images and unknown bytes are served as they are.
func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.HasPrefix(ctype, "image/svg") ||
		strings.HasPrefix(ctype, "application/json") || strings.HasPrefix(ctype, "application/manifest")
}

// load reads every file of fsys into assets keyed by slash path ("index.html",
// "vendor/hls.light.min.mjs").
func load(fsys fs.FS) (map[string]*asset, error) {
	assets := map[string]*asset{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		a := &asset{body: body, ctype: contentType(name)}
		sum := sha256.Sum256(body)
		a.etag = `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
		assets[name] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read console files: %w", err)
	}
	return assets, nil
}

// gzipped returns body compressed, or nil when that saves nothing worth a header. Writing to
// a bytes.Buffer cannot fail, and BestCompression is a valid level.
func gzipped(body []byte) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = zw.Write(body)
	_ = zw.Close()
	if b.Len()+64 >= len(body) {
		return nil
	}
	return b.Bytes()
}
