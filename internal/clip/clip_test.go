package clip

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/testutil"
)

// frame is one frame at the test stream's 25 fps.
const frame = 40 * time.Millisecond

// checkClip probes a clip: one clean MP4 with moov before mdat, holding exactly the frames
// from the last keyframe at or before from to the first one at or after to.
func checkClip(t *testing.T, path string, st Stats, units []srcUnit, from, to time.Time) {
	t.Helper()
	boxes := topBoxes(t, path)
	require.Equal(t, []string{"ftyp", "moov", "mdat"}, boxes)
	c := countFrames(t, path)
	require.Empty(t, c.stderr, "ffprobe reports errors")
	require.Contains(t, c.format, "mp4")
	wantV, wantA, start, end := expectRange(units, from, to)
	require.Equal(t, wantV, c.video)
	require.EqualValues(t, wantV, st.VideoFrames)
	require.InDelta(t, wantA, c.audio, 1)
	require.EqualValues(t, c.audio, st.AudioFrames)
	require.Equal(t, 320, c.width)
	require.Equal(t, 240, c.height)
	require.Equal(t, 320, st.Width)
	require.Equal(t, 240, st.Height)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, fi.Size(), st.Bytes)

	// Within one GOP (2 s) at each end, and never short of the range.
	require.Equal(t, start, st.FirstAt)
	if from.After(units[0].wall) {
		require.False(t, st.FirstAt.After(from))
		require.Less(t, from.Sub(st.FirstAt), 2*time.Second)
	}
	mediaEnd := units[len(units)-1].wall
	if to.Before(mediaEnd) {
		require.False(t, st.LastAt.Add(frame).Before(to.Add(-frame)), "clip ends at %v, before %v", st.LastAt, to)
	} else {
		require.Equal(t, mediaEnd, st.LastAt, "a range past the end gets everything")
	}
	if !end.IsZero() {
		require.Less(t, st.LastAt, end)
		require.Less(t, st.LastAt.Sub(to), 2*time.Second)
	}
	require.InDelta(t, float64(wantV)*frame.Seconds(), st.Duration.Seconds(), 0.1)
	require.InDelta(t, st.Duration.Seconds(), c.duration, 0.1)
}

func TestClipRange(t *testing.T) {
	root := t.TempDir()
	tracks, units := refUnits(t, 40)
	r := record(t, root, "rec1", wall0, tracks, units, 0)
	at := func(s float64) time.Time { return wall0.Add(sec(s)) }
	cases := []struct {
		name     string
		from, to float64
	}{
		{"seconds 5-25", 5, 25},
		{"on keyframes", 10.023, 30.023},
		{"off grid", 7.9, 13.31},
		{"shorter than a GOP", 20.5, 20.7},
		{"from the start", -3, 4},
		{"to the end", 33, 60},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			from, to := at(c.from), at(c.to)
			sel := Select(r.slices, from, to, false)
			require.NotEmpty(t, sel)
			open := &dirOpener{root: root}
			dst := filepath.Join(t.TempDir(), "clip.mp4")
			st, err := Clip(context.Background(), open, sel, from, to, dst)
			require.NoError(t, err)
			checkClip(t, dst, st, r.units, from, to)
			require.LessOrEqual(t, open.opens(), len(sel))
			left, err := filepath.Glob(filepath.Join(filepath.Dir(dst), ".*"))
			require.NoError(t, err)
			require.Empty(t, left, "temporary files left behind")
		})
	}
}

