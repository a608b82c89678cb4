package mp4

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/pmp4"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/record/sink"
	"github.com/liverec/liverec/internal/testutil"
)

// testSPS is a 1920x1080 baseline H.264 SPS (from mediacommon's tests); synthetic streams use
// it where no encoder runs (fuzz seeds, benchmarks, the 4 GiB test).
var testSPS = []byte{
	0x67, 0x42, 0xc0, 0x28, 0xd9, 0x00, 0x78, 0x02,
	0x27, 0xe5, 0x84, 0x00, 0x00, 0x03, 0x00, 0x04,
	0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc9,
	0x20,
}

func synthTracks(t testing.TB) media.Tracks {
	v, err := media.NewH264Track(testSPS, []byte{0x08})
	require.NoError(t, err)
	a, err := media.NewAACTrack(&mpeg4audio.AudioSpecificConfig{
		Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 44100, ChannelConfig: 2,
	})
	require.NoError(t, err)
	return media.Tracks{Video: v, Audio: a}
}

// synthUnits makes interleaved units: 30 fps video with a keyframe every 2 s (keyframes 8x
// larger) and 44.1 kHz AAC frames. Payload bytes encode the unit index.
func synthUnits(tr media.Tracks, d time.Duration, videoSize, audioSize int) []media.Unit {
	var units []media.Unit
	vStep, aStep := time.Second/30, time.Duration(1024*int64(time.Second)/44100)
	var vi, ai int
	for {
		vt, at := time.Duration(vi)*vStep, time.Duration(ai)*aStep
		if (tr.Video == nil || vt >= d) && (tr.Audio == nil || at >= d) {
			return units
		}
		var u media.Unit
		if tr.Video != nil && vt < d && (tr.Audio == nil || vt <= at) {
			size := videoSize
			if vi%60 == 0 {
				size *= 8
			}
			u = media.Unit{Track: tr.Video, DTS: vt, PTS: vt, Keyframe: vi%60 == 0, Data: pattern(size, len(units))}
			vi++
		} else {
			u = media.Unit{Track: tr.Audio, DTS: at, PTS: at, Keyframe: true, Data: pattern(audioSize, len(units))}
			ai++
		}
		units = append(units, u)
	}
}

func pattern(n, seed int) []byte {
	b := make([]byte, n)
	binary.BigEndian.PutUint32(b, uint32(n-4)) // one AVCC NAL unit spanning the payload
	for i := 4; i < n; i++ {
		b[i] = byte(seed*7 + i)
	}
	return b
}

// writeFragmented writes units with a Writer into a spool file at path and closes it.
func writeFragmented(t testing.TB, path string, tracks media.Tracks, units []media.Unit) Stats {
	t.Helper()
	f, err := sink.Create(path)
	require.NoError(t, err)
	w, err := NewWriter(f, tracks)
	require.NoError(t, err)
	for i := range units {
		require.NoError(t, w.WriteUnit(&units[i]), "unit %d", i)
	}
	st, err := w.Close()
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	return st
}

type topBox struct {
	typ       string
	off, size int64
	hdr       int64
}

// topBoxes walks the top-level boxes of a file (complete ones only).
func topBoxes(t testing.TB, path string) []topBox {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	fi, err := f.Stat()
	require.NoError(t, err)
	var out []topBox
	for pos := int64(0); pos < fi.Size(); {
		typ, hdr, size, ok, err := readHeader(f, pos, fi.Size())
		require.NoError(t, err)
		if !ok {
			break
		}
		out = append(out, topBox{typ, pos, size, hdr})
		pos += size
	}
	return out
}

func boxTypes(bs []topBox) []string {
	var s []string
	for _, b := range bs {
		s = append(s, b.typ)
	}
	return s
}

// checkProbe checks ffprobe's view of a recording against the input.
func checkProbe(t *testing.T, path string, videoCodec string, wantVideo, wantAudio int) *testutil.ProbeResult {
	t.Helper()
	pr := testutil.Probe(t, path)
	require.Empty(t, pr.Stderr, "ffprobe %s", path)
	if wantVideo > 0 {
		v := pr.Video()
		require.NotNil(t, v)
		require.Equal(t, videoCodec, v.CodecName)
		require.Equal(t, 1280, v.Width)
		require.Equal(t, 720, v.Height)
		require.Equal(t, wantVideo, v.Packets(), "video packets of %s", path)
	} else {
		require.Nil(t, pr.Video())
	}
	if wantAudio > 0 {
		a := pr.Audio()
		require.NotNil(t, a)
		require.Equal(t, "aac", a.CodecName)
		require.Equal(t, wantAudio, a.Packets(), "audio packets of %s", path)
	} else {
		require.Nil(t, pr.Audio())
	}
	return pr
}

// compareSamples reads the finalized file with mediacommon's pmp4 reader (an independent
// parser) and compares every sample's bytes, DTS, PTS and sync flag with the input units.
func compareSamples(t *testing.T, path string, units []media.Unit) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var p pmp4.Presentation
	require.NoError(t, p.Unmarshal(f))
	for _, tr := range p.Tracks {
		var in []media.Unit
		for _, u := range units {
			if u.Track.IsVideo() == tr.Codec.IsVideo() {
				in = append(in, u)
			}
		}
		require.Len(t, tr.Samples, len(in))
		ts := int64(tr.TimeScale)
		dts := media.ToTimescale(in[0].DTS, ts) // the edit list places the first sample
		for i, s := range tr.Samples {
			require.Equal(t, media.ToTimescale(in[i].DTS, ts), dts, "sample %d DTS", i)
			require.Equal(t, media.ToTimescale(in[i].PTS, ts), dts+int64(s.PTSOffset), "sample %d PTS", i)
			require.Equal(t, in[i].Keyframe, !s.IsNonSyncSample, "sample %d sync", i)
			data, err := s.GetPayload()
			require.NoError(t, err)
			require.Equal(t, in[i].Data, data, "sample %d bytes", i)
			dts += int64(s.Duration)
		}
	}
}

// probePTS returns the sorted PTS (seconds) of a stream's packets and its start time.
func probePTS(t *testing.T, path, kind string) (pts []float64, start float64) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", kind, "-show_entries",
		"packet=pts_time:stream=start_time", "-of", "json", path).Output()
	require.NoError(t, err)
	var r struct {
		Packets []struct {
			PTS string `json:"pts_time"`
		} `json:"packets"`
		Streams []struct {
			Start string `json:"start_time"`
		} `json:"streams"`
	}
	require.NoError(t, json.Unmarshal(out, &r))
	for _, p := range r.Packets {
		v, perr := strconv.ParseFloat(p.PTS, 64)
		require.NoError(t, perr)
		pts = append(pts, v)
	}
	slices.Sort(pts)
	require.Len(t, r.Streams, 1)
	start, err = strconv.ParseFloat(r.Streams[0].Start, 64)
	require.NoError(t, err)
	return pts, start
}

func newSink(t testing.TB, path string) *sink.File {
	t.Helper()
	f, err := sink.Create(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}
