package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

type continuedRecording struct {
	ID     string `json:"id"`
	Stream string `json:"stream"`
	State  string `json:"state"`
	Reason string `json:"reason"`
	Node   string `json:"node"`
	Files  []struct {
		Format    string `json:"format"`
		State     string `json:"state"`
		ObjectKey string `json:"object_key"`
	} `json:"files"`
	Events []struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			Seq    int64  `json:"seq"`
			FileID string `json:"file_id"`
			Format string `json:"format"`
		} `json:"data"`
	} `json:"events"`
}

// TestRecordingContinuesOnAnotherNodeAfterKill9: node A records 10 streams and is killed; the
// publishers come back to node B within the merge window. Each recording goes on with the same
// id and events, B's files follow A's, the HLS playlist goes on across the switch with one
// discontinuity, and when A comes back it stores the files its spool kept.
func TestRecordingContinuesOnAnotherNodeAfterKill9(t *testing.T) {
	t.Parallel() // real-time publishers: the cluster tests wait side by side
	const streams = 10
	fixtures := filepath.Join(os.TempDir(), "liverec-test-fixtures")
	long := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 30, Width: 640, Height: 360, FPS: 25,
		GOP: 50, Bitrate: "500k"})
	short := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 6, Width: 640, Height: 360, FPS: 25,
		GOP: 50, Bitrate: "500k"})
	s3, dsn, config, bin := clusterSetup(t, clusterOpts{LeaseTTL: "2s", Heartbeat: "300ms", Window: 8})
	envA, rtmpA, httpA := nodeEnv(t, dsn)
	a := startProc(t, bin, httpA, envA, "--config", config)
	b, rtmpB := startNode(t, bin, dsn, config)

	pubs := publishAll(t, long, rtmpA, "c", streams)
	// Two slices of every stream stored: the playlist B continues has something before it.
	require.Eventually(t, func() bool { return countFiles(s3.Dir, ".ts") >= 2*streams }, 30*time.Second,
		100*time.Millisecond, "node A never stored two slices of every stream")
	var before []continuedRecording
	for i := range streams {
		before = append(before, recordingOf(t, b.http, "c"+strconv.Itoa(i)))
		require.Equal(t, "recording", before[i].State)
	}
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGKILL))
	<-a.exited
	stopAll(pubs)

	// The publishers come back to B; until A's leases expire B refuses them, so each retries.
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	for i := range streams {
		wg.Go(func() {
			deadline := time.Now().Add(20 * time.Second)
			for {
				start := time.Now()
				out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", short,
					"-c", "copy", "-f", "flv", "rtmp://"+rtmpB+"/live/c"+strconv.Itoa(i)).CombinedOutput()
				if err == nil && time.Since(start) > 4*time.Second {
					return
				}
				if time.Now().After(deadline) {
					errs <- fmt.Errorf("publisher c%d never got on node B: %w %s", i, err, out)
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		for i := range streams {
			if recordingOf(t, b.http, "c"+strconv.Itoa(i)).State != "over" {
				return false
			}
		}
		return true
	}, 40*time.Second, 200*time.Millisecond, "the continued recordings never ended")

	// A comes back and stores what its spool kept.
	a2 := startProc(t, bin, httpA, envA, "--config", config)
	a2.waitMetrics(t, 30*time.Second, fmt.Sprintf("\nliverec_files_recovered_total %d\n", 2*streams))

	for i := range streams {
		name := "c" + strconv.Itoa(i)
		var rec continuedRecording
		require.Eventually(t, func() bool {
			rec = recordingOf(t, b.http, name)
			return len(rec.Files) == 5
		}, 30*time.Second, 200*time.Millisecond, "%s: A's two recovered files and B's three", name)
		require.Equal(t, before[i].ID, rec.ID, "%s: the same recording on both nodes", name)
		require.NotEqual(t, before[i].Node, rec.Node, "%s: recorded by B at the end", name)
		require.Equal(t, "over", rec.State)
		types := map[string]int{}
		seqs := map[int64]bool{}
		for _, ev := range rec.Events {
			types[ev.Type]++
			require.False(t, seqs[ev.Data.Seq], "%s: event numbers are unique", name)
			seqs[ev.Data.Seq] = true
		}
		require.Equal(t, map[string]int{"record_started": 1, "record_resumed": 1, "record_paused": 1, "file_started": 5,
			"file_completed": 5, "record_over": 1}, types, "%s: record_paused when B's publisher left", name)
		formats := map[string]int{}
		for _, f := range rec.Files {
			require.Equal(t, "stored", f.State)
			formats[f.Format]++
		}
		require.Equal(t, map[string]int{"flv": 2, "mp4": 2, "hls": 1}, formats, "%s: one playlist across the nodes", name)
		for _, f := range rec.Files {
			path := filepath.Join(s3.Dir, "rec", f.ObjectKey)
			pr := testutil.Probe(t, path)
			require.Empty(t, pr.Stderr, "ffprobe %s", path)
			require.NotNil(t, pr.Video(), path)
			if f.Format == "hls" {
				body, err := os.ReadFile(path)
				require.NoError(t, err)
				require.Equal(t, 1, strings.Count(string(body), "#EXT-X-DISCONTINUITY"), "%s:\n%s", path, body)
				require.Contains(t, string(body), "#EXT-X-ENDLIST")
				d, err := strconv.ParseFloat(pr.Format.Duration, 64)
				require.NoError(t, err)
				require.Greater(t, d, 8.0, "%s: A's slices and B's 6 s play as one", path)
			}
		}
	}
}

func countFiles(dir, ext string) int {
	n := 0
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && filepath.Ext(p) == ext {
			n++
		}
		return nil
	})
	return n
}

