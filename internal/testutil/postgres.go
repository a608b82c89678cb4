package testutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"
)

// postgresInstall is how to get the PostgreSQL server the tests run against.
const postgresInstall = "apt-get install postgresql, or run scripts/test, " +
	"or set LIVEREC_PG_BIN to the directory holding initdb and postgres"

// postgresUser is the test cluster's superuser and, when the tests run as root, the OS user
// the server runs as: PostgreSQL refuses to run as root.
const postgresUser = "postgres"

const (
	postgresStartTimeout = 30 * time.Second
	postgresStopTimeout  = 10 * time.Second
	postgresAdminTimeout = 30 * time.Second
	// postgresPortTries bounds the restarts when another process takes the free port picked
	// for the server before the server binds it.
	postgresPortTries = 5
)

// errPortInUse is a start that failed because the port was taken meanwhile.
var errPortInUse = errors.New("port in use")

// pgServer is a PostgreSQL server all tests of a test binary share.
type pgServer struct {
	// durable keeps PostgreSQL's durability defaults, for PostgresDurable.
	durable bool
	mu      sync.Mutex
	// err is why the start failed: later tests fail with it rather than start again.
	err  error
	dir  string // cluster, sockets and logs; removed at stop
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when the server has exited
	// databases numbers the test databases, so each name is unique and says its order.
	databases int
	// templates are the databases PostgresFrom copies, by name.
	templates map[string]*pgTemplate
}

// pgTemplate is a database prepared once and copied for each test that asks for it.
type pgTemplate struct {
	once sync.Once
	err  error
}

// sharedPostgres (Postgres's) and durablePostgres (PostgresDurable's) are the package's only
// mutable state: one server of each kind per process is the point of them.
var (
	sharedPostgres  pgServer
	durablePostgres = pgServer{durable: true}
)

// Postgres returns the DSN of a fresh, empty database for t on the test binary's PostgreSQL
// server, started at the first call. The database is dropped when t ends. Without the server
// binaries the test fails (never skips) and says how to get them. A package using it calls
// StopPostgres after its tests, most simply through PostgresMain.
func Postgres(t testing.TB) string {
	t.Helper()
	return newPostgresDatabase(t, &sharedPostgres)
}

// PostgresDurable is Postgres on a second server of the test binary, one that keeps
// PostgreSQL's durability defaults (fsync, full_page_writes and synchronous_commit on: a
// commit waits for its WAL to reach the disk). It is for benchmarks, whose numbers should be
// a production server's; tests want Postgres, whose server does not wait on the disk.
func PostgresDurable(t testing.TB) string {
	t.Helper()
	return newPostgresDatabase(t, &durablePostgres)
}

// PostgresFrom is Postgres with a database that starts as a copy of the template database
// named template, which prepare (given its DSN) fills once per test binary: a copy is cheaper
// than running a schema's migrations for every test. prepare must close its connections.
func PostgresFrom(t testing.TB, template string, prepare func(dsn string) error) string {
	t.Helper()
	port, _, err := sharedPostgres.ensure(template)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := sharedPostgres.template(template)
	tmpl.once.Do(func() {
		ident := pgx.Identifier{template}.Sanitize()
		if tmpl.err = postgresAdminExec(port, "CREATE DATABASE "+ident); tmpl.err != nil {
			tmpl.err = fmt.Errorf("create template database %s: %w", template, tmpl.err)
			return
		}
		if tmpl.err = prepare(postgresDSN(port, template)); tmpl.err != nil {
			tmpl.err = fmt.Errorf("prepare template database %s: %w", template, tmpl.err)
		}
	})
	if tmpl.err != nil {
		t.Fatal(tmpl.err)
	}
	return newPostgresDatabaseFrom(t, &sharedPostgres, template)
}

// template returns the template named name, made on first use.
func (s *pgServer) template(name string) *pgTemplate {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.templates == nil {
		s.templates = map[string]*pgTemplate{}
	}
	if s.templates[name] == nil {
		s.templates[name] = &pgTemplate{}
	}
	return s.templates[name]
}

// newPostgresDatabase creates a database for t on s, dropped when t ends, and returns its DSN.
func newPostgresDatabase(t testing.TB, s *pgServer) string {
	t.Helper()
	return newPostgresDatabaseFrom(t, s, "")
}

