package flv_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	mediaflv "github.com/liverec/liverec/internal/media/flv"
	"github.com/liverec/liverec/internal/record/flv"
	"github.com/liverec/liverec/internal/testutil"
)

// cutFile is a file written by the Writer and where each of its tags ends.
type cutFile struct {
	data      []byte
	tracks    media.Tracks
	units     []media.Unit
	headerEnd int   // end of the sequence headers: a shorter file holds nothing
	ends      []int // end of each unit's tag, its PreviousTagSize included
}

// writeCutFile writes units and walks the tags of the result (FLV header, onMetaData, one
// sequence header per track, then one tag per unit).
func writeCutFile(t *testing.T, tracks media.Tracks, units []media.Unit) (cutFile, flv.Stats) {
	t.Helper()
	path := tempPath(t, "full.flv")
	st := writeFile(t, path, tracks, units)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	cf := cutFile{data: b, tracks: tracks, units: units}
	headers := 1
	if tracks.Video != nil {
		headers++
	}
	if tracks.Audio != nil {
		headers++
	}
	for pos := 13; pos < len(b); {
		size := int(b[pos+1])<<16 | int(b[pos+2])<<8 | int(b[pos+3])
		pos += 11 + size + 4
		if headers > 0 {
			headers--
			cf.headerEnd = pos
		} else {
			cf.ends = append(cf.ends, pos)
		}
	}
	require.Len(t, cf.ends, len(units))
	return cf, st
}

// wantDuration is the Writer's duration of units, in whole milliseconds as the file has them.
func wantDuration(units []media.Unit) time.Duration {
	var end time.Duration
	last := map[bool]time.Duration{}
	for _, u := range units {
		dts, pts := u.DTS.Truncate(time.Millisecond), u.PTS.Truncate(time.Millisecond)
		v := u.Track.IsVideo()
		step := time.Duration(0)
		if l, ok := last[v]; ok {
			step = dts - l
		}
		end = max(end, max(dts, pts)+step)
		last[v] = dts
	}
	return end
}

// recoverCut recovers the file cut to n bytes and checks it holds exactly the units whose tag
// was complete, with metadata and stats that say so. It returns the recovered path.
func recoverCut(t *testing.T, cf cutFile, path string, n int) (string, flv.Stats) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, cf.data[:n], 0o644))
	st, err := flv.Recover(path)
	if n < cf.headerEnd {
		require.ErrorIs(t, err, flv.ErrNothingToRecover, "cut at %d", n)
		return path, st
	}
	require.NoError(t, err, "cut at %d", n)
	k, size := 0, cf.headerEnd
	for k < len(cf.ends) && cf.ends[k] <= n {
		size = cf.ends[k]
		k++
	}
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, got, size, "cut at %d", n)
	require.EqualValues(t, size, st.Bytes)
	diff := 0
	for i := range got {
		if got[i] != cf.data[i] {
			diff++
		}
	}
	require.LessOrEqual(t, diff, 16, "only the two metadata doubles change")

	tracks, units, meta := readBack(t, path)
	requireSameUnits(t, cf.units[:k], units)
	if cf.tracks.Video != nil {
		require.True(t, tracks.Video.SameParams(cf.tracks.Video))
	}
	nv, na := testutil.CountUnits(units)
	require.EqualValues(t, nv, st.VideoFrames)
	require.EqualValues(t, na, st.AudioFrames)
	require.Equal(t, wantDuration(cf.units[:k]), st.Duration, "cut at %d", n)
	require.Equal(t, st.Duration.Seconds(), meta["duration"])
	require.Equal(t, float64(size), meta["filesize"])
	return path, st
}

// synthUnits makes n interleaved units with whole-millisecond timestamps, composition offsets
// on some video frames and varied sizes.
func synthUnits(tracks media.Tracks, n int) []media.Unit {
	var units []media.Unit
	for i := range n {
		dts := time.Duration(i) * 21 * time.Millisecond
		if tracks.Video != nil && (tracks.Audio == nil || i%3 != 2) {
			key := i%10 == 0
			units = append(units, media.Unit{Track: tracks.Video, DTS: dts,
				PTS: dts + time.Duration(i%4)*40*time.Millisecond, Keyframe: key,
				Data: testutil.FakeAU(tracks.Video.Codec, key, 8+i%13)})
		} else {
			units = append(units, media.Unit{Track: tracks.Audio, DTS: dts, PTS: dts, Keyframe: true,
				Data: []byte{0x21, byte(i), 3}})
		}
	}
	return units
}