// recordingOf returns the newest recording of stream in app live, with its files and events.
func recordingOf(t *testing.T, httpAddr, stream string) continuedRecording {
	t.Helper()
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	apiGet(t, httpAddr, "/api/v1/recordings?app=live&stream="+stream+"&limit=10", &list)
	require.Len(t, list.Items, 1, "one recording of %s", stream)
	var rec continuedRecording
	apiGet(t, httpAddr, "/api/v1/recordings/"+list.Items[0].ID, &rec)
	return rec
}

// TestPausedRecordingMovesToAnotherNode: a publisher leaves node A and comes back to node B
// within the merge window while A runs. B continues the recording (same id, events in one
// numbering); A completes and stores the files it had open, and does not end the recording.
func TestPausedRecordingMovesToAnotherNode(t *testing.T) {
	t.Parallel() // real-time publishers: the cluster tests wait side by side
	fixtures := filepath.Join(os.TempDir(), "liverec-test-fixtures")
	short := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 6, Width: 640, Height: 360, FPS: 25,
		GOP: 50, Bitrate: "500k"})
	s3, dsn, config, bin := clusterSetup(t, clusterOpts{LeaseTTL: "2s", Heartbeat: "300ms", Window: 8})
	a, rtmpA := startNode(t, bin, dsn, config)
	b, rtmpB := startNode(t, bin, dsn, config)

	publish := func(addr string) {
		out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", short, "-c", "copy",
			"-f", "flv", "rtmp://"+addr+"/live/moving").CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	publish(rtmpA)
	first := recordingOf(t, a.http, "moving")
	require.Eventually(t, func() bool { return recordingOf(t, a.http, "moving").State == "paused" },
		10*time.Second, 50*time.Millisecond, "A never paused the recording")
	publish(rtmpB)

	var rec continuedRecording
	require.Eventually(t, func() bool {
		rec = recordingOf(t, b.http, "moving")
		return rec.State == "over" && len(rec.Files) == 6
	}, 40*time.Second, 200*time.Millisecond, "the moved recording never ended with the files of both nodes")
	require.Equal(t, first.ID, rec.ID, "one recording across the nodes")
	require.NotEqual(t, first.Node, rec.Node, "recorded by B at the end")
	require.Equal(t, rec.Node, recordingOf(t, a.http, "moving").Node, "the API of either node agrees")
	types := map[string]int{}
	var last int64
	for _, ev := range rec.Events {
		types[ev.Type]++
		require.Greater(t, ev.Data.Seq, last, "events numbered in one sequence")
		last = ev.Data.Seq
	}
	require.Equal(t, map[string]int{"record_started": 1, "record_paused": 2, "record_resumed": 1, "file_started": 6,
		"file_completed": 6, "record_over": 1}, types)
	for _, f := range rec.Files {
		require.Equal(t, "stored", f.State)
		pr := testutil.Probe(t, filepath.Join(s3.Dir, "rec", f.ObjectKey))
		require.Empty(t, pr.Stderr, f.ObjectKey)
		require.NotNil(t, pr.Video(), f.ObjectKey)
	}
}

// TestDeadNodesSpoolStoredFromSharedSpool: with the spool on storage both nodes reach, node B
// ends the recordings of node A, killed, and stores the files A left in its folder of the spool
// without A coming back.
func TestDeadNodesSpoolStoredFromSharedSpool(t *testing.T) {
	t.Parallel() // real-time publishers: the cluster tests wait side by side
	const streams = 2
	fixtures := filepath.Join(os.TempDir(), "liverec-test-fixtures")
	long := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 30, Width: 640, Height: 360, FPS: 25,
		GOP: 50, Bitrate: "500k"})
	spool := filepath.Join(t.TempDir(), "shared-spool")
	s3, dsn, config, bin := clusterSetup(t, clusterOpts{LeaseTTL: "2s", Heartbeat: "300ms", Window: 2, SharedSpool: spool})
	a, rtmpA := startNode(t, bin, dsn, config)
	b, _ := startNode(t, bin, dsn, config)
	publishAll(t, long, rtmpA, "sp", streams)
	require.Eventually(t, func() bool { return countFiles(s3.Dir, ".ts") >= 2*streams }, 30*time.Second,
		100*time.Millisecond, "node A never stored two slices of every stream")
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGKILL))
	<-a.exited

	for i := range streams {
		name := "sp" + strconv.Itoa(i)
		var rec continuedRecording
		require.Eventually(t, func() bool {
			rec = recordingOf(t, b.http, name)
			return rec.State == "over"
		}, 40*time.Second, 200*time.Millisecond, "%s: node B never ended the dead node's recording", name)
		require.Contains(t, rec.Reason, "shared spool")
		require.Len(t, rec.Files, 3, "%s: the dead node's FLV, MP4 and playlist, stored by B", name)
		for _, f := range rec.Files {
			require.Equal(t, "stored", f.State)
			pr := testutil.Probe(t, filepath.Join(s3.Dir, "rec", f.ObjectKey))
			require.Empty(t, pr.Stderr, f.ObjectKey)
			require.NotNil(t, pr.Video(), f.ObjectKey)
		}
		left, err := filepath.Glob(filepath.Join(spool, "*", rec.ID))
		require.NoError(t, err)
		require.Empty(t, left, "%s: the recording's folder left the spool", name)
	}
	ents, err := os.ReadDir(spool)
	require.NoError(t, err)
	require.Len(t, ents, 2, "one spool folder per node")
}
