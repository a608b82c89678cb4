package media

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestToTimescale(t *testing.T) {
	cases := []struct {
		d    time.Duration
		rate int64
		want int64
	}{
		{33 * time.Millisecond, 90000, 2970},
		{34 * time.Millisecond, 90000, 3060},
		{time.Second, 44100, 44100},
		{23220 * time.Microsecond, 44100, 1024},
		{100 * 365 * 24 * time.Hour, 90000, 100 * 365 * 24 * 3600 * 90000},
	}
	for _, c := range cases {
		require.Equal(t, c.want, ToTimescale(c.d, c.rate), "%v at %d", c.d, c.rate)
		back := FromTimescale(c.want, c.rate)
		require.InDelta(t, float64(c.d), float64(back), float64(time.Second)/float64(c.rate), "round trip %v", c.d)
	}
}

func ms(v int) time.Duration { return time.Duration(v) * time.Millisecond }

func TestCleaner(t *testing.T) {
	type in struct {
		video    bool
		dts, cto int
		wall     int
	}
	cases := []struct {
		name string
		ins  []in
		want []int // output DTS in ms
	}{
		{"starts at zero", []in{{true, 5000, 0, 0}, {false, 5010, 0, 0}, {true, 5033, 0, 33}}, []int{0, 10, 33}},
		{"interleave steps back a little", []in{{true, 0, 0, 0}, {true, 100, 0, 100}, {false, 60, 0, 100}, {false, 83, 0, 100}}, []int{0, 100, 60, 83}},
		{"jump forward is closed", []in{{true, 0, 0, 0}, {true, 33, 0, 33}, {true, 3600033, 0, 66}, {true, 3600066, 0, 99}}, []int{0, 33, 66, 99}},
		{"real stall keeps its gap", []in{{true, 0, 0, 0}, {true, 10000, 0, 10000}}, []int{0, 10000}},
		{"jump back continues", []in{{true, 0, 0, 0}, {true, 5000, 0, 5000}, {true, 0, 0, 5033}, {true, 33, 0, 5066}}, []int{0, 5000, 5033, 5066}},
		{"32-bit wrap", []in{{true, 1<<32 - 40, 0, 0}, {true, 1<<32 - 7, 0, 33}, {true, 26, 0, 66}}, []int{0, 33, 66}},
		{"never decreasing per track", []in{{true, 0, 0, 0}, {true, 0, 0, 0}, {true, 0, 0, 0}}, []int{0, 1, 2}},
	}
	for _, c := range cases {
		var cl Cleaner
		var got []int
		for _, i := range c.ins {
			dts, pts := cl.Clean(i.video, ms(i.dts), ms(i.dts+i.cto), ms(i.wall))
			require.Equal(t, dts+ms(i.cto), pts, c.name)
			got = append(got, int(dts/time.Millisecond))
		}
		require.Equal(t, c.want, got, c.name)
	}
}

func avcc(nalus ...[]byte) []byte {
	var b []byte
	for _, n := range nalus {
		b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
		b = append(b, n...)
	}
	return b
}

func TestScanAVCC(t *testing.T) {
	cases := []struct {
		name  string
		codec Codec
		au    []byte
		want  AUInfo
		err   bool
	}{
		{"h264 idr", CodecH264, avcc([]byte{0x09, 0xf0}, []byte{0x67, 1}, []byte{0x68, 1}, []byte{0x65, 0x88}), AUInfo{true, true, 4}, false},
		{"h264 p", CodecH264, avcc([]byte{0x41, 0x9a}), AUInfo{false, true, 1}, false},
		{"h264 params only", CodecH264, avcc([]byte{0x67, 1}, []byte{0x68, 1}), AUInfo{false, false, 2}, false},
		{"h265 idr", CodecH265, avcc([]byte{0x40, 1}, []byte{0x26, 1, 0xaf}), AUInfo{true, true, 2}, false},
		{"h265 trail", CodecH265, avcc([]byte{0x02, 1, 0xd0}), AUInfo{false, true, 1}, false},
		{"truncated length", CodecH264, []byte{0, 0, 1}, AUInfo{}, true},
		{"length past end", CodecH264, []byte{0, 0, 0, 9, 0x65}, AUInfo{}, true},
		{"zero length", CodecH264, []byte{0, 0, 0, 0}, AUInfo{}, true},
		{"h265 short header", CodecH265, avcc([]byte{0x40}), AUInfo{}, true},
	}
	for _, c := range cases {
		got, err := ScanAVCC(c.codec, c.au)
		if c.err {
			require.ErrorIs(t, err, ErrMalformedAU, c.name)
			continue
		}
		require.NoError(t, err, c.name)
		require.Equal(t, c.want, got, c.name)
		nalus, err := SplitAVCC(nil, c.au)
		require.NoError(t, err)
		require.Len(t, nalus, c.want.NALUs)
	}
	many := make([][]byte, MaxNALUsPerAccessUnit+1)
	for i := range many {
		many[i] = []byte{0x41, 0}
	}
	_, err := ScanAVCC(CodecH264, avcc(many...))
	require.ErrorIs(t, err, ErrMalformedAU)
}

func FuzzScanAVCC(f *testing.F) {
	f.Add(avcc([]byte{0x65, 0x88}), true)
	f.Add(avcc([]byte{0x26, 1, 0xaf}), false)
	f.Add([]byte{0, 0, 0, 9, 0x65}, true)
	f.Fuzz(func(t *testing.T, au []byte, h264 bool) {
		codec := CodecH265
		if h264 {
			codec = CodecH264
		}
		info, err := ScanAVCC(codec, au)
		nalus, serr := SplitAVCC(nil, au)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformedAU)
			return
		}
		require.NoError(t, serr)
		require.Len(t, nalus, info.NALUs)
		// Within the declared limits, the NAL units tile the whole unit, and a keyframe is a
		// picture.
		require.LessOrEqual(t, len(au), MaxAccessUnitSize)
		require.LessOrEqual(t, info.NALUs, MaxNALUsPerAccessUnit)
		total := 0
		for _, n := range nalus {
			require.NotEmpty(t, n)
			total += 4 + len(n)
		}
		require.Equal(t, len(au), total)
		require.True(t, !info.Keyframe || info.HasPicture)
	})
}
