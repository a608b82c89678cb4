// Package sqldb is the store's SQL driver, one implementation on database/sql for the two
// databases liverec runs on: SQLite (OpenSQLite, the embedded default) and PostgreSQL
// (OpenPostgres, for several nodes on one database). The statements are shared, with $N
// placeholders; what differs (pools, hints, locks, error codes, migrations) is in dialect.
// Times are TEXT in SQLite (fixed-width UTC, so they compare as text) and TIMESTAMPTZ in
// PostgreSQL; both keep microseconds, and both accept the text form as a parameter.
package sqldb

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strings"
	"syscall"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// DB is a store driver on a SQL database.
type DB struct {
	// write runs every write. In SQLite it has one connection: SQLite has one writer at a
	// time, and serialising writes in Go avoids SQLITE_BUSY between our own connections. In
	// PostgreSQL it is the one pool, and read is the same.
	write *sql.DB
	// read runs reads; in SQLite it is query-only, so a read can never take the write lock.
	read *sql.DB
	// outbox holds the outbox's hot statements, prepared on write.
	outbox *outboxStmts
	d      *dialect
	now    func() time.Time
}

var _ store.Store = (*DB)(nil)

// dialect is what differs between the databases.
type dialect struct {
	name  string
	goose goose.Dialect
	// listTx is how a list's count and page read one snapshot.
	listTx *sql.TxOptions
	// hints: SQLite's planner takes INDEXED BY where it would otherwise walk the wrong index.
	hints bool
	// falseSQL is false as the boolean columns hold it (SQLite keeps 0 and 1, and its partial
	// indexes match only the same literal).
	falseSQL string
	// longestDays is the length in days of a project's longest ended recording, as SQL.
	longestDays string
	// skipLocked ends a claim's SELECT: rows another node is claiming are passed over, not
	// waited for (empty in SQLite, whose single writer serialises claims anyway).
	skipLocked string
	// oneStatement: the database claims and records deliveries in one statement each
	// (claimOneSQL, recordOneSQL) instead of a transaction of several.
	oneStatement bool
	// migrationLock, when set, makes the session lock that keeps nodes starting at once from
	// migrating together.
	migrationLock func() (lock.SessionLocker, error)
	// lockRecording, when set, locks a recording's row (with $1 its id) so that one
	// transaction at a time numbers its events, whichever node writes them.
	lockRecording string
}

// indexedBy returns SQLite's hint to use index, empty elsewhere.
func (d *dialect) indexedBy(index string) string {
	if !d.hints {
		return ""
	}
	return "INDEXED BY " + index
}

// open finishes opening db on its pools: migrations, then the outbox's statements.
func (db *DB) open(ctx context.Context) error {
	if err := db.migrate(ctx); err != nil {
		return err
	}
	var err error
	db.outbox, err = prepareOutbox(ctx, db.write, db.d)
	return err
}

func (db *DB) migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations/"+db.d.name)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var opts []goose.ProviderOption
	if db.d.migrationLock != nil {
		locker, lerr := db.d.migrationLock()
		if lerr != nil {
			return fmt.Errorf("migrate: %w", lerr)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(db.d.goose, db.write, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Ping checks the pools.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// Close closes the pools.
func (db *DB) Close() error {
	var errs []error
	if db.outbox != nil {
		errs = append(errs, db.outbox.close())
	}
	if db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	return errors.Join(append(errs, db.write.Close())...)
}

// sqlLimit is LIMIT's argument for limit, where 0 or less means none.
func sqlLimit(limit int) int64 {
	if limit <= 0 {
		return math.MaxInt64
	}
	return int64(limit)
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

// parseTime reads a stored time: SQLite's text in timeLayout, or what database/sql makes of a
// PostgreSQL timestamptz scanned into a string (RFC 3339 with nanoseconds and a zone).
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return time.Time{}, fmt.Errorf("parse time %q: %w", s, err)
		}
	}
	return t.UTC(), nil
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

// mapErr translates database errors into the store's sentinels: the common ones here, the
// rest by the error types of the drivers (sqliteErr, pgErr).
func mapErr(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return recording.ErrNotFound
	}
	if ok, mapped := sqliteErr(err); ok {
		return mapped
	}
	if ok, mapped := pgErr(err); ok {
		return mapped
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
// appended to w's, with the cursor condition when cursor is not nil.
func (w *where) page(offset, limit int, desc bool, cursor any) (string, []any) {
	col := "seq"
	if w.order != "" {
		col = w.order
	}
	order := " ORDER BY " + col
	if desc {
		order = " ORDER BY " + strings.ReplaceAll(col, ",", " DESC,") + " DESC"
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
	return fmt.Sprintf("%s%s LIMIT $%d OFFSET $%d", page.String(), order, n+1, n+2), append(page.args, sqlLimit(limit), offset)
}

// list runs a count and a page query over the same snapshot, so total and page agree.
func (db *DB) list(ctx context.Context, table, cols string, w *where, offset, limit int, desc bool,
	scan func(*sql.Rows) error,
) (int, error) {
	tx, err := db.read.BeginTx(ctx, db.d.listTx)
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

// Open opens the database named by url: empty for SQLite at defaultPath, "sqlite:PATH" for
// SQLite elsewhere, "postgres://…" or "postgresql://…" for PostgreSQL.
func Open(ctx context.Context, url, defaultPath string) (*DB, error) {
	switch {
	case url == "":
		return OpenSQLite(ctx, defaultPath)
	case strings.HasPrefix(url, "sqlite:"):
		return OpenSQLite(ctx, strings.TrimPrefix(url, "sqlite:"))
	case IsPostgres(url):
		return OpenPostgres(ctx, url)
	}
	return nil, errors.New("open database: the URL is neither sqlite:PATH nor postgres://…")
}

// IsPostgres reports whether url names a PostgreSQL database.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}
