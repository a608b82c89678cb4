package loadgen

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/liverec/liverec/internal/media/flv"
	"github.com/liverec/liverec/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// flvFile builds an FLV file from tags.
type flvFile struct{ b []byte }

func newFLV() *flvFile {
	return &flvFile{b: []byte{'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0}}
}

func (f *flvFile) tag(typ uint8, ts uint32, body []byte) *flvFile {
	n := len(body)
	f.b = append(f.b, typ, byte(n>>16), byte(n>>8), byte(n), byte(ts>>16), byte(ts>>8), byte(ts), byte(ts>>24), 0, 0, 0)
	f.b = append(f.b, body...)
	f.b = binary.BigEndian.AppendUint32(f.b, uint32(n+11))
	return f
}

func (f *flvFile) meta() *flvFile {
	return f.tag(flv.TagScript, 0, append(amfString(nil, "onMetaData"), 0x08, 0, 0, 0, 0, 0, 0, 9))
}

func (f *flvFile) vcfg(body byte) *flvFile {
	return f.tag(flv.TagVideo, 0, []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, body})
}

func (f *flvFile) acfg() *flvFile { return f.tag(flv.TagAudio, 0, []byte{0xaf, 0, 0x12, 0x10}) }

func (f *flvFile) video(ts uint32, key bool) *flvFile {
	b0 := byte(0x27)
	if key {
		b0 = 0x17
	}
	return f.tag(flv.TagVideo, ts, []byte{b0, 1, 0, 0, 0, 0, 0, 0, 2, 0x65, byte(ts)})
}

func (f *flvFile) audio(ts uint32) *flvFile {
	return f.tag(flv.TagAudio, ts, []byte{0xaf, 1, 0x21, byte(ts)})
}

func (f *flvFile) clip(t *testing.T) *Clip {
	t.Helper()
	c, err := ParseClip(bytes.NewReader(f.b))
	require.NoError(t, err)
	return c
}

// avClip is 1 s of 25 fps video (keyframe every 10 frames, the first at 40 ms after an
// inter frame and an audio frame that are skipped) with audio every 23 ms, like a real file.
func avClip(t *testing.T) *Clip {
	f := newFLV().meta().vcfg(1).acfg()
	f.audio(0).video(0, false)
	a := uint32(23)
	for i := 1; i <= 25; i++ {
		v := uint32(i * 40)
		for ; a < v; a += 23 {
			f.audio(a)
		}
		f.video(v, i%10 == 1)
	}
	f.tag(flv.TagVideo, 1000, []byte{0x17, 2, 0, 0, 0}) // end of sequence: dropped
	return f.clip(t)
}

func TestParseClip(t *testing.T) {
	c := avClip(t)
	require.Len(t, c.Headers, 3)
	require.Equal(t, []uint8{flv.TagScript, flv.TagVideo, flv.TagAudio},
		[]uint8{c.Headers[0].Type, c.Headers[1].Type, c.Headers[2].Type})
	require.True(t, bytes.HasPrefix(c.Headers[0].Data, amfString(amfString(nil, "@setDataFrame"), "onMetaData")),
		"metadata goes out as @setDataFrame")
	require.Equal(t, 3, c.Skipped, "the audio frames and the inter frame before the first keyframe are skipped")
	require.True(t, c.Body[0].Key)
	require.Equal(t, uint32(0), c.Body[0].TS, "timestamps are relative to the first keyframe")
	require.Equal(t, 25, c.VideoPerLoop)
	require.Equal(t, uint32(40), c.Step)
	last := c.Body[len(c.Body)-1]
	require.True(t, last.Video)
	require.Equal(t, uint32(1000-40), last.TS)
	require.Equal(t, last.TS+c.Step, c.Period, "the seam continues one frame step after the last timestamp")

	// A repeated or backward timestamp becomes the previous one plus 1 ms, per track.
	c = newFLV().vcfg(1).acfg().video(0, true).audio(0).video(40, false).video(40, false).video(30, false).audio(0).clip(t)
	var got []uint32
	for _, m := range c.Body {
		got = append(got, m.TS)
	}
	require.Equal(t, []uint32{0, 0, 40, 41, 42, 1}, got)
}

// TestTimelineAcrossLoops walks several loops: per track, timestamps strictly increase, and
// each loop re-sends the body from its keyframe, shifted by Period.
func TestTimelineAcrossLoops(t *testing.T) {
	for name, c := range map[string]*Clip{"av": avClip(t), "audio only": audioClip(t), "ref": refClip(t)} {
		t.Run(name, func(t *testing.T) {
			n := Pos(len(c.Body))
			lastV, lastA := int64(-1), int64(-1)
			for p := Pos(0); p < 4*n; p++ {
				m := c.Body[p%n]
				ts := c.Timestamp(p)
				if m.Video {
					require.Greater(t, ts, lastV, "video at %d", p)
					lastV = ts
				} else {
					require.Greater(t, ts, lastA, "audio at %d", p)
					lastA = ts
				}
				require.Equal(t, int64(p/n)*int64(c.Period)+int64(m.TS), ts)
			}
			for loop := Pos(1); loop < 4; loop++ {
				require.Equal(t, c.Timestamp(loop*n-1)+int64(c.Step), c.Timestamp(loop*n),
					"loop %d starts one frame step after the previous loop's last message", loop)
				if c.VideoPerLoop > 0 {
					require.True(t, c.Body[0].Key, "every loop starts with the keyframe")
				}
			}
		})
	}
}

func audioClip(t *testing.T) *Clip {
	f := newFLV().acfg()
	for a := uint32(100); a < 1100; a += 23 {
		f.audio(a)
	}
	return f.clip(t)
}

func refClip(t *testing.T) *Clip {
	fixtures := filepath.Join(os.TempDir(), "liverec-test-fixtures")
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4, Width: 640, Height: 360, Bitrate: "500k"})
	c, err := LoadFile(src)
	require.NoError(t, err)
	return c
}

