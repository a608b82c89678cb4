package compat

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	alierrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/utils"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/live"
	"github.com/stretchr/testify/require"
)

// aliyunClient points the official live client at liverec: a region for the signature, the
// server's address as the endpoint, plain HTTP. rt, when set, sits between the SDK and the
// network (to replay or re-sign requests).
func aliyunClient(t *testing.T, s *server, keyID, keySecret string, rt http.RoundTripper) *live.Client {
	t.Helper()
	c, err := live.NewClientWithAccessKey("cn-shanghai", keyID, keySecret)
	require.NoError(t, err)
	c.Domain = s.HTTP
	c.GetConfig().Scheme = "http"
	if rt != nil {
		c.SetTransport(rt)
	}
	return c
}

// requireServerError checks the SDK's view of an error answer.
func requireServerError(t *testing.T, err error, status int, code string) *alierrors.ServerError {
	t.Helper()
	var se *alierrors.ServerError
	require.True(t, errors.As(err, &se), "want a server error, got %v", err)
	require.Equal(t, status, se.HttpStatus(), se.Error())
	require.Equal(t, code, se.ErrorCode(), se.Error())
	require.NotEmpty(t, se.RequestId())
	require.Equal(t, "live.aliyuncs.com", se.HostId())
	return se
}

func addRecordConfig(domain, app string, formats ...live.AddLiveAppRecordConfigRecordFormat) *live.AddLiveAppRecordConfigRequest {
	r := live.CreateAddLiveAppRecordConfigRequest()
	r.DomainName, r.AppName = domain, app
	r.OssEndpoint, r.OssBucket = "oss-cn-shanghai.aliyuncs.com", "bucket1"
	r.RecordFormat = &formats
	return r
}

func describeRecordConfigs(t *testing.T, c *live.Client, domain string) *live.DescribeLiveRecordConfigResponse {
	t.Helper()
	r := live.CreateDescribeLiveRecordConfigRequest()
	r.DomainName = domain
	resp, err := c.DescribeLiveRecordConfig(r)
	require.NoError(t, err)
	require.NotEmpty(t, resp.RequestId)
	return resp
}