func TestClipAcrossBreaks(t *testing.T) {
	root := t.TempDir()
	tracks, units := refUnits(t, 20)
	// rec1: 20 s; rec2 starts 30 s after rec1 ends, its timestamps from zero again; rec1 has
	// a pause at 10 s (timestamps continue, 4 s of wall time pass).
	disc := 0
	for i, u := range units {
		if u.Track.IsVideo() && u.Keyframe && u.DTS >= 10*time.Second {
			disc = i
			break
		}
	}
	r1 := record(t, root, "rec1", wall0, tracks, units, disc)
	for i := range r1.units {
		if r1.units[i].wall.Sub(wall0) >= 10*time.Second {
			r1.units[i].wall = r1.units[i].wall.Add(4 * time.Second)
		}
	}
	for i := range r1.slices {
		if r1.slices[i].Discontinuity || i > 0 && r1.slices[i-1].StartedAt.Sub(wall0) >= 10*time.Second {
			r1.slices[i].StartedAt = r1.slices[i].StartedAt.Add(4 * time.Second)
		}
	}
	start2 := r1.slices[len(r1.slices)-1].End().Add(30 * time.Second)
	r2 := record(t, root, "rec2", start2, tracks, units, 0)
	all := append(append([]recording.Slice{}, r1.slices...), r2.slices...)
	srcUnits := append(append([]srcUnit{}, r1.units...), r2.units...)

	from, to := wall0.Add(5*time.Second), start2.Add(7*time.Second)
	sel := Select(all, from, to, false)
	dst := filepath.Join(t.TempDir(), "clip.mp4")
	st, err := Clip(context.Background(), &dirOpener{root: root}, sel, from, to, dst)
	require.NoError(t, err)
	checkClip(t, dst, st, srcUnits, from, to)

	// The gaps are compressed: the video timeline runs on with no hole (and never back).
	times := testutil.FrameTimes(t, dst, "v")
	require.Len(t, times, int(st.VideoFrames))
	for i := 1; i < len(times); i++ {
		step := times[i] - times[i-1]
		require.Greater(t, step, 0.0, "frame %d", i)
		require.Less(t, step, 2.5*frame.Seconds(), "hole before frame %d", i)
	}
}

func TestClipCorruptSlice(t *testing.T) {
	root := t.TempDir()
	tracks, units := refUnits(t, 10)
	r := record(t, root, "rec1", wall0, tracks, units, 0)
	from, to := wall0.Add(time.Second), wall0.Add(9*time.Second)
	victim := r.slices[2]
	path := filepath.Join(root, filepath.FromSlash(victim.ObjectKey))
	orig, err := os.ReadFile(path)
	require.NoError(t, err)
	cases := []struct {
		name   string
		damage func(b []byte) []byte
		bytes  int64 // Slice.Bytes to claim; 0 keeps the real one
		want   string
	}{
		{"garbage", func(b []byte) []byte {
			for i := range b {
				b[i] = byte(i * 7)
			}
			return b
		}, 0, ""},
		{"empty", func([]byte) []byte { return nil }, -1, ""},
		{"sync bytes lost", func(b []byte) []byte {
			for p := 188 * 20; p < len(b); p += 188 * 3 {
				b[p] = 0
			}
			return b
		}, 0, "decode"},
		{"cut inside a packet", func(b []byte) []byte { return b[:len(b)/2+100] }, -1, ""},
		{"cut on a packet boundary", func(b []byte) []byte { return b[:188*(len(b)/188/2)] }, 0, "bytes of a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.damage(append([]byte(nil), orig...))
			require.NoError(t, os.WriteFile(path, b, 0o644))
			sel := Select(r.slices, from, to, false)
			if c.bytes < 0 {
				for i := range sel {
					if sel[i].ObjectKey == victim.ObjectKey {
						sel[i].Bytes = 0
					}
				}
			}
			dst := filepath.Join(t.TempDir(), "clip.mp4")
			_, err := Clip(context.Background(), &dirOpener{root: root}, sel, from, to, dst)
			require.ErrorContains(t, err, "slice "+victim.ObjectKey+":")
			require.ErrorContains(t, err, c.want)
			_, serr := os.Stat(dst)
			require.ErrorIs(t, serr, os.ErrNotExist)
			left, gerr := filepath.Glob(filepath.Join(filepath.Dir(dst), "*"))
			require.NoError(t, gerr)
			require.Empty(t, left, "temporary files left behind")
		})
	}
	require.NoError(t, os.WriteFile(path, orig, 0o644))
}

