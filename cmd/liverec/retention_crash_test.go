package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// retentionCrashConfig expires files one second after their recording ends and deletes them one
// per batch with a pause between batches, so a pass over a recording's files lasts seconds and
// a SIGKILL lands in the middle of it.
const retentionCrashConfig = `retention:
  interval: 100ms
  batch_size: 1
  pace: 400ms
rules:
  - domain: 127.0.0.1
    app: live
    stream: "*"
    mode: auto
    retention_s: 1
    formats:
      - {format: flv, cycle_s: 5, merge_window_s: 0}
      - {format: mp4, cycle_s: 5, merge_window_s: 0}
      - {format: hls, cycle_s: 0, slice_s: 2, merge_window_s: 0}
    storage: {endpoint: local, bucket: recordings}
`

// apiGet decodes a native API answer with the crash test's key.
func apiGet(t *testing.T, httpAddr, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+httpAddr+path, nil)
	req.SetBasicAuth("LRCRASHTESTKEY0000000000", "crashtestsecretcrashtestsecret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, path)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

type crashRecording struct {
	Files []struct {
		ID        string `json:"id"`
		State     string `json:"state"`
		Bucket    string `json:"bucket"`
		ObjectKey string `json:"object_key"`
	} `json:"files"`
	Events []struct {
		Type string `json:"type"`
		Data struct {
			FileID string `json:"file_id"`
			Reason string `json:"reason"`
		} `json:"data"`
	} `json:"events"`
}

// deletedEvents counts a recording's file_deleted events by file id.
func (r crashRecording) deletedEvents() map[string]int {
	n := map[string]int{}
	for _, e := range r.Events {
		if e.Type == "file_deleted" {
			n[e.Data.FileID]++
		}
	}
	return n
}

// TestRetentionPassSurvivesKill9: liverec is killed with SIGKILL in the middle of a retention
// pass and started again on the same data dir. Every expired file ends deleted — its objects
// gone, its record marked — with exactly one file_deleted event: nothing is deleted twice and
// nothing is missed.
func TestRetentionPassSurvivesKill9(t *testing.T) {
	fixtures := filepath.Join(os.TempDir(), "liverec-test-fixtures")
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 11})
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	rtmpAddr, httpAddr := freePort(t), freePort(t)
	config := filepath.Join(t.TempDir(), "liverec.yaml")
	require.NoError(t, os.WriteFile(config, []byte(retentionCrashConfig), 0o644))

	first := startServe(t, bin, data, rtmpAddr, httpAddr, config)
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy",
		"-f", "flv", "rtmp://"+rtmpAddr+"/live/expiring").CombinedOutput()
	require.NoError(t, err, "ffmpeg: %s", out)

	var list struct {
		Recordings []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	require.Eventually(t, func() bool {
		apiGet(t, httpAddr, "/api/v1/recordings?stream=expiring", &list)
		return len(list.Recordings) == 1
	}, 20*time.Second, 50*time.Millisecond)
	id := list.Recordings[0].ID

	// Kill as soon as the pass has deleted its first file, with more still to go.
	var before crashRecording
	require.Eventually(t, func() bool {
		apiGet(t, httpAddr, "/api/v1/recordings/"+id, &before)
		return len(before.deletedEvents()) > 0
	}, 60*time.Second, 20*time.Millisecond, "retention never deleted a file")
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	<-first.exited
	total := len(before.Files)
	require.GreaterOrEqual(t, total, 5, "three 5 s cycles of FLV and MP4 and a playlist")
	killedAt := len(before.deletedEvents())
	require.Less(t, killedAt, total, "the kill landed mid-pass")

	startServe(t, bin, data, rtmpAddr, httpAddr, config)
	var after crashRecording
	require.Eventually(t, func() bool {
		apiGet(t, httpAddr, "/api/v1/recordings/"+id, &after)
		for _, f := range after.Files {
			if f.State != "deleted" {
				return false
			}
		}
		return len(after.Files) == total
	}, 60*time.Second, 50*time.Millisecond, "every expired file ends deleted")

	perFile := after.deletedEvents()
	for _, f := range after.Files {
		require.Equal(t, 1, perFile[f.ID], "file %s: exactly one file_deleted", f.ID)
		_, serr := os.Stat(filepath.Join(data, "buckets", f.Bucket, filepath.FromSlash(f.ObjectKey)))
		require.ErrorIs(t, serr, os.ErrNotExist, "%s is gone", f.ObjectKey)
	}
	for _, e := range after.Events {
		if e.Type == "file_deleted" {
			require.Equal(t, "retention", e.Data.Reason)
		}
	}
	// No slice of the playlist is left behind either: the bucket holds no object of the stream.
	left, err := filepath.Glob(filepath.Join(data, "buckets", "recordings", "record", "live", "expiring", "*"))
	require.NoError(t, err)
	require.Empty(t, left, "every object of the recording is gone")
	t.Logf("killed after %d of %d files; after the restart all %d deleted, one event each", killedAt, total, total)
}
