package mp4

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// ffmpegFragmented remuxes src into a fragmented MP4 with ffmpeg's movflags: another muxer's
// choices (tfhd defaults, base data offsets, first-sample flags, sidx/mfra boxes).
func ffmpegFragmented(t testing.TB, src, dst, movflags string) {
	t.Helper()
	testutil.RequireTool(t, "ffmpeg")
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", src,
		"-c", "copy", "-movflags", movflags, "-f", "mp4", dst).CombinedOutput()
	require.NoError(t, err, "%s", out)
}

func TestFinalizeFFmpegFragments(t *testing.T) {
	dir := t.TempDir()
	src := testutil.RefStream(t, dir, testutil.RefOptions{Seconds: 4, BFrames: 2})
	want := testutil.Probe(t, src)
	for _, flags := range []string{
		"frag_keyframe+empty_moov+default_base_moof",
		"frag_keyframe+empty_moov",
		"frag_every_frame+empty_moov+separate_moof",
	} {
		t.Run(flags, func(t *testing.T) {
			frag, final := filepath.Join(t.TempDir(), "f.mp4"), filepath.Join(t.TempDir(), "r.mp4")
			ffmpegFragmented(t, src, frag, flags)
			st, err := Finalize(frag, final)
			require.NoError(t, err)
			require.EqualValues(t, want.Video().Packets(), st.VideoFrames)
			require.EqualValues(t, want.Audio().Packets(), st.AudioFrames)
			checkProbe(t, final, "h264", want.Video().Packets(), want.Audio().Packets())
			require.True(t, testutil.KeyframeFirst(t, final))
		})
	}
}

// ffmpegSeeds are small ffmpeg-fragmented files for the fuzzer.
func ffmpegSeeds(t testing.TB) [][]byte {
	dir := t.TempDir()
	src := testutil.RefStream(t, dir, testutil.RefOptions{
		Seconds: 1, Width: 160, Height: 120, FPS: 10, Bitrate: "20k", BFrames: 2,
	})
	var seeds [][]byte
	for i, flags := range []string{"frag_keyframe+empty_moov+default_base_moof", "frag_every_frame+empty_moov"} {
		dst := filepath.Join(dir, "seed"+string(rune('a'+i))+".mp4")
		ffmpegFragmented(t, src, dst, flags)
		b, err := os.ReadFile(dst)
		require.NoError(t, err)
		seeds = append(seeds, b)
	}
	return seeds
}
