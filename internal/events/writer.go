package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/liverec/liverec/internal/backoff"
	"github.com/liverec/liverec/internal/diskspace"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// writer applies state changes with their events (§7 outbox) so that none is lost to a full
// disk or a database that does not answer: a change that fails for such a reason is kept in
// memory, in order behind the recording's earlier ones, and retried until it is written. When
// the database's disk is full it first gives back the disk reserve, so failure records can be
// written at once; the reserve is taken again once space returns.
type writer struct {
	store interface {
		Apply(ctx context.Context, c store.Change) error
	}
	reserve *diskspace.Reserve
	// dataDir is where free space is measured before the reserve is taken again.
	dataDir string
	// notify wakes the notifier after a change with deliveries was written.
	notify func()
	retry  backoff.Policy
	log    *slog.Logger

	mu sync.Mutex
	// backlog holds the changes waiting to be written, by recording, oldest first.
	backlog map[string][]pendingWrite
	waiting int
	lastErr error
	wake    chan struct{}
}

type pendingWrite struct {
	change store.Change
	// op, when set, is written instead of change: a write of another table that must not be
	// lost either (a stored slice), kept in order with the recording's changes.
	op     func(ctx context.Context) error
	notify bool
	what   string // for logs
	since  time.Time
}

// storeTimeout bounds one retry of a kept change.
const storeTimeout = 10 * time.Second

func newWriter(st interface {
	Apply(ctx context.Context, c store.Change) error
}, reserve *diskspace.Reserve, dataDir string, retry backoff.Policy, notify func(), log *slog.Logger,
) *writer {
	return &writer{store: st, reserve: reserve, dataDir: dataDir, retry: retry,
		notify: notify, log: log, backlog: map[string][]pendingWrite{}, wake: make(chan struct{}, 1)}
}

// transient tells whether a failed write may succeed later: a conflict or a missing row will
// not, a full disk or a timeout may.
func transient(err error) bool {
	return !errors.Is(err, recording.ErrConflict) && !errors.Is(err, recording.ErrNotFound)
}

// apply writes c for recording id now, or keeps it for later behind the recording's earlier
// changes. It returns an error only for a change that can never be written.
func (w *writer) apply(ctx context.Context, id string, c store.Change, notify bool, what string) error {
	return w.submit(ctx, id, pendingWrite{change: c, notify: notify, what: what})
}

// applyOp is apply for a write that is not a store.Change.
func (w *writer) applyOp(ctx context.Context, id string, op func(ctx context.Context) error, what string) error {
	return w.submit(ctx, id, pendingWrite{op: op, what: what})
}

func (w *writer) submit(ctx context.Context, id string, p pendingWrite) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	p.since = time.Now()
	if len(w.backlog[id]) > 0 {
		w.keep(id, p, nil)
		return nil
	}
	err := w.applyNow(ctx, p)
	if err == nil {
		return nil
	}
	what := p.what
	if !transient(err) {
		return fmt.Errorf("write %s: %w", what, err)
	}
	w.keep(id, p, err)
	w.log.Error("writing a state change failed; it is kept and retried until it is written",
		"recording", id, "what", what, "err", err)
	return nil
}

// applyDirect writes c about recordings ids now and returns its error instead of keeping it:
// for a caller that retries by itself (retention's next pass), where a kept write would let
// the same change be made twice. Changes of one of the recordings still waiting make it fail
// too.
func (w *writer) applyDirect(ctx context.Context, ids []string, c store.Change, notify bool, what string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range ids {
		if n := len(w.backlog[id]); n > 0 {
			return fmt.Errorf("write %s: %d earlier changes of recording %s wait to be written", what, n, id)
		}
	}
	if err := w.applyNow(ctx, pendingWrite{change: c, notify: notify, what: what}); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	return nil
}

// keep queues p; w.mu is held.
func (w *writer) keep(id string, p pendingWrite, err error) {
	w.backlog[id] = append(w.backlog[id], p)
	w.waiting++
	if err != nil {
		w.lastErr = err
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// applyNow writes p; on a full disk it releases the reserve and tries once more.
func (w *writer) applyNow(ctx context.Context, p pendingWrite) error {
	c := p.change
	for i := range c.Events {
		if c.Events[i].Data.RecordingID != "" {
			c.Events[i].Data.Seq = 0 // numbered by the store in the transaction that writes it
		}
	}
	write := func() error {
		if p.op != nil {
			return p.op(ctx)
		}
		return w.store.Apply(ctx, c)
	}
	err := write()
	if errors.Is(err, store.ErrNoSpace) && w.reserve.Release() {
		w.log.Error("the database's disk is full: released the disk reserve so failures can be recorded; "+
			"recording goes on failing until space is freed", "reserve", w.reserve.Path, "err", err)
		err = write()
	}
	if err == nil && p.notify && w.notify != nil {
		w.notify()
	}
	return err
}

// run retries the kept changes, with backoff, and takes the reserve back once there is room
// for it, until ctx ends.
func (w *writer) run(ctx context.Context) {
	n := 1 // the retry whose delay is waited
	due := w.retry.After(n)
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
			continue // a new failure: its first retry comes after the current wait
		case <-due:
		}
		ok := w.flush(ctx)
		if ok {
			w.retake()
		}
		if ok && w.reserve.Held() {
			n = 1
		} else {
			n++
		}
		due = w.retry.After(n)
	}
}

// flush writes what was kept, each recording's changes in order, and reports whether nothing
// is left.
func (w *writer) flush(ctx context.Context) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, ps := range w.backlog {
		for len(ps) > 0 {
			actx, cancel := context.WithTimeout(ctx, storeTimeout)
			err := w.applyNow(actx, ps[0])
			cancel()
			if err != nil && transient(err) {
				w.lastErr = err
				w.backlog[id] = ps
				return false
			}
			if err != nil {
				w.log.Error("a kept state change can never be written; dropped", "recording", id, "what", ps[0].what,
					"err", err)
			} else {
				w.log.Info("kept state change written", "recording", id, "what", ps[0].what,
					"after", time.Since(ps[0].since).Round(time.Millisecond))
			}
			ps[0] = pendingWrite{}
			ps = ps[1:]
			w.waiting--
		}
		delete(w.backlog, id)
	}
	w.lastErr = nil
	return true
}

// retake holds the reserve again once the disk has room for it and as much again.
func (w *writer) retake() {
	if w.reserve.Held() {
		return
	}
	free, err := diskspace.Free(w.dataDir)
	if err != nil || free < 2*w.reserve.Size {
		return
	}
	if err := w.reserve.Hold(); err != nil {
		w.log.Warn("taking the disk reserve again failed", "err", err)
		return
	}
	w.log.Info("space is back: the disk reserve is held again", "reserve", w.reserve.Path, "bytes", w.reserve.Size, "free", free)
}

// health says why the database cannot be written now ("" when it can): changes are waiting,
// or the reserve is not held (the disk filled up).
func (w *writer) health() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.waiting > 0:
		return fmt.Sprintf("%d state changes wait to be written: %v", w.waiting, w.lastErr)
	case !w.reserve.Held():
		return fmt.Sprintf("the disk reserve %s is not held: the data disk is (or was) full", w.reserve.Path)
	}
	return ""
}
