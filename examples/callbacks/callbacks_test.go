// Package callbacks_test runs the example verifiers of docs/callbacks.md against deliveries
// that liverec's own encoder (internal/notify/dialect) renders and signs, and checks that the
// documentation shows the verifiers and the bodies as they are.
package callbacks_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/liverec/liverec/internal/notify/dialect"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// staleBy is how old a stale attempt is: past the verifiers' 5 minutes for the standard and
// aliyun timestamps, and for huawei past its expiry (attempt + 10 min) by more than 5 minutes.
const staleBy = 20 * time.Minute

func TestVerifiers(t *testing.T) {
	for _, dc := range dialectCases() {
		t.Run(dc.name, func(t *testing.T) {
			t.Parallel()
			key := newKey(t, dc.name)
			v := startVerifier(t, buildVerifier(t, dc.name), nil, "-secret", key)
			cfg := dc.cfg
			cfg.URL = v.url + "/" + dc.name
			var file recording.OutboxEvent
			for _, ev := range sampleEvents() {
				req, ok, err := dialect.Encode(&ev, &cfg, key, time.Now())
				require.NoError(t, err)
				name, sends := dc.sends[ev.Type]
				require.Equal(t, sends, ok, "whether %s sends %s", dc.name, ev.Type)
				if !ok {
					continue
				}
				require.Equal(t, "verified "+name+" "+streamKey(&ev), v.post(t, req, http.StatusNoContent))
				if ev.Type == recording.EventFileCompleted {
					file = ev
				}
			}
			encode := func(key string, now time.Time) dialect.Request {
				req, ok, err := dialect.Encode(&file, &cfg, key, now)
				require.NoError(t, err)
				require.True(t, ok)
				return req
			}
			v.reject(t, "wrong key", encode(newKey(t, dc.name), time.Now()))
			v.reject(t, "unsigned", encode("", time.Now()))
			v.reject(t, "stale", encode(key, time.Now().Add(-staleBy)))
			req := encode(key, time.Now())
			req.Body = bytes.Replace(req.Body, []byte(`"cam1"`), []byte(`"cam9"`), 1)
			if dc.name == "aliyun" {
				// Alibaba's signature covers host, timestamp and key only (as the doc warns): a
				// changed body passes; a changed timestamp does not.
				require.Equal(t, "verified file_completed push.example.com/live/cam9", v.post(t, req, http.StatusNoContent))
				req = encode(key, time.Now())
				ts, err := strconv.ParseInt(req.Header.Get("Ali-Live-Timestamp"), 10, 64)
				require.NoError(t, err)
				req.Header.Set("Ali-Live-Timestamp", strconv.FormatInt(ts-1, 10))
			}
			v.reject(t, "tampered", req)
		})
	}
}

// TestStandardKeyForms runs the standard verifier with the key form the native API accepts
// besides whsec_ (the key's own bytes), read from CALLBACK_SECRET.
func TestStandardKeyForms(t *testing.T) {
	t.Parallel()
	key := randomAlnum(t, 40)
	v := startVerifier(t, buildVerifier(t, "standard"), []string{"CALLBACK_SECRET=" + key})
	cfg := recording.CallbackConfig{ID: "cb_plain", Dialect: recording.DialectStandard, Enabled: true, URL: v.url}
	ev := sampleEvents()[0]
	for _, k := range []string{key, "whsec_" + base64.StdEncoding.EncodeToString([]byte(key))} {
		req, ok, err := dialect.Encode(&ev, &cfg, k, time.Now())
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "verified recording.record_started push.example.com/live/cam1", v.post(t, req, http.StatusNoContent))
	}
	req, _, err := dialect.Encode(&ev, &cfg, randomAlnum(t, 40), time.Now())
	require.NoError(t, err)
	v.reject(t, "wrong key", req)
}

// TestHuaweiMD5 covers Huawei's other sign type: auth_sign = MD5(key + auth_timestamp).
func TestHuaweiMD5(t *testing.T) {
	t.Parallel()
	key := randomAlnum(t, 32)
	v := startVerifier(t, buildVerifier(t, "huawei"), nil, "-secret", key)
	cfg := recording.CallbackConfig{ID: "cb_md5", Dialect: recording.DialectHuawei, Enabled: true, URL: v.url,
		SignType: recording.SignMD5}
	file := sampleEvents()[4]
	require.Equal(t, recording.EventFileCompleted, file.Type)
	encode := func(key string, now time.Time) dialect.Request {
		req, ok, err := dialect.Encode(&file, &cfg, key, now)
		require.NoError(t, err)
		require.True(t, ok)
		return req
	}
	require.Equal(t, "verified RECORD_FILE_COMPLETE push.example.com/live/cam1", v.post(t, encode(key, time.Now()), http.StatusNoContent))
	v.reject(t, "wrong key", encode(randomAlnum(t, 32), time.Now()))
	v.reject(t, "stale", encode(key, time.Now().Add(-staleBy)))
}