// failOpener fails to open one slice.
type failOpener struct {
	dirOpener
	key string
}

func (o *failOpener) Open(ctx context.Context, s recording.Slice) (io.ReadCloser, error) {
	if s.ObjectKey == o.key {
		return nil, errors.New("no such object")
	}
	return o.dirOpener.Open(ctx, s)
}

func TestClipRefuses(t *testing.T) {
	root := t.TempDir()
	tracks, units := refUnits(t, 10)
	r := record(t, root, "rec1", wall0, tracks, units, 0)
	from, to := wall0.Add(time.Second), wall0.Add(9*time.Second)
	sel := Select(r.slices, from, to, false)
	open := &dirOpener{root: root}
	dst := func() string { return filepath.Join(t.TempDir(), "clip.mp4") }
	ctx := context.Background()

	_, err := (&Clipper{MaxSlices: 2}).Clip(ctx, open, sel, from, to, dst())
	require.ErrorContains(t, err, "exceed the limit of 2")
	_, err = (&Clipper{MaxSliceBytes: 64 << 10}).Clip(ctx, open, sel, from, to, dst())
	require.ErrorIs(t, err, ErrSliceTooLarge)
	require.ErrorContains(t, err, sel[0].ObjectKey)
	_, err = Clip(ctx, open, sel, to, from, dst())
	require.ErrorContains(t, err, "empty range")
	_, err = Clip(ctx, open, nil, from, to, dst())
	require.ErrorIs(t, err, ErrNoSlices)
	_, err = Clip(ctx, nil, sel, from, to, dst())
	require.ErrorContains(t, err, "no opener")
	_, err = Clip(ctx, &failOpener{dirOpener: dirOpener{root: root}, key: sel[1].ObjectKey}, sel, from, to, dst())
	require.ErrorContains(t, err, "open slice "+sel[1].ObjectKey+": no such object")
	_, err = Clip(ctx, open, sel, wall0.Add(time.Hour), wall0.Add(2*time.Hour), dst())
	require.ErrorIs(t, err, ErrNoMedia)
	_, err = Clip(ctx, open, sel, wall0.Add(-time.Hour), wall0.Add(-time.Minute), dst())
	require.ErrorIs(t, err, ErrNoMedia)
	_, err = Clip(ctx, open, sel, from, to, filepath.Join(t.TempDir(), "missing", "clip.mp4"))
	require.ErrorContains(t, err, "spool file")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = Clip(cctx, open, sel, from, to, dst())
	require.ErrorIs(t, err, context.Canceled)

	// Another recording with other video parameters cannot share the MP4.
	tracks2, units2 := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), testutil.RefOptions{
		Seconds: 4, Width: 160, Height: 120, FPS: 25, GOP: 50, Bitrate: "100k",
	}))
	r2 := record(t, root, "rec2", r.slices[len(r.slices)-1].End().Add(time.Minute), tracks2, units2, 0)
	both := append(append([]recording.Slice{}, r.slices...), r2.slices...)
	_, err = Clip(ctx, open, both, from, r2.slices[1].End(), dst())
	require.ErrorIs(t, err, ErrTracksChanged)
	require.ErrorContains(t, err, r2.slices[0].ObjectKey)
	// A range that starts in the gap before it is the other recording's alone.
	from2 := r.slices[len(r.slices)-1].End().Add(10 * time.Second)
	d := dst()
	st, err := Clip(ctx, open, both, from2, r2.slices[1].End(), d)
	require.NoError(t, err)
	require.Equal(t, 160, st.Width)
	require.WithinDuration(t, r2.slices[0].StartedAt, st.FirstAt, 50*time.Millisecond) // its first keyframe
	require.Empty(t, countFrames(t, d).stderr)
}

