package aliyun

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// describeDoc is DescribeLiveRecordConfig's document as the SDK's structs read it.
type describeDoc struct {
	RequestID         string `json:"RequestId"`
	PageNum, PageSize int
	Order             string
	TotalNum          int
	TotalPage         int
	LiveAppRecordList struct {
		LiveAppRecord []struct {
			DomainName, AppName, StreamName, OssEndpoint, OssBucket, CreateTime, StartTime, EndTime string
			OnDemond, DelayTime                                                                     int
			RecordFormatList                                                                        struct {
				RecordFormat []recordFormat
			}
		}
	}
}

func (e *env) describe(t *testing.T, key testKey, args ...string) describeDoc {
	t.Helper()
	var d describeDoc
	e.do(call(key, "DescribeLiveRecordConfig", args...)).ok(t).decode(t, &d)
	return d
}

func TestAddThenDescribeShowsTheCloudsShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(call(keyP1, "AddLiveAppRecordConfig", "DomainName", "A.com", "AppName", "live", "StreamName", "s1",
		"OssEndpoint", "oss-cn-beijing.aliyuncs.com", "OssBucket", "bucket1", "OnDemand", "1", "DelayTime", "300",
		"RecordFormat.1.Format", "flv", "RecordFormat.1.CycleDuration", "600",
		"RecordFormat.1.OssObjectPrefix", "rec/{AppName}/{StreamName}/{StartTime}_{EndTime}",
		"RecordFormat.2.Format", "m3u8", "RecordFormat.2.SliceDuration", "10", "RecordFormat.2.CycleDuration", "7200",
		"RecordFormat.2.SliceOssObjectPrefix", "ts/{AppName}/{StreamName}/{UnixTimestamp}_{Sequence}",
	)).ok(t)

	resp := e.do(call(keyP1, "DescribeLiveRecordConfig", "DomainName", "a.com")).ok(t)
	// The response spells OnDemond (sic) and carries numbers as JSON numbers.
	require.Contains(t, string(resp.raw), `"OnDemond":1`)
	require.NotContains(t, string(resp.raw), `"OnDemand"`)
	require.Equal(t, 600.0, resp.get("LiveAppRecordList", "LiveAppRecord", 0, "RecordFormatList", "RecordFormat", 0, "CycleDuration"))
	require.Equal(t, []any{}, resp.get("LiveAppRecordList", "LiveAppRecord", 0, "TranscodeRecordFormatList", "RecordFormat"))

	var d describeDoc
	resp.decode(t, &d)
	require.Equal(t, 1, d.PageNum)
	require.Equal(t, 10, d.PageSize)
	require.Equal(t, "asc", d.Order)
	require.Equal(t, 1, d.TotalNum)
	require.Equal(t, 1, d.TotalPage)
	require.Len(t, d.LiveAppRecordList.LiveAppRecord, 1)
	a := d.LiveAppRecordList.LiveAppRecord[0]
	require.Equal(t, "a.com", a.DomainName)
	require.Equal(t, "live", a.AppName)
	require.Equal(t, "s1", a.StreamName)
	require.Equal(t, "oss-cn-beijing.aliyuncs.com", a.OssEndpoint)
	require.Equal(t, "bucket1", a.OssBucket)
	require.Equal(t, 1, a.OnDemond)
	require.Equal(t, 300, a.DelayTime)
	require.Empty(t, a.StartTime)
	created, err := time.Parse(timeLayout, a.CreateTime)
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), created, time.Minute)
	require.Equal(t, []recordFormat{
		{Format: "FLV", OssObjectPrefix: "rec/{AppName}/{StreamName}/{StartTime}_{EndTime}", CycleDuration: 600},
		{Format: "M3U8", OssObjectPrefix: recording.DefaultFileTemplate, SliceOssObjectPrefix: "ts/{AppName}/{StreamName}/{UnixTimestamp}_{Sequence}",
			SliceDuration: 10, CycleDuration: 7200},
	}, a.RecordFormatList.RecordFormat)

	// The rule the service holds is the Alibaba-dialect one.
	r, err := e.svc.FindRule(t.Context(), service.Principal{Project: "p1"}, "a.com", "live", "s1")
	require.NoError(t, err)
	require.Equal(t, recording.DialectAliyun, r.Dialect)
	require.Equal(t, recording.ModeOnDemandHTTP, r.Mode)
	require.Equal(t, 300, r.Formats[1].MergeWindowS)
}

func TestSeedExampleGetsAlibabaDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(seedRecordConfig(keyP1)).ok(t)
	d := e.describe(t, keyP1, "DomainName", "test.com", "AppName", "test123")
	require.Len(t, d.LiveAppRecordList.LiveAppRecord, 1)
	a := d.LiveAppRecordList.LiveAppRecord[0]
	require.Equal(t, 0, a.OnDemond)
	require.Equal(t, 180, a.DelayTime)
	require.Empty(t, a.StreamName)
	require.Equal(t, []recordFormat{{Format: "M3U8", OssObjectPrefix: "record/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}",
		SliceOssObjectPrefix: "record/{AppName}/{StreamName}/{UnixTimestamp}_{Sequence}", SliceDuration: 30, CycleDuration: 21600}},
		a.RecordFormatList.RecordFormat)

	e.do(seedRecordConfig(keyP1)).fails(t, http.StatusBadRequest, "ConfigAlreadyExists", "Config has already exist.")
	// The same key with StreamName "*" is the same config.
	dup := seedRecordConfig(keyP1)
	dup.params.Set("StreamName", "*")
	e.do(dup).fails(t, http.StatusBadRequest, "ConfigAlreadyExists")
	d = e.describe(t, keyP1, "DomainName", "test.com")
	require.Equal(t, 1, d.TotalNum)
}

