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

// maxFuzzMetadataSize is the largest onMetaData body the recorder's crash recovery reads
// (internal/record/flv's maxMetadataSize): larger inputs never reach ParseMetadata there.
const maxFuzzMetadataSize = 64 << 10

// FuzzParseMetadata feeds arbitrary onMetaData bodies (the AMF0 script tag crash recovery reads
// back from a crashed file): the doubles it finds lie inside the body, after their key and
// number marker, apart from each other; patching them through Patch changes those 16 bytes
// only, and the patched body parses to the same offsets with the patched values.
func FuzzParseMetadata(f *testing.F) {
	v := &media.Track{Codec: media.CodecH264, Width: 32, Height: 32}
	a := &media.Track{Codec: media.CodecAAC, SampleRate: 8000, Channels: 1}
	for _, tracks := range []media.Tracks{{Video: v, Audio: a}, {Audio: a}} {
		f.Add(BuildMetadata(tracks).Body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxFuzzMetadataSize {
			return // recovery never reads a larger body
		}
		m, err := ParseMetadata(body)
		if err != nil {
			return
		}
		for key, at := range map[string]int{"duration": m.DurationAt, "filesize": m.FilesizeAt} {
			require.GreaterOrEqual(t, at, 1+2+len(key)+1)
			require.LessOrEqual(t, at+8, len(body))
			require.Equal(t, byte(amfNumber), body[at-1], "%s: number marker", key)
			require.Equal(t, key, string(body[at-1-len(key):at-1]))
			require.Equal(t, len(key), int(binary.BigEndian.Uint16(body[at-3-len(key):])))
		}
		require.GreaterOrEqual(t, max(m.DurationAt, m.FilesizeAt)-min(m.DurationAt, m.FilesizeAt), 8)

		patched := bytes.Clone(body)
		writeAt := func(p []byte, off int64) error {
			copy(patched[off:], p)
			return nil
		}
		duration, size := 1234567*time.Millisecond, int64(987654321)
		require.NoError(t, m.Patch(writeAt, 0, duration, size))
		changed := 0
		for i := range body {
			if body[i] != patched[i] {
				require.True(t, i >= m.DurationAt && i < m.DurationAt+8 || i >= m.FilesizeAt && i < m.FilesizeAt+8,
					"byte %d changed outside the doubles", i)
				changed++
			}
		}
		require.LessOrEqual(t, changed, 16)
		again, err := ParseMetadata(patched)
		require.NoError(t, err)
		require.Equal(t, m.DurationAt, again.DurationAt)
		require.Equal(t, m.FilesizeAt, again.FilesizeAt)
		require.Equal(t, duration.Seconds(), math.Float64frombits(binary.BigEndian.Uint64(patched[m.DurationAt:])))
		require.Equal(t, float64(size), math.Float64frombits(binary.BigEndian.Uint64(patched[m.FilesizeAt:])))
	})
}
