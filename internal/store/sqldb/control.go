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

const accessKeyCols = `id, project, admin, description, secret_sealed, created_at, revoked_at, disabled`

// AccessKeyInsert implements store.Control. A zero CreatedAt is set to now.
func (db *DB) AccessKeyInsert(ctx context.Context, k *recording.AccessKey) error {
	if k.ID == "" {
		return fmt.Errorf("insert access key: no id")
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = db.dbNow()
	}
	k.CreatedAt = normTime(k.CreatedAt)
	normTimePtr(&k.RevokedAt)
	_, err := db.write.ExecContext(ctx, `INSERT INTO access_keys (`+accessKeyCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.Project, k.Admin, k.Description, k.SecretSealed, fmtTime(k.CreatedAt), fmtTimePtr(k.RevokedAt),
		k.Disabled)
	if err != nil {
		return fmt.Errorf("insert access key %s: %w", k.ID, mapErr(err))
	}
	return nil
}

// AccessKeyGet implements store.Control.
func (db *DB) AccessKeyGet(ctx context.Context, id string) (*recording.AccessKey, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+accessKeyCols+` FROM access_keys WHERE id = $1`, id)
	k, err := scanAccessKey(row)
	if err != nil {
		return nil, fmt.Errorf("get access key %s: %w", id, mapErr(err))
	}
	return k, nil
}

// AccessKeyList implements store.Control.
func (db *DB) AccessKeyList(ctx context.Context, project string) ([]recording.AccessKey, error) {
	w := &where{}
	w.eq("project", project)
	rows, err := db.read.QueryContext(ctx, `SELECT `+accessKeyCols+` FROM access_keys`+w.String()+` ORDER BY seq`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list access keys: %w", err)
	}
	defer func() { _ = rows.Close() }()
	ks := []recording.AccessKey{}
	for rows.Next() {
		k, err := scanAccessKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list access keys: %w", err)
		}
		ks = append(ks, *k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list access keys: %w", err)
	}
	return ks, nil
}

// AccessKeyRevoke implements store.Control. Revoking a revoked key keeps its first
// revocation time: that is when it stopped working.
func (db *DB) AccessKeyRevoke(ctx context.Context, project, id string, at time.Time) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE access_keys SET revoked_at = COALESCE(revoked_at, $3)
			WHERE project = $1 AND id = $2`, project, id, fmtTime(at))
		if err = affectedOne(res, err); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM tokens WHERE key_id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke access key %s: %w", id, mapErr(err))
	}
	return nil
}

// AccessKeySetDisabled implements store.Control.
func (db *DB) AccessKeySetDisabled(ctx context.Context, project, id string, disabled bool) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE access_keys SET disabled = $3 WHERE project = $1 AND id = $2`,
			project, id, disabled)
		if err = affectedOne(res, err); err != nil || !disabled {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM tokens WHERE key_id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("set access key %s disabled: %w", id, mapErr(err))
	}
	return nil
}

// AccessKeyUpdateSecret implements store.Control.
func (db *DB) AccessKeyUpdateSecret(ctx context.Context, id string, sealed []byte) error {
	res, err := db.write.ExecContext(ctx, `UPDATE access_keys SET secret_sealed = $2, revoked_at = NULL
		WHERE id = $1`, id, sealed)
	if err = affectedOne(res, err); err != nil {
		return fmt.Errorf("update access key %s secret: %w", id, err)
	}
	return nil
}

func scanAccessKey(s scanner) (*recording.AccessKey, error) {
	var (
		k       recording.AccessKey
		created string
		revoked sql.NullString
	)
	if err := s.Scan(&k.ID, &k.Project, &k.Admin, &k.Description, &k.SecretSealed, &created, &revoked,
		&k.Disabled); err != nil {
		return nil, err
	}
	var err error
	if k.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if k.RevokedAt, err = parseTimePtr(revoked); err != nil {
		return nil, err
	}
	return &k, nil
}

const tokenCols = `id, project, admin, key_id, hash, created_at, expires_at`

