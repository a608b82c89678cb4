package clip

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// synth makes n back-to-back slices of d for one recording from start.
func synth(id string, start time.Time, n int, d time.Duration) []recording.Slice {
	out := make([]recording.Slice, n)
	for i := range out {
		out[i] = recording.Slice{RecordingID: id, FileSeq: 1, Seq: i, ObjectKey: id + "/" + strconv.Itoa(i) + ".ts",
			StartedAt: start.Add(time.Duration(i) * d), Duration: d}
	}
	return out
}

func TestSelect(t *testing.T) {
	a := synth("a", wall0, 5, 2*time.Second)                      // 0-10 s
	b := synth("b", wall0.Add(20*time.Second), 3, 2*time.Second)  // 20-26 s
	dup := synth("c", wall0.Add(2*time.Second), 2, 2*time.Second) // 2-6 s: a second configuration
	deleted := synth("d", wall0.Add(30*time.Second), 1, 2*time.Second)
	deleted[0].Deleted = true
	all := append(append(append(append([]recording.Slice{}, b...), a...), dup...), deleted...) // unsorted
	at := func(s float64) time.Time { return wall0.Add(sec(s)) }
	cases := []struct {
		name        string
		from, to    float64
		endIncluded bool
		want        []string
	}{
		{"inside one slice: untrimmed", 2.5, 3, false, []string{"a#1"}},
		{"exact slice bounds", 2, 4, false, []string{"a#1"}},
		{"end is exclusive", 2, 4.2, false, []string{"a#1", "a#2"}},
		{"a slice overlapping by less than the edge tolerance is left out", 1.95, 4.05, false, []string{"a#1"}},
		{"unless nothing else overlaps", 3.95, 4.05, false, []string{"a#1", "a#2"}},
		{"end included adds the next", 2, 4, true, []string{"a#1", "a#2"}},
		{"end included at the last slice", 24, 40, true, []string{"b#2"}},
		{"across recordings and a gap", 7, 21, false, []string{"a#3", "a#4", "b#0"}},
		{"end included after a gap", 7, 12, true, []string{"a#3", "a#4", "b#0"}},
		{"inside a gap", 12, 18, false, nil},
		{"before everything", -10, -5, false, nil},
		{"before everything, end included", -10, -5, true, []string{"a#0"}},
		{"after everything", 40, 50, true, nil},
		{"instant", 3, 3, false, []string{"a#1"}},
		{"instant on a boundary", 4, 4, false, []string{"a#2"}},
		{"reversed", 5, 3, false, nil},
		{"deleted left out", 29, 33, false, nil},
		{"whole range", -100, 100, false, []string{"a#0", "a#1", "a#2", "a#3", "a#4", "b#0", "b#1", "b#2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Select(all, at(c.from), at(c.to), c.endIncluded)
			require.Equal(t, c.want, keysOf(got))
		})
	}
	require.Equal(t, "b", all[0].RecordingID, "Select must not reorder its input")
}

// parsed is an index read back line by line.
type parsed struct {
	tags     map[string]string
	extinf   []time.Duration
	uris     []string
	disc     []int // positions (slice index) of EXT-X-DISCONTINUITY
	pdt      map[int]string
	endlist  bool
	lastLine string
}

func parseIndex(t *testing.T, b []byte) parsed {
	t.Helper()
	p := parsed{tags: map[string]string{}, pdt: map[int]string{}}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			require.Equal(t, "#EXTM3U", line)
			first = false
			continue
		}
		n := len(p.uris)
		switch {
		case line == "#EXT-X-ENDLIST":
			p.endlist = true
		case line == "#EXT-X-DISCONTINUITY":
			p.disc = append(p.disc, n)
		case strings.HasPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:"):
			p.pdt[n] = strings.TrimPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:")
		case strings.HasPrefix(line, "#EXTINF:"):
			v := strings.TrimSuffix(strings.TrimPrefix(line, "#EXTINF:"), ",")
			d, err := time.ParseDuration(v + "s")
			require.NoError(t, err, line)
			require.Len(t, p.extinf, n, "two EXTINF for one URI")
			p.extinf = append(p.extinf, d)
		case strings.HasPrefix(line, "#"):
			k, v, _ := strings.Cut(line, ":")
			p.tags[k] = v
		default:
			require.Len(t, p.extinf, n+1, "URI %s without EXTINF", line)
			p.uris = append(p.uris, line)
		}
		p.lastLine = line
	}
	return p
}

