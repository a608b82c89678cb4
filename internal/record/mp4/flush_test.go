package mp4

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFlushWritesBufferedSamples: Flush turns what is buffered into a fragment, so a crash
// right after the spool file's flush keeps every sample but the last of each track.
func TestFlushWritesBufferedSamples(t *testing.T) {
	dir := t.TempDir()
	tracks := synthTracks(t)
	units := synthUnits(tracks, 500*time.Millisecond, 2000, 300) // shorter than one fragment
	src := filepath.Join(dir, "a.fmp4")
	f := newSink(t, src)
	w, err := NewWriter(f, tracks)
	require.NoError(t, err)
	for i := range units {
		require.NoError(t, w.WriteUnit(&units[i]))
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Flush())
	require.NoError(t, w.Flush(), "a second flush with nothing new writes nothing")

	// What a kill -9 would leave: the file as handed to write(2).
	crashed := filepath.Join(dir, "crashed.fmp4")
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(crashed, b, 0o644))
	st, err := Finalize(crashed, filepath.Join(dir, "out.mp4"))
	require.NoError(t, err)
	var video, audio int64
	for _, u := range units {
		if u.Track.IsVideo() {
			video++
		} else {
			audio++
		}
	}
	require.Equal(t, video-1, st.VideoFrames, "every video sample but the held-back last one")
	require.Equal(t, audio-1, st.AudioFrames)
}
