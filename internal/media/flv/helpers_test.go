package flv_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	recflv "github.com/liverec/liverec/internal/record/flv"
	"github.com/liverec/liverec/internal/record/sink"
)

func tempPath(t testing.TB, name string) string { return filepath.Join(t.TempDir(), name) }

// writeFile writes units with the recorder's FLV writer into a new file and returns its bytes.
// The reader must read what liverec itself writes, and the writer is the only source of
// Enhanced FLV (H.265) here: ffmpeg 5.1 cannot write it. Only these tests import the recorder;
// the package does not.
func writeFile(t testing.TB, tracks media.Tracks, units []media.Unit) []byte {
	t.Helper()
	path := tempPath(t, "liverec.flv")
	f, err := sink.Create(path)
	require.NoError(t, err)
	w, err := recflv.NewWriter(f, tracks)
	require.NoError(t, err)
	for i := range units {
		require.NoError(t, w.WriteUnit(&units[i]), "unit %d", i)
	}
	_, err = w.Close()
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
