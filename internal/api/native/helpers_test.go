package native

import (
	"crypto/rand"
	"encoding/json"
	"github.com/liverec/liverec/internal/testutil"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/secret"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store/sqldb/sqldbtest"
)

// clock is a settable clock shared by the service (token expiry) and the handler.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type client struct {
	t     *testing.T
	url   string
	svc   *service.Service // nil when serving a fake
	clock *clock
	logs  *testutil.SyncBuffer
	// mint returns a bearer token acting as p.
	mint func(p service.Principal) string

	mu     sync.Mutex
	tokens map[service.Principal]string
	bodies []string // every response body, to grep for secrets
}

// newServer serves the API over a real service on a SQLite store, on 127.0.0.1:0.
func newServer(t *testing.T) *client {
	t.Helper()
	db := sqldbtest.OpenSQLiteAt(t, filepath.Join(t.TempDir(), "liverec.db"))
	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	box, err := secret.New(key)
	require.NoError(t, err)
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	svc := &service.Service{Store: db, Sealer: box, Now: clk.Now}
	c := serve(t, svc, clk, func(p service.Principal) string {
		// A token descends from a key: make the principal's key first.
		if p.AccessKeyID == "" {
			k, _, err := svc.CreateAccessKey(t.Context(), service.Principal{Project: p.Project, Admin: true},
				p.Project, p.Admin, "test principal")
			require.NoError(t, err)
			p.AccessKeyID = k.ID
		}
		token, _, err := svc.CreateToken(t.Context(), p, time.Hour)
		require.NoError(t, err)
		return token
	})
	c.svc = svc
	return c
}

func serve(t *testing.T, svc Service, clk *clock, mint func(service.Principal) string) *client {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	srv := httptest.NewServer(NewHandler(svc, Config{
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    clk.Now,
	}))
	t.Cleanup(srv.Close)
	return &client{t: t, url: srv.URL, clock: clk, logs: logs, mint: mint, tokens: map[service.Principal]string{}}
}

// auth adds credentials to a request.
type auth func(*http.Request)

func bearer(token string) auth {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

func xAuthToken(token string) auth {
	return func(r *http.Request) { r.Header.Set("X-Auth-Token", token) }
}

func basicAuth(id, secret string) auth {
	return func(r *http.Request) { r.SetBasicAuth(id, secret) }
}

func header(name, value string) auth {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

// as authenticates as p with a bearer token minted once per principal.
func (c *client) as(p service.Principal) auth {
	c.mu.Lock()
	token, ok := c.tokens[p]
	c.mu.Unlock()
	if !ok {
		token = c.mint(p)
		c.mu.Lock()
		c.tokens[p] = token
		c.mu.Unlock()
	}
	return bearer(token)
}

// admin authenticates with an admin token of project "ops".
func (c *client) admin() auth { return c.as(service.Principal{Project: "ops", Admin: true}) }

type response struct {
	status int
	header http.Header
	body   []byte
}

func (c *client) send(a auth, method, path, contentType, body string) response {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.url+path, strings.NewReader(body))
	require.NoError(c.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if a != nil {
		a(req)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	c.mu.Lock()
	c.bodies = append(c.bodies, string(b))
	c.mu.Unlock()
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// do sends a request as a non-admin caller of project; no project sends no credentials.
func (c *client) do(project, method, path, contentType, body string) response {
	c.t.Helper()
	var a auth
	if project != "" {
		a = c.as(service.Principal{Project: project})
	}
	return c.send(a, method, path, contentType, body)
}

func (c *client) json(project, method, path, body string) response {
	c.t.Helper()
	return c.do(project, method, path, "application/json", body)
}

// requireNeverShown checks that s appeared in no response body and no log line.
func (c *client) requireNeverShown(t *testing.T, s string) {
	t.Helper()
	require.NotEmpty(t, s)
	c.mu.Lock()
	defer c.mu.Unlock()
	require.NotEmpty(t, c.bodies)
	for _, b := range c.bodies {
		require.NotContains(t, b, s)
	}
	require.NotContains(t, c.logs.String(), s)
}

// decode unmarshals a response body of the expected status.
func decode[T any](t *testing.T, r response, status int) T {
	t.Helper()
	require.Equal(t, status, r.status, string(r.body))
	var v T
	require.NoError(t, json.Unmarshal(r.body, &v), string(r.body))
	return v
}

// requireError checks an error response's status, code and field.
func (r response) requireError(t *testing.T, status int, code, field string) {
	t.Helper()
	require.Equal(t, status, r.status, string(r.body))
	require.Equal(t, "application/json", r.header.Get("Content-Type"))
	var body struct {
		Error apiError `json:"error"`
	}
	require.NoError(t, json.Unmarshal(r.body, &body), string(r.body))
	require.Equal(t, code, body.Error.Code, string(r.body))
	require.Equal(t, field, body.Error.Field, string(r.body))
	require.NotEmpty(t, body.Error.Message)
	if status == http.StatusUnauthorized {
		require.True(t, strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer"), r.header.Get("WWW-Authenticate"))
	}
}
