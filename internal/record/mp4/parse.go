package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Limits against hostile or corrupt input. The init moov holds a few parameter sets (KiB);
// a moof of about a second holds a few hundred samples, and even 8 MiB frames one by one keep
// it tiny. 2^26 samples per track is 16 days of 48 kHz AAC, and bounds the tables (4 bytes a
// sample in stsz) that finalization keeps in memory; a fragment of this package's writer
// holds about a hundred samples, 2^20 bounds the pending samples of a hostile moof.
const (
	maxMoovSize           = 4 << 20
	maxMoofSize           = 16 << 20
	maxSamplesPerTrack    = 1 << 26
	maxSamplesPerFragment = 1 << 20
	maxTracks             = 8
)

// ErrNothingToRecover is wrapped by Finalize's error when a fragmented file ends (a crash cut
// it) before its first complete fragment: inside the init segment (ftyp, moov) or right after
// it. It holds no sample, and the caller deletes it.
var ErrNothingToRecover = errors.New("nothing to recover")

// ErrNoSamples is returned by Finalize when the fragmented file holds no complete fragment. It
// wraps ErrNothingToRecover.
var ErrNoSamples = fmt.Errorf("no complete fragment: %w", ErrNothingToRecover)

// ftrack is one track of a fragmented file: what the init moov says about it, copied raw where
// the final moov repeats it, and the sample tables built from the fragments.
type ftrack struct {
	id        uint32
	timescale uint32
	language  [2]byte
	tkhdTail  []byte // layer .. height of tkhd (ISO 14496-12 §8.3.2), 60 bytes
	hdlr      []byte // raw boxes copied into the final moov
	mhd       []byte // vmhd or smhd
	dinf      []byte
	stsd      []byte
	video     bool      // handler vide
	audio     bool      // handler soun
	trex      [3]uint32 // default duration, size, flags (ISO 14496-12 §8.8.3)

	sizes   []uint32
	stts    []sttsEntry
	ctts    []cttsEntry
	stss    []uint32 // sync sample numbers, kept only once a non-sync sample appeared
	nonSync bool
	negCTO  bool

	started  bool
	firstDTS uint64   // decode time of the first sample (tfdt), before the final file's zero
	nextDTS  uint64   // decode time after the last sample
	maxEnd   int64    // latest composition end relative to firstDTS
	chunks   []uint32 // samples per chunk (one chunk per trun), for stsc
	offsets  []uint64 // chunk offsets in the final file, filled when it is laid out
}

type sttsEntry struct{ count, delta uint32 }

type cttsEntry struct {
	count  uint32
	offset int64
}

// run is the data of one trun: a chunk of the final file.
type run struct {
	track   int
	samples uint32
	src     int64 // data offset in the fragmented file
	size    int64
}

// fragFile is a parsed fragmented MP4.
type fragFile struct {
	tracks []*ftrack
	runs   []run
	total  int64 // sample bytes

	// Per-fragment scratch, reused: samples and runs of the moof being read are committed only
	// once its mdat proved complete.
	buf   []byte
	pend  []psample
	pruns []prun
}

type psample struct {
	dur, size, flags uint32
	cto              int64
}

type prun struct {
	run
	first   int // index into pend
	tfdt    uint64
	hasTfdt bool
}

