package app

import (
	"testing"

	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpus (and rewrites it with
// LIVEREC_WRITE_FUZZ_SEEDS=1): object names as the default templates of each dialect make them.
func TestFuzzSeeds(t *testing.T) {
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzDownloadLink": func(testing.TB) [][]any {
			return [][]any{
				{"recordings", "record/live/cam1/2026-11-21-09-00-00_2026-11-21-09-12-30.mp4", uint16(65535), byte(3)},
				{"obs-bucket", "Record/push.example.com/live/CONTINUOUS_RECORD/HLS/cam1_2026-11-21-09-00-00/1763715600_1763715610_3.ts", uint16(60), byte(40)},
				{"recordings", "record/live/cam1/2026-11-21-09:00:00_2026-11-21-09:12:30_1.flv", uint16(1), byte(63)},
			}
		},
	})
}
