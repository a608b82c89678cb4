package service_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/pubauth"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

const (
	primaryKey = "LiveRecPrimaryKey01"
	backupKey  = "LiveRecBackupKey02"
	huaweiKey  = "LiveRec0123456789abcdefABCDEF012"
)

func aliyunAuth() pubauth.Config {
	return pubauth.Config{Method: pubauth.MethodAliyunA, Key: primaryKey, BackupKey: backupKey,
		Args: []pubauth.Arg{{Name: "req_auth_ip_white", Value: "10.0.0.0/8"}}}
}

func TestPublishAuthRoundTripsWithSealedKeys(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	set, err := s.SetPublishAuth(ctx, alice, []string{"A.com", "b.com"}, aliyunAuth())
	require.NoError(t, err)
	require.Len(t, set, 2)
	require.Equal(t, "a.com", set[0].Domain)
	require.NotEqual(t, set[0].ConfigID, set[1].ConfigID)

	got, err := s.GetPublishAuth(ctx, alice, "a.com")
	require.NoError(t, err)
	require.Equal(t, pubauth.MethodAliyunA, got.Method)
	require.Equal(t, primaryKey, got.Key)
	require.Equal(t, backupKey, got.BackupKey)
	require.Equal(t, pubauth.DefaultAliyunValidity, got.Validity, "ali_auth_delta defaults to 1800 s")
	require.Equal(t, []pubauth.Arg{{Name: "req_auth_ip_white", Value: "10.0.0.0/8"}}, got.Args)
	require.Equal(t, "pa", got.Project)

	stored, err := s.Store.PublishAuthGet(ctx, "a.com")
	require.NoError(t, err)
	for _, sealed := range [][]byte{stored.KeySealed, stored.BackupKeySealed} {
		require.NotEmpty(t, sealed)
		require.False(t, bytes.Contains(sealed, []byte("LiveRec")), "keys are stored sealed")
	}

	// A second set replaces the whole configuration and keeps the ConfigId.
	again, err := s.SetPublishAuth(ctx, alice, []string{"a.com"},
		pubauth.Config{Method: pubauth.MethodHuaweiD, Key: huaweiKey, Validity: time.Hour})
	require.NoError(t, err)
	require.Equal(t, set[0].ConfigID, again[0].ConfigID)
	got, err = s.GetPublishAuth(ctx, alice, "a.com")
	require.NoError(t, err)
	require.Equal(t, "", got.BackupKey)
	require.Nil(t, got.Args)

	require.NoError(t, s.DeletePublishAuth(ctx, alice, "a.com"))
	_, err = s.GetPublishAuth(ctx, alice, "a.com")
	require.ErrorIs(t, err, recording.ErrNotFound)
	require.ErrorIs(t, s.DeletePublishAuth(ctx, alice, "a.com"), recording.ErrNotFound)
}

func TestPublishAuthTenancy(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	_, err := s.SetPublishAuth(ctx, alice, []string{"a.com"}, aliyunAuth())
	require.NoError(t, err)

	_, err = s.GetPublishAuth(ctx, bob, "a.com")
	require.ErrorIs(t, err, recording.ErrNotFound)
	require.ErrorIs(t, s.DeletePublishAuth(ctx, bob, "a.com"), recording.ErrNotFound)
	_, err = s.CheckPublishURL(ctx, bob, "a.com", "rtmp://a.com/live/s")
	require.ErrorIs(t, err, recording.ErrNotFound)
	_, err = s.SignPublishURL(ctx, bob, "a.com", "live", "s", time.Time{})
	require.ErrorIs(t, err, recording.ErrNotFound)

	// A batch naming another project's domain writes nothing, not even the free domain's.
	_, err = s.SetPublishAuth(ctx, bob, []string{"b.com", "a.com"}, aliyunAuth())
	require.ErrorIs(t, err, recording.ErrNotFound)
	_, err = s.Store.PublishAuthGet(ctx, "b.com")
	require.ErrorIs(t, err, recording.ErrNotFound)
	_, err = s.Store.DomainOwner(ctx, "b.com")
	require.ErrorIs(t, err, recording.ErrNotFound, "b.com is not claimed either")
	got, err := s.GetPublishAuth(ctx, alice, "a.com")
	require.NoError(t, err)
	require.Equal(t, primaryKey, got.Key, "alice's configuration is untouched")

	// Domain "*" is the default of every domain: an admin's.
	_, err = s.SetPublishAuth(ctx, alice, []string{"*"}, aliyunAuth())
	require.ErrorIs(t, err, recording.ErrForbidden)
	_, err = s.SetPublishAuth(ctx, admin, []string{"*"}, aliyunAuth())
	require.NoError(t, err)
}

