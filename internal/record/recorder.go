// Package record turns a publication's media into recorded files: one Recorder per recorded
// stream cuts every format into keyframe-aligned files by its cycle (§4), and a Finisher moves
// completed files from the spool into their bucket.
package record

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/record/hls"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/stream"
)

// errNotRecorded is passed to OnEnd when Resolve decided not to record.
var errNotRecorded = errors.New("not recorded")

// IsNotRecorded tells whether an OnEnd error means the stream was not recorded at all.
func IsNotRecorded(err error) bool { return errors.Is(err, errNotRecorded) }

// Recorder records one publication according to a rule. It implements stream.Sink: ingest
// hands it batches without ever blocking, and a single goroutine (Run) owns all its state.
type Recorder struct {
	// RecordingID names the recording; its spool files live in SpoolDir/RecordingID.
	RecordingID string
	// Rule is the snapshot of the rule the recording started with (§3: later changes don't apply).
	Rule recording.Rule
	// Resolve, when set, decides on the recorder's goroutine whether and how to record (rule
	// lookup, on-demand decision) once the stream's tracks are known; media is held back from
	// the first keyframe meanwhile (§5). It returns the rule to record with, or nil.
	Resolve func(StreamInfo) (*recording.Rule, error)
	// BitrateWindow is how much video is held back to measure the bitrate when the publisher's
	// metadata gives none (§5: vbitrate). Default 2 s.
	BitrateWindow time.Duration
	// OnFileStarted is called (on the recorder's goroutine) when a file (HLS: a playlist) starts.
	OnFileStarted func(FileStarted)
	// Key and StartWall describe the stream and when its recording started.
	Key       stream.Key
	StartWall time.Time
	// SpoolDir is the root of the spool.
	SpoolDir string
	// FlushInterval is how often buffered media is handed to write(2). Default 1 s.
	FlushInterval time.Duration
	// QueueLen is how many batches may wait for the recorder before new ones are dropped.
	// Default 512 (about 10 s of media with 20 ms ingest batches).
	QueueLen int
	// DiscoveryWindow is how much media is held back at the start to learn the stream's
	// tracks before the first files are opened. Default 1 s.
	DiscoveryWindow time.Duration
	// Complete receives every completed file, slice and playlist. It is called from the
	// recorder's goroutine and must not block for long (the Finisher queues).
	Complete func(*Job)
	// OnEnd is called once when the recorder has closed every file and stopped.
	OnEnd   func(err error)
	Logger  *slog.Logger
	Metrics *Metrics

	mu      sync.Mutex
	ch      chan *stream.Batch
	cmds    chan command
	ended   bool
	started bool

	tracks     media.Tracks
	discovered bool
	resolved   bool
	// idle: a manual-mode recording waits for a start command (§5); media is dropped.
	idle      bool
	commanded bool // a start command came (manual mode)
	// draining: a stop (command or plan end) completes the files once every track passed
	// stopAt, so audio and video end together although publishers interleave loosely.
	draining     bool
	stopAt       time.Duration
	lastV, lastA time.Duration
	stoppedAt    time.Time
	skip         bool // Resolve decided not to record: batches are dropped until the end
	metaKbps     atomic.Int64
	pending      []*stream.Batch
	formats      []*formatState
	failed       error
}

