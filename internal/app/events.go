package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/liverec/liverec/internal/notify/dialect"
	"github.com/liverec/liverec/internal/record"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// live is a recording between its start and its "over" event: what its events need.
type live struct {
	rec *recording.Recording
	log *slog.Logger
	// width/height of the current video, for file events.
	mu            sync.Mutex
	width, height int
	// failed: the failure was reported; the end writes no second event. final: a restart
	// found the recording already ended (its late files are still reported).
	failed, final bool
}

// events turns recording state changes into outbox events, written in the same transaction as
// the change (§7), fanned out to the callback configurations that receive them.
type events struct {
	store interface {
		store.Store
		store.Control
		store.Outbox
	}
	// w writes the changes: at once, or kept and retried when the disk is full (writes.go).
	w   *writer
	log *slog.Logger
	// url makes an object's download_url (§8); nil: none.
	url func(ctx context.Context, endpoint, bucket, key string) string

	mu   sync.Mutex
	live map[string]*live
	// lastSeq makes delivery sequence numbers strictly increase across recordings and restarts
	// (wall-clock nanoseconds, bumped when two come in the same nanosecond).
	lastSeq atomic.Int64
}

func (e *events) get(id string) *live {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.live[id]
}

func (e *events) nextDeliverySeq() int64 {
	for {
		last := e.lastSeq.Load()
		next := max(time.Now().UnixNano(), last+1)
		if e.lastSeq.CompareAndSwap(last, next) {
			return next
		}
	}
}

// write applies change together with an event of type t about l's recording.
func (e *events) write(ctx context.Context, l *live, t recording.Event, data recording.EventData, change store.Change) error {
	r := l.rec
	data.Project, data.RecordingID = r.Project, r.ID
	data.Domain, data.App, data.Stream = r.Domain, r.App, r.Stream
	data.PushArgs = r.Params
	data.Seq = 0 // numbered by the store, after the recording's stored events
	ev := recording.OutboxEvent{ID: store.NewID(store.EventPrefix), Type: t, Data: data, CreatedAt: time.Now()}
	targets, err := e.targets(ctx, r, t)
	if err != nil {
		return err
	}
	var ds []recording.Delivery
	for _, c := range targets {
		ds = append(ds, recording.Delivery{EventID: ev.ID, CallbackID: c.ID, Project: r.Project,
			OrderKey: c.ID + "|" + r.Domain + "/" + r.App + "/" + r.Stream, Seq: e.nextDeliverySeq()})
	}
	change.Events = append(change.Events, ev)
	change.Deliveries = append(change.Deliveries, ds)
	return e.w.apply(ctx, r.ID, change, len(ds) > 0, string(t)+" event")
}

// targets picks, per dialect, the best-matching enabled configuration of the recording's
// project that receives t: an exact app beats "*" (§7).
func (e *events) targets(ctx context.Context, r *recording.Recording, t recording.Event) ([]recording.CallbackConfig, error) {
	all, err := e.store.CallbacksForStream(ctx, r.Domain)
	if err != nil {
		return nil, fmt.Errorf("look up callbacks: %w", err)
	}
	best := map[recording.Dialect]*recording.CallbackConfig{}
	for i := range all {
		c := &all[i]
		if c.Project != r.Project || c.URL == "" || (c.App != r.App && c.App != recording.Wildcard) {
			continue
		}
		if cur := best[c.Dialect]; cur == nil || (cur.App == recording.Wildcard && c.App == r.App) {
			best[c.Dialect] = c
		}
	}
	var out []recording.CallbackConfig
	for _, c := range best {
		if c.Enabled && dialect.Subscribed(c, t) {
			out = append(out, *c)
		}
	}
	return out, nil
}

// started writes the recording with its record_started event.
func (e *events) started(ctx context.Context, rec *recording.Recording, log *slog.Logger) error {
	l := &live{rec: rec, log: log}
	e.mu.Lock()
	e.live[rec.ID] = l
	e.mu.Unlock()
	return e.write(ctx, l, recording.EventRecordStarted, recording.EventData{},
		store.Change{RecordingInsert: rec})
}

// fileStarted writes a file_started event.
func (e *events) fileStarted(ctx context.Context, id string, f record.FileStarted) {
	l := e.get(id)
	if l == nil {
		return
	}
	start := f.Start
	data := recording.EventData{Format: f.Format, StartTime: &start}
	if v := f.Tracks.Video; v != nil {
		data.Width, data.Height = v.Width, v.Height
		l.mu.Lock()
		l.width, l.height = v.Width, v.Height
		l.mu.Unlock()
	}
	if err := e.write(ctx, l, recording.EventFileStarted, data, store.Change{}); err != nil {
		l.log.Error("file started event", "err", err)
	}
}

