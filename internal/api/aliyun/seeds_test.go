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
		"FuzzCatalogParams": func(testing.TB) [][]any {
			stream := "DomainName=push.example.com&AppName=live&StreamName=cam1"
			window := "&StartTime=2026-01-02T03:04:05Z&EndTime=2026-01-02T03:34:05Z"
			return [][]any{
				{uint8(0), stream + window},
				{uint8(1), stream + window + "&OssEndpoint=oss-cn-shanghai.aliyuncs.com&OssBucket=liverec-test" +
					"&OssObject=" + url.QueryEscape("{AppName}/{StreamName}/{Date}/{Hour}/{Minute}_{Second}.m3u8") + "&EndTimeIncluded=true"},
				{uint8(2), stream + window + "&PageNum=1&PageSize=10&Order=desc"},
				{uint8(3), stream + "&RecordId=idx_0123456789abcdef"},
				{uint8(4), stream + "&RecordId.1=idx_0123456789abcdef&RecordId.2=f_0123456789abcdef&RemoveFile=true"},
				{uint8(5), "DomainName=push.example.com&AppName=live&PageNum=1&PageSize=1500&StreamType=all&QueryType=fuzzy"},
				{uint8(6), "DomainName=push.example.com" + window + "&PageNumber=1&PageSize=1500&OrderBy=publish_time_desc"},
				{uint8(7), stream},
				{uint8(8), stream + "&LiveStreamType=publisher&ResumeTime=2026-01-03T03:04:05Z"},
				{uint8(9), stream + "&LiveStreamType=publisher"},
				{uint8(10), "DomainName=push.example.com&PageNum=1&PageSize=100"},
			}
		},
	})
}
