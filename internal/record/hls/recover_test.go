package hls

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/testutil"
)

// sliceLog is one slice as written: its units and the file size after each of them.
type sliceLog struct {
	seq   int
	start time.Duration
	units []media.Unit
	ends  []int
}

// recordFlushed records units with a flush after every unit, so the size of the open slice
// file after each unit tells where the unit's bytes end.
func recordFlushed(t *testing.T, slice time.Duration, tracks media.Tracks, units []media.Unit) (string, []sliceLog) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cycle")
	done := 0
	w, err := NewWriter(Config{Dir: dir, SliceDuration: slice, OnSlice: func(Slice) { done++ }}, tracks)
	require.NoError(t, err)
	var logs []sliceLog
	for i := range units {
		require.NoError(t, w.WriteUnit(&units[i]))
		require.NoError(t, w.Flush())
		if len(logs) == done {
			logs = append(logs, sliceLog{seq: done, start: units[i].DTS})
		}
		fi, serr := os.Stat(filepath.Join(dir, strconv.Itoa(done)+".ts"))
		require.NoError(t, serr)
		l := &logs[done]
		l.units, l.ends = append(l.units, units[i]), append(l.ends, int(fi.Size()))
	}
	st, err := w.Close()
	require.NoError(t, err)
	require.Len(t, st.Slices, len(logs))
	return dir, logs
}

// complete is how many units of a slice cut at n have all their bytes.
func complete(l sliceLog, n int) int {
	k := 0
	for k < len(l.ends) && l.ends[k] <= n {
		k++
	}
	return k
}

// afStuffed tells whether a packet's adaptation field holds stuffing, which the muxer puts only
// into the last packet of a PES.
func afStuffed(p []byte) bool {
	if p[3]&0x20 == 0 {
		return false
	}
	need := 1
	if p[5]&afPCR != 0 {
		need += pcrFieldSize
	}
	return p[4] == 0 || int(p[4]) > need
}

// wantKept is how many units of a slice cut at n survive: those whose bytes are all there,
// less a last video PES nothing proves whole (no stuffing ends it, no PES starts after it).
func wantKept(data []byte, l sliceLog, n int) (kept int, byStuffing bool) {
	k := complete(l, n)
	if k == 0 || !l.units[k-1].Track.IsVideo() {
		return k, false
	}
	end := l.ends[k-1]
	for p := end; p+tsPacketSize <= n; p += tsPacketSize {
		if data[p+1]&0x40 != 0 {
			return k, false
		}
	}
	if afStuffed(data[end-tsPacketSize : end]) {
		return k, true
	}
	return k - 1, false
}

// wantDuration is Writer.lastEnd of units minus their start, the video step taken inside them.
func wantDuration(units []media.Unit) time.Duration {
	start, end := units[0].DTS, units[0].DTS
	var lastV, stepV time.Duration
	nv := 0
	for _, u := range units {
		if u.Track.IsVideo() {
			if nv > 0 {
				stepV = u.DTS - lastV
			}
			lastV, nv = u.DTS, nv+1
			end = max(end, lastV+stepV)
		} else {
			conf, _ := u.Track.AACConfig()
			end = max(end, u.DTS+1024*time.Second/time.Duration(conf.SampleRate))
		}
	}
	return end - start
}

