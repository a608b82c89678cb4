package compat

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	live "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/live/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/live/v1/model"
	"github.com/stretchr/testify/require"
)

// huaweiClient is the official Live client pointed at liverec. A fixed endpoint (no region)
// keeps the SDK from asking IAM for the project id, and an http:// endpoint is used as given.
func huaweiClient(t *testing.T, s *server, ak, sk, project string) *live.LiveClient {
	t.Helper()
	cred, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(project).SafeBuild()
	require.NoError(t, err)
	hc, err := live.LiveClientBuilder().WithEndpoint("http://" + s.HTTP).WithCredential(cred).
		WithHttpConfig(config.DefaultHttpConfig().WithTimeout(10 * time.Second)).SafeBuild()
	require.NoError(t, err)
	return live.NewLiveClient(hc)
}

// requireHuaweiError checks that err is the SDK's service error with status and code.
func requireHuaweiError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var se *sdkerr.ServiceResponseError
	require.True(t, errors.As(err, &se), "not a service error: %v", err)
	require.Equal(t, status, se.StatusCode, se.Error())
	require.Equal(t, code, se.ErrorCode, se.Error())
	require.NotEmpty(t, se.RequestId, "X-request-id")
}

func hwPtr[T any](v T) *T { return &v }

func ruleRequest(app string, cycle int32) *model.RecordRuleRequest {
	formats := model.GetVideoFormatVarEnum()
	rt := model.GetRecordRuleRequestRecordTypeEnum().CONTINUOUS_RECORD
	return &model.RecordRuleRequest{
		PublishDomain: "push.example.com", App: app, Stream: "*", RecordType: &rt,
		DefaultRecordConfig: &model.DefaultRecordConfig{
			RecordFormat: []model.VideoFormatVar{formats.HLS, formats.FLV},
			ObsAddr: &model.RecordObsFileAddr{Bucket: "mybucket", Object: "rec",
				Location: model.GetRecordObsFileAddrLocationEnum().CN_NORTH_4},
			HlsConfig: &model.HlsRecordConfig{RecordCycle: cycle, RecordSliceDuration: hwPtr(int32(6))},
			FlvConfig: &model.FlvRecordConfig{RecordCycle: 3600, RecordMaxDurationToMergeFile: hwPtr(int32(-1))},
		},
	}
}

func callbackRequest(app, url string) *model.RecordCallbackConfigRequest {
	events := model.GetRecordCallbackConfigRequestNotifyEventSubscriptionEnum()
	sign := model.GetRecordCallbackConfigRequestSignTypeEnum().MD5
	return &model.RecordCallbackConfigRequest{
		PublishDomain: "push.example.com", App: app, NotifyCallbackUrl: &url,
		NotifyEventSubscription: &[]model.RecordCallbackConfigRequestNotifyEventSubscription{events.RECORD_NEW_FILE_START, events.RECORD_FILE_COMPLETE},
		SignType:                &sign, Key: hwPtr("abcdefghijABCDEFGHIJ0123456789xy"),
	}
}