// stored writes a completed file (or playlist) with its file_completed event, and the end of
// a recording with its over or failed event.
func (e *events) stored(ctx context.Context, s record.Stored) {
	l := e.get(s.Job.RecordingID)
	if l == nil {
		return
	}
	switch s.Job.Kind {
	case record.JobSlice:
		return // slices are listed in their playlist
	case record.JobEnd:
		e.ended(ctx, l, s.Job.Err, s.Job.Recovered)
		return
	}
	j := s.Job
	start, end := j.Start, j.End
	f := &recording.File{ID: store.NewID(store.FilePrefix), RecordingID: j.RecordingID, Format: j.Format,
		State: recording.FileStored, Endpoint: s.Endpoint, Bucket: s.Bucket, ObjectKey: s.ObjectKey,
		StartedAt: start, EndedAt: &end, Duration: j.Stats.Duration, Bytes: j.Stats.Bytes,
		VideoFrames: j.Stats.VideoFrames, AudioFrames: j.Stats.AudioFrames}
	l.mu.Lock()
	w, h := l.width, l.height
	l.mu.Unlock()
	data := recording.EventData{FileID: f.ID, Format: j.Format, Endpoint: s.Endpoint, Bucket: s.Bucket,
		ObjectKey: s.ObjectKey, Bytes: j.Stats.Bytes, Duration: j.Stats.Duration, StartTime: &start,
		EndTime: &end, Width: w, Height: h}
	if e.url != nil {
		data.DownloadURL = e.url(ctx, s.Endpoint, s.Bucket, s.ObjectKey)
	}
	if err := e.write(ctx, l, recording.EventFileCompleted, data, store.Change{FileInsert: f}); err != nil {
		l.log.Error("file completed event", "key", s.ObjectKey, "err", err)
	}
}

// recoveredReason explains the end of a recording a crash interrupted.
const recoveredReason = "liverec restarted after an unclean stop; the recording was ended and its files recovered from the spool"

func (e *events) ended(ctx context.Context, l *live, err error, recovered bool) {
	e.mu.Lock()
	delete(e.live, l.rec.ID)
	e.mu.Unlock()
	l.mu.Lock()
	done := l.failed || l.final
	rec := *l.rec
	l.mu.Unlock()
	if done {
		return
	}
	now := time.Now()
	rec.EndedAt = &now
	rec.State = recording.RecordingOver
	t, data := recording.EventRecordOver, recording.EventData{}
	if recovered {
		rec.Reason, data.Reason = recoveredReason, recoveredReason
	}
	if err != nil {
		rec.State, rec.Reason = recording.RecordingFailed, err.Error()
		t, data.Reason = recording.EventRecordFailed, strings.TrimSpace(err.Error())
	}
	if werr := e.write(ctx, l, t, data, store.Change{RecordingUpdate: &rec}); werr != nil {
		l.log.Error("recording end event", "err", werr)
		return
	}
	l.log.Info("recording ended", "state", rec.State)
}

// paused and resumed write a pause of the recording (files kept open, §6) and its resume.
func (e *events) paused(ctx context.Context, id string) {
	e.transition(ctx, id, recording.EventRecordPaused, recording.RecordingPaused)
}

func (e *events) resumed(ctx context.Context, id string) {
	e.transition(ctx, id, recording.EventRecordResumed, recording.RecordingActive)
}

func (e *events) transition(ctx context.Context, id string, t recording.Event, state recording.RecordingState) {
	l := e.get(id)
	if l == nil {
		return
	}
	l.mu.Lock()
	if l.failed {
		l.mu.Unlock()
		return
	}
	l.rec.State = state
	rec := *l.rec
	l.mu.Unlock()
	if err := e.write(ctx, l, t, recording.EventData{}, store.Change{RecordingUpdate: &rec}); err != nil {
		l.log.Error("recording state event", "event", t, "err", err)
	}
}

// failed writes the failure of a recording at once (§6: files may still be stored and
// reported after it).
func (e *events) failed(ctx context.Context, id string, cause error) {
	l := e.get(id)
	if l == nil {
		return
	}
	l.mu.Lock()
	if l.failed {
		l.mu.Unlock()
		return
	}
	l.failed = true
	now := time.Now()
	reason := strings.TrimSpace(cause.Error())
	l.rec.State, l.rec.Reason, l.rec.EndedAt = recording.RecordingFailed, reason, &now
	rec := *l.rec
	l.mu.Unlock()
	if err := e.write(ctx, l, recording.EventRecordFailed, recording.EventData{Reason: reason},
		store.Change{RecordingUpdate: &rec}); err != nil {
		l.log.Error("recording failed event", "err", err)
		return
	}
	l.log.Warn("recording failed", "reason", reason)
}

// adopt takes over a recording a previous run left unfinished, for crash recovery.
func (e *events) adopt(rec *recording.Recording, log *slog.Logger) {
	final := rec.State != recording.RecordingActive && rec.State != recording.RecordingPaused
	e.mu.Lock()
	e.live[rec.ID] = &live{rec: rec, log: log, final: final}
	e.mu.Unlock()
}

// notRecorded writes a recording that was decided against, with an ondemand_failed event when
// the decision failed (§5: visible through the API).
func (e *events) notRecorded(ctx context.Context, rec *recording.Recording, log *slog.Logger) error {
	if !strings.HasPrefix(rec.Reason, "on-demand decision failed") && !strings.HasPrefix(rec.Reason, "record_config:") {
		return e.w.apply(ctx, rec.ID, store.Change{RecordingInsert: rec}, false, "not recorded")
	}
	l := &live{rec: rec, log: log}
	return e.write(ctx, l, recording.EventOnDemandFailed, recording.EventData{Reason: rec.Reason},
		store.Change{RecordingInsert: rec})
}

// callbackKeys gives the notifier a delivery's configuration with its key opened.
type callbackKeys struct{ a *App }

func (c callbackKeys) Callback(ctx context.Context, id string) (*recording.CallbackConfig, string, error) {
	cfg, err := c.a.store.CallbackByID(ctx, id)
	if err != nil {
		return nil, "", err
	}
	key, err := c.a.svc.CallbackKey(cfg)
	if err != nil {
		return nil, "", err
	}
	return cfg, key, nil
}
