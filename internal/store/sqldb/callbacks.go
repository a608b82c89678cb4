package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

var _ store.Control = (*DB)(nil)

const callbackCols = `id, project, dialect, domain, app, url, on_demand_url, events,
	need_status_notify, sign_type, key_sealed, enabled, disabled_reason, created_at, updated_at`

// CallbackInsert implements store.Control.
func (db *DB) CallbackInsert(ctx context.Context, c *recording.CallbackConfig) error {
	if c.ID == "" {
		c.ID = store.NewID(store.CallbackPrefix)
	}
	events, err := marshalEvents(c.Events)
	if err != nil {
		return fmt.Errorf("insert callback: %w", err)
	}
	normCallback(c)
	now := db.dbNow()
	_, err = db.write.ExecContext(ctx, `INSERT INTO callbacks (`+callbackCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		c.ID, c.Project, c.Dialect, c.Domain, c.App, c.URL, c.OnDemandURL, events,
		c.NeedStatusNotify, c.SignType, blob(c.KeySealed), c.Enabled, c.DisabledReason,
		fmtTime(now), fmtTime(now))
	if err != nil {
		return fmt.Errorf("insert callback: %w", mapErr(err))
	}
	c.CreatedAt, c.UpdatedAt = now, now
	return nil
}

// CallbackUpdate implements store.Control.
func (db *DB) CallbackUpdate(ctx context.Context, c *recording.CallbackConfig) error {
	events, err := marshalEvents(c.Events)
	if err != nil {
		return fmt.Errorf("update callback %s: %w", c.ID, err)
	}
	normCallback(c)
	now := db.dbNow()
	var created string
	err = db.write.QueryRowContext(ctx, `UPDATE callbacks SET dialect = $3, domain = $4, app = $5,
		url = $6, on_demand_url = $7, events = $8, need_status_notify = $9, sign_type = $10,
		key_sealed = $11, enabled = $12, disabled_reason = $13, updated_at = $14
		WHERE project = $1 AND id = $2 RETURNING created_at`,
		c.Project, c.ID, c.Dialect, c.Domain, c.App, c.URL, c.OnDemandURL, events,
		c.NeedStatusNotify, c.SignType, blob(c.KeySealed), c.Enabled, c.DisabledReason,
		fmtTime(now)).Scan(&created)
	if err != nil {
		return fmt.Errorf("update callback %s: %w", c.ID, mapErr(err))
	}
	if c.CreatedAt, err = parseTime(created); err != nil {
		return fmt.Errorf("update callback %s: %w", c.ID, err)
	}
	c.UpdatedAt = now
	return nil
}

// CallbackDelete implements store.Control.
func (db *DB) CallbackDelete(ctx context.Context, project, id string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM callbacks WHERE project = $1 AND id = $2`, project, id)
	if err = affectedOne(res, err); err != nil {
		return fmt.Errorf("delete callback %s: %w", id, err)
	}
	return nil
}

// CallbackGet implements store.Control.
func (db *DB) CallbackGet(ctx context.Context, project, id string) (*recording.CallbackConfig, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+callbackCols+` FROM callbacks
		WHERE project = $1 AND id = $2`, project, id)
	c, err := scanCallback(row)
	if err != nil {
		return nil, fmt.Errorf("get callback %s: %w", id, mapErr(err))
	}
	return c, nil
}

// CallbackByID implements store.Control.
func (db *DB) CallbackByID(ctx context.Context, id string) (*recording.CallbackConfig, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+callbackCols+` FROM callbacks WHERE id = $1`, id)
	c, err := scanCallback(row)
	if err != nil {
		return nil, fmt.Errorf("get callback %s: %w", id, mapErr(err))
	}
	return c, nil
}

// CallbackList implements store.Control.
func (db *DB) CallbackList(ctx context.Context, f store.CallbackFilter) ([]recording.CallbackConfig, int, error) {
	if f.Project == "" {
		return nil, 0, fmt.Errorf("list callbacks: no project")
	}
	w := &where{}
	w.eq("project", f.Project)
	w.eq("dialect", string(f.Dialect))
	w.eq("domain", strings.ToLower(f.Domain))
	w.eq("app", f.App)
	cs := []recording.CallbackConfig{}
	total, err := db.list(ctx, "callbacks", callbackCols, w, f.Offset, f.Limit, f.OrderDesc, func(rows *sql.Rows) error {
		c, err := scanCallback(rows)
		if err == nil {
			cs = append(cs, *c)
		}
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list callbacks: %w", err)
	}
	return cs, total, nil
}

// CallbacksForStream implements store.Control.
func (db *DB) CallbacksForStream(ctx context.Context, domain string) ([]recording.CallbackConfig, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+callbackCols+` FROM callbacks
		WHERE domain = $1 OR domain = '*' ORDER BY seq`, strings.ToLower(domain))
	if err != nil {
		return nil, fmt.Errorf("callbacks for stream of %s: %w", domain, err)
	}
	defer func() { _ = rows.Close() }()
	var cs []recording.CallbackConfig
	for rows.Next() {
		c, err := scanCallback(rows)
		if err != nil {
			return nil, fmt.Errorf("callbacks for stream of %s: %w", domain, err)
		}
		cs = append(cs, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("callbacks for stream of %s: %w", domain, err)
	}
	return cs, nil
}

// normCallback makes c what a read will return: an empty key is no key, and HasKey follows
// KeySealed (it is derived, not stored).
func normCallback(c *recording.CallbackConfig) {
	if len(c.KeySealed) == 0 {
		c.KeySealed = nil
	}
	c.HasKey = c.KeySealed != nil
}

func scanCallback(s scanner) (*recording.CallbackConfig, error) {
	var (
		c                recording.CallbackConfig
		events           sql.NullString
		created, updated string
	)
	err := s.Scan(&c.ID, &c.Project, &c.Dialect, &c.Domain, &c.App, &c.URL, &c.OnDemandURL, &events,
		&c.NeedStatusNotify, &c.SignType, &c.KeySealed, &c.Enabled, &c.DisabledReason, &created, &updated)
	if err != nil {
		return nil, err
	}
	normCallback(&c)
	if events.Valid {
		if err = json.Unmarshal([]byte(events.String), &c.Events); err != nil {
			return nil, fmt.Errorf("callback %s events: %w", c.ID, err)
		}
	}
	if c.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if c.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	return &c, nil
}

// marshalEvents keeps nil (the dialect's default) and empty apart: NULL for nil, "[]" for empty.
func marshalEvents(events []recording.Event) (sql.NullString, error) {
	if events == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(events)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// blob binds an empty byte slice as NULL, so nil and empty read back alike (as nil).
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
