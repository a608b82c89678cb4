package testutil

import (
	"testing"

	"github.com/liverec/liverec/internal/media"
	"github.com/stretchr/testify/require"
)

func TestLoadReferenceStream(t *testing.T) {
	dir := t.TempDir()
	p := RefStream(t, dir, RefOptions{Seconds: 4})
	tracks, units := LoadFLV(t, p)
	require.NotNil(t, tracks.Video)
	require.Equal(t, 1280, tracks.Video.Width)
	require.Equal(t, 720, tracks.Video.Height)
	require.Equal(t, media.CodecAAC, tracks.Audio.Codec)
	v, a := CountUnits(units)
	require.Equal(t, 120, v)
	pr := Probe(t, p)
	require.Equal(t, pr.Audio().Packets(), a)
	require.True(t, units[0].Keyframe || !units[0].Track.IsVideo())
}