// newPostgresDatabaseFrom is newPostgresDatabase copying the database template, if not "".
func newPostgresDatabaseFrom(t testing.TB, s *pgServer, template string) string {
	t.Helper()
	port, name, err := s.ensure(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	ident := pgx.Identifier{name}.Sanitize()
	create := "CREATE DATABASE " + ident
	if template != "" {
		create += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if err = postgresAdminExec(port, create); err != nil {
		t.Fatalf("create test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// FORCE: a pool the test left open must not keep its database alive.
		if dropErr := postgresAdminExec(port, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); dropErr != nil {
			t.Logf("drop test database %s: %v", name, dropErr)
		}
	})
	return postgresDSN(port, name)
}

// StopPostgres stops the test binary's PostgreSQL servers, those that were started, and
// removes their clusters. Call it after m.Run and before checking for leaked goroutines.
func StopPostgres() {
	if err := errors.Join(sharedPostgres.stop(), durablePostgres.stop()); err != nil {
		fmt.Fprintf(os.Stderr, "testutil: stop postgres: %v\n", err)
	}
}

// PostgresMain is TestMain for packages using Postgres: goleak.VerifyTestMain that stops the
// server before looking for leaked goroutines.
func PostgresMain(m *testing.M, opts ...goleak.Option) {
	PostgresMainThen(m, nil, opts...)
}

// PostgresMainThen is PostgresMain that also runs cleanup (when set) once the tests are done,
// before the leak check: for what a package's tests share beyond one test.
func PostgresMainThen(m *testing.M, cleanup func(), opts ...goleak.Option) {
	code := m.Run()
	StopPostgres()
	if cleanup != nil {
		cleanup()
	}
	if code == 0 {
		if err := goleak.Find(opts...); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: Errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

func postgresDSN(port int, database string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", postgresUser, port, database)
}

// postgresAdminExec runs sql on the server's maintenance database, on a connection of its
// own: CREATE and DROP DATABASE cannot run in a transaction, and tests call it in parallel.
func postgresAdminExec(port int, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), postgresAdminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, postgresDSN(port, "postgres"))
	if err != nil {
		return fmt.Errorf("connect to the test server: %w", err)
	}
	_, err = conn.Exec(ctx, sql)
	return errors.Join(err, conn.Close(ctx))
}

// ensure starts the server unless it runs, and names a new database for test.
func (s *pgServer) ensure(test string) (port int, database string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil && s.err == nil {
		if s.err = s.start(); s.err != nil {
			s.err = fmt.Errorf("start the tests' PostgreSQL server: %w", s.err)
		}
	}
	if s.err != nil {
		return 0, "", s.err
	}
	s.databases++
	return s.port, fmt.Sprintf("t%d_%s", s.databases, databaseNamePart(test)), nil
}

// databaseNamePart makes a test name a short, unquoted-safe part of a database name.
func databaseNamePart(test string) string {
	b := []byte(strings.ToLower(test))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	return string(b[:min(len(b), 40)])
}

func (s *pgServer) start() error {
	bins, err := findPostgres()
	if err != nil {
		return err
	}
	cred, err := postgresCredential()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "liverec-pg-")
	if err != nil {
		return fmt.Errorf("make the cluster's directory: %w", err)
	}
	if err = s.startIn(dir, bins, cred); err != nil {
		return errors.Join(err, os.RemoveAll(dir))
	}
	s.dir = dir
	return nil
}

func (s *pgServer) startIn(dir string, bins postgresBins, cred *syscall.Credential) error {
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("hand the cluster's directory to %s: %w", postgresUser, err)
		}
	}
	data := filepath.Join(dir, "data")
	initLog := filepath.Join(dir, "initdb.log")
	// C locale: text sorts bytewise, as in SQLite. --no-sync: the cluster is thrown away.
	initdb := postgresCommand(bins.initdb, dir, cred, "-D", data, "-U", postgresUser,
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	if err := runLogged(initdb, initLog); err != nil {
		return fmt.Errorf("initdb: %w; its output: %s", err, fileTail(initLog))
	}
	for try := 1; ; try++ {
		port, err := freeLoopbackPort()
		if err != nil {
			return err
		}
		err = s.run(bins, dir, data, cred, port)
		if err == nil || !errors.Is(err, errPortInUse) || try == postgresPortTries {
			return err
		}
	}
}

