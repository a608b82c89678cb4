package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// deliveryCols are read from deliveries aliased d, joined with events aliased e.
const deliveryCols = `d.id, d.event_id, d.callback_id, d.project, d.order_key, d.order_seq, d.state,
	d.attempts, d.next_at, d.last_status, d.last_error, d.created_at, d.updated_at, ` + eventCols

const deliveryJoin = ` deliveries d JOIN events e ON e.id = d.event_id`

// claimSQL selects the due heads. A delivery is blocked by a pending one of its key that
// comes before it: a lower order_seq, or the same one created earlier (so equal Seqs cannot
// overtake each other). The order_seq range comes first so both databases seek
// deliveries_order instead of scanning the key. SQLite re-prepares a statement on every run
// when its planner peeked at a bound LIMIT, which was most of a claim's cost; behind a CAST it
// does not peek.
const claimSQL = `SELECT ` + deliveryCols + ` FROM` + deliveryJoin + `
	WHERE d.state = 'pending' AND d.next_at <= $1 AND NOT EXISTS (
		SELECT 1 FROM deliveries p
		WHERE p.order_key = d.order_key AND p.state = 'pending' AND p.order_seq <= d.order_seq
			AND (p.order_seq < d.order_seq OR p.seq < d.seq))
	ORDER BY d.next_at, d.seq LIMIT CAST($2 AS INTEGER)`

const leaseSQL = `UPDATE deliveries SET next_at = $2, updated_at = $3 WHERE id = $1`

// claimOneSQL claims and leases in one statement, where the database locks rows in a subquery
// and updates from it (PostgreSQL): one round trip per claim instead of one per claimed row,
// which was most of a delivery's cost there. The due time comes back to keep the claim's
// order; SKIP LOCKED passes over the rows another node is claiming at the same moment.
const claimOneSQL = `WITH c AS (SELECT d.id, d.next_at AS due FROM deliveries d
	WHERE d.state = 'pending' AND d.next_at <= $1 AND NOT EXISTS (
		SELECT 1 FROM deliveries p
		WHERE p.order_key = d.order_key AND p.state = 'pending' AND p.order_seq <= d.order_seq
			AND (p.order_seq < d.order_seq OR p.seq < d.seq))
	ORDER BY d.next_at, d.seq LIMIT $2 FOR UPDATE OF d SKIP LOCKED)
	UPDATE deliveries d SET next_at = $3, updated_at = $4 FROM c, events e
	WHERE d.id = c.id AND e.id = d.event_id
	RETURNING ` + deliveryCols + `, c.due, d.seq`

// recordOneSQL is recordSQL and insertAttemptSQL in one statement (PostgreSQL): the attempt is
// inserted only when the delivery exists, so no row written is ErrNotFound.
const recordOneSQL = `WITH u AS (` + recordSQL + ` RETURNING id)
	INSERT INTO attempts (delivery_id, at, status, latency_ns, error, reply_head)
	SELECT id, $7, $5, $8, $9, $10 FROM u`

