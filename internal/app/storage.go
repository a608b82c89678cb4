package app

import (
	"context"
	"fmt"
	"time"

	"github.com/liverec/liverec/internal/blob"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/upload"
)

// storageTimeout bounds the small storage calls made for the API (bucket checks, URLs).
const storageTimeout = 10 * time.Second

// initStorage builds the endpoints of the config and their alias table. The S3 endpoints
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
			a.stores[e.Name] = &blob.Local{Root: e.Root, FileMode: a.conf.Storage.FileMode.Perm()}
		}
		for _, al := range e.Aliases {
			a.alias[al] = e.Name
		}
	}
	return nil
}

// makeConfigBuckets creates the local buckets of the config file's rules, as writing a rule
// through the API does: a folder that cannot be made or written stops the start with the
// reason instead of failing the first recording. (Their S3 buckets are not asked: an endpoint
// that is down must not stop liverec.)
func (a *App) makeConfigBuckets() error {
	for i, r := range a.conf.StartRules() {
		endpoint, bucket := r.Storage.Endpoint, r.Storage.Bucket
		st, err := a.endpoint(endpoint)
		if err != nil {
			continue
		}
		if l, ok := st.(*blob.Local); ok {
			if err := l.MakeBucket(bucket); err != nil {
				return fmt.Errorf("config rule %d: bucket %q on local storage endpoint %q cannot be used: %w",
					i, bucket, endpoint, err)
			}
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

// checkBucket is the service's check of a rule's bucket (service.Service.CheckBucket): an S3
// bucket must exist; a local bucket's folder is created now, so that one that cannot be made
// or written is refused when the rule is written, not at its first recording.
func (a *App) checkBucket(ctx context.Context, endpoint, bucket string) (string, error) {
	st, err := a.endpoint(endpoint)
	if err != nil {
		return "", err
	}
	if l, ok := st.(*blob.Local); ok {
		if merr := l.MakeBucket(bucket); merr != nil {
			return fmt.Sprintf("bucket %q on local storage endpoint %q cannot be used: %v", bucket, endpoint, merr), nil
		}
		return "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, storageTimeout)
	defer cancel()
	ok, err := st.BucketExists(ctx, bucket)
	if err != nil || ok {
		return "", err
	}
	return fmt.Sprintf("bucket %q does not exist on storage endpoint %q (liverec does not create S3 buckets: create it first)",
		bucket, endpoint), nil
}

// storageReachable tells whether an endpoint answers (for /readyz): asking for a bucket's
// existence needs the endpoint up and the keys accepted.
func storageReachable(ctx context.Context, st blob.Store) error {
	_, err := st.BucketExists(ctx, "liverec-readiness-probe")
	return err
}

// objectKey names an object as the uploader will (service.ObjectName), for rule previews and
// test events.
func (a *App) objectKey(n service.ObjectName) string {
	v := upload.NameVars{Domain: n.Domain, App: n.App, Stream: n.Stream, Format: string(n.Format),
		RecordType: upload.RecordType(n.Mode), Sequence: n.Sequence, Start: n.Start, End: n.End}
	ext := upload.Extension(string(n.Format))
	if n.Slice {
		ext = upload.Extension("hls-slice")
	}
	return a.up.Key(n.Storage, n.Template, v, ext)
}
