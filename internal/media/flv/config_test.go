package flv_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/media/flv"
	"github.com/liverec/liverec/internal/testutil"
)

// The AVC record must match the one ffmpeg's FLV muxer writes for the same parameter sets: the
// reference stream (x264 ultrafast signals Constrained Baseline) and a High profile stream, whose
// record carries the chroma format and bit depth extension.
func TestDecoderConfigMatchesFFmpeg(t *testing.T) {
	dir := t.TempDir()
	high := filepath.Join(dir, "high.flv")
	out, err := exec.Command(testutil.RequireTool(t, "ffmpeg"), "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=1", "-c:v", "libx264",
		"-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p", high).CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, path := range []string{testutil.RefStream(t, dir, testutil.RefOptions{Seconds: 1, NoAudio: true}), high} {
		conf := firstVideoTag(t, path)[5:]
		tr, err := flv.ParseDecoderConfig(media.CodecH264, conf)
		require.NoError(t, err)
		ours, err := flv.DecoderConfig(tr)
		require.NoError(t, err)
		require.True(t, bytes.Equal(conf, ours), "ffmpeg %x\nours   %x", conf, ours)
	}
}

func firstVideoTag(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	r, err := flv.NewReader(f)
	require.NoError(t, err)
	for {
		tag, err := r.ReadTag()
		require.NoError(t, err)
		if tag.Type == flv.TagVideo {
			require.Equal(t, byte(0), tag.Data[1], "first video tag is the sequence header")
			return tag.Data
		}
	}
}

func TestDecoderConfigRoundTrip(t *testing.T) {
	for _, codec := range []media.Codec{media.CodecH264, media.CodecH265} {
		tr := testutil.RefTracks(t, codec).Video
		conf, err := flv.DecoderConfig(tr)
		require.NoError(t, err)
		got, err := flv.ParseDecoderConfig(codec, conf)
		require.NoError(t, err)
		require.True(t, got.SameParams(tr), "%v", codec)
		_, err = flv.DecoderConfig(&media.Track{Codec: codec, SPS: tr.SPS})
		require.Error(t, err, "%v without PPS", codec)
	}
}
