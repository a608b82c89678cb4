package native

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/secret"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store/sqldb"
	"github.com/liverec/liverec/internal/testutil"
)

// benchDatabase is a database the benchmarks run the store on.
type benchDatabase struct {
	name string
	open func(testing.TB) *sqldb.DB
}

// benchDatabases are SQLite as liverec opens it (WAL, synchronous NORMAL) and PostgreSQL on a
// server with its durability defaults, with commits waiting for the disk (its default) and
// not (synchronous_commit off: a crash may lose the last commits, as SQLite's NORMAL may).
func benchDatabases() []benchDatabase {
	return []benchDatabase{
		{"sqlite", openBenchSQLite},
		{"postgres", func(tb testing.TB) *sqldb.DB { return openPostgresDurable(tb, "on") }},
		{"postgres-async-commit", func(tb testing.TB) *sqldb.DB { return openPostgresDurable(tb, "off") }},
	}
}

func openBenchSQLite(tb testing.TB) *sqldb.DB {
	db, err := sqldb.OpenSQLite(context.Background(), filepath.Join(tb.TempDir(), "liverec.db"))
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, db.Close()) })
	return db
}

// openPostgresDurable opens a fresh database on the test binary's durable PostgreSQL server,
// its sessions with synchronous_commit set to syncCommit, and checks that the server does
// wait on the disk: the benchmarks' numbers are quoted as a production server's.
func openPostgresDurable(tb testing.TB, syncCommit string) *sqldb.DB {
	ctx := context.Background()
	u, err := url.Parse(testutil.PostgresDurable(tb))
	require.NoError(tb, err)
	q := u.Query()
	q.Set("synchronous_commit", syncCommit) // pgx sends unknown parameters as session settings
	u.RawQuery = q.Encode()
	dsn := u.String()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(tb, err, "connect to check the server's durability")
	var fsync, fullPageWrites, commit string
	err = conn.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('full_page_writes'),
		current_setting('synchronous_commit')`).Scan(&fsync, &fullPageWrites, &commit)
	require.NoError(tb, errors.Join(err, conn.Close(ctx)), "read the server's durability settings")
	require.Equal(tb, []string{"on", "on", syncCommit}, []string{fsync, fullPageWrites, commit},
		"fsync, full_page_writes, synchronous_commit")
	db, err := sqldb.OpenPostgres(ctx, dsn)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, db.Close()) })
	return db
}

// BenchmarkListRules measures authenticated rule listings (the native counterpart of the cloud
// façades' signed Describe) through the whole handler over loopback HTTP, on each of
// benchDatabases.
func BenchmarkListRules(b *testing.B) {
	for _, database := range benchDatabases() {
		b.Run(database.name, func(b *testing.B) { benchListRules(b, database.open(b)) })
	}
}

func benchListRules(b *testing.B, db *sqldb.DB) {
	key := make([]byte, secret.KeySize)
	rand.Read(key)
	box, err := secret.New(key)
	require.NoError(b, err)
	svc := &service.Service{Store: db, Sealer: box}
	p := service.Principal{Project: "bench", Admin: true}
	k, sec, err := svc.CreateAccessKey(b.Context(), p, "bench", true, "")
	require.NoError(b, err)
	token, _, err := svc.CreateToken(b.Context(), service.PrincipalOf(k), time.Hour)
	require.NoError(b, err)
	srv := httptest.NewServer(NewHandler(svc, Config{Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	body := `{"domain":"bench.example","app":"live","formats":[{"format":"flv"}]}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/rules", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b, err, "create rule")
	resp.Body.Close() // an unread body keeps the connection busy past srv.Close
	require.Equal(b, http.StatusCreated, resp.StatusCode, "create rule")
	for _, auth := range []struct {
		name string
		set  func(*http.Request)
	}{
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }},
		{"basic", func(r *http.Request) { r.SetBasicAuth(k.ID, sec) }},
	} {
		b.Run(auth.name, func(b *testing.B) {
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/rules?domain=bench.example", nil)
				auth.set(req)
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("list rules: %v %v", err, resp)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
