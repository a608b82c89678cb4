package mp4

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/testutil"
)

// fragmentSamples counts the video and audio samples of the moof at b (track 1 is video,
// track 2 audio, as NewWriter numbers them for a stream with both).
func fragmentSamples(t *testing.T, path string, moof topBox) (video, audio int) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	b := make([]byte, moof.size-moof.hdr)
	_, err = f.ReadAt(b, moof.off+moof.hdr)
	require.NoError(t, err)
	require.NoError(t, boxes(b, func(typ string, _, body []byte) error {
		if typ != "traf" {
			return nil
		}
		var id uint32
		return boxes(body, func(typ string, _, body []byte) error {
			switch typ {
			case "tfhd":
				id = binary.BigEndian.Uint32(body[4:])
			case "trun":
				n := int(binary.BigEndian.Uint32(body[4:]))
				if id == 1 {
					video += n
				} else {
					audio += n
				}
			}
			return nil
		})
	}))
	return video, audio
}

func copyPrefix(t *testing.T, src, dst string, n int64) {
	t.Helper()
	in, err := os.Open(src)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.Create(dst)
	require.NoError(t, err)
	_, err = io.CopyN(out, in, n)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}

// A crash leaves the fragmented file cut anywhere: Finalize keeps the complete fragments.
func TestFinalizeTruncated(t *testing.T) {
	tracks, units := refUnits(t, testutil.RefOptions{Seconds: 6})
	dir := t.TempDir()
	frag := filepath.Join(dir, "rec.fmp4")
	writeFragmented(t, frag, tracks, units)
	bs := topBoxes(t, frag)
	moof, mdat := bs[len(bs)-2], bs[len(bs)-1]
	require.Equal(t, "moof", moof.typ)
	require.Equal(t, "mdat", mdat.typ)
	lastV, lastA := fragmentSamples(t, frag, moof)
	require.Positive(t, lastV+lastA)
	nv, na := testutil.CountUnits(units)

	// The units of the complete fragments: all but the last fragment's samples of each track.
	var kept []media.Unit
	var v, a int
	for _, u := range units {
		if u.Track.IsVideo() && v < nv-lastV {
			kept, v = append(kept, u), v+1
		} else if !u.Track.IsVideo() && a < na-lastA {
			kept, a = append(kept, u), a+1
		}
	}

	for name, cut := range map[string]int64{
		"inside the last mdat":        mdat.off + mdat.size/2,
		"one byte short":              mdat.off + mdat.size - 1,
		"inside the last mdat header": mdat.off + 4,
		"right after the last moof":   mdat.off,
		"inside the last moof":        moof.off + moof.size/2,
	} {
		t.Run(name, func(t *testing.T) {
			cutPath := filepath.Join(t.TempDir(), "cut.fmp4")
			final := filepath.Join(t.TempDir(), "cut.mp4")
			copyPrefix(t, frag, cutPath, cut)
			st, err := Finalize(cutPath, final)
			require.NoError(t, err)
			require.EqualValues(t, nv-lastV, st.VideoFrames)
			require.EqualValues(t, na-lastA, st.AudioFrames)
			checkProbe(t, final, "h264", nv-lastV, na-lastA)
			compareSamples(t, final, kept)
		})
	}

	t.Run("middle of the file", func(t *testing.T) {
		cutPath := filepath.Join(t.TempDir(), "cut.fmp4")
		final := filepath.Join(t.TempDir(), "cut.mp4")
		copyPrefix(t, frag, cutPath, mdat.off/2)
		st, err := Finalize(cutPath, final)
		require.NoError(t, err)
		require.Positive(t, st.VideoFrames)
		checkProbe(t, final, "h264", int(st.VideoFrames), int(st.AudioFrames))
	})

	t.Run("init segment only", func(t *testing.T) {
		cutPath := filepath.Join(t.TempDir(), "cut.fmp4")
		copyPrefix(t, frag, cutPath, bs[2].off+5)
		_, err := Finalize(cutPath, filepath.Join(t.TempDir(), "cut.mp4"))
		require.ErrorIs(t, err, ErrNoSamples)
	})
}

// trackEnds reads the decode end of every track of a final file from its moov: the empty edit
// that places the track (movie clock) plus the mdhd duration (media clock).
func trackEnds(t *testing.T, path string) []time.Duration {
	t.Helper()
	bs := topBoxes(t, path)
	require.Equal(t, "moov", bs[1].typ)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	b := make([]byte, bs[1].size-bs[1].hdr)
	_, err = f.ReadAt(b, bs[1].off+bs[1].hdr)
	require.NoError(t, err)
	var ends []time.Duration
	require.NoError(t, boxes(b, func(typ string, _, body []byte) error {
		if typ != "trak" {
			return nil
		}
		var empty, dur time.Duration
		var walk func(typ string, _, body []byte) error
		walk = func(typ string, _, body []byte) error {
			switch typ {
			case "edts", "mdia":
				return boxes(body, walk)
			case "elst": // version 1: count, then segment_duration, media_time, rate
				if binary.BigEndian.Uint64(body[16:]) == math.MaxUint64 {
					empty = time.Duration(binary.BigEndian.Uint64(body[8:])) * time.Millisecond
				}
			case "mdhd": // version 1: timescale at 20, duration at 24
				ts := int64(binary.BigEndian.Uint32(body[20:]))
				dur = media.FromTimescale(int64(binary.BigEndian.Uint64(body[24:])), ts)
			}
			return nil
		}
		ends = append(ends, 0)
		err := boxes(body, walk)
		ends[len(ends)-1] = empty + dur
		return err
	}))
	return ends
}

