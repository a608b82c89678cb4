package service_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/secret"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// cbKey is a valid callback key: 32 letters and digits.
const cbKey = "0123456789abcdefghijABCDEFGHIJxy"

func newCallback(domain string) *recording.CallbackConfig {
	return &recording.CallbackConfig{Dialect: recording.DialectAliyun, Domain: domain,
		URL: "https://hooks.example.com/rec"}
}

func TestCallbackLifecycleKeepsTheKeySealed(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	c := newCallback(" A.com ")
	c.Key, c.Project = cbKey, bob.Project
	require.NoError(t, s.CreateCallback(ctx, alice, c))
	require.Equal(t, alice.Project, c.Project)
	require.Equal(t, "a.com", c.Domain)
	require.Equal(t, "*", c.App)
	require.True(t, c.Enabled, "a new configuration is enabled")
	require.Empty(t, c.Key, "the plain key does not outlive the call")
	require.True(t, c.HasKey)

	got, err := s.GetCallback(ctx, alice, c.ID)
	require.NoError(t, err)
	require.Equal(t, c, got)
	require.NotEmpty(t, got.KeySealed)
	require.False(t, bytes.Contains(got.KeySealed, []byte(cbKey)), "the stored key is sealed")
	key, err := s.CallbackKey(got)
	require.NoError(t, err)
	require.Equal(t, cbKey, key)

	// An update without a key keeps the stored one.
	upd := newCallback("a.com")
	upd.ID, upd.URL, upd.Enabled = c.ID, "http://other.example.com:8080/x", true
	require.NoError(t, s.UpdateCallback(ctx, alice, upd))
	got, err = s.GetCallback(ctx, alice, c.ID)
	require.NoError(t, err)
	require.Equal(t, "http://other.example.com:8080/x", got.URL)
	require.True(t, got.HasKey)
	key, err = s.CallbackKey(got)
	require.NoError(t, err)
	require.Equal(t, cbKey, key)

	// An update with a key replaces it.
	newKey := strings.Repeat("Z9", 32)
	upd.Key = newKey
	require.NoError(t, s.UpdateCallback(ctx, alice, upd))
	require.Empty(t, upd.Key)
	got, err = s.GetCallback(ctx, alice, c.ID)
	require.NoError(t, err)
	key, err = s.CallbackKey(got)
	require.NoError(t, err)
	require.Equal(t, newKey, key)

	cs, total, err := s.ListCallbacks(ctx, alice, store.CallbackFilter{Project: bob.Project})
	require.NoError(t, err)
	require.Equal(t, 1, total, "the filter's project is the principal's")
	require.True(t, cs[0].HasKey)

	require.NoError(t, s.DeleteCallback(ctx, alice, c.ID))
	_, err = s.GetCallback(ctx, alice, c.ID)
	require.ErrorIs(t, err, recording.ErrNotFound)
}

func TestCallbackKeyWithoutAKeyOrUnderAnotherMasterKey(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	c := newCallback("a.com")
	require.NoError(t, s.CreateCallback(ctx, alice, c))
	require.False(t, c.HasKey)
	key, err := s.CallbackKey(c)
	require.NoError(t, err)
	require.Empty(t, key)

	// A key sealed under another master key (a lost or swapped DATA/master.key) must not open.
	c.KeySealed = mustSeal(t, newService(t), cbKey)
	_, err = s.CallbackKey(c)
	require.ErrorIs(t, err, secret.ErrCorrupt)
}

func mustSeal(t *testing.T, s *service.Service, plain string) []byte {
	t.Helper()
	b, err := s.Sealer.Seal([]byte(plain))
	require.NoError(t, err)
	return b
}

