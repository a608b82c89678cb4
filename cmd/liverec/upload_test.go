package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// metricValue reads one metric's value from /metrics.
func metricValue(t *testing.T, httpAddr, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			return f
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

// TestUploadResumesAfterKill9 is acceptance 3 of §8 (second part): with the upload bandwidth
// set low, liverec is killed mid-upload of a file over 20 MiB and started again; the upload
// completes from where it stopped, without re-recording, and the object is the recorded file.
func TestUploadResumesAfterKill9(t *testing.T) {
	fixtures := filepath.Join(os.TempDir(), "liverec-test-fixtures")
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 20, Bitrate: "12M"})
	s3 := testutil.StartS3(t)
	s3.MakeBucket(t, "big")
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	rtmpAddr, httpAddr, hookAddr := freePort(t), freePort(t), freePort(t)
	config := filepath.Join(t.TempDir(), "liverec.yaml")
	require.NoError(t, os.WriteFile(config, []byte(fmt.Sprintf(`storage:
  upload_bandwidth: 3145728
  part_size: 5242880
  endpoints:
    - name: store1
      type: s3
      url: %s
      access_key: %s
      secret_key: %s
      path_style: true
callbacks:
  retry_min: 100ms
  retry_max: 300ms
rules:
  - domain: 127.0.0.1
    app: live
    stream: "*"
    mode: auto
    formats:
      - {format: flv, cycle_s: 0, merge_window_s: 0, object_template: "{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}"}
    storage: {endpoint: store1, bucket: big}
`, s3.URL, s3.AccessKey, s3.SecretKey)), 0o644))
	h := &hook{refused: map[string]bool{}, accept: true}
	l, err := net.Listen("tcp", hookAddr)
	require.NoError(t, err)
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	first := startServe(t, bin, data, rtmpAddr, httpAddr, config)
	addStandardHook(t, httpAddr, hookAddr)
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy",
		"-f", "flv", "rtmp://"+rtmpAddr+"/live/big").CombinedOutput()
	require.NoError(t, err, "ffmpeg: %s", out)

	// The file is complete and uploading at 3 MiB/s: let a few parts land, then kill.
	var spoolFile string
	require.Eventually(t, func() bool {
		ms, _ := filepath.Glob(filepath.Join(data, "spool", "*", "flv", "*.flv"))
		if len(ms) == 1 && metricValue(t, httpAddr, "liverec_upload_bytes_total") >= 12<<20 {
			spoolFile = ms[0]
			return true
		}
		return false
	}, 60*time.Second, 100*time.Millisecond, "the upload never got under way")
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	<-first.exited
	recorded, err := os.ReadFile(spoolFile)
	require.NoError(t, err)
	require.Greater(t, len(recorded), 20<<20, "the file is over 20 MiB")
	require.FileExists(t, spoolFile+".upload", "the upload's state is in the spool")

	second := startServe(t, bin, data, rtmpAddr, httpAddr, config)
	require.Eventually(t, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		n := len(h.accepted)
		return n > 0 && h.accepted[n-1].typ == "recording.record_over"
	}, 60*time.Second, 100*time.Millisecond, "the upload did not complete after the restart")
	sent := metricValue(t, httpAddr, "liverec_upload_bytes_total")
	require.LessOrEqual(t, sent, float64(len(recorded)-10<<20), "the restart sent only what was missing: at least two 5 MiB parts were kept")
	t.Logf("file %d bytes; sent after the restart: %.0f", len(recorded), sent)

	var keys []string
	for o := range s3.Client(t).ListObjects(context.Background(), "big", minio.ListObjectsOptions{Recursive: true}) {
		require.NoError(t, o.Err)
		keys = append(keys, o.Key)
	}
	require.Len(t, keys, 1, "one object: no re-recording, no duplicate")
	obj, err := s3.Client(t).GetObject(context.Background(), "big", keys[0], minio.GetObjectOptions{})
	require.NoError(t, err)
	defer obj.Close() // ends the object's request goroutine
	got, err := io.ReadAll(obj)
	require.NoError(t, err)
	require.True(t, bytes.Equal(recorded, got), "the object is the recorded file")
	_ = second
	entries, err := os.ReadDir(filepath.Join(data, "spool"))
	require.NoError(t, err)
	require.Empty(t, entries)
}
