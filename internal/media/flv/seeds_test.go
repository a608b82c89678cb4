package flv_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/media/flv"
	"github.com/liverec/liverec/internal/testutil"
	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpora (and rewrites them with
// LIVEREC_WRITE_FUZZ_SEEDS=1). They are cut from real files: FLV written by ffmpeg (H.264 and
// AAC, audio only) and by liverec's Writer from ffmpeg's H.265.
func TestFuzzSeeds(t *testing.T) {
	var cached [][]byte // made once, for every target
	files := func(t testing.TB) [][]byte {
		if cached == nil {
			cached = realFLVs(t)
		}
		return cached
	}
	fileSeeds := func(t testing.TB) [][]any {
		var seeds [][]any
		for _, b := range files(t) {
			for _, c := range fuzzcorpus.Cuts(b, 9, 13, 24, 300, len(b)/2, len(b)-5, len(b)-1) {
				seeds = append(seeds, []any{c})
			}
		}
		return seeds
	}
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzReader": fileSeeds,
		"FuzzParseDecoderConfig": func(t testing.TB) [][]any {
			var seeds [][]any
			for _, b := range files(t) {
				for _, body := range tagBodies(t, b, flv.TagVideo, 1) {
					h, err := flv.ParseVideoHeader(body)
					require.NoError(t, err)
					if h.Kind != flv.PacketConfig {
						continue
					}
					which := byte(0)
					if h.Codec == media.CodecH265 {
						which = 1
					}
					for _, c := range fuzzcorpus.Cuts(h.Payload, len(h.Payload)-1, 24) {
						seeds = append(seeds, []any{which, c})
					}
				}
			}
			return seeds
		},
		"FuzzParseVideoHeader": func(t testing.TB) [][]any { return bodySeeds(t, files(t), flv.TagVideo) },
		"FuzzParseAudioHeader": func(t testing.TB) [][]any { return bodySeeds(t, files(t), flv.TagAudio) },
		"FuzzParseMetadata": func(t testing.TB) [][]any {
			var seeds [][]any
			for _, b := range files(t) {
				for _, body := range tagBodies(t, b, flv.TagScript, 1) {
					seeds = append(seeds, fuzzcorpus.One(fuzzcorpus.Cuts(body, len(body)-3, len(body)/2)...)...)
				}
			}
			return seeds
		},
	})
}

// realFLVs returns tiny real FLV files: ffmpeg's H.264 + AAC and AAC only, and liverec's
// Writer's Enhanced FLV of ffmpeg's H.265.
func realFLVs(t testing.TB) [][]byte {
	dir := t.TempDir()
	out := [][]byte{
		fuzzcorpus.ReadFile(t, fuzzcorpus.Tiny(t, dir, "avc.flv", "libx264", true, "-f", "flv")),
		fuzzcorpus.ReadFile(t, fuzzcorpus.Tiny(t, dir, "aac.flv", "", true, "-f", "flv")),
	}
	tracks, units := testutil.LoadAnnexB(t, fuzzcorpus.Tiny(t, dir, "hevc.h265", "libx265", false, "-f", "hevc"), media.CodecH265, 5)
	return append(out, writeFile(t, tracks, units))
}

// tagBodies returns up to n bodies of tags of a type, in file order.
func tagBodies(t testing.TB, file []byte, typ uint8, n int) [][]byte {
	r, err := flv.NewReader(bytes.NewReader(file))
	require.NoError(t, err)
	var out [][]byte
	for len(out) < n {
		tag, err := r.ReadTag()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if tag.Type == typ {
			out = append(out, bytes.Clone(tag.Data))
		}
	}
	return out
}

// bodySeeds: the first tag bodies of a type (sequence header, keyframe, more frames), frames
// cut to 200 bytes, header bytes matter.
func bodySeeds(t testing.TB, files [][]byte, typ uint8) [][]any {
	var seeds [][]any
	for _, b := range files {
		for _, body := range tagBodies(t, b, typ, 3) {
			seeds = append(seeds, []any{body[:min(len(body), 200)]})
		}
	}
	return seeds
}