func TestPublishAuthValidationNamesTheField(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	for _, c := range []struct {
		name    string
		domains []string
		cfg     pubauth.Config
		field   string
	}{
		{"HuaweiShortKey", []string{"a.com"}, pubauth.Config{Method: pubauth.MethodHuaweiD, Key: "short1", Validity: time.Hour}, "key"},
		{"HuaweiTimeout", []string{"a.com"}, pubauth.Config{Method: pubauth.MethodHuaweiB, Key: huaweiKey, Validity: 30 * time.Second}, "validity_s"},
		{"MethodC", []string{"a.com"}, pubauth.Config{Method: pubauth.MethodHuaweiC, Key: huaweiKey, Validity: time.Hour}, "method"},
		{"WebhookURL", []string{"a.com"}, pubauth.Config{Method: pubauth.MethodWebhook, WebhookURL: "ftp://x"}, "webhook_url"},
		{"NoDomain", nil, aliyunAuth(), "domain"},
		{"BadDomain", []string{"a com"}, aliyunAuth(), "domain"},
		{"DomainTwice", []string{"a.com", "A.COM"}, aliyunAuth(), "domain"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.SetPublishAuth(ctx, alice, c.domains, c.cfg)
			requireValidation(t, err, c.field)
		})
	}
	_, err := s.SetPublishAuth(ctx, alice, []string{"a.com"}, pubauth.Config{Method: pubauth.MethodHuaweiC})
	require.ErrorContains(t, err, "not documented well enough")
}

func TestEffectivePublishAuthFallsBackToTheDefault(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	a, err := s.EffectivePublishAuth(ctx, "a.com")
	require.NoError(t, err)
	require.Nil(t, a, "a fresh install is open")

	_, err = s.SetPublishAuth(ctx, admin, []string{"*"}, aliyunAuth())
	require.NoError(t, err)
	a, err = s.EffectivePublishAuth(ctx, "A.com")
	require.NoError(t, err)
	require.Equal(t, "*", a.Domain)
	require.Equal(t, primaryKey, a.Key)

	_, err = s.SetPublishAuth(ctx, alice, []string{"a.com"}, pubauth.Config{Method: pubauth.MethodNone})
	require.NoError(t, err)
	a, err = s.EffectivePublishAuth(ctx, "a.com")
	require.NoError(t, err)
	require.Equal(t, pubauth.MethodNone, a.Method, "a domain's own configuration (even open) beats the default")

	require.NoError(t, s.DeletePublishAuth(ctx, alice, "a.com"))
	a, err = s.EffectivePublishAuth(ctx, "a.com")
	require.NoError(t, err)
	require.Equal(t, "*", a.Domain)
}