func TestHuaweiRules(t *testing.T) {
	t.Parallel()
	s := startLiverec(t)
	c := huaweiClient(t, s, keyA, secretA, projectA)

	created, err := c.CreateRecordRule(&model.CreateRecordRuleRequest{Body: ruleRequest("live", 900)})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, created.HttpStatusCode)
	require.NotEmpty(t, *created.Id)
	require.Equal(t, "CONTINUOUS_RECORD", created.RecordType.Value())
	cfg := created.DefaultRecordConfig
	require.Equal(t, []string{"HLS", "FLV"}, []string{cfg.RecordFormat[0].Value(), cfg.RecordFormat[1].Value()})
	require.Equal(t, "cn-north-4", cfg.ObsAddr.Location.Value())
	require.Equal(t, int32(900), cfg.HlsConfig.RecordCycle)
	require.Equal(t, int32(6), *cfg.HlsConfig.RecordSliceDuration)
	require.Equal(t, "{file_start_time_unix}_{file_end_time_unix}_{ts_sequence_number}", *cfg.HlsConfig.RecordTsPrefix)
	require.Equal(t, int32(-1), *cfg.FlvConfig.RecordMaxDurationToMergeFile)
	_, err = time.Parse("2006-01-02T15:04:05Z", *created.CreateTime)
	require.NoError(t, err)

	// Out of range: the SDK sees LIVE.100011001; the same key again: LIVE.103011018.
	_, err = c.CreateRecordRule(&model.CreateRecordRuleRequest{Body: ruleRequest("other", 59)})
	requireHuaweiError(t, err, http.StatusBadRequest, "LIVE.100011001")
	_, err = c.CreateRecordRule(&model.CreateRecordRuleRequest{Body: ruleRequest("live", 900)})
	requireHuaweiError(t, err, http.StatusBadRequest, "LIVE.103011018")

	second, err := c.CreateRecordRule(&model.CreateRecordRuleRequest{Body: ruleRequest("second", 0)})
	require.NoError(t, err)
	list, err := c.ListRecordRules(&model.ListRecordRulesRequest{})
	require.NoError(t, err)
	require.Equal(t, int32(2), *list.Total)
	require.Len(t, *list.RecordConfig, 2)
	list, err = c.ListRecordRules(&model.ListRecordRulesRequest{PublishDomain: hwPtr("push.example.com"), App: hwPtr("second"),
		Offset: hwPtr(int32(0)), Limit: hwPtr(int32(5))})
	require.NoError(t, err)
	require.Equal(t, int32(1), *list.Total)
	require.Equal(t, *second.Id, *(*list.RecordConfig)[0].Id)
	_, err = c.ListRecordRules(&model.ListRecordRulesRequest{Limit: hwPtr(int32(101))})
	requireHuaweiError(t, err, http.StatusBadRequest, "LIVE.100011001")

	shown, err := c.ShowRecordRule(&model.ShowRecordRuleRequest{Id: *created.Id})
	require.NoError(t, err)
	require.Equal(t, "push.example.com", *shown.PublishDomain)
	require.Equal(t, "rec", shown.DefaultRecordConfig.ObsAddr.Object)

	upd := ruleRequest("live", 43200)
	cmd := model.GetRecordRuleRequestRecordTypeEnum().COMMAND_RECORD
	upd.RecordType = &cmd
	updated, err := c.UpdateRecordRule(&model.UpdateRecordRuleRequest{Id: *created.Id, Body: upd})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, updated.HttpStatusCode)
	require.Equal(t, "COMMAND_RECORD", updated.RecordType.Value())
	require.Equal(t, int32(43200), updated.DefaultRecordConfig.HlsConfig.RecordCycle)

	// A COMMAND_RECORD rule takes commands; the stream is not live, so the cloud's 404.
	action := model.GetRunRecordRequestActionEnum().START
	_, err = c.RunRecord(&model.RunRecordRequest{Action: action,
		Body: &model.RecordControlInfo{PublishDomain: "push.example.com", App: "live", Stream: "s1"}})
	requireHuaweiError(t, err, http.StatusNotFound, "LIVE.103011019")

	deleted, err := c.DeleteRecordRule(&model.DeleteRecordRuleRequest{Id: *created.Id})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, deleted.HttpStatusCode)
	_, err = c.ShowRecordRule(&model.ShowRecordRuleRequest{Id: *created.Id})
	requireHuaweiError(t, err, http.StatusNotFound, "LIVE.103011019")
}

