package flv

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/liverec/liverec/internal/media"
)

// Tag types (FLV spec v10.1 §E.4.1).
const (
	TagAudio  = 8
	TagVideo  = 9
	TagScript = 18
)

// MaxTagSize bounds a tag body; FLV's 24-bit size field allows 16 MiB.
const MaxTagSize = 1<<24 - 1

// Tag is one FLV tag as stored in the file.
type Tag struct {
	Type      uint8
	Timestamp uint32 // milliseconds, with the extended byte applied
	Data      []byte
}

// Reader reads FLV tags and turns them into media units. It understands legacy FLV (AVC,
// AAC, the unofficial codec id 12 for HEVC) and Enhanced FLV/RTMP (FourCC avc1/hvc1/mp4a),
// through ParseVideoHeader and ParseAudioHeader.
type Reader struct {
	r      *bufio.Reader
	tracks media.Tracks
	// Metadata is the last onMetaData object's raw tag body.
	Metadata []byte
}

// NewReader reads the FLV header and returns a Reader positioned at the first tag.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var hdr [9]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("read FLV header: %w", err)
	}
	if string(hdr[:3]) != "FLV" {
		return nil, errors.New("read FLV header: bad signature")
	}
	off := binary.BigEndian.Uint32(hdr[5:])
	if off < 9 || off > 1024 {
		return nil, fmt.Errorf("read FLV header: bad data offset %d", off)
	}
	if _, err := br.Discard(int(off) - 9 + 4); err != nil { // skip extra header + PreviousTagSize0
		return nil, fmt.Errorf("read FLV header: %w", err)
	}
	return &Reader{r: br}, nil
}

// ReadTag reads the next tag. It returns io.EOF at a clean end of file and
// io.ErrUnexpectedEOF for a truncated last tag.
func (r *Reader) ReadTag() (Tag, error) {
	var h [11]byte
	if _, err := io.ReadFull(r.r, h[:]); err != nil {
		return Tag{}, err
	}
	size := int(h[1])<<16 | int(h[2])<<8 | int(h[3])
	ts := uint32(h[4])<<16 | uint32(h[5])<<8 | uint32(h[6]) | uint32(h[7])<<24
	data, err := readFull(r.r, size+4)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Tag{}, err
	}
	if prev := binary.BigEndian.Uint32(data[size:]); int(prev) != size+11 {
		return Tag{}, fmt.Errorf("read FLV tag: PreviousTagSize %d, want %d", prev, size+11)
	}
	return Tag{Type: h[0] & 0x1f, Timestamp: ts, Data: data[:size]}, nil
}

// readChunk is how much readFull allocates before it has seen data: a truncated or hostile
// file that announces a 16 MiB tag costs memory in proportion to what it really holds.
const readChunk = 256 << 10

// readFull reads exactly n bytes into a new slice, growing it as data arrives.
func readFull(r io.Reader, n int) ([]byte, error) {
	b := make([]byte, min(n, readChunk))
	got := 0
	for {
		k, err := io.ReadFull(r, b[got:])
		got += k
		if err != nil {
			return nil, err
		}
		if got == n {
			return b, nil
		}
		b = append(b, make([]byte, min(n-got, got))...) // double, up to n
	}
}

// Tracks returns the tracks seen so far.
func (r *Reader) Tracks() media.Tracks { return r.tracks }

// ReadUnit returns the next media unit, skipping sequence headers (which update Tracks) and
// script tags. Timestamps are the file's, unmodified.
func (r *Reader) ReadUnit() (media.Unit, error) {
	for {
		tag, err := r.ReadTag()
		if err != nil {
			return media.Unit{}, err
		}
		u, ok, err := r.parse(tag)
		if err != nil {
			return media.Unit{}, fmt.Errorf("tag at %d ms: %w", tag.Timestamp, err)
		}
		if ok {
			return u, nil
		}
	}
}

