//go:build !linux

package diskspace

import "os"

// allocate gives f size bytes of real blocks by writing zeros (no fallocate here).
func allocate(f *os.File, size int64) error {
	buf := make([]byte, 1<<20)
	for n := int64(0); n < size; {
		k := min(int64(len(buf)), size-n)
		if _, err := f.Write(buf[:k]); err != nil {
			return err
		}
		n += k
	}
	return nil
}
