package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/conf"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/store/sqldb"
	"github.com/liverec/liverec/internal/testutil"
	"github.com/liverec/liverec/internal/upload"
)

func writeTree(t *testing.T, files map[string]string) {
	t.Helper()
	for p, body := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
}

func requireTree(t *testing.T, files map[string]string) {
	t.Helper()
	for p, body := range files {
		b, err := os.ReadFile(p)
		require.NoError(t, err, "%s must survive the start", p)
		require.Equal(t, body, string(b), p)
	}
}

// TestStartRefusesASpoolOverlappingTheDataDirOrBuckets is defect 1 of the hardening issue: a
// spool pointed at the data dir (or a bucket root) made recovery delete every stored recording.
// Such a spool is refused and nothing is touched.
func TestStartRefusesASpoolOverlappingTheDataDirOrBuckets(t *testing.T) {
	t.Parallel()
	for name, spool := range map[string]func(data string) string{
		"DataDir":    func(data string) string { return data },
		"BucketRoot": func(data string) string { return filepath.Join(data, "buckets") },
		"InBucket":   func(data string) string { return filepath.Join(data, "buckets", "recordings") },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data := t.TempDir()
			stored := map[string]string{
				filepath.Join(data, "buckets", "recordings", "record", "live", "a.flv"): "stored media",
				filepath.Join(data, "keep", "x"):                                        "other data",
			}
			writeTree(t, stored)
			cfg := filepath.Join(t.TempDir(), "liverec.yaml")
			require.NoError(t, os.WriteFile(cfg, []byte("storage:\n  spool: "+spool(data)+"\n"), 0o644))
			c, err := conf.Load([]string{"--data", data, "--http", "127.0.0.1:0", "--rtmp", "127.0.0.1:0",
				"--config", cfg}, func(k string) string { return testEnv[k] })
			require.NoError(t, err)
			_, err = New(context.Background(), c, slog.New(slog.DiscardHandler), io.Discard)
			require.ErrorContains(t, err, "storage.spool")
			requireTree(t, stored)
		})
	}
}

// TestRecoveryLeavesWhatItDidNotWriteAlone: a spool folder that also holds other data keeps it
// across a start; only empty recording directories are removed.
func TestRecoveryLeavesWhatItDidNotWriteAlone(t *testing.T) {
	t.Parallel()
	spool := t.TempDir()
	other := map[string]string{
		filepath.Join(spool, "photos", "cat.jpg"):         "JPEG",
		filepath.Join(spool, "notes.txt"):                 "mine",
		filepath.Join(spool, "rec_notours", "x"):          "also mine",
		filepath.Join(spool, "backup", "recording.json"):  "{}",
		filepath.Join(spool, "backup", "flv", "0_1.flv"):  "FLV",
		filepath.Join(spool, "REC_00000000000000A1", "x"): "upper case is not ours",
	}
	writeTree(t, other)
	empty := filepath.Join(spool, "rec_00000000000000e1")
	require.NoError(t, os.MkdirAll(filepath.Join(empty, "hls", "0_1"), 0o755))

	ta := startApp(t, "storage:\n  spool: "+spool+"\n")
	waitReady(t, ta)
	ta.stop(t)
	requireTree(t, other)
	require.NoDirExists(t, empty, "an empty recording dir is ours and holds nothing")
}

// TestUnreadableSpoolIsQuarantinedAndItsRecordingFails: after a crash, a recording's spool
// directory whose manifest is damaged keeps its media (moved to quarantine, logged, counted)
// and the recording ends failed with that reason instead of "recovered".
func TestUnreadableSpoolIsQuarantinedAndItsRecordingFails(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 2})
	media, err := os.ReadFile(src)
	require.NoError(t, err)
	data := t.TempDir()
	db, err := sqldb.OpenSQLite(t.Context(), filepath.Join(data, "liverec.db"))
	require.NoError(t, err)
	rec := &recording.Recording{ID: store.NewID(store.RecordingPrefix), Project: "default", Domain: "127.0.0.1",
		App: "live", Stream: "cam", State: recording.RecordingActive, StartedAt: time.Now().Add(-time.Minute)}
	require.NoError(t, db.RecordingInsert(t.Context(), rec))
	require.NoError(t, db.Close())
	dir := filepath.Join(data, "spool", rec.ID)
	writeTree(t, map[string]string{
		filepath.Join(dir, upload.ManifestName):          `{"recording_id":"` + rec.ID + `","key":{"Dom`, // torn by the crash
		filepath.Join(dir, "flv", "0_1700000000000.flv"): string(media),
	})

	ta := startAppIn(t, data, "", "10s")
	var got *recording.Recording
	require.Eventually(t, func() bool {
		got, err = ta.store.RecordingGet(t.Context(), "default", rec.ID)
		return err == nil && got.State != recording.RecordingActive
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, recording.RecordingFailed, got.State)
	require.Contains(t, got.Reason, "quarantine")
	evs, err := ta.store.EventsOf(t.Context(), rec.ID)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, recording.EventRecordFailed, evs[0].Type)

	require.NoDirExists(t, dir)
	q, err := filepath.Glob(filepath.Join(data, "spool", upload.QuarantineDir, rec.ID+"-*", "flv", "0_1700000000000.flv"))
	require.NoError(t, err)
	require.Len(t, q, 1, "the media were kept")
	b, err := os.ReadFile(q[0])
	require.NoError(t, err)
	require.Equal(t, media, b)
	_, metrics := get(t, ta.base+"/metrics")
	require.Contains(t, metrics, "\nliverec_spool_quarantined_total 1\n")
	require.True(t, strings.Contains(got.Reason, q[0][:len(q[0])-len("/flv/0_1700000000000.flv")]), got.Reason)
}

func waitReady(t *testing.T, ta *testApp) {
	t.Helper()
	require.Eventually(t, func() bool {
		code, _ := get(t, ta.base+"/readyz")
		return code == 200
	}, 10*time.Second, 20*time.Millisecond)
}
