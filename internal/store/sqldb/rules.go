package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

const ruleCols = `id, project, dialect, domain, app, stream, mode, formats,
	storage_endpoint, storage_bucket, storage_base_path, start_time, end_time, created_at, updated_at,
	retention_s, overwrite_when_full, pre_roll_s`

// RuleInsert implements store.Store.
func (db *DB) RuleInsert(ctx context.Context, r *recording.Rule) error {
	return insertRule(ctx, db.write, r, db.dbNow())
}

// Seed implements store.Store.
func (db *DB) Seed(ctx context.Context, r *recording.Rule) (bool, error) {
	seeded := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES ('seeded', $1)
			ON CONFLICT (name) DO NOTHING`, fmtTime(db.dbNow()))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		seeded = true
		return insertRule(ctx, tx, r, db.dbNow())
	})
	if err != nil {
		return false, fmt.Errorf("seed: %w", mapErr(err))
	}
	return seeded, nil
}

func insertRule(ctx context.Context, q querier, r *recording.Rule, now time.Time) error {
	if r.ID == "" {
		r.ID = store.NewID(store.RulePrefix)
	}
	formats, err := json.Marshal(r.Formats)
	if err != nil {
		return fmt.Errorf("insert rule: %w", err)
	}
	normTimePtr(&r.StartTime)
	normTimePtr(&r.EndTime)
	_, err = q.ExecContext(ctx, `INSERT INTO rules (`+ruleCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		r.ID, r.Project, r.Dialect, r.Domain, r.App, r.Stream, r.Mode, string(formats),
		r.Storage.Endpoint, r.Storage.Bucket, r.Storage.BasePath,
		fmtTimePtr(r.StartTime), fmtTimePtr(r.EndTime), fmtTime(now), fmtTime(now),
		r.RetentionS, r.OverwriteWhenFull, r.PreRollS)
	if err != nil {
		return fmt.Errorf("insert rule: %w", mapErr(err))
	}
	r.CreatedAt, r.UpdatedAt = now, now
	return nil
}

// RuleUpdate implements store.Store.
func (db *DB) RuleUpdate(ctx context.Context, r *recording.Rule) error {
	formats, err := json.Marshal(r.Formats)
	if err != nil {
		return fmt.Errorf("update rule %s: %w", r.ID, err)
	}
	now := db.dbNow()
	normTimePtr(&r.StartTime)
	normTimePtr(&r.EndTime)
	var created string
	err = db.write.QueryRowContext(ctx, `UPDATE rules SET dialect = $3, domain = $4, app = $5,
		stream = $6, mode = $7, formats = $8, storage_endpoint = $9, storage_bucket = $10,
		storage_base_path = $11, start_time = $12, end_time = $13, updated_at = $14,
		retention_s = $15, overwrite_when_full = $16, pre_roll_s = $17
		WHERE project = $1 AND id = $2 RETURNING created_at`,
		r.Project, r.ID, r.Dialect, r.Domain, r.App, r.Stream, r.Mode, string(formats),
		r.Storage.Endpoint, r.Storage.Bucket, r.Storage.BasePath,
		fmtTimePtr(r.StartTime), fmtTimePtr(r.EndTime), fmtTime(now),
		r.RetentionS, r.OverwriteWhenFull, r.PreRollS).Scan(&created)
	if err != nil {
		return fmt.Errorf("update rule %s: %w", r.ID, mapErr(err))
	}
	if r.CreatedAt, err = parseTime(created); err != nil {
		return fmt.Errorf("update rule %s: %w", r.ID, err)
	}
	r.UpdatedAt = now
	return nil
}

// RuleDelete implements store.Store.
func (db *DB) RuleDelete(ctx context.Context, project, id string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM rules WHERE project = $1 AND id = $2`, project, id)
	if err != nil {
		return fmt.Errorf("delete rule %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete rule %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("delete rule %s: %w", id, recording.ErrNotFound)
	}
	return nil
}

// RuleGet implements store.Store.
func (db *DB) RuleGet(ctx context.Context, project, id string) (*recording.Rule, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+ruleCols+` FROM rules WHERE project = $1 AND id = $2`, project, id)
	r, err := scanRule(row)
	if err != nil {
		return nil, fmt.Errorf("get rule %s: %w", id, mapErr(err))
	}
	return r, nil
}

// RuleList implements store.Store.
func (db *DB) RuleList(ctx context.Context, f store.RuleFilter) ([]recording.Rule, int, error) {
	if f.Project == "" {
		return nil, 0, fmt.Errorf("list rules: no project")
	}
	w := &where{}
	w.eq("project", f.Project)
	w.eq("domain", strings.ToLower(f.Domain))
	w.eq("app", f.App)
	w.eq("stream", f.Stream)
	rules := []recording.Rule{}
	total, err := db.list(ctx, "rules", ruleCols, w, f.Offset, f.Limit, f.OrderDesc, func(rows *sql.Rows) error {
		r, err := scanRule(rows)
		if err == nil {
			rules = append(rules, *r)
		}
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list rules: %w", err)
	}
	return rules, total, nil
}

// RulesForStream implements store.Store.
func (db *DB) RulesForStream(ctx context.Context, domain string) ([]recording.Rule, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+ruleCols+` FROM rules
		WHERE domain = $1 OR domain = $2 ORDER BY seq`, strings.ToLower(domain), recording.Wildcard)
	if err != nil {
		return nil, fmt.Errorf("rules for stream of %s: %w", domain, err)
	}
	defer func() { _ = rows.Close() }()
	var rules []recording.Rule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, fmt.Errorf("rules for stream of %s: %w", domain, err)
		}
		rules = append(rules, *r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rules for stream of %s: %w", domain, err)
	}
	return rules, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

func scanRule(s scanner) (*recording.Rule, error) {
	var (
		r                recording.Rule
		formats          string
		start, end       sql.NullString
		created, updated string
	)
	err := s.Scan(&r.ID, &r.Project, &r.Dialect, &r.Domain, &r.App, &r.Stream, &r.Mode, &formats,
		&r.Storage.Endpoint, &r.Storage.Bucket, &r.Storage.BasePath, &start, &end, &created, &updated,
		&r.RetentionS, &r.OverwriteWhenFull, &r.PreRollS)
	if err != nil {
		return nil, err
	}
	if err = json.Unmarshal([]byte(formats), &r.Formats); err != nil {
		return nil, fmt.Errorf("rule %s formats: %w", r.ID, err)
	}
	if r.StartTime, err = parseTimePtr(start); err != nil {
		return nil, err
	}
	if r.EndTime, err = parseTimePtr(end); err != nil {
		return nil, err
	}
	if r.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if r.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	return &r, nil
}
