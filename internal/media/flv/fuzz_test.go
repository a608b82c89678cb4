package flv_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/media/flv"
	"github.com/liverec/liverec/internal/testutil"
)

// maxFuzzUnits bounds the units read per input; a file of empty tags is cheap but long.
const maxFuzzUnits = 1000

// smallFile writes a short file of a codec with both tracks, B-frame-like offsets included.
func smallFile(t testing.TB, codec media.Codec) []byte {
	tracks, units := testutil.SmallStream(t, codec)
	return writeFile(t, tracks, units)
}

func FuzzReader(f *testing.F) {
	for _, codec := range []media.Codec{media.CodecH264, media.CodecH265} {
		b := smallFile(f, codec)
		f.Add(b)
		for _, n := range []int{0, 8, 13, 24, 100, len(b) / 2, len(b) - 5, len(b) - 1} {
			f.Add(b[:n])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := flv.NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		for range maxFuzzUnits {
			u, err := r.ReadUnit()
			if err != nil {
				return
			}
			tr := r.Tracks()
			require.True(t, u.Track == tr.Video || u.Track == tr.Audio, "unit of an unknown track")
			if u.Track.IsVideo() {
				_, err := media.ScanAVCC(u.Track.Codec, u.Data)
				require.NoError(t, err)
			}
		}
	})
}

// FuzzParseDecoderConfig checks that a record that parses is rebuilt into one that parses to
// the same parameters.
func FuzzParseDecoderConfig(f *testing.F) {
	for i, codec := range []media.Codec{media.CodecH264, media.CodecH265} {
		conf, err := flv.DecoderConfig(testutil.RefTracks(f, codec).Video)
		require.NoError(f, err)
		f.Add(byte(i), conf)
		f.Add(byte(i), conf[:len(conf)-3])
		f.Add(byte(i), conf[:20])
	}
	f.Fuzz(func(t *testing.T, which byte, data []byte) {
		codec := media.CodecH264
		if which&1 == 1 {
			codec = media.CodecH265
		}
		tr, err := flv.ParseDecoderConfig(codec, data)
		if err != nil {
			return
		}
		conf, err := flv.DecoderConfig(tr)
		require.NoError(t, err)
		again, err := flv.ParseDecoderConfig(codec, conf)
		require.NoError(t, err)
		require.True(t, again.SameParams(tr))
	})
}

// An empty audio or video tag is an error, not a panic (found in review: the audio error
// message read d[0] of an empty tag).
func TestReaderEmptyTags(t *testing.T) {
	for _, typ := range []byte{flv.TagAudio, flv.TagVideo} {
		file := []byte{'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0,
			typ, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11}
		r, err := flv.NewReader(bytes.NewReader(file))
		require.NoError(t, err)
		_, err = r.ReadUnit()
		require.ErrorContains(t, err, "short")
	}
}
