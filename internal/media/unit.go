package media

import "time"

// Unit is one access unit: a whole video picture or one audio frame.
//
// Data is owned by the receiver only for the duration of the call that hands it over; a
// component that keeps it must copy it. That rule lets ingest reuse its buffers.
type Unit struct {
	// Track is the track the unit belongs to.
	Track *Track
	// DTS and PTS are cleaned stream timestamps (see Cleaner): DTS strictly increases per track.
	DTS, PTS time.Duration
	// Keyframe marks a random access point (H.264 IDR, H.265 IRAP). Always true for audio.
	Keyframe bool
	// Data is, for video, the access unit in AVCC form (each NAL unit preceded by its 4-byte
	// big-endian length) without parameter-set-only content; for AAC, one raw AAC frame.
	Data []byte
}

// CompositionOffset is PTS-DTS, never negative.
func (u *Unit) CompositionOffset() time.Duration {
	if u.PTS < u.DTS {
		return 0
	}
	return u.PTS - u.DTS
}
