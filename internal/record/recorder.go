// Package record turns a publication's media into recorded files. One Recorder per recorded
// stream is its recording session: it owns the stream's queue, its spool files and their
// writers, and applies what its Segmenter decides (where files start and end: cycles,
// keyframes, parameter changes, pauses, plan and manual windows). Completed files go as
// upload jobs to the uploader (internal/upload); what happens is told to a Reporter.
package record

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/upload"
)

// errNotRecorded is what Ended gets when Resolve decided not to record.
var errNotRecorded = errors.New("not recorded")

// Reporter is how a Recorder asks how to record and tells what happens to the recording. Its
// methods are called on the recorder's goroutine and must not block for long.
type Reporter interface {
	// Resolve decides whether and how to record (rule lookup, on-demand decision) once the
	// stream's tracks are known; media is held back from the first keyframe meanwhile.
	// It returns the rule to record with, or nil to record nothing.
	Resolve(StreamInfo) (*recording.Rule, error)
	// FileStarted: a file (HLS: a playlist) started.
	FileStarted(FileStarted)
	// Paused: the recording paused with files kept open (publisher gone, manual stop).
	Paused()
	// Resumed: the paused recording resumed into its open files.
	Resumed()
	// Failed: the recording failed (once); its files are handed over for recovery and
	// storing, and its end follows.
	Failed(error)
	// Ended: the recorder closed every file and stopped (once). The error is why the
	// recording failed, if it did.
	Ended(error)
}

// JobQueue takes every completed file, slice and playlist, and the recording's end after them.
// Enqueue is called on the recorder's goroutine and must not block (upload.Uploader queues).
type JobQueue interface {
	Enqueue(*upload.Job)
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
	// Config, Storage and Vars name the file's object as far as its start tells (the
	// end-time variables are unknown: Vars.End is zero), see upload.Uploader.StartKey.
	Config  recording.FormatConfig
	Storage recording.Storage
	Vars    upload.NameVars
}

// Config configures a Recorder; zero fields take the documented defaults.
type Config struct {
	// RecordingID names the recording; its spool files live in SpoolDir/RecordingID.
	RecordingID string
	// Rule is the rule to record with when there is no Reporter; otherwise Resolve's answer
	// replaces it. It is a snapshot: later changes of the rule don't apply.
	Rule recording.Rule
	// Reporter decides how to record and hears what happens. Nil: record with Rule, report
	// nothing.
	Reporter Reporter
	// Jobs takes the completed files. Nil: they are dropped (tests).
	Jobs JobQueue
	// Key and StartWall describe the stream and when its first publication started.
	Key       stream.Key
	StartWall time.Time
	// SpoolDir is the root of the spool.
	SpoolDir string
	// FileMode is the mode of the recording's spool files, and with x where it has r, of its
	// folders (storage.file_mode; zero: filemode.Default).
	FileMode fs.FileMode
	// FlushInterval is the latest buffered media is handed to write(2) (each batch is written
	// once handled), and how often merge windows are checked. Default 1 s.
	FlushInterval time.Duration
	// QueueLen is how many batches may wait for the recorder before new ones are dropped.
	// Default 512 (about 10 s of media with 20 ms ingest batches).
	QueueLen int
	// DiscoveryWindow is how much media is held back at the start to learn the stream's
	// tracks before the first files are opened. Default 1 s.
	DiscoveryWindow time.Duration
	// BitrateWindow is how much video is held back to measure the bitrate when the publisher's
	// metadata gives none (vbitrate). Default 2 s.
	BitrateWindow time.Duration
	Logger        *slog.Logger
	Metrics       *Metrics
	// Continue, when set, continues a recording another node started.
	Continue *Continuation

	// wrapWriter, for tests, wraps every file writer the recorder opens.
	wrapWriter func(fileWriter) fileWriter
}

// Recorder records one stream according to a rule: one recording, from the first
// publication through pauses and resumes until every format's merge window has expired. It
// implements stream.Sink for the publication it is attached to: ingest hands it batches without
// ever blocking, and Run, a single goroutine, owns the recording's files and state.
type Recorder struct {
	// Config is as NewRecorder completed it; only Run changes it (Rule becomes Resolve's answer).
	Config

	// in is what ingest and the app hand over from other goroutines.
	in       inbox
	metaKbps atomic.Int64
	cmds     chan command

	// Everything below is owned by Run.
	disc     discovery
	resolved bool
	skip     bool // Resolve decided not to record: batches are dropped until the end
	live     bool // a publisher is attached (Run's view)
	done     bool
	seg      *Segmenter    // once resolved
	files    []formatFiles // the open files of each format, as seg decided them
	failed   error
	// endSent: the end job and Ended went out (a panic while ending must not send them twice).
	endSent bool
	taken   []item // the queue's items being handled
}

