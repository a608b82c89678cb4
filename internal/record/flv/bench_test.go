package flv_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/record/flv"
	"github.com/liverec/liverec/internal/record/sink"
	"github.com/liverec/liverec/internal/testutil"
)

// Shape of the §14 reference stream: 720p30 H.264 at 2 Mbit/s with a keyframe every 2 s, AAC
// at 128 kbit/s and 44.1 kHz.
const (
	benchGOP       = 60
	benchKeySize   = 60 << 10
	benchInterSize = 7500
	benchAudioSize = 370
	benchAACFrame  = 1024 * time.Second / 44100
	// benchRotate starts a new file every so many units so the benchmark's files stay small.
	benchRotate = 8192
)

// benchGOPUnits returns one GOP of interleaved units in DTS order.
func benchGOPUnits(tracks media.Tracks) []media.Unit {
	var units []media.Unit
	var audio time.Duration
	for i := range benchGOP {
		dts := time.Duration(i) * time.Second / 30
		for audio <= dts {
			units = append(units, media.Unit{Track: tracks.Audio, DTS: audio, PTS: audio, Keyframe: true,
				Data: make([]byte, benchAudioSize)})
			audio += benchAACFrame
		}
		size := benchInterSize
		if i == 0 {
			size = benchKeySize
		}
		units = append(units, media.Unit{Track: tracks.Video, DTS: dts, PTS: dts, Keyframe: i == 0,
			Data: testutil.FakeAU(media.CodecH264, i == 0, size)})
	}
	return units
}

func BenchmarkWriteUnit(b *testing.B) {
	tracks := testutil.RefTracks(b, media.CodecH264)
	gop := benchGOPUnits(tracks)
	gopDur := benchGOP * time.Second / 30
	var bytesPerGOP int64
	for _, u := range gop {
		bytesPerGOP += int64(len(u.Data))
	}
	b.SetBytes(bytesPerGOP / int64(len(gop)))
	path := tempPath(b, "bench.flv")

	var (
		f *sink.File
		w *flv.Writer
	)
	open := func() {
		var err error
		f, err = sink.Create(path)
		require.NoError(b, err)
		w, err = flv.NewWriter(f, tracks)
		require.NoError(b, err)
	}
	closeFile := func() {
		_, err := w.Close()
		require.NoError(b, err)
		require.NoError(b, f.Close())
	}

	open()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; b.Loop(); i++ {
		if n == benchRotate {
			b.StopTimer()
			closeFile()
			open()
			n = 0
			b.StartTimer()
		}
		round := time.Duration(n / len(gop))
		u := gop[n%len(gop)]
		u.DTS += round * gopDur
		u.PTS += round * gopDur
		if err := w.WriteUnit(&u); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.StopTimer()
	closeFile()
	require.NoError(b, os.Remove(path))
	// A reference stream writes about 73 units a second: the writer's share of one core.
	unitsPerSec := float64(len(gop)) / gopDur.Seconds()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)*unitsPerSec/1e9*100, "%cpu/stream")
}

// TestWriteUnitAllocs pins the steady state of BenchmarkWriteUnit: once the sink's batch buffer
// has grown, writing a unit allocates nothing.
func TestWriteUnitAllocs(t *testing.T) {
	tracks := testutil.RefTracks(t, media.CodecH264)
	gop := benchGOPUnits(tracks)
	f, err := sink.Create(tempPath(t, "allocs.flv"))
	require.NoError(t, err)
	defer f.Close()
	w, err := flv.NewWriter(f, tracks)
	require.NoError(t, err)
	n := 0
	write := func() {
		u := gop[n%len(gop)]
		round := time.Duration(n / len(gop))
		u.DTS += round * time.Hour
		u.PTS += round * time.Hour
		require.NoError(t, w.WriteUnit(&u))
		n++
	}
	for range 4 * len(gop) {
		write()
	}
	require.Zero(t, testing.AllocsPerRun(4*len(gop), write))
}