// DeliveryClaim implements store.Outbox. Select and lease are one write transaction, and the
// single write connection serialises claimers, so no delivery is handed out twice per lease.
func (db *DB) DeliveryClaim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]recording.Delivery, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("claim deliveries: lease %v is not positive", lease)
	}
	ds := []recording.Delivery{}
	if limit <= 0 {
		return ds, nil
	}
	until, updated := normTime(now.Add(lease)), db.dbNow()
	if db.outbox.claimOne != nil {
		return db.claimOne(ctx, now, until, updated, limit)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.StmtContext(ctx, db.outbox.claim).QueryContext(ctx, fmtTime(now), limit)
		if err != nil {
			return err
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return err
			}
			ds = append(ds, *d)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if err := rows.Close(); err != nil {
			return err
		}
		// One prepared update per row beats parsing an IN list of a different length each time.
		leaseStmt := tx.StmtContext(ctx, db.outbox.lease)
		for i := range ds {
			if _, err := leaseStmt.ExecContext(ctx, ds[i].ID, fmtTime(until), fmtTime(updated)); err != nil {
				return err
			}
			ds[i].NextAt, ds[i].UpdatedAt = until, updated
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return ds, nil
}

// recordSQL changes a pending delivery only (see DeliveryRecord), but counts every attempt.
const recordSQL = `UPDATE deliveries SET attempts = attempts + 1, updated_at = $2,
	state = CASE WHEN state = 'pending' THEN $3 ELSE state END,
	next_at = CASE WHEN state = 'pending' AND $3 = 'pending' THEN $4 ELSE next_at END,
	last_status = CASE WHEN state = 'pending' THEN $5 ELSE last_status END,
	last_error = CASE WHEN state = 'pending' THEN $6 ELSE last_error END
	WHERE id = $1`

const insertAttemptSQL = `INSERT INTO attempts (delivery_id, at, status, latency_ns, error, reply_head)
	VALUES ($1, $2, $3, $4, $5, $6)`

// DeliveryRecord implements store.Outbox. Only a pending delivery changes state: the attempt
// of a worker whose lease expired meanwhile is logged and counted, but cannot turn a delivery
// that another worker delivered or gave up back into a pending one.
func (db *DB) DeliveryRecord(ctx context.Context, a recording.Attempt, state recording.DeliveryState, next time.Time, lastErr string) error {
	switch state {
	case recording.DeliveryPending, recording.DeliveryDelivered, recording.DeliveryFailed:
	default:
		return fmt.Errorf("record delivery %s: unknown state %q", a.DeliveryID, state)
	}
	if db.outbox.recordOne != nil {
		res, err := db.outbox.recordOne.ExecContext(ctx, a.DeliveryID, fmtTime(db.dbNow()), string(state),
			fmtTime(next), a.Status, lastErr, fmtTime(a.At), int64(a.Latency), a.Error, a.ReplyHead)
		if err = affectedOne(res, err); err != nil {
			return fmt.Errorf("record delivery %s: %w", a.DeliveryID, err)
		}
		return nil
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, db.outbox.record).ExecContext(ctx,
			a.DeliveryID, fmtTime(db.dbNow()), string(state), fmtTime(next), a.Status, lastErr)
		if err = affectedOne(res, err); err != nil {
			return err
		}
		_, err = tx.StmtContext(ctx, db.outbox.insertAttempt).ExecContext(ctx,
			a.DeliveryID, fmtTime(a.At), a.Status, int64(a.Latency), a.Error, a.ReplyHead)
		return err
	})
	if err != nil {
		return fmt.Errorf("record delivery %s: %w", a.DeliveryID, mapErr(err))
	}
	return nil
}

// DeliveryGet implements store.Outbox.
func (db *DB) DeliveryGet(ctx context.Context, project, id string) (*recording.Delivery, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM`+deliveryJoin+`
		WHERE d.project = $1 AND d.id = $2`, project, id)
	d, err := scanDelivery(row)
	if err != nil {
		return nil, fmt.Errorf("get delivery %s: %w", id, mapErr(err))
	}
	return d, nil
}

// DeliveryList implements store.Outbox in creation order. Since and Until bound the event's
// creation time: Since included, Until excluded.
func (db *DB) DeliveryList(ctx context.Context, f store.DeliveryFilter) ([]recording.Delivery, int, error) {
	if f.Project == "" {
		return nil, 0, fmt.Errorf("list deliveries: no project")
	}
	w := &where{order: "d.seq"}
	w.eq("d.project", f.Project)
	w.eq("d.callback_id", f.CallbackID)
	w.eq("d.state", string(f.State))
	w.eq("e.recording_id", f.RecordingID)
	w.eq("e.domain", f.Domain)
	w.eq("e.app", f.App)
	w.eq("e.stream", f.Stream)
	if !f.Since.IsZero() {
		w.cmp("e.created_at", ">=", fmtTime(f.Since))
	}
	if !f.Until.IsZero() {
		w.cmp("e.created_at", "<", fmtTime(f.Until))
	}
	ds := []recording.Delivery{}
	total, err := db.list(ctx, deliveryJoin, deliveryCols, w, f.Offset, f.Limit, f.OrderDesc, func(rows *sql.Rows) error {
		d, err := scanDelivery(rows)
		if err == nil {
			ds = append(ds, *d)
		}
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list deliveries: %w", err)
	}
	return ds, total, nil
}

// DeliveryAttempts implements store.Outbox; a delivery without attempts (or unknown) has none.
func (db *DB) DeliveryAttempts(ctx context.Context, deliveryID string) ([]recording.Attempt, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT delivery_id, at, status, latency_ns, error, reply_head
		FROM attempts WHERE delivery_id = $1 ORDER BY at, seq`, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("attempts of %s: %w", deliveryID, err)
	}
	defer func() { _ = rows.Close() }()
	as := []recording.Attempt{}
	for rows.Next() {
		var (
			a       recording.Attempt
			at      string
			latency int64
		)
		if err = rows.Scan(&a.DeliveryID, &at, &a.Status, &latency, &a.Error, &a.ReplyHead); err != nil {
			return nil, fmt.Errorf("attempts of %s: %w", deliveryID, err)
		}
		if a.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("attempts of %s: %w", deliveryID, err)
		}
		a.Latency = time.Duration(latency)
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("attempts of %s: %w", deliveryID, err)
	}
	return as, nil
}

