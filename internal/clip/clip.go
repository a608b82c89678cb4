package clip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/record/mp4"
	"github.com/liverec/liverec/internal/record/sink"
	"github.com/liverec/liverec/internal/recording"
)

// Input limits of a clip. 21,600 slices are 12 h of 2 s slices; a slice is seconds of media,
// so a GiB is far beyond any real one (what is read of a slice is held while it is cut).
const (
	DefaultMaxClipSlices = 21_600
	DefaultMaxSliceBytes = 1 << 30
)

// maxJump is how far a slice's first timestamp may be from where the previous slice's media
// ends before the two are taken as a break even when nothing marks one.
const maxJump = 2 * time.Second

// Errors a caller may tell apart.
var (
	// ErrNoMedia: the slices hold no media in the range.
	ErrNoMedia = errors.New("clip: no media in range")
	// ErrSliceTooLarge: a slice is larger than MaxSliceBytes.
	ErrSliceTooLarge = errors.New("clip: slice too large")
	// ErrTracksChanged: the range spans media with other codecs or codec parameters, which
	// one MP4 cannot hold without transcoding.
	ErrTracksChanged = errors.New("clip: tracks change inside the range")
)

// Opener opens a stored slice for reading.
type Opener interface {
	Open(ctx context.Context, s recording.Slice) (io.ReadCloser, error)
}

// Stats describes a written clip.
type Stats struct {
	// Duration is the clip's length on its timeline (the longest track).
	Duration    time.Duration
	VideoFrames int64
	AudioFrames int64
	// Bytes is the size of the MP4.
	Bytes int64
	// Width and Height are the video's coded size; 0 without video.
	Width, Height int
	// FirstAt and LastAt are the wall times of the first and the last unit in the clip.
	FirstAt, LastAt time.Time
	// Slices is the number of slices read.
	Slices int
}

// Clipper exports time ranges of stored HLS slices as MP4 files. The zero value uses the
// default limits.
type Clipper struct {
	// MaxSlices bounds the slices one clip reads; 0 means DefaultMaxClipSlices.
	MaxSlices int
	// MaxSliceBytes bounds what is read of one slice; 0 means DefaultMaxSliceBytes.
	MaxSliceBytes int64
}

// Clip exports [from, to) of slices with the default limits; see Clipper.Clip.
func Clip(ctx context.Context, open Opener, slices []recording.Slice, from, to time.Time, dst string) (Stats, error) {
	var c Clipper
	return c.Clip(ctx, open, slices, from, to, dst)
}

// Clip reads slices in order (as Select returns them) and writes the media of [from, to) to
// dst as one MP4 with moov first, without transcoding and cut on keyframes: it starts at the
// last video keyframe at or before from (audio from the same point) and stops before the
// first keyframe at or after to, so it covers the range and at most a GOP more at each end.
// Timestamps continue across the slices of one recording; across a break (a pause, a gap,
// another recording) the clip continues one frame after what came before, so wall-time gaps
// are compressed, not left as holes. dst is replaced atomically (a temporary file next to it,
// fsynced and renamed); nothing is left at dst on error.
func (c *Clipper) Clip(ctx context.Context, open Opener, slices []recording.Slice, from, to time.Time, dst string) (Stats, error) {
	maxSlices, maxBytes := c.MaxSlices, c.MaxSliceBytes
	if maxSlices <= 0 {
		maxSlices = DefaultMaxClipSlices
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxSliceBytes
	}
	switch {
	case open == nil:
		return Stats{}, errors.New("clip: no opener")
	case !to.After(from):
		return Stats{}, fmt.Errorf("clip: empty range %v to %v", from, to)
	case len(slices) == 0:
		return Stats{}, ErrNoSlices
	case len(slices) > maxSlices:
		return Stats{}, fmt.Errorf("clip: %d slices exceed the limit of %d", len(slices), maxSlices)
	case dst == "":
		return Stats{}, errors.New("clip: no destination")
	}
	for i := range slices {
		if err := checkSlice(&slices[i]); err != nil {
			return Stats{}, err
		}
	}

	fragPath, err := tempPath(dst)
	if err != nil {
		return Stats{}, err
	}
	defer os.Remove(fragPath)
	cut := &cutter{from: from, to: to, fragPath: fragPath}
	defer cut.abort()
	var uw unwrapper
	for i := range slices {
		if err := ctx.Err(); err != nil {
			return Stats{}, fmt.Errorf("clip: %w", err)
		}
		s := &slices[i]
		m, err := readSlice(ctx, open, s, maxBytes, &uw)
		if err != nil {
			return Stats{}, err
		}
		cut.stats.Slices++
		brk := i == 0 || breaks(&slices[i-1], s)
		if err := cut.slice(s, m, brk); errors.Is(err, ErrNoMedia) {
			return Stats{}, err
		} else if err != nil {
			return Stats{}, fmt.Errorf("clip: slice %s: %w", s.ObjectKey, err)
		}
		if cut.done {
			break
		}
	}
	return cut.finish(dst, slices[len(slices)-1].End())
}

