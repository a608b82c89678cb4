package service_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// newRule returns a valid native rule (the defaults) for the key, project left to the service.
func newRule(domain, app, stream string) *recording.Rule {
	r := recording.DefaultRule()
	r.Project = ""
	r.Domain, r.App, r.Stream = domain, app, stream
	return &r
}

func TestRuleLifecycle(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	r := newRule(" A.com ", "live", "")
	r.Project = bob.Project // the principal decides the project, never the body
	require.NoError(t, s.CreateRule(ctx, alice, r))
	require.Equal(t, alice.Project, r.Project)
	require.Equal(t, "a.com", r.Domain)
	require.Equal(t, "*", r.Stream)

	got, err := s.GetRule(ctx, alice, r.ID)
	require.NoError(t, err)
	require.Equal(t, r, got)

	upd := newRule("a.com", "live", "s1")
	upd.ID = r.ID
	upd.Formats = upd.Formats[:1]
	require.NoError(t, s.UpdateRule(ctx, alice, upd))
	require.Equal(t, r.CreatedAt, upd.CreatedAt)
	got, err = s.GetRule(ctx, alice, r.ID)
	require.NoError(t, err)
	require.Equal(t, upd, got)

	rules, total, err := s.ListRules(ctx, alice, store.RuleFilter{Project: bob.Project})
	require.NoError(t, err)
	require.Equal(t, 1, total, "the filter's project is the principal's")
	require.Equal(t, []recording.Rule{*upd}, rules)

	require.NoError(t, s.DeleteRule(ctx, alice, r.ID))
	_, err = s.GetRule(ctx, alice, r.ID)
	require.ErrorIs(t, err, recording.ErrNotFound)
	require.ErrorIs(t, s.DeleteRule(ctx, alice, r.ID), recording.ErrNotFound)
}

func TestRuleUpdateOfAnUnknownIDIsNotFound(t *testing.T) {
	t.Parallel()
	r := newRule("a.com", "live", "")
	r.ID = "r_unknown"
	require.ErrorIs(t, newService(t).UpdateRule(t.Context(), alice, r), recording.ErrNotFound)
}

func TestRuleDuplicateKeyConflicts(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	require.NoError(t, s.CreateRule(ctx, alice, newRule("a.com", "live", "")))
	require.ErrorIs(t, s.CreateRule(ctx, alice, newRule("A.com", "live", "*")), recording.ErrConflict)
}

// TestRuleTenancy has bob try everything on alice's rule and domain: each attempt must look
// exactly like a miss, and leave alice's rule as it was.
func TestRuleTenancy(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	ra := newRule("a.com", "live", "")
	require.NoError(t, s.CreateRule(ctx, alice, ra))
	rb := newRule("b.com", "live", "")
	require.NoError(t, s.CreateRule(ctx, bob, rb))

	cases := []struct {
		name string
		try  func() error
	}{
		{"CreateOnTheDomain", func() error { return s.CreateRule(ctx, bob, newRule("a.com", "other", "")) }},
		{"CreateOnTheDomainInUpperCase", func() error { return s.CreateRule(ctx, bob, newRule("A.COM", "other", "")) }},
		{"Get", func() error { _, err := s.GetRule(ctx, bob, ra.ID); return err }},
		{"Update", func() error {
			r := newRule("b.com", "evil", "")
			r.ID = ra.ID
			return s.UpdateRule(ctx, bob, r)
		}},
		{"MoveOwnRuleOntoTheDomain", func() error {
			r := newRule("a.com", "live", "")
			r.ID = rb.ID
			return s.UpdateRule(ctx, bob, r)
		}},
		{"Delete", func() error { return s.DeleteRule(ctx, bob, ra.ID) }},
		{"FindByKey", func() error { _, err := s.FindRule(ctx, bob, "a.com", "live", ""); return err }},
	}
	for _, tc := range cases {
		require.ErrorIs(t, tc.try(), recording.ErrNotFound, tc.name)
	}

	got, err := s.GetRule(ctx, alice, ra.ID)
	require.NoError(t, err)
	require.Equal(t, ra, got)
	got, err = s.GetRule(ctx, bob, rb.ID)
	require.NoError(t, err)
	require.Equal(t, rb, got, "the refused move left bob's own rule alone")
	rules, total, err := s.ListRules(ctx, bob, store.RuleFilter{})
	require.NoError(t, err)
	require.Equal(t, 1, total)
	require.Equal(t, rb.ID, rules[0].ID)
}