// TokenInsert implements store.Control. A zero CreatedAt is set to now; recording.ErrConflict
// for an existing ID or hash.
func (db *DB) TokenInsert(ctx context.Context, t *recording.Token) error {
	if t.ID == "" {
		t.ID = store.NewID(store.TokenPrefix)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = db.dbNow()
	}
	t.CreatedAt, t.ExpiresAt = normTime(t.CreatedAt), normTime(t.ExpiresAt)
	_, err := db.write.ExecContext(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.Project, t.Admin, t.KeyID, t.Hash, fmtTime(t.CreatedAt), fmtTime(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert token: %w", mapErr(err))
	}
	return nil
}

// TokenByHash implements store.Control. A token is valid while now is before ExpiresAt and its
// key is active: revoking or disabling a key deletes its tokens, and the join here holds
// even for a token inserted after its key went.
func (db *DB) TokenByHash(ctx context.Context, hash []byte, now time.Time) (*recording.Token, error) {
	row := db.read.QueryRowContext(ctx, `SELECT t.id, t.project, t.admin, t.key_id, t.hash, t.created_at,
		t.expires_at FROM tokens t JOIN access_keys k ON k.id = t.key_id
		WHERE t.hash = $1 AND t.expires_at > $2 AND k.revoked_at IS NULL AND NOT k.disabled`,
		hash, fmtTime(now))
	t, err := scanToken(row)
	if err != nil {
		return nil, fmt.Errorf("get token: %w", mapErr(err))
	}
	return t, nil
}

// TokenList implements store.Control.
func (db *DB) TokenList(ctx context.Context, project string, now time.Time) ([]recording.Token, error) {
	w := &where{}
	w.eq("project", project)
	w.cmp("expires_at", ">", fmtTime(now))
	rows, err := db.read.QueryContext(ctx, `SELECT `+tokenCols+` FROM tokens`+w.String()+
		` ORDER BY created_at, id`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer func() { _ = rows.Close() }()
	ts := []recording.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		ts = append(ts, *t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return ts, nil
}

func scanToken(s scanner) (*recording.Token, error) {
	var (
		t                recording.Token
		created, expires string
	)
	if err := s.Scan(&t.ID, &t.Project, &t.Admin, &t.KeyID, &t.Hash, &created, &expires); err != nil {
		return nil, err
	}
	var err error
	if t.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if t.ExpiresAt, err = parseTime(expires); err != nil {
		return nil, err
	}
	return &t, nil
}

// TokenDelete implements store.Control.
func (db *DB) TokenDelete(ctx context.Context, project, id string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM tokens WHERE project = $1 AND id = $2`, project, id)
	if err = affectedOne(res, err); err != nil {
		return fmt.Errorf("delete token %s: %w", id, err)
	}
	return nil
}

// DomainClaim implements store.Control. The insert is a no-op when the domain is owned, so
// two projects claiming at once cannot both win; the owner is read in the same transaction.
func (db *DB) DomainClaim(ctx context.Context, domain, project string) (string, error) {
	domain = strings.ToLower(domain)
	var owner string
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO domain_claims (domain, project, created_at)
			VALUES ($1, $2, $3) ON CONFLICT (domain) DO NOTHING`, domain, project, fmtTime(db.dbNow())); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT project FROM domain_claims WHERE domain = $1`, domain).Scan(&owner)
	})
	if err != nil {
		return "", fmt.Errorf("claim domain %s: %w", domain, mapErr(err))
	}
	return owner, nil
}

// DomainOwner implements store.Control.
func (db *DB) DomainOwner(ctx context.Context, domain string) (string, error) {
	var owner string
	err := db.read.QueryRowContext(ctx, `SELECT project FROM domain_claims WHERE domain = $1`,
		strings.ToLower(domain)).Scan(&owner)
	if err != nil {
		return "", fmt.Errorf("domain owner of %s: %w", domain, mapErr(err))
	}
	return owner, nil
}

// DomainAssign implements store.Control. CreatedAt becomes the time of the assignment when
// the owner changes, and stays when it does not.
func (db *DB) DomainAssign(ctx context.Context, domain, project string) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO domain_claims (domain, project, created_at)
		VALUES ($1, $2, $3) ON CONFLICT (domain) DO UPDATE
		SET project = excluded.project, created_at = excluded.created_at
		WHERE domain_claims.project <> excluded.project`,
		strings.ToLower(domain), project, fmtTime(db.dbNow()))
	if err != nil {
		return fmt.Errorf("assign domain %s: %w", domain, mapErr(err))
	}
	return nil
}

// DomainList implements store.Control, sorted by domain.
func (db *DB) DomainList(ctx context.Context, project string) ([]recording.DomainClaim, error) {
	w := &where{}
	w.eq("project", project)
	rows, err := db.read.QueryContext(ctx, `SELECT domain, project, created_at FROM domain_claims`+
		w.String()+` ORDER BY domain`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	defer func() { _ = rows.Close() }()
	ds := []recording.DomainClaim{}
	for rows.Next() {
		var (
			d       recording.DomainClaim
			created string
		)
		if err = rows.Scan(&d.Domain, &d.Project, &created); err != nil {
			return nil, fmt.Errorf("list domains: %w", err)
		}
		if d.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("list domains: %w", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	return ds, nil
}

// NonceUse implements store.Control. A nonce is live while now is before its expiry. Every
// call first prunes what has expired (cheap through nonces_expires, and only what expired
// since the previous call), which also frees an expired nonce for reuse; the insert then
// conflicts only with a live one.
func (db *DB) NonceUse(ctx context.Context, keyID, nonce string, expires, now time.Time) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM nonces WHERE expires_at <= $1`, fmtTime(now)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO nonces (key_id, nonce, expires_at) VALUES ($1, $2, $3)
			ON CONFLICT (key_id, nonce) DO NOTHING`, keyID, nonce, fmtTime(expires))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return recording.ErrConflict
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("use nonce: %w", mapErr(err))
	}
	return nil
}

// inTx runs fn in a write transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
