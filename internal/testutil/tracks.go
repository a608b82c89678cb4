package testutil

import (
	"encoding/binary"
	"encoding/hex"
	"testing"
	"time"

	"github.com/liverec/liverec/internal/media"
)

// Parameter sets of the reference streams (ffmpeg 5.1, x264 ultrafast and x265 ultrafast,
// 1280x720) and its AAC config, for tests that need valid tracks without running ffmpeg.
const (
	refH264SPS = "6742c01fda014016ec0440000003004000000f03c60ca8"
	refH264PPS = "68ce3c80"
	refH265VPS = "40010c01ffff01600000030090000003000003005dba0240"
	refH265SPS = "42010101600000030090000003000003005da00280802d165ba4a4c2f0168080000003008000000f04"
	refH265PPS = "4401c073c189"
	refAAC     = "1208"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RefTracks returns an H.264 or H.265 video track and the AAC track of the reference stream,
// without running ffmpeg.
func RefTracks(t testing.TB, codec media.Codec) media.Tracks {
	t.Helper()
	var (
		v   *media.Track
		err error
	)
	if codec == media.CodecH265 {
		v, err = media.NewH265Track(unhex(t, refH265VPS), unhex(t, refH265SPS), unhex(t, refH265PPS))
	} else {
		v, err = media.NewH264Track(unhex(t, refH264SPS), unhex(t, refH264PPS))
	}
	if err != nil {
		t.Fatal(err)
	}
	a, err := media.ParseAACConfig(unhex(t, refAAC))
	if err != nil {
		t.Fatal(err)
	}
	return media.Tracks{Video: v, Audio: a}
}

// FakeAU returns an AVCC access unit of one slice NAL unit of n bytes in total: an IDR slice
// when key is set, else a non-IDR one.
func FakeAU(codec media.Codec, key bool, n int) []byte {
	au := make([]byte, n)
	binary.BigEndian.PutUint32(au, uint32(n-4))
	switch {
	case codec == media.CodecH265 && key:
		au[4], au[5] = 19<<1, 1 // IDR_W_RADL
	case codec == media.CodecH265:
		au[4], au[5] = 1<<1, 1 // TRAIL_R
	case key:
		au[4] = 0x65 // IDR
	default:
		au[4] = 0x41 // non-IDR
	}
	for i := 6; i < n; i++ {
		au[i] = byte(i)
	}
	return au
}

// SmallStream returns four frames of each track of a codec's reference tracks, video with
// B-frame-like composition offsets: a short stream for seeds and round trips.
func SmallStream(t testing.TB, codec media.Codec) (media.Tracks, []media.Unit) {
	t.Helper()
	tracks := RefTracks(t, codec)
	var units []media.Unit
	for i := range 4 {
		dts := time.Duration(i) * 33 * time.Millisecond
		units = append(units,
			media.Unit{Track: tracks.Video, DTS: dts, PTS: dts + time.Duration(i%2)*66*time.Millisecond,
				Keyframe: i == 0, Data: FakeAU(codec, i == 0, 12+i)},
			media.Unit{Track: tracks.Audio, DTS: dts, PTS: dts, Keyframe: true, Data: []byte{0x21, byte(i)}})
	}
	return tracks, units
}
