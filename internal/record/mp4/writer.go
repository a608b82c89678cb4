package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/liverec/liverec/internal/bufpool"
	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/record/sink"
)

// Fragmentation limits: a fragment is cut after about a second of media or when the buffered
// payload passes 512 KiB, whichever comes first. That keeps the sink's batches large and bounds
// what a crash can lose to about a second.
const (
	fragmentDuration = time.Second
	maxFragmentBytes = 512 << 10
)

// Clock rates: 90 kHz is the usual video media timescale; audio uses its sample rate so AAC
// frame durations are exact.
const videoTimescale = 90000

// Durations given to a track's only sample when Close has no previous duration to repeat:
// one frame at 30 fps, one AAC frame (1024 samples).
const (
	defaultVideoDuration = videoTimescale / 30
	defaultAudioDuration = 1024
)

// maxCompositionOffset bounds PTS-DTS (the Cleaner already caps it at 10 s).
const maxCompositionOffset = 10 * time.Second

// Stats describes a written file.
type Stats struct {
	// Duration is the end of the longest track on the decode timeline (last DTS plus the last
	// sample's duration), from the start of the file.
	Duration    time.Duration
	VideoFrames int64
	AudioFrames int64
	// Bytes is the size of the file.
	Bytes int64
}

// Writer writes a fragmented MP4 (ISO 14496-12 §8.8) through a spool file. It is not safe for
// concurrent use.
type Writer struct {
	f       *sink.File
	tracks  []*wtrack // video first, then audio; each is present only if the stream has it
	seq     uint32
	scratch *bufpool.Buf // moof marshaling buffer, pooled between fragments
	written int64

	fragStart time.Duration // DTS of the first unit written since the last fragment
	fragOpen  bool          // a unit arrived since the last fragment
	buffered  int           // payload bytes buffered across tracks
	closed    bool
	err       error // sticky: once a write failed the file is broken
}

type wtrack struct {
	track     *media.Track
	id        uint32
	timescale int64
	video     bool
	samples   []wsample    // buffered samples; the last one waits for its successor's DTS
	payload   *bufpool.Buf // buffered sample data in sample order (pooled); nil when none
	fragBytes int          // payload of the last fragment: what a growing buffer asks for
	frames    int64
	lastIn    time.Duration // DTS of the previous unit as given
	lastDTS   int64         // DTS of the previous unit in ticks
	lastDur   uint32
	started   bool
}

type wsample struct {
	dts  int64
	size uint32
	cto  int32
	sync bool
}

// NewWriter writes the ftyp and init moov (with mvex, ISO 14496-12 §8.8.1) for tracks and
// returns a Writer for their units.
func NewWriter(f *sink.File, tracks media.Tracks) (*Writer, error) {
	w := &Writer{f: f}
	var init fmp4.Init
	if t := tracks.Video; t != nil {
		var c codecs.Codec
		switch t.Codec {
		case media.CodecH264:
			c = &codecs.H264{SPS: t.SPS, PPS: t.PPS}
		case media.CodecH265:
			c = &codecs.H265{VPS: t.VPS, SPS: t.SPS, PPS: t.PPS}
		default:
			return nil, fmt.Errorf("mp4: unsupported video codec %v", t.Codec)
		}
		w.tracks = append(w.tracks, &wtrack{track: t, timescale: videoTimescale, video: true})
		init.Tracks = append(init.Tracks, &fmp4.InitTrack{TimeScale: videoTimescale, Codec: c})
	}
	if t := tracks.Audio; t != nil {
		if t.Codec != media.CodecAAC {
			return nil, fmt.Errorf("mp4: unsupported audio codec %v", t.Codec)
		}
		conf, err := t.AACConfig()
		if err != nil {
			return nil, fmt.Errorf("mp4: %w", err)
		}
		if conf.SampleRate <= 0 {
			return nil, fmt.Errorf("mp4: AAC sample rate %d", conf.SampleRate)
		}
		w.tracks = append(w.tracks, &wtrack{track: t, timescale: int64(conf.SampleRate)})
		init.Tracks = append(init.Tracks, &fmp4.InitTrack{
			TimeScale: uint32(conf.SampleRate), Codec: &codecs.MPEG4Audio{Config: *conf},
		})
	}
	if len(w.tracks) == 0 {
		return nil, errors.New("mp4: no tracks")
	}
	for i, t := range w.tracks {
		t.id = uint32(i + 1)
		init.Tracks[i].ID = i + 1
	}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("mp4: marshal init segment: %w", err)
	}
	if err := w.write(buf.Bytes()); err != nil {
		return nil, err
	}
	return w, nil
}

