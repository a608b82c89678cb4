package aliyun

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

type notifyDoc struct {
	RequestID              string `json:"RequestId"`
	LiveRecordNotifyConfig liveRecordNotifyConfig
}

func (e *env) notifyConfig(t *testing.T, key testKey, domain string) liveRecordNotifyConfig {
	t.Helper()
	var d notifyDoc
	e.do(call(key, "DescribeLiveRecordNotifyConfig", "DomainName", domain)).ok(t).decode(t, &d)
	return d.LiveRecordNotifyConfig
}

func TestNotifyConfigLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(call(keyP1, "AddLiveRecordNotifyConfig", "DomainName", "a.com", "NotifyUrl", "http://cb.example.com/rec",
		"OnDemandUrl", "https://od.example.com/ask?x=1", "NeedStatusNotify", "true")).ok(t)
	require.Equal(t, liveRecordNotifyConfig{DomainName: "a.com", NotifyURL: "http://cb.example.com/rec",
		OnDemandURL: "https://od.example.com/ask?x=1", NeedStatusNotify: true}, e.notifyConfig(t, keyP1, "a.com"))

	// It is the domain's aliyun-dialect callback configuration, for every app.
	cs, _, err := e.svc.ListCallbacks(t.Context(), service.Principal{Project: "p1"}, store.CallbackFilter{})
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.Equal(t, recording.DialectAliyun, cs[0].Dialect)
	require.Equal(t, "*", cs[0].App)
	require.True(t, cs[0].Enabled)

	e.do(call(keyP1, "AddLiveRecordNotifyConfig", "DomainName", "a.com", "NotifyUrl", "http://other.example.com/")).
		fails(t, http.StatusBadRequest, "ConfigAlreadyExists", "Config has already exist.")

	// Update changes what it names and keeps the rest.
	e.do(call(keyP1, "UpdateLiveRecordNotifyConfig", "DomainName", "a.com", "NotifyUrl", "https://cb2.example.com/")).ok(t)
	require.Equal(t, liveRecordNotifyConfig{DomainName: "a.com", NotifyURL: "https://cb2.example.com/",
		OnDemandURL: "https://od.example.com/ask?x=1", NeedStatusNotify: true}, e.notifyConfig(t, keyP1, "a.com"))
	e.do(call(keyP1, "UpdateLiveRecordNotifyConfig", "DomainName", "a.com", "NeedStatusNotify", "false")).ok(t)
	require.False(t, e.notifyConfig(t, keyP1, "a.com").NeedStatusNotify)
	e.do(call(keyP1, "UpdateLiveRecordNotifyConfig", "DomainName", "a.com", "NotifyUrl", "ftp://x/")).
		fails(t, http.StatusBadRequest, "InvalidNotifyUrl.Malformed", "NotifyUrl")

	e.do(call(keyP1, "DeleteLiveRecordNotifyConfig", "DomainName", "a.com")).ok(t)
	require.Equal(t, liveRecordNotifyConfig{}, e.notifyConfig(t, keyP1, "a.com"), "none: an empty config")
	e.do(call(keyP1, "DeleteLiveRecordNotifyConfig", "DomainName", "a.com")).fails(t, http.StatusNotFound, "InvalidConfig.NotFound")
	e.do(call(keyP1, "UpdateLiveRecordNotifyConfig", "DomainName", "a.com", "NotifyUrl", "http://x.example.com/")).
		fails(t, http.StatusNotFound, "InvalidConfig.NotFound")
}

func TestSeedNotifyConfigWithOnlyAnOnDemandURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(seedRecordConfig(keyP1)).ok(t)
	e.do(call(keyP1, "AddLiveRecordNotifyConfig", "DomainName", "test.com", "OnDemandUrl", "http://cb.test.com")).ok(t)
	require.Equal(t, liveRecordNotifyConfig{DomainName: "test.com", OnDemandURL: "http://cb.test.com"}, e.notifyConfig(t, keyP1, "test.com"))
}

func TestBadNotifyConfigsAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	add := func(args ...string) *req {
		return call(keyP1, "AddLiveRecordNotifyConfig", append([]string{"DomainName", "a.com"}, args...)...)
	}
	for _, tc := range []struct {
		args []string
		code string
		msg  string
	}{
		{[]string{"NotifyUrl", "ftp://cb.example.com/"}, "InvalidNotifyUrl.Malformed", "NotifyUrl"},
		{[]string{"NotifyUrl", "cb.example.com/path"}, "InvalidNotifyUrl.Malformed", "NotifyUrl"},
		{[]string{"NotifyUrl", "http://user:pw@cb.example.com/"}, "InvalidNotifyUrl.Malformed", "credentials"},
		{[]string{"NotifyUrl", "http://cb.example.com/", "OnDemandUrl", "not a url"}, "InvalidNotifyUrl.Malformed", "OnDemandUrl"},
		{[]string{"NotifyUrl", "http://cb.example.com/", "NeedStatusNotify", "maybe"}, "InvalidParameter", `"NeedStatusNotify"`},
		{[]string{"NeedStatusNotify", "true"}, "MissingNotifyUrl", "NotifyUrl is mandatory"},
	} {
		e.do(add(tc.args...)).fails(t, http.StatusBadRequest, tc.code, tc.msg)
	}
	e.do(call(keyP1, "AddLiveRecordNotifyConfig", "NotifyUrl", "http://cb.example.com/")).fails(t, http.StatusBadRequest, "MissingDomainName")
	e.do(call(keyP1, "AddLiveRecordNotifyConfig", "DomainName", "A B", "NotifyUrl", "http://cb.example.com/")).
		fails(t, http.StatusBadRequest, "InvalidParameter", `"DomainName"`)
	cs, _, err := e.svc.ListCallbacks(t.Context(), service.Principal{Project: "p1"}, store.CallbackFilter{})
	require.NoError(t, err)
	require.Empty(t, cs)
}

func TestRealTimeRecordCommand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cmd := func(args ...string) *req {
		base := map[string]string{"DomainName": "test.com", "AppName": "test123", "StreamName": "s1", "Command": "start"}
		for i := 0; i+1 < len(args); i += 2 {
			base[args[i]] = args[i+1]
		}
		var flat []string
		for k, v := range base {
			if v != "" {
				flat = append(flat, k, v)
			}
		}
		return call(keyP1, "RealTimeRecordCommand", flat...)
	}
	for _, tc := range []struct {
		args []string
		code string
		msg  string
	}{
		{[]string{"Command", "cancel"}, "InvalidParameter", "start, stop, cancel_delay, restart"},
		{[]string{"Command", "START"}, "InvalidParameter", `"Command"`},
		{[]string{"StreamName", "*"}, "InvalidParameter", "wildcards"},
		{[]string{"StreamName", "s*"}, "InvalidParameter", "wildcards"},
		{[]string{"AppName", "*"}, "InvalidParameter", "wildcards"},
		{[]string{"StreamName", "a/b"}, "InvalidParameter", `"StreamName"`},
		{[]string{"DomainName", ""}, "MissingDomainName", ""},
		{[]string{"AppName", ""}, "MissingAppName", ""},
		{[]string{"StreamName", ""}, "MissingStreamName", ""},
		{[]string{"Command", ""}, "MissingCommand", ""},
	} {
		e.do(cmd(tc.args...)).fails(t, http.StatusBadRequest, tc.code, tc.msg)
	}
	e.do(cmd()).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
	e.do(call(keyP1, "AddLiveAppRecordConfig", "DomainName", "test.com", "AppName", "other", "OssEndpoint", "x",
		"OssBucket", "b", "RecordFormat.1.Format", "flv")).ok(t)
	e.do(cmd()).fails(t, http.StatusNotFound, "InvalidConfig.NotFound", "Config does not exist.")
	// A configured stream that is not being published (nothing is, to this API, yet).
	e.do(seedRecordConfig(keyP1)).ok(t)
	for _, c := range []string{"start", "stop", "cancel_delay", "restart"} {
		e.do(cmd("Command", c)).fails(t, http.StatusNotFound, "InvalidStream.NotFound",
			"Stream does not exist: test.com/test123/s1 is not being published")
	}
}