func TestCatchAllCallbackIsAnAdmins(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	c := newCallback("*")
	requireValidation(t, s.CreateCallback(ctx, alice, c), "domain")
	c = newCallback("*")
	require.NoError(t, s.CreateCallback(ctx, admin, c))
	require.Equal(t, "*", c.Domain)
	cs, err := s.Store.CallbacksForStream(ctx, "any.example.com")
	require.NoError(t, err)
	require.Len(t, cs, 1, "the catch-all is a candidate for every domain")
	require.Equal(t, c.ID, cs[0].ID)

	// A non-admin key of the project may not delete it either; an admin may.
	opsUser := service.Principal{Project: admin.Project, KeyID: "LROPS", AccessKeyID: "LROPS"}
	require.ErrorIs(t, s.DeleteCallback(ctx, opsUser, c.ID), recording.ErrForbidden)
	require.NoError(t, s.DeleteCallback(ctx, admin, c.ID))
}

func TestCallbackValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		edit  func(c *recording.CallbackConfig)
		field string // "" = valid
	}{
		{"Valid", func(*recording.CallbackConfig) {}, ""},
		{"DefaultDialectIsStandard", func(c *recording.CallbackConfig) { c.Dialect = "" }, ""},
		{"UnknownDialect", func(c *recording.CallbackConfig) { c.Dialect = "tencent" }, "dialect"},
		{"NativeIsNotACallbackDialect", func(c *recording.CallbackConfig) { c.Dialect = recording.DialectNative }, "dialect"},
		{"NoDomain", func(c *recording.CallbackConfig) { c.Domain = " " }, "domain"},
		{"WildcardDomain", func(c *recording.CallbackConfig) { c.Domain = "*" }, "domain"},
		{"NoURLAtAll", func(c *recording.CallbackConfig) { c.URL = "" }, "url"},
		{"OnDemandURLAlone", func(c *recording.CallbackConfig) { c.URL, c.OnDemandURL = "", "https://d.example.com" }, ""},
		{"BadOnDemandURL", func(c *recording.CallbackConfig) { c.OnDemandURL = "ftp://d.example.com" }, "on_demand_url"},
		{"CredentialsInURL", func(c *recording.CallbackConfig) { c.URL = "https://u:p@h.example.com" }, "url"},
		{"SignTypes", func(c *recording.CallbackConfig) { c.SignType = recording.SignMD5 }, ""},
		{"UnknownSignType", func(c *recording.CallbackConfig) { c.SignType = "SHA1" }, "sign_type"},
		{"Key32", func(c *recording.CallbackConfig) { c.Key = strings.Repeat("a", 32) }, ""},
		{"Key64", func(c *recording.CallbackConfig) { c.Key = strings.Repeat("A1", 32) }, ""},
		{"Key31", func(c *recording.CallbackConfig) { c.Key = strings.Repeat("a", 31) }, "key"},
		{"Key65", func(c *recording.CallbackConfig) { c.Key = strings.Repeat("a", 65) }, "key"},
		{"KeyWithUnderscore", func(c *recording.CallbackConfig) { c.Key = strings.Repeat("a", 31) + "_" }, "key"},
		{"KeyWithNonASCIILetters", func(c *recording.CallbackConfig) { c.Key = strings.Repeat("é", 16) }, "key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, s := t.Context(), newService(t)
			c := newCallback("a.com")
			tc.edit(c)
			err := s.CreateCallback(ctx, alice, c)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			requireValidation(t, err, tc.field)
			_, err = s.Store.DomainOwner(ctx, "a.com")
			require.ErrorIs(t, err, recording.ErrNotFound, "an invalid configuration claims nothing")
		})
	}
}

func TestValidateCallbackURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url string
		ok  bool
	}{
		{"", true}, // absent: the caller decides whether it is required
		{"https://hooks.example.com/rec?x=1", true},
		{"http://10.0.0.1:8080/", true}, // private addresses pass: netguard refuses them when dialing, if configured to
		{"HTTPS://hooks.example.com", true},
		{"ftp://hooks.example.com", false},
		{"javascript:alert(1)", false},
		{"//hooks.example.com/rec", false},
		{"hooks.example.com/rec", false},
		{"http://", false},
		{"https://user:pw@hooks.example.com", false},
		{"https://user@hooks.example.com", false},
		{"https://hooks.example.com/%zz", false},
		{"https://hooks.example.com/" + strings.Repeat("a", service.MaxURLLen), false},
	}
	for _, tc := range cases {
		err := service.ValidateCallbackURL("url", tc.url)
		if tc.ok {
			require.NoError(t, err, tc.url)
		} else {
			requireValidation(t, err, "url")
		}
	}
}

