// Package events turns the state changes of recordings into outbox events: each change is
// written with its event in one transaction, fanned out to the callback configurations that
// receive it, and kept and retried in order when the database cannot take it (a full disk, a
// database that does not answer), so that none is lost. It knows nothing of the recorder or the
// uploader: the app reports their changes to an Emitter.
//
// A file's ID is chosen when it starts: its file_started event, its file_completed event and
// its File row share it. file_started also names where the file will be stored as far as its
// start tells (end-time variables of the object template render as "live"), so the key of
// file_completed differs when the template uses them. Stored HLS slices are kept in the
// catalogue (SliceStored) the same durable way as the state changes.
package events

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/liverec/liverec/internal/backoff"
	"github.com/liverec/liverec/internal/diskspace"
	"github.com/liverec/liverec/internal/notify/dialect"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// Store is what an Emitter reads and writes: store.Outbox's Apply and store.Control's
// CallbacksForStream.
type Store interface {
	Apply(ctx context.Context, c store.Change) error
	CallbacksForStream(ctx context.Context, domain string) ([]recording.CallbackConfig, error)
}

// SliceStore keeps the stored HLS slices (store.Catalog's SliceInsert).
type SliceStore interface {
	SliceInsert(ctx context.Context, s *recording.Slice) error
}

// Config configures an Emitter.
type Config struct {
	// Store receives the changes and lists the callback configurations. Required.
	Store Store
	// Slices, if set, keeps the stored HLS slices (SliceStored) for indexes and clips.
	Slices SliceStore
	// Reserve is the disk reserve given back when the database's disk is full, and taken again
	// once there is room for it. Required.
	Reserve *diskspace.Reserve
	// DataDir is where free space is measured before the reserve is taken again.
	DataDir string
	// RetryMin and RetryMax bound the backoff between retries of kept changes: the first
	// waits RetryMin, each next one twice the last, at most RetryMax (no jitter).
	RetryMin, RetryMax time.Duration
	// Clock is what the retries wait on; default the real clock.
	Clock backoff.Clock
	// Notify, if set, wakes the notifier after a change with deliveries was written.
	Notify func()
	// DownloadURL, if set, makes an object's download_url for file events.
	DownloadURL func(ctx context.Context, endpoint, bucket, key string) string
	// Logger logs the writes that fail or were kept; nil logs nothing.
	Logger *slog.Logger
	// Node is this node's id: a recording's state changes are written only while it is
	// this node's, so a node whose recording another node continued cannot change it.
	Node string
}

// Emitter writes the state changes of recordings with their events. Its methods may be called
// from many goroutines at once; Run retries the changes kept for later. A recording's events
// are written only between Started (or Adopt) and its end (Ended).
type Emitter struct {
	// w writes the changes: at once, or kept and retried (writer.go).
	w           *writer
	slices      SliceStore
	downloadURL func(ctx context.Context, endpoint, bucket, key string) string
	callbacks   func(ctx context.Context, domain string) ([]recording.CallbackConfig, error)
	// node guards the recordings' state changes (Config.Node).
	node string

	mu   sync.Mutex
	live map[string]*live
	// lastSeq makes delivery sequence numbers strictly increase across recordings and restarts
	// (wall-clock nanoseconds, bumped when two come in the same nanosecond).
	lastSeq atomic.Int64
}

// live is a recording between its start and its end event: what its events need. It is not
// the same set as the app's running recorders: a recording stays here until its last file is
// stored, and a recording a restart recovers has no recorder at all.
type live struct {
	rec *recording.Recording
	log *slog.Logger
	// width/height of the current video, for file events.
	mu            sync.Mutex
	width, height int
	// failed: the failure was reported; the end writes no second event. final: a restart
	// found the recording already ended (its late files are still reported).
	failed, final bool
	// files are the files started and not stored yet: the ID their file_started event
	// announced and the video size they started with.
	files map[fileKey]startedFile
}

type fileKey struct {
	format recording.Format
	seq    int
}

type startedFile struct {
	id            string
	width, height int
}

