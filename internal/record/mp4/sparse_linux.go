package mp4

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// lseek(2) whence values on Linux.
const (
	seekData = 3
	seekHole = 4
)

// nextData returns the first data region of src within [off, end) (start == end when the rest
// is a hole), so holes of a sparse spool are skipped instead of read as zeros. Sources that
// are not files, or file systems without SEEK_DATA, are all data.
func nextData(src io.ReaderAt, off, end int64) (start, stop int64) {
	f, ok := src.(*os.File)
	if !ok {
		return off, end
	}
	d, err := f.Seek(off, seekData)
	switch {
	case errors.Is(err, syscall.ENXIO): // no data after off
		return end, end
	case err != nil:
		return off, end
	case d >= end:
		return end, end
	}
	h, err := f.Seek(d, seekHole)
	if err != nil {
		return d, end
	}
	return d, min(h, end)
}
