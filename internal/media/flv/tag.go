package flv

import (
	"errors"
	"fmt"
	"time"

	"github.com/liverec/liverec/internal/media"
)

// This file parses the header of an audio or video tag body, which is also the body of an
// RTMP audio or video message: the file reader and RTMP ingest share it, so both agree on
// what is malformed, what is merely unsupported and what carries nothing to decode.

// PacketKind is what a tag body carries.
type PacketKind uint8

const (
	// PacketOther carries nothing to decode: command frames, Enhanced RTMP metadata,
	// MPEG-2 TS sequence start and unknown packet types.
	PacketOther PacketKind = iota
	// PacketConfig is a sequence header: a decoder configuration record for video, an
	// AudioSpecificConfig for AAC.
	PacketConfig
	// PacketFrame is coded media: an AVCC access unit, or a raw AAC frame.
	PacketFrame
	// PacketEnd is an end of sequence.
	PacketEnd
	// PacketMultitrack is an Enhanced RTMP v2 Multitrack or ModEx packet: it nests headers
	// this parser does not read, so Codec and Payload are not set.
	PacketMultitrack
)

// VideoHeader is the parsed header of a video tag body.
type VideoHeader struct {
	Codec     media.Codec // H.264 or H.265; zero when the packet does not name one
	Kind      PacketKind
	FrameType uint8 // 1 key frame, 2 inter frame, 5 command frame, ...
	// CompositionTime is PTS-DTS of a frame (legacy: of any AVCVIDEOPACKET).
	CompositionTime time.Duration
	// Payload is the rest of the body, aliasing the input: a decoder configuration record
	// for PacketConfig, an AVCC access unit for PacketFrame.
	Payload  []byte
	Enhanced bool // Enhanced RTMP ExVideoTagHeader
}

// AudioHeader is the parsed header of an audio tag body.
type AudioHeader struct {
	Codec media.Codec // AAC; zero when the packet does not name one
	Kind  PacketKind
	// Payload is the rest of the body, aliasing the input: an AudioSpecificConfig for
	// PacketConfig, a raw AAC frame for PacketFrame.
	Payload  []byte
	Enhanced bool // Enhanced RTMP ExAudioTagHeader
}

// UnsupportedCodecError reports a well-formed tag of a codec liverec does not record. It is
// distinct from malformed input: ingest skips such media instead of closing the connection.
type UnsupportedCodecError struct {
	Audio    bool
	Enhanced bool    // FourCC is set; otherwise ID is
	ID       uint8   // legacy video CodecID or audio SoundFormat
	FourCC   [4]byte // Enhanced RTMP codec FourCC
}

func (e *UnsupportedCodecError) Error() string {
	what := "video"
	if e.Audio {
		what = "audio"
	}
	switch {
	case e.Enhanced:
		return fmt.Sprintf("unsupported %s FourCC %q", what, e.FourCC[:])
	case e.Audio:
		return fmt.Sprintf("unsupported audio format %d", e.ID)
	}
	return fmt.Sprintf("unsupported video codec id %d", e.ID)
}

// ParseVideoHeader parses the header of a video tag body: legacy VIDEODATA with an
// AVCVIDEOPACKET (FLV spec v10.1 §E.4.3.1-2; codec id 7 AVC, and the unofficial 12 for
// HEVC), or an Enhanced RTMP ExVideoTagHeader (FourCC avc1/hvc1). It does not allocate
// unless it fails. An unknown codec yields an *UnsupportedCodecError; any other error means
// malformed input.
func ParseVideoHeader(b []byte) (VideoHeader, error) {
	if len(b) == 0 {
		return VideoHeader{}, errors.New("short video header (0 bytes)")
	}
	if b[0]&0x80 != 0 {
		return parseExVideoHeader(b)
	}
	h := VideoHeader{FrameType: b[0] >> 4}
	// A command frame (type 5) is only a UI8 after this byte (§E.4.3.1): it carries no
	// picture and must not be refused for being short.
	if h.FrameType == 5 {
		return h, nil
	}
	if len(b) < 5 {
		return VideoHeader{}, fmt.Errorf("short video header (%d bytes)", len(b))
	}
	switch id := b[0] & 0x0f; id {
	case 7:
		h.Codec = media.CodecH264
	case 12:
		h.Codec = media.CodecH265
	default:
		return VideoHeader{}, &UnsupportedCodecError{ID: id}
	}
	h.CompositionTime = si24ms(b[2:5])
	h.Payload = b[5:]
	switch b[1] { // AVCPacketType
	case 0:
		h.Kind = PacketConfig
	case 1:
		h.Kind = PacketFrame
	case 2:
		h.Kind = PacketEnd
	}
	return h, nil
}

