// Package sqlite is the default store driver: one SQLite file through the pure-Go
// modernc.org/sqlite, with migrations embedded. Its SQL uses $N placeholders so the PostgreSQL
// driver can share most of it.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// maxReadConns bounds the read pool; WAL lets readers run beside the single writer.
const maxReadConns = 4

// DB is a store.Store on a SQLite file.
type DB struct {
	// write has one connection: SQLite has one writer at a time, and serialising writes in Go
	// avoids SQLITE_BUSY between our own connections.
	write *sql.DB
	// read is query-only, so a read can never take the write lock.
	read *sql.DB
	// outbox holds the outbox's hot statements, prepared on write.
	outbox *outboxStmts
	now    func() time.Time
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database at path and applies pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
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
	db := &DB{write: write, now: time.Now}
	if err = db.migrate(ctx); err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if db.outbox, err = prepareOutbox(ctx, write); err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Opened after the migrations, so the first reader finds the file in WAL mode.
	db.read, err = sql.Open("sqlite", dsn+"&_query_only=1")
	if err != nil {
		_ = errors.Join(db.outbox.close(), write.Close())
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.read.SetMaxOpenConns(maxReadConns)
	return db, nil
}

func (db *DB) migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db.write, fsys)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Ping checks both pools.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.outbox.close(), db.write.Close())
}

// timeLayout is fixed-width (always six fractional digits) so stored times sort as text, and
// microseconds because that is what PostgreSQL keeps.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// dbNow returns the current time as it will read back from the database.
func (db *DB) dbNow() time.Time {
	return normTime(db.now())
}

// normTime drops what the database does not keep: the zone, the monotonic reading and
// sub-microsecond digits.
func normTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// normTimePtr normalises *p in place, replacing the pointer so the caller's time value is not
// modified behind its back.
func normTimePtr(p **time.Time) {
	if *p != nil {
		t := normTime(**p)
		*p = &t
	}
}

func fmtTime(t time.Time) string {
	return normTime(t).Format(timeLayout)
}

func fmtTimePtr(t *time.Time) sql.NullString {
	if t == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: fmtTime(*t), Valid: true}
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse time %q: %w", s, err)
	}
	return t, nil
}

func parseTimePtr(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseTime(s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// mapErr translates SQLite errors into the store's sentinels.
func mapErr(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return recording.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", recording.ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %w", recording.ErrNotFound, err)
		}
		if se.Code()&0xff == sqlite3.SQLITE_FULL {
			return fmt.Errorf("%w: %w", store.ErrNoSpace, err)
		}
	}
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: %w", store.ErrNoSpace, err)
	}
	return err
}

// where builds a conjunction of equality tests with numbered placeholders.
type where struct {
	conds []string
	args  []any
	// order is the column page sorts by: seq when empty (a join must qualify it). It may list
	// several, comma-separated, when there is no cursor.
	order string
	// after, when set, is a query (with afterArgs) returning the order value of a cursor
	// item: the page holds only the items after it in the list's order, while the count
	// ignores it. No such item gives recording.ErrNotFound.
	after     string
	afterArgs []any
	// count, when set, is a query (with countArgs) for the total that replaces counting the
	// matching rows.
	count     string
	countArgs []any
	// prepare, when set, runs in the list's transaction before its queries and may add
	// conditions that depend on what is stored.
	prepare func(ctx context.Context, tx *sql.Tx) error
}

// eq adds "col = value" unless value is empty (an empty filter field matches everything).
func (w *where) eq(col, value string) {
	if value == "" {
		return
	}
	w.args = append(w.args, value)
	w.conds = append(w.conds, fmt.Sprintf("%s = $%d", col, len(w.args)))
}

// cmp adds "col op value" unless value is empty, for ranges.
func (w *where) cmp(col, op, value string) {
	if value == "" {
		return
	}
	w.args = append(w.args, value)
	w.conds = append(w.conds, fmt.Sprintf("%s %s $%d", col, op, len(w.args)))
}

// overlap adds the test of a span [startCol, endCol) overlapping [from, to) for the bounds
// that are set: it starts before to, and it is open (endCol NULL) or ends after from.
func (w *where) overlap(startCol, endCol string, from, to time.Time) {
	if !to.IsZero() {
		w.cmp(startCol, "<", fmtTime(ceilTime(to)))
	}
	if !from.IsZero() {
		w.args = append(w.args, fmtTime(from))
		w.conds = append(w.conds, fmt.Sprintf("(%[1]s IS NULL OR %[1]s > $%[2]d)", endCol, len(w.args)))
	}
}

// ceilTime rounds t up to the microsecond, so "stored < ceilTime(t)" is exactly "stored < t"
// for the microsecond times the database holds.
func ceilTime(t time.Time) time.Time {
	c := normTime(t)
	if c.Before(t) {
		c = c.Add(time.Microsecond)
	}
	return c
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// page returns the WHERE / ORDER BY / LIMIT / OFFSET tail of a list query and its arguments
// appended to w's, with the cursor condition when cursor is not nil. SQLite needs a LIMIT
// before an OFFSET; -1 means none.
func (w *where) page(offset, limit int, desc bool, cursor any) (string, []any) {
	col := "seq"
	if w.order != "" {
		col = w.order
	}
	order := " ORDER BY " + col
	if desc {
		order = " ORDER BY " + strings.ReplaceAll(col, ",", " DESC,") + " DESC"
	}
	if limit <= 0 {
		limit = -1
	}
	offset = max(offset, 0)
	page := &where{conds: w.conds[:len(w.conds):len(w.conds)], args: w.args[:len(w.args):len(w.args)]}
	if cursor != nil {
		op := ">"
		if desc {
			op = "<"
		}
		page.args = append(page.args, cursor)
		page.conds = append(page.conds, fmt.Sprintf("%s %s $%d", col, op, len(page.args)))
	}
	n := len(page.args)
	return fmt.Sprintf("%s%s LIMIT $%d OFFSET $%d", page.String(), order, n+1, n+2), append(page.args, limit, offset)
}

// list runs a count and a page query over the same snapshot, so total and page agree.
func (db *DB) list(ctx context.Context, table, cols string, w *where, offset, limit int, desc bool,
	scan func(*sql.Rows) error,
) (int, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback() }()
	if w.prepare != nil {
		if err = w.prepare(ctx, tx); err != nil {
			return 0, err
		}
	}
	var total int
	count, countArgs := "SELECT COUNT(*) FROM "+table+w.String(), w.args
	if w.count != "" {
		count, countArgs = w.count, w.countArgs
	}
	if err = tx.QueryRowContext(ctx, count, countArgs...).Scan(&total); err != nil {
		return 0, err
	}
	var cursor any
	if w.after != "" {
		if err = tx.QueryRowContext(ctx, w.after, w.afterArgs...).Scan(&cursor); err != nil {
			return 0, fmt.Errorf("cursor: %w", mapErr(err))
		}
	}
	tail, args := w.page(offset, limit, desc, cursor)
	rows, err := tx.QueryContext(ctx, "SELECT "+cols+" FROM "+table+tail, args...)
	if err != nil {
		return 0, err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return 0, err
		}
	}
	return total, rows.Err()
}
