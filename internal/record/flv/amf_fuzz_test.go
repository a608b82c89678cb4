package flv

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
)

// FuzzParseMetadata feeds arbitrary onMetaData bodies (the AMF0 script tag Recover reads back
// from a crashed file): the doubles it finds lie inside the body, after their key and number
// marker, apart from each other; patching them through patchMetadata changes those 16 bytes
// only, and the patched body parses to the same offsets with the patched values.
func FuzzParseMetadata(f *testing.F) {
	v := &media.Track{Codec: media.CodecH264, Width: 32, Height: 32}
	a := &media.Track{Codec: media.CodecAAC, SampleRate: 8000, Channels: 1}
	for _, tracks := range []media.Tracks{{Video: v, Audio: a}, {Audio: a}} {
		f.Add(buildMetadata(tracks).body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxMetadataSize {
			return // Recover never reads a larger body
		}
		m, err := parseMetadata(body)
		if err != nil {
			return
		}
		for key, at := range map[string]int{"duration": m.durationAt, "filesize": m.filesizeAt} {
			require.GreaterOrEqual(t, at, 1+2+len(key)+1)
			require.LessOrEqual(t, at+8, len(body))
			require.Equal(t, byte(amfNumber), body[at-1], "%s: number marker", key)
			require.Equal(t, key, string(body[at-1-len(key):at-1]))
			require.Equal(t, len(key), int(binary.BigEndian.Uint16(body[at-3-len(key):])))
		}
		require.GreaterOrEqual(t, max(m.durationAt, m.filesizeAt)-min(m.durationAt, m.filesizeAt), 8)

		patched := bytes.Clone(body)
		writeAt := func(p []byte, off int64) error {
			copy(patched[off:], p)
			return nil
		}
		st := Stats{Duration: 1234567 * time.Millisecond, Bytes: 987654321}
		require.NoError(t, patchMetadata(writeAt, 0, m, st))
		changed := 0
		for i := range body {
			if body[i] != patched[i] {
				require.True(t, i >= m.durationAt && i < m.durationAt+8 || i >= m.filesizeAt && i < m.filesizeAt+8,
					"byte %d changed outside the doubles", i)
				changed++
			}
		}
		require.LessOrEqual(t, changed, 16)
		again, err := parseMetadata(patched)
		require.NoError(t, err)
		require.Equal(t, m.durationAt, again.durationAt)
		require.Equal(t, m.filesizeAt, again.filesizeAt)
		require.Equal(t, st.Duration.Seconds(), math.Float64frombits(binary.BigEndian.Uint64(patched[m.durationAt:])))
		require.Equal(t, float64(st.Bytes), math.Float64frombits(binary.BigEndian.Uint64(patched[m.filesizeAt:])))
	})
}