func TestAliyunRecordConfigLifecycle(t *testing.T) {
	t.Parallel()
	c := aliyunClient(t, startLiverec(t), keyA, secretA, nil)

	add := addRecordConfig("live.example.com", "live",
		live.AddLiveAppRecordConfigRecordFormat{Format: "flv", CycleDuration: "600",
			OssObjectPrefix: "record/{AppName}/{StreamName}/{StartTime}_{EndTime}"},
		live.AddLiveAppRecordConfigRecordFormat{Format: "m3u8", CycleDuration: "7200", SliceDuration: "10",
			SliceOssObjectPrefix: "ts/{AppName}/{StreamName}/{UnixTimestamp}_{Sequence}"})
	add.OnDemand = requests.NewInteger(1)
	add.DelayTime = requests.NewInteger(300)
	resp, err := c.AddLiveAppRecordConfig(add)
	require.NoError(t, err)
	require.NotEmpty(t, resp.RequestId)

	d := describeRecordConfigs(t, c, "live.example.com")
	require.Equal(t, 1, d.TotalNum)
	require.Equal(t, 1, d.TotalPage)
	require.Equal(t, 1, d.PageNum)
	require.Equal(t, 10, d.PageSize)
	require.Equal(t, "asc", d.Order)
	require.Len(t, d.LiveAppRecordList.LiveAppRecord, 1)
	rec := d.LiveAppRecordList.LiveAppRecord[0]
	require.Equal(t, "live.example.com", rec.DomainName)
	require.Equal(t, "live", rec.AppName)
	require.Equal(t, 1, rec.OnDemond)
	require.Equal(t, 300, rec.DelayTime)
	require.Equal(t, "bucket1", rec.OssBucket)
	require.Equal(t, "oss-cn-shanghai.aliyuncs.com", rec.OssEndpoint)
	require.Equal(t, []live.RecordFormat{
		{Format: "FLV", OssObjectPrefix: "record/{AppName}/{StreamName}/{StartTime}_{EndTime}", CycleDuration: 600},
		{Format: "M3U8", OssObjectPrefix: "record/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}",
			SliceOssObjectPrefix: "ts/{AppName}/{StreamName}/{UnixTimestamp}_{Sequence}", SliceDuration: 10, CycleDuration: 7200},
	}, rec.RecordFormatList.RecordFormat)

	// A duplicate triplet.
	_, err = c.AddLiveAppRecordConfig(addRecordConfig("live.example.com", "live", live.AddLiveAppRecordConfigRecordFormat{Format: "mp4"}))
	se := requireServerError(t, err, http.StatusBadRequest, "ConfigAlreadyExists")
	require.Equal(t, "Config has already exist.", se.Message())

	// A prefix without time variables.
	_, err = c.AddLiveAppRecordConfig(addRecordConfig("live.example.com", "other",
		live.AddLiveAppRecordConfigRecordFormat{Format: "mp4", OssObjectPrefix: "record/{AppName}/{StreamName}"}))
	se = requireServerError(t, err, http.StatusBadRequest, "InvalidParameter")
	require.Contains(t, se.Message(), "RecordFormat.1.OssObjectPrefix")

	upd := live.CreateUpdateLiveAppRecordConfigRequest()
	upd.DomainName, upd.AppName = "live.example.com", "live"
	upd.OnDemand = requests.NewInteger(7)
	upd.DelayTime = requests.NewInteger(60)
	upd.RecordFormat = &[]live.UpdateLiveAppRecordConfigRecordFormat{{Format: "flv", CycleDuration: "1200"}}
	_, err = c.UpdateLiveAppRecordConfig(upd)
	require.NoError(t, err)
	rec = describeRecordConfigs(t, c, "live.example.com").LiveAppRecordList.LiveAppRecord[0]
	require.Equal(t, 7, rec.OnDemond)
	require.Equal(t, 60, rec.DelayTime)
	require.Equal(t, []live.RecordFormat{{Format: "FLV", OssObjectPrefix: "record/{AppName}/{StreamName}/{StartTime}_{EndTime}",
		CycleDuration: 1200}}, rec.RecordFormatList.RecordFormat)

	del := live.CreateDeleteLiveAppRecordConfigRequest()
	del.DomainName, del.AppName = "live.example.com", "live"
	_, err = c.DeleteLiveAppRecordConfig(del)
	require.NoError(t, err)
	require.Equal(t, 0, describeRecordConfigs(t, c, "live.example.com").TotalNum)
	_, err = c.DeleteLiveAppRecordConfig(del)
	requireServerError(t, err, http.StatusNotFound, "InvalidConfig.NotFound")
}

