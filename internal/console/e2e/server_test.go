package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/liverec/liverec/internal/app"
	"github.com/liverec/liverec/internal/conf"
)

// Admin key of every test liverec (LIVEREC_ACCESS_KEY_*), in the default project.
const (
	adminKeyID     = "LRTESTADMINKEY00000000AA"
	adminKeySecret = "testsecrettestsecrettestsecret"
)

// stopTimeout bounds a test liverec's graceful stop.
const stopTimeout = 60 * time.Second

// server is a liverec running in the test process on loopback ports, with its own data dir.
type server struct {
	*app.App
	Base   string // http://127.0.0.1:PORT
	Data   string // the data dir
	client *http.Client
}

// startLiverec runs liverec with the admin key and the optional YAML config, and stops it
// (waiting for Run to return) when the test ends.
func startLiverec(t *testing.T, yaml string) *server {
	t.Helper()
	data := t.TempDir()
	args := []string{"--data", data, "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0", "--shutdown-timeout", "30s"}
	if yaml != "" {
		p := filepath.Join(t.TempDir(), "liverec.yaml")
		if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
			t.Fatalf("write liverec config: %v", err)
		}
		args = append(args, "--config", p)
	}
	env := map[string]string{
		"LIVEREC_ACCESS_KEY_ID":     adminKeyID,
		"LIVEREC_ACCESS_KEY_SECRET": adminKeySecret,
	}
	c, err := conf.Load(args, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("load liverec config: %v", err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := app.New(context.Background(), c, log, io.Discard)
	if err != nil {
		t.Fatalf("start liverec: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	s := &server{App: a, Base: "http://" + a.HTTPAddr().String(), Data: data, client: &http.Client{}}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("liverec stopped with: %v", err)
			}
		case <-time.After(stopTimeout):
			t.Errorf("liverec did not stop within %s", stopTimeout)
		}
		s.client.CloseIdleConnections()
	})
	return s
}

// URL returns the absolute URL of path on the HTTP listener ("/console/" → http://…/console/).
func (s *server) URL(path string) string { return s.Base + path }

// RTMPURL returns the publish URL of app/stream ("live/cam") on the RTMP listener.
func (s *server) RTMPURL(path string) string {
	return "rtmp://" + s.RTMPAddr().String() + "/" + strings.TrimPrefix(path, "/")
}

// API sends a request to the native API with the admin key (basic auth) and returns the
// status and body. body is sent as JSON unless it is nil; a transport error fails the test.
// Tests use it to set up state and to check what the console did, never instead of the page.
func (s *server) API(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("encode %s %s body: %v", method, path, err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.Base+path, r)
	if err != nil {
		t.Fatalf("build %s %s: %v", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth(adminKeyID, adminKeySecret)
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", method, path, err)
	}
	return resp.StatusCode, b
}

// testWriter sends liverec's log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
