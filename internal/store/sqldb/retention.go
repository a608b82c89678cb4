package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

var (
	recordingColsR = qualify("r", recordingCols)
)

// condUpdateFileSQL is updateFile's statement made conditional on the stored state ($15, an
// empty string for none), so a conditional update is one statement and not a read and a write.
const condUpdateFileSQL = `UPDATE files SET state = $2, spool_path = $3,
	endpoint = $4, bucket = $5, object_key = $6, ended_at = $7, duration_ns = $8, bytes = $9,
	video_frames = $10, audio_frames = $11, width = $12, height = $13, deleted_at = $14
	WHERE id = $1 AND ($15 = '' OR state = $15)`

// applyFileUpdates is Apply's FileUpdate (from: FileUpdateFrom) and FileUpdates, in that
// order. A batch prepares its statement once in the transaction.
func applyFileUpdates(ctx context.Context, tx *sql.Tx, single *recording.File, from recording.FileState,
	ups []store.FileUpdate,
) error {
	if single != nil {
		if err := applyFileUpdate(ctx, tx, tx, single, from); err != nil {
			return err
		}
	}
	if len(ups) == 0 {
		return nil
	}
	var exec execer = tx
	if len(ups) > 1 {
		stmt, err := tx.PrepareContext(ctx, condUpdateFileSQL)
		if err != nil {
			return fmt.Errorf("prepare file updates: %w", mapErr(err))
		}
		defer func() { _ = stmt.Close() }()
		exec = stmtExecer{stmt}
	}
	for _, u := range ups {
		if u.File == nil {
			return errors.New("update file: no file")
		}
		if err := applyFileUpdate(ctx, tx, exec, u.File, u.From); err != nil {
			return err
		}
	}
	return nil
}

// execer runs condUpdateFileSQL: a transaction, or a statement prepared in it.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

type stmtExecer struct{ *sql.Stmt }

func (s stmtExecer) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return s.Stmt.ExecContext(ctx, args...)
}

