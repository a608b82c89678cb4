package dialect

import (
	"testing"

	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpora (and rewrites them with
// LIVEREC_WRITE_FUZZ_SEEDS=1): event data and callback configurations as the APIs accept them,
// the Standard Webhooks test vector and keys of each dialect.
func TestFuzzSeeds(t *testing.T) {
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzEncode": func(testing.TB) [][]any {
			return [][]any{
				{"push.example.com", "live", "cam1", "record/live/cam1/2026-11-21-09-00-00_2026-11-21-09-12-30.flv", "",
					"1", "http://127.0.0.1:8080/download/local/recordings/record/live/cam1/a.flv?expires=1&signature=ab"},
				{"push.example.com", "live", "cam1", "Record/push.example.com/live/CONTINUOUS_RECORD/HLS/cam1.m3u8",
					"storage failed for 10m0s: no space left on device", "callback_x", "https://obs.cn-north-4.example.com/x.m3u8"},
			}
		},
		"FuzzSignCallback": func(testing.TB) [][]any {
			return [][]any{
				{vecSecret, vecID, vecTS, []byte(vecBody), "https://hooks.example.com/liverec"},
				{"abcdefghijklmnopqrstuvwxyz012345", "evt_01HZY", "1700000000", []byte(`{"event_type":"RECORD_FILE_COMPLETE"}`),
					"http://cb.example.com:8080/huawei"},
				{"aliyun-key", "evt_2", "1700000000", []byte(`{"domain":"push.example.com","event":"record_started"}`),
					"http://cb.example.com/aliyun?token=t"},
			}
		},
	})
}
