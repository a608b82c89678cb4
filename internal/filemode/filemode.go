// Package filemode is the one rule for the permissions of what liverec writes into the spool
// and the local buckets (storage.file_mode): files get the mode, folders get it plus the x bit
// wherever it has r (0644 → 0755, 0640 → 0750). Both are set with chmod(2) after creation,
// so the process umask cannot narrow them.
package filemode

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Default is the mode of stored files when none is configured.
const Default fs.FileMode = 0o644

// Or returns m, or Default when m is zero (not configured).
func Or(m fs.FileMode) fs.FileMode {
	if m == 0 {
		return Default
	}
	return m
}

// Check tells why m cannot be a file mode: it may hold permission bits only (no setuid,
// setgid or sticky bit, no type), and the owner, liverec itself, must read and write.
func Check(m fs.FileMode) error {
	if m&^fs.ModePerm != 0 {
		return fmt.Errorf("%#o has bits beyond the permissions (0777)", uint32(m))
	}
	if m&0o600 != 0o600 {
		return fmt.Errorf("%#o does not let the owner read and write", uint32(m))
	}
	return nil
}

// Dir is the mode of a folder that holds files of mode m: m plus x wherever it has r, so
// whoever may read the files may also reach them.
func Dir(m fs.FileMode) fs.FileMode {
	m = Or(m)
	return m | (m&0o444)>>2
}

// Create creates or truncates the file at path for reading and writing, with mode m.
func Create(path string, m fs.FileMode) (*os.File, error) {
	return OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_RDWR, m)
}

// OpenFile opens path with flag (which includes os.O_CREATE) and sets its mode to m, whether
// it was created or already there.
func OpenFile(path string, flag int, m fs.FileMode) (*os.File, error) {
	m = Or(m)
	f, err := os.OpenFile(path, flag, m)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(m); err != nil {
		f.Close()
		return nil, fmt.Errorf("set the mode of %s: %w", path, err)
	}
	return f, nil
}

// WriteFile writes data to path (created or truncated) with mode m.
func WriteFile(path string, data []byte, m fs.FileMode) error {
	f, err := OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, m)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Close())
}

// MkdirAll creates dir and its missing parents with mode Dir(m). Folders that already exist
// keep their mode: an operator's choice for a bucket root or the spool is not undone.
func MkdirAll(dir string, m fs.FileMode) error {
	dm := Dir(m)
	var missing []string
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s exists and is not a folder", p)
			}
			break
		}
		// ENOTDIR: a parent is a file, which the next round names.
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return err
		}
		missing = append(missing, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		p := missing[i]
		err := os.Mkdir(p, dm)
		if errors.Is(err, fs.ErrExist) {
			// Made meanwhile by another writer, which sets its mode itself.
			if fi, serr := os.Stat(p); serr != nil || !fi.IsDir() {
				return fmt.Errorf("%s exists and is not a folder", p)
			}
			continue
		}
		if err != nil {
			return err
		}
		if err := os.Chmod(p, dm); err != nil {
			return fmt.Errorf("set the mode of %s: %w", p, err)
		}
	}
	return nil
}
