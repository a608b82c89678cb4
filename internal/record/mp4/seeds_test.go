package mp4

import (
	"path/filepath"
	"testing"

	"github.com/liverec/liverec/internal/testutil"
	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpus (and rewrites it with
// LIVEREC_WRITE_FUZZ_SEEDS=1): fragmented MP4 of ffmpeg's tiny recording as ffmpeg fragments it
// and as liverec's Writer does, whole and cut where a crash would cut it.
func TestFuzzSeeds(t *testing.T) {
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzFinalize": func(t testing.TB) [][]any {
			dir := t.TempDir()
			var files [][]byte
			for i, flags := range []string{"frag_keyframe+empty_moov+default_base_moof", "frag_every_frame+empty_moov"} {
				name := "ff" + string(rune('a'+i)) + ".mp4"
				files = append(files, fuzzcorpus.ReadFile(t, fuzzcorpus.Tiny(t, dir, name, "libx264", true,
					"-movflags", flags, "-f", "mp4")))
			}
			tracks, units := testutil.LoadFLV(t, fuzzcorpus.Tiny(t, dir, "avc.flv", "libx264", true, "-f", "flv"))
			ours := filepath.Join(dir, "ours.fmp4")
			writeFragmented(t, ours, tracks, units)
			files = append(files, fuzzcorpus.ReadFile(t, ours))
			var seeds [][]any
			for _, b := range files {
				seeds = append(seeds, fuzzcorpus.One(fuzzcorpus.Cuts(b, len(b)/3, len(b)*2/3, len(b)-5)...)...)
			}
			return seeds
		},
	})
}
