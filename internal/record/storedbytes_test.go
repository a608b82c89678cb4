package record

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/testutil"
	"github.com/liverec/liverec/internal/upload"
)

// startReporter is a reporter that keeps the FileStarted reports.
type startReporter struct {
	reporter
	mu      sync.Mutex
	started []FileStarted
}

func (r *startReporter) FileStarted(f FileStarted) {
	r.mu.Lock()
	r.started = append(r.started, f)
	r.mu.Unlock()
}

// TestStoredBytesAreTheObjectsSize: what the uploader reports stored is the size of the object
// in the bucket — for MP4 the regular file the fragmented spool file was finalized into, which
// is smaller than what the writer counted; for a slice its object; for a playlist its slices'
// objects together. And each file's start names the key it gets (a template without end-time
// variables names it exactly; with them, they render as "live").
func TestStoredBytesAreTheObjectsSize(t *testing.T) {
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	_, units := testutil.LoadFLV(t, src)
	h := newHarness(t)
	rule := testRule(0, 2)
	for i := range rule.Formats {
		if rule.Formats[i].Format == recording.FormatMP4 {
			rule.Formats[i].ObjectTemplate = "{AppName}/{StreamName}/{Sequence}_{EscapedStartTime}_{EscapedEndTime}"
		}
	}
	ended := make(chan error, 1)
	rep := &startReporter{reporter: reporter{rule: rule, ended: ended}}
	start := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	r, _ := runRecorder(t, Config{RecordingID: "rec_bytes", Key: stream.Key{Domain: "d", App: "live", Stream: "s"},
		StartWall: start, SpoolDir: t.TempDir(), Jobs: h.fin, Reporter: rep})
	feed(r, units)
	r.End(nil)
	require.NoError(t, <-ended)
	files := h.storedFiles(t)

	size := func(s upload.Stored) int64 {
		fi, err := os.Stat(filepath.Join(h.root, s.Bucket, filepath.FromSlash(s.ObjectKey)))
		require.NoError(t, err)
		return fi.Size()
	}
	for _, f := range []recording.Format{recording.FormatFLV, recording.FormatMP4} {
		require.Len(t, files[f], 1, f)
		s := files[f][0]
		require.Equal(t, size(s), s.Bytes, "%s: the stored object's size", f)
		if f == recording.FormatMP4 {
			require.NotEqual(t, s.Job.Stats.Bytes, s.Bytes, "the writer counted the fragmented spool file")
		}
	}
	require.Len(t, files[recording.FormatHLS], 1)
	var slices int64
	h.mu.Lock()
	all := append([]upload.Stored(nil), h.stored...)
	h.mu.Unlock()
	n := 0
	for _, s := range all {
		if s.Job.Kind == upload.JobSlice {
			n++
			require.Equal(t, size(s), s.Bytes, "slice %d", s.Job.Seq)
			slices += s.Bytes
		}
	}
	require.GreaterOrEqual(t, n, 2)
	require.Equal(t, slices, files[recording.FormatHLS][0].Bytes, "a playlist's bytes are its slices'")

	rep.mu.Lock()
	started := append([]FileStarted(nil), rep.started...)
	rep.mu.Unlock()
	require.Len(t, started, 3)
	for _, fs := range started {
		require.Equal(t, rule.Storage, fs.Storage)
		require.Equal(t, fs.Format, fs.Config.Format)
		require.Equal(t, fs.Start, fs.Vars.Start)
		require.True(t, fs.Vars.End.IsZero(), "the end is not known at the start")
		key := h.fin.StartKey(fs.Storage, fs.Config, fs.Vars)
		final := files[fs.Format][0].ObjectKey
		if fs.Format == recording.FormatMP4 {
			require.Equal(t, "live/s/0_2026-11-21-10-00-00_live.mp4", key)
			require.NotEqual(t, final, key, "end-time variables are known only at the end")
			continue
		}
		require.Equal(t, final, key, fs.Format)
	}
}
