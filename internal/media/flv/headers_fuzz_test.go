package flv_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/media/flv"
)

// FuzzParseAudioHeader checks what ingest and the reader rely on: no panic, a zero header with
// any error, an unsupported codec reported as found in the input, and a payload that is the
// tail of the input after a header of the expected size (2 bytes legacy, 5 enhanced).
func FuzzParseAudioHeader(f *testing.F) {
	for _, tc := range audioCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := flv.ParseAudioHeader(b)
		if err != nil {
			require.Zero(t, h)
			var u *flv.UnsupportedCodecError
			if errors.As(err, &u) {
				require.True(t, u.Audio)
				if u.Enhanced {
					require.Equal(t, byte(9), b[0]>>4)
					require.Equal(t, b[1:5], u.FourCC[:])
				} else {
					require.Equal(t, b[0]>>4, u.ID)
				}
			}
			return
		}
		require.NotEmpty(t, b)
		require.Equal(t, b[0]>>4 == 9, h.Enhanced)
		switch h.Kind {
		case flv.PacketMultitrack:
			require.True(t, h.Enhanced)
			require.Zero(t, h.Codec)
			require.Nil(t, h.Payload)
			return
		case flv.PacketConfig, flv.PacketFrame, flv.PacketEnd:
			require.Equal(t, media.CodecAAC, h.Codec)
		}
		hdr := 2
		if h.Enhanced {
			hdr = 5
			require.Equal(t, "mp4a", string(b[1:5]))
		} else {
			require.NotEqual(t, flv.PacketEnd, h.Kind)
			require.Equal(t, b[1] == 0, h.Kind == flv.PacketConfig)
		}
		require.Len(t, h.Payload, len(b)-hdr)
		require.True(t, bytes.HasSuffix(b, h.Payload))
	})
}
