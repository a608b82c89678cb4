package huawei

import (
	"testing"

	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpora (and rewrites them with
// LIVEREC_WRITE_FUZZ_SEEDS=1): the SDK's signed request test vector and RecordRuleRequest
// bodies of the API's examples.
func TestFuzzSeeds(t *testing.T) {
	hls := `{"publish_domain":"push.example.com","app":"live","record_type":"CONTINUOUS_RECORD",` +
		`"default_record_config":{"record_format":["HLS","FLV","MP4"],"obs_addr":{"bucket":"obs-bucket","location":"cn-north-4","object":"record/"},` +
		`"hls_config":{"record_cycle":3600,"record_prefix":"Record/{publish_domain}/{app}/{record_type}/{record_format}/{stream}_{file_start_time}/{stream}_{file_start_time}",` +
		`"record_ts_prefix":"{file_start_time_unix}_{file_end_time_unix}_{ts_sequence_number}","record_slice_duration":10,"record_max_duration_to_merge_file":0},` +
		`"flv_config":{"record_cycle":7200,"record_max_duration_to_merge_file":-1}}}`
	command := `{"publish_domain":"push.example.com","app":"live","stream":"cam1","record_type":"COMMAND_RECORD",` +
		`"default_record_config":{"record_format":["MP4"],"obs_addr":{"bucket":"b","location":"cn-north-4"}}}`
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzParseAuthorization": func(testing.TB) [][]any {
			r := sdkVectorRequest()
			return fuzzcorpus.One(r.Header.Get("Authorization"))
		},
		"FuzzVerifySignature": func(testing.TB) [][]any {
			return [][]any{
				{"rules/a b:c", "limit=5&publish_domain=x%20y.com", "huaweicloud-usdk-go/3.0", []byte(hls)},
				{"control", "", "huaweicloud-usdk-go/3.0", []byte(`{"publish_domain":"push.example.com","app":"live","stream":"cam1","action":"START"}`)},
			}
		},
		"FuzzRuleBody": func(testing.TB) [][]any { return fuzzcorpus.One([]byte(hls), []byte(command)) },
	})
}
