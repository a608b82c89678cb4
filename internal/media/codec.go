package media

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

// Limits against hostile input. An access unit of a 50 Mbit/s 2160p60 stream stays under
// 8 MiB (mediacommon measured H.265); 64 NAL units is far above what encoders emit per picture.
const (
	MaxAccessUnitSize     = 8 << 20
	MaxNALUsPerAccessUnit = 64
)

// ErrMalformedAU is returned for an AVCC access unit whose NAL lengths do not add up.
var ErrMalformedAU = errors.New("malformed AVCC access unit")

// AUInfo is what ScanAVCC learns about an AVCC access unit without copying it.
type AUInfo struct {
	// Keyframe: the AU holds an IDR (H.264) or IRAP (H.265) slice.
	Keyframe bool
	// HasPicture: the AU holds at least one coded slice (it is not parameter sets only).
	HasPicture bool
	// NALUs is the number of NAL units.
	NALUs int
}

// ScanAVCC walks an AVCC access unit (ISO 14496-15 §5.3.4.2.1, 4-byte lengths) and classifies
// it. It allocates nothing.
func ScanAVCC(codec Codec, au []byte) (AUInfo, error) {
	var info AUInfo
	if len(au) > MaxAccessUnitSize {
		return info, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformedAU, len(au), MaxAccessUnitSize)
	}
	for p := 0; p < len(au); {
		if len(au)-p < 4 {
			return info, fmt.Errorf("%w: truncated length", ErrMalformedAU)
		}
		n := int(binary.BigEndian.Uint32(au[p:]))
		p += 4
		if n == 0 || n > len(au)-p {
			return info, fmt.Errorf("%w: NAL length %d at offset %d", ErrMalformedAU, n, p-4)
		}
		info.NALUs++
		if info.NALUs > MaxNALUsPerAccessUnit {
			return info, fmt.Errorf("%w: more than %d NAL units", ErrMalformedAU, MaxNALUsPerAccessUnit)
		}
		switch codec {
		case CodecH264:
			typ := h264.NALUType(au[p] & 0x1f)
			switch {
			case typ == h264.NALUTypeIDR:
				info.Keyframe, info.HasPicture = true, true
			case typ >= h264.NALUTypeNonIDR && typ <= h264.NALUTypeDataPartitionC:
				info.HasPicture = true
			}
		case CodecH265:
			if n < 2 {
				return info, fmt.Errorf("%w: H.265 NAL shorter than its header", ErrMalformedAU)
			}
			typ := h265.NALUType((au[p] >> 1) & 0x3f)
			switch {
			case typ >= h265.NALUType_BLA_W_LP && typ <= h265.NALUType_CRA_NUT:
				info.Keyframe, info.HasPicture = true, true
			case typ <= h265.NALUType_RASL_R:
				info.HasPicture = true
			}
		}
		p += n
	}
	return info, nil
}

// NewH264Track builds a video track from H.264 parameter sets.
func NewH264Track(sps, pps []byte) (*Track, error) {
	var s h264.SPS
	if err := s.Unmarshal(sps); err != nil {
		return nil, fmt.Errorf("parse H.264 SPS: %w", err)
	}
	if len(pps) == 0 {
		return nil, errors.New("parse H.264 parameters: empty PPS")
	}
	return &Track{
		Codec: CodecH264, SPS: clone(sps), PPS: clone(pps),
		Width: s.Width(), Height: s.Height(),
	}, nil
}

// NewH265Track builds a video track from H.265 parameter sets.
func NewH265Track(vps, sps, pps []byte) (*Track, error) {
	var s h265.SPS
	if err := s.Unmarshal(sps); err != nil {
		return nil, fmt.Errorf("parse H.265 SPS: %w", err)
	}
	if len(vps) == 0 || len(pps) == 0 {
		return nil, errors.New("parse H.265 parameters: empty VPS or PPS")
	}
	return &Track{
		Codec: CodecH265, VPS: clone(vps), SPS: clone(sps), PPS: clone(pps),
		Width: s.Width(), Height: s.Height(),
	}, nil
}

// NewAACTrack builds an audio track from an AudioSpecificConfig; its ChannelConfig gives the
// channel count (mediacommon deprecated ChannelCount).
func NewAACTrack(conf *mpeg4audio.AudioSpecificConfig) (*Track, error) {
	raw, err := conf.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode AAC config: %w", err)
	}
	if conf.SampleRate <= 0 || conf.SampleRate > 96000 {
		return nil, fmt.Errorf("parse AAC config: sample rate %d out of range", conf.SampleRate)
	}
	return &Track{
		Codec: CodecAAC, AudioConfig: raw,
		SampleRate: conf.SampleRate, Channels: aacChannels(conf.ChannelConfig),
	}, nil
}

// aacChannels is the channel count of an AAC channel configuration (ISO 14496-3 table 1.19):
// 1-6 as is, 7 is 7.1; 0 leaves the layout to a program config element and counts as 0.
func aacChannels(config uint8) int {
	if config == 7 {
		return 8
	}
	return int(config)
}

// ParseAACConfig parses a raw AudioSpecificConfig.
func ParseAACConfig(raw []byte) (*Track, error) {
	var c mpeg4audio.AudioSpecificConfig
	if err := c.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("parse AAC config: %w", err)
	}
	return NewAACTrack(&c)
}

// AACConfig returns the parsed AudioSpecificConfig of an AAC track.
func (t *Track) AACConfig() (*mpeg4audio.AudioSpecificConfig, error) {
	var c mpeg4audio.AudioSpecificConfig
	if err := c.Unmarshal(t.AudioConfig); err != nil {
		return nil, fmt.Errorf("parse AAC config: %w", err)
	}
	return &c, nil
}

// SplitAVCC returns the NAL units of an AVCC access unit, appended to dst (pass dst[:0] to
// reuse it). The NAL units alias au.
func SplitAVCC(dst [][]byte, au []byte) ([][]byte, error) {
	for p := 0; p < len(au); {
		if len(au)-p < 4 {
			return dst, fmt.Errorf("%w: truncated length", ErrMalformedAU)
		}
		n := int(binary.BigEndian.Uint32(au[p:]))
		p += 4
		if n == 0 || n > len(au)-p {
			return dst, fmt.Errorf("%w: NAL length %d", ErrMalformedAU, n)
		}
		dst = append(dst, au[p:p+n])
		p += n
	}
	return dst, nil
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
