package record

import (
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/testutil"
	"github.com/liverec/liverec/internal/upload"
)

// TestSliceStartIsTheWallTimeOfItsFirstFrame: a publication pauses inside the merge window and
// resumes 100 s (publisher clock) later. The slice the resume completes holds media from before
// the pause, so its start — Job.Start and every start-time naming variable — is the wall time
// of its first frame, not one moved by the pause's gap; the slices after the resume start at
// the second publication's time.
func TestSliceStartIsTheWallTimeOfItsFirstFrame(t *testing.T) {
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 5})
	_, first := testutil.LoadFLV(t, src)
	_, second := testutil.LoadFLV(t, src)
	h := newHarness(t)
	rule := testRule(0, 2)
	for i := range rule.Formats {
		rule.Formats[i].MergeWindowS = 600
	}
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	resumeAt := t0.Add(100 * time.Second)
	ended := make(chan error, 1)
	var paused, resumed atomic.Int32
	rec, stop := runRecorder(t, Config{RecordingID: "rec_slices", Key: stream.Key{Domain: "d", App: "live", Stream: "s"},
		StartWall: t0, SpoolDir: t.TempDir(), FlushInterval: 50 * time.Millisecond, Jobs: h.fin,
		Reporter: &reporter{rule: rule, ended: ended, paused: &paused, resumed: &resumed}})
	feed(rec, first)
	rec.End(nil)
	waitPaused(t, &paused)
	require.True(t, rec.Resume(resumeAt))
	feed(rec, second)
	rec.End(nil)
	stop()
	require.NoError(t, <-ended)

	files := h.storedFiles(t)
	require.Len(t, files[recording.FormatHLS], 1)
	playlist := files[recording.FormatHLS][0].Job
	var slices []*upload.Job
	h.mu.Lock()
	for _, s := range h.stored {
		if s.Job.Kind == upload.JobSlice {
			slices = append(slices, s.Job)
		}
	}
	h.mu.Unlock()
	sort.Slice(slices, func(i, j int) bool { return slices[i].Seq < slices[j].Seq })
	require.Len(t, slices, len(playlist.Slices))

	before, after := 0, 0
	for i, j := range slices {
		require.Equal(t, j.Start, j.Vars.Start, "slice %d: naming variables start with the slice", j.Seq)
		require.Equal(t, j.Start.Add(j.Stats.Duration), j.End, "slice %d", j.Seq)
		seamed := false
		for _, s := range playlist.Slices[:i+1] {
			seamed = seamed || s.Discontinuity
		}
		if !seamed {
			// The first publication: the slice's first frame is at its offset in the playlist.
			before++
			require.Equal(t, playlist.Start.Add(j.Slice.Start), j.Start, "slice %d before the pause", j.Seq)
			require.True(t, j.End.Before(t0.Add(6*time.Second)), "slice %d ends %s", j.Seq, j.End)
			continue
		}
		after++
		require.False(t, j.Start.Before(resumeAt), "slice %d after the resume starts %s", j.Seq, j.Start)
		require.True(t, j.Start.Before(resumeAt.Add(6*time.Second)), "slice %d starts %s", j.Seq, j.Start)
	}
	require.GreaterOrEqual(t, before, 2, "the first publication's slices, the last completed by the resume")
	require.GreaterOrEqual(t, after, 2)
	// The last slice of the first publication is the one the resume completed.
	last := slices[before-1]
	require.True(t, last.End.Before(resumeAt), "slice %d ends %s, before the resume at %s", last.Seq, last.End, resumeAt)
}