func TestCheckAndSignPublishURL(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	clk := &clock{t: time.Unix(1700003600, 0)}
	s.Now = clk.now

	// No publish authentication at all: every URL passes.
	_, err := s.SetPublishAuth(ctx, alice, []string{"open.com"}, pubauth.Config{Method: pubauth.MethodNone})
	require.NoError(t, err)
	check, err := s.CheckPublishURL(ctx, alice, "open.com", "rtmp://open.com/live/s")
	require.NoError(t, err)
	require.Equal(t, service.VerdictPass, check.Verdict)
	_, err = s.SignPublishURL(ctx, alice, "open.com", "live", "s", time.Time{})
	requireValidation(t, err, "domain")

	_, err = s.SetPublishAuth(ctx, alice, []string{"a.com"}, aliyunAuth())
	require.NoError(t, err)
	for _, c := range []struct {
		url    string
		reason pubauth.Reason
	}{
		{"rtmp://a.com/live/stream1?auth_key=1700003600-0-0-a8bb09f4a917eeddc8267aae7cd1f627", ""},
		{"rtmp://a.com/live/stream1?auth_key=1700003600-0-0-778487078848bd85d40c840947979b00", ""},
		{"rtmp://a.com/live/stream1", pubauth.ReasonMissing},
		{"rtmp://a.com/live/stream1?auth_key=1700003600-0-0", pubauth.ReasonMalformed},
		{"rtmp://a.com/live/stream2?auth_key=1700003600-0-0-a8bb09f4a917eeddc8267aae7cd1f627", pubauth.ReasonBadSignature},
	} {
		check, err = s.CheckPublishURL(ctx, alice, "a.com", c.url)
		require.NoError(t, err)
		if c.reason == "" {
			require.Equal(t, service.VerdictPass, check.Verdict, c.url)
		} else {
			require.Equal(t, service.VerdictRefused, check.Verdict, c.url)
			require.Equal(t, c.reason, check.Reason, c.url)
		}
		require.Equal(t, pubauth.MethodAliyunA, check.Method)
	}
	clk.t = time.Unix(1700005401, 0)
	check, err = s.CheckPublishURL(ctx, alice, "a.com", "rtmp://a.com/live/stream1?auth_key=1700003600-0-0-a8bb09f4a917eeddc8267aae7cd1f627")
	require.NoError(t, err)
	require.Equal(t, pubauth.ReasonExpired, check.Reason)

	// What SignPublishURL makes, CheckPublishURL passes; for another stream it does not.
	for _, cfg := range []pubauth.Config{aliyunAuth(),
		{Method: pubauth.MethodHuaweiA, Key: huaweiKey, Validity: time.Hour},
		{Method: pubauth.MethodHuaweiB, Key: huaweiKey, Validity: time.Hour},
		{Method: pubauth.MethodHuaweiD, Key: huaweiKey, Validity: time.Hour}} {
		_, err = s.SetPublishAuth(ctx, alice, []string{"a.com"}, cfg)
		require.NoError(t, err)
		signed, serr := s.SignPublishURL(ctx, alice, "a.com", "live", "cam", time.Time{})
		require.NoError(t, serr)
		require.True(t, strings.HasPrefix(signed, "rtmp://a.com/live/cam?"), signed)
		check, err = s.CheckPublishURL(ctx, alice, "a.com", signed)
		require.NoError(t, err)
		require.Equal(t, service.VerdictPass, check.Verdict, "%s: %s", cfg.Method, signed)
		check, err = s.CheckPublishURL(ctx, alice, "a.com", strings.Replace(signed, "/cam?", "/cam2?", 1))
		require.NoError(t, err)
		require.Equal(t, pubauth.ReasonBadSignature, check.Reason, cfg.Method)
	}
	// A start time in the future is not valid yet (Huawei D).
	signed, err := s.SignPublishURL(ctx, alice, "a.com", "live", "cam", clk.t.Add(time.Hour))
	require.NoError(t, err)
	check, err = s.CheckPublishURL(ctx, alice, "a.com", signed)
	require.NoError(t, err)
	require.Equal(t, pubauth.ReasonNotYetValid, check.Reason)

	_, err = s.SignPublishURL(ctx, alice, "a.com", "live", "bad/name", time.Time{})
	requireValidation(t, err, "stream")
	_, err = s.CheckPublishURL(ctx, alice, "*", "rtmp://x/live/s")
	requireValidation(t, err, "domain")

	// The webhook decides what a URL alone cannot.
	_, err = s.SetPublishAuth(ctx, alice, []string{"hook.com"}, pubauth.Config{Method: pubauth.MethodWebhook,
		WebhookURL: "https://auth.example.com/publish"})
	require.NoError(t, err)
	check, err = s.CheckPublishURL(ctx, alice, "hook.com", "rtmp://hook.com/live/s")
	require.NoError(t, err)
	require.Equal(t, service.VerdictUnchecked, check.Verdict)
}

// Only an admin signs with the default's key: other projects configure their own.
func TestSignWithTheDefaultIsAnAdminsAct(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	_, err := s.SetPublishAuth(ctx, admin, []string{"*"}, aliyunAuth())
	require.NoError(t, err)
	require.NoError(t, s.CreateRule(ctx, alice, newRule("a.com", "live", "")))
	_, err = s.SignPublishURL(ctx, alice, "a.com", "live", "cam", time.Time{})
	requireValidation(t, err, "domain")
	check, err := s.CheckPublishURL(ctx, alice, "a.com", "rtmp://a.com/live/cam")
	require.NoError(t, err)
	require.Equal(t, pubauth.ReasonMissing, check.Reason, "the default applies to alice's domain")

	require.NoError(t, s.AssignDomain(ctx, admin, "ops.com", "ops"))
	signed, err := s.SignPublishURL(ctx, admin, "ops.com", "live", "cam", time.Time{})
	require.NoError(t, err)
	check, err = s.CheckPublishURL(ctx, admin, "ops.com", signed)
	require.NoError(t, err)
	require.Equal(t, service.VerdictPass, check.Verdict)
}