// tempPath names the fragmented spool file next to dst, so the finished MP4 is renamed on
// the same file system.
func tempPath(dst string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".frag*")
	if err != nil {
		return "", fmt.Errorf("clip: create spool file: %w", err)
	}
	name := f.Name()
	f.Close()
	return name, nil
}

// readSlice opens, reads and demuxes one slice, within the byte limit.
func readSlice(ctx context.Context, open Opener, s *recording.Slice, maxBytes int64, uw *unwrapper) (*sliceMedia, error) {
	rc, err := open.Open(ctx, *s)
	if err != nil {
		return nil, fmt.Errorf("clip: open slice %s: %w", s.ObjectKey, err)
	}
	defer rc.Close()
	lr := &limitReader{r: rc, left: maxBytes}
	m, err := demuxSlice(lr, uw)
	switch {
	case err != nil:
	case lr.read%tsPacketSize != 0:
		// The demuxer drops a partial last packet without a word.
		err = fmt.Errorf("%d bytes end inside a %d-byte packet", lr.read, tsPacketSize)
	case s.Bytes > 0 && lr.read != s.Bytes:
		// A slice cut on a packet boundary demuxes cleanly: only its size tells.
		err = fmt.Errorf("read %d bytes of a %d-byte slice", lr.read, s.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("clip: slice %s: %w", s.ObjectKey, err)
	}
	return m, nil
}

// limitReader fails a read past its limit, rather than ending the input like io.LimitReader,
// so a slice that is too large is an error and not a truncated slice.
type limitReader struct {
	r    io.Reader
	left int64
	read int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells a slice of exactly the limit from a larger one.
		var one [1]byte
		if n, _ := io.ReadFull(l.r, one[:]); n > 0 {
			return 0, ErrSliceTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	l.read += int64(n)
	return n, err
}

// cutter follows the units of the slices in order, finds the cut points and writes what lies
// between them.
type cutter struct {
	from, to time.Time
	fragPath string

	tracks   media.Tracks // of the clip, from the slice of the start keyframe
	keyVideo bool         // cut points are video keyframes (else audio frames)
	pending  []cunit      // from the last keyframe at or before from, until from is reached
	keyed    bool         // a keyframe was seen: pending starts at one
	started  bool
	done     bool

	// Timeline: out = in + offset (90 kHz); offset changes at each break.
	offset  int64
	lastIn  [2]int64 // last input DTS per track (0 audio, 1 video)
	lastOut [2]int64 // last output DTS per track
	step    [2]int64 // last DTS step per track
	have    [2]bool
	origin  int64 // output DTS of the clip's first unit

	f     *sink.File
	w     *mp4.Writer
	stats Stats
}

// cunit is a unit placed on the clip's timeline.
type cunit struct {
	unit
	track *media.Track
	wall  time.Time
}

func trackIdx(video bool) int {
	if video {
		return 1
	}
	return 0
}

// slice places a slice's units on the timeline and feeds them to the cut.
func (c *cutter) slice(s *recording.Slice, m *sliceMedia, brk bool) error {
	base := m.base()
	if !brk && c.haveAny() {
		// Unmarked jumps (a lost slice, a restarted clock) are breaks too.
		next := c.nextIn()
		if d := base - next; d > media.ToTimescale(maxJump, tsClock) || -d > media.ToTimescale(maxJump, tsClock) {
			brk = true
		}
	}
	if brk {
		c.offset = c.nextOut() - base
	}
	for i := range m.units {
		u := &m.units[i]
		k := trackIdx(u.video)
		out := u.dts + c.offset
		if c.have[k] {
			if out <= c.lastOut[k] {
				out = c.lastOut[k] + tsClock/1000 // keep DTS increasing, as media.Cleaner does
			}
			c.step[k] = out - c.lastOut[k]
		}
		c.lastIn[k], c.lastOut[k], c.have[k] = u.dts, out, true
		cu := cunit{unit: *u, wall: s.StartedAt.Add(media.FromTimescale(u.dts-base, tsClock))}
		cu.pts = out + (u.pts - u.dts)
		cu.dts = out
		cu.track = m.tracks.Audio
		if u.video {
			cu.track = m.tracks.Video
		}
		if err := c.unit(&cu, m.tracks); err != nil {
			return err
		}
		if c.done {
			return nil
		}
	}
	return nil
}

func (c *cutter) haveAny() bool { return c.have[0] || c.have[1] }

// nextIn is where the media read so far ends on the input timeline: one frame after the last
// unit of the track that ends last.
func (c *cutter) nextIn() int64 {
	var end int64
	for k := range c.have {
		if c.have[k] {
			end = max(end, c.lastIn[k]+c.frameStep(k))
		}
	}
	return end
}

// nextOut is the same on the output timeline: where media continues after a break.
func (c *cutter) nextOut() int64 {
	var end int64
	for k := range c.have {
		if c.have[k] {
			end = max(end, c.lastOut[k]+c.frameStep(k))
		}
	}
	return end
}

// frameStep is the last DTS step of a track, or one frame at 30 fps before there is one.
func (c *cutter) frameStep(k int) int64 {
	if c.step[k] > 0 {
		return c.step[k]
	}
	return tsClock / 30
}

// unit runs the cut: before the start it keeps the units since the last keyframe at or
// before from; once from is reached they and what follows are written, until a keyframe at
// or after to.
func (c *cutter) unit(u *cunit, tracks media.Tracks) error {
	if !c.started {
		if c.keyed && c.sameTracks(tracks) != nil {
			// Nothing is written yet: media before a change of tracks just cannot lead in.
			c.pending, c.keyed = c.pending[:0], false
		}
		isKey := u.key && (u.video || tracks.Video == nil)
		if isKey && (!c.keyed || !u.wall.After(c.from)) {
			c.pending, c.keyed = c.pending[:0], true
			c.tracks, c.keyVideo = tracks, tracks.Video != nil
		}
		if !c.keyed {
			return nil // before the first keyframe
		}
		c.pending = append(c.pending, *u)
		if u.wall.Before(c.from) {
			return nil
		}
		if !c.pending[0].wall.Before(c.to) {
			return ErrNoMedia // the first keyframe is past the range
		}
		return c.start()
	}
	if u.key && u.video == c.keyVideo && !u.wall.Before(c.to) {
		c.done = true
		return nil
	}
	if err := c.sameTracks(tracks); err != nil {
		return err
	}
	return c.write(u)
}

// sameTracks checks that a slice's tracks are the clip's: an MP4 holds one set of parameters.
func (c *cutter) sameTracks(t media.Tracks) error {
	if !fits(t.Video, c.tracks.Video) || !fits(t.Audio, c.tracks.Audio) {
		return ErrTracksChanged
	}
	return nil
}

// fits tells whether units of a slice's track can go to the clip's track: a slice may lack a
// track, but not bring one the clip lacks or one with other parameters.
func fits(t, clip *media.Track) bool { return t == nil || clip != nil && t.SameParams(clip) }

// start opens the MP4 and writes the units kept since the start keyframe.
func (c *cutter) start() error {
	f, err := sink.Create(c.fragPath)
	if err != nil {
		return err
	}
	c.f = f
	c.w, err = mp4.NewWriter(f, c.tracks)
	if err != nil {
		return err
	}
	c.started = true
	c.origin = c.pending[0].dts
	c.stats.FirstAt = c.pending[0].wall
	if v := c.tracks.Video; v != nil {
		c.stats.Width, c.stats.Height = v.Width, v.Height
	}
	for i := range c.pending {
		if err := c.write(&c.pending[i]); err != nil {
			return err
		}
	}
	c.pending = nil
	return nil
}

func (c *cutter) write(u *cunit) error {
	if u.dts < c.origin {
		return nil // audio from before the start keyframe
	}
	mu := media.Unit{
		Track:    u.track,
		DTS:      media.FromTimescale(u.dts-c.origin, tsClock),
		PTS:      media.FromTimescale(u.pts-c.origin, tsClock),
		Keyframe: u.key,
		Data:     u.data,
	}
	if err := c.w.WriteUnit(&mu); err != nil {
		return err
	}
	c.stats.LastAt = u.wall
	return nil
}

// finish writes the MP4 to dst. end is where the slices end in wall time: when from lies
// in the last frames the clip is the last GOP, past it there is nothing to clip.
func (c *cutter) finish(dst string, end time.Time) (Stats, error) {
	if !c.started {
		if len(c.pending) == 0 || !end.After(c.from) {
			return Stats{}, ErrNoMedia
		}
		if err := c.start(); err != nil {
			return Stats{}, fmt.Errorf("clip: %w", err)
		}
	}
	_, err := c.w.Close()
	c.w = nil
	if err == nil {
		err = c.f.Close()
	}
	c.f = nil
	if err != nil {
		return Stats{}, fmt.Errorf("clip: write %s: %w", c.fragPath, err)
	}
	st, err := mp4.Finalize(c.fragPath, dst)
	if err != nil {
		return Stats{}, fmt.Errorf("clip: %w", err)
	}
	c.stats.Duration, c.stats.VideoFrames, c.stats.AudioFrames, c.stats.Bytes =
		st.Duration, st.VideoFrames, st.AudioFrames, st.Bytes
	return c.stats, nil
}

// abort releases what an unfinished clip holds.
func (c *cutter) abort() {
	if c.w != nil {
		c.w.Close()
	}
	if c.f != nil {
		c.f.Close()
	}
}
