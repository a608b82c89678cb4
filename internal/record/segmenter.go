package record

import (
	"fmt"
	"time"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/recording"
)

// MinusOneWindow is how long Huawei's merge window −1 ("append to the previous file") keeps a
// paused file open. Huawei appends within 30 days; a file held open that long stays in the
// spool, so a restart completes it.
const MinusOneWindow = 30 * 24 * time.Hour

// MinRestartGap is how long after a stop Huawei refuses a new start ("Record task exist").
const MinRestartGap = 10 * time.Second

// Defaults for the step after the last frame when a resume continues the timeline and a track
// has not shown its frame interval yet.
const (
	defaultVideoStep = 40 * time.Millisecond
	defaultAudioStep = 23 * time.Millisecond
)

// mergeWindow is how long a format keeps its file open after a pause.
func mergeWindow(fc recording.FormatConfig) time.Duration {
	if fc.MergeWindowS < 0 {
		return MinusOneWindow
	}
	return time.Duration(fc.MergeWindowS) * time.Second
}

// Segmenter decides where a recording's files start and end: units in, cut decisions out. It
// cuts every format on keyframes by its cycle, starts new files when the stream's
// parameters change, keeps files open through pauses for their merge windows and continues
// their timeline on a resume, and keeps plan and manual recordings idle outside their
// windows and between commands. It does no I/O, starts no goroutine and reads no clock:
// whoever owns the files passes the time in and applies the decisions, in order.
//
// Each call returns the decisions it made in a slice that is valid until the next call.
type Segmenter struct {
	formats []cutter
	mode    recording.Mode
	// planned: a plan recording, idle outside its windows: the rule's own (StartTime–EndTime)
	// and those of its plan tasks, which SetPlan replaces while it records.
	planned     bool
	ownWindow   *recording.TimeWindow
	taskWindows []recording.TimeWindow
	tracks      media.Tracks
	// offset maps the publication's timestamps onto the recording's, epoch is the wall time of
	// recording time 0, pubStart when the attached publication started.
	offset          time.Duration
	epoch, pubStart time.Time
	lastV, lastA    time.Duration
	stepV, stepA    time.Duration
	haveV, haveA    bool
	// idle: a manual-mode recording waits for a start command, or a plan recording is
	// outside its window; media is dropped.
	idle      bool
	commanded bool // a start command came (manual mode)
	// draining: a stop (command or plan end) ends the open files once every track passed
	// stopAt, so audio and video end together although publishers interleave loosely;
	// drainPause keeps them open for their merge windows (manual stop) instead of completing.
	draining   bool
	drainPause bool
	stopAt     time.Duration
	stoppedAt  time.Time
	// paused: files are held open waiting for the publisher or a start command.
	paused bool
	// resuming: the next cut point (keyframe) continues the paused files' timeline.
	resuming bool
	ops      []Op
}

// File describes a file the Segmenter opened.
type File struct {
	// Seq is the file's number in its format, from 0.
	Seq    int
	Tracks media.Tracks
	// StartDTS is the recording time of the file's first unit; StartWall its wall time.
	StartDTS  time.Duration
	StartWall time.Time
}

// Slot names one of a format's two open files.
type Slot uint8

// Slots.
const (
	// Cur is the file being written.
	Cur Slot = iota
	// Prev is the file the last cut ended: it takes audio older than the cut that arrives
	// after the keyframe that made it.
	Prev
)

// OpKind is what a decision asks for.
type OpKind uint8

// Decisions. Those about a file name it by Format (an index into the rule's formats) and Slot.
const (
	// OpOpen opens File as the Cur file of Format.
	OpOpen OpKind = iota + 1
	// OpWrite writes Unit (recording time) to the file in Slot.
	OpWrite
	// OpShift makes the Cur file the Prev one: a cut, the next file opens next.
	OpShift
	// OpComplete completes the file in Slot.
	OpComplete
	// OpSeam marks where the Cur file continues after a pause, with Tracks (HLS: a
	// discontinuity), at recording time At; Epoch() maps times from At on.
	OpSeam
	// OpFlush hands what every open file buffered to write(2).
	OpFlush
	// OpPaused: the recording paused, keeping files open for their merge windows.
	OpPaused
	// OpResumed: a paused recording resumes into its open files.
	OpResumed
	// OpUnpaused: the recording is no longer paused, its files completed.
	OpUnpaused
	// OpContinued: the resumed publication continues the files' timeline at At.
	OpContinued
	// OpNewParams: Unit brought new stream parameters; the files are cut.
	OpNewParams
	// OpExpired: Format's merge window expired; its files complete.
	OpExpired
)

