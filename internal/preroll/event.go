package preroll

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/record/mp4"
	"github.com/liverec/liverec/internal/record/sink"
)

// Event asks for an event recording.
type Event struct {
	// ID names the recording the event makes (unused when it merges into another).
	ID    string
	Label string
	// Pre is how much before the call the recording starts (≤ the buffer's Keep), Post how
	// much after the call it ends.
	Pre, Post time.Duration
	// Merge extends the end of an event of the stream that is still collecting, rather than
	// making a separate recording.
	Merge bool
}

// Result is a finished event recording. Without Err, the callee owns the MP4 at Path.
type Result struct {
	ID, Label string
	Path      string
	// FirstAt and LastAt are the wall times of the first and the last unit written.
	FirstAt, LastAt time.Time
	Width, Height   int
	mp4.Stats
	Err error
}

// event is one event recording being collected: Write queues units under the buffer's lock,
// its writer goroutine drains the queue into the MP4.
type event struct {
	b      *Buffer
	id     string
	label  string
	to     time.Time // wall time from which the next keyframe ends it
	keyed  bool      // its first unit (a GOP start) is queued
	closed bool      // nothing more is queued
	queue  []qunit
	sig    chan struct{}
}

type qunit struct {
	media.Unit
	wall time.Time
}

// Started says what Event did.
type Started struct {
	ID     string
	Merged bool
	// From is where the recording starts (a GOP start), zero when it waits for the next one;
	// To is where it ends at the earliest (call+post).
	From, To time.Time
}

// Event starts an event recording, or with Merge extends the end of the one still being
// collected. done is called once, on the event's writer goroutine, when its MP4 is made (or
// failed).
func (b *Buffer) Event(e Event, done func(Result)) (Started, error) {
	if e.Pre < 0 || e.Post < 0 {
		return Started{}, errors.New("preroll: negative pre or post")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return Started{}, ErrEnded
	}
	if e.Pre > b.cfg.Keep {
		return Started{}, &LimitError{Max: b.cfg.Keep}
	}
	now := b.cfg.Now()
	to := now.Add(e.Post)
	if e.Merge {
		for i := len(b.events) - 1; i >= 0; i-- {
			if ev := b.events[i]; !ev.closed {
				if to.After(ev.to) {
					ev.to = to
				}
				return Started{ID: ev.id, Merged: true, To: ev.to}, nil
			}
		}
	}
	ev := &event{b: b, id: e.ID, label: e.Label, to: to, sig: make(chan struct{}, 1)}
	from := now.Add(-e.Pre)
	start := -1
	for i, g := range b.gops {
		if start < 0 || !g.wall.After(from) {
			start = i // the last GOP at or before from, else the oldest
		}
	}
	var st Started
	if start >= 0 {
		st.From = b.gops[start].wall
		for i, g := range b.gops[start:] {
			for j := range g.units {
				ev.offer(g.units[j], b.unitWall(g, &g.units[j]), i == 0 && j == 0)
			}
		}
	}
	b.events = append(b.events, ev)
	b.cfg.Go(func() { done(ev.run()) })
	st.ID, st.To = ev.id, ev.to
	return st, nil
}

func (b *Buffer) unitWall(g *gop, u *media.Unit) time.Time { return g.wall.Add(u.DTS - g.dts) }

// offer queues a unit unless the event is over; a GOP start at or after the end closes it.
// Called with the buffer's lock held.
func (ev *event) offer(u media.Unit, wall time.Time, gopStart bool) {
	if ev.closed {
		return
	}
	if !ev.keyed {
		if !gopStart {
			return
		}
		ev.keyed = true
	} else if gopStart && !wall.Before(ev.to) {
		ev.close()
		return
	}
	ev.queue = append(ev.queue, qunit{Unit: u, wall: wall})
	ev.signal()
}

func (ev *event) close() {
	ev.closed = true
	ev.signal()
}

func (ev *event) signal() {
	select {
	case ev.sig <- struct{}{}:
	default:
	}
}