// TestStopAt checks the stop point against a brute-force walk: the first keyframe due at or
// after the duration (the first message without video), every frame before it counted.
func TestStopAt(t *testing.T) {
	for name, c := range map[string]*Clip{"av": avClip(t), "audio only": audioClip(t), "ref": refClip(t)} {
		t.Run(name, func(t *testing.T) {
			n := Pos(len(c.Body))
			for _, d := range []time.Duration{time.Millisecond, 399 * time.Millisecond, 400 * time.Millisecond,
				999 * time.Millisecond, time.Second, 2500 * time.Millisecond, 4100 * time.Millisecond,
				6 * time.Second, 60 * time.Second, 60*time.Second + 1} {
				stop := c.StopAt(d)
				dms := int64((d + time.Millisecond - 1) / time.Millisecond)
				var want Pos
				var video, audio int
				for p := Pos(0); ; p++ {
					m := c.Body[p%n]
					if c.Timestamp(p) >= dms && (m.Key || c.VideoPerLoop == 0) {
						want = p
						break
					}
					if m.Video {
						video++
					} else {
						audio++
					}
				}
				require.Equal(t, want, stop, "duration %v", d)
				gv, ga := c.Frames(stop)
				require.Equal(t, video, gv, "video frames for %v", d)
				require.Equal(t, audio, ga, "audio frames for %v", d)
			}
		})
	}
	c := refClip(t)
	v, a := c.Frames(c.StopAt(6 * time.Second))
	require.Equal(t, 180, v, "the reference stream has a keyframe every 2 s: 6 s of it is 3 GOPs")
	require.Positive(t, a)
}

// TestStopAtLongGOP: keyframes further apart than maxOverrun: stop at the first message due.
func TestStopAtLongGOP(t *testing.T) {
	f := newFLV().vcfg(1)
	for i := 0; i < 600; i++ { // 24 s, one keyframe
		f.video(uint32(i*40), i == 0)
	}
	c := f.clip(t)
	stop := c.StopAt(5 * time.Second)
	require.Equal(t, Pos(125), stop)
	require.Equal(t, int64(5000), c.Timestamp(stop))
}

func TestParseClipErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"not flv":         {[]byte("hello world, not an FLV"), "bad signature"},
		"empty":           {newFLV().meta().b, "no audio or video frames"},
		"no keyframe":     {newFLV().vcfg(1).video(0, false).b, "no video keyframe"},
		"frame first":     {newFLV().video(0, true).b, "frame before the sequence header"},
		"param change":    {newFLV().vcfg(1).video(0, true).vcfg(2).video(40, true).b, "sequence header changes"},
		"unsupported":     {newFLV().tag(flv.TagAudio, 0, []byte{0x2f, 0}).b, "unsupported audio format"},
		"malformed video": {newFLV().tag(flv.TagVideo, 0, []byte{0x17}).b, "short video header"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseClip(bytes.NewReader(tc.data))
			require.ErrorContains(t, err, tc.want)
		})
	}
	// A file cut in the middle of a tag keeps its whole tags; a repeated identical sequence
	// header is fine.
	f := newFLV().vcfg(1).video(0, true).vcfg(1).video(40, false)
	c, err := ParseClip(bytes.NewReader(f.b[:len(f.b)-3]))
	require.NoError(t, err)
	require.Len(t, c.Body, 1)
}
