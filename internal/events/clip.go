package events

import (
	"context"
	"log/slog"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// ClipStored writes a clip's recording (mode clip, already over) and its stored MP4 with a
// file_completed event, in one write: a clip is reported like any recorded file. Event
// recordings (mode event) are written the same way, with their label in the event.
func (e *Emitter) ClipStored(ctx context.Context, rec *recording.Recording, f *recording.File) error {
	l := &live{rec: rec, log: slog.New(slog.DiscardHandler), final: true}
	start := f.StartedAt
	data := recording.EventData{FileID: f.ID, Format: f.Format, Endpoint: f.Endpoint, Bucket: f.Bucket,
		ObjectKey: f.ObjectKey, Bytes: f.Bytes, Duration: f.Duration, StartTime: &start, EndTime: f.EndedAt,
		Width: f.Width, Height: f.Height, Label: rec.Label}
	if e.downloadURL != nil {
		data.DownloadURL = e.downloadURL(ctx, f.Endpoint, f.Bucket, f.ObjectKey)
	}
	return e.write(ctx, l, recording.EventFileCompleted, data, store.Change{RecordingInsert: rec, FileInsert: f})
}
