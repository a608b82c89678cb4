package app

import (
	"context"

	"github.com/liverec/liverec/internal/events"
	"github.com/liverec/liverec/internal/record"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/upload"
)

// The recorders' and the uploader's reports, handed to the events component (internal/events)
// in its own terms, each with its own database deadline.

// fileStarted reports a recording's new file.
func (a *App) fileStarted(id string, f record.FileStarted) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	a.events.FileStarted(ctx, id, events.FileStart{Format: f.Format, Seq: f.Seq, Start: f.Start, Tracks: f.Tracks,
		Endpoint: f.Storage.Endpoint, Bucket: f.Storage.Bucket, ObjectKey: a.up.StartKey(f.Storage, f.Config, f.Vars)})
}

// paused and resumed report a pause of a recording and its resume.
func (a *App) paused(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	a.events.Paused(ctx, id)
}

func (a *App) resumed(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	a.events.Resumed(ctx, id)
}

// recordingFailed reports the failure of a recording (by its recorder or the uploader).
func (a *App) recordingFailed(id string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	a.events.Failed(ctx, id, err)
}

// stored reports what the uploader stored: a file or playlist, a slice (kept in the catalogue
// for indexes and clips), or a recording's end job, which passes the uploader after the
// recording's last file.
func (a *App) stored(s upload.Stored) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	j := s.Job
	switch j.Kind {
	case upload.JobSlice:
		a.events.SliceStored(ctx, &recording.Slice{RecordingID: j.RecordingID, FileSeq: j.PlaylistSeq, Seq: j.Seq,
			Endpoint: s.Endpoint, Bucket: s.Bucket, ObjectKey: s.ObjectKey, StartedAt: j.Start,
			Duration: j.Stats.Duration, Bytes: s.Bytes, Discontinuity: j.Slice.Discontinuity})
	case upload.JobEnd:
		a.events.Ended(ctx, j.RecordingID, j.Err, j.EndReason)
	default:
		// The bytes stored, not the writer's count: a finalized MP4 is smaller than its spool file.
		a.events.FileStored(ctx, events.StoredFile{RecordingID: j.RecordingID, Format: j.Format, Seq: j.Seq,
			Endpoint: s.Endpoint, Bucket: s.Bucket, ObjectKey: s.ObjectKey, Start: j.Start, End: j.End,
			Duration: j.Stats.Duration, Bytes: s.Bytes,
			VideoFrames: j.Stats.VideoFrames, AudioFrames: j.Stats.AudioFrames})
	}
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
