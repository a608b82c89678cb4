// Package retention deletes stored files: each rule's expired files (a pass every Interval,
// batched and paced), and, through Deleter, what the disk policy and the API choose. It only
// ever deletes the objects the store records (a file's object, an HLS file's slices): it never
// lists a bucket, so it cannot touch what liverec did not write.
//
// A deletion removes the objects of a batch of files first and then marks the batch deleted,
// with a file_deleted event per file, in one transaction. A crash between the two leaves the
// files stored with their objects gone: the next pass deletes them again (a missing object is
// not an error) and writes the marks and the events once. Nothing is deleted twice, nothing is
// missed.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// Objects removes stored objects; a missing object is not an error.
type Objects interface {
	Delete(ctx context.Context, endpoint, bucket, key string) error
}

// Slices lists an HLS file's stored slices (store.Catalog's SliceList).
type Slices interface {
	SliceList(ctx context.Context, f store.SliceFilter) ([]recording.Slice, error)
}

// Marker marks a batch of files deleted, each with its file_deleted event, in one write
// (events.Emitter). It gives recording.ErrConflict, writing nothing, when one of them is no
// longer stored.
type Marker interface {
	FilesDeleted(ctx context.Context, files []store.DueFile, reason string) error
}

// markBatch is the most files marked deleted in one transaction: a transaction per file cost
// ~650µs, and one of 1000 holds the database's writer for a few tens of milliseconds.
const markBatch = 1000

// DeleteObjects removes a file's object and, for HLS, its slices' objects, as the store
// records them.
func DeleteObjects(ctx context.Context, objects Objects, slices Slices, f *recording.File) error {
	if objects == nil {
		return errors.New("storage is not available")
	}
	if f.Format == recording.FormatHLS {
		if slices == nil {
			return fmt.Errorf("list slices of file %s: no catalogue", f.ID)
		}
		sls, err := slices.SliceList(ctx, store.SliceFilter{RecordingID: f.RecordingID, FileSeq: f.Seq, HasFileSeq: true})
		if err != nil {
			return fmt.Errorf("list slices of file %s: %w", f.ID, err)
		}
		for _, sl := range sls {
			if err := objects.Delete(ctx, sl.Endpoint, sl.Bucket, sl.ObjectKey); err != nil {
				return fmt.Errorf("delete slice %s: %w", sl.ObjectKey, err)
			}
		}
	}
	if err := objects.Delete(ctx, f.Endpoint, f.Bucket, f.ObjectKey); err != nil {
		return fmt.Errorf("delete %s: %w", f.ObjectKey, err)
	}
	return nil
}

// Metrics count deleted files and bytes by reason. A nil *Metrics records nothing.
type Metrics struct {
	files, bytes *prometheus.CounterVec
}

// NewMetrics registers liverec_deleted_files_total and liverec_deleted_bytes_total.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		files: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "liverec_deleted_files_total",
			Help: "Stored files deleted, by reason (retention, disk_full, api)."}, []string{"reason"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "liverec_deleted_bytes_total",
			Help: "Bytes of the stored files deleted, by reason (retention, disk_full, api)."}, []string{"reason"}),
	}
	for _, r := range []string{recording.DeleteRetention, recording.DeleteDiskFull, recording.DeleteAPI} {
		m.files.WithLabelValues(r)
		m.bytes.WithLabelValues(r)
	}
	reg.MustRegister(m.files, m.bytes)
	return m
}

func (m *Metrics) deleted(reason string, bytes int64) {
	if m != nil {
		m.files.WithLabelValues(reason).Inc()
		m.bytes.WithLabelValues(reason).Add(float64(bytes))
	}
}

// Deleter deletes stored files: objects first, then the mark with its event. Retention, the
// disk policy and the API's deletions all go through it. Its fields are required except
// Slices (no HLS then), Metrics and Logger.
type Deleter struct {
	Objects Objects
	Slices  Slices
	Marker  Marker
	Metrics *Metrics
	Logger  *slog.Logger
}

// Delete deletes files (each with its recording, as store.Retention returns them) for reason
// (recording.DeleteRetention, DeleteDiskFull, DeleteAPI), in order, and returns how many it
// deleted and their bytes. A file no longer stored (deleted by someone else meanwhile) is
// skipped and not counted; so is a locked recording's file unless reason is DeleteAPI (an
// explicit request). It stops at the first error or when ctx ends.
//
// The objects of up to markBatch files go first, then the files are marked in one write. If
// one was deleted by someone else meanwhile, the batch's write conflicts and the files are
// marked one by one instead, skipping that one. When an object cannot be deleted, the files
// before it are still marked.
func (d *Deleter) Delete(ctx context.Context, files []store.DueFile, reason string) (n int, bytes int64, err error) {
	batch := make([]store.DueFile, 0, min(len(files), markBatch))
	flush := func() error {
		bn, bb, err := d.mark(ctx, batch, reason)
		n, bytes = n+bn, bytes+bb
		batch = batch[:0]
		return err
	}
	for i := range files {
		if err := ctx.Err(); err != nil {
			return n, bytes, err // the next pass deletes the batch's objects again and marks it
		}
		due := &files[i]
		if (due.Recording.Locked && reason != recording.DeleteAPI) || due.File.State != recording.FileStored {
			continue
		}
		f := &due.File
		if err := DeleteObjects(ctx, d.Objects, d.Slices, f); err != nil {
			err = fmt.Errorf("delete file %s of recording %s: %w", f.ID, f.RecordingID, err)
			return n, bytes, errors.Join(err, flush())
		}
		batch = append(batch, *due)
		if len(batch) == markBatch {
			if err := flush(); err != nil {
				return n, bytes, err
			}
		}
	}
	return n, bytes, flush()
}

// mark marks batch, whose objects are gone, deleted: in one write, or file by file when that
// write conflicts. It returns how many files it marked and their bytes.
func (d *Deleter) mark(ctx context.Context, batch []store.DueFile, reason string) (n int, bytes int64, err error) {
	if len(batch) == 0 {
		return 0, 0, nil
	}
	err = d.Marker.FilesDeleted(ctx, batch, reason)
	switch {
	case errors.Is(err, recording.ErrConflict) && len(batch) > 1:
		// Someone else deleted one of them and wrote its event: which one the error names,
		// but others may follow; marking one by one finds every one.
		for i := range batch {
			bn, bb, merr := d.mark(ctx, batch[i:i+1], reason)
			n, bytes = n+bn, bytes+bb
			if merr != nil {
				return n, bytes, merr
			}
		}
		return n, bytes, nil
	case errors.Is(err, recording.ErrConflict):
		return 0, 0, nil // someone else deleted it and wrote its event
	case err != nil && len(batch) == 1:
		f := &batch[0].File
		return 0, 0, fmt.Errorf("mark file %s of recording %s deleted: %w", f.ID, f.RecordingID, err)
	case err != nil:
		return 0, 0, fmt.Errorf("mark %d files deleted (first %s): %w", len(batch), batch[0].File.ID, err)
	}
	for i := range batch {
		f := &batch[i].File
		n++
		bytes += f.Bytes
		d.Metrics.deleted(reason, f.Bytes)
		if d.Logger != nil {
			d.Logger.Debug("deleted file", "file", f.ID, "recording", f.RecordingID, "key", f.ObjectKey,
				"bytes", f.Bytes, "reason", reason)
		}
	}
	return n, bytes, nil
}