// Op is one decision.
type Op struct {
	Kind   OpKind
	Slot   Slot
	Format int
	Unit   *media.Unit
	File   File
	Tracks media.Tracks
	At     time.Duration
}

// NewSegmenter returns the Segmenter of a recording by rule with the stream's tracks, whose
// publication started at start; now places a plan recording in or out of its window.
func NewSegmenter(rule *recording.Rule, tracks media.Tracks, start, now time.Time) *Segmenter {
	s := &Segmenter{mode: rule.Mode, tracks: tracks, epoch: start, pubStart: start,
		idle: rule.Mode == recording.ModeManual}
	if rule.Mode == recording.ModePlan {
		if rule.StartTime != nil && rule.EndTime != nil {
			s.ownWindow = &recording.TimeWindow{Start: *rule.StartTime, End: *rule.EndTime}
		}
		s.taskWindows = rule.PlanWindows
		s.planned = s.ownWindow != nil || rule.PlanWindows != nil
	}
	s.planTick(now)
	for _, fc := range rule.Formats {
		s.formats = append(s.formats, cutter{cycle: time.Duration(fc.CycleS) * time.Second, window: mergeWindow(fc)})
	}
	return s
}

// Tracks returns the stream's current tracks.
func (s *Segmenter) Tracks() media.Tracks { return s.tracks }

// Epoch returns the wall time of recording time 0. It moves on a resume by the pause's gap,
// so recording times of files that span a pause map to wall times after it.
func (s *Segmenter) Epoch() time.Time { return s.epoch }

// HasOpenFiles tells whether some format holds an open file.
func (s *Segmenter) HasOpenFiles() bool {
	for i := range s.formats {
		if s.formats[i].cur != nil {
			return true
		}
	}
	return false
}

// Unit decides what unit u of the attached publication goes into; it shifts u's timestamps
// onto the recording's timeline. now is when a stop that u completes pauses the files.
func (s *Segmenter) Unit(u *media.Unit, now time.Time) []Op {
	s.ops = s.ops[:0]
	if s.resuming && !s.idle {
		if !s.resumePoint(u) {
			return s.ops
		}
		s.resumeAt(u)
	}
	u.DTS += s.offset
	u.PTS += s.offset
	if s.draining && u.DTS > s.stopAt {
		if !u.Track.IsVideo() && s.tracks.Video != nil {
			return s.ops // audio past the stop waits for video to reach it
		}
		s.endDrain(now)
	}
	if s.idle && !s.draining { // what a stop has not ended yet is still written
		s.trackChanged(u)
		return s.ops
	}
	if u.Track.IsVideo() {
		if s.haveV && u.DTS <= s.lastV {
			return s.ops // cannot happen within a publication; guards the seam of a resume
		}
		if s.haveV {
			s.stepV = u.DTS - s.lastV
		}
		s.lastV, s.haveV = u.DTS, true
	} else {
		if s.haveA && u.DTS <= s.lastA {
			return s.ops // audio of the new publication older than the seam
		}
		if s.haveA {
			s.stepA = u.DTS - s.lastA
		}
		s.lastA, s.haveA = u.DTS, true
	}
	if s.trackChanged(u) {
		s.emit(Op{Kind: OpNewParams, Unit: u})
		s.closeFiles()
	}
	for i := range s.formats {
		s.cut(i, u)
	}
	return s.ops
}

