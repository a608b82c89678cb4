package record

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/testutil"
	"github.com/liverec/liverec/internal/upload"
)

// nullWriter takes units and writes nothing: the recorder's benchmarks measure the recorder,
// not the muxers, which have their own.
type nullWriter struct{ path string }

func (nullWriter) WriteUnit(*media.Unit) error { return nil }
func (nullWriter) Flush() error                { return nil }
func (nullWriter) Close() (*upload.Job, error) { return &upload.Job{Kind: upload.JobFile}, nil }
func (nullWriter) Abort()                      {}
func (w nullWriter) Path() string              { return w.path }
func (nullWriter) Discontinuity(media.Tracks)  {}

// benchRecorder returns a recorder of every format, without cycles, resolved and recording,
// whose files write nothing; its goroutine does not run (the benchmark is it).
func benchRecorder(tb testing.TB, tracks media.Tracks) *Recorder {
	r := NewRecorder(Config{RecordingID: "rec_bench", Rule: testRule(0, 2), SpoolDir: tb.TempDir(), Logger: slog.New(slog.DiscardHandler),
		wrapWriter: func(w fileWriter) fileWriter { w.Abort(); return nullWriter{path: w.Path()} }})
	r.resolved = true
	r.disc.tracks = tracks
	require.True(tb, r.resolve(StreamInfo{Tracks: tracks}))
	return r
}

// feeder hands a recorder batches of 8 units of the reference stream, looping it on one
// timeline.
type feeder struct {
	units []media.Unit
	k     int
	u     []media.Unit
}

func (f *feeder) feed(r *Recorder, batches int) {
	if f.u == nil {
		f.u = make([]media.Unit, 1)
	}
	lap := f.units[len(f.units)-1].DTS + 40*time.Millisecond
	for range batches {
		b := stream.NewBatch()
		for range 8 {
			f.u[0] = f.units[f.k%len(f.units)]
			shift := lap * time.Duration(f.k/len(f.units))
			f.u[0].DTS += shift
			f.u[0].PTS += shift
			b.Add(&f.u[0])
			f.k++
		}
		r.writeBatch(b)
	}
}

// BenchmarkRecorderWriteBatch: the recorder's own cost per ingest batch (8 units) in steady
// state: the segmenter's decisions and the session applying them to every format.
func BenchmarkRecorderWriteBatch(b *testing.B) {
	tracks, units := testutil.LoadFLV(b, testutil.RefStream(b, fixtures, testutil.RefOptions{Seconds: 10}))
	r := benchRecorder(b, tracks)
	f := &feeder{units: units}
	f.feed(r, 1000) // warm: every buffer grown
	b.ReportAllocs()
	b.ResetTimer()
	f.feed(r, b.N)
}

// TestRecorderWriteAllocs pins BenchmarkRecorderWriteBatch's steady state: no allocation on
// the media path (the units are handed over directly: the race detector makes the batch pool
// drop batches at random).
func TestRecorderWriteAllocs(t *testing.T) {
	tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 10}))
	r := benchRecorder(t, tracks)
	now := time.Now()
	for i := range units[:100] {
		r.writeUnit(&units[i], now)
	}
	r.flush()
	require.True(t, r.hasOpenFiles())
	i := 100
	require.Zero(t, testing.AllocsPerRun(60, func() {
		for range 8 {
			r.writeUnit(&units[i], now)
			i++
		}
		r.flush()
	}))
	require.Nil(t, r.failed)
	require.Equal(t, 1, r.seg.formats[0].seq, "one file")
}
