package loadgen

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media/flv"
	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// FuzzParseClip feeds arbitrary files to the bench's clip reader (--file): a clip that parses
// loops cleanly: its body starts at a keyframe (when it has video), each track's timestamps
// strictly increase within the period, the per-loop counts add up and every header is one of
// the file's sequence headers or its metadata.
func FuzzParseClip(f *testing.F) {
	f.Add(newFLV().meta().vcfg(1).acfg().video(0, true).audio(10).video(40, false).audio(33).b)
	f.Add(newFLV().acfg().audio(0).audio(0).audio(23).b)
	f.Fuzz(func(t *testing.T, file []byte) {
		c, err := ParseClip(bytes.NewReader(file))
		if err != nil {
			require.Nil(t, c)
			return
		}
		require.NotEmpty(t, c.Body)
		require.Equal(t, len(c.Body), c.VideoPerLoop+c.AudioPerLoop)
		require.Positive(t, c.Step)
		require.LessOrEqual(t, len(c.Headers), 3)
		if c.VideoPerLoop > 0 {
			require.True(t, c.Body[0].Key, "the body starts at a keyframe")
		}
		last := map[bool]int64{true: -1, false: -1}
		var first uint32 = 1<<32 - 1
		for _, m := range c.Body {
			require.True(t, m.Video != m.Audio, "a body message is a video or an audio frame")
			require.Greater(t, int64(m.TS), last[m.Video])
			last[m.Video] = int64(m.TS)
			require.Less(t, m.TS, c.Period)
			first = min(first, m.TS)
			require.True(t, bytes.Contains(file, m.Data))
		}
		require.Zero(t, first, "the body's timeline starts at 0")
		for _, h := range c.Headers {
			require.Contains(t, []uint8{flv.TagScript, flv.TagVideo, flv.TagAudio}, h.Type)
			require.True(t, bytes.Contains(file, h.Data) || h.Type == flv.TagScript)
		}
	})
}

// TestFuzzSeeds checks the committed seed corpus (and rewrites it with
// LIVEREC_WRITE_FUZZ_SEEDS=1): tiny FLV files from ffmpeg, whole and cut.
func TestFuzzSeeds(t *testing.T) {
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzParseClip": func(t testing.TB) [][]any {
			dir := t.TempDir()
			var seeds [][]any
			for _, name := range []string{"avc.flv", "aac.flv"} {
				vcodec := "libx264"
				if name == "aac.flv" {
					vcodec = ""
				}
				b := fuzzcorpus.ReadFile(t, fuzzcorpus.Tiny(t, dir, name, vcodec, true, "-f", "flv"))
				seeds = append(seeds, fuzzcorpus.One(fuzzcorpus.Cuts(b, len(b)/2, len(b)-3)...)...)
			}
			return seeds
		},
	})
}