func streamKey(ev *recording.OutboxEvent) string {
	return ev.Data.Domain + "/" + ev.Data.App + "/" + ev.Data.Stream
}

// newKey is a fresh key as POST /api/v1/callback-keys makes it for the dialect: whsec_ and the
// base64 of 32 random bytes for standard (the form of `openssl rand -base64 32`), 32 letters
// and digits for the cloud dialects.
func newKey(t *testing.T, dialectName string) string {
	t.Helper()
	key, err := service.NewCallbackKey(recording.Dialect(dialectName))
	require.NoError(t, err)
	require.NoError(t, service.ValidateCallbackKey(recording.Dialect(dialectName), key))
	return key
}

// TestDocKeysAreValid: the keys of the documentation's examples are keys the API accepts.
func TestDocKeysAreValid(t *testing.T) {
	for _, dc := range dialectCases() {
		require.NoError(t, service.ValidateCallbackKey(dc.cfg.Dialect, dc.key), dc.name)
	}
}

func randomAlnum(t *testing.T, n int) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// buildVerifier builds examples/callbacks/NAME into a temporary directory.
func buildVerifier(t *testing.T, name string) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	require.NoError(t, err, "the go command builds the verifiers; install Go 1.26 (https://go.dev/dl/) and put it on PATH")
	bin := filepath.Join(t.TempDir(), name)
	out, err := exec.Command(goCmd, "build", "-o", bin, "./"+name).CombinedOutput()
	require.NoError(t, err, "go build ./%s: %s", name, out)
	return bin
}

// verifier is one running verifier program.
type verifier struct {
	url            string
	stdout, stderr *lineLog
	read           int // stdout lines consumed
	client         *http.Client
}

// startVerifier runs bin on a free loopback port with args (after -listen) and env added to
// the test's environment, and waits for the address it announces on stderr.
func startVerifier(t *testing.T, bin string, env []string, args ...string) *verifier {
	t.Helper()
	v := &verifier{stdout: newLineLog(), stderr: newLineLog(),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
	cmd := exec.Command(bin, append([]string{"-listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = v.stdout, v.stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	first := v.stderr.line(t, 0)
	_, addr, ok := strings.Cut(first, "listening on ")
	require.True(t, ok, "the verifier's first line on stderr: %q", first)
	v.url = addr
	return v
}

// post sends req as the notifier does (POST, its headers, its body), checks the status and
// returns the line the verifier printed for it.
func (v *verifier) post(t *testing.T, req dialect.Request, status int) string {
	t.Helper()
	hreq, err := http.NewRequest(http.MethodPost, req.URL, bytes.NewReader(req.Body))
	require.NoError(t, err)
	for k, vals := range req.Header {
		hreq.Header[k] = vals
	}
	resp, err := v.client.Do(hreq)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	line := v.stdout.line(t, v.read)
	v.read++
	require.Equal(t, status, resp.StatusCode, "verifier said %q; stderr: %s", line, v.stderr)
	return line
}

func (v *verifier) reject(t *testing.T, what string, req dialect.Request) {
	t.Helper()
	line := v.post(t, req, http.StatusUnauthorized)
	require.True(t, strings.HasPrefix(line, "rejected: "), "%s: %q", what, line)
}

// lineLog collects a child process's output line by line for the test to wait on.
type lineLog struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	changed chan struct{} // signalled after each complete line
}

func newLineLog() *lineLog { return &lineLog{changed: make(chan struct{}, 1)} }

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

// line waits up to 10 s for line i (from 0).
func (l *lineLog) line(t *testing.T, i int) string {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		if i < len(l.lines) {
			s := l.lines[i]
			l.mu.Unlock()
			return s
		}
		l.mu.Unlock()
		select {
		case <-l.changed:
		case <-deadline.C:
			t.Fatalf("no line %d within 10 s; output so far: %s", i+1, l)
		}
	}
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n") + string(l.partial)
}