// NewRecorder returns the Recorder of cfg, its defaults filled in, attached to the publication
// it is created for: WriteBatch, End and Resume work at once (media queues until Run takes it).
func NewRecorder(cfg Config) *Recorder {
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = time.Second
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 512
	}
	if cfg.DiscoveryWindow <= 0 {
		cfg.DiscoveryWindow = time.Second
	}
	if cfg.BitrateWindow <= 0 {
		cfg.BitrateWindow = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Reporter == nil {
		cfg.Reporter = fixedRule{cfg.Rule}
	}
	if cfg.Jobs == nil {
		cfg.Jobs = dropJobs{}
	}
	r := &Recorder{Config: cfg, cmds: make(chan command), live: true}
	r.in.start(cfg.QueueLen)
	return r
}

// Run records until the recording ends: its publication ended and no merge window keeps a
// file open, or it failed. When ctx ends first, the recording ends now, whatever its merge
// windows (a shutdown): queued media is written and every file, paused ones too, is completed.
// Run returns once Reporter.Ended was called; the recording's outcome goes there, so Run
// returns nil. A Recorder runs once.
func (r *Recorder) Run(ctx context.Context) error {
	t := time.NewTimer(untilMultiple(time.Now(), r.FlushInterval))
	defer t.Stop()
	for !r.done {
		r.step(ctx, t)
	}
	r.in.close()
	for _, it := range r.in.take(r.taken) {
		it.release()
	}
	r.taken = nil
	return nil
}

// step runs one round of the loop. A panic in it (a muxer bug on odd input) is contained to
// this recording: it ends failed and every other stream goes on.
func (r *Recorder) step(ctx context.Context, t *time.Timer) {
	defer func() {
		if p := recover(); p != nil {
			r.contain(p)
		}
	}()
	select {
	case <-r.in.wake:
		r.handleQueued()
	case now := <-t.C:
		r.tick(now)
		t.Reset(untilMultiple(time.Now(), r.FlushInterval))
	case c := <-r.cmds:
		switch {
		case c.handOver:
			c.reply <- r.handOver()
		case c.plan != nil:
			c.reply <- r.setPlan(c.project, *c.plan)
		default:
			c.reply <- r.command(c.project, c.c)
		}
	case <-ctx.Done():
		r.shutdown()
	}
	if r.failed != nil {
		r.finish()
	}
}

// contain ends the recording failed after a panic: its open files go to recovery like after a
// write error. Should ending panic too, the files stay in the spool for the next start.
func (r *Recorder) contain(p any) {
	r.Metrics.panicked()
	r.Logger.Error("panic while recording: the recording ends failed, other streams go on",
		"panic", p, "stack", string(debug.Stack()))
	err := fmt.Errorf("internal error while recording: %v", p)
	defer func() {
		if p2 := recover(); p2 != nil {
			r.Logger.Error("panic while ending a recording after a panic; its files stay in the spool",
				"panic", p2, "stack", string(debug.Stack()))
			r.done = true
			r.in.close()
			if !r.endSent {
				r.endSent = true
				r.Jobs.Enqueue(&upload.Job{Kind: upload.JobEnd, RecordingID: r.RecordingID, Err: err})
				r.Reporter.Ended(err)
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

// untilMultiple is the time from now to the next multiple of d on the wall clock. Every
// recorder ticks on those instants, so a hundred recorders cost the process one wake-up per
// interval instead of a hundred scattered ones, and ingest, which reads on multiples of its
// own pause, wakes at the same instants when d is a multiple of that pause.
func untilMultiple(now time.Time, d time.Duration) time.Duration {
	return d - time.Duration(now.UnixNano()%int64(d))
}

// fixedRule is the Reporter of a Recorder given none: it records with the rule it was
// configured with and reports nothing.
type fixedRule struct{ rule recording.Rule }

func (f fixedRule) Resolve(StreamInfo) (*recording.Rule, error) { r := f.rule; return &r, nil }
func (fixedRule) FileStarted(FileStarted)                       {}
func (fixedRule) Paused()                                       {}
func (fixedRule) Resumed()                                      {}
func (fixedRule) Failed(error)                                  {}
func (fixedRule) Ended(error)                                   {}

type dropJobs struct{}

func (dropJobs) Enqueue(*upload.Job) {}
