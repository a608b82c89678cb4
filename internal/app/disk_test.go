package app

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/testutil"
)

// diskDetail returns /readyz's status and its detail of volume.
func diskDetail(t *testing.T, ta *testApp, volume string) (int, string) {
	t.Helper()
	code, body := get(t, ta.base+"/readyz")
	var r struct {
		Checks map[string]string `json:"checks"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &r), body)
	return code, r.Checks["disk:"+volume]
}

// TestDiskFullRefusesNewRecordingsAndKeepsStored is the refuse mode of the disk policy
// (acceptance 2, second half): the local endpoint's volume (a tmpfs) falls below
// disk.low_free with no overwrite_when_full rule; /readyz warns without failing, a new
// publication gets a failed recording with the reason and a record_failed event, and what was
// stored before stays. Space back above disk.high_free takes new recordings again.
func TestDiskFullRefusesNewRecordingsAndKeepsStored(t *testing.T) {
	t.Parallel()
	short := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	root := mountTmpfs(t, "16m")
	ta := startApp(t, "storage:\n  endpoints:\n    - name: local\n      type: local\n      root: "+root+
		"\n      aliases: [\"*\"]\ndisk:\n  high_free: 6291456\n  low_free: 4194304\n  check_interval: 50ms\n")
	ta.putRule(t, mergeRule("disk", 0))
	_, hw := addCallbacks(t, ta, "disk")
	waitReady(t, ta)
	_, detail := diskDetail(t, ta, "endpoint:local")
	require.Equal(t, "ok", detail)

	// Something stored first: the refusal must keep it.
	publishFFmpeg(t, short, ta.rtmpURL("disk/before"))
	before := ta.waitFiles(t, "before", 3)
	var kept []string
	for _, fs := range before {
		for _, f := range fs {
			kept = append(kept, filepath.Join(root, f.Bucket, filepath.FromSlash(f.ObjectKey)))
		}
	}

	// Leave 2 MiB free on the endpoint's volume: below the low mark, nothing may be deleted.
	var st syscall.Statfs_t
	require.NoError(t, syscall.Statfs(root, &st))
	free := int64(st.Bavail) * int64(st.Bsize)
	filler := filepath.Join(root, "filler")
	require.NoError(t, os.WriteFile(filler, make([]byte, free-2<<20), 0o644))
	require.Eventually(t, func() bool {
		code, d := diskDetail(t, ta, "endpoint:local")
		return code == http.StatusOK && strings.Contains(d, "new recordings on it are refused")
	}, 10*time.Second, 20*time.Millisecond, "/readyz warns, and stays ready")
	_, metrics := get(t, ta.base+"/metrics")
	require.Contains(t, metrics, `liverec_volume_low{volume="endpoint:local"} 1`)
	require.Contains(t, metrics, `liverec_volume_refusing{volume="endpoint:local"} 1`)

	publishFFmpeg(t, short, ta.rtmpURL("disk/after"))
	failure := waitHuaweiEvent(t, hw, "RECORD_FAILED")
	reason, _ := failure["error_message"].(string)
	require.Contains(t, reason, "disk full: volume endpoint:local ("+root+") has ")
	require.Contains(t, reason, "bytes free, below disk.low_free (4194304 bytes)")
	ctx := context.Background()
	recs, _, err := ta.Store().RecordingList(ctx, store.RecordingFilter{App: "disk", Stream: "after"})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, recording.RecordingFailed, recs[0].State)
	require.Equal(t, reason, recs[0].Reason)
	fs, _, err := ta.Store().FileList(ctx, store.FileFilter{RecordingID: recs[0].ID})
	require.NoError(t, err)
	require.Empty(t, fs, "a refused recording writes nothing")
	for _, p := range kept {
		_, serr := os.Stat(p)
		require.NoError(t, serr, "what was stored before stays")
	}
	evs, err := ta.Store().EventsOf(ctx, recs[0].ID)
	require.NoError(t, err)
	var types []string
	for _, ev := range evs {
		types = append(types, string(ev.Type))
	}
	require.Equal(t, []string{string(recording.EventRecordStarted), string(recording.EventRecordFailed)}, types)

	// Space back above the high mark: taken again.
	require.NoError(t, os.Remove(filler))
	require.Eventually(t, func() bool {
		_, d := diskDetail(t, ta, "endpoint:local")
		return d == "ok"
	}, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, ta.disk.Refuse("local"))
}

// TestDiskFullOverwritesOldestFiles is the overwrite mode of the disk policy (acceptance 2,
// first half, shortened: the 5-minute run is done by hand): a stream records in 5 s cycles to a
// local endpoint on a tmpfs that falls below disk.low_free while it records. The oldest stored
// files are deleted (reason disk_full, each with its file_deleted event) until the volume is
// above disk.high_free; the recording never stops, and every file left is ffprobe-clean.
func TestDiskFullOverwritesOldestFiles(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 30})
	root := mountTmpfs(t, "64m")
	const low, high = 6 << 20, 9 << 20
	ta := startApp(t, "storage:\n  endpoints:\n    - name: local\n      type: local\n      root: "+root+
		"\n      aliases: [\"*\"]\ndisk:\n  high_free: 9437184\n  low_free: 6291456\n  check_interval: 50ms\n"+
		overwriteRule)
	waitReady(t, ta)

	// Leave 12 MiB: 30 s of the stream in three formats is about twice that.
	var st syscall.Statfs_t
	require.NoError(t, syscall.Statfs(root, &st))
	free := int64(st.Bavail) * int64(st.Bsize)
	require.NoError(t, os.WriteFile(filepath.Join(root, "filler"), make([]byte, free-12<<20), 0o644))

	publishFFmpeg(t, src, ta.rtmpURL("ow/cam"))
	ctx := context.Background()
	var recs []recording.Recording
	require.Eventually(t, func() bool {
		var err error
		recs, _, err = ta.Store().RecordingList(ctx, store.RecordingFilter{App: "ow", Stream: "cam"})
		require.NoError(t, err)
		return len(recs) == 1 && recs[0].State != recording.RecordingActive && recs[0].State != recording.RecordingPaused
	}, 60*time.Second, 100*time.Millisecond)
	require.Equal(t, recording.RecordingOver, recs[0].State, "recording never stops: %s", recs[0].Reason)
	// The last files may take the volume below the low mark once more: wait until it is above
	// the high mark, after which nothing writes and nothing is deleted.
	require.Eventually(t, func() bool {
		require.NoError(t, syscall.Statfs(root, &st))
		_, d := diskDetail(t, ta, "endpoint:local")
		return int64(st.Bavail)*int64(st.Bsize) >= high && d == "ok"
	}, 10*time.Second, 20*time.Millisecond)

	fs, _, err := ta.Store().FileList(ctx, store.FileFilter{RecordingID: recs[0].ID})
	require.NoError(t, err)
	var deleted, kept []recording.File
	for _, f := range fs {
		switch f.State {
		case recording.FileDeleted:
			deleted = append(deleted, f)
		case recording.FileStored:
			kept = append(kept, f)
		default:
			t.Fatalf("file %s of format %s is %s", f.ID, f.Format, f.State)
		}
	}
	require.NotEmpty(t, deleted, "the volume fell below disk.low_free: files were overwritten")
	require.NotEmpty(t, kept)
	var lastDeleted time.Time
	for _, f := range deleted {
		_, serr := os.Stat(filepath.Join(root, f.Bucket, filepath.FromSlash(f.ObjectKey)))
		require.ErrorIs(t, serr, os.ErrNotExist, "a deleted file's object is gone")
		if f.StartedAt.After(lastDeleted) {
			lastDeleted = f.StartedAt
		}
	}
	for _, f := range kept {
		require.False(t, f.StartedAt.Before(lastDeleted), "the oldest files go first: %s %s kept, a file of %s deleted",
			f.Format, f.StartedAt, lastDeleted)
		v, _, _ := checkClean(t, filepath.Join(root, f.Bucket, filepath.FromSlash(f.ObjectKey)),
			fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
		require.Positive(t, v, f.Format)
	}
	require.NoError(t, syscall.Statfs(root, &st))
	require.GreaterOrEqual(t, int64(st.Bavail)*int64(st.Bsize), int64(low), "the volume was kept above the low mark")

	evs, err := ta.Store().EventsOf(ctx, recs[0].ID)
	require.NoError(t, err)
	n := 0
	for _, ev := range evs {
		if ev.Type == recording.EventFileDeleted {
			require.Equal(t, recording.DeleteDiskFull, ev.Data.Reason)
			n++
		}
	}
	require.Equal(t, len(deleted), n, "one file_deleted event per deleted file")
	_, metrics := get(t, ta.base+"/metrics")
	require.Contains(t, metrics, `liverec_deleted_files_total{reason="disk_full"} `+strconv.Itoa(len(deleted)))
}

// overwriteRule is a config-file rule: 5 s cycles of every format, overwrite_when_full.
const overwriteRule = `rules:
  - domain: 127.0.0.1
    app: ow
    stream: "*"
    mode: auto
    overwrite_when_full: true
    formats:
      - {format: flv, cycle_s: 5, object_template: "{AppName}/{StreamName}/{Sequence}_{EscapedStartTime}_{EscapedEndTime}"}
      - {format: mp4, cycle_s: 5, object_template: "{AppName}/{StreamName}/{Sequence}_{EscapedStartTime}_{EscapedEndTime}"}
      - {format: hls, cycle_s: 5, slice_s: 2, object_template: "{AppName}/{StreamName}/{Sequence}_{EscapedStartTime}_{EscapedEndTime}",
         slice_template: "{AppName}/{StreamName}/ts/{UnixTimestamp}_{Sequence}"}
    storage: {endpoint: local, bucket: recordings}
`