// WriteUnit buffers one access unit; every second or so it writes a fragment. u.DTS and u.PTS
// are relative to the start of the file; DTS must strictly increase per track.
func (w *Writer) WriteUnit(u *media.Unit) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("mp4: write after close")
	}
	t, err := w.trackOf(u.Track)
	if err != nil {
		return err
	}
	if len(u.Data) == 0 || len(u.Data) > media.MaxAccessUnitSize {
		return fmt.Errorf("mp4: unit of %d bytes", len(u.Data))
	}
	if u.DTS < 0 || (t.started && u.DTS <= t.lastIn) {
		return fmt.Errorf("mp4: %v DTS %v not after %v", t.track.Codec, u.DTS, t.lastIn)
	}
	dts := media.ToTimescale(u.DTS, t.timescale)
	if t.started && dts <= t.lastDTS {
		dts = t.lastDTS + 1 // distinct times that round to the same tick
	}
	if t.started && dts-t.lastDTS > math.MaxUint32 {
		return fmt.Errorf("mp4: %v DTS jumps by %v", t.track.Codec, u.DTS-t.lastIn)
	}
	cto := u.CompositionOffset()
	if cto > maxCompositionOffset {
		return fmt.Errorf("mp4: composition offset %v exceeds %v", cto, maxCompositionOffset)
	}
	ctoTicks := max(media.ToTimescale(u.DTS+cto, t.timescale)-dts, 0)

	if !w.fragOpen {
		w.fragStart, w.fragOpen = u.DTS, true
	}
	if t.started {
		t.lastDur = uint32(dts - t.lastDTS)
	}
	t.started, t.lastIn, t.lastDTS = true, u.DTS, dts
	t.samples = append(t.samples, wsample{
		dts: dts, size: uint32(len(u.Data)), cto: int32(ctoTicks), sync: u.Keyframe || !t.video,
	})
	t.appendPayload(u.Data)
	t.frames++
	w.buffered += len(u.Data)

	if w.buffered >= maxFragmentBytes || u.DTS-w.fragStart >= fragmentDuration {
		return w.flush(false)
	}
	return nil
}

// trackOf finds the writer track of a unit. A new Track with the same parameters continues the
// file (ingest rebuilds tracks on repeated sequence headers).
func (w *Writer) trackOf(tr *media.Track) (*wtrack, error) {
	for _, t := range w.tracks {
		if t.track == tr {
			return t, nil
		}
	}
	for _, t := range w.tracks {
		if t.track.SameParams(tr) {
			t.track = tr
			return t, nil
		}
	}
	if tr == nil {
		return nil, errors.New("mp4: unit without track")
	}
	return nil, fmt.Errorf("mp4: unit of an unknown %v track", tr.Codec)
}

// Flush writes the samples buffered so far as a fragment (but the last of each track, whose
// duration is not known yet). The recorder calls it before handing the spool file's batch to
// write(2), so a crash loses no more MP4 than FLV (§4 durability).
func (w *Writer) Flush() error {
	if w.closed || w.err != nil {
		return w.err
	}
	if !w.fragOpen {
		return nil
	}
	if err := w.flush(false); err != nil {
		w.err = err
	}
	return w.err
}

