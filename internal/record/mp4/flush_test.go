package mp4

import (
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"github.com/liverec/liverec/internal/bufpool"
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

// retainedBytes is the buffer capacity a writer holds: payload, sample tables and moof buffer.
func retainedBytes(w *Writer) int {
	n := 0
	if w.scratch != nil {
		n += cap(w.scratch.B)
	}
	for _, t := range w.tracks {
		if t.payload != nil {
			n += cap(t.payload.B)
		}
		n += cap(t.samples) * int(unsafe.Sizeof(wsample{}))
	}
	return n
}

// TestFlushKeepsOnlyHeldBack: after each Flush (every 200 ms of media, as the recorder does
// after an ingest batch) a track keeps only its held-back sample, in a buffer of about its
// size rather than one of the largest fragment's; after Close the writer keeps nothing. The
// file still holds every sample as given.
func TestFlushKeepsOnlyHeldBack(t *testing.T) {
	dir := t.TempDir()
	tracks := synthTracks(t)
	units := synthUnits(tracks, 5*time.Second, 8000, 370)
	frag := filepath.Join(dir, "a.fmp4")
	f := newSink(t, frag)
	w, err := NewWriter(f, tracks)
	require.NoError(t, err)
	const batch = 200 * time.Millisecond
	next, flushes, peak, keptKeyframe := batch, 0, 0, false
	for i := range units {
		if units[i].DTS >= next {
			require.NoError(t, w.Flush())
			require.NoError(t, f.Flush())
			flushes++
			next += batch
			require.Nil(t, w.scratch, "the moof buffer is back in the pool")
			for _, tr := range w.tracks {
				require.Len(t, tr.samples, 1, "only the held-back sample is left")
				held := int(tr.samples[0].size)
				keptKeyframe = keptKeyframe || (tr.video && tr.samples[0].sync)
				require.Len(t, tr.payload.B, held)
				require.LessOrEqual(t, cap(tr.payload.B), max(2*held, 1<<bufpool.MinShift),
					"flush %d: %d bytes kept for a sample of %d", flushes, cap(tr.payload.B), held)
			}
		}
		require.NoError(t, w.WriteUnit(&units[i]))
		for _, tr := range w.tracks {
			if tr.payload != nil {
				peak = max(peak, cap(tr.payload.B))
			}
		}
	}
	require.True(t, keptKeyframe, "a keyframe was held back across a flush at least once")
	require.Greater(t, peak, 2*64000, "fragments need more than what is kept")

	st, err := w.Close()
	require.NoError(t, err)
	require.Zero(t, retainedBytes(w), "Close leaves nothing")
	require.NoError(t, f.Close())

	var moofs int
	for _, b := range topBoxes(t, frag) {
		if b.typ == "moof" {
			moofs++
		}
	}
	require.Equal(t, flushes+1, moofs, "a fragment per flush, then the last one")
	final := filepath.Join(dir, "a.mp4")
	fs, err := Finalize(frag, final)
	require.NoError(t, err)
	require.Equal(t, st.VideoFrames, fs.VideoFrames)
	require.Equal(t, st.AudioFrames, fs.AudioFrames)
	compareSamples(t, final, units)
}

// TestFinalizeKeepsTheSpoolFilesMode: the regular MP4 has the fragmented file's mode (the
// spool's storage.file_mode), not os.CreateTemp's private one or a fixed one.
func TestFinalizeKeepsTheSpoolFilesMode(t *testing.T) {
	dir := t.TempDir()
	tracks := synthTracks(t)
	src := filepath.Join(dir, "a.fmp4")
	writeFragmented(t, src, tracks, synthUnits(tracks, 2*time.Second, 2000, 300))
	for _, mode := range []os.FileMode{0o660, 0o600, 0o644} {
		require.NoError(t, os.Chmod(src, mode))
		dst := filepath.Join(dir, "out.mp4")
		_, err := Finalize(src, dst)
		require.NoError(t, err)
		fi, err := os.Stat(dst)
		require.NoError(t, err)
		require.Equal(t, mode, fi.Mode().Perm())
	}
}