func TestIndexPlays(t *testing.T) {
	root := t.TempDir()
	tracks, units := refUnits(t, 40)
	r := record(t, root, "rec1", wall0, tracks, units, 0)
	require.Len(t, r.slices, 20)

	// Slices start at keyframes, 23 ms after the even seconds (audio leads): 10 of them
	// overlap [10.5 s, 30 s).
	sel := Select(r.slices, wall0.Add(10500*time.Millisecond), wall0.Add(30*time.Second), false)
	require.Len(t, sel, 10)
	indexKey := "indexes/rec1/10-30.m3u8"
	b, err := Index(sel, func(s recording.Slice) (string, error) { return RelativeURI(indexKey, s.ObjectKey) }, IndexOptions{})
	require.NoError(t, err)

	p := parseIndex(t, b)
	require.Equal(t, "3", p.tags["#EXT-X-VERSION"])
	require.Equal(t, "VOD", p.tags["#EXT-X-PLAYLIST-TYPE"])
	require.Equal(t, "0", p.tags["#EXT-X-MEDIA-SEQUENCE"])
	require.True(t, p.endlist)
	require.Equal(t, "#EXT-X-ENDLIST", p.lastLine)
	require.Empty(t, p.disc)
	require.Equal(t, map[int]string{0: sel[0].StartedAt.UTC().Format("2006-01-02T15:04:05.000Z")}, p.pdt)
	require.Len(t, p.uris, len(sel))
	var longest time.Duration
	var wantVideo, wantAudio int64
	for i, s := range sel {
		require.Equal(t, "../../"+s.ObjectKey, p.uris[i])
		require.Equal(t, s.Duration.Round(time.Millisecond), p.extinf[i])
		longest = max(longest, p.extinf[i])
		h := r.hls[s.Seq]
		wantVideo += h.VideoFrames
		wantAudio += h.AudioFrames
	}
	target, err := strconv.Atoi(p.tags["#EXT-X-TARGETDURATION"])
	require.NoError(t, err)
	require.Equal(t, int((longest+time.Second-1)/time.Second), target)

	path := filepath.Join(root, filepath.FromSlash(indexKey))
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, b, 0o644))
	c := countFrames(t, path)
	require.Empty(t, c.stderr)
	require.Equal(t, "hls", c.format)
	require.EqualValues(t, wantVideo, c.video)
	require.EqualValues(t, wantAudio, c.audio)
	require.InDelta(t, 500, c.video, 2, "20 s at 25 fps")
}

func TestIndexDiscontinuities(t *testing.T) {
	root := t.TempDir()
	tracks, units := refUnits(t, 12)
	// rec1: 6 s, a pause, 6 s more (timestamps continue, the slice is marked); rec2 starts
	// 20 s after rec1 ends, its timestamps from zero.
	disc := 0
	for i, u := range units {
		if u.Track.IsVideo() && u.Keyframe && u.DTS >= 6*time.Second {
			disc = i
			break
		}
	}
	r1 := record(t, root, "rec1", wall0, tracks, units, disc)
	// The pause lasted 5 s of wall time: the slices after it start later than their DTS says.
	for i := range r1.slices {
		if r1.slices[i].StartedAt.Sub(wall0) >= 6*time.Second {
			r1.slices[i].StartedAt = r1.slices[i].StartedAt.Add(5 * time.Second)
		}
	}
	start2 := r1.slices[len(r1.slices)-1].End().Add(20 * time.Second)
	r2 := record(t, root, "rec2", start2, tracks, units[:len(units)/2], 0)
	all := append(append([]recording.Slice{}, r1.slices...), r2.slices...)

	b, err := Index(all, func(s recording.Slice) (string, error) { return RelativeURI("index.m3u8", s.ObjectKey) }, IndexOptions{})
	require.NoError(t, err)
	p := parseIndex(t, b)
	n1 := len(r1.slices)
	pause := -1
	for i, s := range r1.slices {
		if s.Discontinuity {
			pause = i
		}
	}
	require.Positive(t, pause)
	require.Equal(t, []int{pause, n1}, p.disc, "a tag after the pause and before the next recording")
	require.Len(t, p.pdt, 3)
	for _, i := range []int{0, pause, n1} {
		require.Equal(t, all[i].StartedAt.UTC().Format("2006-01-02T15:04:05.000Z"), p.pdt[i])
	}

	path := filepath.Join(root, "index.m3u8")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	c := countFrames(t, path)
	require.Empty(t, c.stderr)
	var wantVideo int64
	for _, h := range append(append(r1.hls[:0:0], r1.hls...), r2.hls...) {
		wantVideo += h.VideoFrames
	}
	require.EqualValues(t, wantVideo, c.video)

	ev, err := Index(all[:3], func(s recording.Slice) (string, error) { return s.ObjectKey, nil }, IndexOptions{Event: true, MediaSequence: 7})
	require.NoError(t, err)
	pe := parseIndex(t, ev)
	require.Equal(t, "EVENT", pe.tags["#EXT-X-PLAYLIST-TYPE"])
	require.Equal(t, "7", pe.tags["#EXT-X-MEDIA-SEQUENCE"])
	require.False(t, pe.endlist)
}

