package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
	"golang.org/x/time/rate"
)

// S3 part sizes: S3 refuses parts under 5 MiB (but the last) and more than 10000 parts.
const (
	DefaultPartSize = 16 << 20
	MinPartSize     = 5 << 20
	maxParts        = 10000
)

// DefaultTimeout bounds the small S3 operations (stat, delete, list, complete…) when
// S3Config.Timeout is 0.
const DefaultTimeout = 30 * time.Second

// S3Config describes an S3-compatible endpoint.
type S3Config struct {
	Name      string
	URL       string // http://host:port or https://host; the scheme decides TLS
	Region    string // empty: asked from the endpoint
	AccessKey string
	SecretKey string
	PathStyle bool   // path-style requests (http://host/bucket/key), else virtual-host style
	PublicURL string // base of download URLs; empty or equal to URL: presigned URLs
	// PartSize is the multipart part size, and the size from which a file is uploaded in
	// parts. Default DefaultPartSize, at least MinPartSize.
	PartSize int64
	// Limiter caps the bytes per second uploads send (nil: unlimited). Endpoints given the
	// same limiter (NewBandwidthLimiter) stay under one budget together.
	Limiter *rate.Limiter
	// Timeout bounds each small operation; uploads are bounded by their context only.
	Timeout time.Duration
}

// S3 is an S3-compatible endpoint.
type S3 struct {
	cfg      S3Config
	core     *minio.Core
	public   *url.URL // nil: URL presigns
	lim      *rate.Limiter
	sent     atomic.Int64 // bytes handed to the endpoint, retries included
	partSize int64
	timeout  time.Duration

	mu       sync.Mutex
	reserved map[string]struct{} // bucket/key a Put or PutBytes of this process is landing
	srcLocks map[string]*srcLock

	noCond atomic.Bool // the endpoint answered NotImplemented to If-None-Match
}

var _ Store = (*S3)(nil)

// NewS3 checks cfg and returns the endpoint; it does not contact it.
func NewS3(cfg S3Config) (*S3, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("s3 endpoint %q: url %q must be http(s)://host[:port]", cfg.Name, cfg.URL)
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.PartSize < MinPartSize {
		return nil, fmt.Errorf("s3 endpoint %q: part size %d is under the 5 MiB S3 minimum", cfg.Name, cfg.PartSize)
	}
	s := &S3{cfg: cfg, partSize: cfg.PartSize, timeout: cfg.Timeout, lim: cfg.Limiter,
		reserved: map[string]struct{}{}, srcLocks: map[string]*srcLock{}}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if cfg.PublicURL != "" && strings.TrimRight(cfg.PublicURL, "/") != strings.TrimRight(cfg.URL, "/") {
		p, perr := url.Parse(strings.TrimRight(cfg.PublicURL, "/"))
		if perr != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" {
			return nil, fmt.Errorf("s3 endpoint %q: public url %q must be http(s)://host[:port][/path]", cfg.Name, cfg.PublicURL)
		}
		s.public = p
	}
	lookup := minio.BucketLookupDNS
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	transport, err := minio.DefaultTransport(u.Scheme == "https")
	if err != nil {
		return nil, fmt.Errorf("s3 endpoint %q: %w", cfg.Name, err)
	}
	s.core, err = minio.NewCore(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       u.Scheme == "https",
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    transport,
		MaxRetries:   3, // the uploader retries with its own backoff
	})
	if err != nil {
		return nil, fmt.Errorf("s3 endpoint %q: %w", cfg.Name, err)
	}
	return s, nil
}

// BytesSent returns how many bytes the endpoint's uploads have sent, retries included.
func (s *S3) BytesSent() int64 { return s.sent.Load() }

func (s *S3) check(bucket, key string) error {
	if err := checkKey(bucket, key); err != nil {
		return err
	}
	if err := s3utils.CheckValidBucketName(bucket); err != nil {
		return fmt.Errorf("%w: bucket %q: %w", ErrBadKey, bucket, err)
	}
	if len(key) > 1024 {
		return fmt.Errorf("%w: key longer than 1024 bytes", ErrBadKey)
	}
	return nil
}

func (s *S3) short(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// PutBytes stores data as bucket/key, never overwriting (key_1, key_2, … when taken).
func (s *S3) PutBytes(ctx context.Context, bucket, key string, data []byte) (string, error) {
	if err := s.check(bucket, key); err != nil {
		return "", err
	}
	for attempt := 0; ; attempt++ {
		obj, err := s.reserveFree(ctx, bucket, key)
		if err != nil {
			return "", fmt.Errorf("s3 put %s/%s: %w", bucket, key, err)
		}
		err = s.putObject(ctx, bucket, obj, bytes.NewReader(data), int64(len(data)), "", true)
		s.release(bucket, obj)
		if errors.Is(err, errKeyTaken) && attempt < keyRetries {
			continue // another writer landed obj between our check and our write
		}
		if err != nil {
			return "", fmt.Errorf("s3 put %s/%s: as %s: %w", bucket, key, obj, err)
		}
		return obj, nil
	}
}

// Replace writes data as bucket/key, overwriting it. An S3 PUT is atomic for readers.
func (s *S3) Replace(ctx context.Context, bucket, key string, data []byte) error {
	if err := s.check(bucket, key); err != nil {
		return err
	}
	if err := s.putObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), "", false); err != nil {
		return fmt.Errorf("s3 replace %s/%s: %w", bucket, key, err)
	}
	return nil
}

