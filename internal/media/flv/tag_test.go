package flv_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/media/flv"
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var (
	avc1, hvc1, mp4a = []byte("avc1"), []byte("hvc1"), []byte("mp4a")
	au               = []byte{0, 0, 0, 2, 0x65, 0x88} // one AVCC NAL unit
	ms               = time.Millisecond
)

// videoCases: err is a substring of the error; unsupported tells it must be an
// *UnsupportedCodecError (skipped by ingest) rather than malformed input.
var videoCases = []struct {
	name        string
	in          []byte
	want        flv.VideoHeader
	err         string
	unsupported bool
}{
	{"legacy AVC config", []byte{0x17, 0, 0, 0, 0, 1, 2, 3},
		flv.VideoHeader{Codec: media.CodecH264, Kind: flv.PacketConfig, FrameType: 1, Payload: []byte{1, 2, 3}}, "", false},
	{"legacy AVC frame, negative cts", cat([]byte{0x27, 1, 0xff, 0xff, 0xfe}, au),
		flv.VideoHeader{Codec: media.CodecH264, Kind: flv.PacketFrame, FrameType: 2, CompositionTime: -2 * ms, Payload: au}, "", false},
	{"legacy HEVC frame", cat([]byte{0x1c, 1, 0, 0, 33}, au),
		flv.VideoHeader{Codec: media.CodecH265, Kind: flv.PacketFrame, FrameType: 1, CompositionTime: 33 * ms, Payload: au}, "", false},
	{"legacy end of sequence", []byte{0x17, 2, 0, 0, 0},
		flv.VideoHeader{Codec: media.CodecH264, Kind: flv.PacketEnd, FrameType: 1, Payload: []byte{}}, "", false},
	{"legacy command frame", []byte{0x57, 0, 0, 0, 0}, flv.VideoHeader{FrameType: 5}, "", false},
	{"legacy short command frame (§E.4.3.1: one UI8)", []byte{0x57, 0}, flv.VideoHeader{FrameType: 5}, "", false},
	{"legacy unsupported codec", []byte{0x22, 0, 0, 0, 0, 9}, flv.VideoHeader{}, "unsupported video codec id 2", true},
	{"legacy unsupported but short", []byte{0x22, 0}, flv.VideoHeader{}, "short video header", false},
	{"empty", nil, flv.VideoHeader{}, "short video header (0 bytes)", false},
	{"legacy truncated", []byte{0x17, 1, 0}, flv.VideoHeader{}, "short video header (3 bytes)", false},
	{"enhanced CodedFrames", cat([]byte{0x91}, avc1, []byte{0, 0, 40}, au),
		flv.VideoHeader{Codec: media.CodecH264, Kind: flv.PacketFrame, FrameType: 1, CompositionTime: 40 * ms, Payload: au, Enhanced: true}, "", false},
	{"enhanced SequenceStart", cat([]byte{0x90}, hvc1, []byte{1, 2}),
		flv.VideoHeader{Codec: media.CodecH265, Kind: flv.PacketConfig, FrameType: 1, Payload: []byte{1, 2}, Enhanced: true}, "", false},
	{"enhanced CodedFramesX", cat([]byte{0xa3}, hvc1, au),
		flv.VideoHeader{Codec: media.CodecH265, Kind: flv.PacketFrame, FrameType: 2, Payload: au, Enhanced: true}, "", false},
	{"enhanced SequenceEnd", cat([]byte{0x92}, avc1),
		flv.VideoHeader{Codec: media.CodecH264, Kind: flv.PacketEnd, FrameType: 1, Payload: []byte{}, Enhanced: true}, "", false},
	{"enhanced MPEG2TSSequenceStart", cat([]byte{0x95}, avc1, []byte{7}),
		flv.VideoHeader{Codec: media.CodecH264, Kind: flv.PacketOther, FrameType: 1, Payload: []byte{7}, Enhanced: true}, "", false},
	{"enhanced short CodedFrames", cat([]byte{0x91}, avc1, []byte{0, 0}), flv.VideoHeader{}, "short CodedFrames", false},
	{"enhanced truncated", []byte{0x90, 'h', 'v'}, flv.VideoHeader{}, "short enhanced video header (3 bytes)", false},
	{"enhanced unsupported FourCC", cat([]byte{0x91}, []byte("vp09"), []byte{0, 0, 0}),
		flv.VideoHeader{}, `unsupported video FourCC "vp09"`, true},
	{"enhanced Multitrack", []byte{0x96}, flv.VideoHeader{Kind: flv.PacketMultitrack, FrameType: 1, Enhanced: true}, "", false},
	{"enhanced ModEx", []byte{0x97, 0, 0}, flv.VideoHeader{Kind: flv.PacketMultitrack, FrameType: 1, Enhanced: true}, "", false},
	{"enhanced Metadata", cat([]byte{0x94}, []byte("xxxx")), flv.VideoHeader{FrameType: 1, Enhanced: true}, "", false},
	{"enhanced command frame", []byte{0xd0, 1}, flv.VideoHeader{FrameType: 5, Enhanced: true}, "", false},
}

