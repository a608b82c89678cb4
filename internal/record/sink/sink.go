// Package sink is the spool file every format writer writes through: writes are gathered in
// memory and handed to write(2) in batches (on Flush, or when the batch grows large), so a
// stream costs a few syscalls a second instead of several per frame, and what was handed to
// write(2) survives a crash of the process (§4 durability).
package sink

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/liverec/liverec/internal/filemode"
)

// DefaultMaxBatch is the batch size past which Write flushes on its own. At the reference
// bitrate (2 Mbit/s) a stream fills it in about a quarter second.
const DefaultMaxBatch = 64 << 10

// batchPool holds the batch buffers of files that have nothing pending: a buffer is only
// needed between a write and the next flush, so streams share a few instead of each keeping
// its own (memory per stream is what limits how many streams a machine records).
var batchPool = sync.Pool{New: func() any {
	b := make([]byte, 0, DefaultMaxBatch)
	return &b
}}

// File is a spool file with batched writes. It is not safe for concurrent use: the recorder
// goroutine that owns the stream owns its files.
type File struct {
	f        *os.File
	path     string
	buf      []byte
	bp       *[]byte // batchPool holder of buf while the file has one
	flushed  int64   // bytes handed to write(2)
	maxBatch int
	err      error // sticky write error: once a write failed the file is broken
}

// Create creates (truncating) a spool file and its parent directories with the default mode
// (filemode.Default).
func Create(path string) (*File, error) { return CreateMode(path, 0) }

// CreateMode creates (truncating) a spool file with mode (storage.file_mode; zero: the
// default), and its missing parent directories with filemode.Dir(mode).
func CreateMode(path string, mode fs.FileMode) (*File, error) {
	if err := filemode.MkdirAll(filepath.Dir(path), mode); err != nil {
		return nil, fmt.Errorf("create spool dir: %w", err)
	}
	f, err := filemode.Create(path, mode)
	if err != nil {
		return nil, fmt.Errorf("create spool file: %w", err)
	}
	return &File{f: f, path: path, maxBatch: DefaultMaxBatch}, nil
}

// Path returns the file's path.
func (s *File) Path() string { return s.path }

// Size returns the logical size: flushed bytes plus the pending batch.
func (s *File) Size() int64 { return s.flushed + int64(len(s.buf)) }

// Pending returns the number of bytes not yet handed to write(2).
func (s *File) Pending() int { return len(s.buf) }

// Write appends p to the batch. It never returns a short write without an error.
func (s *File) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n := len(p)
	if len(s.buf)+len(p) > s.maxBatch {
		// Fill the batch and hand it over instead of growing it past its size (pooled
		// buffers stay one size); what is left, if a batch or more, goes to write(2) as it is,
		// without a copy.
		if len(s.buf) > 0 {
			k := max(s.maxBatch-len(s.buf), 0)
			s.buf = append(s.buf, p[:k]...)
			p = p[k:]
			if err := s.Flush(); err != nil {
				return 0, err
			}
		}
		if len(p) >= s.maxBatch {
			if _, err := s.write(p); err != nil {
				return 0, err
			}
			return n, nil
		}
	}
	if s.bp == nil {
		s.bp = batchPool.Get().(*[]byte)
		s.buf = (*s.bp)[:0]
	}
	s.buf = append(s.buf, p...)
	if len(s.buf) >= s.maxBatch {
		if err := s.Flush(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// Flush hands the pending batch to write(2) in one call.
func (s *File) Flush() error {
	if s.err != nil {
		return s.err
	}
	if len(s.buf) == 0 {
		return nil
	}
	if _, err := s.write(s.buf); err != nil {
		return err
	}
	// Give the buffer back for other files, but let a burst's oversized buffer go.
	if cap(s.buf) <= 4*s.maxBatch {
		*s.bp = s.buf[:0]
		batchPool.Put(s.bp)
	}
	s.buf, s.bp = nil, nil
	return nil
}

// write hands p to write(2) (the batch must be empty or p must be it).
func (s *File) write(p []byte) (int, error) {
	n, err := s.f.Write(p)
	s.flushed += int64(n)
	if err != nil {
		s.err = fmt.Errorf("write %s: %w", s.path, err)
		return n, s.err
	}
	return n, nil
}

// WriteAt flushes the batch and then writes p at off, which must lie within the flushed part.
// Writers use it to patch headers (durations, sizes) when a file completes.
func (s *File) WriteAt(p []byte, off int64) error {
	if err := s.Flush(); err != nil {
		return err
	}
	if off < 0 || off+int64(len(p)) > s.flushed {
		return fmt.Errorf("patch %s: range %d+%d outside the %d written bytes", s.path, off, len(p), s.flushed)
	}
	if _, err := s.f.WriteAt(p, off); err != nil {
		s.err = fmt.Errorf("patch %s: %w", s.path, err)
		return s.err
	}
	return nil
}

// Sync flushes the batch and fsyncs the file.
func (s *File) Sync() error {
	if err := s.Flush(); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", s.path, err)
	}
	return nil
}

// Close flushes the batch and closes the file (without fsync; call Sync first for that).
func (s *File) Close() error {
	err := s.Flush()
	return errors.Join(err, s.f.Close())
}
