package record

import (
	"context"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

type command struct {
	c       recording.Command
	project string
	reply   chan error
	// plan, when set, makes the command a SetPlan with these windows.
	plan *[]recording.TimeWindow
	// handOver makes the command a HandOver.
	handOver bool
}

// Command applies a manual-mode record command on the recorder's goroutine, with
// Alibaba's RealTimeRecordCommand semantics: start records from the next keyframe (into the
// paused files, when a stop left them open); stop pauses, keeping the files open for their
// merge windows; cancel_delay, after a stop, completes them at once; restart completes the
// current files and records on into new ones. Only a recording of the given project takes
// commands.
func (r *Recorder) Command(ctx context.Context, project string, c recording.Command) error {
	return r.send(ctx, command{c: c, project: project})
}

// SetPlan replaces the plan-task windows of a plan-mode recording of project (a task was
// added or stopped while it records), on the recorder's goroutine. recording.ErrNotLive when
// the recorder is not recording in plan mode.
func (r *Recorder) SetPlan(ctx context.Context, project string, windows []recording.TimeWindow) error {
	if windows == nil {
		windows = []recording.TimeWindow{}
	}
	return r.send(ctx, command{project: project, plan: &windows})
}

func (r *Recorder) send(ctx context.Context, c command) error {
	reply := make(chan error, 1)
	c.reply = reply
	select {
	case r.cmds <- c:
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

func (r *Recorder) setPlan(project string, windows []recording.TimeWindow) error {
	if !r.resolved || r.skip || r.failed != nil || r.Rule.Project != project || !r.seg.SetPlan(windows, time.Now()) {
		return recording.ErrNotLive
	}
	r.Logger.Info("plan windows changed", "windows", len(windows))
	return nil
}

func (r *Recorder) command(project string, c recording.Command) error {
	if !r.resolved || r.skip || r.failed != nil || !r.live || r.Rule.Mode != recording.ModeManual || r.Rule.Project != project {
		return recording.ErrNotLive
	}
	ops, err := r.seg.Command(c, time.Now())
	r.apply(ops)
	if err != nil {
		return err
	}
	r.Logger.Info("record command", "command", c)
	return nil
}

// HandOver ends a paused recording here because another node continues it: its open
// files complete now and are stored, whatever their merge windows, and it takes no resume.
// recording.ErrConflict when a publisher is attached here (the recording is not paused).
func (r *Recorder) HandOver(ctx context.Context) error {
	return r.send(ctx, command{handOver: true})
}

func (r *Recorder) handOver() error {
	if r.live || !r.in.closeUnlessResuming() {
		return recording.ErrConflict // a publisher is back here
	}
	r.Logger.Info("another node continues the recording; completing its files here")
	r.shutdown()
	return nil
}
