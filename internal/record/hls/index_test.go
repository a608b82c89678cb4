package hls

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/testutil"
)

func writeIndex(t testing.TB, dir, index string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, IndexName), []byte(index), 0o644))
}

// What Playlist renders, ReadIndex reads back: durations in whole milliseconds, starts summed.
func TestReadIndexRoundTrip(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name   string
		slices []Slice
		ended  bool
	}{
		{"empty", nil, true},
		{"empty live", nil, false},
		{"live", []Slice{{Seq: 0, Duration: 4 * time.Second}, {Seq: 1, Duration: 4033 * ms}}, false},
		{"discontinuities from 7", []Slice{
			{Seq: 7, Duration: 3999 * ms},
			{Seq: 8, Duration: 2500*ms + 400*time.Microsecond, Discontinuity: true},
			{Seq: 9, Duration: 1},
			{Seq: 10, Duration: 4 * time.Second, Discontinuity: true},
		}, true},
		{"long", []Slice{{Seq: 123456, Duration: 23*time.Hour + 59*time.Minute}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "c")
			var uris []string
			var want []Slice
			var start time.Duration
			for _, s := range tc.slices {
				uri := strconv.Itoa(s.Seq) + ".ts"
				uris = append(uris, uri)
				d := time.Duration(millis(s.Duration)) * ms
				want = append(want, Slice{Seq: s.Seq, Path: filepath.Join(dir, uri), Duration: d, Start: start,
					Discontinuity: s.Discontinuity})
				start += d
			}
			writeIndex(t, dir, string(Playlist(tc.slices, uris, tc.ended)))
			got, ended, err := ReadIndex(dir)
			require.NoError(t, err)
			require.Equal(t, tc.ended, ended)
			require.Equal(t, want, got)
		})
	}
}

// The live index of a real recording with a pause, read after each slice as a crash would
// find it, and the final one.
func TestReadIndexWriter(t *testing.T) {
	tracks, all := loadRef(t, testutil.RefOptions{Seconds: 6, Bitrate: "400k", GOP: 30})
	var units []media.Unit
	disc := 0
	for _, u := range all {
		if u.DTS < 2*time.Second {
			units, disc = append(units, u), disc+1
		}
	}
	for _, u := range all {
		if u.DTS >= 3*time.Second {
			u.DTS, u.PTS = u.DTS-time.Second, u.PTS-time.Second
			units = append(units, u)
		}
	}
	r := record(t, time.Second, tracks, dropBackwards(units), disc)
	want := r.stats.Slices
	require.Greater(t, len(want), 3)
	var nDisc int
	check := func(index string, n int, ended bool) {
		dir := filepath.Join(t.TempDir(), "c")
		writeIndex(t, dir, index)
		got, gotEnded, err := ReadIndex(dir)
		require.NoError(t, err)
		require.Equal(t, ended, gotEnded)
		require.Len(t, got, n)
		for i, s := range got {
			w := want[i]
			require.Equal(t, w.Seq, s.Seq)
			require.Equal(t, filepath.Join(dir, filepath.Base(w.Path)), s.Path)
			require.Equal(t, w.Duration.Round(time.Millisecond), s.Duration)
			require.Equal(t, w.Discontinuity, s.Discontinuity)
			// Starts are sums of rounded durations; a pause ends its slice at its last frame's
			// estimated end, not where the next slice starts.
			require.InDelta(t, w.Start, s.Start, float64(40*time.Millisecond), "slice %d", i)
			if s.Discontinuity {
				nDisc++
			}
		}
	}
	for i, live := range r.liveSeen {
		check(live, i+1, false)
	}
	final, err := os.ReadFile(filepath.Join(r.dir, IndexName))
	require.NoError(t, err)
	check(string(final), len(want), true)
	require.Positive(t, nDisc)
}

func TestReadIndexLenient(t *testing.T) {
	dir := t.TempDir()
	writeIndex(t, dir, "#EXTM3U\r\n# a comment\r\n#EXT-X-INDEPENDENT-SEGMENTS\r\n#EXT-X-MEDIA-SEQUENCE:40\r\n"+
		"\r\n#EXTINF:2,title\r\nfirst.ts\r\n#EXTINF:1.5,\r\n41.ts\r\n#EXTINF:0.25\r\nlast\r\n")
	got, ended, err := ReadIndex(dir)
	require.NoError(t, err)
	require.False(t, ended)
	require.Equal(t, []Slice{
		{Seq: 40, Path: filepath.Join(dir, "first.ts"), Duration: 2 * time.Second},
		{Seq: 41, Path: filepath.Join(dir, "41.ts"), Duration: 1500 * time.Millisecond, Start: 2 * time.Second},
		{Seq: 42, Path: filepath.Join(dir, "last"), Duration: 250 * time.Millisecond, Start: 3500 * time.Millisecond},
	}, got)

	got, ended, err = ReadIndex(filepath.Join(dir, "missing"))
	require.NoError(t, err)
	require.False(t, ended)
	require.Nil(t, got)
}