// Close writes the buffered samples as the last fragment and returns the file's stats. It
// does not sync or close the spool file.
func (w *Writer) Close() (Stats, error) {
	if w.closed {
		return w.stats(), w.err
	}
	if w.err == nil {
		w.err = w.flush(true)
	}
	w.closed = true
	bufpool.Put(w.scratch) // buffers are only left after a failed write
	w.scratch = nil
	for _, t := range w.tracks {
		bufpool.Put(t.payload)
		t.payload, t.samples = nil, nil
	}
	return w.stats(), w.err
}

func (w *Writer) stats() Stats {
	s := Stats{Bytes: w.written}
	for _, t := range w.tracks {
		if t.video {
			s.VideoFrames = t.frames
		} else {
			s.AudioFrames = t.frames
		}
		if t.started {
			end := media.FromTimescale(t.lastDTS+int64(t.lastDur), t.timescale)
			s.Duration = max(s.Duration, end)
		}
	}
	return s
}

// flush writes one fragment (moof + mdat, ISO 14496-12 §8.8.4, §8.1.1) holding every buffered
// sample whose duration is known; at the end of the file that is all of them, the last ones
// lasting as long as their predecessors.
func (w *Writer) flush(final bool) error {
	w.fragOpen = false
	hdr, ready, err := w.marshalFragment(final)
	if err != nil || hdr == nil {
		return err
	}
	err = w.write(hdr) // the sink copies it
	bufpool.Put(w.scratch)
	w.scratch = nil
	if err != nil {
		return err
	}
	for i, t := range w.tracks {
		n := ready[i]
		if n == 0 {
			continue
		}
		size := 0
		for _, s := range t.samples[:n] {
			size += int(s.size)
		}
		if err := w.write(t.payload.B[:size]); err != nil {
			return err
		}
		t.samples = t.samples[:copy(t.samples, t.samples[n:])]
		t.keepPayload(size)
		w.buffered -= size
	}
	return nil
}

// appendPayload buffers a sample's data. A buffer that must grow is swapped for a pooled one
// the size of the track's last fragment, so it grows about once per fragment.
func (t *wtrack) appendPayload(p []byte) {
	if t.payload == nil {
		t.payload = bufpool.Get(max(len(p), t.fragBytes))
	} else if old := t.payload; cap(old.B)-len(old.B) < len(p) {
		t.payload = bufpool.Get(max(len(old.B)+len(p), t.fragBytes))
		t.payload.B = append(t.payload.B, old.B...)
		bufpool.Put(old)
	}
	t.payload.B = append(t.payload.B, p...)
}

// keepPayload drops the first size bytes of the payload, which are written. The rest (the
// held-back sample, if any) moves to a buffer of its own size and the fragment's buffer goes
// back to the pool, so between ingest batches the track does not hold a fragment's capacity.
func (t *wtrack) keepPayload(size int) {
	old := t.payload
	t.fragBytes = len(old.B)
	t.payload = nil
	if rest := old.B[size:]; len(rest) > 0 {
		t.payload = bufpool.Get(len(rest))
		t.payload.B = append(t.payload.B, rest...)
	}
	bufpool.Put(old)
}

// moofFixedSize bounds a fragment header but for its trun entries (16 bytes a sample): moof,
// mfhd, two trafs with tfhd, tfdt and the trun fields before the entries, and a largesize
// mdat header.
const moofFixedSize = 8 + 16 + 2*(8+16+20+20) + largeBoxHeaderSize

