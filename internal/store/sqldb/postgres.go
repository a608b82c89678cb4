package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// maxPostgresConns bounds a node's pool: every node of a cluster opens its own, and the
// server's max_connections (100 by default) is shared by all of them.
const maxPostgresConns = 16

var postgresDialect = &dialect{
	name:  "postgres",
	goose: goose.DialectPostgres,
	// Read committed would give a list's count and page different snapshots.
	listTx:   &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead},
	falseSQL: "FALSE",
	// MAX inside EXTRACT: one seek in recordings_span instead of a scan of the project.
	longestDays:   "EXTRACT(EPOCH FROM MAX(ended_at - started_at))::float8 / 86400",
	skipLocked:    " FOR UPDATE OF d SKIP LOCKED",
	lockRecording: "SELECT 1 FROM recordings WHERE id = $1 FOR UPDATE",
	oneStatement:  true,
	migrationLock: func() (lock.SessionLocker, error) { return lock.NewPostgresSessionLocker() },
}

// OpenPostgres connects to the PostgreSQL database at dsn (postgres://user:pass@host/db?…)
// and applies pending migrations. Several nodes may open one database: the migrations take
// goose's advisory lock, and every write is safe against the other nodes' transactions.
func OpenPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgconnConfig(dsn)
	if err != nil {
		return nil, err
	}
	pool := stdlib.OpenDB(*cfg)
	pool.SetMaxOpenConns(maxPostgresConns)
	pool.SetMaxIdleConns(maxPostgresConns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{write: pool, read: pool, d: postgresDialect, now: time.Now}
	if err = db.open(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open postgres database: %w", err), db.Close())
	}
	return db, nil
}

// pgErr maps PostgreSQL's constraint and disk-full errors by SQLSTATE.
func pgErr(err error) (mapped bool, _ error) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false, nil
	}
	switch pe.Code {
	case "23505": // unique_violation
		return true, fmt.Errorf("%w: %w", recording.ErrConflict, err)
	case "23503": // foreign_key_violation
		return true, fmt.Errorf("%w: %w", recording.ErrNotFound, err)
	case "53100": // disk_full
		return true, fmt.Errorf("%w: %w", store.ErrNoSpace, err)
	}
	return false, nil
}

// pgconnConfig parses dsn without echoing it: it may hold a password.
func pgconnConfig(dsn string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("open postgres database: the URL does not parse (see the PostgreSQL connection string format)")
	}
	return cfg, nil
}
