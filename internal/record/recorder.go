// Package record turns a publication's media into recorded files: one Recorder per recorded
// stream cuts every format into keyframe-aligned files by its cycle (§4), and a Finisher moves
// completed files from the spool into their bucket.
package record

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/stream"
)

// errNotRecorded is passed to OnEnd when Resolve decided not to record.
var errNotRecorded = errors.New("not recorded")

// IsNotRecorded tells whether an OnEnd error means the stream was not recorded at all.
func IsNotRecorded(err error) bool { return errors.Is(err, errNotRecorded) }

// Recorder records one stream according to a rule: one recording (§6), from the first
// publication through pauses and resumes until every format's merge window has expired. It
// implements stream.Sink for the publication it is attached to: ingest hands it batches without
// ever blocking, and a single goroutine (run) owns all its state.
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
	// OnPaused and OnResumed are called (on the recorder's goroutine) when the recording pauses
	// with files kept open (publisher gone, manual stop) and when it resumes into them (§6).
	OnPaused, OnResumed func()
	// OnFailed is called once (on the recorder's goroutine) when the recording fails; its
	// files are handed to the Finisher for recovery and storing, and the end job follows.
	OnFailed func(error)
	// Key and StartWall describe the stream and when its first publication started.
	Key       stream.Key
	StartWall time.Time
	// SpoolDir is the root of the spool.
	SpoolDir string
	// FlushInterval is how often buffered media is handed to write(2), and how often merge
	// windows are checked. Default 1 s.
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

	// mu guards the sink side: what ingest and the app may touch from other goroutines.
	mu sync.Mutex
	// queue is what was handed over and the goroutine has not taken yet; wake tells the
	// goroutine there is some. A slice, not a buffered channel: memory follows the backlog,
	// not QueueLen slots per stream.
	queue    []item
	wake     chan struct{}
	started  bool
	attached bool // a publication feeds the recorder
	over     bool // the recorder ends: it takes no more media and no resume
	// resumable: some format has a merge window, so a new publication may resume the
	// recording; without one (W = 0 everywhere) every publication is its own recording.
	resumable bool
	resumes   int // resume marks queued and not yet handled
	cmds      chan command
	quit      chan struct{}
	quitOnce  sync.Once

	// Everything below is owned by the run goroutine.
	tracks     media.Tracks
	discovered bool
	resolved   bool
	live       bool // a publisher is attached (the run goroutine's view)
	done       bool
	// idle: a manual-mode recording waits for a start command (§5), or a plan recording is
	// outside its window; media is dropped.
	idle      bool
	commanded bool // a start command came (manual mode)
	// draining: a stop (command or plan end) ends the open files once every track passed
	// stopAt, so audio and video end together although publishers interleave loosely;
	// drainPause keeps them open for their merge windows (manual stop) instead of completing.
	draining   bool
	drainPause bool
	stopAt     time.Duration
	// paused: files are held open waiting for the publisher or a start command (§6).
	paused bool
	// resuming: the next cut point (keyframe) continues the paused files' timeline; offset
	// maps the publication's timestamps onto the recording's, epoch is the wall time of
	// recording time 0, pubStart when the attached publication started.
	resuming     bool
	offset       time.Duration
	epoch        time.Time
	pubStart     time.Time
	lastV, lastA time.Duration
	stepV, stepA time.Duration
	haveV, haveA bool
	stoppedAt    time.Time
	skip         bool // Resolve decided not to record: batches are dropped until the end
	metaKbps     atomic.Int64
	pending      []*stream.Batch
	taken        []item // the queue's items being handled
	formats      []*formatState
	failed       error
	// endSent: the end job and OnEnd went out (a panic while ending must not send them twice).
	endSent bool
	// wrapWriter, for tests, wraps every file writer the recorder opens.
	wrapWriter func(fileWriter) fileWriter
}

// item is what the recorder's queue carries: a batch of the attached publication, or a mark
// saying the publication ended or a new one resumed the recording; marks keep their place
// among batches.
type item struct {
	b      *stream.Batch
	mark   markKind
	reason error     // markEnd
	start  time.Time // markResume
}

type markKind uint8

const (
	markNone markKind = iota
	markEnd
	markResume
)

// Start starts the recorder's goroutine, attached to the publication it was created for.
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
	r.wake = make(chan struct{}, 1)
	r.cmds = make(chan command)
	r.quit = make(chan struct{})
	r.epoch, r.pubStart, r.live = r.StartWall, r.StartWall, true
	r.mu.Lock()
	r.started, r.attached = true, true
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
	resumable := false
	for _, fc := range r.Rule.Formats {
		r.formats = append(r.formats, &formatState{rec: r, cfg: fc, dir: dir,
			cycle: time.Duration(fc.CycleS) * time.Second})
		resumable = resumable || mergeWindow(fc) > 0
	}
	r.mu.Lock()
	r.resumable = resumable
	r.mu.Unlock()
	return len(r.formats) > 0
}

// WriteBatch implements stream.Sink.
func (r *Recorder) WriteBatch(b *stream.Batch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.over || !r.attached || len(r.queue) >= r.QueueLen {
		if r.attached && !r.over {
			r.Metrics.dropped(len(b.Units))
			r.Logger.Warn("recorder queue full, media dropped", "units", len(b.Units))
		}
		b.Release()
		return
	}
	r.enqueue(item{b: b})
}

