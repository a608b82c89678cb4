package rtmp

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/testutil"
)

// avcC builds an AVCDecoderConfigurationRecord with one SPS and one PPS.
func avcC(t *media.Track) []byte {
	b := []byte{1, t.SPS[1], t.SPS[2], t.SPS[3], 0xff, 0xe1}
	b = binary.BigEndian.AppendUint16(b, uint16(len(t.SPS)))
	b = append(b, t.SPS...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(t.PPS)))
	return append(b, t.PPS...)
}

func avcc(nalus ...[]byte) []byte {
	var b []byte
	for _, n := range nalus {
		b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
		b = append(b, n...)
	}
	return b
}

// TestInBandParameters: parameter sets inside access units change the track like a sequence
// header; parameter-only units are dropped; after a change video waits for a keyframe.
func TestInBandParameters(t *testing.T) {
	dir := t.TempDir()
	tA, uA := testutil.LoadFLV(t, testutil.RefStream(t, dir, testutil.RefOptions{Seconds: 1, NoAudio: true}))
	tB, uB := testutil.LoadFLV(t, testutil.RefStream(t, dir, testutil.RefOptions{Seconds: 1, NoAudio: true, Width: 640, Height: 360}))
	c := &converter{note: func(int, string, ...any) {}}
	h264 := media.CodecH264
	ms := time.Millisecond

	require.NoError(t, c.videoConfig(h264, avcC(tA.Video), 0))
	require.NoError(t, c.videoAU(h264, uA[1].Data, 0, 0, 0), "not a keyframe: dropped")
	require.Nil(t, c.batch, "a batch is taken with the round's first unit, not before")
	require.NoError(t, c.videoAU(h264, uA[0].Data, 0, 0, 0))
	require.NoError(t, c.videoConfig(h264, avcC(tA.Video), 0), "a repeated header changes nothing")
	require.NoError(t, c.videoAU(h264, uA[1].Data, 33*ms, 0, 33*ms))
	// B's parameters in band, in front of B's keyframe.
	require.NoError(t, c.videoAU(h264, append(avcc(tB.Video.SPS, tB.Video.PPS), uB[0].Data...), 66*ms, 0, 66*ms))
	// A parameter-only unit with A's parameters: dropped, but the track changes back, and
	// video waits for A's next keyframe.
	require.NoError(t, c.videoAU(h264, avcc(tA.Video.SPS, tA.Video.PPS), 99*ms, 0, 99*ms))
	require.NoError(t, c.videoAU(h264, uA[1].Data, 100*ms, 0, 100*ms))
	require.NoError(t, c.videoAU(h264, uA[0].Data, 133*ms, 0, 133*ms))

	u := c.batch.Units
	require.Equal(t, 4, len(u))
	require.Same(t, u[0].Track, u[1].Track)
	require.Equal(t, 1280, u[0].Track.Width)
	require.NotSame(t, u[1].Track, u[2].Track)
	require.Equal(t, 640, u[2].Track.Width)
	require.True(t, u[2].Keyframe)
	require.True(t, u[3].Keyframe)
	require.Equal(t, 1280, u[3].Track.Width)
	require.NotSame(t, u[2].Track, u[3].Track)

	require.ErrorIs(t, c.videoAU(h264, []byte{0, 0, 0, 9, 0x65}, 166*ms, 0, 166*ms), errMalformed)
}

// TestParameterChange: a new sequence header with other parameters makes a new track; the
// same parameters again keep the pointer (the recorder cuts files on pointer change).
func TestParameterChange(t *testing.T) {
	e := startServer(t, nil)
	dir := t.TempDir()
	tA, uA := testutil.LoadFLV(t, testutil.RefStream(t, dir, testutil.RefOptions{Seconds: 1}))
	tB, uB := testutil.LoadFLV(t, testutil.RefStream(t, dir, testutil.RefOptions{Seconds: 1, Width: 640, Height: 360}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, testutil.Publish(ctx, e.url("live#change"), []testutil.Segment{
		{Tracks: tA, Units: uA}, {Tracks: tB, Units: uB}, {Tracks: tB, Units: uB},
	}, testutil.PublishOptions{}))
	s := e.nextSink(t, time.Second)
	s.waitEnd(t, 2*time.Second)

	require.Equal(t, len(uA)+2*len(uB), s.count())
	var videoTracks []*media.Track
	audio := map[*media.Track]bool{}
	for _, u := range s.snapshot() {
		if !u.Track.IsVideo() {
			audio[u.Track] = true
			continue
		}
		if n := len(videoTracks); n == 0 || videoTracks[n-1] != u.Track {
			require.True(t, u.Keyframe, "a new track starts at a keyframe")
			videoTracks = append(videoTracks, u.Track)
		}
	}
	require.Equal(t, 2, len(videoTracks))
	require.Equal(t, [2]int{1280, 640}, [2]int{videoTracks[0].Width, videoTracks[1].Width})
	require.Equal(t, 1, len(audio), "the same audio config keeps its track")
	checkDTS(t, s.snapshot())
}