// Delete removes bucket/key; a missing object is not an error.
func (s *S3) Delete(ctx context.Context, bucket, key string) error {
	if err := s.check(bucket, key); err != nil {
		return err
	}
	ctx, cancel := s.short(ctx)
	defer cancel()
	err := s.core.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{})
	if err != nil && codeOf(err) != minio.NoSuchKey {
		return fmt.Errorf("s3 delete %s/%s: %w", bucket, key, coded(err))
	}
	return nil
}

// Exists tells whether bucket/key exists. A missing bucket is an error (NoSuchBucket).
func (s *S3) Exists(ctx context.Context, bucket, key string) (bool, error) {
	if err := s.check(bucket, key); err != nil {
		return false, err
	}
	ok, err := s.exists(ctx, bucket, key)
	if err == nil && !ok {
		// A HEAD answers a bare 404 for a missing bucket too: ask the bucket.
		err = s.listProbe(ctx, bucket)
	}
	if err != nil {
		return false, fmt.Errorf("s3 stat %s/%s: %w", bucket, key, err)
	}
	return ok, nil
}

func (s *S3) exists(ctx context.Context, bucket, key string) (bool, error) {
	_, err := s.stat(ctx, bucket, key)
	switch {
	case err == nil:
		return true, nil
	case codeOf(err) == minio.NoSuchKey:
		return false, nil
	default:
		return false, err
	}
}

// stat is StatObject with a HEAD's bodiless 403 explained (see explain).
func (s *S3) stat(ctx context.Context, bucket, key string) (minio.ObjectInfo, error) {
	sctx, cancel := s.short(ctx)
	defer cancel()
	info, err := s.core.StatObject(sctx, bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return info, s.explain(ctx, bucket, err)
	}
	return info, nil
}

// BucketExists tells whether bucket exists; other failures (credentials…) are errors.
func (s *S3) BucketExists(ctx context.Context, bucket string) (bool, error) {
	if err := s.check(bucket, "x"); err != nil {
		return false, err
	}
	sctx, cancel := s.short(ctx)
	defer cancel()
	ok, err := s.core.BucketExists(sctx, bucket)
	if err != nil {
		return false, fmt.Errorf("s3 head bucket %s: %w", bucket, s.explain(ctx, bucket, err))
	}
	return ok, nil
}

// explain replaces the generic AccessDenied of a HEAD request's 403 (HEAD answers have no
// body, so minio-go only has the status) by the endpoint's own code, asked with a GET that
// has a body: InvalidAccessKeyId, SignatureDoesNotMatch… The app shows it as the failure
// reason.
func (s *S3) explain(ctx context.Context, bucket string, err error) error {
	var er minio.ErrorResponse
	if !errors.As(err, &er) || er.StatusCode != http.StatusForbidden || er.Code != minio.AccessDenied {
		return coded(err)
	}
	if perr := s.listProbe(ctx, bucket); codeOf(perr) != "" {
		return perr
	}
	return coded(err)
}

// listProbe lists at most one key of bucket and returns the error it gets, if any.
func (s *S3) listProbe(ctx context.Context, bucket string) error {
	ctx, cancel := s.short(ctx)
	defer cancel() // also ends the listing goroutine
	for o := range s.core.Client.ListObjects(ctx, bucket, minio.ListObjectsOptions{MaxKeys: 1}) {
		return coded(o.Err) // nil for an object
	}
	return nil
}

// URL returns a download URL: PublicURL/bucket/key (or bucket.host/key in virtual-host
// style), unsigned, when the endpoint has a public URL of its own; else a GET presigned for
// expiry (clamped to S3's 1 s … 7 days).
func (s *S3) URL(ctx context.Context, bucket, key string, expiry time.Duration) (string, error) {
	if err := s.check(bucket, key); err != nil {
		return "", err
	}
	if s.public != nil {
		esc := s3utils.EncodePath(key)
		if s.cfg.PathStyle {
			return s.public.String() + "/" + bucket + "/" + esc, nil
		}
		u := *s.public
		u.Host = bucket + "." + u.Host
		return u.String() + "/" + esc, nil
	}
	expiry = min(max(expiry, time.Second), 7*24*time.Hour)
	sctx, cancel := s.short(ctx)
	defer cancel()
	u, err := s.core.PresignedGetObject(sctx, bucket, key, expiry, nil)
	if err != nil {
		return "", fmt.Errorf("s3 presign %s/%s: %w", bucket, key, coded(err))
	}
	return u.String(), nil
}

