//go:build unix

package filemode

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// withUmask runs f under umask u, which must not change the modes liverec sets.
func withUmask(u int, f func()) {
	old := syscall.Umask(u)
	defer syscall.Umask(old)
	f()
}

func TestModesIgnoreTheUmask(t *testing.T) {
	root := t.TempDir()
	withUmask(0o077, func() {
		require.NoError(t, MkdirAll(filepath.Join(root, "a", "b"), 0o640))
		f, err := Create(filepath.Join(root, "a", "b", "f"), 0o640)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		require.NoError(t, WriteFile(filepath.Join(root, "a", "w"), []byte("x"), 0o644))
	})
	for p, want := range map[string]fs.FileMode{"a": 0o750, "a/b": 0o750, "a/b/f": 0o640, "a/w": 0o644} {
		fi, err := os.Stat(filepath.Join(root, p))
		require.NoError(t, err)
		require.Equal(t, want, fi.Mode().Perm(), p)
	}
}