// run writes the event's units as they come and finishes the MP4 once the event is closed
// (or MaxTail past its end without a keyframe).
func (ev *event) run() Result {
	b := ev.b
	res := Result{ID: ev.id, Label: ev.label}
	w := &eventWriter{}
	defer w.abort()
	tick := time.NewTicker(b.cfg.Poll)
	defer tick.Stop()
	var spare []qunit
	for {
		select {
		case <-ev.sig:
		case <-tick.C:
		}
		b.mu.Lock()
		q := ev.queue
		ev.queue = spare[:0]
		if !ev.closed && !b.cfg.Now().Before(ev.to.Add(b.cfg.MaxTail)) {
			ev.close()
		}
		closed := ev.closed
		tracks := b.tracks
		b.mu.Unlock()
		for i := range q {
			if res.Err == nil {
				res.Err = w.write(b.cfg.Dir, tracks, &q[i], &res)
			}
		}
		clear(q)
		spare = q
		if res.Err != nil && !closed {
			b.mu.Lock()
			ev.close() // a write failed: stop collecting
			b.mu.Unlock()
			closed = true
		}
		if closed {
			break
		}
	}
	b.mu.Lock()
	for i, e := range b.events {
		if e == ev {
			b.events = append(b.events[:i], b.events[i+1:]...)
			break
		}
	}
	b.mu.Unlock()
	if res.Err == nil {
		res.Err = w.finish(&res)
	}
	if res.Err != nil {
		res.Err = fmt.Errorf("event recording %s: %w", ev.id, res.Err)
	}
	return res
}

// eventWriter writes one event's MP4: fragmented while collecting, made moov-first at the end.
type eventWriter struct {
	frag   string
	f      *sink.File
	w      *mp4.Writer
	tracks media.Tracks
	origin time.Duration
}

func (w *eventWriter) write(dir string, tracks media.Tracks, u *qunit, res *Result) error {
	if w.w == nil {
		f, err := os.CreateTemp(dir, ".event-*.frag.mp4")
		if err != nil {
			return fmt.Errorf("create event file: %w", err)
		}
		w.frag = f.Name()
		f.Close()
		if w.f, err = sink.Create(w.frag); err != nil {
			return err
		}
		if w.w, err = mp4.NewWriter(w.f, tracks); err != nil {
			return err
		}
		w.tracks, w.origin = tracks, u.DTS
		res.FirstAt = u.wall
		if v := tracks.Video; v != nil {
			res.Width, res.Height = v.Width, v.Height
		}
	}
	if u.DTS < w.origin {
		return nil // audio from before the start keyframe
	}
	if u.Track.IsVideo() && w.tracks.Video == nil || !u.Track.IsVideo() && w.tracks.Audio == nil {
		return nil // a track that appeared after the start: one MP4 holds the tracks it began with
	}
	mu := u.Unit
	mu.DTS -= w.origin
	mu.PTS -= w.origin
	if err := w.w.WriteUnit(&mu); err != nil {
		return fmt.Errorf("write event unit: %w", err)
	}
	res.LastAt = u.wall
	return nil
}

// finish closes the fragmented file and writes the moov-first MP4 next to it.
func (w *eventWriter) finish(res *Result) error {
	if w.w == nil {
		return errors.New("no media arrived for the event")
	}
	_, err := w.w.Close()
	w.w = nil
	if err == nil {
		err = w.f.Close()
	}
	w.f = nil
	if err != nil {
		return fmt.Errorf("write %s: %w", w.frag, err)
	}
	dst := filepath.Join(filepath.Dir(w.frag), filepath.Base(w.frag[:len(w.frag)-len(".frag.mp4")])+".mp4")
	st, err := mp4.Finalize(w.frag, dst)
	os.Remove(w.frag)
	w.frag = ""
	if err != nil {
		return err
	}
	res.Path, res.Stats = dst, st
	return nil
}

func (w *eventWriter) abort() {
	if w.w != nil {
		w.w.Close()
	}
	if w.f != nil {
		w.f.Close()
	}
	if w.frag != "" {
		os.Remove(w.frag)
	}
}
