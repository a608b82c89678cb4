package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

var _ store.Catalog = (*DB)(nil)

const sliceCols = `recording_id, file_seq, seq, project, domain, app, stream, endpoint, bucket, object_key,
	started_at, duration_ns, bytes, discontinuity, deleted`

// SliceInsert implements store.Catalog. The stream key comes from the recording in the same
// statement, so a slice never names a stream its recording does not.
func (db *DB) SliceInsert(ctx context.Context, s *recording.Slice) error {
	if s.Duration < 0 {
		return fmt.Errorf("insert slice %s/%d/%d: negative duration %s", s.RecordingID, s.FileSeq, s.Seq, s.Duration)
	}
	s.StartedAt = normTime(s.StartedAt)
	err := db.outbox.insertSlice.QueryRowContext(ctx,
		s.RecordingID, s.FileSeq, s.Seq, s.Endpoint, s.Bucket, s.ObjectKey, fmtTime(s.StartedAt),
		fmtTime(s.End()), int64(s.Duration), s.Bytes, s.Discontinuity, s.Deleted,
	).Scan(&s.Project, &s.Domain, &s.App, &s.Stream)
	if err != nil {
		return fmt.Errorf("insert slice %s/%d/%d: %w", s.RecordingID, s.FileSeq, s.Seq, mapErr(err))
	}
	return nil
}

const insertSliceSQL = `INSERT INTO slices (recording_id, file_seq, seq, project, domain,
			app, stream, endpoint, bucket, object_key, started_at, ended_at, duration_ns, bytes, discontinuity, deleted)
		SELECT id, $2, $3, project, domain, app, stream, $4, $5, $6, $7, $8, $9, $10, $11, $12
		FROM recordings WHERE id = $1
		ON CONFLICT (recording_id, file_seq, seq) DO UPDATE SET endpoint = excluded.endpoint,
			bucket = excluded.bucket, object_key = excluded.object_key, started_at = excluded.started_at,
			ended_at = excluded.ended_at, duration_ns = excluded.duration_ns, bytes = excluded.bytes,
			discontinuity = excluded.discontinuity, deleted = excluded.deleted
		RETURNING project, domain, app, stream`

// SliceList implements store.Catalog.
func (db *DB) SliceList(ctx context.Context, f store.SliceFilter) ([]recording.Slice, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("list slices: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	w := &where{}
	w.eq("project", f.Project)
	w.eq("domain", f.Domain)
	w.eq("app", f.App)
	w.eq("stream", f.Stream)
	w.eq("recording_id", f.RecordingID)
	if f.HasFileSeq {
		w.args = append(w.args, f.FileSeq)
		w.conds = append(w.conds, fmt.Sprintf("file_seq = $%d", len(w.args)))
	}
	if !f.Deleted {
		w.conds = append(w.conds, "NOT deleted")
	}
	if !f.To.IsZero() {
		w.cmp("started_at", "<", fmtTime(ceilTime(f.To)))
	}
	if !f.From.IsZero() {
		w.cmp("ended_at", ">", fmtTime(f.From))
		// A slice overlapping From starts at most the stream's longest slice before it: that
		// bounds the index range from below too, so an old range does not scan from the start.
		if f.Domain != "" && f.App != "" && f.Stream != "" {
			var longest sql.NullInt64
			if err = tx.QueryRowContext(ctx, `SELECT MAX(duration_ns) FROM slices
				WHERE domain = $1 AND app = $2 AND stream = $3`, f.Domain, f.App, f.Stream).Scan(&longest); err != nil {
				return nil, fmt.Errorf("list slices: %w", err)
			}
			w.cmp("started_at", ">", fmtTime(f.From.Add(-time.Duration(longest.Int64))))
		}
	}
	w.args = append(w.args, sqlLimit(f.Limit))
	rows, err := tx.QueryContext(ctx, `SELECT `+sliceCols+` FROM slices`+w.String()+
		fmt.Sprintf(` ORDER BY started_at, recording_id, file_seq, seq LIMIT $%d`, len(w.args)), w.args...)
	if err != nil {
		return nil, fmt.Errorf("list slices: %w", err)
	}
	defer func() { _ = rows.Close() }()
	slices := []recording.Slice{}
	for rows.Next() {
		var (
			s        recording.Slice
			started  string
			duration int64
		)
		if err = rows.Scan(&s.RecordingID, &s.FileSeq, &s.Seq, &s.Project, &s.Domain, &s.App, &s.Stream,
			&s.Endpoint, &s.Bucket, &s.ObjectKey, &started, &duration, &s.Bytes, &s.Discontinuity, &s.Deleted); err != nil {
			return nil, fmt.Errorf("list slices: %w", err)
		}
		if s.StartedAt, err = parseTime(started); err != nil {
			return nil, fmt.Errorf("list slices: %w", err)
		}
		s.Duration = time.Duration(duration)
		slices = append(slices, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list slices: %w", err)
	}
	return slices, nil
}

// FileDelete implements store.Catalog.
func (db *DB) FileDelete(ctx context.Context, project, id string, at time.Time) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var (
			recID   string
			format  recording.Format
			fileSeq int
		)
		err := tx.QueryRowContext(ctx, `UPDATE files SET state = $1, deleted_at = $2
			WHERE id = $3 AND recording_id IN (SELECT id FROM recordings WHERE project = $4)
			RETURNING recording_id, format, file_seq`,
			recording.FileDeleted, fmtTime(at), id, project).Scan(&recID, &format, &fileSeq)
		if err != nil {
			return err
		}
		if format != recording.FormatHLS {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE slices SET deleted = TRUE WHERE recording_id = $1 AND file_seq = $2`,
			recID, fileSeq)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete file %s: %w", id, mapErr(err))
	}
	return nil
}
