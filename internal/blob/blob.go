// Package blob stores completed recordings in buckets: on local disk (Local) and on
// S3-compatible endpoints (S3), behind one small interface, Store.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"
)

// Store is a storage endpoint: buckets of objects addressed by slash-separated keys.
type Store interface {
	// Put stores the file at srcPath as bucket/key without ever overwriting an object: when
	// the key is taken it uses key_1, key_2, … (before the extension) and returns the key
	// used. The source file is removed once the object is confirmed stored. A Put of the same
	// source interrupted by a crash resumes where it stopped (S3 multipart).
	Put(ctx context.Context, bucket, key, srcPath string) (string, error)
	// PutBytes stores data as bucket/key with Put's never-overwrite rule.
	PutBytes(ctx context.Context, bucket, key string, data []byte) (string, error)
	// Replace writes data as bucket/key, overwriting it; readers see the old or the new
	// object, never a part of one (a live playlist at its provisional key).
	Replace(ctx context.Context, bucket, key string, data []byte) error
	// Delete removes bucket/key; a missing object is not an error.
	Delete(ctx context.Context, bucket, key string) error
	// Exists tells whether bucket/key exists.
	Exists(ctx context.Context, bucket, key string) (bool, error)
	// BucketExists tells whether the bucket exists (liverec never creates S3 buckets).
	BucketExists(ctx context.Context, bucket string) (bool, error)
	// URL returns a URL a business server can GET bucket/key from, valid for at least
	// expiry when it is signed. ErrNoURL when the endpoint cannot make one itself.
	URL(ctx context.Context, bucket, key string, expiry time.Duration) (string, error)
	// Open returns a reader of bucket/key's content, streamed from the endpoint, and its size
	// in bytes; the caller closes it. A missing object is an error wrapping ErrNotFound.
	Open(ctx context.Context, bucket, key string) (io.ReadCloser, int64, error)
}

// MaxSuffix bounds the _N suffixes tried when a key is taken (never overwrite).
const MaxSuffix = 10000

var (
	// ErrBadKey is returned for a bucket or key that would escape the root or is not valid.
	ErrBadKey = errors.New("invalid bucket or object key")
	// ErrNoURL is returned by URL when the endpoint does not make download URLs itself (the
	// local endpoint: the app serves signed links).
	ErrNoURL = errors.New("endpoint does not make download URLs")
	// ErrNotFound is returned by Open for an object that does not exist.
	ErrNotFound = errors.New("object not found")
)

// checkKey refuses names that are empty, absolute, not clean or that contain . or ..
// segments, so a key maps to exactly one path below its bucket on every endpoint.
func checkKey(bucket, key string) error {
	if bucket == "" || strings.ContainsAny(bucket, "/\\") || bucket == "." || bucket == ".." {
		return fmt.Errorf("%w: bucket %q", ErrBadKey, bucket)
	}
	if key == "" || strings.HasPrefix(key, "/") || path.Clean(key) != key {
		return fmt.Errorf("%w: key %q", ErrBadKey, key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == ".." || seg == "." {
			return fmt.Errorf("%w: key %q", ErrBadKey, key)
		}
	}
	return nil
}

// suffixed is the i-th candidate for key: key itself for 0, else key_i before the extension
// of the last path element (a/b.flv → a/b_2.flv, a/.env → a/.env_2).
func suffixed(key string, i int) string {
	if i == 0 {
		return key
	}
	ext := path.Ext(key)
	if ext == path.Base(key) {
		ext = "" // a dot file: the name has no extension
	}
	return strings.TrimSuffix(key, ext) + "_" + strconv.Itoa(i) + ext
}

// ContentType is the media type of an object, by its key's extension: what players expect for
// the recording formats (FLV, MP4, m3u8, TS), else the system's guess.
func ContentType(key string) string { return contentType(key) }