// Partial slices cut at every packet boundary and inside every packet keep exactly their
// complete frames; ffprobe finds a sample of them clean with the exact packet counts.
func TestRecoverSlice(t *testing.T) {
	av := func(t *testing.T) (media.Tracks, []media.Unit) {
		return loadRef(t, testutil.RefOptions{Seconds: 3, Bitrate: "400k", BFrames: 2})
	}
	audio := func(t *testing.T) (media.Tracks, []media.Unit) {
		return loadRef(t, testutil.RefOptions{Seconds: 3, NoVideo: true})
	}
	hevc := func(t *testing.T) (media.Tracks, []media.Unit) {
		p := testutil.RefStream(t, t.TempDir(), testutil.RefOptions{Codec: "libx265", Container: "hevc",
			NoAudio: true, Seconds: 2, Bitrate: "400k", GOP: 30})
		return testutil.LoadAnnexB(t, p, media.CodecH265, 30)
	}
	for _, tc := range []struct {
		name  string
		load  func(t *testing.T) (media.Tracks, []media.Unit)
		every int // also cut at every byte of this many first packets
	}{{"h264+aac", av, 3}, {"audio-only", audio, 0}, {"h265", hevc, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			tracks, units := tc.load(t)
			dir, logs := recordFlushed(t, time.Second, tracks, units)
			require.GreaterOrEqual(t, len(logs), 2)
			l := logs[len(logs)-1] // the open slice when the cycle ended
			full := l.ends[len(l.ends)-1]
			data, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(l.seq)+".ts"))
			require.NoError(t, err)
			require.Len(t, data, full)

			rng := rand.New(rand.NewPCG(3, 4))
			var cuts []int
			for p := 0; p <= full; p += tsPacketSize {
				cuts = append(cuts, p, min(p+1+rng.IntN(tsPacketSize-1), full))
			}
			for n := range tc.every * tsPacketSize {
				cuts = append(cuts, n)
			}
			path := filepath.Join(t.TempDir(), strconv.Itoa(l.seq)+".ts")
			var stuffed, dropped int
			probes := map[int]bool{full: true}
			for range 6 {
				probes[cuts[rng.IntN(len(cuts))]] = true
			}
			for _, n := range cuts {
				require.NoError(t, os.WriteFile(path, data[:n], 0o644))
				s, err := RecoverSlice(path, l.seq, l.start)
				k, byStuffing := wantKept(data, l, n)
				if byStuffing {
					stuffed++
				}
				if complete(l, n) != k {
					dropped++
				}
				got, rerr := os.ReadFile(path)
				require.NoError(t, rerr)
				if k == 0 {
					require.ErrorIs(t, err, ErrNothingToRecover, "cut at %d", n)
					require.Equal(t, data[:n], got, "a refused slice is left as it was")
					continue
				}
				require.NoError(t, err, "cut at %d", n)
				require.Equal(t, l.ends[k-1], len(got), "cut at %d", n)
				require.True(t, bytes.Equal(data[:len(got)], got))
				nv, na := testutil.CountUnits(l.units[:k])
				require.Equal(t, Slice{Seq: l.seq, Path: path, Start: l.start, Bytes: int64(len(got)),
					VideoFrames: int64(nv), AudioFrames: int64(na), Duration: s.Duration}, s)
				require.InDelta(t, wantDuration(l.units[:k]), s.Duration, float64(50*time.Microsecond), "cut at %d", n)
				if probes[n] {
					p := testutil.Probe(t, path)
					require.Empty(t, p.Stderr, "cut at %d", n)
					checkStreams(t, path, p, tracks)
					if nv > 0 {
						require.Equal(t, nv, p.Video().Packets(), "cut at %d", n)
					}
					if na > 0 {
						require.Equal(t, na, p.Audio().Packets(), "cut at %d", n)
					}
				}
			}
			t.Logf("%d cuts, %d ended by a video PES proven whole by stuffing, %d lost an unprovable one",
				len(cuts), stuffed, dropped)
			if tracks.Video != nil {
				require.Positive(t, stuffed)
			}
		})
	}
}

// videoUnit is an H.264 access unit of one NAL unit of n bytes.
func videoUnit(tr *media.Track, dts time.Duration, key bool, n int) media.Unit {
	au := make([]byte, 4+n)
	au[3] = byte(n)
	au[2] = byte(n >> 8)
	au[4] = 0x41
	if key {
		au[4] = 0x65
	}
	return media.Unit{Track: tr, DTS: dts, PTS: dts, Keyframe: key, Data: au}
}

// A video PES that exactly fills its packets cannot be proven whole at the end of the file:
// the first packet of a video PES carries a PCR (176 bytes of payload), and a P-frame PES is
// a 14-byte header, a 6-byte AUD and the NAL unit with its start code.
func TestRecoverSliceExactFit(t *testing.T) {
	v := testTracks(t).Video
	for _, tc := range []struct {
		nal  int
		kept int64
	}{{176 - 14 - 6 - 4, 1}, {176 - 14 - 6 - 4 - 1, 2}, {176 + 184 - 14 - 6 - 4, 1}, {176 + 183 - 24, 2}} {
		units := []media.Unit{videoUnit(v, 0, true, 1000), videoUnit(v, 40*time.Millisecond, false, tc.nal)}
		dir, logs := recordFlushed(t, time.Hour, media.Tracks{Video: v}, units)
		path := filepath.Join(dir, "0.ts")
		s, err := RecoverSlice(path, 0, 0)
		require.NoError(t, err)
		require.Equal(t, tc.kept, s.VideoFrames, "NAL of %d bytes", tc.nal)
		require.EqualValues(t, logs[0].ends[tc.kept-1], s.Bytes)
		wantDur := time.Duration(0)
		if tc.kept == 2 {
			wantDur = 80 * time.Millisecond
		}
		require.Equal(t, wantDur, s.Duration)
	}
}

