// Package blob stores completed recordings in buckets: on local disk, and (later) on
// S3-compatible endpoints, behind one small interface.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// MaxSuffix bounds the _N suffixes tried when a key is taken (§8: never overwrite).
const MaxSuffix = 10000

// Local is the built-in endpoint: objects are files at Root/<bucket>/<key>. Every object lands
// atomically: it is complete and fsynced before its name appears, and an existing object is
// never replaced.
type Local struct {
	Root string
}

// ErrBadKey is returned for a bucket or key that would escape the root.
var ErrBadKey = errors.New("invalid bucket or object key")

func (l *Local) target(bucket, key string) (string, error) {
	if bucket == "" || strings.ContainsAny(bucket, "/\\") || bucket == "." || bucket == ".." {
		return "", fmt.Errorf("%w: bucket %q", ErrBadKey, bucket)
	}
	if key == "" || strings.HasPrefix(key, "/") || path.Clean(key) != key {
		return "", fmt.Errorf("%w: key %q", ErrBadKey, key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == ".." || seg == "." {
			return "", fmt.Errorf("%w: key %q", ErrBadKey, key)
		}
	}
	return filepath.Join(l.Root, bucket, filepath.FromSlash(key)), nil
}

// Put moves (or copies, across file systems) the file at src to bucket/key. When the key is
// taken it uses key_1, key_2, … before the extension, and returns the key used.
func (l *Local) Put(ctx context.Context, bucket, key, src string) (string, error) {
	dst, err := l.target(bucket, key)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("create bucket dir: %w", err)
	}
	// Same file system: a hard link is atomic and fails if the name exists, so a
	// concurrent writer can never be overwritten. Otherwise copy to a temp file first.
	staged := src
	if err := probeLink(src, filepath.Dir(dst)); err != nil {
		staged, err = copyToTemp(src, filepath.Dir(dst))
		if err != nil {
			return "", err
		}
		defer os.Remove(staged)
	}
	used, err := linkUnique(staged, dst, key)
	if err != nil {
		return "", err
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return "", err
	}
	if err := os.Remove(src); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("remove spool file: %w", err)
	}
	return used, nil
}

// PutBytes writes data as bucket/key atomically, never overwriting.
func (l *Local) PutBytes(ctx context.Context, bucket, key string, data []byte) (string, error) {
	dst, err := l.target(bucket, key)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("create bucket dir: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".put-*")
	if err != nil {
		return "", fmt.Errorf("stage object: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("stage object: %w", err)
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return "", fmt.Errorf("stage object: %w", err)
	}
	used, err := linkUnique(tmp.Name(), dst, key)
	if err != nil {
		return "", err
	}
	return used, syncDir(filepath.Dir(dst))
}

// Exists tells whether bucket/key exists.
func (l *Local) Exists(bucket, key string) bool {
	p, err := l.target(bucket, key)
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

func linkUnique(src, dst, key string) (string, error) {
	ext := path.Ext(key)
	base, kbase := strings.TrimSuffix(dst, ext), strings.TrimSuffix(key, ext)
	for i := 0; i <= MaxSuffix; i++ {
		cand, ckey := dst, key
		if i > 0 {
			cand = base + "_" + strconv.Itoa(i) + ext
			ckey = kbase + "_" + strconv.Itoa(i) + ext
		}
		err := os.Link(src, cand)
		if err == nil {
			return ckey, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("land object %s: %w", key, err)
		}
	}
	return "", fmt.Errorf("land object %s: more than %d objects with that name", key, MaxSuffix)
}

// probeLink tells whether src can be hard-linked into dir (same file system).
func probeLink(src, dir string) error {
	probe := filepath.Join(dir, ".linkprobe-"+strconv.Itoa(os.Getpid())+"-"+filepath.Base(src))
	if err := os.Link(src, probe); err != nil {
		return err
	}
	return os.Remove(probe)
}

func copyToTemp(src, dir string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("open spool file: %w", err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(dir, ".put-*")
	if err != nil {
		return "", fmt.Errorf("stage object: %w", err)
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", fmt.Errorf("copy object: %w", err)
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("stage object: %w", err)
	}
	return tmp.Name(), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
