// Package mp4 writes recordings as fragmented MP4 while a stream runs and turns a finished (or
// crash-truncated) fragmented file into a regular MP4 with the moov box first.
//
// The init segment is built with mediacommon's fmp4 package (it already builds the avcC, hvcC
// and esds decoder configuration records correctly); moof/mdat and the whole final file are
// marshaled by hand into reused buffers, so the per-frame path allocates nothing and the final
// file can use 64-bit offsets (co64, largesize mdat), which mediacommon's pmp4 cannot.
package mp4

import (
	"encoding/binary"
	"errors"
)

// Box header sizes (ISO 14496-12 §4.2): size+type, plus the 64-bit largesize when size is 1.
const (
	boxHeaderSize      = 8
	largeBoxHeaderSize = 16
)

// trun flags (ISO 14496-12 §8.8.8.1).
const (
	trunDataOffset       = 0x000001
	trunFirstSampleFlags = 0x000004
	trunSampleDuration   = 0x000100
	trunSampleSize       = 0x000200
	trunSampleFlags      = 0x000400
	trunSampleCTO        = 0x000800
)

// tfhd flags (ISO 14496-12 §8.8.7.1).
const (
	tfhdBaseDataOffset    = 0x000001
	tfhdSampleDescIndex   = 0x000002
	tfhdDefaultDuration   = 0x000008
	tfhdDefaultSize       = 0x000010
	tfhdDefaultFlags      = 0x000020
	tfhdDurationIsEmpty   = 0x010000
	tfhdDefaultBaseIsMoof = 0x020000
)

// Sample flags (ISO 14496-12 §8.8.3.1): sample_depends_on in bits 24-25 and
// sample_is_non_sync_sample in bit 16.
const (
	sampleFlagsSync    = 0x02000000 // depends on no other sample
	sampleFlagsNonSync = 0x01010000 // depends on others, not a sync sample
	sampleIsNonSync    = 0x00010000
)

var errBoxTooLarge = errors.New("box larger than 4 GiB")

// startBox appends a box header with a size placeholder and returns the buffer and the box
// start, for endBox to patch.
func startBox(b []byte, typ string) ([]byte, int) {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	return append(b, typ...), start
}

// startFullBox is startBox plus the FullBox version and flags (ISO 14496-12 §4.2).
func startFullBox(b []byte, typ string, version uint8, flags uint32) ([]byte, int) {
	b, start := startBox(b, typ)
	return binary.BigEndian.AppendUint32(b, uint32(version)<<24|flags&0xffffff), start
}

// endBox patches the size of the box that starts at start. Boxes marshaled this way are
// headers and tables; only mdat can exceed 4 GiB and it is written separately.
func endBox(b []byte, start int) ([]byte, error) {
	n := len(b) - start
	if uint64(n) > 0xffffffff {
		return b, errBoxTooLarge
	}
	binary.BigEndian.PutUint32(b[start:], uint32(n))
	return b, nil
}

func be16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }
func be32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
func be64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

// appendMdatHeader appends an mdat header for a payload of n bytes, using the 64-bit
// largesize form (ISO 14496-12 §4.2) when the box would not fit 32 bits.
func appendMdatHeader(b []byte, n uint64) []byte {
	if n+boxHeaderSize > 0xffffffff {
		b = be32(b, 1)
		b = append(b, "mdat"...)
		return be64(b, n+largeBoxHeaderSize)
	}
	b = be32(b, uint32(n+boxHeaderSize))
	return append(b, "mdat"...)
}

func mdatHeaderSize(n uint64) int {
	if n+boxHeaderSize > 0xffffffff {
		return largeBoxHeaderSize
	}
	return boxHeaderSize
}
