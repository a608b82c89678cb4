package media_test

import (
	"encoding/binary"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/testutil"
	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpora (and rewrites them with
// LIVEREC_WRITE_FUZZ_SEEDS=1): real access units and AAC configs from ffmpeg's encoders.
func TestFuzzSeeds(t *testing.T) {
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzScanAVCC":       scanAVCCSeeds,
		"FuzzParseAACConfig": aacConfigSeeds,
	})
}

// smallRef is a tiny reference stream: seeds stay a few KiB.
func smallRef(codec string) testutil.RefOptions {
	o := testutil.RefOptions{Seconds: 1, Width: 64, Height: 64, FPS: 5, GOP: 3, Bitrate: "50k", SampleHz: 8000, Codec: codec}
	if codec == "libx265" {
		o.Container, o.NoAudio = "hevc", true
	}
	return o
}

func realUnits(t testing.TB, codec media.Codec) (media.Tracks, []media.Unit) {
	dir := t.TempDir()
	if codec == media.CodecH265 {
		o := smallRef("libx265")
		return testutil.LoadAnnexB(t, testutil.RefStream(t, dir, o), media.CodecH265, o.FPS)
	}
	return testutil.LoadFLV(t, testutil.RefStream(t, dir, smallRef("libx264")))
}

func scanAVCCSeeds(t testing.TB) [][]any {
	var seeds [][]any
	for _, codec := range []media.Codec{media.CodecH264, media.CodecH265} {
		_, units := realUnits(t, codec)
		n := 0
		for _, u := range units {
			if !u.Track.IsVideo() || n == 3 {
				continue
			}
			n++
			au := u.Data[:min(len(u.Data), 8<<10)]
			seeds = append(seeds, []any{au, codec == media.CodecH264})
			// A NAL length that overruns, and a cut in the middle of a length.
			bad := binary.BigEndian.AppendUint32(append([]byte(nil), au...), 1<<20)
			seeds = append(seeds, []any{bad, codec == media.CodecH264}, []any{au[:min(len(au), 6)], codec == media.CodecH264})
		}
	}
	return seeds
}

func aacConfigSeeds(t testing.TB) [][]any {
	var seeds [][]any
	for _, hz := range []int{8000, 44100, 48000} {
		o := smallRef("libx264")
		o.SampleHz = hz
		tracks, _ := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), o))
		seeds = append(seeds, []any{tracks.Audio.AudioConfig})
	}
	for _, c := range []mpeg4audio.AudioSpecificConfig{
		{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 7350, ChannelConfig: 7},
		{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 44100, ChannelConfig: 2,
			ExtensionType: mpeg4audio.ObjectTypeSBR, ExtensionSampleRate: 88200},
		{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 22050, ChannelConfig: 1,
			ExtensionType: mpeg4audio.ObjectTypePS, ExtensionSampleRate: 44100, FrameLengthFlag: true},
		{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 12345, ChannelConfig: 0, DependsOnCoreCoder: true, CoreCoderDelay: 99},
	} {
		b, err := c.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, []any{b})
	}
	seeds = append(seeds, []any{[]byte{0x12}}, []any{[]byte{0x17, 0x90}}) // cut; channel config 15
	return seeds
}