// Tick keeps a plan recording inside its window and completes the files whose merge window
// expired by now.
func (s *Segmenter) Tick(now time.Time) []Op {
	s.ops = s.ops[:0]
	s.planTick(now)
	for i := range s.formats {
		c := &s.formats[i]
		if c.cur != nil && !c.pausedUntil.IsZero() && !now.Before(c.pausedUntil) {
			s.emit(Op{Kind: OpExpired, Format: i})
			s.closeAll(i)
		}
	}
	if s.paused && !s.HasOpenFiles() {
		s.unpause()
	}
	return s.ops
}

// PublisherLeft pauses the recording at now: formats with a merge window keep their files
// open, a stop under way takes effect.
func (s *Segmenter) PublisherLeft(now time.Time) []Op {
	s.ops = s.ops[:0]
	switch {
	case s.draining:
		s.endDrain(now)
	case !s.idle:
		s.pauseFiles(now)
	}
	s.resuming = false
	return s.ops
}

// PublisherBack attaches a publication that started at start: its first cut point continues
// the paused files, or, with none open, new files start on its own timeline.
func (s *Segmenter) PublisherBack(start time.Time) []Op {
	s.ops = s.ops[:0]
	s.pubStart = start
	if !s.idle && s.HasOpenFiles() {
		s.beginResume()
		return s.ops
	}
	s.offset, s.epoch = 0, start
	s.haveV, s.haveA = false, false
	return s.ops
}

// Command applies a manual-mode record command at now (see Recorder.Command).
func (s *Segmenter) Command(c recording.Command, now time.Time) ([]Op, error) {
	s.ops = s.ops[:0]
	switch c {
	case recording.CommandStart, recording.CommandStartAfterGap:
		if !s.idle {
			return s.ops, recording.ErrCommandState
		}
		if c == recording.CommandStartAfterGap && !s.stoppedAt.IsZero() && now.Sub(s.stoppedAt) < MinRestartGap {
			return s.ops, recording.ErrCommandTooSoon
		}
		s.idle, s.commanded = false, true
		if s.draining {
			s.draining = false // the stop had not taken effect yet: record on without a gap
		} else if s.HasOpenFiles() {
			s.beginResume()
		}
	case recording.CommandStop:
		if s.idle {
			return s.ops, recording.ErrCommandState
		}
		s.stop(true)
		s.idle, s.stoppedAt = true, now
	case recording.CommandRestart:
		s.draining, s.resuming = false, false
		s.closeFiles()
		s.idle, s.commanded = false, true
	case recording.CommandCancelDelay:
		if !s.idle || !s.commanded {
			return s.ops, recording.ErrCommandState
		}
		s.draining = false
		s.closeFiles()
	default:
		return s.ops, fmt.Errorf("unknown command %q", c)
	}
	return s.ops, nil
}

// End completes every open file: the recording ends, and is no longer paused.
func (s *Segmenter) End() []Op {
	s.ops = s.ops[:0]
	for i := range s.formats {
		s.closeAll(i)
	}
	s.unpause()
	return s.ops
}

// Abandon forgets the open files: the recording failed, and they are recovered as they are.
func (s *Segmenter) Abandon() {
	for i := range s.formats {
		s.formats[i].abandon()
	}
}

// Halt stops cutting and writing format i (its files failed); what is open stays until the
// files are completed.
func (s *Segmenter) Halt(i int) { s.formats[i].halted = true }

func (s *Segmenter) emit(op Op) { s.ops = append(s.ops, op) }

// planTick keeps a plan-mode recording inside its windows: idle outside them, with its
// files completed at the end of each. Cuts land on keyframes, so files start at the first
// keyframe in a window.
func (s *Segmenter) planTick(now time.Time) {
	if !s.planned {
		return
	}
	in := s.ownWindow != nil && s.ownWindow.Contains(now)
	for _, w := range s.taskWindows {
		in = in || w.Contains(now)
	}
	if !in && !s.idle {
		s.stop(false)
	}
	s.idle = !in
}

// SetPlan replaces the windows of a plan recording's tasks (a task was added or stopped while
// it records) and applies them at now; false when the recording is not in plan mode.
func (s *Segmenter) SetPlan(windows []recording.TimeWindow, now time.Time) bool {
	if s.mode != recording.ModePlan {
		return false
	}
	s.taskWindows, s.planned = windows, true
	s.planTick(now)
	return true
}

