package record

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/testutil"
	"github.com/liverec/liverec/internal/upload"
)

// pauseRecorder starts a recorder with merge window w on every format and counts its pauses
// and resumes.
func (h *harness) pauseRecorder(t *testing.T, w int, ended chan error, paused, resumed *atomic.Int32) *Recorder {
	r, _ := h.windowRecorder(t, map[recording.Format]int{recording.FormatFLV: w, recording.FormatMP4: w, recording.FormatHLS: w},
		ended, paused, resumed)
	return r
}

// windowRecorder starts a recorder with a merge window per format; stop shuts it down.
func (h *harness) windowRecorder(t *testing.T, windows map[recording.Format]int, ended chan error, paused, resumed *atomic.Int32) (r *Recorder, stop func()) {
	rule := testRule(0, 2)
	for i := range rule.Formats {
		rule.Formats[i].MergeWindowS = windows[rule.Formats[i].Format]
	}
	return runRecorder(t, Config{RecordingID: "rec_pause", Key: stream.Key{Domain: "d", App: "live", Stream: "s"},
		StartWall: time.Now(), SpoolDir: t.TempDir(), FlushInterval: 50 * time.Millisecond,
		Jobs: h.fin, Reporter: &reporter{rule: rule, ended: ended, paused: paused, resumed: resumed}})
}

// publishTwice records two publications with a 60 s merge window, the second resuming the
// first, then shuts the recorder down; it returns how often the recording paused and resumed.
func (h *harness) publishTwice(t *testing.T, first, second []media.Unit) (paused, resumed int32) {
	return h.publishTwiceWith(t, map[recording.Format]int{recording.FormatFLV: 60, recording.FormatMP4: 60, recording.FormatHLS: 60},
		first, second)
}

func (h *harness) publishTwiceWith(t *testing.T, windows map[recording.Format]int, first, second []media.Unit) (paused, resumed int32) {
	ended := make(chan error, 1)
	var p, r atomic.Int32
	rec, stop := h.windowRecorder(t, windows, ended, &p, &r)
	feed(rec, first)
	rec.End(nil)
	waitPaused(t, &p)
	require.True(t, rec.Resume(time.Now()))
	feed(rec, second)
	rec.End(nil)
	stop() // a shutdown: the paused files complete
	require.NoError(t, <-ended)
	return p.Load(), r.Load()
}

// waitPaused waits for the first pause: a publication that ends before the recording was
// decided cannot be resumed.
func waitPaused(t *testing.T, paused *atomic.Int32) {
	require.Eventually(t, func() bool { return paused.Load() > 0 }, 10*time.Second, 10*time.Millisecond)
}

func feed(r *Recorder, units []media.Unit) {
	for i := 0; i < len(units); i += 10 {
		b := stream.NewBatch()
		for j := i; j < min(i+10, len(units)); j++ {
			b.Add(&units[j])
		}
		r.WriteBatch(b)
	}
}

func (h *harness) storedFiles(t *testing.T) map[recording.Format][]upload.Stored {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, h.fin.Drain(ctx))
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[recording.Format][]upload.Stored{}
	for _, s := range h.stored {
		if s.Job.Kind == upload.JobFile || s.Job.Kind == upload.JobPlaylist {
			out[s.Job.Format] = append(out[s.Job.Format], s)
		}
	}
	return out
}

// TestRecorderResumesIntoTheSameFiles: a second publication (new tracks with the same
// parameters, timestamps from zero again) continues the paused files without the gap; HLS
// marks the seam once.
func TestRecorderResumesIntoTheSameFiles(t *testing.T) {
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	_, first := testutil.LoadFLV(t, src)
	_, second := testutil.LoadFLV(t, src)
	wantV, _ := testutil.CountUnits(first)
	h := newHarness(t)
	paused, resumed := h.publishTwice(t, first, second)
	require.EqualValues(t, 2, paused)
	require.EqualValues(t, 1, resumed)
	files := h.storedFiles(t)
	for _, f := range []recording.Format{recording.FormatFLV, recording.FormatMP4, recording.FormatHLS} {
		require.Len(t, files[f], 1, f)
		p := filepath.Join(h.root, files[f][0].Bucket, files[f][0].ObjectKey)
		pr := testutil.Probe(t, p)
		require.Empty(t, pr.Stderr, p)
		require.Equal(t, 2*wantV, pr.Video().Packets(), p)
		require.InDelta(t, 8.0, files[f][0].Job.Stats.Duration.Seconds(), 0.2, p)
		if f == recording.FormatHLS {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			require.Equal(t, 1, strings.Count(string(b), "#EXT-X-DISCONTINUITY"), "%s", b)
		}
	}
}

// TestRecorderResumeWithNewParametersStartsNewFiles: a resume at another resolution starts new
// files in the same recording.
func TestRecorderResumeWithNewParametersStartsNewFiles(t *testing.T) {
	_, first := testutil.LoadFLV(t, testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 2}))
	_, second := testutil.LoadFLV(t, testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 2, Width: 640, Height: 360}))
	h := newHarness(t)
	h.publishTwice(t, first, second)
	files := h.storedFiles(t)
	for _, f := range []recording.Format{recording.FormatFLV, recording.FormatMP4, recording.FormatHLS} {
		require.Len(t, files[f], 2, f)
		for i, s := range files[f] {
			p := filepath.Join(h.root, s.Bucket, s.ObjectKey)
			pr := testutil.Probe(t, p)
			require.Empty(t, pr.Stderr, p)
			require.Equal(t, 60, pr.Video().Packets(), p)
			require.Equal(t, []int{1280, 640}[i], pr.Video().Width, p)
		}
	}
}

// TestRecorderMergeWindowExpires: without a resume, the files complete when the window ends,
// and the recording ends with them.
func TestRecorderMergeWindowExpires(t *testing.T) {
	_, units := testutil.LoadFLV(t, testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 2}))
	h := newHarness(t)
	ended := make(chan error, 1)
	var paused, resumed atomic.Int32
	r := h.pauseRecorder(t, 1, ended, &paused, &resumed)
	feed(r, units)
	start := time.Now()
	r.End(nil)
	select {
	case err := <-ended:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the recording did not end after its merge window")
	}
	require.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "ended before the window")
	require.False(t, r.Resume(time.Now()), "an ended recording is not resumed")
	require.Len(t, h.storedFiles(t), 3)
}

// TestRecorderPerFormatWindows: each format keeps its own window. FLV (W = 0) completes at the
// pause and starts a new file at the resume; MP4 (60 s) and HLS (Huawei's −1) continue theirs.
func TestRecorderPerFormatWindows(t *testing.T) {
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 2})
	_, first := testutil.LoadFLV(t, src)
	_, second := testutil.LoadFLV(t, src)
	h := newHarness(t)
	paused, resumed := h.publishTwiceWith(t, map[recording.Format]int{recording.FormatFLV: 0, recording.FormatMP4: 60,
		recording.FormatHLS: -1}, first, second)
	require.EqualValues(t, 2, paused)
	require.EqualValues(t, 1, resumed)
	files := h.storedFiles(t)
	want := map[recording.Format][]int{recording.FormatFLV: {60, 60}, recording.FormatMP4: {120}, recording.FormatHLS: {120}}
	for f, frames := range want {
		require.Len(t, files[f], len(frames), f)
		for i, s := range files[f] {
			p := filepath.Join(h.root, s.Bucket, s.ObjectKey)
			pr := testutil.Probe(t, p)
			require.Empty(t, pr.Stderr, p)
			require.Equal(t, frames[i], pr.Video().Packets(), p)
		}
	}
}
