package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

var _ store.Outbox = (*DB)(nil)

// outboxStmts are prepared once on the write connection: every delivery runs each of them,
// and parsing the SQL anew was about a third of the cost (BenchmarkOutbox). Transactions use
// them through Tx.StmtContext, which reuses the connection's prepared statement.
type outboxStmts struct {
	insertEvent, insertDelivery, claim, lease, record, insertAttempt, lastSeq *sql.Stmt
	// insertSlice runs for every stored HLS slice (each stream every slice_s): unprepared, its
	// parse was most of its cost.
	insertSlice *sql.Stmt
	// claimOne and recordOne replace a claim's and a record's transactions where the database
	// runs them as one statement (dialect.oneStatement); nil elsewhere.
	claimOne, recordOne *sql.Stmt
}

func prepareOutbox(ctx context.Context, write *sql.DB, d *dialect) (*outboxStmts, error) {
	type toPrepare struct {
		stmt  **sql.Stmt
		query string
	}
	s := &outboxStmts{}
	stmts := []toPrepare{
		{&s.insertEvent, insertEventSQL}, {&s.insertDelivery, insertDeliverySQL},
		{&s.claim, claimSQL + d.skipLocked}, {&s.lease, leaseSQL},
		{&s.record, recordSQL}, {&s.insertAttempt, insertAttemptSQL}, {&s.lastSeq, lastSeqSQL},
		{&s.insertSlice, insertSliceSQL},
	}
	if d.oneStatement {
		stmts = append(stmts, toPrepare{&s.claimOne, claimOneSQL}, toPrepare{&s.recordOne, recordOneSQL})
	}
	for _, p := range stmts {
		st, err := write.PrepareContext(ctx, p.query)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("prepare outbox: %w", err), s.close())
		}
		*p.stmt = st
	}
	return s, nil
}

func (s *outboxStmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.insertEvent, s.insertDelivery, s.claim, s.lease, s.record, s.insertAttempt, s.lastSeq,
		s.claimOne, s.recordOne, s.insertSlice} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// Apply implements store.Outbox. Everything runs on the write connection in one transaction;