func TestAliyunNotifyConfigLifecycle(t *testing.T) {
	t.Parallel()
	c := aliyunClient(t, startLiverec(t), keyA, secretA, nil)
	describe := func() live.LiveRecordNotifyConfig {
		r := live.CreateDescribeLiveRecordNotifyConfigRequest()
		r.DomainName = "notify.example.com"
		resp, err := c.DescribeLiveRecordNotifyConfig(r)
		require.NoError(t, err)
		return resp.LiveRecordNotifyConfig
	}
	add := live.CreateAddLiveRecordNotifyConfigRequest()
	add.DomainName, add.NotifyUrl, add.OnDemandUrl = "notify.example.com", "http://cb.example.com/rec", "https://od.example.com/ask"
	add.NeedStatusNotify = requests.NewBoolean(true)
	_, err := c.AddLiveRecordNotifyConfig(add)
	require.NoError(t, err)
	require.Equal(t, live.LiveRecordNotifyConfig{DomainName: "notify.example.com", NotifyUrl: "http://cb.example.com/rec",
		OnDemandUrl: "https://od.example.com/ask", NeedStatusNotify: true}, describe())

	_, err = c.AddLiveRecordNotifyConfig(add)
	requireServerError(t, err, http.StatusBadRequest, "ConfigAlreadyExists")

	upd := live.CreateUpdateLiveRecordNotifyConfigRequest()
	upd.DomainName, upd.NotifyUrl, upd.NeedStatusNotify = "notify.example.com", "https://cb2.example.com/", requests.NewBoolean(false)
	_, err = c.UpdateLiveRecordNotifyConfig(upd)
	require.NoError(t, err)
	require.Equal(t, live.LiveRecordNotifyConfig{DomainName: "notify.example.com", NotifyUrl: "https://cb2.example.com/",
		OnDemandUrl: "https://od.example.com/ask"}, describe())

	upd.NotifyUrl = "ftp://cb.example.com/"
	_, err = c.UpdateLiveRecordNotifyConfig(upd)
	requireServerError(t, err, http.StatusBadRequest, "InvalidNotifyUrl.Malformed")
	bad := live.CreateAddLiveRecordNotifyConfigRequest()
	bad.DomainName, bad.NotifyUrl = "other.example.com", "cb.example.com/no-scheme"
	_, err = c.AddLiveRecordNotifyConfig(bad)
	requireServerError(t, err, http.StatusBadRequest, "InvalidNotifyUrl.Malformed")

	del := live.CreateDeleteLiveRecordNotifyConfigRequest()
	del.DomainName = "notify.example.com"
	_, err = c.DeleteLiveRecordNotifyConfig(del)
	require.NoError(t, err)
	require.Equal(t, live.LiveRecordNotifyConfig{}, describe())
}

// TestAliyunSeedExamples replays seed 003's requests as written: an m3u8 config without slice
// fields, then a notify config with only an OnDemandUrl.
func TestAliyunSeedExamples(t *testing.T) {
	t.Parallel()
	c := aliyunClient(t, startLiverec(t), keyA, secretA, nil)
	add := live.CreateAddLiveAppRecordConfigRequest()
	add.AppName, add.DomainName, add.OssBucket, add.OssEndpoint = "test123", "test.com", "test123", "oss-cn-shanghai.aliyuncs.com"
	add.RecordFormat = &[]live.AddLiveAppRecordConfigRecordFormat{{Format: "m3u8"}}
	_, err := c.AddLiveAppRecordConfig(add)
	require.NoError(t, err)

	notify := live.CreateAddLiveRecordNotifyConfigRequest()
	notify.DomainName, notify.OnDemandUrl = "test.com", "http://cb.test.com"
	_, err = c.AddLiveRecordNotifyConfig(notify)
	require.NoError(t, err)

	rec := describeRecordConfigs(t, c, "test.com").LiveAppRecordList.LiveAppRecord[0]
	require.Equal(t, 0, rec.OnDemond)
	require.Equal(t, 180, rec.DelayTime)
	require.Equal(t, []live.RecordFormat{{Format: "M3U8", OssObjectPrefix: "record/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}",
		SliceOssObjectPrefix: "record/{AppName}/{StreamName}/{UnixTimestamp}_{Sequence}", SliceDuration: 30, CycleDuration: 21600}},
		rec.RecordFormatList.RecordFormat)
}

func TestAliyunCommandsAndNotifyRecords(t *testing.T) {
	t.Parallel()
	c := aliyunClient(t, startLiverec(t), keyA, secretA, nil)
	_, err := c.AddLiveAppRecordConfig(addRecordConfig("cmd.example.com", "live", live.AddLiveAppRecordConfigRecordFormat{Format: "flv"}))
	require.NoError(t, err)

	cmd := live.CreateRealTimeRecordCommandRequest()
	cmd.DomainName, cmd.AppName, cmd.StreamName, cmd.Command = "cmd.example.com", "live", "s1", "start"
	_, err = c.RealTimeRecordCommand(cmd)
	requireServerError(t, err, http.StatusNotFound, "InvalidStream.NotFound") // nothing is being published
	cmd.Command = "cancel"
	_, err = c.RealTimeRecordCommand(cmd)
	requireServerError(t, err, http.StatusBadRequest, "InvalidParameter")

	rec := live.CreateDescribeLiveRecordNotifyRecordsRequest()
	rec.DomainName = "cmd.example.com"
	rec.StartTime = time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	rec.EndTime = time.Now().UTC().Format("2006-01-02T15:04:05Z")
	resp, err := c.DescribeLiveRecordNotifyRecords(rec)
	require.NoError(t, err)
	require.Equal(t, 0, resp.TotalNum)
	require.Equal(t, 1, resp.PageNum)
	require.Empty(t, resp.CallbackList)
}

