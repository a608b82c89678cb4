package hls

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/testutil"
)

// recorded is what one Writer run produced.
type recorded struct {
	dir      string
	stats    Stats
	onSlice  []Slice
	liveSeen []string // index.m3u8 as OnSlice saw it
}

// record writes units (DTS relative to the first one) in one cycle. discAt, when > 0, calls
// Discontinuity before the unit with that index.
func record(t *testing.T, slice time.Duration, tracks media.Tracks, units []media.Unit, discAt int) recorded {
	t.Helper()
	r := recorded{dir: filepath.Join(t.TempDir(), "cycle")}
	w, err := NewWriter(Config{Dir: r.dir, SliceDuration: slice, OnSlice: func(s Slice) {
		fi, err := os.Stat(s.Path)
		require.NoError(t, err)
		require.Equal(t, s.Bytes, fi.Size(), "OnSlice before the file is complete")
		live, err := os.ReadFile(filepath.Join(r.dir, IndexName))
		require.NoError(t, err)
		r.onSlice = append(r.onSlice, s)
		r.liveSeen = append(r.liveSeen, string(live))
	}}, tracks)
	require.NoError(t, err)
	for i := range units {
		if i == discAt && discAt > 0 {
			w.Discontinuity(tracks)
		}
		require.NoError(t, w.WriteUnit(&units[i]), "unit %d", i)
		if i%50 == 0 {
			require.NoError(t, w.Flush())
		}
	}
	r.stats, err = w.Close()
	require.NoError(t, err)
	require.Equal(t, r.onSlice, r.stats.Slices)
	return r
}

// checkFiles probes every slice and the playlist: clean, expected codecs, exact packet counts,
// keyframe first, audio and video of equal length.
func checkFiles(t *testing.T, r recorded, tracks media.Tracks, units []media.Unit) {
	t.Helper()
	wantV, wantA := testutil.CountUnits(units)
	var sumV, sumA int
	for _, s := range r.stats.Slices {
		p := testutil.Probe(t, s.Path)
		require.Empty(t, p.Stderr, s.Path)
		require.Equal(t, "mpegts", p.Format.FormatName)
		checkStreams(t, s.Path, p, tracks)
		if v := p.Video(); v != nil {
			require.True(t, testutil.KeyframeFirst(t, s.Path), "%s does not start with a keyframe", s.Path)
			require.EqualValues(t, s.VideoFrames, v.Packets(), s.Path)
			sumV += v.Packets()
		}
		if a := p.Audio(); a != nil {
			require.EqualValues(t, s.AudioFrames, a.Packets(), s.Path)
			sumA += a.Packets()
		}
		if p.Video() != nil && p.Audio() != nil {
			require.InDelta(t, p.Video().DurationSec(), p.Audio().DurationSec(), 0.1, s.Path)
		}
	}
	require.Equal(t, wantV, sumV)
	require.Equal(t, wantA, sumA)
	require.EqualValues(t, wantV, r.stats.VideoFrames)
	require.EqualValues(t, wantA, r.stats.AudioFrames)

	index := filepath.Join(r.dir, IndexName)
	p := testutil.Probe(t, index)
	require.Empty(t, p.Stderr)
	require.Equal(t, "hls", p.Format.FormatName)
	checkStreams(t, index, p, tracks)
	if wantV > 0 {
		require.Equal(t, wantV, p.Video().Packets())
	}
	if wantA > 0 {
		require.Equal(t, wantA, p.Audio().Packets())
	}
	dur, err := time.ParseDuration(p.Format.Duration + "s")
	require.NoError(t, err)
	require.InDelta(t, r.stats.Duration.Seconds(), dur.Seconds(), 0.1)
}

func checkStreams(t *testing.T, path string, p *testutil.ProbeResult, tracks media.Tracks) {
	t.Helper()
	if tracks.Video != nil {
		v := p.Video()
		require.NotNil(t, v, path)
		name := map[media.Codec]string{media.CodecH264: "h264", media.CodecH265: "hevc"}[tracks.Video.Codec]
		require.Equal(t, name, v.CodecName, path)
		require.Equal(t, tracks.Video.Width, v.Width, path)
		require.Equal(t, tracks.Video.Height, v.Height, path)
	} else {
		require.Nil(t, p.Video(), path)
	}
	if tracks.Audio != nil {
		require.NotNil(t, p.Audio(), path)
		require.Equal(t, "aac", p.Audio().CodecName, path)
	} else {
		require.Nil(t, p.Audio(), path)
	}
}

