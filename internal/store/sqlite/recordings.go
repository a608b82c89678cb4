package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

const recordingCols = `id, project, rule_id, domain, app, stream, state, reason, started_at, ended_at, params`

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
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		rec.ID, rec.Project, rec.RuleID, rec.Domain, rec.App, rec.Stream, rec.State, rec.Reason,
		fmtTime(rec.StartedAt), fmtTimePtr(rec.EndedAt), params)
	if err != nil {
		return fmt.Errorf("insert recording: %w", mapErr(err))
	}
	return nil
}

// RecordingUpdate implements store.Store.
func (db *DB) RecordingUpdate(ctx context.Context, rec *recording.Recording) error {
	return updateRecording(ctx, db.write, rec)
}

func updateRecording(ctx context.Context, q querier, rec *recording.Recording) error {
	params, err := marshalParams(rec.Params)
	if err != nil {
		return fmt.Errorf("update recording %s: %w", rec.ID, err)
	}
	normTimePtr(&rec.EndedAt)
	res, err := q.ExecContext(ctx, `UPDATE recordings SET state = $2, reason = $3,
		ended_at = $4, params = $5 WHERE id = $1`,
		rec.ID, rec.State, rec.Reason, fmtTimePtr(rec.EndedAt), params)
	if err = affectedOne(res, err); err != nil {
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

func scanRecording(s scanner) (*recording.Recording, error) {
	var (
		rec           recording.Recording
		started       string
		ended, params sql.NullString
	)
	err := s.Scan(&rec.ID, &rec.Project, &rec.RuleID, &rec.Domain, &rec.App, &rec.Stream,
		&rec.State, &rec.Reason, &started, &ended, &params)
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
		if err := json.Unmarshal([]byte(params.String), &rec.Params); err != nil {
			return nil, fmt.Errorf("recording %s params: %w", rec.ID, err)
		}
	}
	return &rec, nil
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
	started_at, ended_at, duration_ns, bytes, video_frames, audio_frames`

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
	_, err := q.ExecContext(ctx, `INSERT INTO files (`+fileCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		f.ID, f.RecordingID, f.Format, f.State, f.SpoolPath, f.Endpoint, f.Bucket, f.ObjectKey,
		fmtTime(f.StartedAt), fmtTimePtr(f.EndedAt), int64(f.Duration), f.Bytes, f.VideoFrames, f.AudioFrames)
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
	res, err := q.ExecContext(ctx, `UPDATE files SET state = $2, spool_path = $3,
		endpoint = $4, bucket = $5, object_key = $6, ended_at = $7, duration_ns = $8, bytes = $9,
		video_frames = $10, audio_frames = $11 WHERE id = $1`,
		f.ID, f.State, f.SpoolPath, f.Endpoint, f.Bucket, f.ObjectKey, fmtTimePtr(f.EndedAt),
		int64(f.Duration), f.Bytes, f.VideoFrames, f.AudioFrames)
	if err = affectedOne(res, err); err != nil {
		return fmt.Errorf("update file %s: %w", f.ID, err)
	}
	return nil
}

// FileList implements store.Store.
func (db *DB) FileList(ctx context.Context, f store.FileFilter) ([]recording.File, int, error) {
	w := &where{}
	w.eq("recording_id", f.RecordingID)
	w.eq("format", string(f.Format))
	w.eq("state", string(f.State))
	files := []recording.File{}
	total, err := db.list(ctx, "files", fileCols, w, f.Offset, f.Limit, f.OrderDesc, func(rows *sql.Rows) error {
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

func scanFile(s scanner) (*recording.File, error) {
	var (
		f        recording.File
		started  string
		ended    sql.NullString
		duration int64
	)
	err := s.Scan(&f.ID, &f.RecordingID, &f.Format, &f.State, &f.SpoolPath, &f.Endpoint, &f.Bucket,
		&f.ObjectKey, &started, &ended, &duration, &f.Bytes, &f.VideoFrames, &f.AudioFrames)
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
	return &f, nil
}
