package record

import (
	"sync"
	"time"

	"github.com/liverec/liverec/internal/stream"
)

// inbox is the side of a Recorder that ingest and the app touch from other goroutines: the
// queue of what was handed over and the run goroutine has not taken yet, and whether a
// publication is attached.
type inbox struct {
	mu sync.Mutex
	// queue is a slice, not a buffered channel: memory follows the backlog, not QueueLen slots
	// per stream. wake tells the run goroutine there is something queued.
	queue    []item
	wake     chan struct{}
	max      int // QueueLen
	started  bool
	attached bool // a publication feeds the recorder
	over     bool // the recorder ends: it takes no more media and no resume
	// resumable: some format has a merge window, so a new publication may resume the
	// recording; without one (W = 0 everywhere) every publication is its own recording.
	resumable bool
	resumes   int // resume marks queued and not yet handled
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

func (it item) release() {
	if it.b != nil {
		it.b.Release()
	}
}

func (in *inbox) start(limit int) {
	in.wake = make(chan struct{}, 1)
	in.mu.Lock()
	in.max, in.started, in.attached = limit, true, true
	in.mu.Unlock()
}

// enqueue queues it for the goroutine; in.mu must be held. Marks are never refused: batches
// stop at max, so the queue stays bounded and ingest never blocks.
func (in *inbox) enqueue(it item) {
	in.queue = append(in.queue, it)
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// take returns what is queued and gives the queue prev's array to reuse.
func (in *inbox) take(prev []item) []item {
	clear(prev)
	in.mu.Lock()
	q := in.queue
	in.queue = prev[:0]
	in.mu.Unlock()
	return q
}

// queued tells whether something waits for the run goroutine.
func (in *inbox) queued() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.queue) > 0
}

// close refuses media and resumes from now on.
func (in *inbox) close() {
	in.mu.Lock()
	in.over = true
	in.mu.Unlock()
}

func (in *inbox) setResumable(v bool) {
	in.mu.Lock()
	in.resumable = v
	in.mu.Unlock()
}

// resumed notes that a resume mark was handled.
func (in *inbox) resumed() {
	in.mu.Lock()
	in.resumes--
	in.mu.Unlock()
}

// closeUnlessResuming ends the inbox unless a resume mark is on its way; it tells whether it
// did.
func (in *inbox) closeUnlessResuming() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.resumes > 0 {
		return false
	}
	in.over = true
	return true
}

// WriteBatch implements stream.Sink.
func (r *Recorder) WriteBatch(b *stream.Batch) {
	in := &r.in
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.over || !in.attached || len(in.queue) >= in.max {
		if in.attached && !in.over {
			r.Metrics.dropped(len(b.Units))
			r.Logger.Warn("recorder queue full, media dropped", "units", len(b.Units))
		}
		b.Release()
		return
	}
	in.enqueue(item{b: b})
}

// SetMetadata implements stream.Sink: it keeps the publisher's video bitrate for Resolve.
func (r *Recorder) SetMetadata(videoKbps float64) { r.metaKbps.Store(int64(videoKbps)) }

// End implements stream.Sink: the publication ended. The recording pauses, keeping the files
// of formats with a merge window open, or ends; stream.ErrClosed (shutdown) ends it.
func (r *Recorder) End(reason error) {
	in := &r.in
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.attached || in.over {
		in.attached = false
		return
	}
	in.attached = false
	in.enqueue(item{mark: markEnd, reason: reason})
}

// Resume attaches a new publication of the stream to the paused recording. It reports
// false when the recording is ending, or still has a publication: the caller then starts a new
// recording.
func (r *Recorder) Resume(start time.Time) bool {
	in := &r.in
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.started || in.over || in.attached || !in.resumable || len(in.queue) > in.max {
		return false
	}
	in.attached = true
	in.resumes++
	in.enqueue(item{mark: markResume, start: start})
	return true
}

// handleQueued handles what is queued, in order; once the recording is done the rest is
// dropped.
//
// What the batches brought is then flushed at once: ingest hands a read round (up to a second
// of media) over as one wake-up, and writing it out right away hands every muxer's and sink's
// buffer back to the shared pools, so between rounds a stream holds almost nothing (memory per
// stream is what limits how many a machine records), and each format costs one write(2) per
// round.
func (r *Recorder) handleQueued() {
	r.taken = r.in.take(r.taken)
	media := false
	for _, it := range r.taken {
		if r.done {
			it.release()
			continue
		}
		media = media || it.b != nil
		r.handleItem(it)
		if r.failed != nil {
			r.finish()
		}
	}
	if media && !r.done {
		r.flush()
	}
}

func (r *Recorder) handleItem(it item) {
	switch it.mark {
	case markEnd:
		r.publisherLeft(it.reason)
	case markResume:
		r.in.resumed()
		r.publisherBack(it.start)
	default:
		r.handle(it.b)
	}
}

// shutdown handles what is queued and ends the recording, whatever its merge windows: Run's
// context ended.
func (r *Recorder) shutdown() {
	for !r.done {
		if r.in.queued() {
			r.handleQueued()
		} else {
			r.finish()
		}
	}
}
