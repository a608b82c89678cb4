package record

import (
	"errors"
	"fmt"
	"time"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/upload"
)

// writeBatch writes one ingest batch (ReadBatch of media) and hands what it produced to
// write(2) at once: MP4 cuts a fragment, and the spool files' buffers go back to the shared
// pool, so a stream holds no write buffer between batches.
func (r *Recorder) writeBatch(b *stream.Batch) {
	defer b.Release()
	now := time.Now()
	for i := range b.Units {
		r.writeUnit(&b.Units[i], now)
		if r.failed != nil {
			return
		}
	}
	r.flush()
}

// writeUnit records one unit as the segmenter decides.
func (r *Recorder) writeUnit(u *media.Unit, now time.Time) {
	if r.failed != nil {
		return
	}
	r.Metrics.unit(u)
	r.apply(r.seg.Unit(u, now))
}

// apply carries out the segmenter's decisions in order. The first that fails ends the
// recording failed, and the rest are not carried out.
func (r *Recorder) apply(ops []Op) {
	wasFailed := r.failed != nil
	for i := range ops {
		if err := r.applyOp(&ops[i]); err != nil {
			r.fail(err)
			return
		}
		if !wasFailed && r.failed != nil {
			return // a flush failed: the files were abandoned
		}
	}
}

func (r *Recorder) applyOp(op *Op) error {
	switch op.Kind {
	case OpOpen:
		return r.open(op.Format, op.File)
	case OpWrite:
		return r.files[op.Format].write(op.Slot, op.Unit)
	case OpShift:
		f := &r.files[op.Format]
		f.prev, f.cur = f.cur, nil
	case OpComplete:
		r.complete(op.Format, op.Slot)
	case OpSeam:
		of := r.files[op.Format].cur
		of.seam(op.At, r.seg.Epoch())
		of.w.Discontinuity(op.Tracks)
	case OpFlush:
		r.flush()
	case OpPaused:
		r.Metrics.pausedBy(1)
		r.Logger.Info("recording paused")
		r.Reporter.Paused()
	case OpResumed:
		r.Metrics.pausedBy(-1)
		r.Reporter.Resumed()
	case OpUnpaused:
		r.Metrics.pausedBy(-1)
	case OpContinued:
		r.Logger.Info("recording resumed", "at", op.At)
	case OpNewParams:
		r.Logger.Info("stream parameters changed, starting new files", "codec", op.Unit.Track.Codec,
			"width", op.Unit.Track.Width, "height", op.Unit.Track.Height)
	case OpExpired:
		r.Logger.Info("merge window expired, completing files", "format", r.files[op.Format].cfg.Format)
	}
	return nil
}

// tick runs every FlushInterval: buffered writes, plan windows and merge windows.
func (r *Recorder) tick(now time.Time) {
	r.flush()
	if r.seg != nil {
		r.apply(r.seg.Tick(now))
	}
	r.maybeEnd()
}

func (r *Recorder) flush() {
	if r.failed != nil {
		return
	}
	for i := range r.files {
		if err := r.files[i].flush(); err != nil {
			r.fail(err)
			return
		}
	}
}

func (r *Recorder) hasOpenFiles() bool { return r.seg != nil && r.seg.HasOpenFiles() }

// publisherLeft handles the end of the attached publication.
func (r *Recorder) publisherLeft(reason error) {
	r.live = false
	r.resolveLate()
	if !r.resolved || r.skip || r.failed != nil || errors.Is(reason, stream.ErrClosed) {
		r.finish()
		return
	}
	r.apply(r.seg.PublisherLeft(time.Now()))
	r.maybeEnd()
}

// publisherBack handles a publication that resumed the recording.
func (r *Recorder) publisherBack(start time.Time) {
	r.live = true
	if r.seg != nil {
		r.apply(r.seg.PublisherBack(start))
	}
}

// maybeEnd ends the recording when no publisher is attached, none is about to resume it, and
// no format holds an open file.
func (r *Recorder) maybeEnd() {
	if r.done || r.live || r.hasOpenFiles() {
		return
	}
	if r.in.closeUnlessResuming() {
		r.finish()
	}
}

// fail ends the recording after a write error: Failed reports it at once, and the open
// files are handed over as they are on disk, to be recovered and stored: nothing written is
// deleted.
func (r *Recorder) fail(err error) {
	if r.failed != nil {
		return
	}
	r.failed = err
	r.Logger.Error("recording failed", "err", err)
	r.Metrics.failed()
	r.in.close()
	for i := range r.files {
		r.abandon(i)
	}
	if r.seg != nil {
		r.seg.Abandon()
	}
	r.Reporter.Failed(err)
}

func (r *Recorder) finish() {
	if r.done {
		return
	}
	r.in.close()
	r.resolveLate()
	r.done = true
	if !r.resolved || r.skip {
		// The publisher left before a decision, or the stream is not recorded.
		r.releasePending()
		r.endSent = true
		r.Reporter.Ended(errNotRecorded)
		return
	}
	r.apply(r.seg.End())
	var errs []error
	if r.failed == nil {
		for i := range r.files {
			if err := r.files[i].err; err != nil {
				errs = append(errs, err)
			}
		}
	} else {
		errs = append(errs, r.failed)
	}
	r.Metrics.recordingEnded()
	err := errors.Join(errs...)
	// The end job follows every file job of the recording through the uploader, so its
	// handler runs after each file was stored ("over" only after every file event).
	r.endSent = true
	r.Jobs.Enqueue(&upload.Job{Kind: upload.JobEnd, RecordingID: r.RecordingID, SpoolPath: r.dir(), Err: err})
	r.Reporter.Ended(err)
}

// flush hands what f's open files buffered to write(2).
func (f *formatFiles) flush() error {
	for _, of := range []*openFile{f.prev, f.cur} {
		if of != nil {
			if err := of.w.Flush(); err != nil {
				return fmt.Errorf("flush %s file %d: %w", f.cfg.Format, of.Seq, err)
			}
		}
	}
	return nil
}
