package record

import (
	"errors"
	"path/filepath"
	"time"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/record/hls"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/stream"
)

// MinusOneWindow is how long Huawei's merge window −1 ("append to the previous file") keeps a
// paused file open. Huawei appends within 30 days; a file held open that long stays in the
// spool, so a restart completes it.
const MinusOneWindow = 30 * 24 * time.Hour

// Defaults for the step after the last frame when a resume continues the timeline and a track
// has not shown its frame interval yet.
const (
	defaultVideoStep = 40 * time.Millisecond
	defaultAudioStep = 23 * time.Millisecond
)

// mergeWindow is how long a format keeps its file open after a pause (§6).
func mergeWindow(fc recording.FormatConfig) time.Duration {
	if fc.MergeWindowS < 0 {
		return MinusOneWindow
	}
	return time.Duration(fc.MergeWindowS) * time.Second
}

// writeBatch writes one ingest batch (ReadBatch of media) and hands what it produced to
// write(2) at once: MP4 cuts a fragment, and the spool files' buffers go back to the shared
// pool, so a stream holds no write buffer between batches.
func (r *Recorder) writeBatch(b *stream.Batch) {
	defer b.Release()
	for i := range b.Units {
		if err := r.writeUnit(&b.Units[i]); err != nil {
			r.fail(err)
			return
		}
	}
	r.flush()
}

func (r *Recorder) writeUnit(u *media.Unit) error {
	if r.failed != nil {
		return nil
	}
	r.Metrics.unit(u)
	if r.resuming && !r.idle {
		if !r.resumePoint(u) {
			return nil
		}
		r.resumeAt(u)
	}
	u.DTS += r.offset
	u.PTS += r.offset
	if r.draining {
		if u.DTS <= r.stopAt {
			goto write
		}
		if !u.Track.IsVideo() && r.tracks.Video != nil {
			return nil // audio past the stop waits for video to reach it
		}
		r.endDrain()
	}
	if r.idle {
		r.trackChanged(u)
		return nil
	}
write:
	if u.Track.IsVideo() {
		if r.haveV && u.DTS <= r.lastV {
			return nil // cannot happen within a publication; guards the seam of a resume
		}
		if r.haveV {
			r.stepV = u.DTS - r.lastV
		}
		r.lastV, r.haveV = u.DTS, true
	} else {
		if r.haveA && u.DTS <= r.lastA {
			return nil // audio of the new publication older than the seam
		}
		if r.haveA {
			r.stepA = u.DTS - r.lastA
		}
		r.lastA, r.haveA = u.DTS, true
	}
	if r.trackChanged(u) {
		r.Logger.Info("stream parameters changed, starting new files", "codec", u.Track.Codec,
			"width", u.Track.Width, "height", u.Track.Height)
		r.closeFiles()
	}
	for _, fs := range r.formats {
		if err := fs.write(u); err != nil {
			return err
		}
	}
	return nil
}

// resumePoint tells whether a unit of a resumed publication may continue the recording: the
// first video keyframe (audio-only: the first audio frame). Units before it are dropped, as
// the paused files could not decode them.
func (r *Recorder) resumePoint(u *media.Unit) bool {
	if r.tracks.Video != nil {
		return u.Track.IsVideo() && u.Keyframe
	}
	return !u.Track.IsVideo()
}