func TestHuaweiCallbacks(t *testing.T) {
	t.Parallel()
	s := startLiverec(t)
	c := huaweiClient(t, s, keyA, secretA, projectA)

	created, err := c.CreateRecordCallbackConfig(&model.CreateRecordCallbackConfigRequest{
		Body: callbackRequest("live", "http://127.0.0.1:9/hook")})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, created.HttpStatusCode)
	require.Equal(t, "MD5", created.SignType.Value())
	require.Len(t, *created.NotifyEventSubscription, 2)

	_, err = c.CreateRecordCallbackConfig(&model.CreateRecordCallbackConfigRequest{Body: callbackRequest("live", "http://127.0.0.1:9/other")})
	requireHuaweiError(t, err, http.StatusBadRequest, "LIVE.103011018")
	_, err = c.CreateRecordCallbackConfig(&model.CreateRecordCallbackConfigRequest{Body: callbackRequest("bad", "ftp://x/")})
	requireHuaweiError(t, err, http.StatusBadRequest, "LIVE.100011001")

	// Defaults: RECORD_FILE_COMPLETE and HMACSHA256.
	plain, err := c.CreateRecordCallbackConfig(&model.CreateRecordCallbackConfigRequest{Body: &model.RecordCallbackConfigRequest{
		PublishDomain: "push.example.com", App: "*", NotifyCallbackUrl: hwPtr("https://hooks.example.com/rec")}})
	require.NoError(t, err)
	require.Equal(t, "HMACSHA256", plain.SignType.Value())
	require.Equal(t, "RECORD_FILE_COMPLETE", (*plain.NotifyEventSubscription)[0].Value())

	list, err := c.ListRecordCallbackConfigs(&model.ListRecordCallbackConfigsRequest{App: hwPtr("live")})
	require.NoError(t, err)
	require.Equal(t, int32(1), *list.Total)
	require.Equal(t, *created.Id, *(*list.CallbackConfig)[0].Id)

	shown, err := c.ShowRecordCallbackConfig(&model.ShowRecordCallbackConfigRequest{Id: *created.Id})
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:9/hook", *shown.NotifyCallbackUrl)

	upd := callbackRequest("live", "https://hooks.example.com/v2")
	upd.Key = nil // keeps the stored key
	updated, err := c.UpdateRecordCallbackConfig(&model.UpdateRecordCallbackConfigRequest{Id: *created.Id, Body: upd})
	require.NoError(t, err)
	require.Equal(t, "https://hooks.example.com/v2", *updated.NotifyCallbackUrl)

	deleted, err := c.DeleteRecordCallbackConfig(&model.DeleteRecordCallbackConfigRequest{Id: *created.Id})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, deleted.HttpStatusCode)
	_, err = c.ShowRecordCallbackConfig(&model.ShowRecordCallbackConfigRequest{Id: *created.Id})
	requireHuaweiError(t, err, http.StatusNotFound, "LIVE.103011019")
	_, err = c.DeleteRecordCallbackConfig(&model.DeleteRecordCallbackConfigRequest{Id: *created.Id})
	requireHuaweiError(t, err, http.StatusNotFound, "LIVE.103011019")
}

func TestHuaweiAuthenticationRefused(t *testing.T) {
	t.Parallel()
	s := startLiverec(t)
	for name, c := range map[string]*live.LiveClient{
		"WrongSecret": huaweiClient(t, s, keyA, "not-the-secret", projectA),
		"UnknownKey":  huaweiClient(t, s, "LRNOSUCHKEYNOSUCHKEYNOSU", secretA, projectA),
	} {
		_, err := c.ListRecordRules(&model.ListRecordRulesRequest{})
		requireHuaweiError(t, err, http.StatusUnauthorized, "APIGW.0301")
		_, err = c.CreateRecordRule(&model.CreateRecordRuleRequest{Body: ruleRequest("live", 900)})
		requireHuaweiError(t, err, http.StatusUnauthorized, "APIGW.0301")
		t.Log(name, "refused")
	}
}