func TestDescribeLiveRecordNotifyRecordsIsAnEmptyPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(seedRecordConfig(keyP1)).ok(t)
	records := func(args ...string) *req {
		return call(keyP1, "DescribeLiveRecordNotifyRecords", append([]string{"DomainName", "test.com",
			"StartTime", "2030-01-01T00:00:00Z", "EndTime", "2030-01-02T00:00:00Z"}, args...)...)
	}
	resp := e.do(records()).ok(t)
	require.Equal(t, map[string]any{"RequestId": resp.body["RequestId"], "Code": 0.0, "Msg": "ok", "PageNum": 1.0,
		"PageSize": 20.0, "TotalNum": 0.0, "TotalPage": 0.0, "CallbackList": []any{}}, resp.body)
	resp = e.do(records("PageNumber", "3", "PageSize", "500", "Status", "failed", "AppName", "test123", "StreamName", "s", "StorageType", "oss")).ok(t)
	require.Equal(t, 3.0, resp.body["PageNum"])
	require.Equal(t, 500.0, resp.body["PageSize"])

	for _, tc := range []struct {
		args []string
		code string
		msg  string
	}{
		{[]string{"PageSize", "501"}, "InvalidParameter", `"PageSize"`},
		{[]string{"PageSize", "0"}, "InvalidParameter", `"PageSize"`},
		{[]string{"PageNumber", "100001"}, "InvalidParameter", `"PageNumber"`},
		{[]string{"Status", "ok"}, "InvalidParameter", `"Status"`},
		{[]string{"StorageType", "s3"}, "InvalidParameter", `"StorageType"`},
		{[]string{"StreamName", "*"}, "InvalidParameter", "wildcards"},
		{[]string{"StartTime", "2030-01-03T00:00:00Z"}, "InvalidParameter", `"EndTime"`},
		{[]string{"EndTime", "tomorrow"}, "InvalidParameter", `"EndTime"`},
		{[]string{"StartTime", ""}, "MissingStartTime", ""},
		{[]string{"EndTime", ""}, "MissingEndTime", ""},
	} {
		e.do(records(tc.args...)).fails(t, http.StatusBadRequest, tc.code, tc.msg)
	}
}

