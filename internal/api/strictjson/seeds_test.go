package strictjson

import (
	"testing"

	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpus (and rewrites it with
// LIVEREC_WRITE_FUZZ_SEEDS=1): request bodies of the native and Huawei APIs, clean and with a
// key repeated in another case.
func TestFuzzSeeds(t *testing.T) {
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzCheckDuplicates": func(testing.TB) [][]any {
			return fuzzcorpus.One(
				[]byte(`{"domain":"example.com","app":"live","stream":"*","mode":"auto","formats":[{"format":"mp4","cycle_s":600,`+
					`"merge_window_s":0,"object_template":"{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}"}],`+
					`"storage":{"endpoint":"local","bucket":"recordings"}}`),
				[]byte(`{"publish_domain":"push.example.com","app":"live","default_record_config":{"record_format":["HLS"],`+
					`"obs_addr":{"bucket":"b","location":"cn-north-4"},"hls_config":{"record_cycle":3600,"Record_Cycle":60}}}`),
				[]byte(`{"url":"https://cb.example.com/x","events":["record_started","record_over"],"key":"k","KEY":"k2"}`),
			)
		},
	})
}