// resumeAt continues the timeline at u (§6: FLV and MP4 continue without the gap): u lands one
// frame step after the last frame written, and HLS marks the seam with a discontinuity.
func (r *Recorder) resumeAt(u *media.Unit) {
	r.resuming = false
	next := time.Duration(0)
	if r.haveV {
		next = r.lastV + stepOr(r.stepV, defaultVideoStep)
	}
	if r.haveA {
		next = max(next, r.lastA+stepOr(r.stepA, defaultAudioStep))
	}
	r.offset = next - u.DTS
	r.epoch = r.pubStart.Add(-r.offset)
	for _, fs := range r.formats {
		fs.resume(r.tracks)
	}
	r.Logger.Info("recording resumed", "at", next)
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
func (r *Recorder) trackChanged(u *media.Unit) bool {
	cur := &r.tracks.Audio
	if u.Track.IsVideo() {
		cur = &r.tracks.Video
	}
	if *cur == u.Track {
		return false
	}
	old := *cur
	*cur = u.Track
	if !u.Track.SameParams(old) {
		return true
	}
	for _, fs := range r.formats {
		fs.rebind(old, u.Track)
	}
	return false
}

// tick runs every FlushInterval: plan windows, buffered writes and merge windows.
func (r *Recorder) tick(now time.Time) {
	r.planTick(now)
	r.flush()
	for _, fs := range r.formats {
		if fs.cur != nil && !fs.pausedUntil.IsZero() && !now.Before(fs.pausedUntil) {
			r.Logger.Info("merge window expired, completing files", "format", fs.cfg.Format)
			fs.closeAll()
		}
	}
	if r.paused && !r.hasOpenFiles() {
		r.setPaused(false)
	}
	r.maybeEnd()
}

func (r *Recorder) flush() {
	if r.failed != nil {
		return
	}
	for _, fs := range r.formats {
		if err := fs.flush(); err != nil {
			r.fail(err)
			return
		}
	}
}

func (r *Recorder) setPaused(p bool) {
	if p == r.paused {
		return
	}
	r.paused = p
	if p {
		r.Metrics.pausedBy(1)
	} else {
		r.Metrics.pausedBy(-1)
	}
}

func (r *Recorder) hasOpenFiles() bool {
	for _, fs := range r.formats {
		if fs.cur != nil {
			return true
		}
	}
	return false
}

// pauseFiles pauses the recording (§6): formats with a merge window keep their open file until
// it expires, the others (W = 0) complete theirs at once.
func (r *Recorder) pauseFiles() {
	now := time.Now()
	for _, fs := range r.formats {
		fs.closePrev()
		fs.leadIn = fs.leadIn[:0]
		if fs.cur == nil {
			continue
		}
		w := mergeWindow(fs.cfg)
		if w <= 0 {
			fs.closeAll()
			continue
		}
		fs.pausedUntil = now.Add(w)
	}
	r.flush()
	if r.hasOpenFiles() && !r.paused {
		r.setPaused(true)
		r.Logger.Info("recording paused")
		if r.OnPaused != nil {
			r.OnPaused()
		}
	}
}

// beginResume makes the next cut point continue the paused files.
func (r *Recorder) beginResume() {
	r.resuming = true
	for _, fs := range r.formats {
		fs.pausedUntil = time.Time{}
	}
	if r.paused {
		r.setPaused(false)
		if r.OnResumed != nil {
			r.OnResumed()
		}
	}
}

// publisherLeft handles the end of the attached publication.
func (r *Recorder) publisherLeft(reason error) {
	r.live = false
	r.resolveLate()
	if !r.resolved || r.skip || r.failed != nil || errors.Is(reason, stream.ErrClosed) {
		r.finish()
		return
	}
	switch {
	case r.draining:
		r.endDrain()
	case !r.idle:
		r.pauseFiles()
	}
	r.resuming = false
	r.maybeEnd()
}

// publisherBack handles a publication that resumed the recording.
func (r *Recorder) publisherBack(start time.Time) {
	r.live, r.pubStart = true, start
	if !r.idle && r.hasOpenFiles() {
		r.beginResume()
		return
	}
	// Nothing open to continue: new files start at the next keyframe, on the new timeline.
	r.offset, r.epoch = 0, start
	r.haveV, r.haveA = false, false
}

// maybeEnd ends the recording when no publisher is attached, none is about to resume it, and
// no format holds an open file (§6).
func (r *Recorder) maybeEnd() {
	if r.done || r.live || r.hasOpenFiles() {
		return
	}
	r.mu.Lock()
	if r.resumes > 0 {
		r.mu.Unlock()
		return
	}
	r.over = true
	r.mu.Unlock()
	r.finish()
}

// resolveLate decides with what arrived when the publisher left while media was held back for
// the decision, so a short stream is recorded too.
func (r *Recorder) resolveLate() {
	if r.resolved || len(r.pending) == 0 {
		return
	}
	r.discover()
	r.resolved = true
	if r.resolve(StreamInfo{Tracks: r.tracks, VideoKbps: r.videoKbps()}) {
		r.Metrics.recordingStarted()
		if err := r.writeManifest(); err != nil {
			r.fail(err)
		}
		r.replayPending()
	} else {
		r.skip = true
	}
}

// fail ends the recording after a write error (§6): OnFailed reports it at once, and the open
// files are handed to the Finisher as they are on disk, to be recovered and stored: nothing
// written is deleted.
func (r *Recorder) fail(err error) {
	if r.failed != nil {
		return
	}
	r.failed = err
	r.Logger.Error("recording failed", "err", err)
	r.Metrics.failed()
	r.mu.Lock()
	r.over = true
	r.mu.Unlock()
	for _, fs := range r.formats {
		fs.abandon()
	}
	if r.OnFailed != nil {
		r.OnFailed(err)
	}
}

func (r *Recorder) finish() {
	if r.done {
		return
	}
	r.mu.Lock()
	r.over = true
	r.mu.Unlock()
	r.resolveLate()
	r.done = true
	if !r.resolved || r.skip {
		// The publisher left before a decision, or the stream is not recorded.
		r.releasePending()
		r.endSent = true
		if r.OnEnd != nil {
			r.OnEnd(errNotRecorded)
		}
		return
	}
	var errs []error
	if r.failed == nil {
		for _, fs := range r.formats {
			fs.closeAll()
			if fs.err != nil {
				errs = append(errs, fs.err)
			}
		}
	} else {
		errs = append(errs, r.failed)
	}
	r.setPaused(false)
	r.Metrics.recordingEnded()
	err := errors.Join(errs...)
	// The end job follows every file job of the recording through the Finisher, so its
	// handler runs after each file was stored (§6: "over" only after every file event).
	r.endSent = true
	r.Complete(&Job{Kind: JobEnd, RecordingID: r.RecordingID, SpoolPath: r.dir(), Err: err})
	if r.OnEnd != nil {
		r.OnEnd(err)
	}
}

// dir is the recording's spool directory.
func (r *Recorder) dir() string { return filepath.Join(r.SpoolDir, r.RecordingID) }

// sliceDone is the HLS writer's callback for a completed slice of playlist seq.
func (r *Recorder) sliceDone(fs *formatState, of *openFile, s hls.Slice) {
	start := r.epoch.Add(of.startDTS + s.Start)
	r.Complete(&Job{
		Kind: JobSlice, RecordingID: r.RecordingID, Format: fs.cfg.Format, Seq: s.Seq, PlaylistSeq: of.seq,
		SpoolPath: s.Path, Start: start, End: start.Add(s.Duration), Config: fs.cfg, Storage: r.Rule.Storage,
		Stats: FileStats{Duration: s.Duration, VideoFrames: s.VideoFrames, AudioFrames: s.AudioFrames, Bytes: s.Bytes},
		Vars:  r.vars(fs.cfg.Format, s.Seq, start, start.Add(s.Duration)), Slice: s,
		PlaylistVars: r.vars(fs.cfg.Format, of.seq, of.startWall, time.Time{}),
	})
}

func (r *Recorder) vars(f recording.Format, seq int, start, end time.Time) NameVars {
	return NameVars{Domain: r.Key.Domain, App: r.Key.App, Stream: r.Key.Stream, Format: string(f),
		RecordType: recordType(r.Rule.Mode), Sequence: seq, Start: start, End: end}
}

func recordType(m recording.Mode) string {
	switch m {
	case recording.ModeManual:
		return "COMMAND_RECORD"
	case recording.ModePlan:
		return "PLAN_RECORD"
	case recording.ModeOnDemandHTTP, recording.ModeOnDemandParam:
		return "ON_DEMAND_RECORD"
	}
	return "CONTINUOUS_RECORD"
}