// A fragmented file cut at every byte of its init segment and at many offsets inside every
// moof and mdat: a cut before the first complete fragment wraps ErrNothingToRecover; any other
// is finalized from exactly the complete fragments, and its stats match the output.
func TestFinalizeEveryCut(t *testing.T) {
	tracks, units := refUnits(t, testutil.RefOptions{Seconds: 4, BFrames: 2, Bitrate: "500k"})
	dir := t.TempDir()
	frag := filepath.Join(dir, "rec.fmp4")
	ws := writeFragmented(t, frag, tracks, units)
	data, err := os.ReadFile(frag)
	require.NoError(t, err)
	bs := topBoxes(t, frag)
	require.Equal(t, []string{"ftyp", "moov", "moof", "mdat"}, boxTypes(bs[:4]))
	initEnd := bs[1].off + bs[1].size

	// Samples of each track after each complete fragment.
	type fragEnd struct {
		end  int64
		v, a int
	}
	var frags []fragEnd
	var v, a int
	cuts := []int64{}
	for n := range initEnd + 1 {
		cuts = append(cuts, n)
	}
	for i := 2; i+1 < len(bs); i += 2 {
		moof, mdat := bs[i], bs[i+1]
		fv, fa := fragmentSamples(t, frag, moof)
		v, a = v+fv, a+fa
		frags = append(frags, fragEnd{mdat.off + mdat.size, v, a})
		for _, d := range []int64{1, 7, 8, 9, moof.size / 2, moof.size - 1} {
			cuts = append(cuts, moof.off+d)
		}
		for _, d := range []int64{0, 1, 7, 8, 9, mdat.size / 2, mdat.size - 1, mdat.size} {
			cuts = append(cuts, mdat.off+d)
		}
	}
	require.Greater(t, len(frags), 3)
	nv, na := testutil.CountUnits(units)
	require.Equal(t, [2]int{nv, na}, [2]int{v, a})
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		cuts = append(cuts, initEnd+rng.Int64N(int64(len(data))-initEnd))
	}

	var vUnits, aUnits []media.Unit
	for _, u := range units {
		if u.Track.IsVideo() {
			vUnits = append(vUnits, u)
		} else {
			aUnits = append(aUnits, u)
		}
	}
	conf, err := tracks.Audio.AACConfig()
	require.NoError(t, err)
	cutPath, final := filepath.Join(dir, "cut.fmp4"), filepath.Join(dir, "cut.mp4")
	probed := 0
	for _, n := range cuts {
		require.NoError(t, os.WriteFile(cutPath, data[:n], 0o644))
		st, err := Finalize(cutPath, final)
		k := 0
		for k < len(frags) && frags[k].end <= n {
			k++
		}
		if k == 0 {
			require.ErrorIs(t, err, ErrNothingToRecover, "cut at %d", n)
			require.Equal(t, n >= initEnd, errors.Is(err, ErrNoSamples), "cut at %d", n)
			continue
		}
		require.NoError(t, err, "cut at %d", n)
		fe := frags[k-1]
		require.EqualValues(t, fe.v, st.VideoFrames, "cut at %d", n)
		require.EqualValues(t, fe.a, st.AudioFrames, "cut at %d", n)
		fi, err := os.Stat(final)
		require.NoError(t, err)
		require.Equal(t, fi.Size(), st.Bytes)

		// A track's samples end where its first held-back sample starts; all of them at the end.
		want := ws.Duration
		if k < len(frags) {
			want = max(media.FromTimescale(media.ToTimescale(vUnits[fe.v].DTS, videoTimescale), videoTimescale),
				media.FromTimescale(media.ToTimescale(aUnits[fe.a].DTS, int64(conf.SampleRate)), int64(conf.SampleRate)))
		}
		require.Equal(t, want, st.Duration, "cut at %d", n)
		ends := trackEnds(t, final)
		require.Len(t, ends, 2)
		require.InDelta(t, st.Duration, max(ends[0], ends[1]), float64(time.Millisecond), "cut at %d", n)

		var kept []media.Unit
		var kv, ka int
		for _, u := range units {
			if u.Track.IsVideo() && kv < fe.v {
				kept, kv = append(kept, u), kv+1
			} else if !u.Track.IsVideo() && ka < fe.a {
				kept, ka = append(kept, u), ka+1
			}
		}
		compareSamples(t, final, kept)
		if n%5 == 0 || k == len(frags) {
			probed++
			checkProbe(t, final, "h264", fe.v, fe.a)
		}
	}
	require.Positive(t, probed)
}

// A file that is no MP4 is refused without ErrNothingToRecover: the caller must not delete it.
func TestFinalizeForeign(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"moof first": {0, 0, 0, 8, 'm', 'o', 'o', 'f'},
		"text":       []byte("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n"),
	} {
		p := filepath.Join(dir, "x.fmp4")
		require.NoError(t, os.WriteFile(p, data, 0o644))
		_, err := Finalize(p, filepath.Join(dir, "x.mp4"))
		require.Error(t, err, name)
		require.NotErrorIs(t, err, ErrNothingToRecover, name)
	}
	_, err := Finalize(filepath.Join(dir, "missing.fmp4"), filepath.Join(dir, "m.mp4"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
