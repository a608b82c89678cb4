package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/loadgen"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/testutil"
)

// envInt and envDuration read the outage test's knobs: the suite runs it scaled down, and the
// long run of the hardening issue sets LIVEREC_OUTAGE=10m LIVEREC_OUTAGE_CYCLE=30.
func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, name)
	return n
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	require.NoError(t, err, name)
	return d
}

// TestS3OutageWithManyStreamsDropsNoFrame is acceptance 2 of the hardening issue, scaled by
// configuration: 50 streams record HLS (slices stored as they complete, cycles cut playlists)
// to versitygw, which is stopped for the outage. Ingest never waits on the uploader, so no
// frame is dropped; the heap stays bounded while completed work queues; once the endpoint is
// back every file is stored and reported, with exact frame counts. Not parallel: it measures
// the heap.
func TestS3OutageWithManyStreamsDropsNoFrame(t *testing.T) {
	streams := envInt(t, "LIVEREC_OUTAGE_STREAMS", 50)
	outage := envDuration(t, "LIVEREC_OUTAGE", 20*time.Second)
	cycle := envInt(t, "LIVEREC_OUTAGE_CYCLE", 6)
	s3 := testutil.StartS3(t)
	s3.MakeBucket(t, "rec")
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 20, Width: 640, Height: 360, Bitrate: "500k"})
	clip, err := loadgen.LoadFile(src)
	require.NoError(t, err)
	ta := startApp(t, s3Config(s3, s3.SecretKey, "  upload_failure_after: 24h\n"))
	rule := s3Rule("outage", "rec")
	rule.Formats = []recording.FormatConfig{{Format: recording.FormatHLS, CycleS: cycle, SliceS: 2,
		ObjectTemplate: "{AppName}/{StreamName}/{EscapedStartTime}", SliceTemplate: "{AppName}/{StreamName}/ts/{UnixTimestamp}"}}
	ta.putRule(t, rule)
	_, hw := addCallbacks(t, ta, "outage")

	publish := outage + 12*time.Second
	reportc := make(chan *loadgen.Report, 1)
	go func() {
		r, lerr := loadgen.Run(context.Background(), clip, loadgen.Config{URL: ta.rtmpURL("outage"), Streams: streams,
			Prefix: "s", Duration: publish, Ramp: 2 * time.Second})
		if lerr != nil {
			t.Errorf("load: %v", lerr)
		}
		reportc <- r
	}()
	// Stop the endpoint once every stream records, and sample the heap through the outage.
	require.Eventually(t, func() bool {
		_, m := get(t, ta.base+"/metrics")
		return containsLine(m, fmt.Sprintf("liverec_recordings_active %d", streams))
	}, 30*time.Second, 100*time.Millisecond)
	runtime.GC()
	base := heapInUse()
	s3.Stop()
	peak := base
	for end := time.Now().Add(outage); time.Now().Before(end); {
		time.Sleep(time.Second) // the outage is this test's subject: it lasts its time
		peak = max(peak, heapInUse())
	}
	_, m := get(t, ta.base+"/metrics")
	t.Logf("outage of %v, %d streams: heap %d MiB before, peak %d MiB; %s", outage, streams, base>>20, peak>>20,
		metricLine(m, "liverec_spool_backlog_files"))
	require.Empty(t, huaweiTypes(hw), "nothing is reported while the bucket is down")
	s3.Start()
	back := time.Now()

	report := <-reportc
	require.NotNil(t, report)
	require.Equal(t, streams, report.Total.OK, "every publisher ran to its end")
	require.Eventually(t, func() bool {
		recs, _, lerr := ta.Store().RecordingList(context.Background(), store.RecordingFilter{App: "outage",
			State: recording.RecordingOver})
		require.NoError(t, lerr)
		return len(recs) == streams
	}, 2*time.Minute+outage, 200*time.Millisecond, "every recording ends once its files are stored")
	_, m = get(t, ta.base+"/metrics")
	require.True(t, containsLine(m, "liverec_frames_dropped_total 0"), metricLine(m, "liverec_frames_dropped_total"))
	require.Less(t, peak-base, uint64(64<<20), "completed work queues as small descriptors, not media")

	t.Logf("all stored %v after the endpoint came back", time.Since(back).Round(time.Millisecond))
	// ffprobe reads each playlist where versitygw keeps its objects (a posix folder per bucket).
	files := 0
	for _, sr := range report.Streams {
		fs := storedFiles(t, ta, "outage", sr.Name)
		require.NotEmpty(t, fs, sr.Name)
		v := 0
		for _, f := range fs {
			p := filepath.Join(s3.Dir, "rec", filepath.FromSlash(f.ObjectKey))
			pr := testutil.Probe(t, p)
			require.Empty(t, pr.Stderr, p)
			require.Equal(t, "h264", pr.Video().CodecName, p)
			require.NotNil(t, pr.Audio(), p)
			require.Equal(t, int64(pr.Video().Packets()), f.VideoFrames, p)
			v += pr.Video().Packets()
		}
		require.Equal(t, sr.VideoFrames, v, "%s: every frame sent is recorded", sr.Name)
		files += len(fs)
	}
	waitHuaweiCount(t, hw, "RECORD_FILE_COMPLETE", files, 30*time.Second)
	entries, err := os.ReadDir(filepath.Join(ta.data, "spool"))
	require.NoError(t, err)
	require.Empty(t, entries, "the spool is empty once everything is stored")
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// containsLine tells whether a /metrics text has the exact line.
func containsLine(metrics, line string) bool {
	for _, l := range strings.Split(metrics, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

// metricLine returns the /metrics lines of a metric, for failure messages.
func metricLine(metrics, name string) string {
	var out []string
	for _, l := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(l, name) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "; ")
}