// payloadAt returns where the payload of the packet at p starts.
func payloadAt(b []byte, p int) int {
	if b[p+3]&0x20 != 0 {
		return p + tsHeaderSize + 1 + int(b[p+4])
	}
	return p + tsHeaderSize
}

func TestRecoverSliceMalformed(t *testing.T) {
	tracks := testTracks(t)
	var units []media.Unit
	for i := range 6 {
		dts := time.Duration(i) * 40 * time.Millisecond
		units = append(units, videoUnit(tracks.Video, dts, i == 0, 300+i*50),
			media.Unit{Track: tracks.Audio, DTS: dts, PTS: dts, Keyframe: true, Data: bytes.Repeat([]byte{7}, 20)})
	}
	dir, logs := recordFlushed(t, time.Hour, tracks, units)
	data, err := os.ReadFile(filepath.Join(dir, "0.ts"))
	require.NoError(t, err)
	ends := logs[0].ends
	with := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(data)) }

	for _, tc := range []struct {
		name  string
		data  []byte
		bytes int // kept; 0: ErrNothingToRecover; -1: another error
	}{
		{"empty", nil, 0},
		{"tables only", data[:2*tsPacketSize], 0},
		{"partial first packet", data[:100], 0},
		{"complete", data, ends[11]},
		{"zeros after", append(bytes.Clone(data), make([]byte, 3*tsPacketSize)...), ends[11]},
		// Units alternate video, audio; ends[i] is where unit i+1 starts.
		{"lost sync in the middle", with(func(b []byte) []byte { b[ends[5]] = 0; return b }), ends[5]},
		{"transport error in the middle", with(func(b []byte) []byte { b[ends[5]+1] |= 0x80; return b }), ends[5]},
		{"unknown PID", with(func(b []byte) []byte { b[ends[5]+2] = 0x42; return b }), ends[5]},
		{"audio PES longer than its length", with(func(b []byte) []byte { b[payloadAt(b, ends[2])+5]--; return b }), ends[2]},
		{"video PES without start code", with(func(b []byte) []byte { b[payloadAt(b, ends[3])+14+2] = 9; return b }), ends[3]},
		{"not TS", with(func(b []byte) []byte { b[0] = 'X'; return b }), -1},
		{"no PMT", with(func(b []byte) []byte { b[tsPacketSize+10]++; return b }), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "5.ts")
			require.NoError(t, os.WriteFile(path, tc.data, 0o644))
			s, recErr := RecoverSlice(path, 5, time.Second)
			got, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			switch tc.bytes {
			case 0:
				require.ErrorIs(t, recErr, ErrNothingToRecover)
			case -1:
				require.Error(t, recErr)
				require.NotErrorIs(t, recErr, ErrNothingToRecover)
			default:
				require.NoError(t, recErr)
				require.EqualValues(t, tc.bytes, s.Bytes)
				require.Equal(t, tc.data[:tc.bytes], got)
				return
			}
			require.True(t, bytes.Equal(tc.data, got), "a refused slice is left as it was")
		})
	}
	_, err = RecoverSlice(filepath.Join(t.TempDir(), "1.ts"), 1, 0)
	require.ErrorIs(t, err, os.ErrNotExist)
}

// ScanSlice counts the frames and bytes of complete slices, the last PES included, and refuses
// a damaged one.
func TestScanSlice(t *testing.T) {
	tracks, units := loadRef(t, testutil.RefOptions{Seconds: 3, Bitrate: "400k"})
	dir, logs := recordFlushed(t, time.Second, tracks, units)
	listed, ended, err := ReadIndex(dir)
	require.NoError(t, err)
	require.True(t, ended)
	require.Len(t, listed, len(logs))
	for i, s := range listed {
		got, serr := ScanSlice(s)
		require.NoError(t, serr)
		nv, na := testutil.CountUnits(logs[i].units)
		want := s
		want.Bytes, want.VideoFrames, want.AudioFrames = int64(logs[i].ends[len(logs[i].ends)-1]), int64(nv), int64(na)
		require.Equal(t, want, got)
	}
	require.NoError(t, os.Truncate(listed[0].Path, 100*tsPacketSize+5))
	_, err = ScanSlice(listed[0])
	require.ErrorContains(t, err, "damaged")
	_, err = ScanSlice(Slice{Path: filepath.Join(dir, "none.ts")})
	require.ErrorIs(t, err, os.ErrNotExist)
}
