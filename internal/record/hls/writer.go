// Package hls records one cycle of a stream as an HLS media playlist with MPEG-TS slices:
// slices of about Config.SliceDuration cut at keyframes, parameter sets before every keyframe,
// a live playlist rewritten after each slice and a VOD playlist when the cycle ends.
package hls

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/liverec/liverec/internal/bufpool"
	"github.com/liverec/liverec/internal/filemode"
	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/record/sink"
)

// IndexName is the playlist the Writer keeps in Config.Dir.
const IndexName = "index.m3u8"

// ErrNotKeyframe is returned when the first video unit of a cycle, or after Discontinuity, is
// not a keyframe: the slice would not be decodable on its own. The unit is not written.
var ErrNotKeyframe = errors.New("hls: video must start with a keyframe")

// Config configures a Writer.
type Config struct {
	// Dir is the spool directory of this cycle: slices are written as Dir/<seq>.ts.
	Dir string
	// SliceDuration is the target: a slice ends at the first keyframe at or after it
	// (audio-only: the first audio frame).
	SliceDuration time.Duration
	// FirstSequence is the sequence number of the first slice.
	FirstSequence int
	// Continues tells that the playlist goes on after slices written elsewhere (another node,
	// §12): its first slice is marked a discontinuity.
	Continues bool
	// OnSlice is called (synchronously, from WriteUnit/Close) after a slice file is complete,
	// synced and closed, and the live playlist lists it.
	OnSlice func(Slice)
	// FileMode is the mode of the slices and the playlist (storage.file_mode; zero: the
	// default), and with x where it has r, of Dir when it is created.
	FileMode fs.FileMode
}

// Slice describes a completed slice.
type Slice struct {
	Seq      int
	Path     string
	Duration time.Duration
	// Start is the DTS of the slice's first unit, relative to the cycle's start.
	Start         time.Duration
	Bytes         int64
	Discontinuity bool // the slice follows a pause (RFC 8216 §4.3.2.3)
	VideoFrames   int64
	AudioFrames   int64
}

// Stats sums up a cycle.
type Stats struct {
	Duration                 time.Duration
	VideoFrames, AudioFrames int64
	Bytes                    int64
	Slices                   []Slice
}

// Writer writes one cycle. It is not safe for concurrent use: the recorder goroutine that owns
// the stream owns it.
type Writer struct {
	cfg    Config
	tracks media.Tracks
	ts     tsMuxer
	aac    adtsHeader

	file     *sink.File // open slice; nil between slices
	cur      Slice
	done     []Slice
	uris     []string
	playlist []byte

	pendingDisc bool // Discontinuity was called: the next unit starts a marked slice
	needKey     bool // the next video unit must be a keyframe
	lastDTS     [2]time.Duration
	haveDTS     [2]bool
	videoStep   time.Duration // last video DTS step, to estimate when the last frame ends
	pes         []byte        // PES being assembled, in pesBuf
	pesBuf      *bufpool.Buf  // pooled, during WriteUnit
	maxUnit     int           // largest unit so far: what borrowed buffers are sized for
	outBuf      *bufpool.Buf  // holds ts.out, likewise
	err         error         // sticky: a slice or playlist write failed
	closed      bool
}

const (
	trackAudio = 0
	trackVideo = 1
)

// NewWriter prepares a Writer; the first slice file is created by the first unit.
func NewWriter(cfg Config, tracks media.Tracks) (*Writer, error) {
	if cfg.Dir == "" {
		return nil, errors.New("hls: empty spool directory")
	}
	if cfg.SliceDuration <= 0 {
		return nil, fmt.Errorf("hls: slice duration %v is not positive", cfg.SliceDuration)
	}
	if cfg.FirstSequence < 0 {
		return nil, fmt.Errorf("hls: first sequence %d is negative", cfg.FirstSequence)
	}
	w := &Writer{cfg: cfg, pendingDisc: cfg.Continues}
	if err := w.setTracks(tracks); err != nil {
		return nil, err
	}
	if err := filemode.MkdirAll(cfg.Dir, cfg.FileMode); err != nil {
		return nil, fmt.Errorf("hls: create spool dir: %w", err)
	}
	return w, nil
}

