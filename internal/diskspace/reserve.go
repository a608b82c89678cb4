// Package diskspace keeps liverec able to record its own failures on a full disk: a Reserve
// holds space in a file that is given back the moment a write fails for lack of space, so the
// database can still write the state changes and events that say what happened, and is taken
// again once space returns.
package diskspace

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
)

// Reserve is a file of Size bytes of real (not sparse) disk blocks at Path. It is safe for
// concurrent use.
type Reserve struct {
	// Path is the reserve file; it lives beside the database, on the disk it protects.
	Path string
	// Size is how much it holds; 0 disables the reserve.
	Size int64

	mu   sync.Mutex
	held bool
}

// Hold makes sure the reserve file exists with its full size. It fails (and holds nothing)
// when the disk has not that much free.
func (r *Reserve) Hold() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Size <= 0 || r.held {
		return nil
	}
	f, err := os.OpenFile(r.Path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create disk reserve: %w", err)
	}
	err = allocate(f, r.Size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(r.Path)
		return fmt.Errorf("allocate disk reserve of %d bytes: %w", r.Size, err)
	}
	r.held = true
	return nil
}

// Release gives the reserve's space back and reports whether it held any.
func (r *Reserve) Release() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.held {
		return false
	}
	if err := os.Remove(r.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false
	}
	r.held = false
	return true
}

// Held tells whether the reserve holds its space.
func (r *Reserve) Held() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.held || r.Size <= 0
}

// Free returns the bytes available to an unprivileged writer on the disk holding path.
func Free(path string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
