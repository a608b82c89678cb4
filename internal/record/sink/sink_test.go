package sink

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBatchedWritesAndPatches(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a", "f.bin")
	f, err := Create(p)
	require.NoError(t, err)
	f.maxBatch = 8
	_, err = f.Write([]byte("abc"))
	require.NoError(t, err)
	st, _ := os.Stat(p)
	require.Zero(t, st.Size(), "small writes wait in the batch")
	require.Equal(t, int64(3), f.Size())
	_, err = f.Write([]byte("defghi"))
	require.NoError(t, err)
	st, _ = os.Stat(p)
	require.Equal(t, int64(8), st.Size(), "a batch is filled and handed over, never grown past its size")
	require.Equal(t, 1, f.Pending())
	require.Equal(t, int64(9), f.Size())
	_, err = f.Write([]byte("jkl"))
	require.NoError(t, err)
	big := []byte("mnopqrstuvwxyz0123456789") // fills the batch, and the rest is a batch or more
	_, err = f.Write(big)
	require.NoError(t, err)
	st, _ = os.Stat(p)
	require.Equal(t, int64(36), st.Size(), "what is left of a large piece goes straight through")
	require.Zero(t, f.Pending())
	require.Nil(t, f.bp, "and borrows no batch buffer")
	require.Equal(t, int64(36), f.Size())

	require.NoError(t, f.WriteAt([]byte("XY"), 1))
	require.Error(t, f.WriteAt([]byte("XY"), 35), "patches stay inside what was written")
	_, err = f.Write([]byte("j"))
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "aXYdefghijklmnopqrstuvwxyz0123456789j", string(b))
}

func TestWriteErrorIsSticky(t *testing.T) {
	f, err := Create(filepath.Join(t.TempDir(), "f"))
	require.NoError(t, err)
	f.f.Close() // make the next write(2) fail
	_, err = f.Write([]byte("x"))
	require.NoError(t, err)
	require.Error(t, f.Flush())
	_, err = f.Write([]byte("y"))
	require.Error(t, err, "a broken file stays broken")
}

// TestCreateModeSetsTheModes: the file and the folders it creates get the configured mode
// (0660 is what the usual umask, 022, would narrow), the default is 0644.
func TestCreateModeSetsTheModes(t *testing.T) {
	root := t.TempDir()
	for _, c := range []struct {
		dir        string
		mode, want os.FileMode
		wantDir    os.FileMode
	}{{"default", 0, 0o644, 0o755}, {"group", 0o660, 0o660, 0o770}} {
		p := filepath.Join(root, c.dir, "sub", "f.flv")
		f, err := CreateMode(p, c.mode)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		fi, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, c.want, fi.Mode().Perm(), c.dir)
		for _, d := range []string{filepath.Join(root, c.dir), filepath.Join(root, c.dir, "sub")} {
			fi, err = os.Stat(d)
			require.NoError(t, err)
			require.Equal(t, c.wantDir, fi.Mode().Perm(), d)
		}
	}
}