// marshalFragment marshals the moof and the mdat header of the next fragment into the scratch
// buffer and returns them (nil when no sample is ready) with the number of samples of each
// track it holds.
func (w *Writer) marshalFragment(final bool) ([]byte, [2]int, error) {
	var ready [2]int   // samples of each track that go into this fragment
	var offsets [2]int // positions of the trun data_offset fields to patch
	samples := 0
	for i, t := range w.tracks {
		n := len(t.samples)
		if !final {
			n-- // hold the last sample back until the next DTS gives its duration
		}
		ready[i] = max(n, 0)
		samples += ready[i]
	}
	if samples == 0 {
		return nil, ready, nil
	}
	// Sized for the whole header, so marshaling does not grow it past its pool class.
	bufpool.Put(w.scratch) // nil unless a failed write left it
	w.scratch = bufpool.Get(moofFixedSize + 16*samples)
	var payload uint64
	b, moof := startBox(w.scratch.B, "moof")
	b, box := startFullBox(b, "mfhd", 0, 0)
	b = be32(b, w.seq+1)
	b, _ = endBox(b, box)
	for i, t := range w.tracks {
		if ready[i] == 0 {
			continue
		}
		b, offsets[i] = marshalTraf(b, t, ready[i], final)
		for _, s := range t.samples[:ready[i]] {
			payload += uint64(s.size)
		}
	}
	b, err := endBox(b, moof)
	if err != nil {
		return nil, ready, fmt.Errorf("mp4: fragment: %w", err)
	}
	// data_offset is relative to the moof (default-base-is-moof): past the moof and the mdat
	// header, then past the data of the tracks before.
	data := uint64(len(b)) + uint64(mdatHeaderSize(payload))
	for i, t := range w.tracks {
		if ready[i] == 0 {
			continue
		}
		if data > math.MaxInt32 {
			return nil, ready, errors.New("mp4: fragment too large")
		}
		binary.BigEndian.PutUint32(b[offsets[i]:], uint32(data))
		for _, s := range t.samples[:ready[i]] {
			data += uint64(s.size)
		}
	}
	b = appendMdatHeader(b, payload)
	w.scratch.B = b
	w.seq++
	return b, ready, nil
}

// marshalTraf appends a traf for the first n buffered samples of t: tfhd, tfdt and a trun with
// per-sample duration, size, flags and composition offset (ISO 14496-12 §8.8.6-§8.8.8,
// §8.8.12). It returns the position of the trun's data_offset field.
func marshalTraf(b []byte, t *wtrack, n int, final bool) ([]byte, int) {
	b, traf := startBox(b, "traf")
	b, box := startFullBox(b, "tfhd", 0, tfhdDefaultBaseIsMoof)
	b = be32(b, t.id)
	b, _ = endBox(b, box)
	b, box = startFullBox(b, "tfdt", 1, 0)
	b = be64(b, uint64(t.samples[0].dts))
	b, _ = endBox(b, box)
	// Version 0: composition offsets are never negative here (PTS >= DTS).
	b, box = startFullBox(b, "trun", 0,
		trunDataOffset|trunSampleDuration|trunSampleSize|trunSampleFlags|trunSampleCTO)
	b = be32(b, uint32(n))
	off := len(b)
	b = be32(b, 0)
	for i, s := range t.samples[:n] {
		var dur uint32
		switch {
		case i+1 < len(t.samples):
			dur = uint32(t.samples[i+1].dts - s.dts)
		case final && t.lastDur > 0:
			dur = t.lastDur
		case t.video:
			dur = defaultVideoDuration
		default:
			dur = defaultAudioDuration
		}
		if i+1 == len(t.samples) {
			t.lastDur = dur // the file's end then covers the last sample
		}
		flags := uint32(sampleFlagsNonSync)
		if s.sync {
			flags = sampleFlagsSync
		}
		b = be32(b, dur)
		b = be32(b, s.size)
		b = be32(b, flags)
		b = be32(b, uint32(s.cto))
	}
	b, _ = endBox(b, box)
	b, _ = endBox(b, traf)
	return b, off
}

// write hands p to the sink, which batches small pieces and passes large ones on whole.
func (w *Writer) write(p []byte) error {
	if _, err := w.f.Write(p); err != nil {
		w.err = fmt.Errorf("mp4: %w", err)
		return w.err
	}
	w.written += int64(len(p))
	return nil
}