func TestIndexRefuses(t *testing.T) {
	good := synth("a", wall0, 3, 2*time.Second)
	plain := func(s recording.Slice) (string, error) { return s.ObjectKey, nil }
	with := func(f func(s []recording.Slice)) []recording.Slice {
		s := append([]recording.Slice{}, good...)
		f(s)
		return s
	}
	cases := []struct {
		name   string
		slices []recording.Slice
		uri    func(recording.Slice) (string, error)
		opts   IndexOptions
		want   string
	}{
		{"no slices", nil, plain, IndexOptions{}, "no slices"},
		{"too many", good, plain, IndexOptions{MaxSlices: 2}, "exceeds the limit of 2"},
		{"no uri func", good, nil, IndexOptions{}, "uri function"},
		{"deleted", with(func(s []recording.Slice) { s[1].Deleted = true }), plain, IndexOptions{}, "a/1.ts was deleted"},
		{"zero duration", with(func(s []recording.Slice) { s[2].Duration = 0 }), plain, IndexOptions{}, "a/2.ts has duration 0s"},
		{"no start", with(func(s []recording.Slice) { s[0].StartedAt = time.Time{} }), plain, IndexOptions{}, "no start time"},
		{"uri error", good, func(recording.Slice) (string, error) { return "", errors.New("no signer") }, IndexOptions{}, "no signer"},
		{"uri with a newline", good, func(recording.Slice) (string, error) { return "a\n#EXT-X-ENDLIST", nil }, IndexOptions{}, "not a playlist line"},
		{"negative sequence", good, plain, IndexOptions{MediaSequence: -1}, "negative media sequence"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Index(c.slices, c.uri, c.opts)
			require.ErrorContains(t, err, c.want)
			require.Nil(t, b)
		})
	}
}

func TestRelativeURI(t *testing.T) {
	cases := []struct{ index, slice, want, err string }{
		{"live/s1/index.m3u8", "live/s1/0.ts", "0.ts", ""},
		{"indexes/a.m3u8", "record/live/s1/12.ts", "../record/live/s1/12.ts", ""},
		{"a.m3u8", "dir/a b?c#d%.ts", "dir/a%20b%3Fc%23d%25.ts", ""},
		{"x/a.m3u8", "x/c:d.ts", "./c:d.ts", ""},
		{"a.m3u8", "", "", "empty key"},
		{"/abs/a.m3u8", "rel/b.ts", "", "relative uri"},
	}
	for _, c := range cases {
		got, err := RelativeURI(c.index, c.slice)
		if c.err != "" {
			require.ErrorContains(t, err, c.err, c)
			continue
		}
		require.NoError(t, err, c)
		require.Equal(t, c.want, got, c)
	}
}

// BenchmarkIndex12h selects and indexes 12 h of 2 s slices out of a day (§ acceptance 5:
// ≤ 1 s).
func BenchmarkIndex12h(b *testing.B) {
	all := synth("rec", wall0, 2*21_600, 2*time.Second)
	from, to := wall0.Add(6*time.Hour), wall0.Add(18*time.Hour)
	uri := func(s recording.Slice) (string, error) { return RelativeURI("indexes/x.m3u8", s.ObjectKey) }
	b.ReportAllocs()
	for b.Loop() {
		sel := Select(all, from, to, false)
		if len(sel) != 21_600 {
			b.Fatalf("selected %d slices", len(sel))
		}
		if _, err := Index(sel, uri, IndexOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