// setTracks validates tracks and rebuilds what depends on them.
func (w *Writer) setTracks(tracks media.Tracks) error {
	if tracks.Video == nil && tracks.Audio == nil {
		return errors.New("hls: no track")
	}
	if v := tracks.Video; v != nil {
		if !v.IsVideo() {
			return fmt.Errorf("hls: video track has codec %s", v.Codec)
		}
		if len(v.SPS) == 0 || len(v.PPS) == 0 || (v.Codec == media.CodecH265 && len(v.VPS) == 0) {
			return fmt.Errorf("hls: %s track without parameter sets", v.Codec)
		}
	}
	if a := tracks.Audio; a != nil {
		if a.Codec != media.CodecAAC {
			return fmt.Errorf("hls: audio track has codec %s", a.Codec)
		}
		if err := w.aac.set(a); err != nil {
			return err
		}
	}
	if err := w.ts.setTracks(tracks); err != nil {
		return fmt.Errorf("hls: %w", err)
	}
	w.tracks = tracks
	w.needKey = tracks.Video != nil
	return nil
}

// Discontinuity marks a resume after a pause: the next unit starts a new slice tagged
// EXT-X-DISCONTINUITY. Timestamps keep growing across it. Tracks must keep a codec the
// configuration accepts; a failure surfaces from the next WriteUnit.
func (w *Writer) Discontinuity(tracks media.Tracks) {
	if w.closed || w.err != nil {
		return
	}
	if err := w.setTracks(tracks); err != nil {
		w.err = err
		return
	}
	w.pendingDisc = true
}

// WriteUnit writes one access unit. u.DTS and u.PTS are relative to the cycle's start, >= 0,
// and DTS strictly increases per track. Data is not kept after the call.
func (w *Writer) WriteUnit(u *media.Unit) error {
	// The PES and its TS packets only live during the call: their buffers come from pools
	// shared with the other streams' writers, sized for the largest unit so far so that they
	// do not grow while in use. A stream then keeps nothing between units (a recorder may
	// wait in write(2) mid-batch, and many do at once when the disk is slow).
	w.maxUnit = max(w.maxUnit, len(u.Data))
	w.borrow(w.maxUnit)
	err := w.writeUnit(u)
	w.giveBack()
	return err
}

// borrow takes the PES and TS buffers from the pools.
func (w *Writer) borrow(n int) {
	w.pesBuf, w.outBuf = bufpool.Get(n+pesOverhead), bufpool.Get(tsSize(n+pesOverhead))
	w.pes, w.ts.out = w.pesBuf.B, w.outBuf.B
}

// giveBack returns the buffers borrow took (with what they grew to).
func (w *Writer) giveBack() {
	w.pesBuf.B, w.outBuf.B = w.pes[:0], w.ts.out[:0]
	bufpool.Put(w.pesBuf)
	bufpool.Put(w.outBuf)
	w.pesBuf, w.outBuf, w.pes, w.ts.out = nil, nil, nil, nil
}

// pesOverhead bounds what an access unit gains on its way into a PES: the PES header, our
// access unit delimiter, start codes and, before a keyframe, the parameter sets (typically a
// few dozen bytes; more only grows the buffer).
const pesOverhead = pesHeaderMax + 256

// tsSize is the size of the TS packets carrying a PES of n bytes, with room for the tables
// and a PCR-only packet.
func tsSize(n int) int { return (n/tsPayloadSize + 4) * tsPacketSize }

func (w *Writer) writeUnit(u *media.Unit) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("hls: write after close")
	}
	idx, err := w.check(u)
	if err != nil {
		return err
	}
	video := idx == trackVideo

	// Cut before the unit: at a discontinuity, or at a keyframe (audio frame when the slice
	// holds no video) once the slice is long enough.
	if w.file != nil {
		switch {
		case w.pendingDisc:
			err = w.finishSlice(w.lastEnd())
		case (video && u.Keyframe || !video && w.cur.VideoFrames == 0) &&
			u.DTS-w.cur.Start >= w.cfg.SliceDuration:
			err = w.finishSlice(u.DTS)
		}
		if err != nil {
			return w.fail(err)
		}
	}
	if w.file == nil {
		if err := w.startSlice(u.DTS); err != nil {
			return w.fail(err)
		}
	}

	if video {
		if err := w.writeVideo(u); err != nil {
			return w.fail(err) // check let it pass: the muxer state is unknown
		}
		w.needKey = false
		w.cur.VideoFrames++
		if w.haveDTS[idx] {
			w.videoStep = u.DTS - w.lastDTS[idx]
		}
	} else {
		w.writeAudio(u)
		w.cur.AudioFrames++
	}
	w.lastDTS[idx], w.haveDTS[idx] = u.DTS, true
	if _, err := w.file.Write(w.ts.out); err != nil {
		return w.fail(err)
	}
	return nil
}

