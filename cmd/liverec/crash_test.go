package main

import (
	"encoding/json"
	"fmt"
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

// addStandardHook sends every stream's events to a Standard Webhooks receiver at hookAddr.
func addStandardHook(t *testing.T, httpAddr, hookAddr string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+httpAddr+"/api/v1/callbacks", strings.NewReader(
		`{"dialect":"standard","domain":"127.0.0.1","app":"*","url":"http://`+hookAddr+`/hook"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("LRCRASHTESTKEY0000000000", "crashtestsecretcrashtestsecret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
}

// TestUndeliveredEventsSurviveKill9: events written while the receiver is down are delivered
// after liverec is killed with SIGKILL and started again (at least once, across crashes).
func TestUndeliveredEventsSurviveKill9(t *testing.T) {
	fixtures := filepath.Join(os.TempDir(), "liverec-test-fixtures")
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 3})
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	rtmpAddr, httpAddr, hookAddr := freePort(t), freePort(t), freePort(t)
	config := filepath.Join(t.TempDir(), "liverec.yaml")
	// Merge window 0: the recording ends as soon as the publisher leaves.
	require.NoError(t, os.WriteFile(config, []byte(crashConfig), 0o644))

	first := startServe(t, bin, data, rtmpAddr, httpAddr, config)
	addStandardHook(t, httpAddr, hookAddr)

	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy",
		"-f", "flv", "rtmp://"+rtmpAddr+"/live/crash").CombinedOutput()
	require.NoError(t, err, "ffmpeg: %s", out)
	// Wait until the recording is over and its files stored: every event is in the outbox,
	// none delivered (the receiver is down).
	first.waitMetrics(t, 30*time.Second, "\nliverec_recordings_active 0\n", "\nliverec_spool_backlog_files 0\n",
		`liverec_files_completed_total{format="mp4"} 1`)
	waitOutboxed(t, httpAddr, "crash", "record_over") // the over event follows the last file
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	<-first.exited

	var mu sync.Mutex
	var got []string
	l, err := net.Listen("tcp", hookAddr)
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
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

// waitOutboxed waits until the outbox holds a delivery of an event of type typ for stream.
func waitOutboxed(t *testing.T, httpAddr, stream, typ string) {
	t.Helper()
	require.Eventually(t, func() bool {
		req, _ := http.NewRequest(http.MethodGet, "http://"+httpAddr+"/api/v1/deliveries?stream="+stream, nil)
		req.SetBasicAuth("LRCRASHTESTKEY0000000000", "crashtestsecretcrashtestsecret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var list struct {
			Deliveries []struct {
				Event struct {
					Type string `json:"type"`
				} `json:"event"`
			} `json:"deliveries"`
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&list) != nil {
			return false
		}
		for _, d := range list.Deliveries {
			if d.Event.Type == typ {
				return true
			}
		}
		return false
	}, 10*time.Second, 50*time.Millisecond, "no %s delivery in the outbox", typ)
}

// crashConfig records one file per format with 5 s HLS slices and retries deliveries quickly.
// It reads publishers every 200 ms: TestRecordingRecoveredAfterKill9's kill must come between
// 11.5 s and 12 s of recorded media (before the 12 s keyframe starts a third slice), which
// one-second read rounds overshoot.
const crashConfig = `callbacks:
  retry_min: 100ms
  retry_max: 300ms
ingest:
  read_batch: 200ms
rules:
  - domain: 127.0.0.1
    app: live
    stream: "*"
    mode: auto
    formats:
      - {format: flv, cycle_s: 0, merge_window_s: 0}
      - {format: mp4, cycle_s: 0, merge_window_s: 0}
      - {format: hls, cycle_s: 0, slice_s: 5, merge_window_s: 0}
    storage: {endpoint: local, bucket: recordings}
`

// hook is a Standard Webhooks receiver that refuses deliveries until accept is set.
type hook struct {
	mu       sync.Mutex
	accept   bool
	refused  map[string]bool // event ids answered 500
	accepted []hookEvent
}

type hookEvent struct {
	id, typ string
	reason  string
	seq     int64
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Type string `json:"type"`
		Data struct {
			Reason string `json:"reason"`
			Seq    int64  `json:"seq"`
		} `json:"data"`
	}
	json.NewDecoder(r.Body).Decode(&body)
	id := r.Header.Get("webhook-id")
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.accept {
		h.refused[id] = true
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	h.accepted = append(h.accepted, hookEvent{id: id, typ: body.Type, reason: body.Data.Reason, seq: body.Data.Seq})
}

// TestRecordingRecoveredAfterKill9 is acceptance 3 of §6: liverec is killed with SIGKILL about
// 12 s into a recording with 5 s HLS slices (once 11.5 s of video are recorded) and started
// again on the same data dir. FLV, MP4 and HLS are each recovered clean with at least 10 of
// the 12 seconds, their file events are delivered, and so are the events the receiver had
// refused before the crash.
func TestRecordingRecoveredAfterKill9(t *testing.T) {
	fixtures := filepath.Join(os.TempDir(), "liverec-test-fixtures")
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 20})
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	rtmpAddr, httpAddr, hookAddr := freePort(t), freePort(t), freePort(t)
	config := filepath.Join(t.TempDir(), "liverec.yaml")
	require.NoError(t, os.WriteFile(config, []byte(crashConfig), 0o644))
	h := &hook{refused: map[string]bool{}}
	l, err := net.Listen("tcp", hookAddr)
	require.NoError(t, err)
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	first := startServe(t, bin, data, rtmpAddr, httpAddr, config)
	addStandardHook(t, httpAddr, hookAddr)

	pub := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy",
		"-f", "flv", "rtmp://"+rtmpAddr+"/live/crash")
	require.NoError(t, pub.Start())
	t.Cleanup(func() { pub.Process.Kill(); pub.Wait() })
	// The publisher paces the stream in real time: the kill waits for the media, not the clock.
	require.Eventually(t, func() bool { return first.metric(`liverec_recorded_units_total{kind="video"}`) >= 345 },
		30*time.Second, 20*time.Millisecond, "11.5 s of video were never recorded")
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	<-first.exited
	pub.Process.Kill()
	pub.Wait()
	h.mu.Lock()
	refused := len(h.refused)
	h.accept = true
	h.mu.Unlock()
	require.Positive(t, refused, "events were attempted before the crash")

	second := startServe(t, bin, data, rtmpAddr, httpAddr, config)
	require.Eventually(t, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		n := len(h.accepted)
		return n > 0 && h.accepted[n-1].typ == "recording.record_over"
	}, 60*time.Second, 100*time.Millisecond, "the recovered recording never ended")
	second.waitMetrics(t, 10*time.Second, "\nliverec_files_recovered_total 3\n")
	h.mu.Lock()
	count := map[string]int{}
	delivered := map[string]bool{}
	for _, e := range h.accepted {
		count[e.typ]++
		delivered[e.id] = true
	}
	over := h.accepted[len(h.accepted)-1]
	for id := range h.refused {
		require.True(t, delivered[id], "event %s refused before the crash was delivered after it", id)
	}
	// One recording, delivered in order: its numbers rise across the crash, none repeated.
	for i := 1; i < len(h.accepted); i++ {
		prev, cur := h.accepted[i-1], h.accepted[i]
		require.Greater(t, cur.seq, prev.seq, "%s seq=%d after %s seq=%d", cur.typ, cur.seq, prev.typ, prev.seq)
	}
	h.mu.Unlock()
	require.Equal(t, map[string]int{"recording.record_started": 1, "recording.file_started": 3,
		"recording.file_completed": 3, "recording.record_over": 1}, count)
	require.Contains(t, over.reason, "restarted")

	objects := map[string][]string{}
	require.NoError(t, filepath.Walk(filepath.Join(data, "buckets", "recordings"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			objects[filepath.Ext(p)] = append(objects[filepath.Ext(p)], p)
		}
		return err
	}))
	// 6 s slices (the first keyframe at or after 5 s, with a 2 s GOP): one complete, one recovered.
	require.Len(t, objects[".ts"], 2, "the complete slice and the recovered partial one")
	for _, ext := range []string{".flv", ".mp4", ".m3u8"} {
		require.Len(t, objects[ext], 1, ext)
		p := objects[ext][0]
		pr := testutil.Probe(t, p)
		require.Empty(t, pr.Stderr, "ffprobe errors for %s", p)
		v := pr.Video()
		require.NotNil(t, v, p)
		require.Equal(t, "h264", v.CodecName)
		require.True(t, testutil.KeyframeFirst(t, p), p)
		require.GreaterOrEqual(t, v.Packets(), 300, "%s holds at least 10 of the 12 seconds", ext)
		require.LessOrEqual(t, v.Packets(), 13*30, ext)
		require.NotNil(t, pr.Audio(), p)
		t.Logf("recovered %s: %d video frames", ext, v.Packets())
	}
	entries, err := os.ReadDir(filepath.Join(data, "spool"))
	require.NoError(t, err)
	require.Empty(t, entries, "the spool is empty once everything is stored")

	// The recovered slices are in the catalogue: an index over the whole recording plays the
	// same frames as the recovered playlist.
	playlist := testutil.Probe(t, objects[".m3u8"][0]).Video().Packets()
	now := time.Now().UTC()
	req, _ := http.NewRequest(http.MethodPost, "http://"+httpAddr+"/api/v1/indexes", strings.NewReader(fmt.Sprintf(
		`{"domain":"127.0.0.1","app":"live","stream":"crash","start_time":%q,"end_time":%q}`,
		now.Add(-10*time.Minute).Format(time.RFC3339), now.Format(time.RFC3339))))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("LRCRASHTESTKEY0000000000", "crashtestsecretcrashtestsecret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var index struct {
		URL string `json:"url"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&index))
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	pr := testutil.Probe(t, index.URL)
	require.Empty(t, pr.Stderr, "ffprobe errors for the index")
	require.Equal(t, playlist, pr.Video().Packets(), "the index lists every recovered slice")
}
