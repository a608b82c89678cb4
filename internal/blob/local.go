package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/liverec/liverec/internal/filemode"
)

// Local is the built-in endpoint: objects are files at Root/<bucket>/<key>. Every object lands
// atomically: it is complete and fsynced before its name appears, and Put and PutBytes never
// replace an existing object (only Replace does). Every object has mode FileMode, and the
// folders Local creates filemode.Dir(FileMode), whatever the umask.
type Local struct {
	Root string
	// FileMode is the permissions of stored objects (storage.file_mode); zero is
	// filemode.Default (0644).
	FileMode fs.FileMode
}

var _ Store = (*Local)(nil)

func (l *Local) target(bucket, key string) (string, error) {
	if err := checkKey(bucket, key); err != nil {
		return "", err
	}
	return filepath.Join(l.Root, bucket, filepath.FromSlash(key)), nil
}

// Put moves (or copies, across file systems) the file at src to bucket/key. When the key is
// taken it uses key_1, key_2, … before the extension, and returns the key used.
func (l *Local) Put(_ context.Context, bucket, key, src string) (string, error) {
	dst, err := l.target(bucket, key)
	if err != nil {
		return "", err
	}
	if err = filemode.MkdirAll(filepath.Dir(dst), l.FileMode); err != nil {
		return "", fmt.Errorf("create bucket dir: %w", err)
	}
	// Same file system: a hard link is atomic and fails if the name exists, so a
	// concurrent writer can never be overwritten. Otherwise copy to a temp file first.
	staged := src
	if err = probeLink(src, filepath.Dir(dst)); err != nil {
		staged, err = copyToTemp(src, filepath.Dir(dst))
		if err != nil {
			return "", err
		}
		defer os.Remove(staged)
	}
	// The mode is set before the name appears; on a hard link it is the spool file's too,
	// which is removed below.
	if err = os.Chmod(staged, filemode.Or(l.FileMode)); err != nil {
		return "", fmt.Errorf("stage object: %w", err)
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
func (l *Local) PutBytes(_ context.Context, bucket, key string, data []byte) (string, error) {
	dst, err := l.target(bucket, key)
	if err != nil {
		return "", err
	}
	if err = filemode.MkdirAll(filepath.Dir(dst), l.FileMode); err != nil {
		return "", fmt.Errorf("create bucket dir: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".put-*")
	if err != nil {
		return "", fmt.Errorf("stage object: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err = tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("stage object: %w", err)
	}
	if err = errors.Join(tmp.Chmod(filemode.Or(l.FileMode)), tmp.Sync(), tmp.Close()); err != nil {
		return "", fmt.Errorf("stage object: %w", err)
	}
	used, err := linkUnique(tmp.Name(), dst, key)
	if err != nil {
		return "", err
	}
	return used, syncDir(filepath.Dir(dst))
}

// Replace writes data as bucket/key, overwriting it: a temp file is fsynced then renamed
// over the old one, so readers see either object whole.
func (l *Local) Replace(_ context.Context, bucket, key string, data []byte) error {
	dst, err := l.target(bucket, key)
	if err != nil {
		return err
	}
	if err = filemode.MkdirAll(filepath.Dir(dst), l.FileMode); err != nil {
		return fmt.Errorf("create bucket dir: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".replace-*")
	if err != nil {
		return fmt.Errorf("stage object: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("stage object: %w", err)
	}
	if err := errors.Join(tmp.Chmod(filemode.Or(l.FileMode)), tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("stage object: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("replace object %s: %w", key, err)
	}
	return syncDir(filepath.Dir(dst))
}

// Delete removes bucket/key; a missing object is not an error.
func (l *Local) Delete(_ context.Context, bucket, key string) error {
	p, err := l.target(bucket, key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete object %s: %w", key, err)
	}
	return nil
}

// Exists tells whether bucket/key exists.
func (l *Local) Exists(_ context.Context, bucket, key string) (bool, error) {
	p, err := l.target(bucket, key)
	if err != nil {
		return false, err
	}
	fi, err := os.Stat(p)
	switch {
	case err == nil:
		return fi.Mode().IsRegular(), nil
	case errors.Is(err, os.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return false, nil
	default:
		return false, fmt.Errorf("stat object %s: %w", key, err)
	}
}

// BucketExists is true for every valid bucket name: a local bucket is a folder that liverec
// creates (MakeBucket when a rule names it, and Put again should it be gone).
func (l *Local) BucketExists(_ context.Context, bucket string) (bool, error) {
	if err := checkKey(bucket, "x"); err != nil {
		return false, err
	}
	return true, nil
}

// MakeBucket creates bucket's folder under Root when it is missing and checks that objects
// can be written into it, so that a rule naming a bucket that cannot take files is refused
// when it is written rather than at its first recording.
func (l *Local) MakeBucket(bucket string) error {
	if err := checkKey(bucket, "x"); err != nil {
		return err
	}
	dir := filepath.Join(l.Root, bucket)
	if err := filemode.MkdirAll(dir, l.FileMode); err != nil {
		return fmt.Errorf("create the bucket folder: %w", err)
	}
	probe, err := os.CreateTemp(dir, ".writable-*")
	if err != nil {
		return fmt.Errorf("the bucket folder %s cannot be written to: %w", dir, err)
	}
	return errors.Join(probe.Close(), os.Remove(probe.Name()))
}

// URL returns ErrNoURL: the app serves local objects itself as expiring signed links.
func (l *Local) URL(_ context.Context, bucket, key string, _ time.Duration) (string, error) {
	if _, err := l.target(bucket, key); err != nil {
		return "", err
	}
	return "", ErrNoURL
}

func linkUnique(src, dst, key string) (string, error) {
	dir := strings.TrimSuffix(dst, filepath.FromSlash(key)) // dst is dir + key
	for i := 0; i <= MaxSuffix; i++ {
		ckey := suffixed(key, i)
		err := os.Link(src, dir+filepath.FromSlash(ckey))
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