func TestUpdateCallbackCanReEnable(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	c := newCallback("a.com")
	require.NoError(t, s.CreateCallback(ctx, alice, c))
	// The notifier disables a configuration whose receiver answered 410.
	c.Enabled, c.DisabledReason = false, "410 Gone"
	require.NoError(t, s.Store.CallbackUpdate(ctx, c))

	upd := newCallback("a.com")
	upd.ID, upd.Enabled = c.ID, true
	require.NoError(t, s.UpdateCallback(ctx, alice, upd))
	got, err := s.GetCallback(ctx, alice, c.ID)
	require.NoError(t, err)
	require.True(t, got.Enabled)
	require.Empty(t, got.DisabledReason)
}

func TestFindCallback(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	domainWide := newCallback("a.com")
	domainWide.Key = cbKey
	require.NoError(t, s.CreateCallback(ctx, alice, domainWide))
	live := newCallback("a.com")
	live.App = "live"
	require.NoError(t, s.CreateCallback(ctx, alice, live))

	cases := []struct {
		dialect     recording.Dialect
		domain, app string
		want        string // id, "" = not found
	}{
		{recording.DialectAliyun, "a.com", "", domainWide.ID},
		{recording.DialectAliyun, "A.COM", "*", domainWide.ID},
		{recording.DialectAliyun, "a.com", "live", live.ID},
		{recording.DialectAliyun, "a.com", "vod", ""}, // an exact key, not a match
		{recording.DialectHuawei, "a.com", "", ""},
		{recording.DialectAliyun, "b.com", "", ""},
	}
	for _, tc := range cases {
		c, err := s.FindCallback(ctx, alice, tc.dialect, tc.domain, tc.app)
		if tc.want == "" {
			require.ErrorIs(t, err, recording.ErrNotFound, "%+v", tc)
			continue
		}
		require.NoError(t, err, "%+v", tc)
		require.Equal(t, tc.want, c.ID, "%+v", tc)
		require.Equal(t, tc.want == domainWide.ID, c.HasKey, "%+v", tc)
	}
	_, err := s.FindCallback(ctx, bob, recording.DialectAliyun, "a.com", "")
	require.ErrorIs(t, err, recording.ErrNotFound)
}

func TestCallbackTenancy(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	ca := newCallback("a.com")
	ca.Key = cbKey
	require.NoError(t, s.CreateCallback(ctx, alice, ca))
	require.NoError(t, s.CreateRule(ctx, alice, newRule("r.com", "live", "")))

	cases := []struct {
		name string
		try  func() error
	}{
		{"CreateOnTheDomain", func() error { return s.CreateCallback(ctx, bob, newCallback("a.com")) }},
		{"CreateOnARuleDomain", func() error { return s.CreateCallback(ctx, bob, newCallback("r.com")) }},
		{"Get", func() error { _, err := s.GetCallback(ctx, bob, ca.ID); return err }},
		{"Update", func() error {
			c := newCallback("b.com")
			c.ID = ca.ID
			return s.UpdateCallback(ctx, bob, c)
		}},
		{"Delete", func() error { return s.DeleteCallback(ctx, bob, ca.ID) }},
	}
	for _, tc := range cases {
		require.ErrorIs(t, tc.try(), recording.ErrNotFound, tc.name)
	}
	cs, total, err := s.ListCallbacks(ctx, bob, store.CallbackFilter{})
	require.NoError(t, err)
	require.Zero(t, total)
	require.Empty(t, cs)

	got, err := s.GetCallback(ctx, alice, ca.ID)
	require.NoError(t, err)
	require.Equal(t, ca, got)
}

