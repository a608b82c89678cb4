package app

import (
	"testing"

	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpus (and rewrites it with
// LIVEREC_WRITE_FUZZ_SEEDS=1): object names as the default templates of each dialect make them.
func TestFuzzSeeds(t *testing.T) {
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		// Playlists as liverec stores them: a live EVENT playlist, a final one across a pause, and
		// an index over another folder's slices.
		"FuzzRewritePlaylist": func(testing.TB) [][]any {
			return [][]any{
				{[]byte("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n" +
					"#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:10.010,\nts/1763715600_0.ts\n#EXTINF:9.990,\nts/1763715610_1.ts\n"),
					"live/cam1/0_2026-11-21-09-00-00_live.m3u8"},
				{[]byte("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-PLAYLIST-TYPE:VOD\n" +
					"#EXTINF:10.000,\n1763715600_1763715610_0.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:4.000,\n" +
					"1763715700_1763715704_1.ts\n#EXT-X-ENDLIST\n"),
					"Record/push.example.com/live/CONTINUOUS_RECORD/HLS/cam1_2026-11-21-09-00-00/cam1_2026-11-21-09-00-00.m3u8"},
				{[]byte("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n" +
					"#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-PROGRAM-DATE-TIME:2026-11-21T09:00:10.000Z\n#EXTINF:2.000,\n" +
					"../../../record/live/cam1/ts/1763715610_5.ts\n#EXT-X-ENDLIST\n"),
					"Index/push.example.com/live/cam1/cam1-2026-11-21T09:00:10Z-2026-11-21T09:00:30Z.m3u8"},
			}
		},
		"FuzzDownloadLink": func(testing.TB) [][]any {
			return [][]any{
				{"recordings", "record/live/cam1/2026-11-21-09-00-00_2026-11-21-09-12-30.mp4", uint16(65535), byte(3)},
				{"obs-bucket", "Record/push.example.com/live/CONTINUOUS_RECORD/HLS/cam1_2026-11-21-09-00-00/1763715600_1763715610_3.ts", uint16(60), byte(40)},
				{"recordings", "record/live/cam1/2026-11-21-09:00:00_2026-11-21-09:12:30_1.flv", uint16(1), byte(63)},
			}
		},
	})
}