// Start starts the recorder's goroutine.
func (r *Recorder) Start() {
	if r.FlushInterval <= 0 {
		r.FlushInterval = time.Second
	}
	if r.QueueLen <= 0 {
		r.QueueLen = 512
	}
	if r.DiscoveryWindow <= 0 {
		r.DiscoveryWindow = time.Second
	}
	if r.BitrateWindow <= 0 {
		r.BitrateWindow = 2 * time.Second
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.Complete == nil {
		r.Complete = func(*Job) {}
	}
	r.ch = make(chan *stream.Batch, r.QueueLen)
	r.cmds = make(chan command)
	r.mu.Lock()
	r.started = true
	r.mu.Unlock()
	go r.run()
}

// StreamInfo is what Resolve knows about the stream.
type StreamInfo struct {
	Tracks media.Tracks
	// VideoKbps is the publisher's videodatarate, else measured over BitrateWindow, else 0.
	VideoKbps int
}

// FileStarted describes a file that started.
type FileStarted struct {
	Format recording.Format
	Seq    int
	Start  time.Time
	Tracks media.Tracks
}

// resolve decides the rule and builds the format states; false means nothing is recorded.
func (r *Recorder) resolve(info StreamInfo) bool {
	if r.Resolve != nil {
		rule, err := r.Resolve(info)
		if err != nil {
			r.Logger.Error("deciding how to record failed", "err", err)
			return false
		}
		if rule == nil {
			return false
		}
		r.Rule = *rule
	}
	r.idle = r.Rule.Mode == recording.ModeManual
	r.planTick(time.Now())
	dir := filepath.Join(r.SpoolDir, r.RecordingID)
	for _, fc := range r.Rule.Formats {
		r.formats = append(r.formats, &formatState{rec: r, cfg: fc, dir: dir,
			cycle: time.Duration(fc.CycleS) * time.Second})
	}
	return len(r.formats) > 0
}

// WriteBatch implements stream.Sink.
func (r *Recorder) WriteBatch(b *stream.Batch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended || !r.started {
		b.Release()
		return
	}
	select {
	case r.ch <- b:
	default:
		r.Metrics.dropped(len(b.Units))
		r.Logger.Warn("recorder queue full, media dropped", "units", len(b.Units))
		b.Release()
	}
}

// SetMetadata implements stream.Sink: it keeps the publisher's video bitrate for Resolve.
func (r *Recorder) SetMetadata(videoKbps float64) { r.metaKbps.Store(int64(videoKbps)) }

// End implements stream.Sink: the recorder completes its files and stops.
func (r *Recorder) End(reason error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended || !r.started {
		r.ended = true
		return
	}
	r.ended = true
	close(r.ch)
}

func (r *Recorder) run() {
	t := time.NewTicker(r.FlushInterval)
	defer t.Stop()
	for {
		select {
		case b, ok := <-r.ch:
			if !ok {
				r.finish()
				return
			}
			r.handle(b)
		case now := <-t.C:
			r.planTick(now)
			r.flush()
		case c := <-r.cmds:
			c.reply <- r.command(c.project, c.c)
		}
	}
}

type command struct {
	c       recording.Command
	project string
	reply   chan error
}

// MinRestartGap is how long after a stop Huawei refuses a new start ("Record task exist").
const MinRestartGap = 10 * time.Second

// Command applies a manual-mode record command (§5) on the recorder's goroutine: start
// records from the next keyframe; stop completes the open files and waits for a new start;
// restart completes them and records on; cancel_delay is accepted after a stop (files are
// completed at once, so there is no delay left to cancel).
// Only a recording of the given project takes commands.
func (r *Recorder) Command(ctx context.Context, project string, c recording.Command) error {
	reply := make(chan error, 1)
	select {
	case r.cmds <- command{c: c, project: project, reply: reply}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Recorder) command(project string, c recording.Command) error {
	if !r.resolved || r.skip || r.failed != nil || r.Rule.Mode != recording.ModeManual || r.Rule.Project != project {
		return recording.ErrNotLive
	}
	switch c {
	case recording.CommandStart, recording.CommandStartAfterGap:
		if !r.idle {
			return recording.ErrCommandState
		}
		if c == recording.CommandStartAfterGap && !r.stoppedAt.IsZero() && time.Since(r.stoppedAt) < MinRestartGap {
			return recording.ErrCommandTooSoon
		}
		if r.draining {
			r.closeFiles()
			r.draining = false
		}
		r.idle, r.commanded = false, true
	case recording.CommandStop:
		if r.idle {
			return recording.ErrCommandState
		}
		r.stop()
		r.idle, r.stoppedAt = true, time.Now()
	case recording.CommandRestart:
		if !r.idle || r.draining {
			r.closeFiles()
			r.draining = false
		}
		r.idle, r.commanded = false, true
	case recording.CommandCancelDelay:
		if !r.idle || !r.commanded {
			return recording.ErrCommandState
		}
	default:
		return fmt.Errorf("unknown command %q", c)
	}
	r.Logger.Info("record command", "command", c)
	return nil
}

// planTick keeps a plan-mode recording inside its window (§5): idle before StartTime, and
// from EndTime on, with its files completed at the end. Cuts land on keyframes, so files
// start at the first keyframe in the window.
func (r *Recorder) planTick(now time.Time) {
	if r.Rule.Mode != recording.ModePlan || r.Rule.StartTime == nil || r.Rule.EndTime == nil || !r.resolved && r.formats == nil {
		return
	}
	in := !now.Before(*r.Rule.StartTime) && now.Before(*r.Rule.EndTime)
	if !in && !r.idle {
		r.stop()
	}
	r.idle = !in
}

// stop ends the open files at the media time reached so far (see draining).
func (r *Recorder) stop() {
	r.draining, r.stopAt = true, max(r.lastV, r.lastA)
}

func (r *Recorder) closeFiles() {
	for _, fs := range r.formats {
		fs.closeAll()
	}
}

func (r *Recorder) handle(b *stream.Batch) {
	if r.failed != nil || r.skip {
		b.Release()
		return
	}
	if !r.resolved {
		r.pending = append(r.pending, b)
		if !r.discover() {
			return
		}
		r.resolved = true
		if !r.resolve(StreamInfo{Tracks: r.tracks, VideoKbps: r.videoKbps()}) {
			r.skip = true
			r.releasePending()
			return
		}
		r.Metrics.recordingStarted()
		r.replayPending()
		return
	}
	r.writeBatch(b)
}

// videoKbps is the publisher's stated video bitrate, else the one of the held-back video.
func (r *Recorder) videoKbps() int {
	if k := r.metaKbps.Load(); k > 0 {
		return int(k)
	}
	var bytes int64
	var first, last time.Duration
	n := 0
	for _, b := range r.pending {
		for i := range b.Units {
			u := &b.Units[i]
			if !u.Track.IsVideo() {
				continue
			}
			if n == 0 {
				first = u.DTS
			}
			last = u.DTS
			bytes += int64(len(u.Data))
			n++
		}
	}
	if n < 2 || last <= first {
		return 0
	}
	return int(bytes * 8 * int64(time.Second) / int64(last-first) / 1000)
}

func (r *Recorder) releasePending() {
	for _, b := range r.pending {
		b.Release()
	}
	r.pending = nil
}

// replayPending writes the units held back during discovery in DTS order, so that audio sent
// just after the first keyframe but older than it still lands in the first file. The sort is
// stable, so each track keeps its order.
func (r *Recorder) replayPending() {
	var units []*media.Unit
	for _, b := range r.pending {
		for i := range b.Units {
			units = append(units, &b.Units[i])
		}
	}
	sort.SliceStable(units, func(i, j int) bool { return units[i].DTS < units[j].DTS })
	for _, u := range units {
		if err := r.writeUnit(u); err != nil {
			r.fail(err)
			break
		}
	}
	for _, b := range r.pending {
		b.Release()
	}
	r.pending = nil
}

// discover learns the tracks from the held-back batches: done when both a video and an audio
// track were seen, or when DiscoveryWindow of media passed.
func (r *Recorder) discover() bool {
	var first, last time.Duration
	n := 0
	for _, b := range r.pending {
		for i := range b.Units {
			u := &b.Units[i]
			if u.Track.IsVideo() {
				if r.tracks.Video == nil {
					r.tracks.Video = u.Track
				}
			} else if r.tracks.Audio == nil {
				r.tracks.Audio = u.Track
			}
			if n == 0 {
				first = u.DTS
			}
			last = u.DTS
			n++
		}
	}
	if (r.tracks.Video != nil && r.tracks.Audio != nil) || last-first >= r.DiscoveryWindow {
		r.discovered = true
	}
	// Without a stated bitrate, hold video back long enough to measure it (§5 vbitrate).
	if r.discovered && r.tracks.Video != nil && r.metaKbps.Load() == 0 && last-first < r.BitrateWindow {
		return false
	}
	return r.discovered
}

func (r *Recorder) writeBatch(b *stream.Batch) {
	defer b.Release()
	for i := range b.Units {
		if err := r.writeUnit(&b.Units[i]); err != nil {
			r.fail(err)
			return
		}
	}
}

func (r *Recorder) writeUnit(u *media.Unit) error {
	if r.failed != nil {
		return nil
	}
	r.Metrics.unit(u)
	if r.draining {
		if u.DTS <= r.stopAt {
			goto write
		}
		if !u.Track.IsVideo() && r.tracks.Video != nil {
			return nil // audio past the stop waits for video to reach it
		}
		r.closeFiles()
		r.draining = false
	}
	if r.idle {
		r.trackChanged(u)
		return nil
	}
write:
	if u.Track.IsVideo() {
		r.lastV = u.DTS
	} else {
		r.lastA = u.DTS
	}
	if r.trackChanged(u) {
		r.Logger.Info("stream parameters changed, starting new files", "codec", u.Track.Codec,
			"width", u.Track.Width, "height", u.Track.Height)
		for _, fs := range r.formats {
			fs.closeAll()
		}
	}
	for _, fs := range r.formats {
		if err := fs.write(u); err != nil {
			return err
		}
	}
	return nil
}

// trackChanged updates the tracks when a unit belongs to a track with new parameters (or a
// track that was not there when the files started) and says whether files must be cut.
func (r *Recorder) trackChanged(u *media.Unit) bool {
	cur := &r.tracks.Audio
	if u.Track.IsVideo() {
		cur = &r.tracks.Video
	}
	if *cur == u.Track {
		return false
	}
	changed := !u.Track.SameParams(*cur)
	*cur = u.Track
	return changed
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

// fail stops recording after a write error; what was written stays in the spool (§6).
func (r *Recorder) fail(err error) {
	r.failed = err
	r.Logger.Error("recording failed", "err", err)
	r.Metrics.failed()
	for _, fs := range r.formats {
		fs.abandon()
	}
}

func (r *Recorder) finish() {
	if !r.resolved && len(r.pending) > 0 {
		// The publisher left while media was held back for the decision: decide with what
		// arrived, so a short stream is recorded too.
		r.discover()
		r.resolved = true
		if r.resolve(StreamInfo{Tracks: r.tracks, VideoKbps: r.videoKbps()}) {
			r.Metrics.recordingStarted()
			r.replayPending()
		} else {
			r.skip = true
		}
	}
	if !r.resolved || r.skip {
		// The publisher left before a decision, or the stream is not recorded.
		r.releasePending()
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
	r.Metrics.recordingEnded()
	err := errors.Join(errs...)
	// The end job follows every file job of the recording through the Finisher, so its
	// handler runs after each file was stored (§6: "over" only after every file event).
	r.Complete(&Job{Kind: JobEnd, RecordingID: r.RecordingID, Err: err})
	if r.OnEnd != nil {
		r.OnEnd(err)
	}
}

// sliceDone is the HLS writer's callback for a completed slice of playlist seq.
func (r *Recorder) sliceDone(fs *formatState, of *openFile, s hls.Slice) {
	start := of.startWall.Add(s.Start)
	r.Complete(&Job{
		Kind: JobSlice, RecordingID: r.RecordingID, Format: fs.cfg.Format, Seq: s.Seq, PlaylistSeq: of.seq,
		SpoolPath: s.Path, Start: start, End: start.Add(s.Duration), Config: fs.cfg, Storage: r.Rule.Storage,
		Stats: FileStats{Duration: s.Duration, VideoFrames: s.VideoFrames, AudioFrames: s.AudioFrames, Bytes: s.Bytes},
		Vars:  r.vars(fs.cfg.Format, s.Seq, start, start.Add(s.Duration)),
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