// Every cut of small files, at every byte, leaves exactly the complete tags.
func TestRecoverEveryByte(t *testing.T) {
	h264, h265 := testutil.RefTracks(t, media.CodecH264), testutil.RefTracks(t, media.CodecH265)
	for name, tracks := range map[string]media.Tracks{
		"h264+aac":   h264,
		"h265+aac":   h265,
		"video-only": {Video: h264.Video},
		"audio-only": {Audio: h264.Audio},
	} {
		t.Run(name, func(t *testing.T) {
			cf, full := writeCutFile(t, tracks, synthUnits(tracks, 30))
			path := tempPath(t, "cut.flv")
			for n := range len(cf.data) + 1 {
				recoverCut(t, cf, path, n)
			}
			// A complete file keeps every frame, its bytes and the Writer's stats.
			_, st := recoverCut(t, cf, path, len(cf.data))
			require.Equal(t, full, st)
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, cf.data, got)
		})
	}
}

// A real H.264+AAC recording cut at tag boundaries and random offsets; ffprobe finds one
// recovered file clean with the exact packet counts.
func TestRecoverReferenceStream(t *testing.T) {
	ref := testutil.RefStream(t, t.TempDir(), testutil.RefOptions{Seconds: 3, BFrames: 2})
	tracks, units := testutil.LoadFLV(t, ref)
	cf, full := writeCutFile(t, tracks, units)
	path := tempPath(t, "cut.flv")

	cuts := []int{0, cf.headerEnd - 1, cf.headerEnd, len(cf.data) - 1, len(cf.data)}
	for _, end := range cf.ends[len(cf.ends)-12:] {
		for _, d := range []int{-15, -5, -4, -1, 0, 1, 11, 12} {
			cuts = append(cuts, min(end+d, len(cf.data)))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 40 {
		cuts = append(cuts, cf.headerEnd+rng.IntN(len(cf.data)-cf.headerEnd))
	}
	for _, n := range cuts {
		recoverCut(t, cf, path, n)
	}
	_, st := recoverCut(t, cf, path, len(cf.data))
	require.Equal(t, full, st)

	// Cut inside a video tag halfway through: the frames before it, clean for ffprobe.
	n := len(cf.data) / 2
	_, st = recoverCut(t, cf, path, n)
	require.Positive(t, st.VideoFrames)
	require.Positive(t, st.AudioFrames)
	pr := testutil.Probe(t, path)
	require.Empty(t, pr.Stderr)
	require.Equal(t, "h264", pr.Video().CodecName)
	require.Equal(t, 1280, pr.Video().Width)
	require.EqualValues(t, st.VideoFrames, pr.Video().Packets())
	require.EqualValues(t, st.AudioFrames, pr.Audio().Packets())
}

func TestRecoverMalformed(t *testing.T) {
	tracks := testutil.RefTracks(t, media.CodecH264)
	cf, _ := writeCutFile(t, tracks, synthUnits(tracks, 12))
	last := cf.ends[len(cf.ends)-2] // start of the last tag
	mid := cf.ends[4]               // start of the sixth unit's tag
	with := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(cf.data)) }

	for _, tc := range []struct {
		name  string
		data  []byte
		units int   // units kept; -1: an error
		err   error // the error it wraps, if any
	}{
		{"empty", nil, -1, flv.ErrNothingToRecover},
		{"header only", cf.data[:13], -1, flv.ErrNothingToRecover},
		{"complete", cf.data, 12, nil},
		{"wrong size after the last tag", with(func(b []byte) []byte { b[len(b)-1]++; return b }), 11, nil},
		{"wrong size after a middle tag", with(func(b []byte) []byte { b[cf.ends[5]-1]++; return b }), 5, nil},
		{"last tag longer than the file", with(func(b []byte) []byte { b[last+3]++; return b }), 11, nil},
		{"zeros after the last tag", append(bytes.Clone(cf.data), make([]byte, 100)...), 12, nil},
		{"script tag among frames", with(func(b []byte) []byte { b[mid] = mediaflv.TagScript; return b }), 5, nil},
		{"stream id set", with(func(b []byte) []byte { b[mid+10] = 1; return b }), 5, nil},
		// Unit 2 is the first audio frame: made a sequence header, it ends the file.
		{"audio sequence header among frames", with(func(b []byte) []byte { b[cf.ends[1]+12] = 0; return b }), 2, nil},
		{"not FLV", with(func(b []byte) []byte { b[0] = 'X'; return b }), -1, nil},
		{"bad data offset", with(func(b []byte) []byte { b[8] = 3; return b }), -1, nil},
		{"no onMetaData first", with(func(b []byte) []byte { b[13] = mediaflv.TagVideo; return b }), -1, nil},
		{"no video sequence header", with(func(b []byte) []byte { b[4] = 0x04; return b }), -1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tempPath(t, "x.flv")
			require.NoError(t, os.WriteFile(path, tc.data, 0o644))
			st, err := flv.Recover(path)
			switch tc.units {
			case -1:
				require.Error(t, err)
				if tc.err != nil {
					require.ErrorIs(t, err, tc.err)
				} else {
					require.NotErrorIs(t, err, flv.ErrNothingToRecover)
				}
				got, rerr := os.ReadFile(path)
				require.NoError(t, rerr)
				require.True(t, bytes.Equal(tc.data, got), "a refused file is left as it was")
				return
			default:
				require.NoError(t, err)
				require.EqualValues(t, tc.units, st.VideoFrames+st.AudioFrames)
			}
			_, units, meta := readBack(t, path)
			require.EqualValues(t, st.VideoFrames+st.AudioFrames, len(units))
			require.Equal(t, float64(fileSize(t, path)), meta["filesize"])
			require.Equal(t, st.Duration.Seconds(), meta["duration"])
		})
	}

	_, err := flv.Recover(filepath.Join(t.TempDir(), "missing.flv"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// FuzzRecover: Recover never panics; what it accepts is a prefix of the input with only the
// two metadata doubles changed, every tag of it reads back, and recovering it again changes
// nothing. What it refuses is left as it was.
func FuzzRecover(f *testing.F) {
	for _, codec := range []media.Codec{media.CodecH264, media.CodecH265} {
		b := smallFile(f, codec)
		f.Add(b)
		for _, n := range []int{12, 13, 100, len(b) / 2, len(b) - 5, len(b) - 1} {
			f.Add(b[:n])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.flv")
		require.NoError(t, os.WriteFile(path, data, 0o644))
		st, err := flv.Recover(path)
		got, rerr := os.ReadFile(path)
		require.NoError(t, rerr)
		if err != nil {
			require.Equal(t, data, got)
			return
		}
		require.EqualValues(t, len(got), st.Bytes)
		require.LessOrEqual(t, len(got), len(data))
		diff := 0
		for i := range got {
			if got[i] != data[i] {
				diff++
			}
		}
		require.LessOrEqual(t, diff, 16)

		r, err := mediaflv.NewReader(bytes.NewReader(got))
		require.NoError(t, err)
		var frames int64
		for {
			tag, rerr := r.ReadTag()
			if errors.Is(rerr, io.EOF) {
				break
			}
			require.NoError(t, rerr)
			if tag.Type != mediaflv.TagScript {
				frames++
			}
		}
		seqHeaders := int64(bits(data[4]&0x01) + bits(data[4]&0x04))
		require.Equal(t, st.VideoFrames+st.AudioFrames, frames-seqHeaders)

		again, err := flv.Recover(path)
		require.NoError(t, err)
		require.Equal(t, st, again)
		got2, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, got, got2)
	})
}

func bits(b byte) int {
	if b != 0 {
		return 1
	}
	return 0
}
