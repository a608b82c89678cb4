package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// maxReadConns bounds SQLite's read pool; WAL lets readers run beside the single writer.
const maxReadConns = 4

var sqliteDialect = &dialect{
	name:     "sqlite",
	goose:    goose.DialectSQLite3,
	listTx:   &sql.TxOptions{ReadOnly: true},
	hints:    true,
	falseSQL: "0",
	// julianday has about a millisecond of precision; boundStart leaves a second of margin.
	longestDays: "MAX(julianday(ended_at) - julianday(started_at))",
}

// OpenSQLite opens (creating if needed) the SQLite database at path and applies pending
// migrations. The pure-Go modernc.org/sqlite needs no C toolchain.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	// WAL: readers don't block the writer; busy_timeout: wait rather than fail when another
	// process (a backup, the sqlite3 shell) holds a lock; foreign_keys: off by default in SQLite.
	// synchronous NORMAL: in WAL mode a commit survives a crash of the process but not of the
	// machine, where the last commits may roll back (whole: an event goes with its state
	// change). With FULL, an fsync per commit held BenchmarkOutbox to ~1,450 deliveries/s.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	dsn := path + "?" + q.Encode()

	write, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	db := &DB{write: write, read: write, d: sqliteDialect, now: time.Now}
	if err = db.open(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), db.Close())
	}
	// Opened after the migrations, so the first reader finds the file in WAL mode.
	read, err := sql.Open("sqlite", dsn+"&_query_only=1")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open %s: %w", path, err), db.Close())
	}
	read.SetMaxOpenConns(maxReadConns)
	db.read = read
	return db, nil
}

// sqliteErr maps SQLite's constraint and disk-full errors.
func sqliteErr(err error) (mapped bool, _ error) {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false, nil
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true, fmt.Errorf("%w: %w", recording.ErrConflict, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return true, fmt.Errorf("%w: %w", recording.ErrNotFound, err)
	}
	if se.Code()&0xff == sqlite3.SQLITE_FULL {
		return true, fmt.Errorf("%w: %w", store.ErrNoSpace, err)
	}
	return false, nil
}