// putObject sends one PUT of size bytes from r (through the limiter). With ifAbsent the
// write is conditional (If-None-Match: *) and errKeyTaken reports an existing object.
func (s *S3) putObject(ctx context.Context, bucket, obj string, r io.ReadSeeker, size int64, token string, ifAbsent bool) error {
	opts := s.putOptions(obj, token)
	cond := ifAbsent && !s.noCond.Load()
	if cond {
		opts.SetMatchETagExcept("*")
	}
	body := &limitedReader{ctx: ctx, r: r, l: s.lim, sent: &s.sent}
	_, err := s.core.PutObject(ctx, bucket, obj, body, size, "", "", opts)
	if cond && isNotImplemented(err) {
		s.noCond.Store(true)
		if _, serr := r.Seek(0, 0); serr != nil {
			return serr
		}
		_, err = s.core.PutObject(ctx, bucket, obj, body, size, "", "", s.putOptions(obj, token))
	}
	if ifAbsent && isKeyTaken(err) {
		return fmt.Errorf("%w: %w", errKeyTaken, coded(err))
	}
	return coded(err)
}

func (s *S3) putOptions(obj, token string) minio.PutObjectOptions {
	opts := minio.PutObjectOptions{ContentType: contentType(obj)}
	if token != "" {
		opts.UserMetadata = map[string]string{tokenMeta: token}
	}
	return opts
}

// contentType is what players expect for the recording formats, else the system's guess.
func contentType(key string) string {
	switch ext := strings.ToLower(path.Ext(key)); ext {
	case ".flv":
		return "video/x-flv"
	case ".mp4":
		return "video/mp4"
	case ".m3u8":
		return "application/vnd.apple.mpegurl"
	case ".ts":
		return "video/mp2t"
	case ".m4s":
		return "video/iso.segment"
	default:
		if t := mime.TypeByExtension(ext); t != "" {
			return t
		}
		return "application/octet-stream"
	}
}

// keyRetries bounds how often a Put picks another key after losing a race for one.
const keyRetries = 5

// errKeyTaken: a conditional write found the object already there.
var errKeyTaken = errors.New("object appeared meanwhile")

// reserveFree returns the first of key, key_1, key_2, … that no Put of this process is
// landing and that does not exist on the endpoint, reserved until release.
func (s *S3) reserveFree(ctx context.Context, bucket, key string) (string, error) {
	for i := 0; i <= MaxSuffix; i++ {
		cand := suffixed(key, i)
		if !s.reserve(bucket, cand) {
			continue
		}
		ok, err := s.exists(ctx, bucket, cand)
		if err != nil {
			s.release(bucket, cand)
			return "", fmt.Errorf("stat %s: %w", cand, err)
		}
		if !ok {
			return cand, nil
		}
		s.release(bucket, cand)
	}
	return "", fmt.Errorf("more than %d objects named %s", MaxSuffix, key)
}

func (s *S3) reserve(bucket, key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := bucket + "/" + key
	if _, taken := s.reserved[k]; taken {
		return false
	}
	s.reserved[k] = struct{}{}
	return true
}

func (s *S3) release(bucket, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.reserved, bucket+"/"+key)
}

// srcLock serializes Puts of one source file (they share its sidecar).
type srcLock struct {
	mu   sync.Mutex
	refs int
}

func (s *S3) lockSrc(src string) func() {
	s.mu.Lock()
	l := s.srcLocks[src]
	if l == nil {
		l = &srcLock{}
		s.srcLocks[src] = l
	}
	l.refs++
	s.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		s.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(s.srcLocks, src)
		}
		s.mu.Unlock()
	}
}

// codedError shows an S3 error as "Code: message" (minio-go's Error() is the message
// only) so the code reaches the recording's failure reason.
type codedError struct{ resp minio.ErrorResponse }

func (e *codedError) Error() string {
	msg := e.resp.Code
	if e.resp.Message != "" && e.resp.Message != e.resp.Code {
		msg += ": " + e.resp.Message
	}
	if e.resp.StatusCode != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.resp.StatusCode)
	}
	return msg
}

func (e *codedError) Unwrap() error { return e.resp }

func coded(err error) error {
	if err == nil {
		return nil
	}
	var ce *codedError
	if errors.As(err, &ce) {
		return err
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) && er.Code != "" {
		return &codedError{er}
	}
	return err
}

// S3Code returns the S3 error code in err's chain (InvalidAccessKeyId, NoSuchBucket, …),
// or "" when err is not an S3 error answer.
func S3Code(err error) string { return codeOf(err) }

func codeOf(err error) string {
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		return er.Code
	}
	return ""
}

func isKeyTaken(err error) bool {
	switch codeOf(err) {
	case minio.PreconditionFailed, "ConditionalRequestConflict":
		return true
	}
	return false
}

func isNotImplemented(err error) bool {
	var er minio.ErrorResponse
	return errors.As(err, &er) && (er.Code == "NotImplemented" || er.StatusCode == http.StatusNotImplemented)
}