func loadRef(t *testing.T, o testutil.RefOptions) (media.Tracks, []media.Unit) {
	t.Helper()
	tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), o))
	require.NotEmpty(t, units)
	require.Zero(t, units[0].DTS)
	return tracks, units
}

func TestH264AAC(t *testing.T) {
	tracks, units := loadRef(t, testutil.RefOptions{Seconds: 10})
	r := record(t, 4*time.Second, tracks, units, 0)
	checkFiles(t, r, tracks, units)

	// Expected cuts: the first keyframes at or after 4 s and 8 s of slice time (the reference
	// FLV's video starts 23 ms after its audio). The last slice ends with its last frame.
	var cuts []time.Duration
	var lastV, stepV, lastA time.Duration
	for _, u := range units {
		if u.Track.IsVideo() {
			if u.Keyframe && u.DTS-append([]time.Duration{0}, cuts...)[len(cuts)] >= 4*time.Second {
				cuts = append(cuts, u.DTS)
			}
			lastV, stepV = u.DTS, u.DTS-lastV
		} else {
			lastA = u.DTS
		}
	}
	require.Len(t, cuts, 2)
	end := max(lastV+stepV, lastA+time.Second*1024/44100)
	s := r.stats.Slices
	require.Len(t, s, 3)
	require.Equal(t, []time.Duration{0, cuts[0], cuts[1]}, []time.Duration{s[0].Start, s[1].Start, s[2].Start})
	require.Equal(t, []time.Duration{cuts[0], cuts[1] - cuts[0], end - cuts[1]},
		[]time.Duration{s[0].Duration, s[1].Duration, s[2].Duration})
	require.EqualValues(t, []int64{120, 120, 60}, []int64{s[0].VideoFrames, s[1].VideoFrames, s[2].VideoFrames})
	require.Equal(t, end, r.stats.Duration)

	golden := fmt.Sprintf(`#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:%d
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXTINF:%.3f,
0.ts
#EXTINF:%.3f,
1.ts
#EXTINF:%.3f,
2.ts
#EXT-X-ENDLIST
`, int(math.Ceil(s[0].Duration.Round(time.Millisecond).Seconds())),
		s[0].Duration.Seconds(), s[1].Duration.Seconds(), s[2].Duration.Seconds())
	t.Logf("playlist:\n%s", golden)
	index, err := os.ReadFile(filepath.Join(r.dir, IndexName))
	require.NoError(t, err)
	require.Equal(t, golden, string(index))
	_, err = os.Stat(filepath.Join(r.dir, IndexName+".tmp"))
	require.ErrorIs(t, err, os.ErrNotExist)

	// While recording, the live playlist lists each completed slice, without ENDLIST.
	require.Len(t, r.liveSeen, 3)
	require.Equal(t, string(Playlist(s[:1], []string{"0.ts"}, false)), r.liveSeen[0])
	require.Contains(t, r.liveSeen[0], "#EXT-X-PLAYLIST-TYPE:EVENT\n")
	require.Contains(t, r.liveSeen[1], "1.ts\n")
	require.NotContains(t, r.liveSeen[2], "ENDLIST")
}

func TestAudioOnly(t *testing.T) {
	tracks, units := loadRef(t, testutil.RefOptions{Seconds: 10, NoVideo: true})
	require.Nil(t, tracks.Video)
	r := record(t, 4*time.Second, tracks, units, 0)
	checkFiles(t, r, tracks, units)
	s := r.stats.Slices
	require.Len(t, s, 3)
	frame := time.Second * 1024 / 44100
	for _, sl := range s[:2] {
		// Cut at the first audio frame at or after 4 s (FLV timestamps are whole ms).
		require.GreaterOrEqual(t, sl.Duration, 4*time.Second)
		require.Less(t, sl.Duration, 4*time.Second+frame+time.Millisecond)
	}
	require.InDelta(t, 10, r.stats.Duration.Seconds(), 0.05)
}

func TestVideoOnly(t *testing.T) {
	tracks, units := loadRef(t, testutil.RefOptions{Seconds: 6, NoAudio: true})
	require.Nil(t, tracks.Audio)
	r := record(t, 2*time.Second, tracks, units, 0)
	checkFiles(t, r, tracks, units)
	require.Len(t, r.stats.Slices, 3)
	for _, s := range r.stats.Slices {
		require.EqualValues(t, 60, s.VideoFrames)
		require.InDelta(t, 2, s.Duration.Seconds(), 0.002) // FLV timestamps are whole ms
	}
}

