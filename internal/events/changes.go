package events

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// FileStart describes a file (or HLS playlist) that started.
type FileStart struct {
	Format recording.Format
	// Seq numbers the files of one format in their recording; the file stored with the same
	// Format and Seq keeps the ID its file_started event announced.
	Seq   int
	Start time.Time
	// Tracks give the video size of this file's and the recording's later file events; without
	// video the size of the previous file stays.
	Tracks media.Tracks
	// Endpoint, Bucket and ObjectKey are where the file will be stored as far as its start
	// tells: a key whose template uses end-time variables renders them as "live", so the
	// file_completed event's key may differ.
	Endpoint, Bucket, ObjectKey string
}

// StoredFile is a file (or HLS playlist) durable in its bucket.
type StoredFile struct {
	RecordingID string
	Format      recording.Format
	// Seq is the file's number in its format (FileStart.Seq).
	Seq                         int
	Endpoint, Bucket, ObjectKey string
	Start, End                  time.Time
	Duration                    time.Duration
	// Bytes is the size of what was stored (for HLS, of its slices).
	Bytes                    int64
	VideoFrames, AudioFrames int64
	// Width and Height are the video size; zero takes the size the file started with.
	Width, Height int
}

// RecoveredReason explains the end of a recording a crash interrupted.
const RecoveredReason = "liverec restarted after an unclean stop; the recording was ended and its files recovered from the spool"

// Started writes the recording with its record_started event; its later changes are logged
// to log.
func (e *Emitter) Started(ctx context.Context, rec *recording.Recording, log *slog.Logger) error {
	l := &live{rec: rec, log: log}
	e.mu.Lock()
	e.live[rec.ID] = l
	e.mu.Unlock()
	return e.write(ctx, l, recording.EventRecordStarted, recording.EventData{},
		store.Change{RecordingInsert: rec})
}

// NotRecorded writes a recording that was decided against; when the decision failed, with an
// ondemand_failed event (visible through the API).
func (e *Emitter) NotRecorded(ctx context.Context, rec *recording.Recording, decisionFailed bool, log *slog.Logger) error {
	if !decisionFailed {
		return e.w.apply(ctx, rec.ID, store.Change{RecordingInsert: rec}, false, "not recorded")
	}
	l := &live{rec: rec, log: log}
	return e.write(ctx, l, recording.EventOnDemandFailed, recording.EventData{Reason: rec.Reason},
		store.Change{RecordingInsert: rec})
}

// Adopt takes over a recording a previous run left unfinished, for crash recovery: its
// recovered files and its end are written like those of a live one.
func (e *Emitter) Adopt(rec *recording.Recording, log *slog.Logger) {
	final := rec.State != recording.RecordingActive && rec.State != recording.RecordingPaused
	e.mu.Lock()
	e.live[rec.ID] = &live{rec: rec, log: log, final: final}
	e.mu.Unlock()
}

// Continue takes over a live recording another node started and writes its
// record_resumed event: this node records it from now on. files are the files it continues
// (an HLS playlist), by number, with the id their file_started event announced.
func (e *Emitter) Continue(ctx context.Context, rec *recording.Recording, files map[int]string,
	format recording.Format, log *slog.Logger,
) {
	l := &live{rec: rec, log: log, files: map[fileKey]startedFile{}}
	for seq, id := range files {
		l.files[fileKey{format, seq}] = startedFile{id: id}
	}
	e.mu.Lock()
	e.live[rec.ID] = l
	e.mu.Unlock()
	e.Resumed(ctx, rec.ID)
}

// AdoptFiles takes over the recovered files of a recording another node now records:
// their events are written, but its end is that node's.
func (e *Emitter) AdoptFiles(rec *recording.Recording, log *slog.Logger) {
	e.mu.Lock()
	e.live[rec.ID] = &live{rec: rec, log: log, final: true}
	e.mu.Unlock()
}

// FileStarted writes a file_started event. The file's ID is chosen here, so that the event
// names the file its file_completed event and File row will have (Huawei's job_id).
func (e *Emitter) FileStarted(ctx context.Context, id string, f FileStart) {
	l := e.get(id)
	if l == nil {
		return
	}
	start := f.Start
	data := recording.EventData{FileID: store.NewID(store.FilePrefix), Format: f.Format, StartTime: &start,
		Endpoint: f.Endpoint, Bucket: f.Bucket, ObjectKey: f.ObjectKey}
	l.mu.Lock()
	if v := f.Tracks.Video; v != nil {
		data.Width, data.Height = v.Width, v.Height
		l.width, l.height = v.Width, v.Height
	}
	if l.files == nil {
		l.files = map[fileKey]startedFile{}
	}
	l.files[fileKey{f.Format, f.Seq}] = startedFile{id: data.FileID, width: l.width, height: l.height}
	l.mu.Unlock()
	if err := e.write(ctx, l, recording.EventFileStarted, data, store.Change{}); err != nil {
		l.log.Error("file started event", "err", err)
	}
}

