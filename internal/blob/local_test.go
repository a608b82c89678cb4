package blob

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLocalPutNeverOverwrites(t *testing.T) {
	root := t.TempDir()
	l := &Local{Root: root}
	ctx := context.Background()
	keys := []string{}
	for i := range 3 {
		src := filepath.Join(t.TempDir(), "f.flv")
		require.NoError(t, os.WriteFile(src, []byte{byte(i)}, 0o644))
		k, err := l.Put(ctx, "recordings", "live/test/a.flv", src)
		require.NoError(t, err)
		keys = append(keys, k)
		require.NoFileExists(t, src)
	}
	require.Equal(t, []string{"live/test/a.flv", "live/test/a_1.flv", "live/test/a_2.flv"}, keys)
	for i, k := range keys {
		b, err := os.ReadFile(filepath.Join(root, "recordings", k))
		require.NoError(t, err)
		require.Equal(t, []byte{byte(i)}, b)
	}
	k, err := l.PutBytes(ctx, "recordings", "live/test/a.flv", []byte("x"))
	require.NoError(t, err)
	require.Equal(t, "live/test/a_3.flv", k)
	require.True(t, l.Exists("recordings", k))
}

func TestLocalRejectsEscapingKeys(t *testing.T) {
	l := &Local{Root: t.TempDir()}
	for _, c := range []struct{ bucket, key string }{
		{"recordings", "../x.flv"}, {"recordings", "/abs.flv"}, {"recordings", "a/../../x"},
		{"..", "x.flv"}, {"a/b", "x.flv"}, {"", "x"}, {"recordings", ""}, {"recordings", "a//b"},
	} {
		_, err := l.PutBytes(context.Background(), c.bucket, c.key, []byte("x"))
		require.ErrorIs(t, err, ErrBadKey, "%s/%s", c.bucket, c.key)
	}
}

// TestLocalPutAcrossFileSystems covers a spool on another file system than the buckets
// (tmpfs here), where a hard link is impossible and the file is copied and fsynced first.
func TestLocalPutAcrossFileSystems(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "liverec-blob-")
	require.NoError(t, err, "/dev/shm is needed to test a spool on another file system")
	t.Cleanup(func() { os.RemoveAll(shm) })
	src := filepath.Join(shm, "f.mp4")
	require.NoError(t, os.WriteFile(src, []byte("payload"), 0o644))
	l := &Local{Root: t.TempDir()}
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