func TestBFrames(t *testing.T) {
	tracks, units := loadRef(t, testutil.RefOptions{Seconds: 6, BFrames: 2})
	var reordered bool
	for _, u := range units {
		reordered = reordered || u.PTS != u.DTS
	}
	require.True(t, reordered, "the reference stream has no B-frames")
	r := record(t, 2*time.Second, tracks, units, 0)
	checkFiles(t, r, tracks, units)
	require.Len(t, r.stats.Slices, 3)
}

func TestH265(t *testing.T) {
	p := testutil.RefStream(t, t.TempDir(), testutil.RefOptions{Codec: "libx265", Container: "hevc", NoAudio: true, Seconds: 4})
	tracks, units := testutil.LoadAnnexB(t, p, media.CodecH265, 30)
	require.Len(t, units, 120)
	require.True(t, units[0].Keyframe)
	r := record(t, 2*time.Second, tracks, units, 0)
	checkFiles(t, r, tracks, units)
	require.Len(t, r.stats.Slices, 2)
}

func TestDiscontinuity(t *testing.T) {
	tracks, all := loadRef(t, testutil.RefOptions{Seconds: 8})
	// 3 s, a pause, then 3 s from the keyframe at 4 s with timestamps continuing at 3 s.
	var units []media.Unit
	disc := 0
	for _, u := range all {
		if u.DTS < 3*time.Second {
			units = append(units, u)
		}
	}
	disc = len(units)
	for _, u := range all {
		if u.DTS >= 4*time.Second && u.DTS < 7*time.Second {
			u.DTS -= time.Second
			u.PTS -= time.Second
			units = append(units, u)
		}
	}
	var first *media.Unit
	for i := disc; i < len(units); i++ {
		if units[i].Track.IsVideo() {
			first = &units[i]
			break
		}
	}
	require.True(t, first.Keyframe)
	// Audio of the second part may start a little before 3 s: drop what would go backwards.
	r := record(t, 4*time.Second, tracks, dropBackwards(units), disc)
	checkFiles(t, r, tracks, dropBackwards(units))

	s := r.stats.Slices
	require.Len(t, s, 2)
	require.False(t, s[0].Discontinuity)
	require.True(t, s[1].Discontinuity)
	index, err := os.ReadFile(filepath.Join(r.dir, IndexName))
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(string(index), "#EXT-X-DISCONTINUITY\n"))
	require.Contains(t, string(index), "#EXT-X-DISCONTINUITY\n#EXTINF:3.0")
	require.InDelta(t, 3, s[0].Duration.Seconds(), 0.04) // the video starts 23 ms after the audio
}

// dropBackwards removes units whose DTS does not increase on their track.
func dropBackwards(units []media.Unit) []media.Unit {
	var out []media.Unit
	last := map[bool]time.Duration{false: -1, true: -1}
	for _, u := range units {
		v := u.Track.IsVideo()
		if u.DTS > last[v] {
			out = append(out, u)
			last[v] = u.DTS
		}
	}
	return out
}

func TestRefusals(t *testing.T) {
	tracks, units := loadRef(t, testutil.RefOptions{Seconds: 2})
	dir := t.TempDir()
	_, err := NewWriter(Config{Dir: dir}, tracks)
	require.Error(t, err)
	_, err = NewWriter(Config{Dir: dir, SliceDuration: time.Second}, media.Tracks{})
	require.Error(t, err)

	w, err := NewWriter(Config{Dir: dir, SliceDuration: time.Second}, media.Tracks{Video: tracks.Video})
	require.NoError(t, err)
	var v []media.Unit
	for _, u := range units {
		if u.Track.IsVideo() {
			v = append(v, u)
		}
	}
	require.ErrorIs(t, w.WriteUnit(&v[1]), ErrNotKeyframe)
	for _, u := range units {
		if !u.Track.IsVideo() {
			require.ErrorContains(t, w.WriteUnit(&u), "does not match")
			break
		}
	}
	require.NoError(t, w.WriteUnit(&v[0]))
	require.ErrorContains(t, w.WriteUnit(&v[0]), "not after")
	bad := v[1]
	bad.Data = []byte{0, 0, 0, 9, 1}
	require.ErrorIs(t, w.WriteUnit(&bad), media.ErrMalformedAU)
	require.NoError(t, w.WriteUnit(&v[1]), "a refused unit is not sticky")

	w.Discontinuity(media.Tracks{Video: tracks.Video})
	require.ErrorIs(t, w.WriteUnit(&v[2]), ErrNotKeyframe)
	st, err := w.Close()
	require.NoError(t, err)
	require.Len(t, st.Slices, 1)
	require.EqualValues(t, 2, st.VideoFrames)
	_, err = w.Close()
	require.Error(t, err)
	require.Error(t, w.WriteUnit(&v[0]))
}

