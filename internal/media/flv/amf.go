package flv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/liverec/liverec/internal/media"
)

// AMF0 type markers (AMF0 spec §2.1).
const (
	amfNumber    = 0x00
	amfBoolean   = 0x01
	amfString    = 0x02
	amfObject    = 0x03
	amfECMAArray = 0x08
	amfObjectEnd = 0x09
)

// FLV codec ids, as tag headers and onMetaData carry them (FLV spec v10.1 §E.4.2.1
// SoundFormat, §E.4.3.1 CodecID).
const (
	CodecIDAVC = 7
	CodecIDAAC = 10
)

// FourCCHEVC is the Enhanced RTMP FourCC of H.265. Enhanced RTMP v1 ("Enhancing onMetaData")
// puts the FourCC, read as a big-endian number, into videocodecid for the new codecs.
const FourCCHEVC = "hvc1"

// encoderName is onMetaData's encoder property.
const encoderName = "liverec"

// Metadata is an encoded onMetaData script tag body with the positions of the two doubles a
// writer patches once the file is complete (see Patch).
type Metadata struct {
	Body       []byte
	DurationAt int // offset of the duration double inside Body
	FilesizeAt int // offset of the filesize double inside Body
}

// BuildMetadata encodes the onMetaData script tag body: the AMF0 string "onMetaData" and an
// ECMA array of properties (FLV spec v10.1 §E.5). Duration and filesize are zero placeholders.
func BuildMetadata(tracks media.Tracks) Metadata {
	var m Metadata
	b := make([]byte, 0, 256)
	b = amfStr(append(b, amfString), "onMetaData")
	b = append(b, amfECMAArray, 0, 0, 0, 0)
	countAt := len(b) - 4
	n := 0
	num := func(key string, v float64) int {
		n++
		b = amfStr(b, key)
		b = append(b, amfNumber)
		at := len(b)
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
		return at
	}
	m.DurationAt = num("duration", 0)
	m.FilesizeAt = num("filesize", 0)
	if v := tracks.Video; v != nil {
		num("width", float64(v.Width))
		num("height", float64(v.Height))
		id := float64(CodecIDAVC)
		if v.Codec == media.CodecH265 {
			id = float64(binary.BigEndian.Uint32([]byte(FourCCHEVC)))
		}
		num("videocodecid", id)
	}
	if a := tracks.Audio; a != nil {
		num("audiocodecid", CodecIDAAC)
		num("audiosamplerate", float64(a.SampleRate))
		n++
		b = amfStr(b, "stereo")
		stereo := byte(0)
		if a.Channels >= 2 {
			stereo = 1
		}
		b = append(b, amfBoolean, stereo)
	}
	n++
	b = amfStr(b, "encoder")
	b = amfStr(append(b, amfString), encoderName)
	b = append(b, 0, 0, amfObjectEnd)
	binary.BigEndian.PutUint32(b[countAt:], uint32(n))
	m.Body = b
	return m
}

// amfStr appends an AMF0 UTF-8 string without its type marker (object keys have none).
func amfStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// ParseMetadata finds the duration and filesize doubles in an onMetaData script tag body as
// BuildMetadata writes it (numbers, booleans and strings in an ECMA array or object), so a
// recovered file is patched at the same bytes a closed one is. b is not kept: Body is nil.
func ParseMetadata(b []byte) (Metadata, error) {
	m := Metadata{DurationAt: -1, FilesizeAt: -1}
	p := 0
	str := func() (string, error) {
		if p+2 > len(b) || p+2+int(binary.BigEndian.Uint16(b[p:])) > len(b) {
			return "", errors.New("truncated AMF0 string")
		}
		n := int(binary.BigEndian.Uint16(b[p:]))
		p += 2 + n
		return string(b[p-n : p]), nil
	}
	if len(b) == 0 || b[0] != amfString {
		return m, errors.New("parse onMetaData: no name")
	}
	p++
	if name, err := str(); err != nil || name != "onMetaData" {
		return m, fmt.Errorf("parse onMetaData: script tag %q is not onMetaData", name)
	}
	switch {
	case p < len(b) && b[p] == amfECMAArray:
		p += 5 // marker and the count, a hint only (AMF0 spec §2.10)
	case p < len(b) && b[p] == amfObject:
		p++
	default:
		return m, errors.New("parse onMetaData: not an ECMA array or object")
	}
	for {
		key, err := str()
		if err != nil {
			return m, fmt.Errorf("parse onMetaData: %w", err)
		}
		if p >= len(b) {
			return m, errors.New("parse onMetaData: truncated property")
		}
		typ := b[p]
		p++
		if key == "" {
			if typ != amfObjectEnd {
				return m, errors.New("parse onMetaData: missing object end marker")
			}
			break
		}
		switch typ {
		case amfNumber:
			if p+8 > len(b) {
				return m, errors.New("parse onMetaData: truncated number")
			}
			switch key {
			case "duration":
				m.DurationAt = p
			case "filesize":
				m.FilesizeAt = p
			}
			p += 8
		case amfBoolean:
			p++
		case amfString:
			if _, err := str(); err != nil {
				return m, fmt.Errorf("parse onMetaData: %w", err)
			}
		default:
			return m, fmt.Errorf("parse onMetaData: unsupported AMF0 type %#x of %q", typ, key)
		}
	}
	if m.DurationAt < 0 || m.FilesizeAt < 0 || p > len(b) {
		return m, errors.New("parse onMetaData: no duration or filesize number")
	}
	return m, nil
}

// Patch writes a file's duration and size in bytes into the doubles of m, whose body starts at
// file offset metaAt, through writeAt.
func (m Metadata) Patch(writeAt func(p []byte, off int64) error, metaAt int64, duration time.Duration, size int64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], math.Float64bits(duration.Seconds()))
	if err := writeAt(b[:], metaAt+int64(m.DurationAt)); err != nil {
		return fmt.Errorf("patch flv duration: %w", err)
	}
	binary.BigEndian.PutUint64(b[:], math.Float64bits(float64(size)))
	if err := writeAt(b[:], metaAt+int64(m.FilesizeAt)); err != nil {
		return fmt.Errorf("patch flv filesize: %w", err)
	}
	return nil
}
