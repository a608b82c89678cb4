package mp4

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/record/sink"
)

// benchUnitsPerFile is how many units a benchmark file gets before it is replaced, so long
// runs do not fill the disk (about 180 MB at the reference bitrate).
const benchUnitsPerFile = 50000

// BenchmarkWriteUnit writes the reference bitrate's shape: 30 fps video averaging ~8 KB a
// frame with 64 KB keyframes every 2 s, and 128 kbit/s AAC frames of 370 bytes.
func BenchmarkWriteUnit(b *testing.B) { benchWriteUnit(b, 0) }

// BenchmarkWriteUnitFlush is BenchmarkWriteUnit with a Flush of the writer and the spool file
// after every 200 ms of media, as the recorder does after each ingest batch. retained-B is
// what the writer keeps after the last Flush.
func BenchmarkWriteUnitFlush(b *testing.B) { benchWriteUnit(b, 200*time.Millisecond) }

// benchWriteUnit writes units, flushing every batch of media (never when 0).
func benchWriteUnit(b *testing.B, batch time.Duration) {
	tracks := synthTracks(b)
	const cycle = 60 * time.Second
	units := synthUnits(tracks, cycle, 8000, 370)
	var bytes int64
	for _, u := range units {
		bytes += int64(len(u.Data))
	}
	b.SetBytes(bytes / int64(len(units)))
	path := filepath.Join(b.TempDir(), "bench.fmp4")
	open := func() (*sink.File, *Writer) {
		f, err := sink.Create(path)
		require.NoError(b, err)
		w, err := NewWriter(f, tracks)
		require.NoError(b, err)
		return f, w
	}
	f, w := open()
	next := batch
	b.ReportAllocs()
	b.ResetTimer()
	var u media.Unit
	for i := 0; i < b.N; i++ {
		if i > 0 && i%benchUnitsPerFile == 0 {
			b.StopTimer()
			_, err := w.Close()
			require.NoError(b, err)
			require.NoError(b, f.Close())
			f, w = open()
			next = batch
			b.StartTimer()
		}
		k := i % benchUnitsPerFile
		u = units[k%len(units)]
		shift := time.Duration(k/len(units)) * cycle
		u.DTS += shift
		u.PTS += shift
		if batch > 0 && u.DTS >= next {
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			if err := f.Flush(); err != nil {
				b.Fatal(err)
			}
			next += batch
		}
		if err := w.WriteUnit(&u); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if batch > 0 {
		require.NoError(b, w.Flush())
		b.ReportMetric(float64(retainedBytes(w)), "retained-B")
	}
	_, err := w.Close()
	require.NoError(b, err)
	require.NoError(b, f.Close())
}

// BenchmarkFinalize finalizes a one-minute recording at the reference bitrate (about 16 MB),
// fsync included.
func BenchmarkFinalize(b *testing.B) {
	tracks := synthTracks(b)
	units := synthUnits(tracks, time.Minute, 8000, 370)
	dir := b.TempDir()
	frag, final := filepath.Join(dir, "rec.fmp4"), filepath.Join(dir, "rec.mp4")
	writeFragmented(b, frag, tracks, units)
	fi, err := os.Stat(frag)
	require.NoError(b, err)
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Finalize(frag, final); err != nil {
			b.Fatal(err)
		}
	}
}
