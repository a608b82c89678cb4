package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

const indexCols = `id, project, domain, app, stream, endpoint, bucket, object_key, started_at, ended_at,
	duration_ns, width, height, created_at`

// IndexInsert implements store.Catalog.
func (db *DB) IndexInsert(ctx context.Context, x *recording.RecordIndex) error {
	if x.ID == "" {
		x.ID = store.NewID(store.IndexPrefix)
	}
	x.StartedAt, x.EndedAt, x.CreatedAt = normTime(x.StartedAt), normTime(x.EndedAt), db.dbNow()
	_, err := db.write.ExecContext(ctx, `INSERT INTO record_indexes (`+indexCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		x.ID, x.Project, x.Domain, x.App, x.Stream, x.Endpoint, x.Bucket, x.ObjectKey,
		fmtTime(x.StartedAt), fmtTime(x.EndedAt), int64(x.Duration), x.Width, x.Height, fmtTime(x.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert index: %w", mapErr(err))
	}
	return nil
}

// IndexGet implements store.Catalog.
func (db *DB) IndexGet(ctx context.Context, project, id string) (*recording.RecordIndex, error) {
	x, err := scanIndex(db.read.QueryRowContext(ctx, `SELECT `+indexCols+` FROM record_indexes
		WHERE project = $1 AND id = $2`, project, id))
	if err != nil {
		return nil, fmt.Errorf("get index %s: %w", id, mapErr(err))
	}
	return x, nil
}

// IndexList implements store.Catalog: by the start of the range covered, then creation.
func (db *DB) IndexList(ctx context.Context, f store.IndexFilter) ([]recording.RecordIndex, int, error) {
	w := &where{order: "started_at, seq"}
	w.eq("project", f.Project)
	w.eq("domain", f.Domain)
	w.eq("app", f.App)
	w.eq("stream", f.Stream)
	w.overlap("started_at", "ended_at", f.From, f.To)
	xs := []recording.RecordIndex{}
	total, err := db.list(ctx, "record_indexes", indexCols, w, f.Offset, f.Limit, f.OrderDesc, func(rows *sql.Rows) error {
		x, err := scanIndex(rows)
		if err == nil {
			xs = append(xs, *x)
		}
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list indexes: %w", err)
	}
	return xs, total, nil
}

// IndexDelete implements store.Catalog.
func (db *DB) IndexDelete(ctx context.Context, project, id string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM record_indexes WHERE project = $1 AND id = $2`, project, id)
	if err = affectedOne(res, err); err != nil {
		return fmt.Errorf("delete index %s: %w", id, err)
	}
	return nil
}

func scanIndex(s scanner) (*recording.RecordIndex, error) {
	var (
		x                         recording.RecordIndex
		started, ended, createdAt string
		duration                  int64
	)
	err := s.Scan(&x.ID, &x.Project, &x.Domain, &x.App, &x.Stream, &x.Endpoint, &x.Bucket, &x.ObjectKey,
		&started, &ended, &duration, &x.Width, &x.Height, &createdAt)
	if err != nil {
		return nil, err
	}
	x.Duration = time.Duration(duration)
	if x.StartedAt, err = parseTime(started); err != nil {
		return nil, err
	}
	if x.EndedAt, err = parseTime(ended); err != nil {
		return nil, err
	}
	if x.CreatedAt, err = parseTime(createdAt); err != nil {
		return nil, err
	}
	return &x, nil
}

const blockCols = `domain, app, stream, resume_at, created_at`

// BlockPut implements store.Catalog. Domains are kept lower-case (DNS names); a block put on
// a blocked key keeps its CreatedAt, the time the key was first forbidden.
func (db *DB) BlockPut(ctx context.Context, b *recording.StreamBlock) error {
	b.Domain = strings.ToLower(b.Domain)
	normTimePtr(&b.ResumeAt)
	var created string
	err := db.write.QueryRowContext(ctx, `INSERT INTO stream_blocks (`+blockCols+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (domain, app, stream) DO UPDATE SET resume_at = excluded.resume_at
		RETURNING created_at`,
		b.Domain, b.App, b.Stream, fmtTimePtr(b.ResumeAt), fmtTime(db.dbNow())).Scan(&created)
	if err != nil {
		return fmt.Errorf("put block %s/%s/%s: %w", b.Domain, b.App, b.Stream, mapErr(err))
	}
	if b.CreatedAt, err = parseTime(created); err != nil {
		return fmt.Errorf("put block %s/%s/%s: %w", b.Domain, b.App, b.Stream, err)
	}
	return nil
}

// BlockDelete implements store.Catalog. An expired block is still a row to delete.
func (db *DB) BlockDelete(ctx context.Context, domain, app, stream string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM stream_blocks WHERE domain = $1 AND app = $2 AND stream = $3`,
		strings.ToLower(domain), app, stream)
	if err = affectedOne(res, err); err != nil {
		return fmt.Errorf("delete block %s/%s/%s: %w", domain, app, stream, err)
	}
	return nil
}

// BlockGet implements store.Catalog.
func (db *DB) BlockGet(ctx context.Context, domain, app, stream string, now time.Time) (*recording.StreamBlock, error) {
	b, err := scanBlock(db.read.QueryRowContext(ctx, `SELECT `+blockCols+` FROM stream_blocks
		WHERE domain = $1 AND app = $2 AND stream = $3 AND (resume_at IS NULL OR resume_at > $4)`,
		strings.ToLower(domain), app, stream, fmtTime(now)))
	if err != nil {
		return nil, fmt.Errorf("get block %s/%s/%s: %w", domain, app, stream, mapErr(err))
	}
	return b, nil
}

// BlockList implements store.Catalog.
func (db *DB) BlockList(ctx context.Context, f store.BlockFilter) ([]recording.StreamBlock, int, error) {
	w := &where{order: "created_at, domain, app, stream"}
	w.eq("domain", strings.ToLower(f.Domain))
	w.eq("app", f.App)
	w.eq("stream", f.Stream)
	w.args = append(w.args, fmtTime(f.Now))
	w.conds = append(w.conds, fmt.Sprintf("(resume_at IS NULL OR resume_at > $%d)", len(w.args)))
	bs := []recording.StreamBlock{}
	total, err := db.list(ctx, "stream_blocks", blockCols, w, f.Offset, f.Limit, false, func(rows *sql.Rows) error {
		b, err := scanBlock(rows)
		if err == nil {
			bs = append(bs, *b)
		}
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list blocks: %w", err)
	}
	return bs, total, nil
}

func scanBlock(s scanner) (*recording.StreamBlock, error) {
	var (
		b       recording.StreamBlock
		resume  sql.NullString
		created string
	)
	err := s.Scan(&b.Domain, &b.App, &b.Stream, &resume, &created)
	if err != nil {
		return nil, err
	}
	if b.ResumeAt, err = parseTimePtr(resume); err != nil {
		return nil, err
	}
	if b.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	return &b, nil
}

const publishCols = `id, domain, app, stream, client_addr, protocol, started_at, ended_at`

// PublishInsert implements store.Catalog.
func (db *DB) PublishInsert(ctx context.Context, p *recording.Publish) error {
	if p.ID == "" {
		p.ID = store.NewID(store.PublishPrefix)
	}
	p.StartedAt = normTime(p.StartedAt)
	normTimePtr(&p.EndedAt)
	_, err := db.write.ExecContext(ctx, `INSERT INTO publishes (`+publishCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		p.ID, p.Domain, p.App, p.Stream, p.ClientAddr, p.Protocol, fmtTime(p.StartedAt), fmtTimePtr(p.EndedAt))
	if err != nil {
		return fmt.Errorf("insert publish: %w", mapErr(err))
	}
	return nil
}

// PublishEnd implements store.Catalog.
func (db *DB) PublishEnd(ctx context.Context, id string, at time.Time) error {
	res, err := db.write.ExecContext(ctx, `UPDATE publishes SET ended_at = $2 WHERE id = $1`, id, fmtTime(at))
	if err = affectedOne(res, err); err != nil {
		return fmt.Errorf("end publish %s: %w", id, err)
	}
	return nil
}

// PublishList implements store.Catalog: newest first (by start, then creation).
func (db *DB) PublishList(ctx context.Context, f store.PublishFilter) ([]recording.Publish, int, error) {
	w := &where{order: "started_at, seq"}
	w.eq("domain", f.Domain)
	w.eq("app", f.App)
	w.eq("stream", f.Stream)
	w.overlap("started_at", "ended_at", f.From, f.To)
	if f.Live {
		w.conds = append(w.conds, "ended_at IS NULL")
	}
	ps := []recording.Publish{}
	total, err := db.list(ctx, "publishes", publishCols, w, f.Offset, f.Limit, true, func(rows *sql.Rows) error {
		var (
			p       recording.Publish
			started string
			ended   sql.NullString
		)
		err := rows.Scan(&p.ID, &p.Domain, &p.App, &p.Stream, &p.ClientAddr, &p.Protocol, &started, &ended)
		if err != nil {
			return err
		}
		if p.StartedAt, err = parseTime(started); err != nil {
			return err
		}
		if p.EndedAt, err = parseTimePtr(ended); err != nil {
			return err
		}
		ps = append(ps, p)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list publishes: %w", err)
	}
	return ps, total, nil
}

const taskCols = `id, project, domain, app, stream, start_time, end_time, stopped_at, created_at`

// TaskInsert implements store.Catalog.
func (db *DB) TaskInsert(ctx context.Context, t *recording.PlanTask) error {
	if t.ID == "" {
		t.ID = store.NewID(store.TaskPrefix)
	}
	t.StartTime, t.EndTime, t.CreatedAt = normTime(t.StartTime), normTime(t.EndTime), db.dbNow()
	normTimePtr(&t.StoppedAt)
	_, err := db.write.ExecContext(ctx, `INSERT INTO plan_tasks (`+taskCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.ID, t.Project, t.Domain, t.App, t.Stream, fmtTime(t.StartTime), fmtTime(t.EndTime),
		fmtTimePtr(t.StoppedAt), fmtTime(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert task: %w", mapErr(err))
	}
	return nil
}

// TaskList implements store.Catalog.
func (db *DB) TaskList(ctx context.Context, f store.TaskFilter) ([]recording.PlanTask, int, error) {
	w := &where{}
	w.eq("project", f.Project)
	w.eq("id", f.ID)
	w.eq("domain", f.Domain)
	w.eq("app", f.App)
	w.eq("stream", f.Stream)
	ts := []recording.PlanTask{}
	total, err := db.list(ctx, "plan_tasks", taskCols, w, f.Offset, f.Limit, false, func(rows *sql.Rows) error {
		t, err := scanTask(rows)
		if err == nil {
			ts = append(ts, *t)
		}
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list tasks: %w", err)
	}
	return ts, total, nil
}

// TaskStop implements store.Catalog.
func (db *DB) TaskStop(ctx context.Context, project, id string, at time.Time) error {
	res, err := db.write.ExecContext(ctx, `UPDATE plan_tasks SET stopped_at = $3
		WHERE project = $1 AND id = $2 AND stopped_at IS NULL`, project, id, fmtTime(at))
	if err = affectedOne(res, err); err != nil {
		return fmt.Errorf("stop task %s: %w", id, err)
	}
	return nil
}

// TasksForStream implements store.Catalog.
func (db *DB) TasksForStream(ctx context.Context, domain, app, stream string, now time.Time) ([]recording.PlanTask, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+taskCols+` FROM plan_tasks
		WHERE domain = $1 AND app = $2 AND stream = $3 AND stopped_at IS NULL AND end_time > $4
		ORDER BY start_time, seq`, domain, app, stream, fmtTime(now))
	if err != nil {
		return nil, fmt.Errorf("tasks of %s/%s/%s: %w", domain, app, stream, err)
	}
	defer func() { _ = rows.Close() }()
	ts := []recording.PlanTask{}
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("tasks of %s/%s/%s: %w", domain, app, stream, err)
		}
		ts = append(ts, *t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tasks of %s/%s/%s: %w", domain, app, stream, err)
	}
	return ts, nil
}

func scanTask(s scanner) (*recording.PlanTask, error) {
	var (
		t                     recording.PlanTask
		start, end, createdAt string
		stopped               sql.NullString
	)
	err := s.Scan(&t.ID, &t.Project, &t.Domain, &t.App, &t.Stream, &start, &end, &stopped, &createdAt)
	if err != nil {
		return nil, err
	}
	if t.StartTime, err = parseTime(start); err != nil {
		return nil, err
	}
	if t.EndTime, err = parseTime(end); err != nil {
		return nil, err
	}
	if t.StoppedAt, err = parseTimePtr(stopped); err != nil {
		return nil, err
	}
	if t.CreatedAt, err = parseTime(createdAt); err != nil {
		return nil, err
	}
	return &t, nil
}