// TestCallbackKeyForms: the standard dialect takes a Standard Webhooks secret ("whsec_" and
// the base64 of 24–64 bytes) besides 32–64 letters and digits; aliyun and huawei take only the
// latter. Each refusal says which form the dialect expects.
func TestCallbackKeyForms(t *testing.T) {
	t.Parallel()
	whsec := func(n int) string { return service.WhsecPrefix + base64.StdEncoding.EncodeToString(make([]byte, n)) }
	const (
		standardForm = `must be "whsec_" followed by the base64 of 24–64 bytes (a Standard Webhooks secret), ` +
			`or 32–64 letters and digits, for the standard dialect`
		whsecForm = `must be "whsec_" followed by the base64 of 24–64 bytes (a Standard Webhooks secret): `
	)
	cases := []struct {
		dialect recording.Dialect
		key     string
		reason  string // "" = valid
	}{
		{recording.DialectStandard, cbKey, ""},
		{recording.DialectStandard, whsec(24), ""},
		{recording.DialectStandard, whsec(32), ""},
		{recording.DialectStandard, whsec(64), ""},
		{recording.DialectStandard, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", ""}, // the spec's example
		{recording.DialectStandard, whsec(23), whsecForm + "it decodes to 23 bytes"},
		{recording.DialectStandard, whsec(65), whsecForm + "it decodes to 65 bytes"},
		{recording.DialectStandard, "whsec_", whsecForm + "it decodes to 0 bytes"},
		{recording.DialectStandard, "whsec_" + strings.Repeat("a", 31) + "!", whsecForm + `what follows "whsec_" is not standard base64`},
		{recording.DialectStandard, strings.TrimRight(whsec(32), "="), whsecForm + "what follows"}, // unpadded
		{recording.DialectStandard, whsec(16) + "\n" + base64.StdEncoding.EncodeToString(make([]byte, 15)), whsecForm + "what follows"},
		{recording.DialectStandard, "WHSEC_" + strings.Repeat("a", 40), standardForm},
		{recording.DialectStandard, strings.Repeat("a", 31), standardForm},
		{recording.DialectAliyun, cbKey, ""},
		{recording.DialectAliyun, whsec(32), "must be 32–64 letters and digits for the aliyun dialect"},
		{recording.DialectHuawei, strings.Repeat("Z9", 32), ""},
		{recording.DialectHuawei, whsec(32), "must be 32–64 letters and digits for the huawei dialect"},
		{recording.DialectHuawei, strings.Repeat("a", 65), "must be 32–64 letters and digits for the huawei dialect"},
	}
	for _, tc := range cases {
		err := service.ValidateCallbackKey(tc.dialect, tc.key)
		if tc.reason == "" {
			require.NoError(t, err, "%s %q", tc.dialect, tc.key)
			continue
		}
		requireValidation(t, err, "key")
		require.Contains(t, err.Error(), tc.reason, "%s %q", tc.dialect, tc.key)
	}

	// Through CreateCallback, a whsec_ key is sealed and opened as given.
	ctx, s := t.Context(), newService(t)
	c := newCallback("a.com")
	c.Dialect, c.Key = recording.DialectStandard, whsec(32)
	require.NoError(t, s.CreateCallback(ctx, alice, c))
	key, err := s.CallbackKey(c)
	require.NoError(t, err)
	require.Equal(t, whsec(32), key)
	c = newCallback("b.com")
	c.Key = whsec(32)
	requireValidation(t, s.CreateCallback(ctx, alice, c), "key")
}

// TestNewCallbackKey: a generated key has its dialect's form, passes its rules, and is new
// each time.
func TestNewCallbackKey(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, d := range []recording.Dialect{recording.DialectStandard, recording.DialectAliyun, recording.DialectHuawei} {
		for range 20 {
			key, err := service.NewCallbackKey(d)
			require.NoError(t, err)
			require.NoError(t, service.ValidateCallbackKey(d, key))
			require.False(t, seen[key], "a key is never generated twice")
			seen[key] = true
			if d == recording.DialectStandard {
				secret, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(key, service.WhsecPrefix))
				require.NoError(t, err)
				require.Len(t, secret, 32)
				continue
			}
			require.Regexp(t, `^[A-Za-z0-9]{32}$`, key)
		}
	}
	_, err := service.NewCallbackKey(recording.DialectNative)
	requireValidation(t, err, "dialect")
}
