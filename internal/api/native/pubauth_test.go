package native

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/pubauth"
	"github.com/liverec/liverec/internal/service"
)

func (failingService) SetPublishAuth(context.Context, service.Principal, []string, pubauth.Config) ([]*service.PublishAuth, error) {
	return nil, errSecret
}

func (failingService) GetPublishAuth(context.Context, service.Principal, string) (*service.PublishAuth, error) {
	return nil, errSecret
}

func (failingService) DeletePublishAuth(context.Context, service.Principal, string) error {
	return errSecret
}

func (failingService) CheckPublishURL(context.Context, service.Principal, string, string) (*service.URLCheck, error) {
	return nil, errSecret
}

func (failingService) SignPublishURL(context.Context, service.Principal, string, string, string, time.Time) (string, error) {
	return "", errSecret
}

const (
	nativePrimary = "LiveRecPrimaryKey01"
	nativeBackup  = "LiveRecBackupKey02"
	nativeHuawei  = "LiveRec0123456789abcdefABCDEF012"
)

func TestPublishAuthLifecycle(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	body := `{"method":"aliyun_a","key":"` + nativePrimary + `","backup_key":"` + nativeBackup +
		`","args":[{"name":"req_auth_ip_white","value":"10.0.0.0/8"}]}`
	v := decode[publishAuthView](t, c.json("p1", http.MethodPut, "/api/v1/domains/A.com/publish-auth", body), http.StatusOK)
	require.Equal(t, "a.com", v.Domain)
	require.Equal(t, "p1", v.Project)
	require.Equal(t, pubauth.MethodAliyunA, v.Method)
	require.True(t, v.HasKey)
	require.True(t, v.HasBackupKey)
	require.Equal(t, int64(1800), v.ValiditySeconds)
	require.Equal(t, []pubauth.Arg{{Name: "req_auth_ip_white", Value: "10.0.0.0/8"}}, v.Args)
	require.Positive(t, v.ConfigID)
	require.Equal(t, []string{"a.com"}, domainsOf(t, c, "p1"), "setting publish auth claims the domain")

	got := decode[publishAuthView](t, c.json("p1", http.MethodGet, "/api/v1/domains/a.com/publish-auth", ""), http.StatusOK)
	require.Equal(t, v, got)

	// Another project sees nothing of it and cannot replace it.
	c.json("p2", http.MethodGet, "/api/v1/domains/a.com/publish-auth", "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("p2", http.MethodPut, "/api/v1/domains/a.com/publish-auth", `{"method":"none"}`).requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("p2", http.MethodDelete, "/api/v1/domains/a.com/publish-auth", "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("p2", http.MethodPost, "/api/v1/publish-auth/check", `{"domain":"a.com","url":"rtmp://a.com/live/s"}`).
		requireError(t, http.StatusNotFound, codeNotFound, "")

	// Check and sign: what is signed passes; another stream, no signature or an old one do not.
	signed := decode[urlSignResponse](t, c.json("p1", http.MethodPost, "/api/v1/publish-auth/sign",
		`{"domain":"a.com","app":"live","stream":"cam"}`), http.StatusOK).URL
	require.True(t, strings.HasPrefix(signed, "rtmp://a.com/live/cam?auth_key="), signed)
	for _, tc := range []struct {
		url    string
		pass   bool
		reason pubauth.Reason
	}{
		{signed, true, ""},
		{strings.Replace(signed, "/cam?", "/cam2?", 1), false, pubauth.ReasonBadSignature},
		{"rtmp://a.com/live/cam", false, pubauth.ReasonMissing},
		{"rtmp://a.com/live/cam?auth_key=1-0-0-00000000000000000000000000000000", false, pubauth.ReasonBadSignature},
	} {
		r := decode[urlCheckResponse](t, c.json("p1", http.MethodPost, "/api/v1/publish-auth/check",
			`{"domain":"a.com","url":"`+tc.url+`"}`), http.StatusOK)
		require.Equal(t, tc.pass, r.Pass, tc.url)
		require.Equal(t, tc.reason, r.Reason, tc.url)
		require.Equal(t, pubauth.MethodAliyunA, r.Method)
	}

	require.Equal(t, http.StatusNoContent, c.json("p1", http.MethodDelete, "/api/v1/domains/a.com/publish-auth", "").status)
	c.json("p1", http.MethodGet, "/api/v1/domains/a.com/publish-auth", "").requireError(t, http.StatusNotFound, codeNotFound, "")
	r := decode[urlCheckResponse](t, c.json("p1", http.MethodPost, "/api/v1/publish-auth/check",
		`{"domain":"a.com","url":"rtmp://a.com/live/cam"}`), http.StatusOK)
	require.True(t, r.Pass, "without publish auth every URL passes")

	c.requireNeverShown(t, nativePrimary)
	c.requireNeverShown(t, nativeBackup)
}

// Domain "*" closes every domain without its own configuration; only an admin sets it.
func TestPublishAuthDefaultIsAdminOnly(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	body := `{"method":"huawei_d","key":"` + nativeHuawei + `","validity_s":3600}`
	c.json("p1", http.MethodPut, "/api/v1/domains/*/publish-auth", body).requireError(t, http.StatusForbidden, codeForbidden, "")
	v := decode[publishAuthView](t, c.send(c.admin(), http.MethodPut, "/api/v1/domains/*/publish-auth", "application/json", body), http.StatusOK)
	require.Equal(t, "*", v.Domain)
	require.Equal(t, pubauth.MethodHuaweiD, v.Method)

	require.Equal(t, http.StatusCreated, c.json("p1", http.MethodPost, "/api/v1/rules", `{"domain":"b.com","app":"live","formats":[{"format":"flv"}]}`).status)
	r := decode[urlCheckResponse](t, c.json("p1", http.MethodPost, "/api/v1/publish-auth/check",
		`{"domain":"b.com","url":"rtmp://b.com/live/cam"}`), http.StatusOK)
	require.False(t, r.Pass, "the default applies to b.com")
	require.Equal(t, pubauth.ReasonMissing, r.Reason)
	require.Equal(t, pubauth.MethodHuaweiD, r.Method)
	c.requireNeverShown(t, nativeHuawei)
}

func TestPublishAuthValidation(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	for _, tc := range []struct{ path, body, field string }{
		{"/api/v1/domains/a.com/publish-auth", `{"method":"huawei_b","key":"short","validity_s":3600}`, "key"},
		{"/api/v1/domains/a.com/publish-auth", `{"method":"huawei_c","key":"` + nativeHuawei + `","validity_s":3600}`, "method"},
		{"/api/v1/domains/a.com/publish-auth", `{"method":"huawei_d","key":"` + nativeHuawei + `"}`, "validity_s"},
		{"/api/v1/domains/a.com/publish-auth", `{"method":"webhook","webhook_url":"ftp://x"}`, "webhook_url"},
		{"/api/v1/domains/a.com/publish-auth", `{"method":"webhook","webhook_url":"http://x","webhook_timeout_ms":50}`, "webhook_timeout_ms"},
		{"/api/v1/domains/a.com/publish-auth", `{"method":"none","secret":"x"}`, "secret"},
		{"/api/v1/domains/a.com/publish-auth", `{}`, "method"},
		{"/api/v1/domains/a%20b/publish-auth", `{"method":"none"}`, "domain"},
		{"/api/v1/publish-auth/check", `{"domain":"a.com"}`, "url"},
		{"/api/v1/publish-auth/check", `{"url":"rtmp://a.com/live/s"}`, "domain"},
		{"/api/v1/publish-auth/sign", `{"domain":"a.com","app":"live","stream":"a/b"}`, "stream"},
	} {
		method := http.MethodPut
		if strings.HasPrefix(tc.path, "/api/v1/publish-auth/") {
			method = http.MethodPost
		}
		c.json("p1", method, tc.path, tc.body).requireError(t, http.StatusBadRequest, codeInvalidArgument, tc.field)
	}
	r := c.json("p1", http.MethodPut, "/api/v1/domains/a.com/publish-auth", `{"method":"huawei_c","key":"`+nativeHuawei+`","validity_s":3600}`)
	require.Contains(t, string(r.body), "not documented well enough")

	// A configuration that signs nothing cannot sign.
	require.Equal(t, http.StatusOK, c.json("p1", http.MethodPut, "/api/v1/domains/a.com/publish-auth", `{"method":"webhook","webhook_url":"https://auth.example.com/"}`).status)
	c.json("p1", http.MethodPost, "/api/v1/publish-auth/sign", `{"domain":"a.com","app":"live","stream":"s"}`).
		requireError(t, http.StatusBadRequest, codeInvalidArgument, "domain")
	v := decode[publishAuthView](t, c.json("p1", http.MethodGet, "/api/v1/domains/a.com/publish-auth", ""), http.StatusOK)
	require.Equal(t, int64(3000), v.WebhookTimeoutMS, "the webhook timeout defaults to 3 s")
	require.False(t, v.HasKey)
}