var audioCases = []struct {
	name        string
	in          []byte
	want        flv.AudioHeader
	err         string
	unsupported bool
}{
	{"AAC config", []byte{0xaf, 0, 0x12, 0x10},
		flv.AudioHeader{Codec: media.CodecAAC, Kind: flv.PacketConfig, Payload: []byte{0x12, 0x10}}, "", false},
	{"AAC frame", []byte{0xaf, 1, 0x21, 0},
		flv.AudioHeader{Codec: media.CodecAAC, Kind: flv.PacketFrame, Payload: []byte{0x21, 0}}, "", false},
	{"AAC short", []byte{0xaf}, flv.AudioHeader{}, "short AAC header (1 bytes)", false},
	{"empty", []byte{}, flv.AudioHeader{}, "short audio header (0 bytes)", false},
	{"MP3", []byte{0x2f, 0xff}, flv.AudioHeader{}, "unsupported audio format 2", true},
	{"enhanced mp4a config", cat([]byte{0x90}, mp4a, []byte{0x12, 0x10}),
		flv.AudioHeader{Codec: media.CodecAAC, Kind: flv.PacketConfig, Payload: []byte{0x12, 0x10}, Enhanced: true}, "", false},
	{"enhanced mp4a frame", cat([]byte{0x91}, mp4a, []byte{0x21}),
		flv.AudioHeader{Codec: media.CodecAAC, Kind: flv.PacketFrame, Payload: []byte{0x21}, Enhanced: true}, "", false},
	{"enhanced MultichannelConfig", cat([]byte{0x94}, mp4a, []byte{1}),
		flv.AudioHeader{Codec: media.CodecAAC, Kind: flv.PacketOther, Payload: []byte{1}, Enhanced: true}, "", false},
	{"enhanced Opus", cat([]byte{0x91}, []byte("Opus")), flv.AudioHeader{}, `unsupported audio FourCC "Opus"`, true},
	{"enhanced truncated", []byte{0x90, 'm', 'p'}, flv.AudioHeader{}, "short enhanced audio header (3 bytes)", false},
	{"enhanced Multitrack", []byte{0x95}, flv.AudioHeader{Kind: flv.PacketMultitrack, Enhanced: true}, "", false},
}

func checkErr(t *testing.T, err error, want string, unsupported bool) {
	t.Helper()
	if want == "" {
		require.NoError(t, err)
		return
	}
	require.ErrorContains(t, err, want)
	var u *flv.UnsupportedCodecError
	require.Equal(t, unsupported, errors.As(err, &u), "unsupported codec vs malformed")
}

func TestParseVideoHeader(t *testing.T) {
	for _, tc := range videoCases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := flv.ParseVideoHeader(tc.in)
			checkErr(t, err, tc.err, tc.unsupported)
			require.Equal(t, tc.want, h)
			if err == nil {
				require.Zero(t, testing.AllocsPerRun(10, func() { _, _ = flv.ParseVideoHeader(tc.in) }))
			}
		})
	}
}

func TestParseAudioHeader(t *testing.T) {
	for _, tc := range audioCases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := flv.ParseAudioHeader(tc.in)
			checkErr(t, err, tc.err, tc.unsupported)
			require.Equal(t, tc.want, h)
			if err == nil {
				require.Zero(t, testing.AllocsPerRun(10, func() { _, _ = flv.ParseAudioHeader(tc.in) }))
			}
		})
	}
}

// FuzzParseVideoHeader checks the invariants callers rely on: no panic, a zero header with
// any error, an unsupported codec reported as found in the input, and a payload that is the
// tail of the input after a header of the expected size.
func FuzzParseVideoHeader(f *testing.F) {
	for _, tc := range videoCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := flv.ParseVideoHeader(b)
		if err != nil {
			require.Zero(t, h)
			var u *flv.UnsupportedCodecError
			if errors.As(err, &u) {
				require.False(t, u.Audio)
				if u.Enhanced {
					require.Equal(t, b[1:5], u.FourCC[:])
				} else {
					require.Equal(t, b[0]&0x0f, u.ID)
				}
			}
			return
		}
		require.NotEmpty(t, b)
		require.Equal(t, b[0]&0x80 != 0, h.Enhanced)
		require.True(t, bytes.HasSuffix(b, h.Payload))
		require.Less(t, h.CompositionTime.Abs(), time.Duration(1<<23)*ms+1)
		switch h.Kind {
		case flv.PacketConfig, flv.PacketFrame, flv.PacketEnd:
			require.True(t, h.Codec.IsVideo())
			hdr := 5
			if h.Enhanced && h.Kind == flv.PacketFrame && b[0]&0x0f == 1 {
				hdr = 8
			}
			require.Len(t, h.Payload, len(b)-hdr)
		case flv.PacketMultitrack:
			require.True(t, h.Enhanced)
			require.Zero(t, h.Codec)
			require.Nil(t, h.Payload)
		}
	})
}