// the single-row writes are the ones RecordingInsert etc. run alone, so errors are the same.
// A delivery without CreatedAt is created with its event, and it is due then.
func (db *DB) Apply(ctx context.Context, c store.Change) error {
	if len(c.Deliveries) > len(c.Events) {
		return fmt.Errorf("apply: %d delivery lists for %d events", len(c.Deliveries), len(c.Events))
	}
	now := db.dbNow()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if c.RecordingInsert != nil {
			if err := insertRecording(ctx, tx, c.RecordingInsert); err != nil {
				return err
			}
		}
		if c.RecordingUpdate != nil {
			if err := updateRecording(ctx, tx, c.RecordingUpdate, c.RecordingOwner); err != nil {
				return err
			}
		}
		if c.FileInsert != nil {
			if err := insertFile(ctx, tx, c.FileInsert); err != nil {
				return err
			}
		}
		if err := applyFileUpdates(ctx, tx, c.FileUpdate, c.FileUpdateFrom, c.FileUpdates); err != nil {
			return err
		}
		// A batch's events share a few recordings: their numbers are read once per recording
		// and counted on from there.
		seqs := map[string]int64{}
		for i := range c.Events {
			ev := &c.Events[i]
			if err := db.insertEvent(ctx, tx, ev, now, seqs); err != nil {
				return err
			}
			if i >= len(c.Deliveries) {
				continue
			}
			for j := range c.Deliveries[i] {
				if err := db.insertDelivery(ctx, tx, &c.Deliveries[i][j], ev); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("apply: %w", mapErr(err))
	}
	return nil
}

// lastSeqSQL reads a recording's last event number off the events_recording index.
const lastSeqSQL = `SELECT COALESCE(MAX(event_seq), 0) FROM events WHERE recording_id = $1`

const insertEventSQL = `INSERT INTO events (id, type, data, project, recording_id, domain, app,
	stream, event_seq, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

// insertEvent assigns ev's ID and CreatedAt when empty and normalises it as a read returns it.
// seqs holds the last number of each recording given an event in tx so far.
func (db *DB) insertEvent(ctx context.Context, tx *sql.Tx, ev *recording.OutboxEvent, now time.Time,
	seqs map[string]int64,
) error {
	if ev.ID == "" {
		ev.ID = store.NewID(store.EventPrefix)
	}
	if ev.CreatedAt.IsZero() {
		ev.CreatedAt = now
	}
	ev.CreatedAt = normTime(ev.CreatedAt)
	normTimePtr(&ev.Data.StartTime)
	normTimePtr(&ev.Data.EndTime)
	if len(ev.Data.PushArgs) == 0 {
		ev.Data.PushArgs = nil // omitempty: an empty map reads back as nil
	}
	if id := ev.Data.RecordingID; id != "" && ev.Data.Seq == 0 {
		// Numbered from the stored events, not from memory: a restart or another node carries on.
		last, ok := seqs[id]
		if !ok {
			if db.d.lockRecording != "" {
				if _, err := tx.ExecContext(ctx, db.d.lockRecording, id); err != nil {
					return fmt.Errorf("lock recording to number its event: %w", mapErr(err))
				}
			}
			if err := tx.StmtContext(ctx, db.outbox.lastSeq).QueryRowContext(ctx, id).Scan(&last); err != nil {
				return fmt.Errorf("number event: %w", mapErr(err))
			}
		}
		ev.Data.Seq = last + 1
		seqs[id] = ev.Data.Seq
	} else if last, ok := seqs[ev.Data.RecordingID]; ok {
		seqs[ev.Data.RecordingID] = max(last, ev.Data.Seq) // a recording not seen yet is read when it comes
	}
	data, err := json.Marshal(ev.Data)
	if err != nil {
		return fmt.Errorf("insert event: %w", err)
	}
	d := &ev.Data
	_, err = tx.StmtContext(ctx, db.outbox.insertEvent).ExecContext(ctx,
		ev.ID, ev.Type, string(data), d.Project, d.RecordingID, d.Domain, d.App, d.Stream, d.Seq,
		fmtTime(ev.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert event: %w", mapErr(err))
	}
	return nil
}

const insertDeliverySQL = `INSERT INTO deliveries (id, event_id, callback_id, project, order_key,
	order_seq, state, attempts, next_at, last_status, last_error, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

// insertDelivery creates d pending and due at its creation, for event ev.
func (db *DB) insertDelivery(ctx context.Context, tx *sql.Tx, d *recording.Delivery, ev *recording.OutboxEvent) error {
	if d.ID == "" {
		d.ID = store.NewID(store.DeliveryPrefix)
	}
	if d.Project == "" {
		d.Project = ev.Data.Project
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = ev.CreatedAt
	}
	d.EventID = ev.ID
	d.CreatedAt = normTime(d.CreatedAt)
	d.State, d.Attempts, d.LastStatus, d.LastError = recording.DeliveryPending, 0, 0, ""
	d.NextAt, d.UpdatedAt = d.CreatedAt, d.CreatedAt
	_, err := tx.StmtContext(ctx, db.outbox.insertDelivery).ExecContext(ctx,
		d.ID, d.EventID, d.CallbackID, d.Project, d.OrderKey, d.Seq, d.State, d.Attempts,
		fmtTime(d.NextAt), d.LastStatus, d.LastError, fmtTime(d.CreatedAt), fmtTime(d.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert delivery: %w", mapErr(err))
	}
	return nil
}

// EventsOf implements store.Outbox; events with the same Seq come in creation order.
func (db *DB) EventsOf(ctx context.Context, recordingID string) ([]recording.OutboxEvent, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+eventCols+` FROM events e
		WHERE e.recording_id = $1 ORDER BY e.event_seq, e.seq`, recordingID)
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", recordingID, err)
	}
	defer func() { _ = rows.Close() }()
	evs := []recording.OutboxEvent{}
	for rows.Next() {
		var ev recording.OutboxEvent
		if err := scanEvent(rows, &ev); err != nil {
			return nil, fmt.Errorf("events of %s: %w", recordingID, err)
		}
		evs = append(evs, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events of %s: %w", recordingID, err)
	}
	return evs, nil
}

// CallbackDisable implements store.Outbox.
func (db *DB) CallbackDisable(ctx context.Context, id, reason string) error {
	res, err := db.write.ExecContext(ctx, `UPDATE callbacks SET enabled = FALSE, disabled_reason = $2,
		updated_at = $3 WHERE id = $1`, id, reason, fmtTime(db.dbNow()))
	if err = affectedOne(res, err); err != nil {
		return fmt.Errorf("disable callback %s: %w", id, err)
	}
	return nil
}

// eventCols are read from events aliased e; the filter columns are copies of data.
const eventCols = `e.id, e.type, e.data, e.created_at`

func scanEvent(s scanner, ev *recording.OutboxEvent) error {
	var data, created string
	if err := s.Scan(&ev.ID, &ev.Type, &data, &created); err != nil {
		return err
	}
	return parseEvent(ev, data, created)
}

func parseEvent(ev *recording.OutboxEvent, data, created string) error {
	if err := json.Unmarshal([]byte(data), &ev.Data); err != nil {
		return fmt.Errorf("event %s data: %w", ev.ID, err)
	}
	var err error
	ev.CreatedAt, err = parseTime(created)
	return err
}