// FuzzDemuxSlice feeds arbitrary bytes as a slice: an error or units, never a panic.
func FuzzDemuxSlice(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x47, 0x40, 0x00, 0x10, 0x00})
	pkt := make([]byte, 188*4)
	for i := 0; i < len(pkt); i += 188 {
		pkt[i] = 0x47
	}
	f.Add(pkt)
	f.Fuzz(func(t *testing.T, b []byte) {
		var uw unwrapper
		m, err := demuxSlice(&limitReader{r: bytesReader(b), left: 1 << 20}, &uw)
		if err != nil {
			require.Nil(t, m)
			return
		}
		require.NotEmpty(t, m.units)
	})
}

func bytesReader(b []byte) io.Reader { return &sliceReader{b: b} }

type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func TestClipCodecs(t *testing.T) {
	video := func(t *testing.T, tracks media.Tracks, units []media.Unit, codec string, audio bool) {
		root := t.TempDir()
		r := record(t, root, "rec1", wall0, tracks, units, 0)
		from, to := wall0.Add(3*time.Second), wall0.Add(7500*time.Millisecond)
		dst := filepath.Join(t.TempDir(), "clip.mp4")
		st, err := Clip(context.Background(), &dirOpener{root: root}, Select(r.slices, from, to, false), from, to, dst)
		require.NoError(t, err)
		checkClip(t, dst, st, r.units, from, to)
		p := testutil.Probe(t, dst)
		require.Equal(t, codec, p.Video().CodecName)
		require.Equal(t, audio, p.Audio() != nil)
		require.True(t, testutil.KeyframeFirst(t, dst))
	}
	t.Run("h264 with b-frames", func(t *testing.T) {
		tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), testutil.RefOptions{
			Seconds: 10, Width: 320, Height: 240, FPS: 25, GOP: 50, Bitrate: "300k", BFrames: 2,
		}))
		reordered := false
		for _, u := range units {
			reordered = reordered || u.PTS != u.DTS
		}
		require.True(t, reordered, "the reference stream has no B-frames")
		video(t, tracks, units, "h264", true)
	})
	t.Run("h265 video only", func(t *testing.T) {
		p := testutil.RefStream(t, t.TempDir(), testutil.RefOptions{
			Seconds: 10, Width: 320, Height: 240, FPS: 25, GOP: 50, Bitrate: "300k",
			Codec: "libx265", Container: "hevc", NoAudio: true,
		})
		tracks, units := testutil.LoadAnnexB(t, p, media.CodecH265, 25)
		video(t, tracks, units, "hevc", false)
	})
	t.Run("audio only", func(t *testing.T) {
		root := t.TempDir()
		tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), testutil.RefOptions{
			Seconds: 10, NoVideo: true,
		}))
		r := record(t, root, "rec1", wall0, tracks, units, 0)
		from, to := wall0.Add(2500*time.Millisecond), wall0.Add(6*time.Second)
		dst := filepath.Join(t.TempDir(), "clip.mp4")
		st, err := Clip(context.Background(), &dirOpener{root: root}, Select(r.slices, from, to, false), from, to, dst)
		require.NoError(t, err)
		require.Equal(t, []string{"ftyp", "moov", "mdat"}, topBoxes(t, dst))
		c := countFrames(t, dst)
		require.Empty(t, c.stderr)
		require.Zero(t, c.video)
		require.EqualValues(t, st.AudioFrames, c.audio)
		// An AAC frame at 44.1 kHz lasts 23.2 ms: every frame is a cut point.
		aac := 1024 * time.Second / 44100
		require.InDelta(t, float64(to.Sub(from)/aac), float64(st.AudioFrames), 2)
		require.InDelta(t, to.Sub(from).Seconds(), st.Duration.Seconds(), 0.05)
		require.False(t, st.FirstAt.After(from))
		require.Less(t, from.Sub(st.FirstAt), aac)
		require.Zero(t, st.Width)
	})
}
