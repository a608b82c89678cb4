package clip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/liverec/liverec/internal/media"
)

// tsClock is the MPEG-TS timestamp clock (ISO 13818-1 §2.4.3.7).
const tsClock = 90000

// tsPacketSize is the size of a TS packet (ISO 13818-1 §2.4.3.2); slices hold whole ones.
const tsPacketSize = 188

// mask33 keeps the 33 bits of a PTS or DTS.
const mask33 = 1<<33 - 1

// aacFrameSamples is the length of an AAC frame; several frames in one PES follow each other.
const aacFrameSamples = 1024

// unit is one demuxed access unit, owning its data, with unwrapped 90 kHz timestamps.
type unit struct {
	video    bool
	key      bool
	dts, pts int64
	data     []byte
}

// sliceMedia is what one slice holds: its tracks (nil when absent) and its units in decode
// order across tracks.
type sliceMedia struct {
	tracks media.Tracks
	units  []unit
}

// base is the DTS of the slice's first unit, which its StartedAt is the wall time of.
func (m *sliceMedia) base() int64 {
	b := m.units[0].dts
	for i := range m.units {
		b = min(b, m.units[i].dts)
	}
	return b
}

// unwrapper extends 33-bit timestamps to a continuous timeline: each one is taken as the
// nearest value to the previous.
type unwrapper struct {
	started bool
	last    int64
}

func (u *unwrapper) unwrap(raw int64) int64 {
	raw &= mask33
	if !u.started {
		u.started, u.last = true, raw
		return raw
	}
	d := (raw - u.last) & mask33
	if d > mask33/2 {
		d -= mask33 + 1
	}
	u.last += d
	return u.last
}

// demuxer reads one slice with mediacommon's MPEG-TS reader (the format internal/record/hls
// writes: H.264 or H.265 with parameter sets before keyframes, AAC in ADTS).
type demuxer struct {
	uw     *unwrapper
	out    sliceMedia
	decErr error // the first error the reader reported
	codec  media.Codec
}

// demuxSlice reads a whole slice. A slice that does not decode cleanly is an error: the clip
// would not play where it is damaged, and it is one of ours, so something is wrong.
func demuxSlice(r io.Reader, uw *unwrapper) (m *sliceMedia, err error) {
	// mediacommon and astits are not hardened against every malformed input: a panic in
	// them must not take the service down with one bad object.
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("malformed MPEG-TS (demuxer panic: %v)", p)
		}
	}()
	d := &demuxer{uw: uw}
	tr := &mpegts.Reader{R: r}
	if err := tr.Initialize(); err != nil {
		return nil, fmt.Errorf("read MPEG-TS tables: %w", err)
	}
	tr.OnDecodeError(func(err error) {
		if d.decErr == nil {
			d.decErr = err
		}
	})
	var videoPID, audioPID bool
	for _, t := range tr.Tracks() {
		switch c := t.Codec.(type) {
		case *tscodecs.H264:
			if videoPID {
				return nil, errors.New("more than one video stream")
			}
			videoPID, d.codec = true, media.CodecH264
			tr.OnDataH264(t, func(pts, dts int64, au [][]byte) error { return d.video(pts, dts, au) })
		case *tscodecs.H265:
			if videoPID {
				return nil, errors.New("more than one video stream")
			}
			videoPID, d.codec = true, media.CodecH265
			tr.OnDataH265(t, func(pts, dts int64, au [][]byte) error { return d.video(pts, dts, au) })
		case *tscodecs.MPEG4Audio:
			if audioPID {
				return nil, errors.New("more than one audio stream")
			}
			audioPID = true
			track, err := media.NewAACTrack(&c.Config)
			if err != nil {
				return nil, err
			}
			d.out.tracks.Audio = track
			tr.OnDataMPEG4Audio(t, func(pts int64, aus [][]byte) error { return d.audio(pts, aus) })
		default:
			return nil, fmt.Errorf("unsupported stream %T (pid %d)", t.Codec, t.PID)
		}
	}
	for {
		err := tr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read MPEG-TS: %w", err)
		}
		if d.decErr != nil {
			break
		}
	}
	if d.decErr != nil {
		return nil, fmt.Errorf("decode MPEG-TS: %w", d.decErr)
	}
	if len(d.out.units) == 0 {
		return nil, errors.New("no media in slice")
	}
	// mediacommon hands a video PES out when the next one of its PID starts, so tracks come
	// out in their own order: merge them by DTS, video first on a tie (keyframes lead).
	slices.SortStableFunc(d.out.units, func(a, b unit) int {
		if a.dts != b.dts {
			if a.dts < b.dts {
				return -1
			}
			return 1
		}
		if a.video != b.video {
			if a.video {
				return -1
			}
			return 1
		}
		return 0
	})
	return &d.out, nil
}

