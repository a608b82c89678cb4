package events

import (
	"context"
	"fmt"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// FileDeleted marks f, a stored file of rec whose objects were removed, deleted as
// FilesDeleted does for one file, and sets f's State and DeletedAt once it is written.
func (e *Emitter) FileDeleted(ctx context.Context, rec *recording.Recording, f *recording.File, reason string) error {
	files := []store.DueFile{{File: *f, Recording: *rec}}
	if err := e.FilesDeleted(ctx, files, reason); err != nil {
		return err
	}
	f.State, f.DeletedAt = files[0].File.State, files[0].File.DeletedAt
	return nil
}

// FilesDeleted marks files, stored files whose objects were removed (each with its
// recording), deleted (State FileDeleted; DeletedAt now unless the caller set it), each with a
// file_deleted event saying why (reason: recording.DeleteRetention, DeleteDiskFull or
// DeleteAPI) and its deliveries, all in one transaction that applies only while every file is
// still stored. So of two deleters racing on a file one writes its event; the other gets
// recording.ErrConflict (wrapped) and writes nothing of its batch, and may retry file by file.
// Unlike the recorder's changes, a write that fails is returned, not kept: the caller retries
// (its objects are deleted again, which is harmless) and each event is written once. Once
// written, each file's State and DeletedAt in files are set.
func (e *Emitter) FilesDeleted(ctx context.Context, files []store.DueFile, reason string) error {
	if len(files) == 0 {
		return nil
	}
	now := time.Now()
	var (
		c      store.Change
		notify bool
		ids    []string
		seen   = map[string]bool{}
		// callbacks per domain: a batch mostly shares few domains, and a lookup per file
		// would cost as much as the write.
		callbacks = map[string][]recording.CallbackConfig{}
		what      = "file_deleted event"
	)
	if len(files) > 1 {
		what = fmt.Sprintf("%d file_deleted events", len(files))
	}
	for i := range files {
		rec, f := &files[i].Recording, &files[i].File
		if f.RecordingID != rec.ID {
			return fmt.Errorf("write %s: file %s is not of recording %s", what, f.ID, rec.ID)
		}
		all, ok := callbacks[rec.Domain]
		if !ok {
			var err error
			if all, err = e.callbacks(ctx, rec.Domain); err != nil {
				return fmt.Errorf("write %s: look up callbacks: %w", what, err)
			}
			callbacks[rec.Domain] = all
		}
		upd := *f
		upd.State = recording.FileDeleted
		if upd.DeletedAt == nil {
			upd.DeletedAt = &now
		}
		c.FileUpdates = append(c.FileUpdates, store.FileUpdate{File: &upd, From: recording.FileStored})
		start := f.StartedAt
		data := recording.EventData{FileID: f.ID, Format: f.Format, Endpoint: f.Endpoint, Bucket: f.Bucket,
			ObjectKey: f.ObjectKey, Bytes: f.Bytes, Duration: f.Duration, StartTime: &start, EndTime: f.EndedAt,
			Width: f.Width, Height: f.Height, Reason: reason, Label: rec.Label}
		var n bool
		c, n = e.addEvent(rec, recording.EventFileDeleted, data, c, all)
		notify = notify || n
		if !seen[rec.ID] {
			seen[rec.ID] = true
			ids = append(ids, rec.ID)
		}
	}
	if err := e.w.applyDirect(ctx, ids, c, notify, what); err != nil {
		return err
	}
	for i, u := range c.FileUpdates {
		files[i].File.State, files[i].File.DeletedAt = u.File.State, u.File.DeletedAt
	}
	return nil
}
