package aliyun

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/pubauth"
	"github.com/liverec/liverec/internal/service"
)

const (
	aliPrimary = "LiveRecPrimaryKey01"
	aliBackup  = "LiveRecBackupKey02"
	// aliSigned is liverec's type-A vector: /live/stream1 at 1700003600 with the primary key.
	aliSigned = "rtmp://push.example.com/live/stream1?auth_key=1700003600-0-0-a8bb09f4a917eeddc8267aae7cd1f627"
)

const aliauthFunctions = `[{"functionName":"aliauth","functionArgs":[` +
	`{"argName":"auth_type","argValue":"type_a"},{"argName":"auth_key1","argValue":"` + aliPrimary + `"},` +
	`{"argName":"auth_key2","argValue":"` + aliBackup + `"},{"argName":"ali_auth_delta","argValue":"1800"},` +
	`{"argName":"req_auth_ip_white","argValue":"10.0.0.0/8"}]}]`

type domainConfigsDoc struct {
	DomainConfigs struct {
		DomainConfig []domainConfig
	}
}

func (e *env) domainConfigs(t *testing.T, key testKey, domain string) []domainConfig {
	t.Helper()
	var d domainConfigsDoc
	e.do(call(key, "DescribeLiveDomainConfigs", "DomainName", domain, "FunctionNames", "aliauth")).ok(t).decode(t, &d)
	require.NotNil(t, d.DomainConfigs.DomainConfig, "an empty list, not null")
	return d.DomainConfigs.DomainConfig
}

func (e *env) authCheck(t *testing.T, key testKey, domain, u string) (status, description string) {
	t.Helper()
	r := e.do(call(key, "DescribeLiveStreamAuthChecking", "DomainName", domain, "Url", u)).ok(t)
	return r.body["Status"].(string), r.body["Description"].(string)
}

func TestDomainConfigsLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.svc.Now = func() time.Time { return time.Unix(1700003600, 0) }
	e.do(call(keyP1, "BatchSetLiveDomainConfigs", "DomainNames", "push.example.com,b.example.com",
		"Functions", aliauthFunctions)).ok(t)

	cs := e.domainConfigs(t, keyP1, "push.example.com")
	require.Len(t, cs, 1)
	c := cs[0]
	require.Equal(t, "aliauth", c.FunctionName)
	require.Equal(t, "success", c.Status)
	id, err := strconv.ParseInt(c.ConfigID, 10, 64)
	require.NoError(t, err)
	require.Positive(t, id)
	require.Equal(t, []describedArg{{"auth_type", "type_a"}, {"auth_key1", aliPrimary}, {"auth_key2", aliBackup},
		{"ali_auth_delta", "1800"}, {"req_auth_ip_white", "10.0.0.0/8"}}, c.FunctionArgs.FunctionArg)
	require.Len(t, e.domainConfigs(t, keyP1, "b.example.com"), 1, "both domains of the batch")
	require.NotContains(t, e.logs.String(), aliPrimary, "keys never reach the logs")

	// The check emulates Alibaba's Descriptions.
	for _, tc := range []struct{ url, status, description string }{
		{aliSigned, "pass", ""},
		{"rtmp://push.example.com/live/stream1?auth_key=1700003600-0-0-778487078848bd85d40c840947979b00", "pass", ""},
		{"rtmp://push.example.com/live/stream1", "false", "INVALID AUTH_KEY"},
		{"rtmp://push.example.com/live/stream1?auth_key=1700003600-0-0-zz", "false", "INVALID AUTH_KEY"},
		{"rtmp://push.example.com/live/stream2?auth_key=1700003600-0-0-a8bb09f4a917eeddc8267aae7cd1f627", "false", "INVALID MD5HASH"},
	} {
		status, desc := e.authCheck(t, keyP1, "push.example.com", tc.url)
		require.Equal(t, tc.status, status, tc.url)
		require.Equal(t, tc.description, desc, tc.url)
	}
	e.svc.Now = func() time.Time { return time.Unix(1700005401, 0) }
	status, desc := e.authCheck(t, keyP1, "push.example.com", aliSigned)
	require.Equal(t, []string{"false", "INVALID TIMESTAMP"}, []string{status, desc})

	// A set naming the ConfigId updates that config; another ConfigId is not found.
	e.do(call(keyP1, "BatchSetLiveDomainConfigs", "DomainNames", "push.example.com", "Functions",
		`[{"functionName":"aliauth","configId":`+c.ConfigID+`,"functionArgs":[{"argName":"auth_type","argValue":"type_a"},`+
			`{"argName":"auth_key1","argValue":"`+aliPrimary+`"},{"argName":"ali_auth_delta","argValue":"60"}]}]`)).ok(t)
	cs = e.domainConfigs(t, keyP1, "push.example.com")
	require.Equal(t, c.ConfigID, cs[0].ConfigID)
	require.Equal(t, []describedArg{{"auth_type", "type_a"}, {"auth_key1", aliPrimary}, {"ali_auth_delta", "60"}},
		cs[0].FunctionArgs.FunctionArg)
	e.do(call(keyP1, "BatchSetLiveDomainConfigs", "DomainNames", "push.example.com", "Functions",
		`[{"functionName":"aliauth","configId":999999,"functionArgs":[{"argName":"auth_type","argValue":"no_auth"}]}]`)).
		fails(t, http.StatusNotFound, "InvalidConfig.NotFound")

	e.do(call(keyP1, "BatchDeleteLiveDomainConfigs", "DomainNames", "push.example.com,b.example.com", "FunctionNames", "aliauth")).ok(t)
	require.Empty(t, e.domainConfigs(t, keyP1, "push.example.com"))
	require.Empty(t, e.domainConfigs(t, keyP1, "b.example.com"))
	status, _ = e.authCheck(t, keyP1, "push.example.com", "rtmp://push.example.com/live/stream1")
	require.Equal(t, "pass", status, "a domain without publish auth admits every URL")
	e.do(call(keyP1, "BatchDeleteLiveDomainConfigs", "DomainNames", "push.example.com", "FunctionNames", "aliauth")).ok(t)
}