func TestClaimsAdminOnly(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	s.ClaimsAdminOnly = true

	require.ErrorIs(t, s.CreateRule(ctx, alice, newRule("a.com", "live", "")), recording.ErrNotFound)
	require.ErrorIs(t, s.CreateCallback(ctx, alice, newCallback("a.com")), recording.ErrNotFound)
	require.NoError(t, s.AssignDomain(ctx, admin, "a.com", alice.Project))
	require.NoError(t, s.CreateRule(ctx, alice, newRule("a.com", "live", "")), "an assigned domain is usable")
	require.NoError(t, s.CreateRule(ctx, admin, newRule("c.com", "live", "")), "admins still claim")
	owner, err := s.Store.DomainOwner(ctx, "c.com")
	require.NoError(t, err)
	require.Equal(t, admin.Project, owner)
}

// TestWildcardDomainIsForAdmins: a rule on domain "*" (any app and stream, or a given one) is
// refused to other keys as an invalid domain, on create and on update; "*" is never claimed.
func TestWildcardDomainIsForAdmins(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	for _, r := range []*recording.Rule{newRule("*", "live", ""), newRule("*", "*", "*"), newRule("*", "live", "s")} {
		err := s.CreateRule(ctx, alice, r)
		requireValidation(t, err, "domain")
		require.ErrorContains(t, err, `the catch-all domain "*" is for admin keys`)
	}

	r := newRule("a.com", "live", "")
	require.NoError(t, s.CreateRule(ctx, alice, r))
	r.Domain = "*"
	requireValidation(t, s.UpdateRule(ctx, alice, r), "domain")

	def := newRule("*", "*", "*")
	require.NoError(t, s.CreateRule(ctx, admin, def))
	def.Formats = def.Formats[:1]
	require.NoError(t, s.UpdateRule(ctx, admin, def))
	live := newRule("*", "live", "")
	require.NoError(t, s.CreateRule(ctx, admin, live), "an admin's catch-all rule of one app")
	_, err := s.Store.DomainOwner(ctx, "*")
	require.ErrorIs(t, err, recording.ErrNotFound, "\"*\" is never claimed")

	// It records that app on every domain, below the domain's own rules.
	require.NoError(t, s.CreateRule(ctx, alice, newRule("b.com", "vod", "")))
	rules, err := s.Store.RulesForStream(ctx, "b.com")
	require.NoError(t, err)
	require.Equal(t, live.ID, recording.MatchRule(rules, "b.com", "live", "x").ID)
	require.Equal(t, def.ID, recording.MatchRule(rules, "b.com", "other", "x").ID)
	require.Equal(t, "b.com", recording.MatchRule(rules, "b.com", "vod", "x").Domain)

	// A non-admin key of the project may not delete a catch-all rule either; an admin may.
	opsUser := service.Principal{Project: admin.Project, KeyID: "LROPS", AccessKeyID: "LROPS"}
	require.ErrorIs(t, s.DeleteRule(ctx, opsUser, live.ID), recording.ErrForbidden)
	_, err = s.GetRule(ctx, admin, live.ID)
	require.NoError(t, err, "still there")
	require.NoError(t, s.DeleteRule(ctx, admin, live.ID))
}

func TestRuleEndpointMustExist(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	r := newRule("a.com", "live", "")
	r.Storage.Endpoint = "nowhere"
	requireValidation(t, s.CreateRule(ctx, alice, r), "storage.endpoint")
	_, err := s.Store.DomainOwner(ctx, "a.com")
	require.ErrorIs(t, err, recording.ErrNotFound, "an invalid rule claims nothing")

	r.Storage.Endpoint = "s3"
	require.NoError(t, s.CreateRule(ctx, alice, r))
	r.Storage.Endpoint = "gone"
	requireValidation(t, s.UpdateRule(ctx, alice, r), "storage.endpoint")

	s.EndpointExists = nil // no check configured: any endpoint name is taken
	require.NoError(t, s.UpdateRule(ctx, alice, r))
}

