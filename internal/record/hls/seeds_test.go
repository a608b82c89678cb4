package hls

import (
	"encoding/binary"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/testutil"
	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpora (and rewrites them with
// LIVEREC_WRITE_FUZZ_SEEDS=1): AAC configs and frames, slices and playlists from ffmpeg's tiny
// recordings, and slices liverec's muxer wrote from ffmpeg's units.
func TestFuzzSeeds(t *testing.T) {
	var (
		tracks media.Tracks
		units  []media.Unit
	)
	loadTiny := func(t testing.TB) (media.Tracks, []media.Unit) {
		if units == nil {
			tracks, units = testutil.LoadFLV(t, fuzzcorpus.Tiny(t, t.TempDir(), "avc.flv", "libx264", true, "-f", "flv"))
		}
		return tracks, units
	}
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzADTS": func(t testing.TB) [][]any {
			tracks, units := loadTiny(t)
			var seeds [][]any
			for _, u := range units {
				if !u.Track.IsVideo() && len(seeds) < 3 {
					seeds = append(seeds, []any{tracks.Audio.AudioConfig, u.Data})
				}
			}
			// HE-AAC (implicit in ADTS) and a 7350 Hz 8-channel core: ADTS edge cases.
			return append(seeds, []any{[]byte{0x2b, 0x92, 0x08, 0x00}, []byte{1, 2, 3}},
				[]any{[]byte{0x16, 0x38}, []byte{0xff, 0xf1}})
		},
		"FuzzTSRoundTrip": func(t testing.TB) [][]any {
			// The units of a real recording as the script's (kind, size) triplets.
			_, units := loadTiny(t)
			var in []byte
			for i, u := range units {
				kind := byte(2)
				if u.Track.IsVideo() {
					kind = 1
					if u.Keyframe {
						kind = 0
					}
				}
				in = binary.BigEndian.AppendUint16(append(in, kind+byte(i%5)*3), uint16(len(u.Data)))
			}
			return fuzzcorpus.One(in, in[:len(in)/2])
		},
		"FuzzReadIndex": func(t testing.TB) [][]any {
			dir := t.TempDir()
			fuzzcorpus.Tiny(t, dir, "index.m3u8", "libx264", true, "-f", "hls", "-hls_time", "0.4", "-hls_list_size", "0")
			ff := string(fuzzcorpus.ReadFile(t, filepath.Join(dir, "index.m3u8")))
			ours := string(Playlist([]Slice{{Seq: 0, Duration: 400 * time.Millisecond},
				{Seq: 1, Duration: 200 * time.Millisecond, Discontinuity: true}}, nil, false))
			return fuzzcorpus.One(ff, ours, ours[:len(ours)-4])
		},
		"FuzzRecoverSlice": func(t testing.TB) [][]any {
			tracks, units := loadTiny(t)
			w := &Writer{}
			require.NoError(t, w.setTracks(tracks))
			w.ts.writeTables()
			for _, u := range units {
				if u.Track.IsVideo() {
					require.NoError(t, w.writeVideo(&u))
				} else {
					w.writeAudio(&u)
				}
			}
			ours := slices.Clone(w.ts.out)
			ff := fuzzcorpus.ReadFile(t, fuzzcorpus.Tiny(t, t.TempDir(), "ff.ts", "libx264", true, "-f", "mpegts"))
			var seeds [][]any
			for _, ts := range [][]byte{ours, ff} {
				ts = ts[:min(len(ts), 60*tsPacketSize)]
				seeds = append(seeds, fuzzcorpus.One(fuzzcorpus.Cuts(ts, len(ts)-1, len(ts)-tsPacketSize, len(ts)/2, 3*tsPacketSize)...)...)
			}
			return seeds
		},
	})
}