// parseFragmented reads the init moov and every complete fragment of a fragmented MP4 of the
// given size. A trailing fragment cut short by a crash is ignored.
func parseFragmented(r io.ReaderAt, size int64) (*fragFile, error) {
	ff := &fragFile{}
	var haveMoov bool
	// A crash cuts a file short but leaves its start alone: one that does not start with an
	// ftyp header is no recording (and must not be taken for one with nothing to recover).
	if size >= boxHeaderSize {
		var h [boxHeaderSize]byte
		if _, err := r.ReadAt(h[:], 0); err != nil {
			return nil, fmt.Errorf("read first box header: %w", err)
		}
		if string(h[4:]) != "ftyp" {
			return nil, fmt.Errorf("not an MP4 file: starts with box %q", h[4:])
		}
	}
	for pos := int64(0); pos < size; {
		typ, hdr, boxSize, ok, err := readHeader(r, pos, size)
		if err != nil {
			return nil, err
		}
		if !ok {
			break // incomplete tail
		}
		switch typ {
		case "moov":
			if haveMoov {
				return nil, errors.New("second moov")
			}
			if boxSize > maxMoovSize {
				return nil, fmt.Errorf("moov of %d bytes", boxSize)
			}
			b, err := ff.read(r, pos+hdr, boxSize-hdr)
			if err != nil {
				return nil, err
			}
			if err := ff.parseMoov(b); err != nil {
				return nil, err
			}
			haveMoov = true
		case "moof":
			if !haveMoov {
				return nil, errors.New("moof before moov")
			}
			next, complete, err := ff.readFragment(r, pos, hdr, boxSize, size)
			if err != nil {
				return nil, fmt.Errorf("fragment at %d: %w", pos, err)
			}
			if !complete {
				pos = size
				continue
			}
			pos = next
			continue
		}
		pos += boxSize
	}
	if !haveMoov {
		// Every box before the cut is complete, so the file ends before or inside the moov.
		return nil, fmt.Errorf("file ends before the init moov is complete: %w", ErrNothingToRecover)
	}
	for _, t := range ff.tracks {
		if len(t.sizes) > 0 {
			return ff, nil
		}
	}
	return nil, ErrNoSamples
}

// readHeader reads the box header at pos (ISO 14496-12 §4.2). ok is false when the box does
// not fit the file: the tail a crash left behind, or a zero-filled tail (size 0).
func readHeader(r io.ReaderAt, pos, size int64) (typ string, hdr, boxSize int64, ok bool, err error) {
	var h [largeBoxHeaderSize]byte
	if size-pos < boxHeaderSize {
		return "", 0, 0, false, nil
	}
	if _, err := r.ReadAt(h[:boxHeaderSize], pos); err != nil {
		return "", 0, 0, false, fmt.Errorf("read box header at %d: %w", pos, err)
	}
	boxSize, hdr = int64(binary.BigEndian.Uint32(h[:])), boxHeaderSize
	if boxSize == 1 {
		if size-pos < largeBoxHeaderSize {
			return "", 0, 0, false, nil
		}
		if _, err := r.ReadAt(h[boxHeaderSize:], pos+boxHeaderSize); err != nil {
			return "", 0, 0, false, fmt.Errorf("read box header at %d: %w", pos, err)
		}
		large := binary.BigEndian.Uint64(h[boxHeaderSize:])
		if large > math.MaxInt64 {
			return "", 0, 0, false, nil
		}
		boxSize, hdr = int64(large), largeBoxHeaderSize
	}
	if boxSize < hdr || boxSize > size-pos {
		return "", 0, 0, false, nil
	}
	return string(h[4:8]), hdr, boxSize, true, nil
}

// read reads n bytes at off into the reused buffer.
func (ff *fragFile) read(r io.ReaderAt, off, n int64) ([]byte, error) {
	if int64(cap(ff.buf)) < n {
		ff.buf = make([]byte, n)
	}
	b := ff.buf[:n]
	if _, err := r.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("read at %d: %w", off, err)
	}
	return b, nil
}

