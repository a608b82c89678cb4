package record

import (
	"context"
	"fmt"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

type command struct {
	c       recording.Command
	project string
	reply   chan error
}

// MinRestartGap is how long after a stop Huawei refuses a new start ("Record task exist").
const MinRestartGap = 10 * time.Second

// Command applies a manual-mode record command (§5) on the recorder's goroutine, with
// Alibaba's RealTimeRecordCommand semantics: start records from the next keyframe (into the
// paused files, when a stop left them open); stop pauses, keeping the files open for their
// merge windows; cancel_delay, after a stop, completes them at once; restart completes the
// current files and records on into new ones. Only a recording of the given project takes
// commands.
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
	if !r.resolved || r.skip || r.failed != nil || !r.live || r.Rule.Mode != recording.ModeManual || r.Rule.Project != project {
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
		r.idle, r.commanded = false, true
		if r.draining {
			r.draining = false // the stop had not taken effect yet: record on without a gap
		} else if r.hasOpenFiles() {
			r.beginResume()
		}
	case recording.CommandStop:
		if r.idle {
			return recording.ErrCommandState
		}
		r.stop(true)
		r.idle, r.stoppedAt = true, time.Now()
	case recording.CommandRestart:
		r.draining, r.resuming = false, false
		r.closeFiles()
		r.idle, r.commanded = false, true
	case recording.CommandCancelDelay:
		if !r.idle || !r.commanded {
			return recording.ErrCommandState
		}
		r.draining = false
		r.closeFiles()
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
		r.stop(false)
	}
	r.idle = !in
}

// stop ends the open files at the media time reached so far (see draining); pause keeps them
// open for their merge windows instead of completing them.
func (r *Recorder) stop(pause bool) {
	r.draining, r.drainPause, r.stopAt = true, pause, max(r.lastV, r.lastA)
	r.resuming = false
}

// endDrain takes effect of a stop once the media before it was written.
func (r *Recorder) endDrain() {
	r.draining = false
	if r.drainPause {
		r.pauseFiles()
		return
	}
	r.closeFiles()
}

// closeFiles completes every open file; the recording is no longer paused.
func (r *Recorder) closeFiles() {
	for _, fs := range r.formats {
		fs.closeAll()
	}
	r.setPaused(false)
}
