package media

import (
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/stretchr/testify/require"
)

// maxAACConfigSize bounds a re-encoded AudioSpecificConfig: object type, two explicit 24-bit
// rates, the extension type and the core coder delay fit in 11 bytes.
const maxAACConfigSize = 11

// FuzzParseAACConfig feeds arbitrary AudioSpecificConfigs (the body of an FLV/RTMP AAC
// sequence header): a config that parses gives an AAC track with a sample rate in range, the
// track's config is the canonical re-encoding, which parses to the same track (decode(encode(
// decode(x))) == decode(x)), and AACConfig reads it back.
func FuzzParseAACConfig(f *testing.F) {
	f.Add([]byte{0x12, 0x10})             // AAC-LC 44.1 kHz stereo
	f.Add([]byte{0x2b, 0x92, 0x08, 0x00}) // HE-AAC (SBR) 22.05 kHz core
	f.Fuzz(func(t *testing.T, raw []byte) {
		tr, err := ParseAACConfig(raw)
		if err != nil {
			require.Nil(t, tr)
			return
		}
		require.Equal(t, CodecAAC, tr.Codec)
		require.False(t, tr.IsVideo())
		require.Positive(t, tr.SampleRate)
		require.LessOrEqual(t, tr.SampleRate, 96000)
		require.GreaterOrEqual(t, tr.Channels, 0)
		require.LessOrEqual(t, tr.Channels, 8)
		require.NotEmpty(t, tr.AudioConfig)
		require.LessOrEqual(t, len(tr.AudioConfig), maxAACConfigSize)

		again, err := ParseAACConfig(tr.AudioConfig)
		require.NoError(t, err, "re-encoded config %x of %x", tr.AudioConfig, raw)
		require.Equal(t, tr, again)
		require.True(t, tr.SameParams(again))

		conf, err := tr.AACConfig()
		require.NoError(t, err)
		require.Equal(t, tr.SampleRate, conf.SampleRate)
		require.Equal(t, tr.Channels, aacChannels(conf.ChannelConfig))
		var orig mpeg4audio.AudioSpecificConfig
		require.NoError(t, orig.Unmarshal(raw))
		require.Equal(t, orig.Type, conf.Type)
		require.Equal(t, orig.ExtensionType, conf.ExtensionType)
		require.Equal(t, orig.ChannelConfig, conf.ChannelConfig)
	})
}