// run starts the server on port and waits until it takes connections.
func (s *pgServer) run(bins postgresBins, dir, data string, cred *syscall.Credential, port int) error {
	logPath := filepath.Join(dir, "postgres.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("create the server's log: %w", err)
	}
	args := []string{"-D", data, "-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(port),
		"-c", "unix_socket_directories=" + dir, "-c", "max_connections=300"}
	if !s.durable {
		// Durability off: the cluster is thrown away, and tests should not wait on the disk.
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := postgresCommand(bins.postgres, dir, cred, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err = cmd.Start(); err != nil {
		return errors.Join(fmt.Errorf("start postgres: %w", err), logf.Close())
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(done) }()
	if err = waitPostgres(port, data, done); err != nil {
		_ = cmd.Process.Kill()
		<-done
		out := fileTail(logPath)
		if strings.Contains(out, "Address already in use") {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return fmt.Errorf("%w; its log: %s", err, out)
	}
	s.port, s.cmd, s.done = port, cmd, done
	return nil
}

// waitPostgres connects until the server answers, it exits or the start timeout passes. The
// server answering must be the one of the cluster in data: another test binary's server may
// have taken the port first.
func waitPostgres(port int, data string, exited <-chan struct{}) error {
	deadline := time.Now().Add(postgresStartTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		answering, err := postgresDataDir(ctx, port)
		cancel()
		if err == nil {
			if answering != data {
				return fmt.Errorf("%w: the server of %s answers on port %d", errPortInUse, answering, port)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres does not take connections on port %d after %v: %w", port, postgresStartTimeout, err)
		}
		select {
		case <-exited:
			return fmt.Errorf("postgres exited at start")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// postgresDataDir asks the server on port for its cluster's directory.
func postgresDataDir(ctx context.Context, port int) (string, error) {
	conn, err := pgx.Connect(ctx, postgresDSN(port, "postgres"))
	if err != nil {
		return "", err
	}
	var dir string
	err = conn.QueryRow(ctx, `SELECT current_setting('data_directory')`).Scan(&dir)
	return dir, errors.Join(err, conn.Close(ctx))
}

func (s *pgServer) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = nil
	if s.cmd == nil {
		return nil
	}
	var err error
	// SIGINT is PostgreSQL's fast shutdown: sessions are ended, not waited for.
	if err = s.cmd.Process.Signal(os.Interrupt); err == nil {
		select {
		case <-s.done:
		case <-time.After(postgresStopTimeout):
			err = fmt.Errorf("postgres did not shut down in %v; killed", postgresStopTimeout)
		}
	}
	if err != nil {
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	err = errors.Join(err, os.RemoveAll(s.dir))
	s.cmd, s.done, s.dir, s.port = nil, nil, "", 0
	return err
}

// postgresCommand runs bin as the server's OS user (cred, nil for this process's). The
// kernel kills it when the test binary dies, so a crash leaves no server behind.
func postgresCommand(bin, dir string, cred *syscall.Credential, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	// A working directory the postgres user can enter: the package's may not be.
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	return cmd
}

func runLogged(cmd *exec.Cmd, logPath string) error {
	logf, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("create %s: %w", logPath, err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	return errors.Join(cmd.Run(), logf.Close())
}

// postgresCredential is who the server runs as: nil (this process's user) unless the tests
// run as root, then the postgres user, created when missing.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(postgresUser)
	if errors.As(err, new(user.UnknownUserError)) {
		out, addErr := exec.Command("useradd", "--system", postgresUser).CombinedOutput()
		// Another test binary may have added it meanwhile: look again either way.
		if u, err = user.Lookup(postgresUser); err != nil {
			return nil, fmt.Errorf("PostgreSQL refuses to run as root and there is no %s user; "+
				"useradd --system %s: %w: %s", postgresUser, postgresUser, addErr, strings.TrimSpace(string(out)))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("look up the %s user: %w", postgresUser, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("%s's uid %q: %w", postgresUser, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("%s's gid %q: %w", postgresUser, u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

type postgresBins struct{ initdb, postgres string }

// findPostgres finds initdb and postgres: in $LIVEREC_PG_BIN, else on PATH, else in the
// newest /usr/lib/postgresql/*/bin (Debian's packages, which leave them off PATH).
func findPostgres() (postgresBins, error) {
	if dir := os.Getenv("LIVEREC_PG_BIN"); dir != "" {
		bins := postgresBinsIn(dir)
		if !isExecutable(bins.initdb) || !isExecutable(bins.postgres) {
			return bins, fmt.Errorf("LIVEREC_PG_BIN=%s holds no initdb and postgres; %s", dir, postgresInstall)
		}
		return bins, nil
	}
	initdb, initdbErr := exec.LookPath("initdb")
	postgres, postgresErr := exec.LookPath("postgres")
	if initdbErr == nil && postgresErr == nil {
		return postgresBins{initdb: initdb, postgres: postgres}, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestVersion := "", -1.0
	for _, dir := range dirs {
		version, err := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		bins := postgresBinsIn(dir)
		if err == nil && version > bestVersion && isExecutable(bins.initdb) && isExecutable(bins.postgres) {
			best, bestVersion = dir, version
		}
	}
	if best == "" {
		return postgresBins{}, fmt.Errorf("PostgreSQL's initdb and postgres are not in LIVEREC_PG_BIN, "+
			"on PATH or in /usr/lib/postgresql/*/bin; %s", postgresInstall)
	}
	return postgresBinsIn(best), nil
}

func postgresBinsIn(dir string) postgresBins {
	return postgresBins{initdb: filepath.Join(dir, "initdb"), postgres: filepath.Join(dir, "postgres")}
}

// freeLoopbackPort returns a port nothing listens on now; another process may take it before
// the server binds it, which the start retries.
func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

// fileTail returns the end of a log, for error messages.
func fileTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	out := strings.TrimSpace(string(b))
	if len(out) > 3000 {
		out = "…" + out[len(out)-3000:]
	}
	return out
}
