package flv

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
)

// ParseMetadata finds the doubles BuildMetadata placed, for every track combination, and
// refuses every truncation of the body without panicking.
func TestParseMetadata(t *testing.T) {
	v := &media.Track{Codec: media.CodecH265, Width: 1280, Height: 720}
	a := &media.Track{Codec: media.CodecAAC, SampleRate: 44100, Channels: 2}
	for _, tracks := range []media.Tracks{{Video: v, Audio: a}, {Video: v}, {Audio: a}} {
		m := BuildMetadata(tracks)
		got, err := ParseMetadata(m.Body)
		require.NoError(t, err)
		require.Equal(t, m.DurationAt, got.DurationAt)
		require.Equal(t, m.FilesizeAt, got.FilesizeAt)
		for n := range len(m.Body) {
			_, err := ParseMetadata(m.Body[:n])
			require.Error(t, err, "body cut to %d of %d bytes", n, len(m.Body))
		}
	}

	// An AMF0 object instead of an ECMA array, as other muxers write it.
	b := amfStr([]byte{amfString}, "onMetaData")
	b = append(b, amfObject)
	b = amfStr(b, "filesize")
	b = binary.BigEndian.AppendUint64(append(b, amfNumber), 0)
	b = amfStr(b, "duration")
	durAt := len(b) + 1
	b = binary.BigEndian.AppendUint64(append(b, amfNumber), 0)
	b = append(b, 0, 0, amfObjectEnd)
	got, err := ParseMetadata(b)
	require.NoError(t, err)
	require.Equal(t, durAt, got.DurationAt)

	for name, body := range map[string][]byte{
		"other name":   amfStr([]byte{amfString}, "onCuePoint"),
		"no duration":  append(amfStr(append(amfStr([]byte{amfString}, "onMetaData"), amfObject), "x"), amfBoolean, 1, 0, 0, amfObjectEnd),
		"unknown type": append(amfStr(append(amfStr([]byte{amfString}, "onMetaData"), amfObject), "x"), 0x0a, 0, 0, 0, 0),
		"not an array": append(amfStr([]byte{amfString}, "onMetaData"), amfNumber),
		"no end":       append(amfStr(append(amfStr([]byte{amfString}, "onMetaData"), amfObject), "x"), amfBoolean, 1, 0, 0, 5),
	} {
		_, err := ParseMetadata(body)
		require.Error(t, err, name)
	}
}