// check validates a unit against the tracks and the timeline; a refused unit changes nothing.
func (w *Writer) check(u *media.Unit) (int, error) {
	if u.Track == nil {
		return 0, errors.New("hls: unit without track")
	}
	idx, want := trackAudio, w.tracks.Audio
	if u.Track.IsVideo() {
		idx, want = trackVideo, w.tracks.Video
	}
	if want == nil || want.Codec != u.Track.Codec {
		return 0, fmt.Errorf("hls: %s unit does not match the writer's tracks", u.Track.Codec)
	}
	if u.DTS < 0 || w.haveDTS[idx] && u.DTS <= w.lastDTS[idx] {
		return 0, fmt.Errorf("hls: %s DTS %v not after %v", u.Track.Codec, u.DTS, w.lastDTS[idx])
	}
	if len(u.Data) == 0 {
		return 0, fmt.Errorf("hls: empty %s unit", u.Track.Codec)
	}
	if idx == trackAudio {
		if len(u.Data) > maxADTSPayload {
			return 0, fmt.Errorf("hls: AAC frame of %d bytes exceeds ADTS's %d", len(u.Data), maxADTSPayload)
		}
		if u.Track != w.aac.track {
			if err := w.aac.set(u.Track); err != nil {
				return 0, err
			}
		}
		return idx, nil
	}
	// Scanning first keeps a malformed unit from cutting a slice it will not be written to.
	if _, err := media.ScanAVCC(u.Track.Codec, u.Data); err != nil {
		return 0, fmt.Errorf("hls: %w", err)
	}
	if w.needKey && !u.Keyframe {
		return 0, ErrNotKeyframe
	}
	return idx, nil
}

func (w *Writer) fail(err error) error {
	w.err = err
	return err
}

// startSlice opens the next slice file and writes PAT and PMT at its start.
func (w *Writer) startSlice(start time.Duration) error {
	seq := w.cfg.FirstSequence + len(w.done)
	path := filepath.Join(w.cfg.Dir, strconv.Itoa(seq)+".ts")
	f, err := sink.CreateMode(path, w.cfg.FileMode)
	if err != nil {
		return fmt.Errorf("hls: %w", err)
	}
	w.file = f
	// A pause before the first slice needs no tag: nothing precedes it.
	w.cur = Slice{Seq: seq, Path: path, Start: start, Discontinuity: w.pendingDisc && (len(w.done) > 0 || w.cfg.Continues)}
	w.pendingDisc = false
	w.ts.writeTables()
	return nil
}

// lastEnd estimates when the media written so far ends: the later of the last video frame
// plus the last frame step and the last audio frame plus its duration.
func (w *Writer) lastEnd() time.Duration {
	end := w.cur.Start
	if w.haveDTS[trackVideo] {
		end = max(end, w.lastDTS[trackVideo]+w.videoStep)
	}
	if w.haveDTS[trackAudio] {
		end = max(end, w.lastDTS[trackAudio]+w.aac.frameDur)
	}
	return end
}

// finishSlice completes the open slice ending at end: sync, close, live playlist, OnSlice.
func (w *Writer) finishSlice(end time.Duration) error {
	f := w.file
	w.file = nil
	w.cur.Duration = end - w.cur.Start
	w.cur.Bytes = f.Size()
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("hls: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("hls: %w", err)
	}
	w.done = append(w.done, w.cur)
	w.uris = append(w.uris, filepath.Base(w.cur.Path))
	if err := w.writeIndex(false); err != nil {
		return err
	}
	if w.cfg.OnSlice != nil {
		w.cfg.OnSlice(w.cur)
	}
	return nil
}

// writeIndex replaces Dir/index.m3u8 atomically (temp file + rename), so crash recovery
// finds either the old or the new list. The final one is fsynced.
func (w *Writer) writeIndex(ended bool) error {
	w.playlist = appendPlaylist(w.playlist[:0], w.done, w.uris, ended)
	path := filepath.Join(w.cfg.Dir, IndexName)
	tmp := path + ".tmp"
	f, err := filemode.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, w.cfg.FileMode)
	if err != nil {
		return fmt.Errorf("hls: write playlist: %w", err)
	}
	_, err = f.Write(w.playlist)
	if err == nil && ended {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("hls: write playlist: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("hls: write playlist: %w", err)
	}
	return nil
}

