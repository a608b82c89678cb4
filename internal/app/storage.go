package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/blob"
	"github.com/liverec/liverec/internal/upload"
)

// storageTimeout bounds the small storage calls made for the API (bucket checks, URLs).
const storageTimeout = 10 * time.Second

// initStorage builds the endpoints of the config and their alias table (§8). The S3 endpoints
// share one upload bandwidth limiter: storage.upload_bandwidth is a budget of the process.
func (a *App) initStorage() error {
	a.stores = map[string]blob.Store{}
	a.alias = map[string]string{}
	lim := blob.NewBandwidthLimiter(a.conf.Storage.UploadBandwidth)
	for _, e := range a.conf.Storage.Endpoints {
		switch e.Type {
		case "s3":
			s3, err := blob.NewS3(blob.S3Config{Name: e.Name, URL: e.URL, Region: e.Region, AccessKey: e.AccessKey,
				SecretKey: e.SecretKey, PathStyle: e.PathStyle, PublicURL: e.PublicURL,
				PartSize: a.conf.Storage.PartSize, Limiter: lim, Timeout: storageTimeout})
			if err != nil {
				return fmt.Errorf("storage endpoint %s: %w", e.Name, err)
			}
			a.stores[e.Name] = s3
		default:
			a.stores[e.Name] = &blob.Local{Root: e.Root}
		}
		for _, al := range e.Aliases {
			a.alias[al] = e.Name
		}
	}
	return nil
}

// uploadedBytes sums what the S3 endpoints sent.
func (a *App) uploadedBytes() float64 {
	var n int64
	for _, st := range a.stores {
		if s3, ok := st.(*blob.S3); ok {
			n += s3.BytesSent()
		}
	}
	return float64(n)
}

// endpointName resolves a rule's endpoint name or alias.
func (a *App) endpointName(name string) (string, bool) {
	if _, ok := a.stores[name]; ok {
		return name, true
	}
	if n, ok := a.alias[name]; ok {
		return n, true
	}
	n, ok := a.alias["*"]
	return n, ok
}

func (a *App) endpoint(name string) (blob.Store, error) {
	n, ok := a.endpointName(name)
	if !ok {
		return nil, fmt.Errorf("storage endpoint %q is not configured", name)
	}
	return a.stores[n], nil
}

func (a *App) objectStore(endpoint string) (upload.ObjectStore, error) {
	return a.endpoint(endpoint)
}

// bucketExists is the service's check of a rule's bucket (§8).
func (a *App) bucketExists(ctx context.Context, endpoint, bucket string) (bool, error) {
	st, err := a.endpoint(endpoint)
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, storageTimeout)
	defer cancel()
	return st.BucketExists(ctx, bucket)
}

// storageReachable tells whether an endpoint answers (for /readyz): asking for a bucket's
// existence needs the endpoint up and the keys accepted.
func storageReachable(ctx context.Context, st blob.Store) error {
	_, err := st.BucketExists(ctx, "liverec-readiness-probe")
	return err
}

// downloadURL is the download_url of an object (§8): the endpoint's own (public or presigned)
// URL, or for local endpoints a signed link liverec serves. "" when none can be made.
func (a *App) downloadURL(ctx context.Context, endpoint, bucket, key string) string {
	st, err := a.endpoint(endpoint)
	if err != nil {
		return ""
	}
	expiry := a.conf.Storage.LinkExpiry.D()
	u, err := st.URL(ctx, bucket, key, expiry)
	if errors.Is(err, blob.ErrNoURL) {
		name, _ := a.endpointName(endpoint)
		return a.signedLink(name, bucket, key, time.Now().Add(expiry))
	}
	if err != nil {
		a.log.Warn("making a download URL", "endpoint", endpoint, "key", key, "err", err)
		return ""
	}
	return u
}

// signedLink makes an expiring link to a local object, served by serveDownload.
func (a *App) signedLink(endpoint, bucket, key string, exp time.Time) string {
	base := a.conf.Storage.DownloadBaseURL
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

// serveDownload serves a local object behind a signed, unexpired link.
func (a *App) serveDownload(w http.ResponseWriter, r *http.Request) {
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
	local, ok := a.stores[endpoint].(*blob.Local)
	if !ok {
		http.NotFound(w, r)
		return
	}
	p, err := local.Path(bucket, key)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(p)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		http.NotFound(w, r)
		return
	}
	http.ServeContent(a.progressing(w), r, fi.Name(), fi.ModTime(), f) // never cut by api.write_timeout
}
