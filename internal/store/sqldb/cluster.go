package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

var _ store.Cluster = (*DB)(nil)

// NodeBeat implements store.Cluster.
func (db *DB) NodeBeat(ctx context.Context, n *store.Node) error {
	n.StartedAt, n.BeatAt = normTime(n.StartedAt), normTime(n.BeatAt)
	_, err := db.write.ExecContext(ctx, `INSERT INTO nodes (id, http_addr, rtmp_addr, version, started_at, beat_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET http_addr = excluded.http_addr,
		rtmp_addr = excluded.rtmp_addr, version = excluded.version, started_at = excluded.started_at,
		beat_at = excluded.beat_at`,
		n.ID, n.HTTPAddr, n.RTMPAddr, n.Version, fmtTime(n.StartedAt), fmtTime(n.BeatAt))
	if err != nil {
		return fmt.Errorf("node %s heartbeat: %w", n.ID, mapErr(err))
	}
	return nil
}

// NodeList implements store.Cluster.
func (db *DB) NodeList(ctx context.Context, since time.Time) ([]store.Node, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, http_addr, rtmp_addr, version, started_at, beat_at
		FROM nodes WHERE beat_at > $1 ORDER BY id`, fmtTime(since))
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	defer func() { _ = rows.Close() }()
	nodes := []store.Node{}
	for rows.Next() {
		var (
			n             store.Node
			started, beat string
		)
		if err = rows.Scan(&n.ID, &n.HTTPAddr, &n.RTMPAddr, &n.Version, &started, &beat); err != nil {
			return nil, fmt.Errorf("list nodes: %w", err)
		}
		if n.StartedAt, err = parseTime(started); err != nil {
			return nil, fmt.Errorf("list nodes: %w", err)
		}
		if n.BeatAt, err = parseTime(beat); err != nil {
			return nil, fmt.Errorf("list nodes: %w", err)
		}
		nodes = append(nodes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return nodes, nil
}

// NodeLeave implements store.Cluster.
func (db *DB) NodeLeave(ctx context.Context, id string) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM stream_leases WHERE node_id = $1`, id); err != nil {
		return fmt.Errorf("node %s leaving: %w", id, mapErr(err))
	}
	return nil
}

// LeaseAcquire implements store.Cluster: one statement, so two nodes racing for a key cannot
// both win (the upsert's row lock orders them; the loser's WHERE sees the winner's lease).
func (db *DB) LeaseAcquire(ctx context.Context, key, node string, now, until time.Time) (string, error) {
	var holder string
	err := db.write.QueryRowContext(ctx, `INSERT INTO stream_leases (stream_key, node_id, expires_at)
		VALUES ($1, $2, $3) ON CONFLICT (stream_key) DO UPDATE SET node_id = excluded.node_id,
		expires_at = excluded.expires_at
		WHERE stream_leases.node_id = excluded.node_id OR stream_leases.expires_at <= $4
		RETURNING node_id`, key, node, fmtTime(until), fmtTime(now)).Scan(&holder)
	if err == nil {
		return node, nil
	}
	if !errors.Is(mapErr(err), recording.ErrNotFound) {
		return "", fmt.Errorf("acquire lease of %s: %w", key, mapErr(err))
	}
	// No row returned: another node holds an unexpired lease.
	if err := db.read.QueryRowContext(ctx, `SELECT node_id FROM stream_leases WHERE stream_key = $1`,
		key).Scan(&holder); err != nil {
		return "", fmt.Errorf("acquire lease of %s: %w", key, mapErr(err))
	}
	return holder, fmt.Errorf("acquire lease of %s: held by node %s: %w", key, holder, recording.ErrConflict)
}

