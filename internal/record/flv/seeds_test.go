package flv_test

import (
	"testing"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/testutil"
	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpus of FuzzRecover (and rewrites it with
// LIVEREC_WRITE_FUZZ_SEEDS=1). The seeds are cut from real files: FLV written by ffmpeg (H.264
// and AAC, audio only) and by the Writer from ffmpeg's H.265. The parsers' targets and seeds
// are in internal/media/flv.
func TestFuzzSeeds(t *testing.T) {
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzRecover": func(t testing.TB) [][]any {
			var seeds [][]any
			for _, b := range realFLVs(t) {
				for _, c := range fuzzcorpus.Cuts(b, 9, 13, 24, 300, len(b)/2, len(b)-5, len(b)-1) {
					seeds = append(seeds, []any{c})
				}
			}
			return seeds
		},
	})
}

// realFLVs returns tiny real FLV files: ffmpeg's H.264 + AAC and AAC only, and the Writer's
// Enhanced FLV of ffmpeg's H.265.
func realFLVs(t testing.TB) [][]byte {
	dir := t.TempDir()
	out := [][]byte{
		fuzzcorpus.ReadFile(t, fuzzcorpus.Tiny(t, dir, "avc.flv", "libx264", true, "-f", "flv")),
		fuzzcorpus.ReadFile(t, fuzzcorpus.Tiny(t, dir, "aac.flv", "", true, "-f", "flv")),
	}
	tracks, units := testutil.LoadAnnexB(t, fuzzcorpus.Tiny(t, dir, "hevc.h265", "libx265", false, "-f", "hevc"), media.CodecH265, 5)
	path := tempPath(t, "hevc.flv")
	writeFile(t, path, tracks, units)
	return append(out, fuzzcorpus.ReadFile(t, path))
}