// TestRuleBucketMustBeUsable: a bucket the check refuses is refused with its reason, on
// create and on update; one that cannot be checked right now is taken. (What the app's check
// refuses, S3 and local, is in internal/app's TestRuleBuckets.)
func TestRuleBucketMustBeUsable(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	var asked []string
	s.CheckBucket = func(_ context.Context, endpoint, bucket string) (string, error) {
		asked = append(asked, endpoint+"/"+bucket)
		switch bucket {
		case "missing":
			return "bucket \"missing\" does not exist on storage endpoint \"" + endpoint + "\"", nil
		case "unreachable":
			return "", errors.New("connection refused")
		}
		return "", nil
	}
	r := newRule("a.com", "live", "")
	r.Storage.Endpoint, r.Storage.Bucket = "s3", "missing"
	err := s.CreateRule(ctx, alice, r)
	requireValidation(t, err, "storage.bucket")
	require.ErrorContains(t, err, `bucket "missing" does not exist on storage endpoint "s3"`)
	r.Storage.Bucket = "unreachable"
	require.NoError(t, s.CreateRule(ctx, alice, r))
	r.Storage.Bucket = "missing"
	requireValidation(t, s.UpdateRule(ctx, alice, r), "storage.bucket")
	r.Storage.Bucket = "there"
	require.NoError(t, s.UpdateRule(ctx, alice, r))
	require.Equal(t, []string{"s3/missing", "s3/unreachable", "s3/missing", "s3/there"}, asked)
}

func TestRuleValidationFollowsTheDialect(t *testing.T) {
	t.Parallel()
	one := func(d recording.Dialect, edit func(fc *recording.FormatConfig)) *recording.Rule {
		r := newRule("a.com", "live", "")
		r.Dialect = d
		r.Formats = r.Formats[:1]
		edit(&r.Formats[0])
		return r
	}
	cases := []struct {
		name  string
		rule  *recording.Rule
		field string // "" = valid
	}{
		{"NativeOneFilePerRecording", one(recording.DialectNative, func(fc *recording.FormatConfig) { fc.CycleS = 0 }), ""},
		{"AliyunHasNoOneFileCycle", one(recording.DialectAliyun, func(fc *recording.FormatConfig) { fc.CycleS = 0 }), "formats[0].cycle_s"},
		{"AliyunMergeWindowFrom15", one(recording.DialectAliyun, func(fc *recording.FormatConfig) { fc.MergeWindowS = 0 }), "formats[0].merge_window_s"},
		{"AliyunTemplateNeedsTimes", one(recording.DialectAliyun, func(fc *recording.FormatConfig) { fc.ObjectTemplate = "x/{StreamName}" }), "formats[0].object_template"},
		{"HuaweiAppendsWithMinusOne", one(recording.DialectHuawei, func(fc *recording.FormatConfig) { fc.MergeWindowS = -1 }), ""},
		{"HuaweiCycleFrom60", one(recording.DialectHuawei, func(fc *recording.FormatConfig) { fc.CycleS = 30 }), "formats[0].cycle_s"},
		{"UnknownDialect", one("tencent", func(*recording.FormatConfig) {}), "dialect"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := newService(t).CreateRule(t.Context(), alice, tc.rule)
			if tc.field == "" {
				require.NoError(t, err)
			} else {
				requireValidation(t, err, tc.field)
			}
		})
	}
}

func TestFindRule(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	wild := newRule("a.com", "live", "")
	require.NoError(t, s.CreateRule(ctx, alice, wild))
	exact := newRule("a.com", "live", "s1")
	require.NoError(t, s.CreateRule(ctx, alice, exact))

	cases := []struct {
		domain, app, stream string
		want                string // rule id, "" = not found
	}{
		{"a.com", "live", "", wild.ID},
		{"A.Com", "live", "*", wild.ID},
		{"a.com", "live", "s1", exact.ID},
		{"a.com", "live", "s2", ""}, // an exact key, not a match
		{"a.com", "vod", "", ""},
		{"b.com", "live", "", ""},
	}
	for _, tc := range cases {
		r, err := s.FindRule(ctx, alice, tc.domain, tc.app, tc.stream)
		if tc.want == "" {
			require.ErrorIs(t, err, recording.ErrNotFound, "%+v", tc)
			continue
		}
		require.NoError(t, err, "%+v", tc)
		require.Equal(t, tc.want, r.ID, "%+v", tc)
	}
}
