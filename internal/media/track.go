// Package media holds the codec-level representation of a live stream shared by ingest and the
// recorder: tracks, access units, codec parameter parsing and the one place where timestamps
// are cleaned up.
package media

import (
	"bytes"
	"fmt"
)

// Codec identifies the codec of a track.
type Codec uint8

// Codecs liverec records (remux only).
const (
	CodecH264 Codec = iota + 1
	CodecH265
	CodecAAC
)

func (c Codec) String() string {
	switch c {
	case CodecH264:
		return "h264"
	case CodecH265:
		return "h265"
	case CodecAAC:
		return "aac"
	}
	return fmt.Sprintf("codec(%d)", uint8(c))
}

// IsVideo tells whether the codec is a video codec.
func (c Codec) IsVideo() bool { return c == CodecH264 || c == CodecH265 }

// Track describes one elementary stream. A Track is immutable once built: when a publisher
// sends new parameters, ingest builds a new Track, so pointer identity tells a change.
type Track struct {
	Codec Codec

	// Video: parameter sets as raw NAL units (no start code, no length prefix). VPS is H.265 only.
	VPS, SPS, PPS []byte
	// Video: coded picture size from the SPS.
	Width, Height int

	// Audio: the raw AudioSpecificConfig (ISO 14496-3 §1.6.2.1) and what it says.
	AudioConfig []byte
	SampleRate  int
	Channels    int
}

// IsVideo tells whether the track is a video track.
func (t *Track) IsVideo() bool { return t.Codec.IsVideo() }

// SameParams tells whether two tracks would decode with the same configuration, so a repeated
// sequence header that changes nothing does not cut files.
func (t *Track) SameParams(o *Track) bool {
	if t == o {
		return true
	}
	if t == nil || o == nil || t.Codec != o.Codec {
		return false
	}
	return bytes.Equal(t.VPS, o.VPS) && bytes.Equal(t.SPS, o.SPS) && bytes.Equal(t.PPS, o.PPS) &&
		bytes.Equal(t.AudioConfig, o.AudioConfig)
}

// Tracks is the set of tracks of a stream: at most one video and one audio track.
type Tracks struct {
	Video *Track
	Audio *Track
}
