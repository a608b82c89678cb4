// Package compat drives a real liverec with the official Alibaba Cloud and Huawei Cloud Go
// SDKs (the SDKs are the judges). It is its own module so the SDKs stay out of liverec's.
package compat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Access keys the harness gives liverec through LIVEREC_ACCESS_KEY_* (project A) and through
// a second instance of the variables is not possible, so project B's key is created through
// the native API by tests that need it (see newProjectKey).
const (
	keyA     = "LRTESTKEYAAAAAAAAAAAAAAA"
	secretA  = "secretAsecretAsecretAsecretA12"
	projectA = "0a1b2c3d4e5f4a5b8c9d0e1f2a3b4c5d"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func liverecBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "liverec-compat-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "liverec")
		out, err := exec.Command("go", "build", "-C", "..", "-o", binPath, "./cmd/liverec").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// server is a running liverec.
type server struct {
	HTTP, RTMP string
	Data       string
	logs       *bytes.Buffer
}

// startLiverec runs liverec on loopback ports with a fresh data dir and project A's key; extra
// environment variables (KEY=VALUE) are appended.
func startLiverec(t *testing.T, extraEnv ...string) *server {
	t.Helper()
	s := &server{HTTP: freeAddr(t), RTMP: freeAddr(t), Data: t.TempDir(), logs: new(bytes.Buffer)}
	cmd := exec.Command(liverecBinary(t), "serve")
	cmd.Env = append(os.Environ(), "LIVEREC_HTTP="+s.HTTP, "LIVEREC_RTMP="+s.RTMP, "LIVEREC_DATA="+s.Data,
		"LIVEREC_ACCESS_KEY_ID="+keyA, "LIVEREC_ACCESS_KEY_SECRET="+secretA, "LIVEREC_PROJECT_ID="+projectA)
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("liverec output:\n%s", s.logs.String())
		}
	})
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + s.HTTP + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 100*time.Millisecond, "liverec did not become ready")
	return s
}

// newProjectKey creates a non-admin access key of project through the native API
// (POST /api/v1/access-keys, authenticated with project A's admin key) and returns its id and
// secret.
func newProjectKey(t *testing.T, s *server, project string) (id, secret string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"project": project, "description": "compat test"})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+s.HTTP+"/api/v1/access-keys", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(keyA, secretA)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var created struct {
		ID      string `json:"id"`
		Secret  string `json:"secret"`
		Project string `json:"project"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&created))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Equal(t, project, created.Project)
	require.NotEmpty(t, created.Secret)
	return created.ID, created.Secret
}
