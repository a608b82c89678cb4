package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// proc is a running `liverec serve`.
type proc struct {
	cmd  *exec.Cmd
	logs *testutil.SyncBuffer
	// exited is closed when the process has exited; err is Wait's result then.
	exited chan struct{}
	err    error
	http   string
}

// startProc runs `liverec serve args...` with the environment env (added to the test's) and
// waits until /readyz answers on httpAddr. The process is killed when the test ends, and its
// output is logged if the test failed.
func startProc(t *testing.T, bin, httpAddr string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, append([]string{"serve"}, args...)...), logs: &testutil.SyncBuffer{},
		exited: make(chan struct{}), http: httpAddr}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	require.NoError(t, p.cmd.Start())
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("liverec output:\n%s", p.logs.String())
		}
	})
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + httpAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 100*time.Millisecond, "liverec did not become ready")
	return p
}

// metric returns the value of the sample (name with labels) in /metrics, or -1.
func (p *proc) metric(sample string) float64 {
	resp, err := http.Get("http://" + p.http + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f
			}
		}
	}
	return -1
}

// waitMetrics waits until /metrics holds every one of lines.
func (p *proc) waitMetrics(t *testing.T, timeout time.Duration, lines ...string) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + p.http + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, l := range lines {
			if !strings.Contains(string(b), l) {
				return false
			}
		}
		return true
	}, timeout, 100*time.Millisecond, "metrics never showed %q", lines)
}
