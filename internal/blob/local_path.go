package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// Path is where bucket/key lives on disk; ErrBadKey for names that would escape the root.
func (l *Local) Path(bucket, key string) (string, error) { return l.target(bucket, key) }

// Open opens bucket/key for reading. The reader is the *os.File itself, so a server can seek
// it (Range requests) and send it with sendfile(2).
func (l *Local) Open(_ context.Context, bucket, key string) (io.ReadCloser, int64, error) {
	p, err := l.target(bucket, key)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, 0, fmt.Errorf("open object %s/%s: %w", bucket, key, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("open object %s/%s: %w", bucket, key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("open object %s/%s: %w", bucket, key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close() // a directory: a prefix of other keys, not an object
		return nil, 0, fmt.Errorf("open object %s/%s: %w", bucket, key, ErrNotFound)
	}
	return f, fi.Size(), nil
}