// LeaseRenew implements store.Cluster.
func (db *DB) LeaseRenew(ctx context.Context, node string, keys []string, until time.Time) ([]string, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	held := map[string]bool{}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// Batches keep the statement's parameters well under both databases' limits.
		for start := 0; start < len(keys); start += 500 {
			batch := keys[start:min(start+500, len(keys))]
			args := []any{node, fmtTime(until)}
			marks := make([]string, len(batch))
			for i, k := range batch {
				args = append(args, k)
				marks[i] = fmt.Sprintf("$%d", len(args))
			}
			rows, err := tx.QueryContext(ctx, `UPDATE stream_leases SET expires_at = $2
				WHERE node_id = $1 AND stream_key IN (`+strings.Join(marks, ", ")+`) RETURNING stream_key`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var k string
				if err := rows.Scan(&k); err != nil {
					_ = rows.Close()
					return err
				}
				held[k] = true
			}
			if err := rows.Close(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("renew leases of node %s: %w", node, mapErr(err))
	}
	var lost []string
	for _, k := range keys {
		if !held[k] {
			lost = append(lost, k)
		}
	}
	return lost, nil
}

// LeaseRelease implements store.Cluster.
func (db *DB) LeaseRelease(ctx context.Context, key, node string) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM stream_leases WHERE stream_key = $1 AND node_id = $2`,
		key, node); err != nil {
		return fmt.Errorf("release lease of %s: %w", key, mapErr(err))
	}
	return nil
}

// RecordingsOrphaned implements store.Cluster.
func (db *DB) RecordingsOrphaned(ctx context.Context, deadBefore time.Time, limit int) ([]store.NodeRecording, error) {
	recs, err := db.nodeRecordings(ctx, `WHERE r.ended_at IS NULL AND r.state IN ('recording', 'paused')
		AND (n.beat_at IS NULL OR n.beat_at <= $1) ORDER BY r.started_at, r.seq LIMIT $2`,
		fmtTime(deadBefore), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("orphaned recordings: %w", err)
	}
	return recs, nil
}

// LiveRecordingOf implements store.Cluster.
func (db *DB) LiveRecordingOf(ctx context.Context, domain, app, stream string) (*store.NodeRecording, error) {
	recs, err := db.nodeRecordings(ctx, `WHERE r.domain = $1 AND r.app = $2 AND r.stream = $3
		AND r.ended_at IS NULL AND r.state IN ('recording', 'paused') ORDER BY r.seq DESC LIMIT 1`,
		domain, app, stream)
	if err != nil {
		return nil, fmt.Errorf("live recording of %s/%s/%s: %w", domain, app, stream, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("live recording of %s/%s/%s: %w", domain, app, stream, recording.ErrNotFound)
	}
	return &recs[0], nil
}

// nodeRecordings reads recordings with their node's last beat; where filters r and n.
func (db *DB) nodeRecordings(ctx context.Context, where string, args ...any) ([]store.NodeRecording, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+qualify("r", recordingCols)+`, n.beat_at
		FROM recordings r LEFT JOIN nodes n ON n.id = r.node_id `+where, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	recs := []store.NodeRecording{}
	for rows.Next() {
		var beat sql.NullString
		rec, err := scanRecordingWith(rows, &beat)
		if err != nil {
			return nil, err
		}
		nr := store.NodeRecording{Recording: *rec}
		if beat.Valid {
			if nr.NodeBeat, err = parseTime(beat.String); err != nil {
				return nil, err
			}
		}
		recs = append(recs, nr)
	}
	return recs, rows.Err()
}

// RecordingAdopt implements store.Cluster.
func (db *DB) RecordingAdopt(ctx context.Context, id, from, to string) error {
	res, err := db.write.ExecContext(ctx, `UPDATE recordings SET node_id = $3 WHERE id = $1 AND node_id = $2
		AND ended_at IS NULL`,
		id, from, to)
	if err = affectedOne(res, err); err == nil {
		return nil
	}
	if !errors.Is(err, recording.ErrNotFound) {
		return fmt.Errorf("adopt recording %s: %w", id, err)
	}
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM recordings WHERE id = $1`, id).Scan(&n); err != nil {
		return fmt.Errorf("adopt recording %s: %w", id, mapErr(err))
	}
	if n == 0 {
		return fmt.Errorf("adopt recording %s: %w", id, recording.ErrNotFound)
	}
	return fmt.Errorf("adopt recording %s: ended, or not node %s's any more: %w", id, from, recording.ErrConflict)
}

// MetaEnsure implements store.Cluster.
func (db *DB) MetaEnsure(ctx context.Context, name, value string) (string, error) {
	var stored string
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES ($1, $2)
			ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = $1`, name).Scan(&stored)
	})
	if err != nil {
		return "", fmt.Errorf("meta %s: %w", name, mapErr(err))
	}
	return stored, nil
}
