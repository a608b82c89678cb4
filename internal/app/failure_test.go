package app

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/testutil"
)

// mountTmpfs mounts a size-limited tmpfs for the test and unmounts it at the end. Mounting
// needs root (CI runs as root); without it the test fails rather than skip.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	require.NoError(t, err, "mounting a tmpfs (the disk-full test needs root): %s", out)
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// TestSpoolFullFailsRecordingsAndKeepsWhatWasWritten is acceptance 4 of §6: the spool fills up
// mid-recording; the recording fails with the reason, its failure is delivered, the server
// answers its APIs, what was written is stored once space is back, and new streams record.
func TestSpoolFullFailsRecordingsAndKeepsWhatWasWritten(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 20})
	short := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	spool := mountTmpfs(t, "8m")
	// Leave about 2.5 MiB: a few seconds of the reference stream in three formats.
	filler := filepath.Join(spool, "filler")
	require.NoError(t, os.WriteFile(filler, make([]byte, 5<<20+512<<10), 0o644))

	ta := startApp(t, "storage:\n  spool: "+spool+"\nrecording:\n  store_retry_min: 100ms\n  store_retry_max: 500ms\n")
	ta.putRule(t, mergeRule("full", 0))
	_, hw := addCallbacks(t, ta, "full")
	pub := ffmpegPublisher(t, src, ta.rtmpURL("full/cam"))
	require.NoError(t, pub.Start())
	t.Cleanup(func() { pub.Process.Kill(); pub.Wait() })

	failure := waitHuaweiEvent(t, hw, "RECORD_FAILED")
	require.Contains(t, failure["error_message"], "no space left on device")

	// The server stays up and answers while the spool is full. (Whether it is ready depends on
	// whether recovering the failed files freed room already; TestDataDiskFullKeepsEveryRecord
	// checks the not-ready answer on a disk that stays full.)
	code, body := get(t, ta.base+"/readyz")
	require.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, code, body)
	require.Contains(t, body, `"spool":`)
	resp := ta.apiRequest(t, http.MethodGet, "/api/v1/rules", nil)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	recs, _, err := ta.Store().RecordingList(context.Background(), store.RecordingFilter{Stream: "cam", App: "full"})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, recording.RecordingFailed, recs[0].State)
	require.Contains(t, recs[0].Reason, "no space left on device")
	pub.Process.Kill()
	pub.Wait()

	// Space is back: what was written is recovered and stored, and reported after the failure.
	require.NoError(t, os.Remove(filler))
	require.Eventually(t, func() bool {
		fs, _, lerr := ta.Store().FileList(context.Background(), store.FileFilter{RecordingID: recs[0].ID})
		require.NoError(t, lerr)
		return len(fs) == 3
	}, 30*time.Second, 100*time.Millisecond, "the failed recording's files were not stored")
	fs, _, err := ta.Store().FileList(context.Background(), store.FileFilter{RecordingID: recs[0].ID})
	require.NoError(t, err)
	for _, f := range fs {
		v, _, _ := checkClean(t, ta.objectPath(f), fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
		require.GreaterOrEqual(t, v, 30, "%s keeps what was written before the disk filled", f.Format)
		require.Equal(t, int64(v), f.VideoFrames, f.Format)
	}
	types := strings.Join(huaweiTypes(hw), ",")
	require.Equal(t, 3, strings.Count(types, "RECORD_FILE_COMPLETE"), types)
	require.NotContains(t, types, "RECORD_OVER", "a failed recording does not also end as over")

	// New streams record again, and the service is ready.
	waitReady(t, ta)
	publishFFmpeg(t, short, ta.rtmpURL("full/cam2"))
	files := ta.waitFiles(t, "cam2", 3)
	ta.requireOneCleanFilePerFormat(t, files, 120, -1)
}

// TestDataDiskFullKeepsEveryRecord is defect 3 of the hardening issue: the data disk (database,
// spool and bucket on one filesystem) fills up mid-recording. The failure and its event are
// still written (the disk reserve is released for them), /readyz says not ready while the disk
// is full, nothing stays stuck in "recording", and once space is back every file is stored
// with its record and event and the reserve is held again.
func TestDataDiskFullKeepsEveryRecord(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 20})
	data := mountTmpfs(t, "32m")
	// The disk policy is off: this is the last resort, a disk that fills mid-recording.
	ta := startAppIn(t, data, "storage:\n  disk_reserve: 2097152\nrecording:\n  store_retry_min: 100ms\n"+
		"  store_retry_max: 500ms\ndisk:\n  high_free: 0\n  low_free: 0\n", "30s")
	ta.putRule(t, mergeRule("disk", 0))
	_, hw := addCallbacks(t, ta, "disk")
	waitReady(t, ta)
	reserve, err := os.Stat(filepath.Join(data, "reserve"))
	require.NoError(t, err)
	require.Equal(t, int64(2<<20), reserve.Size())

	// Leave about 1.5 MiB besides the reserve: a few seconds of the stream in three formats.
	var st syscall.Statfs_t
	require.NoError(t, syscall.Statfs(data, &st))
	free := int64(st.Bavail) * int64(st.Bsize)
	filler := filepath.Join(data, "filler")
	require.NoError(t, os.WriteFile(filler, make([]byte, free-3<<19), 0o644))

	pub := ffmpegPublisher(t, src, ta.rtmpURL("disk/cam"))
	require.NoError(t, pub.Start())
	t.Cleanup(func() { pub.Process.Kill(); pub.Wait() })
	failure := waitHuaweiEvent(t, hw, "RECORD_FAILED")
	require.Contains(t, failure["error_message"], "no space left on device")
	recs, _, err := ta.Store().RecordingList(context.Background(), store.RecordingFilter{App: "disk"})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, recording.RecordingFailed, recs[0].State, "the failure is written, not stuck in recording")
	code, body := get(t, ta.base+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code, body)
	pub.Process.Kill()
	pub.Wait()

	// Space is back: every file is stored with its record and event; ready again, reserve held.
	require.NoError(t, os.Remove(filler))
	waitHuaweiCount(t, hw, "RECORD_FILE_COMPLETE", 3, 30*time.Second)
	fs, _, err := ta.Store().FileList(context.Background(), store.FileFilter{RecordingID: recs[0].ID})
	require.NoError(t, err)
	require.Len(t, fs, 3)
	for _, f := range fs {
		v, _, _ := checkClean(t, ta.objectPath(f), fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
		require.Positive(t, v, f.Format)
		require.Equal(t, int64(v), f.VideoFrames, f.Format)
	}
	waitReady(t, ta)
	reserve, err = os.Stat(filepath.Join(data, "reserve"))
	require.NoError(t, err)
	require.Equal(t, int64(2<<20), reserve.Size())
	evs, err := ta.Store().EventsOf(context.Background(), recs[0].ID)
	require.NoError(t, err)
	for i, ev := range evs {
		require.Equal(t, int64(i+1), ev.Data.Seq, "one numbering, no gap or repeat: %v", ev.Type)
	}
}
