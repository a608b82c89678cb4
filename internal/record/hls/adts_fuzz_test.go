package hls

import (
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
)

// FuzzADTS feeds an AudioSpecificConfig (as a publisher sends it) and a frame through the ADTS
// framing of HLS slices: a config the header accepts frames every frame so that mediacommon's
// ADTS parser (an independent implementation, which reads frames up to its 5120-byte cap)
// reads back the same object type, core sample rate, channel configuration and frame, and the
// largest frame (maxADTSPayload) gets the largest 13-bit aac_frame_length; a config it refuses
// is one ADTS cannot describe.
func FuzzADTS(f *testing.F) {
	f.Add([]byte{0x12, 0x10}, []byte{0x21, 0x10, 0x04})
	f.Fuzz(func(t *testing.T, config, frame []byte) {
		tr, err := media.ParseAACConfig(config)
		if err != nil {
			return
		}
		conf, err := tr.AACConfig()
		require.NoError(t, err)
		var a adtsHeader
		if err := a.set(tr); err != nil {
			require.True(t, conf.Type > maxADTSObjectType || sampleRateIndex(conf.SampleRate) < 0 || conf.ChannelConfig > 7,
				"refused %+v: %v", conf, err)
			return
		}
		require.Positive(t, a.frameDur)
		if len(frame) == 0 {
			frame = []byte{0} // empty units never reach the muxer (Writer.check)
		}
		frame = frame[:min(len(frame), mpeg4audio.MaxAccessUnitSize)]
		var b []byte
		for _, n := range []int{len(frame), 1, mpeg4audio.MaxAccessUnitSize} {
			fr := frame
			if n != len(frame) {
				fr = make([]byte, n)
				copy(fr, frame)
			}
			at := len(b)
			b = a.appendFrame(b, fr)
			require.Len(t, b, at+adtsHeaderSize+len(fr))
		}
		var pkts mpeg4audio.ADTSPackets
		require.NoError(t, pkts.Unmarshal(b))
		require.Len(t, pkts, 3)
		for i, p := range pkts {
			require.Equal(t, conf.Type, p.Type, "packet %d", i)
			require.Equal(t, conf.SampleRate, p.SampleRate, "packet %d", i)
			require.Equal(t, conf.ChannelConfig, p.ChannelConfig, "packet %d", i)
		}
		require.Equal(t, frame, pkts[0].AU)
		require.Len(t, pkts[1].AU, 1)
		require.Len(t, pkts[2].AU, mpeg4audio.MaxAccessUnitSize)

		// The largest frame: aac_frame_length (13 bits over bytes 3-5) counts the header.
		big := a.appendFrame(nil, make([]byte, maxADTSPayload))
		n := int(big[3]&3)<<11 | int(big[4])<<3 | int(big[5]>>5)
		require.Equal(t, 1<<13-1, n)
		require.Equal(t, a.hdr[:3], big[:3])
	})
}
