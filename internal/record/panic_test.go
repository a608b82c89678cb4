package record

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/stream"
	reftest "github.com/liverec/liverec/internal/testutil"
	"github.com/liverec/liverec/internal/upload"
)

// panicky panics on the MP4 writer's 100th unit, as a muxer bug on odd input would.
type panicky struct {
	fileWriter
	n int
}

func (p *panicky) WriteUnit(u *media.Unit) error {
	if p.n++; p.n == 100 {
		var m map[string]int
		m["boom"]++ //nolint:staticcheck // the point: a real runtime panic (assignment to entry in nil map)
	}
	return p.fileWriter.WriteUnit(u)
}

// TestPanicIsContainedToItsRecording is defect 7 of the hardening issue: a panic in one
// recording's muxer ends that recording failed (counted, its files recovered into the bucket)
// while another recording on the same Uploader records every frame.
func TestPanicIsContainedToItsRecording(t *testing.T) {
	src := reftest.RefStream(t, fixtures, reftest.RefOptions{Seconds: 6})
	_, units := reftest.LoadFLV(t, src)
	wantV, _ := reftest.CountUnits(units)
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	met := NewMetrics(reg, upload.NewMetrics(reg))
	start := func(id string, wrap func(fileWriter) fileWriter) (*Recorder, chan error) {
		ended := make(chan error, 1)
		r, _ := runRecorder(t, Config{RecordingID: id, Key: stream.Key{Domain: "d", App: "live", Stream: id},
			StartWall: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), SpoolDir: t.TempDir(), Metrics: met,
			Jobs: h.fin, Reporter: &reporter{rule: testRule(0, 2), ended: ended}, wrapWriter: wrap})
		return r, ended
	}
	bad, badEnded := start("rec_bad", func(w fileWriter) fileWriter {
		if strings.HasSuffix(w.Path(), ".fmp4") {
			return &panicky{fileWriter: w}
		}
		return w
	})
	good, goodEnded := start("rec_good", nil)
	for i := 0; i < len(units); i += 5 {
		for _, r := range []*Recorder{bad, good} {
			b := stream.NewBatch()
			for j := i; j < min(i+5, len(units)); j++ {
				b.Add(&units[j])
			}
			r.WriteBatch(b)
		}
	}
	bad.End(nil)
	good.End(nil)
	select {
	case err := <-badEnded:
		require.ErrorContains(t, err, "internal error while recording")
		require.ErrorContains(t, err, "nil map")
	case <-time.After(time.Minute):
		t.Fatal("the panicking recording never ended")
	}
	require.NoError(t, <-goodEnded)
	require.NoError(t, h.fin.Drain(t.Context()))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP liverec_panics_total Panics contained to one recording, upload job or delivery, by component.
# TYPE liverec_panics_total counter
liverec_panics_total{component="recorder"} 1
`), "liverec_panics_total"))

	h.mu.Lock()
	defer h.mu.Unlock()
	var goodMP4, badFLV, badEnd int
	for _, s := range h.stored {
		switch {
		case s.Job.RecordingID == "rec_good" && s.Job.Format == recording.FormatMP4 && s.Job.Kind == upload.JobFile:
			goodMP4++
			pr := reftest.Probe(t, filepath.Join(h.root, s.Bucket, s.ObjectKey))
			require.Empty(t, pr.Stderr)
			require.Equal(t, wantV, pr.Video().Packets(), "the other recording has every frame")
		case s.Job.RecordingID == "rec_bad" && s.Job.Format == recording.FormatFLV && s.Job.Kind == upload.JobFile:
			badFLV++ // what was written before the panic is recovered and stored
			pr := reftest.Probe(t, filepath.Join(h.root, s.Bucket, s.ObjectKey))
			require.Empty(t, pr.Stderr)
			require.Positive(t, pr.Video().Packets())
		case s.Job.RecordingID == "rec_bad" && s.Job.Kind == upload.JobEnd:
			badEnd++
			require.Error(t, s.Job.Err)
		}
	}
	require.Equal(t, 1, goodMP4)
	require.Equal(t, 1, badFLV)
	require.Equal(t, 1, badEnd)
}
