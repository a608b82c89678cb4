package blob_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/blob"
	"github.com/liverec/liverec/internal/blob/blobtest"
)

func TestLocal(t *testing.T) {
	blobtest.Exercise(t, func(t *testing.T) blobtest.Target {
		root := t.TempDir()
		return blobtest.Target{
			Store:  &blob.Local{Root: root},
			Bucket: "recordings",
			Read: func(t *testing.T, bucket, key string) ([]byte, bool) {
				b, err := os.ReadFile(filepath.Join(root, bucket, filepath.FromSlash(key)))
				if errors.Is(err, os.ErrNotExist) {
					return nil, false
				}
				require.NoError(t, err)
				return b, true
			},
		}
	})
}

// TestLocalPutAcrossFileSystems covers a spool on another file system than the buckets
// (tmpfs here), where a hard link is impossible and the file is copied and fsynced first.
func TestLocalPutAcrossFileSystems(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "liverec-blob-")
	require.NoError(t, err, "/dev/shm is needed to test a spool on another file system")
	t.Cleanup(func() { os.RemoveAll(shm) })
	src := filepath.Join(shm, "f.mp4")
	require.NoError(t, os.WriteFile(src, []byte("payload"), 0o644))
	l := &blob.Local{Root: t.TempDir()}
	k, err := l.Put(context.Background(), "b", "x/y.mp4", src)
	require.NoError(t, err)
	require.Equal(t, "x/y.mp4", k)
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
