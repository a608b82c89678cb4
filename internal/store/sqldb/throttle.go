package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/store"
)

var _ store.AuthFailures = (*DB)(nil)

// authFailureBatch is how many counts one statement writes: 4 parameters each keeps it well
// under both databases' limits.
const authFailureBatch = 500

// AuthFailuresPut implements store.AuthFailures: every batch in one transaction, so a node's
// counts land together.
func (db *DB) AuthFailuresPut(ctx context.Context, scope, instance string, counts []store.AuthFailure) error {
	counts = lastPerSubject(counts)
	if len(counts) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(counts); start += authFailureBatch {
			batch := counts[start:min(start+authFailureBatch, len(counts))]
			args := []any{scope, instance}
			values := make([]string, len(batch))
			for i, c := range batch {
				expires, cooldown := c.WindowEnd, sql.NullString{}
				if !c.CooldownUntil.IsZero() {
					expires, cooldown = c.CooldownUntil, sql.NullString{String: fmtTime(c.CooldownUntil), Valid: true}
				}
				args = append(args, c.Subject, c.Failures, cooldown, fmtTime(expires))
				n := len(args)
				values[i] = fmt.Sprintf("($1, $%d, $2, $%d, $%d, $%d)", n-3, n-2, n-1, n)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO auth_failures
				(scope, subject, instance, failures, cooldown_until, expires_at) VALUES `+strings.Join(values, ", ")+`
				ON CONFLICT (scope, subject, instance) DO UPDATE SET failures = excluded.failures,
				cooldown_until = excluded.cooldown_until, expires_at = excluded.expires_at`, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write authentication failures of %s: %w", scope, mapErr(err))
	}
	return nil
}

// lastPerSubject keeps the last count of each subject, in order: one statement may not update
// a row twice.
func lastPerSubject(counts []store.AuthFailure) []store.AuthFailure {
	last := make(map[string]int, len(counts))
	for i, c := range counts {
		last[c.Subject] = i
	}
	if len(last) == len(counts) {
		return counts
	}
	out := make([]store.AuthFailure, 0, len(last))
	for i, c := range counts {
		if last[c.Subject] == i {
			out = append(out, c)
		}
	}
	return out
}

// AuthFailuresHot implements store.AuthFailures. Rows past expires_at neither count nor cool
// down, so one range of the (scope, expires_at) index holds every row that matters.
func (db *DB) AuthFailuresHot(ctx context.Context, scope string, now time.Time, atLeast, maxSubjects int,
) ([]store.AuthFailureTotal, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT subject,
			SUM(CASE WHEN cooldown_until IS NULL THEN failures ELSE 0 END), MAX(cooldown_until)
		FROM auth_failures WHERE scope = $1 AND expires_at > $2
		GROUP BY subject
		HAVING SUM(CASE WHEN cooldown_until IS NULL THEN failures ELSE 0 END) >= $3 OR MAX(cooldown_until) IS NOT NULL
		ORDER BY subject LIMIT $4`, scope, fmtTime(now), atLeast, sqlLimit(maxSubjects))
	if err != nil {
		return nil, fmt.Errorf("read authentication failures of %s: %w", scope, mapErr(err))
	}
	defer func() { _ = rows.Close() }()
	hot := []store.AuthFailureTotal{}
	for rows.Next() {
		var (
			h        store.AuthFailureTotal
			cooldown sql.NullString
		)
		if err := rows.Scan(&h.Subject, &h.Failures, &cooldown); err != nil {
			return nil, fmt.Errorf("read authentication failures of %s: %w", scope, err)
		}
		until, err := parseTimePtr(cooldown)
		if err != nil {
			return nil, fmt.Errorf("read authentication failures of %s: %w", scope, err)
		}
		if until != nil {
			h.CooldownUntil = *until
		}
		hot = append(hot, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read authentication failures of %s: %w", scope, err)
	}
	return hot, nil
}

// AuthFailuresPrune implements store.AuthFailures.
func (db *DB) AuthFailuresPrune(ctx context.Context, scope string, now time.Time) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM auth_failures WHERE scope = $1 AND expires_at <= $2`,
		scope, fmtTime(now)); err != nil {
		return fmt.Errorf("prune authentication failures of %s: %w", scope, mapErr(err))
	}
	return nil
}