// New returns an Emitter; it writes at once, and retries what it keeps while Run runs.
func New(cfg Config) *Emitter {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	retry := backoff.Policy{Min: cfg.RetryMin, Max: cfg.RetryMax, Clock: cfg.Clock}
	return &Emitter{
		w:           newWriter(cfg.Store, cfg.Reserve, cfg.DataDir, retry, cfg.Notify, log),
		slices:      cfg.Slices,
		downloadURL: cfg.DownloadURL,
		callbacks:   cfg.Store.CallbacksForStream,
		live:        map[string]*live{},
		node:        cfg.Node,
	}
}

// Run retries the changes kept for later, with backoff, and takes the disk reserve back once
// there is room for it, until ctx ends. It returns nil.
func (e *Emitter) Run(ctx context.Context) error {
	e.w.run(ctx)
	return nil
}

// Flush writes the changes kept for later, each recording's in order, and reports whether
// none is left (at shutdown: what is left is lost, and the next start recovers its recording).
func (e *Emitter) Flush(ctx context.Context) bool { return e.w.flush(ctx) }

// Health says why the database cannot be written now ("" when it can): changes wait to be
// written, or the disk reserve is not held (the disk filled up). /readyz reports it.
func (e *Emitter) Health() string { return e.w.health() }

func (e *Emitter) get(id string) *live {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.live[id]
}

func (e *Emitter) nextDeliverySeq() int64 {
	for {
		last := e.lastSeq.Load()
		next := max(time.Now().UnixNano(), last+1)
		if e.lastSeq.CompareAndSwap(last, next) {
			return next
		}
	}
}

// write applies change together with an event of type t about l's recording.
func (e *Emitter) write(ctx context.Context, l *live, t recording.Event, data recording.EventData, change store.Change) error {
	change, notify, err := e.withEvent(ctx, l.rec, t, data, change)
	if err != nil {
		return err
	}
	return e.w.apply(ctx, l.rec.ID, change, notify, string(t)+" event")
}

// withEvent adds to change an event of type t about r and its deliveries; notify tells
// whether there are any.
func (e *Emitter) withEvent(ctx context.Context, r *recording.Recording, t recording.Event, data recording.EventData,
	change store.Change,
) (c store.Change, notify bool, err error) {
	all, err := e.callbacks(ctx, r.Domain)
	if err != nil {
		return change, false, fmt.Errorf("look up callbacks: %w", err)
	}
	c, notify = e.addEvent(r, t, data, change, all)
	return c, notify, nil
}

// addEvent is withEvent with the callback configurations of r's domain (all) already looked
// up, so that a batch looks them up once per domain.
func (e *Emitter) addEvent(r *recording.Recording, t recording.Event, data recording.EventData, change store.Change,
	all []recording.CallbackConfig,
) (c store.Change, notify bool) {
	data.Project, data.RecordingID = r.Project, r.ID
	data.Domain, data.App, data.Stream = r.Domain, r.App, r.Stream
	data.PushArgs = r.Params
	data.Seq = 0 // numbered by the store, after the recording's stored events
	ev := recording.OutboxEvent{ID: store.NewID(store.EventPrefix), Type: t, Data: data, CreatedAt: time.Now()}
	var ds []recording.Delivery
	for _, c := range targets(all, r, t) {
		ds = append(ds, recording.Delivery{EventID: ev.ID, CallbackID: c.ID, Project: r.Project,
			OrderKey: c.ID + "|" + r.Domain + "/" + r.App + "/" + r.Stream, Seq: e.nextDeliverySeq()})
	}
	change.Events = append(change.Events, ev)
	change.Deliveries = append(change.Deliveries, ds)
	return change, len(ds) > 0
}

// targets picks, per dialect, the configuration of the recording's project that serves its
// stream (recording.MatchCallbacks), when it is enabled and receives t. A disabled
// configuration is still the match: it does not hand its app's events to a "*" one. all are
// the configurations of r's domain.
func targets(all []recording.CallbackConfig, r *recording.Recording, t recording.Event) []*recording.CallbackConfig {
	best := recording.MatchCallbacks(all, r.Project, r.Domain, r.App,
		func(c *recording.CallbackConfig) bool { return c.URL != "" })
	out := best[:0]
	for _, c := range best {
		if c.Enabled && dialect.Subscribed(c, t) {
			out = append(out, c)
		}
	}
	return out
}