// DeliveryRedeliver implements store.Outbox. Attempts and the last result stay: the log
// keeps what happened before.
func (db *DB) DeliveryRedeliver(ctx context.Context, project, id string, now time.Time) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'pending', next_at = $3, updated_at = $4
			WHERE project = $1 AND id = $2 AND state = 'failed'`,
			project, id, fmtTime(now), fmtTime(db.dbNow()))
		if err = affectedOne(res, err); !errors.Is(err, recording.ErrNotFound) {
			return err // done, or a failure
		}
		// Nothing changed: tell an unknown delivery from one that is not failed.
		var state string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM deliveries WHERE project = $1 AND id = $2`,
			project, id).Scan(&state); err != nil {
			return err
		}
		return fmt.Errorf("%w: delivery is %s, not failed", recording.ErrConflict, state)
	})
	if err != nil {
		return fmt.Errorf("redeliver %s: %w", id, mapErr(err))
	}
	return nil
}

func scanDelivery(s scanner, more ...any) (*recording.Delivery, error) {
	var (
		d                      recording.Delivery
		ev                     recording.OutboxEvent
		next, created, updated string
		data, evCreated        string
	)
	err := s.Scan(append([]any{&d.ID, &d.EventID, &d.CallbackID, &d.Project, &d.OrderKey, &d.Seq, &d.State,
		&d.Attempts, &next, &d.LastStatus, &d.LastError, &created, &updated,
		&ev.ID, &ev.Type, &data, &evCreated}, more...)...)
	if err != nil {
		return nil, err
	}
	if d.NextAt, err = parseTime(next); err != nil {
		return nil, err
	}
	if d.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if d.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	if err := parseEvent(&ev, data, evCreated); err != nil {
		return nil, err
	}
	d.Event = &ev
	return &d, nil
}

// claimOne is DeliveryClaim in one statement (claimOneSQL).
func (db *DB) claimOne(ctx context.Context, now, until, updated time.Time, limit int) ([]recording.Delivery, error) {
	rows, err := db.outbox.claimOne.QueryContext(ctx, fmtTime(now), limit, fmtTime(until), fmtTime(updated))
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	defer func() { _ = rows.Close() }()
	type claimed struct {
		d   recording.Delivery
		due time.Time
		seq int64
	}
	var cs []claimed
	for rows.Next() {
		var (
			due string
			seq int64
		)
		d, err := scanDelivery(rows, &due, &seq)
		if err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		c := claimed{d: *d, seq: seq}
		if c.due, err = parseTime(due); err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	// RETURNING keeps no order: the claim's is by due time, then creation.
	sort.Slice(cs, func(i, j int) bool {
		if !cs[i].due.Equal(cs[j].due) {
			return cs[i].due.Before(cs[j].due)
		}
		return cs[i].seq < cs[j].seq
	})
	ds := make([]recording.Delivery, len(cs))
	for i := range cs {
		ds[i] = cs[i].d
	}
	return ds, nil
}