func (r *Reader) parse(tag Tag) (media.Unit, bool, error) {
	d := tag.Data
	dts := time.Duration(tag.Timestamp) * time.Millisecond
	switch tag.Type {
	case TagScript:
		r.Metadata = d
	case TagAudio:
		h, err := ParseAudioHeader(d)
		if err != nil {
			return media.Unit{}, false, err
		}
		switch h.Kind {
		case PacketConfig:
			t, err := media.ParseAACConfig(h.Payload)
			if err != nil {
				return media.Unit{}, false, err
			}
			r.tracks.Audio = t
		case PacketFrame:
			if r.tracks.Audio == nil {
				return media.Unit{}, false, errors.New("AAC frame before its config")
			}
			return media.Unit{Track: r.tracks.Audio, DTS: dts, PTS: dts, Keyframe: true, Data: h.Payload}, true, nil
		}
	case TagVideo:
		h, err := ParseVideoHeader(d)
		if err != nil {
			return media.Unit{}, false, err
		}
		switch h.Kind {
		case PacketConfig:
			t, err := ParseDecoderConfig(h.Codec, h.Payload)
			if err != nil {
				return media.Unit{}, false, err
			}
			r.tracks.Video = t
		case PacketFrame:
			if r.tracks.Video == nil {
				return media.Unit{}, false, errors.New("video frame before its config")
			}
			info, err := media.ScanAVCC(h.Codec, h.Payload)
			if err != nil {
				return media.Unit{}, false, err
			}
			return media.Unit{Track: r.tracks.Video, DTS: dts, PTS: dts + h.CompositionTime,
				Keyframe: info.Keyframe, Data: h.Payload}, true, nil
		}
	}
	return media.Unit{}, false, nil
}

// ParseDecoderConfig parses an AVCDecoderConfigurationRecord (ISO 14496-15 §5.3.3.1) or an
// HEVCDecoderConfigurationRecord (§8.3.3.1) into a track.
func ParseDecoderConfig(codec media.Codec, b []byte) (*media.Track, error) {
	switch codec {
	case media.CodecH264:
		if len(b) < 7 {
			return nil, errors.New("short AVC decoder config")
		}
		p := 5
		nsps := int(b[p] & 0x1f)
		p++
		var sps, pps []byte
		for i := 0; i < nsps; i++ {
			n, ok := u16(b, p)
			if !ok || p+2+n > len(b) {
				return nil, errors.New("truncated SPS in AVC decoder config")
			}
			if sps == nil {
				sps = b[p+2 : p+2+n]
			}
			p += 2 + n
		}
		if p >= len(b) {
			return nil, errors.New("truncated AVC decoder config")
		}
		npps := int(b[p])
		p++
		for i := 0; i < npps; i++ {
			n, ok := u16(b, p)
			if !ok || p+2+n > len(b) {
				return nil, errors.New("truncated PPS in AVC decoder config")
			}
			if pps == nil {
				pps = b[p+2 : p+2+n]
			}
			p += 2 + n
		}
		return media.NewH264Track(sps, pps)
	case media.CodecH265:
		if len(b) < 23 {
			return nil, errors.New("short HEVC decoder config")
		}
		p := 22
		narr := int(b[p])
		p++
		var vps, sps, pps []byte
		for i := 0; i < narr; i++ {
			if p+3 > len(b) {
				return nil, errors.New("truncated HEVC decoder config")
			}
			typ := b[p] & 0x3f
			n, _ := u16(b, p+1)
			p += 3
			for j := 0; j < n; j++ {
				l, ok := u16(b, p)
				if !ok || p+2+l > len(b) {
					return nil, errors.New("truncated NAL unit in HEVC decoder config")
				}
				nalu := b[p+2 : p+2+l]
				switch typ {
				case 32:
					vps = nalu
				case 33:
					sps = nalu
				case 34:
					pps = nalu
				}
				p += 2 + l
			}
		}
		return media.NewH265Track(vps, sps, pps)
	}
	return nil, fmt.Errorf("no decoder config for %v", codec)
}

func u16(b []byte, p int) (int, bool) {
	if p+2 > len(b) {
		return 0, false
	}
	return int(binary.BigEndian.Uint16(b[p:])), true
}