// parseExVideoHeader parses an ExVideoTagHeader (Enhanced RTMP v2, "Enhanced Video"):
// IsExHeader, 3-bit frame type, 4-bit VideoPacketType, then a FourCC unless the packet is a
// command, metadata, Multitrack or ModEx.
func parseExVideoHeader(b []byte) (VideoHeader, error) {
	h := VideoHeader{Enhanced: true, FrameType: (b[0] >> 4) & 7}
	pktType := b[0] & 0x0f
	switch {
	case pktType == 6 || pktType == 7: // Multitrack, ModEx
		h.Kind = PacketMultitrack
		return h, nil
	case pktType == 4 || h.FrameType == 5: // Metadata (HDR info), command frames
		return h, nil
	}
	if len(b) < 5 {
		return VideoHeader{}, fmt.Errorf("short enhanced video header (%d bytes)", len(b))
	}
	switch string(b[1:5]) {
	case "avc1":
		h.Codec = media.CodecH264
	case "hvc1":
		h.Codec = media.CodecH265
	default:
		return VideoHeader{}, &UnsupportedCodecError{Enhanced: true, FourCC: [4]byte(b[1:5])}
	}
	h.Payload = b[5:]
	switch pktType {
	case 0: // SequenceStart
		h.Kind = PacketConfig
	case 1: // CodedFrames: SI24 composition time offset first
		if len(h.Payload) < 3 {
			return VideoHeader{}, fmt.Errorf("short CodedFrames (%d bytes)", len(b))
		}
		h.Kind = PacketFrame
		h.CompositionTime = si24ms(h.Payload)
		h.Payload = h.Payload[3:]
	case 2: // SequenceEnd
		h.Kind = PacketEnd
	case 3: // CodedFramesX: composition time offset zero
		h.Kind = PacketFrame
	}
	return h, nil // MPEG2TSSequenceStart and unknown types: PacketOther
}

// ParseAudioHeader parses the header of an audio tag body: legacy AAC (FLV spec v10.1
// §E.4.2.1 SoundFormat 10, §E.4.2.2 AACPacketType) or an Enhanced RTMP v2 ExAudioTagHeader
// (SoundFormat 9, FourCC mp4a). It does not allocate unless it fails. Another codec yields
// an *UnsupportedCodecError; any other error means malformed input.
func ParseAudioHeader(b []byte) (AudioHeader, error) {
	if len(b) == 0 {
		return AudioHeader{}, errors.New("short audio header (0 bytes)")
	}
	switch format := b[0] >> 4; format {
	case 10:
		if len(b) < 2 {
			return AudioHeader{}, fmt.Errorf("short AAC header (%d bytes)", len(b))
		}
		// Any AACPacketType but 0 has always been taken as raw data.
		h := AudioHeader{Codec: media.CodecAAC, Kind: PacketFrame, Payload: b[2:]}
		if b[1] == 0 {
			h.Kind = PacketConfig
		}
		return h, nil
	case 9:
		return parseExAudioHeader(b)
	default:
		return AudioHeader{}, &UnsupportedCodecError{Audio: true, ID: format}
	}
}

// parseExAudioHeader parses an ExAudioTagHeader (Enhanced RTMP v2, "Enhanced Audio").
func parseExAudioHeader(b []byte) (AudioHeader, error) {
	h := AudioHeader{Enhanced: true}
	pktType := b[0] & 0x0f
	if pktType == 5 || pktType == 7 { // Multitrack, ModEx
		h.Kind = PacketMultitrack
		return h, nil
	}
	if len(b) < 5 {
		return AudioHeader{}, fmt.Errorf("short enhanced audio header (%d bytes)", len(b))
	}
	if string(b[1:5]) != "mp4a" {
		return AudioHeader{}, &UnsupportedCodecError{Audio: true, Enhanced: true, FourCC: [4]byte(b[1:5])}
	}
	h.Codec, h.Payload = media.CodecAAC, b[5:]
	switch pktType {
	case 0: // SequenceStart
		h.Kind = PacketConfig
	case 1: // CodedFrames
		h.Kind = PacketFrame
	case 2: // SequenceEnd
		h.Kind = PacketEnd
	}
	return h, nil // MultichannelConfig and unknown types: PacketOther
}

// si24ms reads a signed 24-bit big-endian millisecond count (FLV's SI24).
func si24ms(b []byte) time.Duration {
	v := int32(b[0])<<16 | int32(b[1])<<8 | int32(b[2])
	if v&0x800000 != 0 {
		v -= 1 << 24
	}
	return time.Duration(v) * time.Millisecond
}