// applyFileUpdate writes f, only while the stored file is in state from when from is set,
// and takes an HLS file's slices along when it marks the file deleted.
func applyFileUpdate(ctx context.Context, tx *sql.Tx, exec execer, f *recording.File, from recording.FileState) error {
	normTimePtr(&f.EndedAt)
	normTimePtr(&f.DeletedAt)
	res, err := exec.ExecContext(ctx, condUpdateFileSQL,
		f.ID, f.State, f.SpoolPath, f.Endpoint, f.Bucket, f.ObjectKey, fmtTimePtr(f.EndedAt),
		int64(f.Duration), f.Bytes, f.VideoFrames, f.AudioFrames, f.Width, f.Height, fmtTimePtr(f.DeletedAt), from)
	err = affectedOne(res, err)
	if errors.Is(err, recording.ErrNotFound) && from != "" {
		// Only the failure path reads the state, to tell a missing file from a moved one.
		var state recording.FileState
		if serr := tx.QueryRowContext(ctx, `SELECT state FROM files WHERE id = $1`, f.ID).Scan(&state); serr != nil {
			return fmt.Errorf("update file %s: %w", f.ID, mapErr(serr))
		}
		return fmt.Errorf("update file %s: it is %s, not %s: %w", f.ID, state, from, recording.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("update file %s: %w", f.ID, err)
	}
	if f.State != recording.FileDeleted || f.Format != recording.FormatHLS {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE slices SET deleted = TRUE WHERE recording_id = $1 AND file_seq = $2`,
		f.RecordingID, f.Seq); err != nil {
		return fmt.Errorf("mark slices of file %s deleted: %w", f.ID, mapErr(err))
	}
	return nil
}

// RecordingLock implements store.Retention.
func (db *DB) RecordingLock(ctx context.Context, project, id string, locked bool) (*recording.Recording, error) {
	row := db.write.QueryRowContext(ctx, `UPDATE recordings SET locked = $3 WHERE project = $1 AND id = $2
		RETURNING `+recordingCols, project, id, locked)
	rec, err := scanRecording(row)
	if err != nil {
		return nil, fmt.Errorf("lock recording %s: %w", id, mapErr(err))
	}
	return rec, nil
}

// RetentionRules implements store.Retention.
func (db *DB) RetentionRules(ctx context.Context) ([]recording.Rule, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+ruleCols+` FROM rules WHERE retention_s > 0 ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("rules with retention: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var rules []recording.Rule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, fmt.Errorf("rules with retention: %w", err)
		}
		rules = append(rules, *r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rules with retention: %w", err)
	}
	return rules, nil
}

// RetentionDue implements store.Retention.
func (db *DB) RetentionDue(ctx context.Context, ruleID string, endedBefore time.Time, limit int) ([]store.DueFile, error) {
	due, err := db.dueFiles(ctx, `SELECT `+recordingColsR+`, `+fileColsF+`
		FROM recordings r `+db.d.indexedBy("recordings_retention")+`
		JOIN files f `+db.d.indexedBy("files_stored")+` ON f.recording_id = r.id AND f.state = 'stored'
		WHERE r.rule_id = $1 AND r.locked = `+db.d.falseSQL+` AND r.ended_at IS NOT NULL AND r.ended_at <= $2
		ORDER BY r.ended_at, f.seq LIMIT $3`, ruleID, fmtTime(endedBefore.UTC()), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("files due of rule %s: %w", ruleID, err)
	}
	return due, nil
}

// OverwriteCandidates implements store.Retention.
func (db *DB) OverwriteCandidates(ctx context.Context, endpoint string, limit int) ([]store.DueFile, error) {
	due, err := db.dueFiles(ctx, `SELECT `+recordingColsR+`, `+fileColsF+`
		FROM files f `+db.d.indexedBy("files_stored_endpoint")+`
		JOIN recordings r ON r.id = f.recording_id
		JOIN rules ru ON ru.id = r.rule_id
		WHERE f.endpoint = $1 AND f.state = 'stored' AND r.locked = `+db.d.falseSQL+` AND ru.overwrite_when_full <> `+db.d.falseSQL+`
		ORDER BY f.started_at, f.seq LIMIT $2`, endpoint, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("overwrite candidates on %s: %w", endpoint, err)
	}
	return due, nil
}

func (db *DB) dueFiles(ctx context.Context, query string, args ...any) ([]store.DueFile, error) {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	due := []store.DueFile{}
	for rows.Next() {
		rec, f, err := scanRecordingFile(rows)
		if err != nil {
			return nil, err
		}
		due = append(due, store.DueFile{File: *f, Recording: *rec})
	}
	return due, rows.Err()
}

// scanRecordingFile scans recordingCols followed by fileCols.
func scanRecordingFile(rows *sql.Rows) (*recording.Recording, *recording.File, error) {
	var (
		rec              recording.Recording
		started          string
		ended, params    sql.NullString
		f                recording.File
		fStarted         string
		fEnded, fDeleted sql.NullString
		duration         int64
	)
	err := rows.Scan(&rec.ID, &rec.Project, &rec.RuleID, &rec.Domain, &rec.App, &rec.Stream,
		&rec.State, &rec.Reason, &started, &ended, &params, &rec.Mode, &rec.Locked, &rec.Label, &rec.Node,
		&f.ID, &f.RecordingID, &f.Format, &f.State, &f.SpoolPath, &f.Endpoint, &f.Bucket,
		&f.ObjectKey, &fStarted, &fEnded, &duration, &f.Bytes, &f.VideoFrames, &f.AudioFrames,
		&f.Seq, &f.Width, &f.Height, &fDeleted)
	if err != nil {
		return nil, nil, err
	}
	if rec.StartedAt, err = parseTime(started); err != nil {
		return nil, nil, err
	}
	if rec.EndedAt, err = parseTimePtr(ended); err != nil {
		return nil, nil, err
	}
	if params.Valid {
		if err = unmarshalParams(params.String, &rec); err != nil {
			return nil, nil, err
		}
	}
	f.Duration = time.Duration(duration)
	if f.StartedAt, err = parseTime(fStarted); err != nil {
		return nil, nil, err
	}
	if f.EndedAt, err = parseTimePtr(fEnded); err != nil {
		return nil, nil, err
	}
	if f.DeletedAt, err = parseTimePtr(fDeleted); err != nil {
		return nil, nil, err
	}
	return &rec, &f, nil
}

var _ store.Retention = (*DB)(nil)