func TestHuaweiProjectIsolation(t *testing.T) {
	t.Parallel()
	s := startLiverec(t)
	a := huaweiClient(t, s, keyA, secretA, projectA)
	rule, err := a.CreateRecordRule(&model.CreateRecordRuleRequest{Body: ruleRequest("live", 900)})
	require.NoError(t, err)
	cb, err := a.CreateRecordCallbackConfig(&model.CreateRecordCallbackConfigRequest{Body: callbackRequest("live", "http://127.0.0.1:9/hook")})
	require.NoError(t, err)

	const projectB = "1b2c3d4e5f6a4b5c8d9e0f1a2b3c4d5e"
	idB, secretB := newProjectKey(t, s, projectB)

	// In its own project, B sees none of A's objects, nor A's domain.
	b := huaweiClient(t, s, idB, secretB, projectB)
	rules, err := b.ListRecordRules(&model.ListRecordRulesRequest{})
	require.NoError(t, err)
	require.Equal(t, int32(0), *rules.Total)
	cbs, err := b.ListRecordCallbackConfigs(&model.ListRecordCallbackConfigsRequest{})
	require.NoError(t, err)
	require.Equal(t, int32(0), *cbs.Total)
	_, err = b.ShowRecordRule(&model.ShowRecordRuleRequest{Id: *rule.Id})
	requireHuaweiError(t, err, http.StatusNotFound, "LIVE.103011019")
	_, err = b.UpdateRecordRule(&model.UpdateRecordRuleRequest{Id: *rule.Id, Body: ruleRequest("live", 60)})
	requireHuaweiError(t, err, http.StatusNotFound, "LIVE.103011019")
	_, err = b.DeleteRecordRule(&model.DeleteRecordRuleRequest{Id: *rule.Id})
	requireHuaweiError(t, err, http.StatusNotFound, "LIVE.103011019")
	_, err = b.ShowRecordCallbackConfig(&model.ShowRecordCallbackConfigRequest{Id: *cb.Id})
	requireHuaweiError(t, err, http.StatusNotFound, "LIVE.103011019")
	_, err = b.UpdateRecordCallbackConfig(&model.UpdateRecordCallbackConfigRequest{Id: *cb.Id, Body: callbackRequest("live", "http://x/")})
	requireHuaweiError(t, err, http.StatusNotFound, "LIVE.103011019")
	_, err = b.DeleteRecordCallbackConfig(&model.DeleteRecordCallbackConfigRequest{Id: *cb.Id})
	requireHuaweiError(t, err, http.StatusNotFound, "LIVE.103011019")
	_, err = b.CreateRecordRule(&model.CreateRecordRuleRequest{Body: ruleRequest("other", 900)})
	requireHuaweiError(t, err, http.StatusNotFound, "LIVE.103011019")

	// Naming A's project does not help B's key.
	bInA := huaweiClient(t, s, idB, secretB, projectA)
	_, err = bInA.ListRecordRules(&model.ListRecordRulesRequest{})
	requireHuaweiError(t, err, http.StatusForbidden, "APIGW.0302")
	_, err = bInA.ShowRecordRule(&model.ShowRecordRuleRequest{Id: *rule.Id})
	requireHuaweiError(t, err, http.StatusForbidden, "APIGW.0302")
	_, err = bInA.UpdateRecordRule(&model.UpdateRecordRuleRequest{Id: *rule.Id, Body: ruleRequest("live", 60)})
	requireHuaweiError(t, err, http.StatusForbidden, "APIGW.0302")
	_, err = bInA.DeleteRecordRule(&model.DeleteRecordRuleRequest{Id: *rule.Id})
	requireHuaweiError(t, err, http.StatusForbidden, "APIGW.0302")
	_, err = bInA.ListRecordCallbackConfigs(&model.ListRecordCallbackConfigsRequest{})
	requireHuaweiError(t, err, http.StatusForbidden, "APIGW.0302")
	_, err = bInA.DeleteRecordCallbackConfig(&model.DeleteRecordCallbackConfigRequest{Id: *cb.Id})
	requireHuaweiError(t, err, http.StatusForbidden, "APIGW.0302")

	// A's objects are untouched.
	shown, err := a.ShowRecordRule(&model.ShowRecordRuleRequest{Id: *rule.Id})
	require.NoError(t, err)
	require.Equal(t, int32(900), shown.DefaultRecordConfig.HlsConfig.RecordCycle)
	_, err = a.ShowRecordCallbackConfig(&model.ShowRecordCallbackConfigRequest{Id: *cb.Id})
	require.NoError(t, err)
}
