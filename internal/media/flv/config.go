package flv

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/liverec/liverec/internal/media"
)

// maxParamSetSize is the largest parameter set a decoder configuration record can carry: its
// length field is 16 bits (ISO 14496-15 §5.3.3.1.2, §8.3.3.1.2).
const maxParamSetSize = 0xffff

// lengthSizeMinusOne: unit data uses 4-byte NAL lengths (media.Unit).
const lengthSizeMinusOne = 3

// H.265 NAL unit types of parameter sets (ITU-T H.265 Table 7-1).
const (
	naluVPS = 32
	naluSPS = 33
	naluPPS = 34
)

// hevcPTLOffset and hevcPTLSize locate general_profile_space … general_level_idc in an H.265 SPS
// with emulation prevention removed: 2 bytes of NAL header, 1 byte of sps_video_parameter_set_id,
// sps_max_sub_layers_minus1 and sps_temporal_id_nesting_flag, then 12 bytes of general
// profile_tier_level (H.265 §7.3.2.2.1, §7.3.3), which the record repeats verbatim.
const (
	hevcPTLOffset = 3
	hevcPTLSize   = 12
)

// DecoderConfig builds the decoder configuration record of a video track: an
// AVCDecoderConfigurationRecord for H.264 or an HEVCDecoderConfigurationRecord for H.265. It is
// what ParseDecoderConfig reads.
func DecoderConfig(t *media.Track) ([]byte, error) {
	switch t.Codec {
	case media.CodecH264:
		return avcConfig(t.SPS, t.PPS)
	case media.CodecH265:
		return hevcConfig(t.VPS, t.SPS, t.PPS)
	}
	return nil, fmt.Errorf("build decoder config: unsupported codec %v", t.Codec)
}

// avcConfig builds an AVCDecoderConfigurationRecord (ISO 14496-15 §5.3.3.1.2).
func avcConfig(sps, pps []byte) ([]byte, error) {
	if len(sps) < 4 || len(pps) == 0 {
		return nil, errors.New("build AVC decoder config: SPS or PPS missing")
	}
	if len(sps) > maxParamSetSize || len(pps) > maxParamSetSize {
		return nil, errors.New("build AVC decoder config: parameter set longer than 65535 bytes")
	}
	var s h264.SPS
	if err := s.Unmarshal(sps); err != nil {
		return nil, fmt.Errorf("build AVC decoder config: parse SPS: %w", err)
	}
	b := make([]byte, 0, 11+len(sps)+len(pps)+4)
	b = append(b,
		1,                      // configurationVersion
		sps[1], sps[2], sps[3], // profile_idc, constraint flags, level_idc
		0xfc|lengthSizeMinusOne, // reserved '111111'
		0xe0|1)                  // reserved '111', numOfSequenceParameterSets
	b = binary.BigEndian.AppendUint16(b, uint16(len(sps)))
	b = append(b, sps...)
	b = append(b, 1) // numOfPictureParameterSets
	b = binary.BigEndian.AppendUint16(b, uint16(len(pps)))
	b = append(b, pps...)
	// The High profiles carry chroma format and bit depths after the PPS (§5.3.3.1.2).
	switch sps[1] {
	case 100, 110, 122, 144:
		b = append(b,
			0xfc|byte(s.ChromaFormatIdc&3),
			0xf8|byte(s.BitDepthLumaMinus8&7),
			0xf8|byte(s.BitDepthChromaMinus8&7),
			0) // numOfSequenceParameterSetExt
	}
	return b, nil
}

// hevcConfig builds an HEVCDecoderConfigurationRecord (ISO 14496-15 §8.3.3.1.2).
func hevcConfig(vps, sps, pps []byte) ([]byte, error) {
	if len(vps) == 0 || len(sps) == 0 || len(pps) == 0 {
		return nil, errors.New("build HEVC decoder config: VPS, SPS or PPS missing")
	}
	if len(vps) > maxParamSetSize || len(sps) > maxParamSetSize || len(pps) > maxParamSetSize {
		return nil, errors.New("build HEVC decoder config: parameter set longer than 65535 bytes")
	}
	var s h265.SPS
	if err := s.Unmarshal(sps); err != nil {
		return nil, fmt.Errorf("build HEVC decoder config: parse SPS: %w", err)
	}
	rbsp := h264.EmulationPreventionRemove(sps) // same escaping in H.265 (§7.4.2)
	if len(rbsp) < hevcPTLOffset+hevcPTLSize {
		return nil, errors.New("build HEVC decoder config: SPS too short for profile_tier_level")
	}
	b := make([]byte, 0, 23+3*5+len(vps)+len(sps)+len(pps))
	b = append(b, 1) // configurationVersion
	b = append(b, rbsp[hevcPTLOffset:hevcPTLOffset+hevcPTLSize]...)
	nested := byte(0)
	if s.TemporalIDNestingFlag {
		nested = 1
	}
	b = append(b,
		0xf0, 0x00, // reserved '1111', min_spatial_segmentation_idc 0 (unknown)
		0xfc,                              // reserved '111111', parallelismType 0 (unknown)
		0xfc|byte(s.ChromaFormatIdc&3),    // reserved '111111', chromaFormat
		0xf8|byte(s.BitDepthLumaMinus8&7), // reserved '11111', bitDepthLumaMinus8
		0xf8|byte(s.BitDepthChromaMinus8&7),
		0, 0, // avgFrameRate 0 (unspecified)
		// constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne
		((s.MaxSubLayersMinus1+1)&7)<<3|nested<<2|lengthSizeMinusOne,
		3) // numOfArrays
	for _, ps := range [...]struct {
		typ  byte
		nalu []byte
	}{{naluVPS, vps}, {naluSPS, sps}, {naluPPS, pps}} {
		// array_completeness 0: units may repeat parameter sets in band (media.Unit keeps them).
		b = append(b, ps.typ, 0, 1)
		b = binary.BigEndian.AppendUint16(b, uint16(len(ps.nalu)))
		b = append(b, ps.nalu...)
	}
	return b, nil
}
