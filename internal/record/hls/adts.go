package hls

import (
	"fmt"
	"time"

	"github.com/liverec/liverec/internal/media"
)

const (
	// adtsHeaderSize is an ADTS header without CRC (ISO 14496-3 §1.A.2.2.1).
	adtsHeaderSize = 7
	// maxADTSPayload: aac_frame_length is 13 bits and counts the header.
	maxADTSPayload = 1<<13 - 1 - adtsHeaderSize
	// ADTS profile is 2 bits: object types 1–4 (Main, LC, SSR, LTP).
	maxADTSObjectType = 4
)

// adtsHeader is the ADTS header of one AAC track; only the frame length changes per frame.
type adtsHeader struct {
	track    *media.Track
	hdr      [adtsHeaderSize]byte
	frameDur time.Duration // one frame: 1024 (or 960) samples at the core sample rate
}

// set prepares the header for a track. HE-AAC (SBR, PS) is signalled implicitly as AAC-LC at
// the core rate, the only way ADTS can carry it.
func (a *adtsHeader) set(t *media.Track) error {
	conf, err := t.AACConfig()
	if err != nil {
		return fmt.Errorf("hls: %w", err)
	}
	if conf.Type < 1 || conf.Type > maxADTSObjectType {
		return fmt.Errorf("hls: AAC object type %d cannot be carried in ADTS", conf.Type)
	}
	sri := sampleRateIndex(conf.SampleRate)
	if sri < 0 {
		return fmt.Errorf("hls: AAC sample rate %d cannot be carried in ADTS", conf.SampleRate)
	}
	if conf.ChannelConfig > 7 {
		return fmt.Errorf("hls: AAC channel configuration %d cannot be carried in ADTS", conf.ChannelConfig)
	}
	samples := 1024
	if conf.FrameLengthFlag {
		samples = 960
	}
	a.track = t
	a.frameDur = time.Duration(samples) * time.Second / time.Duration(conf.SampleRate)
	// syncword, ID 0 (MPEG-4), layer 0, protection_absent 1; profile, sampling index,
	// channel configuration; adts_buffer_fullness 0x7ff (variable rate), one raw data block.
	a.hdr = [adtsHeaderSize]byte{
		0xff, 0xf1,
		byte(conf.Type-1)<<6 | byte(sri)<<2 | conf.ChannelConfig>>2,
		(conf.ChannelConfig & 3) << 6,
		0,
		0x1f,
		0xfc,
	}
	return nil
}

// appendFrame appends the header and the raw frame.
func (a *adtsHeader) appendFrame(b, frame []byte) []byte {
	n := len(frame) + adtsHeaderSize
	at := len(b)
	b = append(b, a.hdr[:]...)
	b[at+3] |= byte(n >> 11)
	b[at+4] = byte(n >> 3)
	b[at+5] |= byte(n&7) << 5
	return append(b, frame...)
}

// sampleRateIndex returns the sampling_frequency_index of ISO 14496-3 Table 1.18, or -1.
func sampleRateIndex(rate int) int {
	rates := [...]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}
	for i, r := range rates {
		if r == rate {
			return i
		}
	}
	return -1
}