func TestAliyunBadCredentialsAreRefused(t *testing.T) {
	t.Parallel()
	s := startLiverec(t)
	good := aliyunClient(t, s, keyA, secretA, nil)
	_, err := good.AddLiveAppRecordConfig(addRecordConfig("auth.example.com", "live", live.AddLiveAppRecordConfigRecordFormat{Format: "flv"}))
	require.NoError(t, err)
	describe := func(c *live.Client) error {
		r := live.CreateDescribeLiveRecordConfigRequest()
		r.DomainName = "auth.example.com"
		_, err := c.DescribeLiveRecordConfig(r)
		return err
	}

	// A wrong secret: the server's string to sign matches the SDK's, so the SDK recommends
	// checking the secret.
	se := requireServerError(t, describe(aliyunClient(t, s, keyA, "wrong-secret", nil)), http.StatusBadRequest, "SignatureDoesNotMatch")
	require.Contains(t, se.Recommend(), "InvalidAccessKeySecret")
	requireServerError(t, describe(aliyunClient(t, s, "LRNOSUCHKEYAAAAAAAAAAAAA", secretA, nil)), http.StatusNotFound, "InvalidAccessKeyId.NotFound")

	// The same signed request twice: the first is answered, the replay refused.
	replay := &replayTransport{}
	requireServerError(t, describe(aliyunClient(t, s, keyA, secretA, replay)), http.StatusBadRequest, "SignatureNonceUsed")
	require.Equal(t, http.StatusOK, replay.firstStatus)

	// A request signed 20 minutes ago (re-signed with the SDK's own primitives).
	stale := &resignTransport{secret: secretA, edit: func(q url.Values) {
		q.Set("Timestamp", time.Now().Add(-20*time.Minute).UTC().Format("2006-01-02T15:04:05Z"))
	}}
	requireServerError(t, describe(aliyunClient(t, s, keyA, secretA, stale)), http.StatusBadRequest, "InvalidTimeStamp.Expired")
	// The re-signing itself is sound: an unchanged timestamp passes.
	fresh := &resignTransport{secret: secretA, edit: func(url.Values) {}}
	require.NoError(t, describe(aliyunClient(t, s, keyA, secretA, fresh)))
}

// replayTransport sends each request twice and returns the second answer.
type replayTransport struct{ firstStatus int }

func (rt *replayTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	first := r.Clone(r.Context())
	if r.GetBody != nil {
		body, err := r.GetBody()
		if err != nil {
			return nil, err
		}
		first.Body = body
	}
	resp, err := http.DefaultTransport.RoundTrip(first)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	rt.firstStatus = resp.StatusCode
	return http.DefaultTransport.RoundTrip(r)
}

// resignTransport edits the query of an SDK request and signs it again the way the SDK's
// signRpcRequest does (utils.GetUrlFormedMap, the three replacements, utils.ShaHmac1).
type resignTransport struct {
	secret string
	edit   func(url.Values)
}

func (rt *resignTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	q := r.URL.Query()
	rt.edit(q)
	q.Del("Signature")
	flat := map[string]string{}
	for k := range q {
		flat[k] = q.Get(k)
	}
	canonical := utils.GetUrlFormedMap(flat)
	canonical = strings.ReplaceAll(canonical, "+", "%20")
	canonical = strings.ReplaceAll(canonical, "*", "%2A")
	canonical = strings.ReplaceAll(canonical, "%7E", "~")
	q.Set("Signature", utils.ShaHmac1(r.Method+"&%2F&"+url.QueryEscape(canonical), rt.secret+"&"))
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = q.Encode()
	return http.DefaultTransport.RoundTrip(r2)
}
