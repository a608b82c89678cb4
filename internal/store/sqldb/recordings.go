package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

const recordingCols = `id, project, rule_id, domain, app, stream, state, reason, started_at, ended_at, params, mode, locked, label, node_id`

// querier is a *sql.DB or a *sql.Tx, so the single-row writes run alone or inside Apply.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// RecordingInsert implements store.Store.
func (db *DB) RecordingInsert(ctx context.Context, rec *recording.Recording) error {
	return insertRecording(ctx, db.write, rec)
}

func insertRecording(ctx context.Context, q querier, rec *recording.Recording) error {
	if rec.ID == "" {
		rec.ID = store.NewID(store.RecordingPrefix)
	}
	params, err := marshalParams(rec.Params)
	if err != nil {
		return fmt.Errorf("insert recording: %w", err)
	}
	rec.StartedAt = normTime(rec.StartedAt)
	normTimePtr(&rec.EndedAt)
	_, err = q.ExecContext(ctx, `INSERT INTO recordings (`+recordingCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		rec.ID, rec.Project, rec.RuleID, rec.Domain, rec.App, rec.Stream, rec.State, rec.Reason,
		fmtTime(rec.StartedAt), fmtTimePtr(rec.EndedAt), params, rec.Mode, rec.Locked, rec.Label, rec.Node)
	if err != nil {
		return fmt.Errorf("insert recording: %w", mapErr(err))
	}
	return nil
}

// RecordingUpdate implements store.Store.
func (db *DB) RecordingUpdate(ctx context.Context, rec *recording.Recording) error {
	return updateRecording(ctx, db.write, rec, "")
}

