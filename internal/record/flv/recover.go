package flv

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/liverec/liverec/internal/media"
	mediaflv "github.com/liverec/liverec/internal/media/flv"
)

// ErrNothingToRecover is wrapped by Recover's error when the file ends before its headers
// (FLV header, onMetaData and sequence headers) are complete: it holds no frame, and the caller
// deletes it.
var ErrNothingToRecover = errors.New("nothing to recover")

// maxMetadataSize bounds the onMetaData body Recover reads whole; the Writer's is about 200
// bytes.
const maxMetadataSize = 64 << 10

// maxDataOffset is the largest FLV header DataOffset accepted, as mediaflv.Reader does.
const maxDataOffset = 1024

// scanBufSize is the read buffer of the sequential scan: only tag headers are kept, the
// payloads stream past.
const scanBufSize = 64 << 10

// errIncomplete marks a tag a crash cut short, whose PreviousTagSize is wrong or whose header
// the Writer never writes: it is dropped with everything after it.
var errIncomplete = errors.New("incomplete tag")

// Recover turns an FLV file that a Writer was writing when the process died (cut at any byte)
// into a clean, complete file: it truncates it after the last complete tag whose
// PreviousTagSize matches, patches duration and filesize into onMetaData as Writer.Close does,
// fsyncs it and returns its stats. Timestamps come from the file, so the duration is computed
// from whole milliseconds. A tag the Writer would not have written (another type, a sequence
// header or codec change, a malformed media header) ends the file as a cut tag does.
func Recover(path string) (Stats, error) {
	st, err := recoverFile(path)
	if err != nil {
		return Stats{}, fmt.Errorf("recover flv %s: %w", path, err)
	}
	return st, nil
}