func TestBadRecordConfigsNameTheParameter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(seedRecordConfig(keyP1)).ok(t) // claims test.com, so the checks below are about the config
	add := func(args ...string) *req {
		base := []string{"DomainName", "test.com", "AppName", "other", "OssEndpoint", "oss-cn-shanghai.aliyuncs.com", "OssBucket", "b"}
		return call(keyP1, "AddLiveAppRecordConfig", append(base, args...)...)
	}
	for _, tc := range []struct {
		name string
		args []string
		code string
		msg  []string
	}{
		{"CycleTooShort", []string{"RecordFormat.1.Format", "flv", "RecordFormat.1.CycleDuration", "14"}, "InvalidParameter", []string{`"RecordFormat.1.CycleDuration"`, "15–21600"}},
		{"CycleTooLong", []string{"RecordFormat.1.Format", "mp4", "RecordFormat.1.CycleDuration", "21601"}, "InvalidParameter", []string{`"RecordFormat.1.CycleDuration"`}},
		{"CycleNotANumber", []string{"RecordFormat.1.Format", "mp4", "RecordFormat.1.CycleDuration", "1h"}, "InvalidParameter", []string{`"RecordFormat.1.CycleDuration"`, "integer"}},
		{"SliceTooShort", []string{"RecordFormat.1.Format", "flv", "RecordFormat.3.Format", "m3u8", "RecordFormat.3.SliceDuration", "4"}, "InvalidParameter", []string{`"RecordFormat.3.SliceDuration"`, "5–30"}},
		{"SliceOnFLV", []string{"RecordFormat.1.Format", "flv", "RecordFormat.1.SliceDuration", "10"}, "InvalidParameter", []string{`"RecordFormat.1.SliceDuration"`}},
		{"DelayTooShort", []string{"RecordFormat.1.Format", "flv", "DelayTime", "14"}, "InvalidParameter", []string{`"DelayTime"`, "15–21600"}},
		{"DelayTooLong", []string{"RecordFormat.1.Format", "flv", "DelayTime", "21601"}, "InvalidParameter", []string{`"DelayTime"`}},
		{"PrefixWithoutTimes", []string{"RecordFormat.1.Format", "flv", "RecordFormat.1.OssObjectPrefix", "record/{AppName}/{StreamName}"}, "InvalidParameter", []string{`"RecordFormat.1.OssObjectPrefix"`, "{StartTime}"}},
		{"PrefixWithoutEnd", []string{"RecordFormat.1.Format", "flv", "RecordFormat.1.OssObjectPrefix", "r/{StartTime}"}, "InvalidParameter", []string{`"RecordFormat.1.OssObjectPrefix"`}},
		{"PrefixTooLong", []string{"RecordFormat.1.Format", "flv", "RecordFormat.1.OssObjectPrefix", strings.Repeat("x", 240) + "{StartTime}{EndTime}"}, "InvalidParameter", []string{`"RecordFormat.1.OssObjectPrefix"`, "255 bytes"}},
		{"SlicePrefixWithoutSequence", []string{"RecordFormat.1.Format", "m3u8", "RecordFormat.1.SliceOssObjectPrefix", "ts/{UnixTimestamp}"}, "InvalidParameter", []string{`"RecordFormat.1.SliceOssObjectPrefix"`, "{Sequence}"}},
		{"CMAF", []string{"RecordFormat.1.Format", "cmaf"}, "InvalidParameter", []string{`"RecordFormat.1.Format"`, "cmaf is not supported"}},
		{"UnknownFormat", []string{"RecordFormat.1.Format", "avi"}, "InvalidParameter", []string{`"RecordFormat.1.Format"`}},
		{"DuplicateFormat", []string{"RecordFormat.1.Format", "flv", "RecordFormat.2.Format", "FLV"}, "InvalidParameter", []string{`"RecordFormat.2.Format"`, "twice"}},
		{"FormatMissing", []string{"RecordFormat.1.CycleDuration", "60"}, "MissingParameter", []string{`"RecordFormat.1.Format"`}},
		{"BadIndex", []string{"RecordFormat.x.Format", "flv"}, "InvalidParameter", []string{`"RecordFormat.x.Format"`}},
		{"UnknownFormatField", []string{"RecordFormat.1.Format", "flv", "RecordFormat.1.Codec", "h264"}, "InvalidParameter", []string{`"RecordFormat.1.Codec"`}},
		{"NoFormat", nil, "MissingRecordFormat", []string{"RecordFormat is mandatory"}},
		{"Transcode", []string{"RecordFormat.1.Format", "flv", "TranscodeTemplates.1", "sd"}, "InvalidParameter", []string{`"TranscodeTemplates.1"`, "transcoded"}},
		{"TranscodeOnly", []string{"TranscodeRecordFormat.1.Format", "flv"}, "InvalidParameter", []string{`"TranscodeRecordFormat.1.Format"`}},
		{"OnDemand3", []string{"RecordFormat.1.Format", "flv", "OnDemand", "3"}, "InvalidParameter", []string{`"OnDemand"`, "0, 1, 2 or 7"}},
		{"StartWithoutEnd", []string{"RecordFormat.1.Format", "flv", "StreamName", "s", "StartTime", "2030-01-01T00:00:00Z"}, "MissingEndTime", nil},
		{"WindowOnApp", []string{"RecordFormat.1.Format", "flv", "StartTime", "2030-01-01T00:00:00Z", "EndTime", "2030-01-02T00:00:00Z"}, "InvalidParameter", []string{`"StartTime"`, "stream-level"}},
		{"WindowWithOnDemand", []string{"RecordFormat.1.Format", "flv", "StreamName", "s", "OnDemand", "7", "StartTime", "2030-01-01T00:00:00Z", "EndTime", "2030-01-02T00:00:00Z"}, "InvalidParameter", []string{`"StartTime"`}},
		{"WindowBackwards", []string{"RecordFormat.1.Format", "flv", "StreamName", "s", "StartTime", "2030-01-02T00:00:00Z", "EndTime", "2030-01-01T00:00:00Z"}, "InvalidParameter", []string{`"EndTime"`}},
		{"TimeMalformed", []string{"RecordFormat.1.Format", "flv", "StreamName", "s", "StartTime", "2030-01-01 00:00:00", "EndTime", "2030-01-02T00:00:00Z"}, "InvalidParameter", []string{`"StartTime"`, "yyyy-MM-ddTHH:mm:ssZ"}},
		{"EndpointUnknown", []string{"RecordFormat.1.Format", "flv", "OssEndpoint", "nowhere"}, "InvalidParameter", []string{`"OssEndpoint"`}},
		{"BadBucket", []string{"RecordFormat.1.Format", "flv", "OssBucket", "../x"}, "InvalidParameter", []string{`"OssBucket"`}},
		{"BadApp", []string{"RecordFormat.1.Format", "flv", "AppName", ".."}, "InvalidParameter", []string{`"AppName"`}},
		{"BadStream", []string{"RecordFormat.1.Format", "flv", "StreamName", "a/b"}, "InvalidParameter", []string{`"StreamName"`}},
		{"DelayNotANumber", []string{"RecordFormat.1.Format", "flv", "DelayTime", "3m"}, "InvalidParameter", []string{`"DelayTime"`}},
		{"NoBucket", []string{"RecordFormat.1.Format", "flv", "OssBucket", ""}, "MissingOssBucket", []string{"OssBucket is mandatory"}},
		{"NoEndpoint", []string{"RecordFormat.1.Format", "flv", "OssEndpoint", ""}, "MissingOssEndpoint", nil},
		{"NoApp", []string{"RecordFormat.1.Format", "flv", "AppName", ""}, "MissingAppName", nil},
		{"NoDomain", []string{"RecordFormat.1.Format", "flv", "DomainName", ""}, "MissingDomainName", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.do(add(tc.args...)).fails(t, http.StatusBadRequest, tc.code, tc.msg...)
		})
	}
	require.Equal(t, 1, e.describe(t, keyP1, "DomainName", "test.com").TotalNum, "nothing was written")
}

func TestPlanWindowOnAStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(call(keyP1, "AddLiveAppRecordConfig", "DomainName", "a.com", "AppName", "live", "StreamName", "s",
		"OssEndpoint", "oss-cn-shanghai.aliyuncs.com", "OssBucket", "b", "RecordFormat.1.Format", "mp4",
		"StartTime", "2030-01-01T00:00:00Z", "EndTime", "2030-01-20T00:00:00Z")).ok(t)
	a := e.describe(t, keyP1, "DomainName", "a.com").LiveAppRecordList.LiveAppRecord[0]
	require.Equal(t, "2030-01-01T00:00:00Z", a.StartTime)
	require.Equal(t, "2030-01-08T00:00:00Z", a.EndTime, "longer windows are taken as 7 days")
	require.Equal(t, 0, a.OnDemond)
	require.Equal(t, 3600, a.RecordFormatList.RecordFormat[0].CycleDuration)

	// An update that names neither times nor a mode keeps the window.
	e.do(call(keyP1, "UpdateLiveAppRecordConfig", "DomainName", "a.com", "AppName", "live", "StreamName", "s",
		"DelayTime", "60")).ok(t)
	a = e.describe(t, keyP1, "DomainName", "a.com").LiveAppRecordList.LiveAppRecord[0]
	require.Equal(t, "2030-01-01T00:00:00Z", a.StartTime)
	require.Equal(t, 60, a.DelayTime)
	// Switching to manual drops it.
	e.do(call(keyP1, "UpdateLiveAppRecordConfig", "DomainName", "a.com", "AppName", "live", "StreamName", "s",
		"OnDemand", "7")).ok(t)
	a = e.describe(t, keyP1, "DomainName", "a.com").LiveAppRecordList.LiveAppRecord[0]
	require.Empty(t, a.StartTime)
	require.Equal(t, 7, a.OnDemond)
}

