package testutil

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// versitygwInstall is how scripts/test installs the S3 server the tests run against.
const versitygwInstall = "GOBIN=<tools>/bin go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 " +
	"(tools: $LIVEREC_TOOLS, default ${XDG_CACHE_HOME:-$HOME/.cache}/liverec-tools), or run scripts/test, " +
	"or point LIVEREC_VERSITYGW at the binary"

// VersitygwPath finds the versitygw binary: $LIVEREC_VERSITYGW, else the tools cache
// scripts/test installs it in, else PATH.
func VersitygwPath() (string, error) {
	if p := os.Getenv("LIVEREC_VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("LIVEREC_VERSITYGW=%s: %w", p, err)
		}
		return p, nil
	}
	if p := filepath.Join(toolsDir(), "bin", "versitygw"); isExecutable(p) {
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("versitygw not found; install it with %s", versitygwInstall)
}

func toolsDir() string {
	if d := os.Getenv("LIVEREC_TOOLS"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "liverec-tools")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "liverec-tools")
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// S3Server is a real S3 server (versitygw, posix backend) on a loopback port: every folder
// of Dir is a bucket. It is stopped when the test ends.
type S3Server struct {
	URL       string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Dir       string

	t      testing.TB
	bin    string
	addr   string
	log    string
	iamDir string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartS3 starts versitygw on a free loopback port with fresh credentials and an empty
// folder. Without the binary the test fails (never skips) and says how to install it.
func StartS3(t testing.TB) *S3Server {
	t.Helper()
	bin, err := VersitygwPath()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	tmp := t.TempDir()
	s := &S3Server{
		URL: "http://" + addr, AccessKey: "LRTESTACCESSKEY", SecretKey: "lr-test-secret-key-0123456789",
		Dir: filepath.Join(tmp, "data"), t: t, bin: bin, addr: addr, log: filepath.Join(tmp, "versitygw.log"),
		iamDir: filepath.Join(tmp, "iam"),
	}
	for _, d := range []string{s.Dir, s.iamDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(s.Stop)
	s.Start()
	return s
}

// Start (re)starts the server on its port and folder and waits until it answers.
func (s *S3Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	// The internal IAM service (--iam-dir) makes an unknown access key InvalidAccessKeyId, as
	// on AWS; in its single-account mode versitygw answers XAdminUserNotFound.
	cmd := exec.Command(s.bin, "--access", s.AccessKey, "--secret", s.SecretKey,
		"--port", s.addr, "--iam-dir", s.iamDir, "--quiet", "posix", s.Dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		s.t.Fatalf("start versitygw: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	s.cmd, s.done = cmd, done

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-done:
			s.cmd = nil
			s.t.Fatalf("versitygw exited at start: %s", s.logTail())
		default:
		}
		resp, err := client.Get(s.URL + "/")
		if err == nil {
			resp.Body.Close()
			return // any S3 answer (403 without credentials) means it serves
		}
		if time.Now().After(deadline) {
			s.stopLocked()
			s.t.Fatalf("versitygw does not answer on %s: %v; log: %s", s.addr, err, s.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (an outage, as the clients see it) and waits for it to exit.
func (s *S3Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *S3Server) stopLocked() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

func (s *S3Server) logTail() string {
	b, _ := os.ReadFile(s.log)
	out := strings.TrimSpace(string(b))
	if len(out) > 2000 {
		out = "…" + out[len(out)-2000:]
	}
	return out
}

// Client returns a minio-go client of the server (path style).
func (s *S3Server) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(strings.TrimPrefix(s.URL, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Region: "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// MakeBucket creates bucket on the server.
func (s *S3Server) MakeBucket(t testing.TB, bucket string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Client(t).MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		t.Fatalf("make bucket %s: %v", bucket, err)
	}
}
