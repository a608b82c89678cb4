package flv

import (
	"encoding/binary"
	"math"

	"github.com/liverec/liverec/internal/media"
)

// AMF0 type markers (AMF0 spec §2.1).
const (
	amfNumber    = 0x00
	amfBoolean   = 0x01
	amfString    = 0x02
	amfECMAArray = 0x08
	amfObjectEnd = 0x09
)

// FLV codec ids written to onMetaData (FLV spec v10.1 §E.4.2.1, §E.4.3.1).
const (
	codecIDAVC = 7
	codecIDAAC = 10
)

// fourCCHEVC is the Enhanced RTMP FourCC of H.265. Enhanced RTMP v1 ("Enhancing onMetaData")
// puts the FourCC, read as a big-endian number, into videocodecid for the new codecs.
const fourCCHEVC = "hvc1"

// encoderName is onMetaData's encoder property.
const encoderName = "liverec"

// metadata is an encoded onMetaData script tag body with the positions of the two doubles
// Close patches.
type metadata struct {
	body       []byte
	durationAt int // offset of the duration double inside body
	filesizeAt int // offset of the filesize double inside body
}

// buildMetadata encodes the onMetaData script tag body: the AMF0 string "onMetaData" and an
// ECMA array of properties (FLV spec v10.1 §E.5). Duration and filesize are zero placeholders.
func buildMetadata(tracks media.Tracks) metadata {
	var m metadata
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
	m.durationAt = num("duration", 0)
	m.filesizeAt = num("filesize", 0)
	if v := tracks.Video; v != nil {
		num("width", float64(v.Width))
		num("height", float64(v.Height))
		id := float64(codecIDAVC)
		if v.Codec == media.CodecH265 {
			id = float64(binary.BigEndian.Uint32([]byte(fourCCHEVC)))
		}
		num("videocodecid", id)
	}
	if a := tracks.Audio; a != nil {
		num("audiocodecid", codecIDAAC)
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
	m.body = b
	return m
}

// amfStr appends an AMF0 UTF-8 string without its type marker (object keys have none).
func amfStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}