func TestDomainConfigsRefuseWhatIsNotAliauth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		args  []string
		parts []string
	}{
		{[]string{"Functions", `[{"functionName":"referer","functionArgs":[]}]`}, []string{"Functions", "only the aliauth function"}},
		{[]string{"Functions", `not json`}, []string{"Functions"}},
		{[]string{"Functions", `[]`}, []string{"exactly one"}},
		{[]string{"Functions", `[{"functionName":"aliauth","functionArgs":[{"argName":"auth_type","argValue":"type_b"}]}]`}, []string{"type_a"}},
		{[]string{"Functions", `[{"functionName":"aliauth","functionArgs":[{"argName":"auth_type","argValue":"type_a"}]}]`}, []string{"auth_key1", "required"}},
		{[]string{"Functions", `[{"functionName":"aliauth","functionArgs":[{"argName":"auth_type","argValue":"type_a"},{"argName":"auth_key1","argValue":"k-1"}]}]`}, []string{"auth_key1", "letters and digits"}},
		{[]string{"Functions", `[{"functionName":"aliauth","functionArgs":[{"argName":"auth_type","argValue":"type_a"},{"argName":"auth_key1","argValue":"` + aliPrimary + `"},{"argName":"ali_auth_delta","argValue":"soon"}]}]`}, []string{"ali_auth_delta"}},
		{[]string{"Functions", `[{"functionName":"aliauth","functionArgs":[{"argName":"auth_type","argValue":"type_a"},{"argName":"auth_type","argValue":"type_a"}]}]`}, []string{"twice"}},
	} {
		e.do(call(keyP1, "BatchSetLiveDomainConfigs", append([]string{"DomainNames", "a.com"}, tc.args...)...)).
			fails(t, http.StatusBadRequest, "InvalidParameter", tc.parts...)
	}
	e.do(call(keyP1, "BatchSetLiveDomainConfigs", "Functions", aliauthFunctions)).fails(t, http.StatusBadRequest, "MissingDomainNames")
	e.do(call(keyP1, "BatchSetLiveDomainConfigs", "DomainNames", "a.com")).fails(t, http.StatusBadRequest, "MissingFunctions")
	e.do(call(keyP1, "DescribeLiveDomainConfigs", "DomainName", "a.com", "FunctionNames", "aliauth,referer")).
		fails(t, http.StatusBadRequest, "InvalidParameter", "FunctionNames")
	e.do(call(keyP1, "BatchDeleteLiveDomainConfigs", "DomainNames", "a.com", "FunctionNames", "https_force")).
		fails(t, http.StatusBadRequest, "InvalidParameter", "FunctionNames")
	_, err := e.svc.GetPublishAuth(t.Context(), service.Principal{Project: "p1"}, "a.com")
	require.Error(t, err, "nothing was written")
}

