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
}

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
	ops, err := r.seg.Command(c, time.Now())
	r.apply(ops)
	if err != nil {
		return err
	}
	r.Logger.Info("record command", "command", c)
	return nil
}
