package native

import (
	"testing"

	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpus (and rewrites it with
// LIVEREC_WRITE_FUZZ_SEEDS=1): rule bodies as the README and the OpenAPI document show them.
func TestFuzzSeeds(t *testing.T) {
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzRuleRequest": func(testing.TB) [][]any {
			return fuzzcorpus.One(
				[]byte(`{"domain": "example.com", "app": "live", "stream": "*", "mode": "auto",
  "formats": [{"format": "mp4", "cycle_s": 600, "merge_window_s": 0,
               "object_template": "{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}"}],
  "storage": {"endpoint": "local", "bucket": "recordings"}}`),
				[]byte(`{"domain":"example.com","app":"live","stream":"cam1","mode":"plan","start_time":"2026-11-21T09:00:00Z",
  "end_time":"2026-11-21T18:00:00+08:00","formats":[{"format":"hls","slice_s":4},{"format":"flv"}],
  "storage":{"endpoint":"store1","bucket":"b","base_path":"tenant-a/recordings"}}`),
				[]byte(`{"domain":"example.com","app":"live","mode":"on_demand_param","formats":[{"format":"flv","cycle_s":0}]}`),
			)
		},
	})
}