// enqueue queues it for the goroutine; r.mu must be held. Marks are never refused: batches
// stop at QueueLen, so the queue stays bounded and ingest never blocks.
func (r *Recorder) enqueue(it item) {
	r.queue = append(r.queue, it)
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// take returns what is queued and gives the queue prev's array to reuse.
func (r *Recorder) take(prev []item) []item {
	clear(prev)
	r.mu.Lock()
	q := r.queue
	r.queue = prev[:0]
	r.mu.Unlock()
	return q
}

// handleQueued handles what is queued, in order; once the recording is done the rest is
// dropped.
func (r *Recorder) handleQueued() {
	r.taken = r.take(r.taken)
	for _, it := range r.taken {
		if r.done {
			it.release()
			continue
		}
		r.handleItem(it)
		if r.failed != nil {
			r.finish()
		}
	}
}

func (it item) release() {
	if it.b != nil {
		it.b.Release()
	}
}

// SetMetadata implements stream.Sink: it keeps the publisher's video bitrate for Resolve.
func (r *Recorder) SetMetadata(videoKbps float64) { r.metaKbps.Store(int64(videoKbps)) }

// End implements stream.Sink: the publication ended. The recording pauses, keeping the files
// of formats with a merge window open (§6), or ends; stream.ErrClosed (shutdown) ends it.
func (r *Recorder) End(reason error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.attached || r.over {
		r.attached = false
		return
	}
	r.attached = false
	r.enqueue(item{mark: markEnd, reason: reason})
}

// Resume attaches a new publication of the stream to the paused recording (§6). It reports
// false when the recording is ending, or still has a publication: the caller then starts a new
// recording.
func (r *Recorder) Resume(start time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started || r.over || r.attached || !r.resumable || len(r.queue) > r.QueueLen {
		return false
	}
	r.attached = true
	r.resumes++
	r.enqueue(item{mark: markResume, start: start})
	return true
}

// Shutdown ends the recording now, whatever its merge windows: queued media is written and
// every file is completed.
func (r *Recorder) Shutdown() {
	r.quitOnce.Do(func() { close(r.quit) })
}

func (r *Recorder) run() {
	t := time.NewTimer(untilMultiple(time.Now(), r.FlushInterval))
	defer t.Stop()
	for !r.done {
		r.step(t)
	}
	r.mu.Lock()
	r.over = true
	r.mu.Unlock()
	for _, it := range r.take(r.taken) {
		it.release()
	}
	r.taken = nil
}

// step runs one round of the loop. A panic in it (a muxer bug on odd input) is contained to
// this recording: it ends failed and every other stream goes on.
func (r *Recorder) step(t *time.Timer) {
	defer func() {
		if p := recover(); p != nil {
			r.contain(p)
		}
	}()
	select {
	case <-r.wake:
		r.handleQueued()
	case now := <-t.C:
		r.tick(now)
		t.Reset(untilMultiple(time.Now(), r.FlushInterval))
	case c := <-r.cmds:
		c.reply <- r.command(c.project, c.c)
	case <-r.quit:
		r.shutdown()
	}
	if r.failed != nil {
		r.finish()
	}
}

// contain ends the recording failed after a panic: its open files go to recovery like after a
// write error. Should ending panic too, the files stay in the spool for the next start.
func (r *Recorder) contain(p any) {
	r.Metrics.Panicked("recorder")
	r.Logger.Error("panic while recording: the recording ends failed, other streams go on",
		"panic", p, "stack", string(debug.Stack()))
	err := fmt.Errorf("internal error while recording: %v", p)
	defer func() {
		if p2 := recover(); p2 != nil {
			r.Logger.Error("panic while ending a recording after a panic; its files stay in the spool",
				"panic", p2, "stack", string(debug.Stack()))
			r.done = true
			r.mu.Lock()
			r.over = true
			r.mu.Unlock()
			if !r.endSent {
				r.endSent = true
				r.Complete(&Job{Kind: JobEnd, RecordingID: r.RecordingID, Err: err})
				if r.OnEnd != nil {
					r.OnEnd(err)
				}
			}
		}
	}()
	if !r.resolved || r.skip {
		r.finish() // nothing recorded: the end says so
		return
	}
	r.fail(err)
	r.finish()
}

func (r *Recorder) handleItem(it item) {
	switch it.mark {
	case markEnd:
		r.publisherLeft(it.reason)
	case markResume:
		r.mu.Lock()
		r.resumes--
		r.mu.Unlock()
		r.publisherBack(it.start)
	default:
		r.handle(it.b)
	}
}

// shutdown handles what is queued and ends the recording.
func (r *Recorder) shutdown() {
	for !r.done {
		r.mu.Lock()
		queued := len(r.queue) > 0
		r.mu.Unlock()
		if queued {
			r.handleQueued()
		} else {
			r.finish()
		}
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
		if err := r.writeManifest(); err != nil {
			r.fail(err)
		}
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

// untilMultiple is the time from now to the next multiple of d on the wall clock. Every
// recorder ticks on those instants, so a hundred recorders cost the process one wake-up per
// interval instead of a hundred scattered ones, and ingest, which reads on multiples of its
// own pause, wakes at the same instants when d is a multiple of that pause.
func untilMultiple(now time.Time, d time.Duration) time.Duration {
	return d - time.Duration(now.UnixNano()%int64(d))
}
