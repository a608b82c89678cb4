package flv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/liverec/liverec/internal/media"
	mediaflv "github.com/liverec/liverec/internal/media/flv"
	"github.com/liverec/liverec/internal/record/sink"
)

// Sizes of the fixed parts of an FLV file (FLV spec v10.1 §E.2, §E.3, §E.4.1).
const (
	fileHeaderSize  = 9
	prevTagSizeSize = 4
	tagHeaderSize   = 11
)

// maxMediaHeaderSize is the longest header between tag header and payload: an Enhanced RTMP v1
// ExVideoTagHeader with FourCC (5) plus the SI24 composition time of CodedFrames (3). Legacy AVC
// (§E.4.3.1) needs 5, AAC (§E.4.2.1) 2.
const maxMediaHeaderSize = 5 + 3

// MaxTimestamp is the largest tag timestamp: 24 bits plus the extended byte, about 49.7 days.
const MaxTimestamp = math.MaxUint32 * time.Millisecond

// maxCompositionTime is the largest SI24 composition time offset in milliseconds.
const maxCompositionTime = 1<<23 - 1

// FLV header flags (§E.2).
const (
	flagAudio = 0x04
	flagVideo = 0x01
)

// Legacy video tag fields (§E.4.3.1) and Enhanced RTMP v1 ExVideoTagHeader fields.
const (
	frameKey   = 1
	frameInter = 2

	avcSequenceHeader = 0
	avcNALU           = 1

	exHeaderFlag    = 0x80
	exSequenceStart = 0
	exCodedFrames   = 1
	exCodedFramesX  = 3 // CodedFrames whose composition time is 0, without the SI24
)

// Audio tag fields (§E.4.2.1): for AAC the rate/size/type flags are always 44 kHz, 16-bit,
// stereo; the AudioSpecificConfig carries the real values.
const (
	audioHeaderAACByte = mediaflv.CodecIDAAC<<4 | 3<<2 | 1<<1 | 1
	aacSequenceHeader  = 0
	aacRaw             = 1
)

// Stats describes a written file. Duration runs from 0 to the end of the last presented frame.
type Stats struct {
	Duration                 time.Duration
	VideoFrames, AudioFrames int64
	Bytes                    int64
}

// ErrClosed is returned by WriteUnit and Close after Close.
var ErrClosed = errors.New("flv writer closed")

// Writer writes one FLV file: onMetaData first, then sequence headers, then one tag per unit,
// append-only through a sink.File. H.264 is written as legacy FLV, H.265 as Enhanced FLV
// (FourCC hvc1). It is not safe for concurrent use.
type Writer struct {
	f      *sink.File
	tracks media.Tracks
	base   int64 // file offset of the FLV header
	meta   mediaflv.Metadata
	metaAt int64 // file offset of the onMetaData tag body

	// hdr is scratch for a tag header and its media header, so WriteUnit allocates nothing.
	hdr  [tagHeaderSize + maxMediaHeaderSize]byte
	prev [prevTagSizeSize]byte

	tl     timeline
	stats  Stats
	closed bool
}

// NewWriter writes the FLV header, onMetaData and the sequence headers of tracks into f.
func NewWriter(f *sink.File, tracks media.Tracks) (*Writer, error) {
	if tracks.Video == nil && tracks.Audio == nil {
		return nil, errors.New("create flv writer: no tracks")
	}
	if v := tracks.Video; v != nil && !v.IsVideo() {
		return nil, fmt.Errorf("create flv writer: video track has codec %v", v.Codec)
	}
	if a := tracks.Audio; a != nil && a.Codec != media.CodecAAC {
		return nil, fmt.Errorf("create flv writer: audio track has codec %v", a.Codec)
	}
	w := &Writer{f: f, tracks: tracks, base: f.Size(), meta: mediaflv.BuildMetadata(tracks)}

	var flags byte
	if tracks.Audio != nil {
		flags |= flagAudio
	}
	if tracks.Video != nil {
		flags |= flagVideo
	}
	h := [fileHeaderSize + prevTagSizeSize]byte{'F', 'L', 'V', 1, flags, 0, 0, 0, fileHeaderSize}
	if _, err := f.Write(h[:]); err != nil {
		return nil, fmt.Errorf("write flv header: %w", err)
	}
	w.metaAt = w.base + int64(len(h)) + tagHeaderSize
	if err := w.writeTag(mediaflv.TagScript, 0, nil, w.meta.Body); err != nil {
		return nil, fmt.Errorf("write onMetaData: %w", err)
	}
	if v := tracks.Video; v != nil {
		conf, err := mediaflv.DecoderConfig(v)
		if err != nil {
			return nil, err
		}
		var mh []byte
		if v.Codec == media.CodecH265 {
			mh = append(w.hdr[tagHeaderSize:tagHeaderSize], exHeaderFlag|frameKey<<4|exSequenceStart)
			mh = append(mh, mediaflv.FourCCHEVC...)
		} else {
			mh = append(w.hdr[tagHeaderSize:tagHeaderSize], frameKey<<4|mediaflv.CodecIDAVC, avcSequenceHeader, 0, 0, 0)
		}
		if err := w.writeTag(mediaflv.TagVideo, 0, mh, conf); err != nil {
			return nil, fmt.Errorf("write video sequence header: %w", err)
		}
	}
	if a := tracks.Audio; a != nil {
		if len(a.AudioConfig) == 0 {
			return nil, errors.New("write audio sequence header: empty AudioSpecificConfig")
		}
		mh := append(w.hdr[tagHeaderSize:tagHeaderSize], audioHeaderAACByte, aacSequenceHeader)
		if err := w.writeTag(mediaflv.TagAudio, 0, mh, a.AudioConfig); err != nil {
			return nil, fmt.Errorf("write audio sequence header: %w", err)
		}
	}
	return w, nil
}