func TestUpdateKeepsNamesAndChangesTheRest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(call(keyP1, "AddLiveAppRecordConfig", "DomainName", "a.com", "AppName", "live",
		"OssEndpoint", "oss-cn-shanghai.aliyuncs.com", "OssBucket", "b",
		"RecordFormat.1.Format", "m3u8", "RecordFormat.1.OssObjectPrefix", "hls/{AppName}/{StartTime}_{EndTime}",
		"RecordFormat.1.SliceOssObjectPrefix", "hls/{AppName}/{UnixTimestamp}-{Sequence}")).ok(t)
	update := func(args ...string) *req {
		return call(keyP1, "UpdateLiveAppRecordConfig", append([]string{"DomainName", "a.com", "AppName", "live"}, args...)...)
	}
	e.do(update("OnDemand", "2", "DelayTime", "600", "OssEndpoint", "oss-cn-beijing.aliyuncs.com",
		"RecordFormat.1.Format", "m3u8", "RecordFormat.1.SliceDuration", "6",
		"RecordFormat.2.Format", "flv", "RecordFormat.2.CycleDuration", "120")).ok(t)
	a := e.describe(t, keyP1, "DomainName", "a.com").LiveAppRecordList.LiveAppRecord[0]
	require.Equal(t, 2, a.OnDemond)
	require.Equal(t, 600, a.DelayTime)
	require.Equal(t, "oss-cn-beijing.aliyuncs.com", a.OssEndpoint)
	require.Equal(t, "b", a.OssBucket)
	require.Equal(t, []recordFormat{
		{Format: "M3U8", OssObjectPrefix: "hls/{AppName}/{StartTime}_{EndTime}", SliceOssObjectPrefix: "hls/{AppName}/{UnixTimestamp}-{Sequence}",
			SliceDuration: 6, CycleDuration: 21600},
		{Format: "FLV", OssObjectPrefix: recording.DefaultFileTemplate, CycleDuration: 120},
	}, a.RecordFormatList.RecordFormat)

	// Naming and bucket are immutable through Update; values are checked as on Add.
	e.do(update("OssBucket", "c")).fails(t, http.StatusBadRequest, "InvalidParameter", `"OssBucket"`)
	e.do(update("RecordFormat.1.Format", "flv", "RecordFormat.1.OssObjectPrefix", "x/{StartTime}{EndTime}")).
		fails(t, http.StatusBadRequest, "InvalidParameter", `"RecordFormat.1.OssObjectPrefix"`)
	e.do(update("RecordFormat.1.Format", "flv", "RecordFormat.1.CycleDuration", "5")).
		fails(t, http.StatusBadRequest, "InvalidParameter", `"RecordFormat.1.CycleDuration"`)
	e.do(update("DelayTime", "5")).fails(t, http.StatusBadRequest, "InvalidParameter", `"DelayTime"`)
	e.do(update("StreamName", "nosuch", "DelayTime", "60")).fails(t, http.StatusNotFound, "InvalidConfig.NotFound")
	e.do(call(keyP1, "UpdateLiveAppRecordConfig", "DomainName", "a.com")).fails(t, http.StatusBadRequest, "MissingAppName")
	require.Equal(t, 600, e.describe(t, keyP1, "DomainName", "a.com").LiveAppRecordList.LiveAppRecord[0].DelayTime)
}

func TestDeleteRecordConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(seedRecordConfig(keyP1)).ok(t)
	del := func() *req {
		return call(keyP1, "DeleteLiveAppRecordConfig", "DomainName", "test.com", "AppName", "test123")
	}
	e.do(del()).ok(t)
	require.Equal(t, 0, e.describe(t, keyP1, "DomainName", "test.com").TotalNum)
	e.do(del()).fails(t, http.StatusNotFound, "InvalidConfig.NotFound", "Config does not exist.")
	e.do(seedRecordConfig(keyP1)).ok(t) // the key is free again
}

func TestDescribePagesAndFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := 1; i <= 12; i++ {
		e.do(call(keyP1, "AddLiveAppRecordConfig", "DomainName", "a.com", "AppName", fmt.Sprintf("app%02d", i),
			"OssEndpoint", "x", "OssBucket", "b", "RecordFormat.1.Format", "flv")).ok(t)
	}
	d := e.describe(t, keyP1, "DomainName", "a.com", "PageSize", "5", "PageNum", "3")
	require.Equal(t, 12, d.TotalNum)
	require.Equal(t, 3, d.TotalPage)
	require.Len(t, d.LiveAppRecordList.LiveAppRecord, 2)
	require.Equal(t, "app11", d.LiveAppRecordList.LiveAppRecord[0].AppName)
	d = e.describe(t, keyP1, "DomainName", "a.com", "Order", "desc", "PageSize", "5")
	require.Equal(t, "desc", d.Order)
	require.Equal(t, "app12", d.LiveAppRecordList.LiveAppRecord[0].AppName)
	d = e.describe(t, keyP1, "DomainName", "a.com", "AppName", "app07")
	require.Equal(t, 1, d.TotalNum)
	require.Equal(t, "app07", d.LiveAppRecordList.LiveAppRecord[0].AppName)
	d = e.describe(t, keyP1, "DomainName", "a.com", "PageNum", "9")
	require.Empty(t, d.LiveAppRecordList.LiveAppRecord)

	for _, args := range [][]string{{"PageSize", "4"}, {"PageSize", "31"}, {"PageNum", "0"}, {"PageNum", "x"}, {"Order", "up"}} {
		e.do(call(keyP1, "DescribeLiveRecordConfig", "DomainName", "a.com", args[0], args[1])).
			fails(t, http.StatusBadRequest, "InvalidParameter", `"`+args[0]+`"`)
	}
	e.do(call(keyP1, "DescribeLiveRecordConfig")).fails(t, http.StatusBadRequest, "MissingDomainName")
}

