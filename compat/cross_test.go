package compat

import (
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/live"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/live/v1/model"
	"github.com/stretchr/testify/require"
)

// TestCrossDialectVisibility: one rule model behind both clouds' APIs — a rule written
// with the Huawei SDK is described with the Alibaba SDK, and one written with the Alibaba SDK
// is listed with the Huawei SDK.
func TestCrossDialectVisibility(t *testing.T) {
	s := startLiverec(t)
	hw := huaweiClient(t, s, keyA, secretA, projectA)
	ali := aliyunClient(t, s, keyA, secretA, nil)

	_, err := hw.CreateRecordRule(&model.CreateRecordRuleRequest{Body: ruleRequest("fromhuawei", 900)})
	require.NoError(t, err)
	_, err = ali.AddLiveAppRecordConfig(addRecordConfig("push.example.com", "fromaliyun",
		live.AddLiveAppRecordConfigRecordFormat{Format: "mp4", CycleDuration: "1800",
			OssObjectPrefix: "a/{AppName}/{StreamName}/{StartTime}_{EndTime}"}))
	require.NoError(t, err)

	described := describeRecordConfigs(t, ali, "push.example.com")
	byApp := map[string]live.LiveAppRecord{}
	for _, r := range described.LiveAppRecordList.LiveAppRecord {
		byApp[r.AppName] = r
	}
	require.Contains(t, byApp, "fromhuawei", "the Huawei rule is described through Alibaba")
	hwRule := byApp["fromhuawei"]
	formats := map[string]int{}
	for _, f := range hwRule.RecordFormatList.RecordFormat {
		formats[strings.ToLower(f.Format)] = f.CycleDuration
	}
	require.Equal(t, map[string]int{"m3u8": 900, "flv": 3600}, formats)

	list, err := hw.ListRecordRules(&model.ListRecordRulesRequest{PublishDomain: strPtr("push.example.com")})
	require.NoError(t, err)
	var fromAli *model.RecordRule
	for i, r := range *list.RecordConfig {
		if r.App == "fromaliyun" {
			fromAli = &(*list.RecordConfig)[i]
		}
	}
	require.NotNil(t, fromAli, "the Alibaba rule is listed through Huawei")
	require.Equal(t, int32(2), *list.Total)
	require.Equal(t, []model.VideoFormatVar{model.GetVideoFormatVarEnum().MP4}, fromAli.DefaultRecordConfig.RecordFormat)
	require.Equal(t, int32(1800), fromAli.DefaultRecordConfig.Mp4Config.RecordCycle)
}

func strPtr(s string) *string { return &s }