// video turns an Annex-B access unit into an AVCC unit without parameter sets or delimiters,
// learning the track from the parameter sets.
func (d *demuxer) video(pts, dts int64, au [][]byte) error {
	var avcc []byte
	size := 0
	for _, n := range au {
		size += 4 + len(n)
	}
	if size > media.MaxAccessUnitSize {
		return fmt.Errorf("video access unit of %d bytes exceeds %d", size, media.MaxAccessUnitSize)
	}
	var params [3][]byte
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		if i := paramIndex(d.codec, n); i >= 0 {
			params[i] = n
			continue
		} else if i == -2 {
			continue // access unit delimiter
		}
		if avcc == nil {
			avcc = make([]byte, 0, size)
		}
		avcc = binary.BigEndian.AppendUint32(avcc, uint32(len(n)))
		avcc = append(avcc, n...)
	}
	if params[1] != nil || params[2] != nil {
		if err := d.setParams(params); err != nil {
			return err
		}
	}
	if avcc == nil {
		return nil // parameter sets only
	}
	info, err := media.ScanAVCC(d.codec, avcc)
	if err != nil {
		return err
	}
	if !info.HasPicture {
		return nil
	}
	if d.out.tracks.Video == nil {
		return fmt.Errorf("%v picture before any parameter sets", d.codec)
	}
	udts := d.uw.unwrap(dts)
	d.out.units = append(d.out.units, unit{
		video: true, key: info.Keyframe, dts: udts, pts: udts + (pts-dts)&mask33, data: avcc,
	})
	return nil
}

// setParams builds the slice's video track from the first parameter sets; later ones must
// repeat them.
func (d *demuxer) setParams(p [3][]byte) error {
	if d.out.tracks.Video != nil {
		t := d.out.tracks.Video
		if (p[0] != nil && string(p[0]) != string(t.VPS)) || (p[1] != nil && string(p[1]) != string(t.SPS)) ||
			(p[2] != nil && string(p[2]) != string(t.PPS)) {
			return errors.New("video parameter sets change inside the slice")
		}
		return nil
	}
	var t *media.Track
	var err error
	if d.codec == media.CodecH265 {
		t, err = media.NewH265Track(p[0], p[1], p[2])
	} else {
		t, err = media.NewH264Track(p[1], p[2])
	}
	if err != nil {
		return err
	}
	d.out.tracks.Video = t
	return nil
}

// paramIndex tells where a NAL unit's type goes: 0-2 for VPS, SPS, PPS, -2 for an access
// unit delimiter, -1 for what belongs to the picture.
func paramIndex(c media.Codec, n []byte) int {
	if c == media.CodecH265 {
		switch h265.NALUType((n[0] >> 1) & 0x3f) {
		case h265.NALUType_VPS_NUT:
			return 0
		case h265.NALUType_SPS_NUT:
			return 1
		case h265.NALUType_PPS_NUT:
			return 2
		case h265.NALUType_AUD_NUT:
			return -2
		}
		return -1
	}
	switch h264.NALUType(n[0] & 0x1f) {
	case h264.NALUTypeSPS:
		return 1
	case h264.NALUTypePPS:
		return 2
	case h264.NALUTypeAccessUnitDelimiter:
		return -2
	}
	return -1
}

// audio splits a PES of ADTS frames into units; frames after the first follow it by one
// frame each.
func (d *demuxer) audio(pts int64, aus [][]byte) error {
	rate := int64(d.out.tracks.Audio.SampleRate)
	for i, au := range aus {
		if len(au) == 0 {
			continue
		}
		t := d.uw.unwrap(pts + int64(i)*aacFrameSamples*tsClock/rate)
		d.out.units = append(d.out.units, unit{key: true, dts: t, pts: t, data: slices.Clone(au)})
	}
	return nil
}