// A domain belongs to its first project; the others learn nothing of its publish auth.
func TestDomainConfigsTenancy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(call(keyP1, "BatchSetLiveDomainConfigs", "DomainNames", "a.com", "Functions", aliauthFunctions)).ok(t)
	e.do(call(keyP2, "DescribeLiveDomainConfigs", "DomainName", "a.com")).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
	e.do(call(keyP2, "BatchSetLiveDomainConfigs", "DomainNames", "b.com,a.com", "Functions", aliauthFunctions)).
		fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
	e.do(call(keyP2, "BatchDeleteLiveDomainConfigs", "DomainNames", "a.com", "FunctionNames", "aliauth")).
		fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
	e.do(call(keyP2, "DescribeLiveStreamAuthChecking", "DomainName", "a.com", "Url", aliSigned)).
		fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
	require.Len(t, e.domainConfigs(t, keyP1, "a.com"), 1)
	e.do(call(keyP2, "DescribeLiveDomainConfigs", "DomainName", "b.com")).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
}

// One model: a Huawei method-A key chain reads as aliauth type_a; methods without an aliauth
// form read as none, and the webhook cannot be judged from a URL.
func TestDomainConfigsShowOtherDialects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p1 := service.Principal{Project: "p1"}
	const hwKey = "LiveRec0123456789abcdefABCDEF012"
	_, err := e.svc.SetPublishAuth(t.Context(), p1, []string{"a.com"},
		pubauth.Config{Method: pubauth.MethodHuaweiA, Key: hwKey, Validity: time.Hour})
	require.NoError(t, err)
	cs := e.domainConfigs(t, keyP1, "a.com")
	require.Len(t, cs, 1)
	require.Equal(t, []describedArg{{"auth_type", "type_a"}, {"auth_key1", hwKey}, {"ali_auth_delta", "3600"}},
		cs[0].FunctionArgs.FunctionArg)

	_, err = e.svc.SetPublishAuth(t.Context(), p1, []string{"a.com"},
		pubauth.Config{Method: pubauth.MethodHuaweiD, Key: hwKey, Validity: time.Hour})
	require.NoError(t, err)
	require.Empty(t, e.domainConfigs(t, keyP1, "a.com"))
	e.do(call(keyP1, "BatchDeleteLiveDomainConfigs", "DomainNames", "a.com", "FunctionNames", "aliauth")).ok(t)
	a, err := e.svc.GetPublishAuth(t.Context(), p1, "a.com")
	require.NoError(t, err)
	require.Equal(t, pubauth.MethodHuaweiD, a.Method, "deleting aliauth leaves a method that is not aliauth")

	_, err = e.svc.SetPublishAuth(t.Context(), p1, []string{"a.com"},
		pubauth.Config{Method: pubauth.MethodWebhook, WebhookURL: "https://auth.example.com/"})
	require.NoError(t, err)
	status, desc := e.authCheck(t, keyP1, "a.com", aliSigned)
	require.Equal(t, []string{"false", "INVALID ALIAUTH"}, []string{status, desc})

	e.do(call(keyP1, "BatchSetLiveDomainConfigs", "DomainNames", "a.com", "Functions",
		`[{"functionName":"aliauth","functionArgs":[{"argName":"auth_type","argValue":"no_auth"},{"argName":"auth_key1","argValue":"`+aliPrimary+`"}]}]`)).ok(t)
	cs = e.domainConfigs(t, keyP1, "a.com")
	require.Equal(t, []describedArg{{"auth_type", "no_auth"}}, cs[0].FunctionArgs.FunctionArg, "keys of no_auth are not kept")
}