// FileStored writes a stored file (or playlist) with its file_completed event.
func (e *Emitter) FileStored(ctx context.Context, s StoredFile) {
	l := e.get(s.RecordingID)
	if l == nil {
		return
	}
	l.mu.Lock()
	sf, ok := l.files[fileKey{s.Format, s.Seq}]
	delete(l.files, fileKey{s.Format, s.Seq})
	if !ok {
		// Its start was not seen (a file recovered after a restart).
		sf = startedFile{id: store.NewID(store.FilePrefix), width: l.width, height: l.height}
	}
	l.mu.Unlock()
	w, h := sf.width, sf.height
	if s.Width > 0 && s.Height > 0 {
		w, h = s.Width, s.Height
	}
	start, end := s.Start, s.End
	f := &recording.File{ID: sf.id, RecordingID: s.RecordingID, Format: s.Format, Seq: s.Seq,
		State: recording.FileStored, Endpoint: s.Endpoint, Bucket: s.Bucket, ObjectKey: s.ObjectKey,
		StartedAt: start, EndedAt: &end, Duration: s.Duration, Bytes: s.Bytes,
		VideoFrames: s.VideoFrames, AudioFrames: s.AudioFrames, Width: w, Height: h}
	data := recording.EventData{FileID: f.ID, Format: s.Format, Endpoint: s.Endpoint, Bucket: s.Bucket,
		ObjectKey: s.ObjectKey, Bytes: s.Bytes, Duration: s.Duration, StartTime: &start,
		EndTime: &end, Width: w, Height: h}
	if e.downloadURL != nil {
		data.DownloadURL = e.downloadURL(ctx, s.Endpoint, s.Bucket, s.ObjectKey)
	}
	if err := e.write(ctx, l, recording.EventFileCompleted, data, store.Change{FileInsert: f}); err != nil {
		l.log.Error("file completed event", "key", s.ObjectKey, "err", err)
	}
}

// SliceStored keeps a stored HLS slice in the catalogue. Like a state change it is written in
// order with its recording's changes and, when the database cannot take it for now, kept and
// retried (a lost slice would be missing from every index over its time); a slice that can
// never be written (its recording is unknown) is logged. It needs no live recording: slices
// come before their recording's end.
func (e *Emitter) SliceStored(ctx context.Context, s *recording.Slice) {
	if e.slices == nil {
		return
	}
	err := e.w.applyOp(ctx, s.RecordingID, func(ctx context.Context) error { return e.slices.SliceInsert(ctx, s) },
		"slice "+s.ObjectKey)
	if err != nil {
		e.w.log.Error("stored slice not kept in the catalogue", "recording", s.RecordingID, "key", s.ObjectKey, "err", err)
	}
}

// Ended writes the end of a recording once its last file is stored: record_over, or
// record_failed when err is set, unless its failure was written already. reason, when set,
// says why it ended without its publisher's leaving (RecoveredReason: a restart ended it; or
// its node died). The recording's events end here.
func (e *Emitter) Ended(ctx context.Context, id string, err error, reason string) {
	l := e.get(id)
	if l == nil {
		return
	}
	e.mu.Lock()
	delete(e.live, id)
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
	if reason != "" {
		rec.Reason, data.Reason = reason, reason
	}
	if err != nil {
		rec.State, rec.Reason = recording.RecordingFailed, err.Error()
		t, data.Reason = recording.EventRecordFailed, strings.TrimSpace(err.Error())
	}
	if werr := e.write(ctx, l, t, data, store.Change{RecordingUpdate: &rec, RecordingOwner: e.node}); werr != nil {
		if errors.Is(werr, recording.ErrConflict) {
			l.log.Info("the recording goes on on another node; its end is that node's")
			return
		}
		l.log.Error("recording end event", "err", werr)
		return
	}
	l.log.Info("recording ended", "state", rec.State)
}

// Paused writes a pause of the recording (files kept open).
func (e *Emitter) Paused(ctx context.Context, id string) {
	e.transition(ctx, id, recording.EventRecordPaused, recording.RecordingPaused)
}

// Resumed writes the resume of a paused recording.
func (e *Emitter) Resumed(ctx context.Context, id string) {
	e.transition(ctx, id, recording.EventRecordResumed, recording.RecordingActive)
}

func (e *Emitter) transition(ctx context.Context, id string, t recording.Event, state recording.State) {
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
	if err := e.write(ctx, l, t, recording.EventData{}, store.Change{RecordingUpdate: &rec, RecordingOwner: e.node}); err != nil {
		l.log.Error("recording state event", "event", t, "err", err)
	}
}

// Failed writes the failure of a recording at once (files may still be stored and
// reported after it; its end writes no second event).
func (e *Emitter) Failed(ctx context.Context, id string, cause error) {
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
		store.Change{RecordingUpdate: &rec, RecordingOwner: e.node}); err != nil {
		l.log.Error("recording failed event", "err", err)
		return
	}
	l.log.Warn("recording failed", "reason", reason)
}
