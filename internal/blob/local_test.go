package blob_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/blob"
	"github.com/liverec/liverec/internal/blob/blobtest"
)

// TestLocal runs the contract with the default mode and with 0660, which the usual umask
// (022) would narrow to 0640: the store must set modes itself.
func TestLocal(t *testing.T) {
	for name, mode := range map[string]fs.FileMode{"DefaultMode": 0, "Mode0660": 0o660} {
		t.Run(name, func(t *testing.T) {
			blobtest.Exercise(t, func(t *testing.T) blobtest.Target {
				root := t.TempDir()
				path := func(bucket, key string) string { return filepath.Join(root, bucket, filepath.FromSlash(key)) }
				return blobtest.Target{
					Store:  &blob.Local{Root: root, FileMode: mode},
					Bucket: "recordings",
					Read: func(t *testing.T, bucket, key string) ([]byte, bool) {
						b, err := os.ReadFile(path(bucket, key))
						if errors.Is(err, os.ErrNotExist) {
							return nil, false
						}
						require.NoError(t, err)
						return b, true
					},
					Perm: func(t *testing.T, bucket, key string) fs.FileMode {
						fi, err := os.Stat(path(bucket, key))
						require.NoError(t, err)
						return fi.Mode().Perm()
					},
					FileMode: mode,
				}
			})
		})
	}
}

// TestLocalMakeBucket: a rule's bucket folder is made with the folder mode and must be
// writable; a file in its place is refused with the reason.
func TestLocalMakeBucket(t *testing.T) {
	l := &blob.Local{Root: filepath.Join(t.TempDir(), "root"), FileMode: 0o640}
	require.NoError(t, l.MakeBucket("fresh"))
	fi, err := os.Stat(filepath.Join(l.Root, "fresh"))
	require.NoError(t, err)
	require.True(t, fi.IsDir())
	require.Equal(t, fs.FileMode(0o750), fi.Mode().Perm())
	entries, err := os.ReadDir(filepath.Join(l.Root, "fresh"))
	require.NoError(t, err)
	require.Empty(t, entries, "the write probe is removed")
	require.NoError(t, l.MakeBucket("fresh"), "an existing bucket is fine")

	require.NoError(t, os.WriteFile(filepath.Join(l.Root, "taken"), []byte("x"), 0o644))
	require.ErrorContains(t, l.MakeBucket("taken"), "exists and is not a folder")
	require.ErrorIs(t, l.MakeBucket(".."), blob.ErrBadKey)
}

// TestLocalPutAcrossFileSystems covers a spool on another file system than the buckets
// (tmpfs here), where a hard link is impossible and the file is copied and fsynced first.
func TestLocalPutAcrossFileSystems(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "liverec-blob-")
	require.NoError(t, err, "/dev/shm is needed to test a spool on another file system")
	t.Cleanup(func() { os.RemoveAll(shm) })
	src := filepath.Join(shm, "f.mp4")
	require.NoError(t, os.WriteFile(src, []byte("payload"), 0o644))
	l := &blob.Local{Root: t.TempDir(), FileMode: 0o660}
	k, err := l.Put(context.Background(), "b", "x/y.mp4", src)
	require.NoError(t, err)
	require.Equal(t, "x/y.mp4", k)
	fi, err := os.Stat(filepath.Join(l.Root, "b", "x", "y.mp4"))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o660), fi.Mode().Perm(), "a copied object gets the mode too")
	b, err := os.ReadFile(filepath.Join(l.Root, "b", "x", "y.mp4"))
	require.NoError(t, err)
	require.Equal(t, "payload", string(b))
	require.NoFileExists(t, src)
	entries, err := os.ReadDir(filepath.Join(l.Root, "b", "x"))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no staging file left behind")
}

// TestLocalReplaceLeavesNoStagingFile: Replace renames its temp file over the object.
func TestLocalReplaceLeavesNoStagingFile(t *testing.T) {
	l := &blob.Local{Root: t.TempDir()}
	for _, data := range []string{"a", "bb"} {
		require.NoError(t, l.Replace(t.Context(), "b", "p/live.m3u8", []byte(data)))
	}
	entries, err := os.ReadDir(filepath.Join(l.Root, "b", "p"))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	fi, err := entries[0].Info()
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
}

func TestLocalURLIsErrNoURL(t *testing.T) {
	l := &blob.Local{Root: t.TempDir()}
	_, err := l.URL(t.Context(), "b", "x.flv", time.Minute)
	require.ErrorIs(t, err, blob.ErrNoURL)
}
