package flv

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
)

// parseMetadata finds the doubles buildMetadata placed, for every track combination, and
// refuses every truncation of the body without panicking.
func TestParseMetadata(t *testing.T) {
	v := &media.Track{Codec: media.CodecH265, Width: 1280, Height: 720}
	a := &media.Track{Codec: media.CodecAAC, SampleRate: 44100, Channels: 2}
	for _, tracks := range []media.Tracks{{Video: v, Audio: a}, {Video: v}, {Audio: a}} {
		m := buildMetadata(tracks)
		got, err := parseMetadata(m.body)
		require.NoError(t, err)
		require.Equal(t, m.durationAt, got.durationAt)
		require.Equal(t, m.filesizeAt, got.filesizeAt)
		for n := range len(m.body) {
			_, err := parseMetadata(m.body[:n])
			require.Error(t, err, "body cut to %d of %d bytes", n, len(m.body))
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
	got, err := parseMetadata(b)
	require.NoError(t, err)
	require.Equal(t, durAt, got.durationAt)

	for name, body := range map[string][]byte{
		"other name":   amfStr([]byte{amfString}, "onCuePoint"),
		"no duration":  append(amfStr(append(amfStr([]byte{amfString}, "onMetaData"), amfObject), "x"), amfBoolean, 1, 0, 0, amfObjectEnd),
		"unknown type": append(amfStr(append(amfStr([]byte{amfString}, "onMetaData"), amfObject), "x"), 0x0a, 0, 0, 0, 0),
		"not an array": append(amfStr([]byte{amfString}, "onMetaData"), amfNumber),
		"no end":       append(amfStr(append(amfStr([]byte{amfString}, "onMetaData"), amfObject), "x"), amfBoolean, 1, 0, 0, 5),
	} {
		_, err := parseMetadata(body)
		require.Error(t, err, name)
	}
}