func TestReadIndexRefuses(t *testing.T) {
	head := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n"
	many := strings.Repeat("#EXTINF:1.000,\n0.ts\n", maxIndexSlices+1)
	for _, tc := range []struct{ name, index, err string }{
		{"empty", "", "no #EXTM3U"},
		{"no header", "#EXTINF:1,\n0.ts\n", "not #EXTM3U"},
		{"bad duration", head + "#EXTINF:four,\n0.ts\n", "bad EXTINF duration"},
		{"negative duration", head + "#EXTINF:-1.000,\n0.ts\n", "bad EXTINF duration"},
		{"exponent", head + "#EXTINF:1e3,\n0.ts\n", "bad EXTINF duration"},
		{"too precise", head + "#EXTINF:1.0000000001,\n0.ts\n", "bad EXTINF duration"},
		{"too long", head + "#EXTINF:86400.001,\n0.ts\n", "longer than"},
		{"URI without EXTINF", head + "0.ts\n", "URI without EXTINF"},
		{"two EXTINF", head + "#EXTINF:1,\n#EXTINF:1,\n0.ts\n", "second EXTINF"},
		{"EXTINF last", head + "#EXTINF:1,\n", "ends before"},
		{"discontinuity last", head + "#EXTINF:1,\n0.ts\n#EXT-X-DISCONTINUITY\n", "ends before"},
		{"subdirectory", head + "#EXTINF:1,\na/0.ts\n", "not a file name"},
		{"parent", head + "#EXTINF:1,\n..\n", "not a file name"},
		{"backslash", head + "#EXTINF:1,\n..\\x.ts\n", "not a file name"},
		{"after ENDLIST", head + "#EXT-X-ENDLIST\n#EXTINF:1,\n0.ts\n", "after #EXT-X-ENDLIST"},
		{"late media sequence", head + "#EXTINF:1,\n0.ts\n#EXT-X-MEDIA-SEQUENCE:1\n", "media sequence"},
		{"bad media sequence", "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:-1\n", "media sequence"},
		{"bad version", "#EXTM3U\n#EXT-X-VERSION:x\n", "not a number"},
		{"bad type", "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:LIVE\n", "playlist type"},
		{"too many slices", head + many, "more than"},
		{"too large", head + strings.Repeat("#", maxIndexSize), "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeIndex(t, dir, tc.index)
			_, _, err := ReadIndex(dir)
			require.ErrorContains(t, err, tc.err)
			require.ErrorContains(t, err, IndexName)
		})
	}
}

// FuzzReadIndex: no panic, bounded output, paths inside the directory, starts summed, and what
// it reads renders (Playlist) into an index that reads back to the same rendering.
func FuzzReadIndex(f *testing.F) {
	f.Add(string(Playlist([]Slice{{Seq: 3, Duration: time.Second}, {Seq: 4, Duration: 2 * time.Second,
		Discontinuity: true}}, nil, true)))
	f.Add("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:9\n#EXTINF:1.5,x\na\n#EXT-X-DISCONTINUITY\n#EXTINF:0.0001,\n7.ts\n")
	f.Add("#EXTM3U\r\n#EXTINF:86400,\r\n00.ts\r\n#EXT-X-ENDLIST\r\n")
	f.Fuzz(func(t *testing.T, index string) {
		dir := t.TempDir()
		writeIndex(t, dir, index)
		slices, ended, err := ReadIndex(dir)
		if err != nil {
			return
		}
		require.LessOrEqual(t, len(slices), maxIndexSlices)
		var start time.Duration
		for _, s := range slices {
			require.Equal(t, dir, filepath.Dir(s.Path))
			require.GreaterOrEqual(t, s.Seq, 0)
			require.GreaterOrEqual(t, s.Duration, time.Duration(0))
			require.LessOrEqual(t, s.Duration, maxSliceDuration)
			require.Equal(t, start, s.Start)
			start += s.Duration
		}
		once := Playlist(slices, nil, ended)
		writeIndex(t, dir, string(once))
		again, ended2, err := ReadIndex(dir)
		require.NoError(t, err, "%s", once)
		require.Equal(t, ended, ended2)
		require.True(t, bytes.Equal(once, Playlist(again, nil, ended2)))
	})
}

// FuzzRecoverSlice: no panic; a refused slice is left as it was; a recovered one is a prefix of
// whole packets holding a frame, and recovering it again keeps it, or drops one last video PES
// that only the next PES proved whole.
func FuzzRecoverSlice(f *testing.F) {
	tracks := testTracks(f)
	for _, in := range [][]byte{
		{0, 0, 180, 2, 0, 170, 1, 0, 183, 2, 0, 1, 1, 0, 184, 2, 0, 166},
		{3, 0x4e, 0x20, 5, 0, 10, 4, 0xff, 0xff, 2, 0, 0},
	} {
		w := &Writer{}
		require.NoError(f, w.setTracks(tracks))
		w.ts.writeTables()
		for _, u := range script(tracks, in) {
			if u.Track.IsVideo() {
				require.NoError(f, w.writeVideo(&u))
			} else {
				w.writeAudio(&u)
			}
		}
		ts := w.ts.out
		for _, n := range []int{len(ts), len(ts) - 1, len(ts) - tsPacketSize, len(ts) / 2, 3 * tsPacketSize, 100} {
			f.Add(ts[:n])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "0.ts")
		require.NoError(t, os.WriteFile(path, data, 0o644))
		s, err := RecoverSlice(path, 0, 0)
		got, rerr := os.ReadFile(path)
		require.NoError(t, rerr)
		if err != nil {
			require.True(t, bytes.Equal(data, got))
			return
		}
		require.EqualValues(t, len(got), s.Bytes)
		require.Zero(t, len(got)%tsPacketSize)
		require.True(t, bytes.Equal(data[:len(got)], got))
		require.Positive(t, s.VideoFrames+s.AudioFrames)
		require.GreaterOrEqual(t, s.Duration, time.Duration(0))

		again, err := RecoverSlice(path, 0, 0)
		if err != nil {
			require.ErrorIs(t, err, ErrNothingToRecover)
			require.EqualValues(t, 1, s.VideoFrames)
			require.Zero(t, s.AudioFrames)
			return
		}
		if again.VideoFrames == s.VideoFrames-1 {
			require.Equal(t, s.AudioFrames, again.AudioFrames)
			require.Less(t, again.Bytes, s.Bytes)
			return
		}
		require.Equal(t, s, again)
	})
}