// boxes iterates the child boxes of b (32-bit sizes only: no box inside moov or moof is that
// large).
func boxes(b []byte, fn func(typ string, raw, body []byte) error) error {
	for len(b) > 0 {
		if len(b) < boxHeaderSize {
			return errors.New("truncated box header")
		}
		n := binary.BigEndian.Uint32(b)
		if n < boxHeaderSize || uint64(n) > uint64(len(b)) {
			return fmt.Errorf("box %q of %d bytes in %d", b[4:8], n, len(b))
		}
		if err := fn(string(b[4:8]), b[:n], b[boxHeaderSize:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// parseMoov reads the tracks of the init moov (ISO 14496-12 §8.2.1) and their trex defaults.
func (ff *fragFile) parseMoov(b []byte) error {
	err := boxes(b, func(typ string, _, body []byte) error {
		switch typ {
		case "trak":
			if len(ff.tracks) == maxTracks {
				return errors.New("too many tracks")
			}
			t, err := parseTrak(body)
			if err != nil {
				return err
			}
			for _, o := range ff.tracks {
				if o.id == t.id {
					return fmt.Errorf("duplicate track %d", t.id)
				}
			}
			ff.tracks = append(ff.tracks, t)
		case "mvex":
			return boxes(body, func(typ string, _, body []byte) error {
				if typ != "trex" {
					return nil
				}
				if len(body) != 24 {
					return errors.New("bad trex")
				}
				if t := ff.track(binary.BigEndian.Uint32(body[4:])); t != nil {
					for i := range t.trex {
						t.trex[i] = binary.BigEndian.Uint32(body[12+4*i:])
					}
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("init moov: %w", err)
	}
	if len(ff.tracks) == 0 {
		return errors.New("init moov: no tracks")
	}
	return nil
}

func (ff *fragFile) track(id uint32) *ftrack {
	for _, t := range ff.tracks {
		if t.id == id {
			return t
		}
	}
	return nil
}

func (ff *fragFile) trackIndex(id uint32) int {
	for i, t := range ff.tracks {
		if t.id == id {
			return i
		}
	}
	return -1
}

// parseTrak reads what the final moov needs from a trak: tkhd (§8.3.2), mdhd (§8.4.2),
// hdlr (§8.4.3), the media header, dinf and stsd (§8.5.2).
func parseTrak(b []byte) (*ftrack, error) {
	t := &ftrack{}
	var walk func(typ string, raw, body []byte) error
	walk = func(typ string, raw, body []byte) error {
		switch typ {
		case "tkhd":
			if len(body) != 84 && len(body) != 96 {
				return errors.New("bad tkhd")
			}
			idAt := 12 // version 0: creation, modification (32-bit) then track_ID
			if body[0] == 1 {
				idAt = 20
			}
			t.id = binary.BigEndian.Uint32(body[idAt:])
			t.tkhdTail = append([]byte(nil), body[len(body)-60:]...)
		case "mdhd":
			// version 1 has 64-bit times: timescale at 20, else at 12; language after duration.
			at, durSize := 12, 4
			if len(body) > 0 && body[0] == 1 {
				at, durSize = 20, 8
			}
			if len(body) < at+4+durSize+2 {
				return errors.New("bad mdhd")
			}
			t.timescale = binary.BigEndian.Uint32(body[at:])
			copy(t.language[:], body[at+4+durSize:])
		case "hdlr":
			if len(body) < 12 {
				return errors.New("bad hdlr")
			}
			t.video, t.audio = string(body[8:12]) == "vide", string(body[8:12]) == "soun"
			t.hdlr = append([]byte(nil), raw...)
		case "vmhd", "smhd":
			t.mhd = append([]byte(nil), raw...)
		case "dinf":
			t.dinf = append([]byte(nil), raw...)
		case "stsd":
			t.stsd = append([]byte(nil), raw...)
		case "mdia", "minf", "stbl":
			return boxes(body, walk)
		}
		return nil
	}
	if err := boxes(b, walk); err != nil {
		return nil, err
	}
	switch {
	case t.id == 0 || t.tkhdTail == nil:
		return nil, errors.New("trak without tkhd")
	case t.timescale == 0:
		return nil, fmt.Errorf("track %d: no media timescale", t.id)
	case t.hdlr == nil || t.mhd == nil || t.dinf == nil || t.stsd == nil:
		return nil, fmt.Errorf("track %d: missing hdlr, media header, dinf or stsd", t.id)
	}
	return t, nil
}