func TestDescribeLiveRecordNotifyRecordsReadsTheDeliveryLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, p1 := t.Context(), service.Principal{Project: "p1"}
	e.do(seedRecordConfig(keyP1)).ok(t)
	e.do(call(keyP1, "AddLiveRecordNotifyConfig", "DomainName", "test.com", "NotifyUrl", "http://cb.example.com/rec",
		"NeedStatusNotify", "true")).ok(t)
	aliCfg, err := e.svc.FindCallback(ctx, p1, recording.DialectAliyun, "test.com", "*")
	require.NoError(t, err)
	// A standard-dialect config of the same domain: its deliveries are not in this log.
	std := &recording.CallbackConfig{Dialect: recording.DialectStandard, Domain: "test.com", App: "*", URL: "https://std.example.com/"}
	require.NoError(t, e.svc.CreateCallback(ctx, p1, std))

	at := time.Date(2030, 1, 1, 10, 0, 0, 0, time.UTC)
	start, end := at.Add(-time.Minute), at.Add(time.Minute)
	data := recording.EventData{Project: "p1", RecordingID: "rec1", Domain: "test.com", App: "test123", Stream: "s1",
		ObjectKey: "test123/s1/a.m3u8", Duration: 1500 * time.Millisecond, StartTime: &start, EndTime: &end}
	ch := store.Change{
		Events: []recording.OutboxEvent{
			{Type: recording.EventRecordStarted, Data: data, CreatedAt: at},
			{Type: recording.EventFileCompleted, Data: data, CreatedAt: at.Add(time.Minute)},
			{Type: recording.EventFileCompleted, Data: data, CreatedAt: at.Add(2 * time.Minute)},
		},
		Deliveries: [][]recording.Delivery{
			{{CallbackID: aliCfg.ID, OrderKey: "k", Seq: 1}, {CallbackID: std.ID, OrderKey: "s", Seq: 1}},
			{{CallbackID: aliCfg.ID, OrderKey: "k", Seq: 2}, {CallbackID: std.ID, OrderKey: "s", Seq: 2}},
			{{CallbackID: aliCfg.ID, OrderKey: "k", Seq: 3}},
		},
	}
	require.NoError(t, e.svc.Store.Apply(ctx, ch))
	delivered, failed := ch.Deliveries[0][0].ID, ch.Deliveries[1][0].ID
	require.NoError(t, e.svc.Store.DeliveryRecord(ctx, recording.Attempt{DeliveryID: delivered, At: at, Status: 200},
		recording.DeliveryDelivered, at, ""))
	require.NoError(t, e.svc.Store.DeliveryRecord(ctx, recording.Attempt{DeliveryID: failed, At: at, Status: 404},
		recording.DeliveryFailed, at, "HTTP 404"))

	records := func(key testKey, args ...string) *req {
		return call(key, "DescribeLiveRecordNotifyRecords", append([]string{"DomainName", "test.com",
			"StartTime", "2030-01-01T00:00:00Z", "EndTime", "2030-01-02T00:00:00Z"}, args...)...)
	}
	var d struct {
		PageNum, PageSize, TotalNum, TotalPage int
		CallbackList                           []callbackRecord
	}
	e.do(records(keyP1)).ok(t).decode(t, &d)
	require.Equal(t, 3, d.TotalNum)
	require.Equal(t, 1, d.TotalPage)
	require.Len(t, d.CallbackList, 3)
	require.Equal(t, callbackRecord{AppName: "test123", DomainName: "test.com", StreamName: "s1",
		NotifyContent: `{"domain":"test.com","app":"test123","stream":"s1","event":"record_started"}`,
		NotifyResult:  "success", NotifyTime: "2030-01-01T10:00:00Z", NotifyType: "record_started",
		NotifyURL: "http://cb.example.com/rec"}, d.CallbackList[0])
	require.Equal(t, "failed", d.CallbackList[1].NotifyResult)
	require.Equal(t, "HTTP 404", d.CallbackList[1].Description)
	require.Equal(t, "file_completed", d.CallbackList[1].NotifyType)
	require.Equal(t, "2030-01-01T10:01:00Z", d.CallbackList[1].NotifyTime)
	require.JSONEq(t, `{"domain":"test.com","app":"test123","stream":"s1","uri":"test123/s1/a.m3u8","duration":1.5,
		"start_time":1893491940,"stop_time":1893492060,"push_args":{}}`, d.CallbackList[1].NotifyContent)
	require.Equal(t, "pending", d.CallbackList[2].NotifyResult)

	// Status filters, pages, and the app, stream and time filters.
	e.do(records(keyP1, "Status", "success")).ok(t).decode(t, &d)
	require.Equal(t, 1, d.TotalNum)
	require.Equal(t, "record_started", d.CallbackList[0].NotifyType)
	e.do(records(keyP1, "Status", "failed")).ok(t).decode(t, &d)
	require.Equal(t, 1, d.TotalNum)
	require.Equal(t, "failed", d.CallbackList[0].NotifyResult)
	e.do(records(keyP1, "PageSize", "2", "PageNumber", "2")).ok(t).decode(t, &d)
	require.Equal(t, 2, d.PageNum)
	require.Equal(t, 3, d.TotalNum)
	require.Equal(t, 2, d.TotalPage)
	require.Len(t, d.CallbackList, 1)
	require.Equal(t, "pending", d.CallbackList[0].NotifyResult)
	e.do(records(keyP1, "AppName", "other")).ok(t).decode(t, &d)
	require.Zero(t, d.TotalNum)
	require.Empty(t, d.CallbackList)
	e.do(records(keyP1, "StreamName", "s1", "EndTime", "2030-01-01T10:00:30Z")).ok(t).decode(t, &d)
	require.Equal(t, 1, d.TotalNum)

	// Another project's key does not see the domain.
	e.do(records(keyP2)).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
}
