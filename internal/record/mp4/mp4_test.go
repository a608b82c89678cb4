package mp4

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/testutil"
)

// roundTrip writes units as a fragmented MP4, finalizes it and checks both files with ffprobe
// and the final file sample by sample. It returns the two paths.
func roundTrip(t *testing.T, tracks media.Tracks, units []media.Unit, videoCodec string) (frag, final string) {
	t.Helper()
	dir := t.TempDir()
	frag, final = filepath.Join(dir, "rec.fmp4"), filepath.Join(dir, "rec.mp4")
	nv, na := testutil.CountUnits(units)

	ws := writeFragmented(t, frag, tracks, units)
	require.EqualValues(t, nv, ws.VideoFrames)
	require.EqualValues(t, na, ws.AudioFrames)
	fi, err := os.Stat(frag)
	require.NoError(t, err)
	require.Equal(t, fi.Size(), ws.Bytes)
	checkProbe(t, frag, videoCodec, nv, na)

	fs, err := Finalize(frag, final)
	require.NoError(t, err)
	require.EqualValues(t, nv, fs.VideoFrames)
	require.EqualValues(t, na, fs.AudioFrames)
	require.Equal(t, ws.Duration, fs.Duration)
	fi, err = os.Stat(final)
	require.NoError(t, err)
	require.Equal(t, fi.Size(), fs.Bytes)
	require.Equal(t, []string{"ftyp", "moov", "mdat"}, boxTypes(topBoxes(t, final)))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "no temp file left behind")

	pr := checkProbe(t, final, videoCodec, nv, na)
	if v, a := pr.Video(), pr.Audio(); v != nil && a != nil {
		require.InDelta(t, v.DurationSec(), a.DurationSec(), 0.1)
	}
	if nv > 0 {
		require.True(t, testutil.KeyframeFirst(t, final))
	}
	compareSamples(t, final, units)
	return frag, final
}

func refUnits(t *testing.T, o testutil.RefOptions) (media.Tracks, []media.Unit) {
	t.Helper()
	return testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), o))
}

func TestReferenceStream(t *testing.T) {
	tracks, units := refUnits(t, testutil.RefOptions{Seconds: 6})
	nv, na := testutil.CountUnits(units)
	require.Equal(t, 180, nv)
	require.Greater(t, na, 250)
	roundTrip(t, tracks, units, "h264")
}

func TestAudioOnly(t *testing.T) {
	tracks, units := refUnits(t, testutil.RefOptions{Seconds: 6, NoVideo: true})
	require.Nil(t, tracks.Video)
	roundTrip(t, tracks, units, "")
}

func TestVideoOnly(t *testing.T) {
	tracks, units := refUnits(t, testutil.RefOptions{Seconds: 6, NoAudio: true})
	require.Nil(t, tracks.Audio)
	roundTrip(t, tracks, units, "h264")
}

func TestBFrames(t *testing.T) {
	tracks, units := refUnits(t, testutil.RefOptions{Seconds: 6, BFrames: 2})
	var want []float64
	reordered := false
	for i, u := range units {
		if u.Track.IsVideo() {
			want = append(want, u.PTS.Seconds())
			reordered = reordered || (i > 0 && u.PTS != u.DTS)
		}
	}
	require.True(t, reordered, "the reference stream has B-frames")
	_, final := roundTrip(t, tracks, units, "h264")

	// Every frame is presented, at its own time.
	got, _ := probePTS(t, final, "v")
	slices.Sort(want)
	require.Len(t, got, len(want))
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-4, "frame %d", i)
	}
}

func TestH265(t *testing.T) {
	path := testutil.RefStream(t, t.TempDir(), testutil.RefOptions{
		Seconds: 4, Codec: "libx265", Container: "hevc", NoAudio: true,
	})
	tracks, units := testutil.LoadAnnexB(t, path, media.CodecH265, 30)
	require.Len(t, units, 120)
	roundTrip(t, tracks, units, "hevc")
}

// A track that starts after the file keeps its place through an empty edit.
func TestDelayedTrackStart(t *testing.T) {
	tracks, units := refUnits(t, testutil.RefOptions{Seconds: 4})
	const delay = 500 * time.Millisecond
	var shifted []media.Unit
	firstVideo := time.Duration(-1)
	for _, u := range units {
		if u.Track.IsVideo() {
			if firstVideo < 0 {
				firstVideo = u.PTS
			}
			u.DTS += delay
			u.PTS += delay
		}
		shifted = append(shifted, u)
	}
	slices.SortStableFunc(shifted, func(a, b media.Unit) int { return int(a.DTS - b.DTS) })
	_, final := roundTrip(t, tracks, shifted, "h264")
	_, vStart := probePTS(t, final, "v")
	_, aStart := probePTS(t, final, "a")
	require.InDelta(t, (firstVideo + delay).Seconds(), vStart, 0.002)
	require.InDelta(t, 0, aStart, 0.002)
}

func TestWriteUnitErrors(t *testing.T) {
	tracks := synthTracks(t)
	dir := t.TempDir()
	f := newSink(t, filepath.Join(dir, "x.fmp4"))
	w, err := NewWriter(f, tracks)
	require.NoError(t, err)
	u := media.Unit{Track: tracks.Video, DTS: time.Second, PTS: time.Second, Keyframe: true, Data: pattern(100, 0)}
	require.NoError(t, w.WriteUnit(&u))
	require.Error(t, w.WriteUnit(&u), "DTS not increasing")
	u.DTS, u.PTS = 2*time.Second, 2*time.Second
	u.Data = nil
	require.Error(t, w.WriteUnit(&u), "empty unit")

	other, err := media.NewH264Track(testSPS, []byte{0x09})
	require.NoError(t, err)
	u.Data, u.Track = pattern(100, 1), other
	require.Error(t, w.WriteUnit(&u), "track with other parameters")
	same, err := media.NewH264Track(testSPS, []byte{0x08})
	require.NoError(t, err)
	u.Track = same
	require.NoError(t, w.WriteUnit(&u), "a rebuilt track with the same parameters continues")

	st, err := w.Close()
	require.NoError(t, err)
	require.EqualValues(t, 2, st.VideoFrames)
	require.Equal(t, 2*time.Second+time.Second, st.Duration, "last sample repeats the previous duration")
	require.Error(t, w.WriteUnit(&u), "write after close")
	_, err = NewWriter(f, media.Tracks{})
	require.Error(t, err)
}

// Issue 7: no allocation per frame in steady state.
func TestWriteUnitZeroAlloc(t *testing.T) {
	tracks := synthTracks(t)
	units := synthUnits(tracks, 20*time.Second, 8000, 370)
	f := newSink(t, filepath.Join(t.TempDir(), "x.fmp4"))
	w, err := NewWriter(f, tracks)
	require.NoError(t, err)
	warm := len(units) / 2
	for i := range units[:warm] {
		require.NoError(t, w.WriteUnit(&units[i]))
	}
	i := warm
	allocs := testing.AllocsPerRun(len(units)-warm-1, func() {
		if err := w.WriteUnit(&units[i]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	require.Zero(t, allocs)
}