// WriteUnit writes one unit as a tag. Its data is written straight into the sink's batch and
// not kept.
func (w *Writer) WriteUnit(u *media.Unit) error {
	if w.closed {
		return ErrClosed
	}
	if u.Track == nil || len(u.Data) == 0 {
		return errors.New("write flv unit: unit without track or data")
	}
	idx, want := 0, w.tracks.Audio
	if u.Track.IsVideo() {
		idx, want = 1, w.tracks.Video
	}
	if want == nil || want.Codec != u.Track.Codec {
		return fmt.Errorf("write flv unit: %v unit does not belong to the file's tracks", u.Track.Codec)
	}
	if u.DTS < 0 || u.DTS > MaxTimestamp || (w.tl.seen[idx] && u.DTS < w.tl.last[idx]) {
		return fmt.Errorf("write flv unit: %v DTS %v out of order or range", u.Track.Codec, u.DTS)
	}

	// Milliseconds rounded down; the composition time is the difference of the rounded-down
	// PTS and DTS so a reader gets PTS = floor(PTS) back exactly.
	dts := u.DTS / time.Millisecond
	cts := min(max(u.PTS/time.Millisecond-dts, 0), maxCompositionTime)
	mh := w.hdr[tagHeaderSize:tagHeaderSize]
	typ := uint8(mediaflv.TagAudio)
	if idx == 1 {
		typ = mediaflv.TagVideo
		frame := byte(frameInter)
		if u.Keyframe {
			frame = frameKey
		}
		switch {
		case u.Track.Codec == media.CodecH264:
			mh = append(mh, frame<<4|mediaflv.CodecIDAVC, avcNALU, byte(cts>>16), byte(cts>>8), byte(cts))
		case cts == 0:
			mh = append(mh, exHeaderFlag|frame<<4|exCodedFramesX)
			mh = append(mh, mediaflv.FourCCHEVC...)
		default:
			mh = append(mh, exHeaderFlag|frame<<4|exCodedFrames)
			mh = append(mh, mediaflv.FourCCHEVC...)
			mh = append(mh, byte(cts>>16), byte(cts>>8), byte(cts))
		}
	} else {
		mh = append(mh, audioHeaderAACByte, aacRaw)
	}
	if err := w.writeTag(typ, uint32(dts), mh, u.Data); err != nil {
		return fmt.Errorf("write flv %v unit at %v: %w", u.Track.Codec, u.DTS, err)
	}

	w.tl.add(idx, u.DTS, u.PTS)
	if idx == 1 {
		w.stats.VideoFrames++
	} else {
		w.stats.AudioFrames++
	}
	return nil
}

// timeline follows the end of the latest presented frame, the file's duration. Writer and
// Recover share it so a recovered file reports its duration the way a closed one does.
type timeline struct {
	last [2]time.Duration // last DTS per track (0 audio, 1 video)
	seen [2]bool
	end  time.Duration
}

// add accounts for a frame of track idx. A frame lasts as long as the step from the track's
// previous DTS (the FLV muxer of ffmpeg counts the same way).
func (t *timeline) add(idx int, dts, pts time.Duration) {
	var step time.Duration
	if t.seen[idx] {
		step = dts - t.last[idx]
	}
	t.end = max(t.end, max(pts, dts)+step)
	t.last[idx], t.seen[idx] = dts, true
}

// writeTag writes a tag header, the media header mh (which must alias w.hdr after the tag
// header, or be nil), the payload and the PreviousTagSize (§E.3, §E.4.1).
func (w *Writer) writeTag(typ uint8, ts uint32, mh, payload []byte) error {
	size := len(mh) + len(payload)
	if size > mediaflv.MaxTagSize {
		return fmt.Errorf("tag body of %d bytes exceeds %d", size, mediaflv.MaxTagSize)
	}
	h := w.hdr[:tagHeaderSize]
	h[0] = typ
	h[1], h[2], h[3] = byte(size>>16), byte(size>>8), byte(size)
	h[4], h[5], h[6], h[7] = byte(ts>>16), byte(ts>>8), byte(ts), byte(ts>>24) // extended byte last
	h[8], h[9], h[10] = 0, 0, 0                                                // StreamID
	if _, err := w.f.Write(w.hdr[:tagHeaderSize+len(mh)]); err != nil {
		return err
	}
	if _, err := w.f.Write(payload); err != nil {
		return err
	}
	binary.BigEndian.PutUint32(w.prev[:], uint32(tagHeaderSize+size))
	_, err := w.f.Write(w.prev[:]) // a field, not a local: the sink may pass p to write(2), so it escapes
	return err
}

// Close patches duration and filesize into onMetaData and returns the file's stats. It does not
// sync or close the sink.
func (w *Writer) Close() (Stats, error) {
	if w.closed {
		return w.stats, ErrClosed
	}
	w.closed = true
	w.stats.Duration = w.tl.end
	w.stats.Bytes = w.f.Size() - w.base
	if err := w.meta.Patch(w.f.WriteAt, w.metaAt, w.stats.Duration, w.stats.Bytes); err != nil {
		return w.stats, err
	}
	return w.stats, nil
}