func TestEmptyCycle(t *testing.T) {
	tracks, _ := loadRef(t, testutil.RefOptions{Seconds: 1})
	dir := filepath.Join(t.TempDir(), "c")
	w, err := NewWriter(Config{Dir: dir, SliceDuration: time.Second, FirstSequence: 7}, tracks)
	require.NoError(t, err)
	st, err := w.Close()
	require.NoError(t, err)
	require.Empty(t, st.Slices)
	b, err := os.ReadFile(filepath.Join(dir, IndexName))
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(string(b), "#EXT-X-ENDLIST\n"))
}

func TestPlaylist(t *testing.T) {
	s := []Slice{
		{Seq: 5, Path: "/x/5.ts", Duration: 4*time.Second + 499*time.Microsecond},
		{Seq: 6, Path: "/x/6.ts", Duration: 4*time.Second + 500*time.Microsecond, Discontinuity: true},
		{Seq: 7, Path: "/x/7.ts", Duration: 999 * time.Millisecond},
	}
	want := `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:5
#EXT-X-MEDIA-SEQUENCE:5
#EXT-X-PLAYLIST-TYPE:EVENT
#EXTINF:4.000,
a/5.ts
#EXT-X-DISCONTINUITY
#EXTINF:4.001,
a/6.ts
#EXTINF:0.999,
7.ts
`
	require.Equal(t, want, string(Playlist(s, []string{"a/5.ts", "a/6.ts"}, false)))
	ended := string(Playlist(s[:1], []string{"k"}, true))
	require.Contains(t, ended, "#EXT-X-TARGETDURATION:4\n")
	require.Contains(t, ended, "#EXT-X-PLAYLIST-TYPE:VOD\n")
	require.True(t, strings.HasSuffix(ended, "k\n#EXT-X-ENDLIST\n"))
	require.Contains(t, string(Playlist(nil, nil, true)), "#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n")
	require.Equal(t, math.MaxInt64/int64(time.Millisecond)/1000+1,
		parseTarget(t, Playlist([]Slice{{Duration: math.MaxInt64}}, nil, false)))
}

func parseTarget(t *testing.T, pl []byte) int64 {
	t.Helper()
	for _, l := range strings.Split(string(pl), "\n") {
		if v, ok := strings.CutPrefix(l, "#EXT-X-TARGETDURATION:"); ok {
			var n int64
			for _, c := range v {
				n = n*10 + int64(c-'0')
			}
			return n
		}
	}
	t.Fatal("no target duration")
	return 0
}

// TestContinues: a playlist that goes on after slices written elsewhere (another node) starts
// at the next sequence number with a discontinuity, and its later slices are not marked.
func TestContinues(t *testing.T) {
	tracks, units := loadRef(t, testutil.RefOptions{Seconds: 5})
	dir := filepath.Join(t.TempDir(), "cycle")
	w, err := NewWriter(Config{Dir: dir, SliceDuration: 2 * time.Second, FirstSequence: 7, Continues: true}, tracks)
	require.NoError(t, err)
	for i := range units {
		require.NoError(t, w.WriteUnit(&units[i]))
	}
	st, err := w.Close()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(st.Slices), 2)
	require.Equal(t, 7, st.Slices[0].Seq)
	require.True(t, st.Slices[0].Discontinuity, "the first slice follows another node's")
	for _, s := range st.Slices[1:] {
		require.False(t, s.Discontinuity)
	}
}

// TestFileModeOfSlicesAndPlaylist: the cycle's folder, its slices and its playlist get the
// configured mode (0660: the usual umask, 022, would narrow it).
func TestFileModeOfSlicesAndPlaylist(t *testing.T) {
	tracks, units := loadRef(t, testutil.RefOptions{Seconds: 3})
	dir := filepath.Join(t.TempDir(), "c")
	w, err := NewWriter(Config{Dir: dir, SliceDuration: time.Second, FileMode: 0o660}, tracks)
	require.NoError(t, err)
	for i := range units {
		require.NoError(t, w.WriteUnit(&units[i]))
	}
	st, err := w.Close()
	require.NoError(t, err)
	require.Greater(t, len(st.Slices), 1)
	perm := func(p string) os.FileMode {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		return fi.Mode().Perm()
	}
	require.Equal(t, os.FileMode(0o770), perm(dir))
	require.Equal(t, os.FileMode(0o660), perm(filepath.Join(dir, IndexName)))
	for _, s := range st.Slices {
		require.Equal(t, os.FileMode(0o660), perm(s.Path), s.Path)
	}
}