func recoverFile(path string) (Stats, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	s := tagScanner{r: bufio.NewReaderSize(f, scanBufSize)}
	st, metaAt, meta, err := s.scanFile()
	if err != nil {
		return Stats{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		return Stats{}, err
	}
	if fi.Size() != st.Bytes {
		if err := f.Truncate(st.Bytes); err != nil {
			return Stats{}, fmt.Errorf("truncate to %d bytes: %w", st.Bytes, err)
		}
	}
	writeAt := func(p []byte, off int64) error {
		_, err := f.WriteAt(p, off)
		return err
	}
	if err := meta.Patch(writeAt, metaAt, st.Duration, st.Bytes); err != nil {
		return Stats{}, err
	}
	if err := f.Sync(); err != nil {
		return Stats{}, fmt.Errorf("fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return Stats{}, err
	}
	return st, nil
}

// scanFile reads the headers and every complete frame tag. It returns the stats of the file as
// it is to be kept (Bytes is where to cut it), and where onMetaData's body starts with the
// positions of its doubles.
func (s *tagScanner) scanFile() (Stats, int64, mediaflv.Metadata, error) {
	var st Stats
	var h [fileHeaderSize]byte
	if _, err := io.ReadFull(s.r, h[:]); err != nil {
		return st, 0, mediaflv.Metadata{}, s.nothing("FLV header", err)
	}
	s.pos = fileHeaderSize
	if string(h[:3]) != "FLV" || h[3] != 1 {
		return st, 0, mediaflv.Metadata{}, errors.New("not an FLV file")
	}
	off := binary.BigEndian.Uint32(h[5:])
	if off < fileHeaderSize || off > maxDataOffset {
		return st, 0, mediaflv.Metadata{}, fmt.Errorf("bad FLV data offset %d", off)
	}
	skip := int(off) - fileHeaderSize + prevTagSizeSize
	if _, err := s.r.Discard(skip); err != nil {
		return st, 0, mediaflv.Metadata{}, s.nothing("FLV header", err)
	}
	s.pos += int64(skip)

	tag, err := s.next(maxMetadataSize)
	if err != nil {
		return st, 0, mediaflv.Metadata{}, s.nothing("onMetaData", err)
	}
	if tag.typ != mediaflv.TagScript || tag.size > maxMetadataSize {
		return st, 0, mediaflv.Metadata{}, errors.New("first tag is not onMetaData")
	}
	meta, err := mediaflv.ParseMetadata(tag.head)
	if err != nil {
		return st, 0, mediaflv.Metadata{}, err
	}
	metaAt := tag.bodyAt

	// The sequence headers the Writer writes for the tracks the header flags announce.
	var vcodec media.Codec
	if h[4]&flagVideo != 0 {
		tag, err := s.next(maxMediaHeaderSize)
		if err != nil {
			return st, 0, mediaflv.Metadata{}, s.nothing("video sequence header", err)
		}
		vh, err := mediaflv.ParseVideoHeader(tag.head)
		if tag.typ != mediaflv.TagVideo || err != nil || vh.Kind != mediaflv.PacketConfig {
			return st, 0, mediaflv.Metadata{}, errors.New("no video sequence header after onMetaData where the header flags announce one")
		}
		vcodec = vh.Codec
	}
	if h[4]&flagAudio != 0 {
		tag, err := s.next(maxMediaHeaderSize)
		if err != nil {
			return st, 0, mediaflv.Metadata{}, s.nothing("audio sequence header", err)
		}
		ah, err := mediaflv.ParseAudioHeader(tag.head)
		if tag.typ != mediaflv.TagAudio || err != nil || ah.Kind != mediaflv.PacketConfig {
			return st, 0, mediaflv.Metadata{}, errors.New("no audio sequence header where the header flags announce one")
		}
	}

	// Frames, until the first tag that is cut short or not one the Writer writes.
	var tl timeline
	st.Bytes = s.pos
	for {
		tag, err := s.next(maxMediaHeaderSize)
		if errors.Is(err, errIncomplete) {
			break
		}
		if err != nil {
			return st, 0, mediaflv.Metadata{}, err
		}
		dts := time.Duration(tag.ts) * time.Millisecond
		idx, pts, ok := frameOf(tag, vcodec, h[4])
		if !ok {
			break
		}
		tl.add(idx, dts, dts+pts)
		if idx == 1 {
			st.VideoFrames++
		} else {
			st.AudioFrames++
		}
		st.Bytes = s.pos
	}
	st.Duration = tl.end
	return st, metaAt, meta, nil
}

// frameOf checks that a tag is a coded frame of one of the file's tracks, as the Writer writes
// them, and returns its track index (0 audio, 1 video) and composition time.
func frameOf(tag scannedTag, vcodec media.Codec, flags byte) (int, time.Duration, bool) {
	switch {
	case tag.typ == mediaflv.TagVideo && flags&flagVideo != 0:
		vh, err := mediaflv.ParseVideoHeader(tag.head)
		if err != nil || vh.Kind != mediaflv.PacketFrame || vh.Codec != vcodec {
			return 0, 0, false
		}
		return 1, vh.CompositionTime, true
	case tag.typ == mediaflv.TagAudio && flags&flagAudio != 0:
		ah, err := mediaflv.ParseAudioHeader(tag.head)
		if err != nil || ah.Kind != mediaflv.PacketFrame {
			return 0, 0, false
		}
		return 0, 0, true
	}
	return 0, 0, false
}

// nothing turns the end of the file inside a header into ErrNothingToRecover.
func (s *tagScanner) nothing(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errIncomplete) {
		return fmt.Errorf("file ends inside the %s: %w", what, ErrNothingToRecover)
	}
	return fmt.Errorf("read %s: %w", what, err)
}

// tagScanner reads tags sequentially, keeping the first bytes of each body.
type tagScanner struct {
	r    *bufio.Reader
	pos  int64 // file offset of the next byte of r
	head []byte
}

type scannedTag struct {
	typ    uint8
	ts     uint32 // milliseconds, extended byte applied
	size   int
	bodyAt int64  // file offset of the body
	head   []byte // the first bytes of the body, up to what next was asked for
}

// next reads the tag at s.pos with its PreviousTagSize, keeping up to keep bytes of its body.
// It returns errIncomplete for a tag cut short, with a wrong PreviousTagSize or a header the
// Writer never writes (reserved bits, a stream id).
func (s *tagScanner) next(keep int) (scannedTag, error) {
	var h [tagHeaderSize]byte
	if _, err := io.ReadFull(s.r, h[:]); err != nil {
		return scannedTag{}, s.cut(err)
	}
	tag := scannedTag{
		typ:    h[0],
		size:   int(h[1])<<16 | int(h[2])<<8 | int(h[3]),
		ts:     uint32(h[4])<<16 | uint32(h[5])<<8 | uint32(h[6]) | uint32(h[7])<<24,
		bodyAt: s.pos + tagHeaderSize,
	}
	if (tag.typ != mediaflv.TagAudio && tag.typ != mediaflv.TagVideo && tag.typ != mediaflv.TagScript) || h[8]|h[9]|h[10] != 0 {
		return scannedTag{}, errIncomplete
	}
	n := min(tag.size, keep)
	if cap(s.head) < n {
		s.head = make([]byte, n)
	}
	tag.head = s.head[:n]
	if _, err := io.ReadFull(s.r, tag.head); err != nil {
		return scannedTag{}, s.cut(err)
	}
	if _, err := s.r.Discard(tag.size - n); err != nil {
		return scannedTag{}, s.cut(err)
	}
	var prev [prevTagSizeSize]byte
	if _, err := io.ReadFull(s.r, prev[:]); err != nil {
		return scannedTag{}, s.cut(err)
	}
	if int(binary.BigEndian.Uint32(prev[:])) != tagHeaderSize+tag.size {
		return scannedTag{}, errIncomplete
	}
	s.pos = tag.bodyAt + int64(tag.size) + prevTagSizeSize
	return tag, nil
}

// cut maps the end of the file to errIncomplete and keeps other read errors.
func (s *tagScanner) cut(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errIncomplete
	}
	return fmt.Errorf("read tag at %d: %w", s.pos, err)
}