// TestRulesOfOtherDialectsAreVisible: one model read through every dialect.
func TestRulesOfOtherDialectsAreVisible(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := &recording.Rule{Domain: "n.com", App: "*", Dialect: recording.DialectHuawei, Mode: recording.ModeManual,
		Formats: []recording.FormatConfig{{Format: recording.FormatHLS, CycleS: 0, SliceS: 10, MergeWindowS: -1}}}
	require.NoError(t, e.svc.CreateRule(t.Context(), service.Principal{Project: "p1"}, r))
	a := e.describe(t, keyP1, "DomainName", "n.com").LiveAppRecordList.LiveAppRecord[0]
	require.Equal(t, "*", a.AppName)
	require.Equal(t, 7, a.OnDemond)
	require.Equal(t, 21600, a.DelayTime)
	require.Equal(t, "M3U8", a.RecordFormatList.RecordFormat[0].Format)
	require.Equal(t, 10, a.RecordFormatList.RecordFormat[0].SliceDuration)
}

func TestOtherProjectsDomainsDoNotExist(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(seedRecordConfig(keyP1)).ok(t)
	e.do(call(keyP1, "AddLiveRecordNotifyConfig", "DomainName", "test.com", "NotifyUrl", "http://cb.example.com/")).ok(t)
	app := []string{"DomainName", "test.com", "AppName", "test123"}
	for _, r := range []*req{
		seedRecordConfig(keyP2),
		call(keyP2, "UpdateLiveAppRecordConfig", append(app, "DelayTime", "60")...),
		call(keyP2, "DeleteLiveAppRecordConfig", app...),
		call(keyP2, "DescribeLiveRecordConfig", app...),
		call(keyP2, "AddLiveRecordNotifyConfig", "DomainName", "test.com", "NotifyUrl", "http://cb.example.com/"),
		call(keyP2, "UpdateLiveRecordNotifyConfig", "DomainName", "test.com", "NotifyUrl", "http://cb.example.com/"),
		call(keyP2, "DeleteLiveRecordNotifyConfig", "DomainName", "test.com"),
		call(keyP2, "DescribeLiveRecordNotifyConfig", "DomainName", "test.com"),
		call(keyP2, "RealTimeRecordCommand", append(app, "StreamName", "s", "Command", "start")...),
		call(keyP2, "DescribeLiveRecordNotifyRecords", "DomainName", "test.com", "StartTime", "2030-01-01T00:00:00Z", "EndTime", "2030-01-02T00:00:00Z"),
		// An unclaimed domain reads the same.
		call(keyP1, "DescribeLiveRecordConfig", "DomainName", "unknown.com"),
	} {
		e.do(r).fails(t, http.StatusNotFound, "InvalidDomain.NotFound", "The domain provided does not exist in our records.")
	}
	// Nothing of p1's changed.
	require.Equal(t, 1, e.describe(t, keyP1, "DomainName", "test.com").TotalNum)
	// The default rule's domain "*" is an admin's.
	add := seedRecordConfig(keyP1)
	add.params.Set("DomainName", "*")
	e.do(add).fails(t, http.StatusBadRequest, "InvalidParameter", `"DomainName"`, `the catch-all domain "*" is for admin keys`)
}