// stop ends the open files at the media time reached so far (see draining); pause keeps them
// open for their merge windows instead of completing them.
func (s *Segmenter) stop(pause bool) {
	s.draining, s.drainPause, s.stopAt = true, pause, max(s.lastV, s.lastA)
	s.resuming = false
}

// endDrain takes effect of a stop once the media before it was written.
func (s *Segmenter) endDrain(now time.Time) {
	s.draining = false
	if s.drainPause {
		s.pauseFiles(now)
		return
	}
	s.closeFiles()
}

// closeFiles completes every open file; the recording is no longer paused.
func (s *Segmenter) closeFiles() {
	for i := range s.formats {
		s.closeAll(i)
	}
	s.unpause()
}

// unpause ends a pause without resuming: its files were completed.
func (s *Segmenter) unpause() {
	if s.paused {
		s.paused = false
		s.emit(Op{Kind: OpUnpaused})
	}
}

// pauseFiles pauses the recording at now: formats with a merge window keep their open
// file until it expires, the others (W = 0) complete theirs at once.
func (s *Segmenter) pauseFiles(now time.Time) {
	for i := range s.formats {
		c := &s.formats[i]
		s.closePrev(i)
		c.leadIn = c.leadIn[:0]
		if c.cur == nil {
			continue
		}
		if c.window <= 0 {
			s.closeAll(i)
			continue
		}
		c.pausedUntil = now.Add(c.window)
	}
	s.emit(Op{Kind: OpFlush})
	if s.HasOpenFiles() && !s.paused {
		s.paused = true
		s.emit(Op{Kind: OpPaused})
	}
}

// beginResume makes the next cut point continue the paused files.
func (s *Segmenter) beginResume() {
	s.resuming = true
	for i := range s.formats {
		s.formats[i].pausedUntil = time.Time{}
	}
	if s.paused {
		s.paused = false
		s.emit(Op{Kind: OpResumed})
	}
}

// resumePoint tells whether a unit of a resumed publication may continue the recording: the
// first video keyframe (audio-only: the first audio frame). Units before it are dropped, as
// the paused files could not decode them.
func (s *Segmenter) resumePoint(u *media.Unit) bool {
	if s.tracks.Video != nil {
		return u.Track.IsVideo() && u.Keyframe
	}
	return !u.Track.IsVideo()
}

// resumeAt continues the timeline at u (FLV and MP4 continue without the gap): u lands one
// frame step after the last frame written, and HLS marks the seam with a discontinuity.
func (s *Segmenter) resumeAt(u *media.Unit) {
	s.resuming = false
	next := time.Duration(0)
	if s.haveV {
		next = s.lastV + stepOr(s.stepV, defaultVideoStep)
	}
	if s.haveA {
		next = max(next, s.lastA+stepOr(s.stepA, defaultAudioStep))
	}
	s.offset = next - u.DTS
	s.epoch = s.pubStart.Add(-s.offset)
	for i := range s.formats {
		c := &s.formats[i]
		c.pausedUntil = time.Time{}
		if c.cur != nil {
			s.emit(Op{Kind: OpSeam, Format: i, Slot: Cur, Tracks: s.tracks, At: next})
		}
	}
	s.emit(Op{Kind: OpContinued, At: next})
}

func stepOr(step, def time.Duration) time.Duration {
	if step <= 0 || step > time.Second {
		return def
	}
	return step
}

// trackChanged updates the tracks when a unit belongs to a track with new parameters (or a
// track that was not there when the files started) and says whether files must be cut. A new
// track with the same parameters (a resumed publication, a repeated sequence header) takes
// the old one's place in the open files.
func (s *Segmenter) trackChanged(u *media.Unit) bool {
	cur := &s.tracks.Audio
	if u.Track.IsVideo() {
		cur = &s.tracks.Video
	}
	if *cur == u.Track {
		return false
	}
	old := *cur
	*cur = u.Track
	if !u.Track.SameParams(old) {
		return true
	}
	for i := range s.formats {
		s.formats[i].rebind(old, u.Track)
	}
	return false
}