// Flush hands the buffered bytes of the open slice to write(2).
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.file == nil {
		return nil
	}
	if err := w.file.Flush(); err != nil {
		return w.fail(fmt.Errorf("hls: %w", err))
	}
	return nil
}

// Close completes the last slice (OnSlice is called) and writes Dir/index.m3u8 with
// EXT-X-ENDLIST. After a write error it still closes the open file and writes the playlist of
// the completed slices, and returns the error.
func (w *Writer) Close() (Stats, error) {
	if w.closed {
		return Stats{}, errors.New("hls: close after close")
	}
	w.closed = true
	err := w.err
	if w.file != nil {
		if err == nil {
			err = w.finishSlice(w.lastEnd())
		} else {
			_ = w.file.Close() // the broken slice is left out of the playlist
			w.file = nil
		}
	}
	err = errors.Join(err, w.writeIndex(true))
	st := Stats{Slices: w.done}
	for _, s := range w.done {
		st.Duration += s.Duration
		st.VideoFrames += s.VideoFrames
		st.AudioFrames += s.AudioFrames
		st.Bytes += s.Bytes
	}
	return st, err
}

// writeVideo muxes a video access unit as Annex B (ISO 14496-10 Annex B, ISO 23008-2
// Annex B): an access unit delimiter, the parameter sets before a keyframe (the unit has
// none, and each slice must decode alone), then the unit's NAL units.
func (w *Writer) writeVideo(u *media.Unit) error {
	t := u.Track
	h265 := t.Codec == media.CodecH265
	w.pes = append(w.pes[:0], make([]byte, pesHeaderMax)...)
	b := w.pes
	if h265 {
		b = append(b, 0, 0, 0, 1, 35<<1, 1, 0x50) // AUD_NUT, pic_type 2: I, P and B slices
	} else {
		b = append(b, 0, 0, 0, 1, 9, 0xf0) // AUD, primary_pic_type 7: any slice type
	}
	if u.Keyframe {
		if h265 {
			b = appendNALU(b, t.VPS)
		}
		b = appendNALU(b, t.SPS)
		b = appendNALU(b, t.PPS)
	}
	d := u.Data
	if len(d) > media.MaxAccessUnitSize {
		return fmt.Errorf("hls: %w: %d bytes", media.ErrMalformedAU, len(d))
	}
	for len(d) > 0 {
		if len(d) < 4 {
			return fmt.Errorf("hls: %w: truncated length", media.ErrMalformedAU)
		}
		n := binary.BigEndian.Uint32(d)
		if n == 0 || uint64(n) > uint64(len(d)-4) {
			return fmt.Errorf("hls: %w: NAL length %d", media.ErrMalformedAU, n)
		}
		nalu := d[4 : 4+n]
		d = d[4+n:]
		if isAUD(h265, nalu[0]) {
			continue // ours comes first, where it must be
		}
		b = appendNALU(b, nalu)
	}
	w.pes = b

	pts := media.ToTimescale(u.PTS, tsClock)
	dts := media.ToTimescale(u.DTS, tsClock)
	if u.PTS < u.DTS {
		pts = dts
	}
	start := putPESHeader(b, streamIDVideo, pts, dts, pts != dts, len(b)-pesHeaderMax)
	w.ts.writePES(&w.ts.video, b[start:], u.Keyframe, dts)
	return nil
}

func appendNALU(b, nalu []byte) []byte {
	return append(append(b, 0, 0, 0, 1), nalu...)
}

func isAUD(h265 bool, header byte) bool {
	if h265 {
		return (header>>1)&0x3f == 35
	}
	return header&0x1f == 9
}

// writeAudio muxes one AAC frame (checked by check) as one ADTS frame in its own PES.
func (w *Writer) writeAudio(u *media.Unit) {
	w.pes = append(w.pes[:0], make([]byte, pesHeaderMax)...)
	w.pes = w.aac.appendFrame(w.pes, u.Data)
	b := w.pes
	pts := media.ToTimescale(u.DTS, tsClock)
	start := putPESHeader(b, streamIDAudio, pts, pts, false, len(b)-pesHeaderMax)
	w.ts.writePES(&w.ts.audio, b[start:], true, pts)
}
