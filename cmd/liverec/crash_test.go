package main

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// startServe runs liverec with the crash test's key and config on a data dir.
func startServe(t *testing.T, bin, data, rtmpAddr, httpAddr, config string) *proc {
	t.Helper()
	return startProc(t, bin, httpAddr, []string{"LIVEREC_DATA=" + data, "LIVEREC_RTMP=" + rtmpAddr,
		"LIVEREC_HTTP=" + httpAddr, "LIVEREC_ACCESS_KEY_ID=LRCRASHTESTKEY0000000000",
		"LIVEREC_ACCESS_KEY_SECRET=crashtestsecretcrashtestsecret"}, "--config", config)
}

// TestUndeliveredEventsSurviveKill9: events written while the receiver is down are delivered
// after liverec is killed with SIGKILL and started again (§7: at least once, across crashes).
func TestUndeliveredEventsSurviveKill9(t *testing.T) {
	fixtures := filepath.Join(os.TempDir(), "liverec-test-fixtures")
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 3})
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	rtmpAddr, httpAddr, hookAddr := freePort(t), freePort(t), freePort(t)
	config := filepath.Join(t.TempDir(), "liverec.yaml")
	require.NoError(t, os.WriteFile(config, []byte("callbacks:\n  retry_min: 100ms\n  retry_max: 300ms\n"), 0o644))

	first := startServe(t, bin, data, rtmpAddr, httpAddr, config)
	req, _ := http.NewRequest(http.MethodPost, "http://"+httpAddr+"/api/v1/callbacks", strings.NewReader(
		`{"dialect":"standard","domain":"127.0.0.1","app":"*","url":"http://`+hookAddr+`/hook"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("LRCRASHTESTKEY0000000000", "crashtestsecretcrashtestsecret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy",
		"-f", "flv", "rtmp://"+rtmpAddr+"/live/crash").CombinedOutput()
	require.NoError(t, err, "ffmpeg: %s", out)
	// Wait until the recording is over and its files stored: every event is in the outbox,
	// none delivered (the receiver is down).
	first.waitMetrics(t, 30*time.Second, "\nliverec_recordings_active 0\n", "\nliverec_spool_backlog_files 0\n",
		`liverec_files_completed_total{format="mp4"} 1`)
	time.Sleep(500 * time.Millisecond) // the over event follows the last file
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	<-first.exited

	var mu sync.Mutex
	var got []string
	l, err := net.Listen("tcp", hookAddr)
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Type string `json:"type"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		got = append(got, body.Type)
		mu.Unlock()
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	startServe(t, bin, data, rtmpAddr, httpAddr, config)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0 && got[len(got)-1] == "recording.record_over"
	}, 30*time.Second, 100*time.Millisecond, "events written before the kill were not delivered after the restart")
	mu.Lock()
	defer mu.Unlock()
	count := map[string]int{}
	for _, typ := range got {
		count[typ]++
	}
	require.Equal(t, "recording.record_started", got[0])
	require.Equal(t, map[string]int{"recording.record_started": 1, "recording.file_started": 3,
		"recording.file_completed": 3, "recording.record_over": 1}, count)
}
