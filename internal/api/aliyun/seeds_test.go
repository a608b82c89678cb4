package aliyun

import (
	"net/url"
	"strings"
	"testing"

	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpora (and rewrites them with
// LIVEREC_WRITE_FUZZ_SEEDS=1): requests as the official SDK sends them, from the live API's
// documented examples.
func TestFuzzSeeds(t *testing.T) {
	common := func(action string) url.Values {
		v := url.Values{}
		for k, val := range map[string]string{"Action": action, "Version": Version, "Format": "JSON", "AccessKeyId": keyP1.id,
			"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureType": "", "RegionId": "cn-shanghai",
			"SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "Timestamp": "2026-01-02T03:04:05Z"} {
			v.Set(k, val)
		}
		return v
	}
	add := url.Values{"DomainName": {"push.example.com"}, "AppName": {"live"}, "OssEndpoint": {"oss-cn-shanghai.aliyuncs.com"},
		"OssBucket": {"liverec-test"}, "DelayTime": {"180"}, "OnDemand": {"0"},
		"RecordFormat.1.Format":               {"m3u8"},
		"RecordFormat.1.OssObjectPrefix":      {"record/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}"},
		"RecordFormat.1.SliceOssObjectPrefix": {"record/{AppName}/{StreamName}/{UnixTimestamp}_{Sequence}"},
		"RecordFormat.1.CycleDuration":        {"3600"}, "RecordFormat.1.SliceDuration": {"30"},
		"RecordFormat.2.Format": {"flv"}, "RecordFormat.2.OssObjectPrefix": {"record/{AppName}/{StreamName}/{StartTime}_{EndTime}"},
	}
	plan := url.Values{"DomainName": {"push.example.com"}, "AppName": {"live"}, "StreamName": {"cam1"}, "OssEndpoint": {"e"},
		"OssBucket": {"b"}, "StartTime": {"2026-01-02T03:04:05Z"}, "EndTime": {"2026-01-12T03:04:05Z"}, "RecordFormat.1.Format": {"mp4"}}
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzRPCSignature": func(testing.TB) [][]any {
			var seeds [][]any
			for _, v := range []url.Values{common("AddLiveAppRecordConfig"), common("DescribeLiveRecordConfig")} {
				for k, vs := range add {
					v[k] = vs
				}
				v.Set("Signature", "x")
				seeds = append(seeds, []any{v.Encode(), keyP1.secret, strings.Contains(v.Get("Action"), "Add")})
			}
			return seeds
		},
		"FuzzRecordConfigParams": func(testing.TB) [][]any {
			return fuzzcorpus.One(add.Encode(), plan.Encode())
		},
	})
}
