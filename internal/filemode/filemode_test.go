package filemode

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	for _, m := range []fs.FileMode{0o600, 0o640, 0o644, 0o660, 0o666, 0o700, 0o755, 0o777} {
		require.NoError(t, Check(m), "%#o", uint32(m))
	}
	for m, want := range map[fs.FileMode]string{
		0o400: "owner read and write", 0o200: "owner read and write", 0o044: "owner read and write",
		0: "owner read and write", fs.ModeSetuid | 0o644: "beyond the permissions",
		fs.ModeSticky | 0o644: "beyond the permissions", fs.ModeDir | 0o755: "beyond the permissions",
	} {
		require.ErrorContains(t, Check(m), want, "%v", m)
	}
}

func TestDirAddsXWhereRIs(t *testing.T) {
	for m, want := range map[fs.FileMode]fs.FileMode{
		0: 0o755, 0o644: 0o755, 0o640: 0o750, 0o600: 0o700, 0o660: 0o770, 0o604: 0o705, 0o666: 0o777,
	} {
		require.Equal(t, want, Dir(m), "%#o", uint32(m))
	}
}

func TestMkdirAllKeepsExistingFolders(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.Chmod(root, 0o711))
	require.NoError(t, MkdirAll(filepath.Join(root, "x"), 0o600))
	fi, err := os.Stat(root)
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o711), fi.Mode().Perm(), "an existing folder keeps its mode")
	fi, err = os.Stat(filepath.Join(root, "x"))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o700), fi.Mode().Perm())
}

func TestMkdirAllRefusesAFileInTheWay(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "f"), nil, 0o644))
	require.ErrorContains(t, MkdirAll(filepath.Join(root, "f", "sub"), 0o644), "exists and is not a folder")
	require.ErrorContains(t, MkdirAll(filepath.Join(root, "f"), 0o644), "exists and is not a folder")
}