// updateRecording writes rec's mutable fields; with owner set, only while the recording is
// owner's or no node's (store.Change.RecordingOwner).
func updateRecording(ctx context.Context, q querier, rec *recording.Recording, owner string) error {
	params, err := marshalParams(rec.Params)
	if err != nil {
		return fmt.Errorf("update recording %s: %w", rec.ID, err)
	}
	normTimePtr(&rec.EndedAt)
	query := `UPDATE recordings SET state = $2, reason = $3, ended_at = $4, params = $5 WHERE id = $1`
	args := []any{rec.ID, rec.State, rec.Reason, fmtTimePtr(rec.EndedAt), params}
	if owner != "" {
		query += ` AND (node_id = $6 OR node_id = '')`
		args = append(args, owner)
	}
	res, err := q.ExecContext(ctx, query, args...)
	if err = affectedOne(res, err); err != nil {
		if owner != "" && errors.Is(err, recording.ErrNotFound) {
			var n int
			if qerr := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM recordings WHERE id = $1`, rec.ID).Scan(&n); qerr == nil && n > 0 {
				err = fmt.Errorf("another node records it now: %w", recording.ErrConflict)
			}
		}
		return fmt.Errorf("update recording %s: %w", rec.ID, err)
	}
	return nil
}

// RecordingGet implements store.Store.
func (db *DB) RecordingGet(ctx context.Context, project, id string) (*recording.Recording, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+recordingCols+` FROM recordings
		WHERE project = $1 AND id = $2`, project, id)
	rec, err := scanRecording(row)
	if err != nil {
		return nil, fmt.Errorf("get recording %s: %w", id, mapErr(err))
	}
	return rec, nil
}

// RecordingList implements store.Store.
func (db *DB) RecordingList(ctx context.Context, f store.RecordingFilter) ([]recording.Recording, int, error) {
	w := &where{}
	w.eq("project", f.Project)
	w.eq("rule_id", f.RuleID)
	w.eq("domain", f.Domain)
	w.eq("app", f.App)
	w.eq("stream", f.Stream)
	w.eq("state", string(f.State))
	w.eq("mode", string(f.Mode))
	w.overlap("started_at", "ended_at", f.From, f.To)
	if !f.From.IsZero() && f.Project != "" {
		w.prepare = func(ctx context.Context, tx *sql.Tx) error {
			return boundStart(ctx, db.d, tx, w, f.Project, f.From)
		}
	}
	if f.RuleID == "" && f.Domain == "" && f.App == "" && f.Stream == "" && f.From.IsZero() && f.To.IsZero() {
		c := &where{}
		c.eq("project", f.Project)
		c.eq("state", string(f.State))
		c.eq("mode", string(f.Mode))
		w.count, w.countArgs = `SELECT COALESCE(SUM(n), 0) FROM recording_counts`+c.String(), c.args
	}
	if f.After != "" {
		w.after, w.afterArgs = `SELECT seq FROM recordings WHERE id = $1`, []any{f.After}
		if f.Project != "" {
			w.after += ` AND project = $2`
			w.afterArgs = append(w.afterArgs, f.Project)
		}
	}
	recs := []recording.Recording{}
	total, err := db.list(ctx, "recordings", recordingCols, w, f.Offset, f.Limit, f.OrderDesc, func(rows *sql.Rows) error {
		rec, err := scanRecording(rows)
		if err == nil {
			recs = append(recs, *rec)
		}
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list recordings: %w", err)
	}
	return recs, total, nil
}

// boundStart adds to w a lower bound on the start of the recordings of project that overlap
// [from, …): the earlier of from minus the longest ended recording and the oldest live one's
// start. It is implied by the overlap test, but lets the index range start there.
func boundStart(ctx context.Context, d *dialect, tx *sql.Tx, w *where, project string, from time.Time) error {
	var (
		longestDays sql.NullFloat64
		oldestLive  sql.NullString
	)
	if err := tx.QueryRowContext(ctx, `SELECT `+d.longestDays+` FROM recordings
		WHERE project = $1`, project).Scan(&longestDays); err != nil {
		return fmt.Errorf("longest recording: %w", err)
	}
	// Without INDEXED BY, SQLite walks recordings_started from the oldest to the first live one.
	if err := tx.QueryRowContext(ctx, `SELECT MIN(started_at) FROM recordings `+d.indexedBy("recordings_live")+`
		WHERE project = $1 AND ended_at IS NULL`, project).Scan(&oldestLive); err != nil {
		return fmt.Errorf("oldest live recording: %w", err)
	}
	// julianday has about a millisecond of precision: a second of margin. A century bounds
	// the conversion (time.Duration ends at 292 years).
	longest := time.Duration(min(longestDays.Float64, 36500) * float64(24*time.Hour))
	low := from.Add(-longest - time.Second)
	live, err := parseTimePtr(oldestLive)
	if err != nil {
		return fmt.Errorf("oldest live recording: %w", err)
	}
	if live != nil && live.Before(low) {
		low = *live
	}
	w.cmp("started_at", ">=", fmtTime(low))
	return nil
}

func scanRecording(s scanner) (*recording.Recording, error) {
	return scanRecordingWith(s)
}

// scanRecordingWith scans recordingCols followed by more columns into more.
func scanRecordingWith(s scanner, more ...any) (*recording.Recording, error) {
	var (
		rec           recording.Recording
		started       string
		ended, params sql.NullString
	)
	err := s.Scan(append([]any{&rec.ID, &rec.Project, &rec.RuleID, &rec.Domain, &rec.App, &rec.Stream,
		&rec.State, &rec.Reason, &started, &ended, &params, &rec.Mode, &rec.Locked, &rec.Label, &rec.Node}, more...)...)
	if err != nil {
		return nil, err
	}
	if rec.StartedAt, err = parseTime(started); err != nil {
		return nil, err
	}
	if rec.EndedAt, err = parseTimePtr(ended); err != nil {
		return nil, err
	}
	if params.Valid {
		if err := unmarshalParams(params.String, &rec); err != nil {
			return nil, err
		}
	}
	return &rec, nil
}

func unmarshalParams(s string, rec *recording.Recording) error {
	if err := json.Unmarshal([]byte(s), &rec.Params); err != nil {
		return fmt.Errorf("recording %s params: %w", rec.ID, err)
	}
	return nil
}

// marshalParams keeps nil and empty apart: NULL for nil, "{}" for empty.
func marshalParams(p map[string]string) (sql.NullString, error) {
	if p == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// affectedOne turns an UPDATE that matched no row into recording.ErrNotFound.
func affectedOne(res sql.Result, err error) error {
	if err != nil {
		return mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return recording.ErrNotFound
	}
	return nil
}

const fileCols = `id, recording_id, format, state, spool_path, endpoint, bucket, object_key,
	started_at, ended_at, duration_ns, bytes, video_frames, audio_frames, file_seq, width, height, deleted_at`

// fileColsF are fileCols of the alias f, for the queries that join the file's recording (r).
var fileColsF = qualify("f", fileCols)

// qualify prefixes every column of the comma-separated cols with alias.
func qualify(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// FileInsert implements store.Store.
func (db *DB) FileInsert(ctx context.Context, f *recording.File) error {
	return insertFile(ctx, db.write, f)
}

func insertFile(ctx context.Context, q querier, f *recording.File) error {
	if f.ID == "" {
		f.ID = store.NewID(store.FilePrefix)
	}
	f.StartedAt = normTime(f.StartedAt)
	normTimePtr(&f.EndedAt)
	normTimePtr(&f.DeletedAt)
	_, err := q.ExecContext(ctx, `INSERT INTO files (`+fileCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		f.ID, f.RecordingID, f.Format, f.State, f.SpoolPath, f.Endpoint, f.Bucket, f.ObjectKey,
		fmtTime(f.StartedAt), fmtTimePtr(f.EndedAt), int64(f.Duration), f.Bytes, f.VideoFrames, f.AudioFrames,
		f.Seq, f.Width, f.Height, fmtTimePtr(f.DeletedAt))
	if err != nil {
		return fmt.Errorf("insert file: %w", mapErr(err))
	}
	return nil
}

// FileUpdate implements store.Store.
func (db *DB) FileUpdate(ctx context.Context, f *recording.File) error {
	return updateFile(ctx, db.write, f)
}

func updateFile(ctx context.Context, q querier, f *recording.File) error {
	normTimePtr(&f.EndedAt)
	normTimePtr(&f.DeletedAt)
	res, err := q.ExecContext(ctx, `UPDATE files SET state = $2, spool_path = $3,
		endpoint = $4, bucket = $5, object_key = $6, ended_at = $7, duration_ns = $8, bytes = $9,
		video_frames = $10, audio_frames = $11, width = $12, height = $13, deleted_at = $14 WHERE id = $1`,
		f.ID, f.State, f.SpoolPath, f.Endpoint, f.Bucket, f.ObjectKey, fmtTimePtr(f.EndedAt),
		int64(f.Duration), f.Bytes, f.VideoFrames, f.AudioFrames, f.Width, f.Height, fmtTimePtr(f.DeletedAt))
	if err = affectedOne(res, err); err != nil {
		return fmt.Errorf("update file %s: %w", f.ID, err)
	}
	return nil
}

// FileList implements store.Store.
func (db *DB) FileList(ctx context.Context, f store.FileFilter) ([]recording.File, int, error) {
	w := &where{order: "f.seq"}
	table := "files f"
	if f.Project != "" || f.Domain != "" || f.App != "" || f.Stream != "" || f.Mode != "" || f.NotMode != "" {
		table += " JOIN recordings r ON r.id = f.recording_id"
		w.eq("r.project", f.Project)
		w.eq("r.domain", f.Domain)
		w.eq("r.app", f.App)
		w.eq("r.stream", f.Stream)
		w.eq("r.mode", string(f.Mode))
		w.cmp("r.mode", "<>", string(f.NotMode))
	}
	w.eq("f.recording_id", f.RecordingID)
	w.eq("f.format", string(f.Format))
	w.eq("f.state", string(f.State))
	w.overlap("f.started_at", "f.ended_at", f.From, f.To)
	if f.After != "" {
		w.after, w.afterArgs = `SELECT f.seq FROM files f JOIN recordings r ON r.id = f.recording_id
			WHERE f.id = $1 AND ($2 = '' OR r.project = $2)`, []any{f.After, f.Project}
	}
	files := []recording.File{}
	total, err := db.list(ctx, table, fileColsF, w, f.Offset, f.Limit, f.OrderDesc, func(rows *sql.Rows) error {
		file, err := scanFile(rows)
		if err == nil {
			files = append(files, *file)
		}
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list files: %w", err)
	}
	return files, total, nil
}

// FileGet implements store.Store.
func (db *DB) FileGet(ctx context.Context, project, id string) (*recording.File, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+fileColsF+` FROM files f
		JOIN recordings r ON r.id = f.recording_id WHERE r.project = $1 AND f.id = $2`, project, id)
	f, err := scanFile(row)
	if err != nil {
		return nil, fmt.Errorf("get file %s: %w", id, mapErr(err))
	}
	return f, nil
}

func scanFile(s scanner) (*recording.File, error) {
	var (
		f        recording.File
		started  string
		ended    sql.NullString
		deleted  sql.NullString
		duration int64
	)
	err := s.Scan(&f.ID, &f.RecordingID, &f.Format, &f.State, &f.SpoolPath, &f.Endpoint, &f.Bucket,
		&f.ObjectKey, &started, &ended, &duration, &f.Bytes, &f.VideoFrames, &f.AudioFrames,
		&f.Seq, &f.Width, &f.Height, &deleted)
	if err != nil {
		return nil, err
	}
	f.Duration = time.Duration(duration)
	if f.StartedAt, err = parseTime(started); err != nil {
		return nil, err
	}
	if f.EndedAt, err = parseTimePtr(ended); err != nil {
		return nil, err
	}
	if f.DeletedAt, err = parseTimePtr(deleted); err != nil {
		return nil, err
	}
	return &f, nil
}
