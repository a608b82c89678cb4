package clip

import (
	"testing"

	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpus (and rewrites it with
// LIVEREC_WRITE_FUZZ_SEEDS=1): tiny MPEG-TS slices from ffmpeg, H.264 with AAC, H.265 and
// audio only, as a recording's slices hold them.
func TestFuzzSeeds(t *testing.T) {
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzDemuxSlice": func(t testing.TB) [][]any {
			var seeds [][]any
			for _, s := range []struct {
				name, vcodec string
				audio        bool
			}{{"avc.ts", "libx264", true}, {"hevc.ts", "libx265", false}, {"aac.ts", "", true}} {
				seeds = append(seeds, []any{fuzzcorpus.ReadFile(t, fuzzcorpus.Tiny(t, t.TempDir(), s.name, s.vcodec, s.audio, "-f", "mpegts"))})
			}
			return seeds
		},
	})
}
