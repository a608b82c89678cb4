package mp4

import (
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"

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
