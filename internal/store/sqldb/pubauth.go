package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/pubauth"
	"github.com/liverec/liverec/internal/store"
)

var _ store.PublishAuthStore = (*DB)(nil)

const publishAuthCols = `seq, domain, project, method, key_sealed, backup_key_sealed, validity_s, args,
	webhook_url, webhook_timeout_ms, created_at, updated_at`

// PublishAuthPut implements store.PublishAuthStore. The upsert keeps seq (the ConfigId) and
// created_at of the row it replaces; both are read back in the same transaction.
func (db *DB) PublishAuthPut(ctx context.Context, a *store.PublishAuth) error {
	a.Domain = strings.ToLower(a.Domain)
	args, err := marshalArgs(a.Args)
	if err != nil {
		return fmt.Errorf("put publish auth %s: %w", a.Domain, err)
	}
	now := db.dbNow()
	var seq int64
	var created string
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if _, upsertErr := tx.ExecContext(ctx, `INSERT INTO publish_auth (domain, project, method, key_sealed,
			backup_key_sealed, validity_s, args, webhook_url, webhook_timeout_ms, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
			ON CONFLICT (domain) DO UPDATE SET project = excluded.project, method = excluded.method,
				key_sealed = excluded.key_sealed, backup_key_sealed = excluded.backup_key_sealed,
				validity_s = excluded.validity_s, args = excluded.args, webhook_url = excluded.webhook_url,
				webhook_timeout_ms = excluded.webhook_timeout_ms, updated_at = excluded.updated_at`,
			a.Domain, a.Project, string(a.Method), a.KeySealed, a.BackupKeySealed, int64(a.Validity/time.Second), args,
			a.WebhookURL, a.WebhookTimeout.Milliseconds(), fmtTime(now)); upsertErr != nil {
			return upsertErr
		}
		return tx.QueryRowContext(ctx, `SELECT seq, created_at FROM publish_auth WHERE domain = $1`, a.Domain).
			Scan(&seq, &created)
	})
	if err != nil {
		return fmt.Errorf("put publish auth %s: %w", a.Domain, mapErr(err))
	}
	if a.CreatedAt, err = parseTime(created); err != nil {
		return fmt.Errorf("put publish auth %s: %w", a.Domain, err)
	}
	a.ConfigID, a.UpdatedAt = seq, now
	a.Validity = a.Validity.Truncate(time.Second)
	a.WebhookTimeout = a.WebhookTimeout.Truncate(time.Millisecond)
	return nil
}

// PublishAuthGet implements store.PublishAuthStore.
func (db *DB) PublishAuthGet(ctx context.Context, domain string) (*store.PublishAuth, error) {
	var (
		a                  store.PublishAuth
		method             string
		validity, timeout  int64
		args               sql.NullString
		created, updated   string
		keySeal, backupKey []byte
	)
	err := db.read.QueryRowContext(ctx, `SELECT `+publishAuthCols+` FROM publish_auth WHERE domain = $1`,
		strings.ToLower(domain)).Scan(&a.ConfigID, &a.Domain, &a.Project, &method, &keySeal, &backupKey,
		&validity, &args, &a.WebhookURL, &timeout, &created, &updated)
	if err != nil {
		return nil, fmt.Errorf("get publish auth %s: %w", domain, mapErr(err))
	}
	a.Method = pubauth.Method(method)
	a.KeySealed, a.BackupKeySealed = nonEmpty(keySeal), nonEmpty(backupKey)
	a.Validity = time.Duration(validity) * time.Second
	a.WebhookTimeout = time.Duration(timeout) * time.Millisecond
	if args.Valid {
		if err = json.Unmarshal([]byte(args.String), &a.Args); err != nil {
			return nil, fmt.Errorf("get publish auth %s: args: %w", domain, err)
		}
	}
	if a.CreatedAt, err = parseTime(created); err != nil {
		return nil, fmt.Errorf("get publish auth %s: %w", domain, err)
	}
	if a.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, fmt.Errorf("get publish auth %s: %w", domain, err)
	}
	return &a, nil
}

// PublishAuthDelete implements store.PublishAuthStore.
func (db *DB) PublishAuthDelete(ctx context.Context, domain string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM publish_auth WHERE domain = $1`, strings.ToLower(domain))
	if err = affectedOne(res, err); err != nil {
		return fmt.Errorf("delete publish auth %s: %w", domain, err)
	}
	return nil
}

// marshalArgs stores no arguments as NULL, so nil and empty read back alike (as nil).
func marshalArgs(args []pubauth.Arg) (sql.NullString, error) {
	if len(args) == 0 {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(args)
	if err != nil {
		return sql.NullString{}, fmt.Errorf("args: %w", err)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
