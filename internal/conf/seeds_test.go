package conf

import (
	"testing"

	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpus (and rewrites it with
// LIVEREC_WRITE_FUZZ_SEEDS=1): config files as the README and docs/config.md show them.
func TestFuzzSeeds(t *testing.T) {
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzFileReader": fileReaderSeeds,
		"FuzzConfigFile": func(testing.TB) [][]any {
			return fuzzcorpus.One(
				[]byte(fuzzcorpus.Lines(
					"storage:",
					"  upload_bandwidth: 0",
					"  endpoints:",
					"    - name: store1",
					"      type: s3",
					"      url: http://127.0.0.1:9000",
					"      region: us-east-1",
					"      access_key: AKIAEXAMPLE",
					"      secret_key: secret",
					"      path_style: true",
					"      public_url: https://media.example.com",
					`      aliases: ["oss-cn-shanghai.aliyuncs.com", "cn-north-4"]`)),
				[]byte(fuzzcorpus.Lines(
					"storage:",
					"  spool: /tmp/spool",
					"  link_expiry: 1h",
					"  endpoints:",
					"    - name: local",
					"      type: local",
					"      root: /tmp/buckets",
					`      aliases: ["*", "cn-north-4"]`,
					"ingest:",
					"  publish_idle_timeout: 300ms",
					"recording:",
					"  flush_interval: 250ms",
					"  time_zone: Asia/Shanghai",
					"callbacks:",
					"  retry_max: 10m",
					"log: {level: debug, format: json}")),
				[]byte(fuzzcorpus.Lines(
					"rules:",
					"  - domain: push.example.com",
					"    app: live",
					"    stream: '*'",
					"    mode: auto",
					"    formats:",
					"      - {format: hls, cycle_s: 3600, slice_s: 10, merge_window_s: 0,",
					"         object_template: '{AppName}/{StreamName}/{EscapedStartTime}', slice_template: '{AppName}/{Sequence}'}",
					"    storage: {endpoint: local, bucket: recordings}")),
			)
		},
	})
}
