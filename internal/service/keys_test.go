package service_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

func TestCreateAccessKeyShowsTheSecretOnce(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	k, sec, err := s.CreateAccessKey(ctx, alice, "", false, "ci")
	require.NoError(t, err)
	require.Regexp(t, `^LR[A-Z0-9]{22}$`, k.ID)
	require.Regexp(t, `^[A-Za-z0-9]{30}$`, sec)
	require.Equal(t, alice.Project, k.Project, "an empty project is the principal's")
	require.False(t, bytes.Contains(k.SecretSealed, []byte(sec)), "the stored secret is sealed")

	got, gotSecret, err := s.KeySecret(ctx, k.ID)
	require.NoError(t, err)
	require.Equal(t, sec, gotSecret)
	require.Equal(t, k, got)
	require.Equal(t, service.Principal{Project: alice.Project, KeyID: k.ID, AccessKeyID: k.ID}, service.PrincipalOf(got))

	k2, sec2, err := s.CreateAccessKey(ctx, alice, "", false, "")
	require.NoError(t, err)
	require.NotEqual(t, k.ID, k2.ID)
	require.NotEqual(t, sec, sec2)

	ks, err := s.ListAccessKeys(ctx, alice, "")
	require.NoError(t, err)
	require.Equal(t, []string{k.ID, k2.ID}, []string{ks[0].ID, ks[1].ID})
	ks, err = s.ListAccessKeys(ctx, bob, "")
	require.NoError(t, err)
	require.Empty(t, ks)
}

func TestCreateAccessKeyPermissions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		p       service.Principal
		project string
		admin   bool
		want    error // nil: allowed
	}{
		{"OwnProjectByName", alice, alice.Project, false, nil},
		{"OtherProject", alice, bob.Project, false, recording.ErrForbidden},
		{"AdminKey", alice, "", true, recording.ErrForbidden},
		{"AdminForAnotherProject", admin, bob.Project, false, nil},
		{"AdminMakesAdmins", admin, "", true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, s := t.Context(), newService(t)
			k, _, err := s.CreateAccessKey(ctx, tc.p, tc.project, tc.admin, "")
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				has, herr := s.HasAccessKeys(ctx)
				require.NoError(t, herr)
				require.False(t, has, "a refused key is not stored")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.admin, k.Admin)
			if tc.project != "" {
				require.Equal(t, tc.project, k.Project)
			}
		})
	}
}

func TestKeySecretRefusesUnknownAndRevokedKeys(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	k, _, err := s.CreateAccessKey(ctx, alice, "", false, "")
	require.NoError(t, err)

	_, _, err = s.KeySecret(ctx, "LRUNKNOWN")
	require.ErrorIs(t, err, service.ErrUnknownKey)
	require.ErrorIs(t, err, recording.ErrUnauthenticated)

	require.ErrorIs(t, s.RevokeAccessKey(ctx, bob, "", k.ID), recording.ErrNotFound, "bob cannot revoke alice's key")
	_, _, err = s.KeySecret(ctx, k.ID)
	require.NoError(t, err)

	require.NoError(t, s.RevokeAccessKey(ctx, alice, "", k.ID))
	_, _, err = s.KeySecret(ctx, k.ID)
	require.ErrorIs(t, err, service.ErrUnknownKey)
	require.ErrorIs(t, err, recording.ErrUnauthenticated)
}

func TestEnsureAccessKey(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	has, err := s.HasAccessKeys(ctx)
	require.NoError(t, err)
	require.False(t, has)

	require.NoError(t, s.EnsureAccessKey(ctx, "LRENV", "first-secret", "default", true))
	has, err = s.HasAccessKeys(ctx)
	require.NoError(t, err)
	require.True(t, has)
	k, sec, err := s.KeySecret(ctx, "LRENV")
	require.NoError(t, err)
	require.Equal(t, "first-secret", sec)
	require.True(t, k.Admin)
	require.Equal(t, "default", k.Project)

	// A restart with a new secret replaces it and brings a revoked key back. (Another admin key
	// first: the last enabled one cannot be revoked.)
	second, _, err := s.CreateAccessKey(ctx, service.PrincipalOf(k), "", true, "second admin")
	require.NoError(t, err)
	require.NoError(t, s.RevokeAccessKey(ctx, service.PrincipalOf(k), "", "LRENV"))
	require.NoError(t, s.EnsureAccessKey(ctx, "LRENV", "second-secret", "default", true))
	_, sec, err = s.KeySecret(ctx, "LRENV")
	require.NoError(t, err)
	require.Equal(t, "second-secret", sec)

	// A disabled key is enabled again: the environment's key recovers a locked-out admin.
	require.NoError(t, s.SetAccessKeyDisabled(ctx, service.PrincipalOf(second), "", "LRENV", true))
	require.NoError(t, s.EnsureAccessKey(ctx, "LRENV", "second-secret", "default", true))
	k, _, err = s.KeySecret(ctx, "LRENV")
	require.NoError(t, err)
	require.False(t, k.Disabled)
	// A non-admin key is not turned into an admin one.
	plain, _, err := s.CreateAccessKey(ctx, service.PrincipalOf(k), "", false, "plain")
	require.NoError(t, err)
	require.ErrorContains(t, s.EnsureAccessKey(ctx, plain.ID, "x", "default", true), "not an admin key")

	require.Error(t, s.EnsureAccessKey(ctx, "LRENV", "x", "other", true), "a key id cannot move project")
	_, sec, err = s.KeySecret(ctx, "LRENV")
	require.NoError(t, err)
	require.Equal(t, "second-secret", sec)
}

func TestUseNonceRefusesReplaysUntilTheyExpire(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	clk := &clock{t: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)}
	s.Now = clk.now
	const ttl = 15 * time.Minute

	require.NoError(t, s.UseNonce(ctx, "LRA", "n1", ttl))
	err := s.UseNonce(ctx, "LRA", "n1", ttl)
	require.ErrorIs(t, err, service.ErrReplay)
	require.ErrorIs(t, err, recording.ErrUnauthenticated)
	require.NoError(t, s.UseNonce(ctx, "LRB", "n1", ttl), "nonces are per key")

	clk.t = clk.t.Add(ttl - time.Second)
	require.ErrorIs(t, s.UseNonce(ctx, "LRA", "n1", ttl), service.ErrReplay)
	clk.t = clk.t.Add(time.Second)
	require.NoError(t, s.UseNonce(ctx, "LRA", "n1", ttl), "a nonce older than the ttl is a new request")
}

func TestTokens(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newServiceWithKeys(t)
	clk := &clock{t: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)}
	s.Now = clk.now

	raw, tok, err := s.CreateToken(ctx, alice, time.Hour)
	require.NoError(t, err)
	require.Regexp(t, `^lrt_[A-Za-z0-9_-]{43}$`, raw)
	require.Equal(t, clk.t.Add(time.Hour), tok.ExpiresAt)
	p, err := s.Authenticate(ctx, raw)
	require.NoError(t, err)
	require.Equal(t, service.Principal{Project: alice.Project, KeyID: tok.ID, AccessKeyID: alice.AccessKeyID,
		Expires: tok.ExpiresAt}, p)

	adminRaw, _, err := s.CreateToken(ctx, admin, 0)
	require.NoError(t, err)
	p, err = s.Authenticate(ctx, adminRaw)
	require.NoError(t, err)
	require.True(t, p.Admin, "a token carries its creator's admin right")

	_, err = s.Authenticate(ctx, raw+"x")
	require.ErrorIs(t, err, recording.ErrUnauthenticated)

	clk.t = clk.t.Add(time.Hour)
	_, err = s.Authenticate(ctx, raw)
	require.ErrorIs(t, err, recording.ErrUnauthenticated, "expired")
	_, err = s.Authenticate(ctx, adminRaw)
	require.NoError(t, err, "a ttl of 0 is the default day")
	clk.t = clk.t.Add(service.DefaultToken)
	_, err = s.Authenticate(ctx, adminRaw)
	require.ErrorIs(t, err, recording.ErrUnauthenticated)
}

func TestCreateTokenTTLIsBounded(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newServiceWithKeys(t)
	_, _, err := s.CreateToken(ctx, alice, service.MaxTokenTTL+time.Second)
	requireValidation(t, err, "ttl")
	_, tok, err := s.CreateToken(ctx, alice, service.MaxTokenTTL)
	require.NoError(t, err)
	require.Equal(t, service.MaxTokenTTL, tok.ExpiresAt.Sub(tok.CreatedAt))
}

func TestDeleteTokenIsPerProject(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newServiceWithKeys(t)
	raw, tok, err := s.CreateToken(ctx, alice, time.Hour)
	require.NoError(t, err)

	require.ErrorIs(t, s.DeleteToken(ctx, bob, "", tok.ID), recording.ErrNotFound)
	require.ErrorIs(t, s.DeleteToken(ctx, bob, alice.Project, tok.ID), recording.ErrForbidden)
	_, err = s.Authenticate(ctx, raw)
	require.NoError(t, err, "bob cannot delete alice's token")

	require.NoError(t, s.DeleteToken(ctx, alice, "", tok.ID))
	_, err = s.Authenticate(ctx, raw)
	require.ErrorIs(t, err, recording.ErrUnauthenticated)
	require.ErrorIs(t, s.DeleteToken(ctx, alice, "", tok.ID), recording.ErrNotFound)
}

// TestTokensDieWithTheirKey is defect 4 of the hardening issue: a token minted with a key (or
// with a token of it) stops working when the key is revoked or disabled, and a disabled key's
// tokens stay dead when it is enabled again.
func TestTokensDieWithTheirKey(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newServiceWithKeys(t)
	k, _, err := s.CreateAccessKey(ctx, alice, "", false, "short-lived")
	require.NoError(t, err)
	kp := service.PrincipalOf(k)
	raw, _, err := s.CreateToken(ctx, kp, time.Hour)
	require.NoError(t, err)
	tp, err := s.Authenticate(ctx, raw)
	require.NoError(t, err)
	child, _, err := s.CreateToken(ctx, tp, time.Hour)
	require.NoError(t, err, "a token may mint a token")
	other, _, err := s.CreateToken(ctx, alice, time.Hour)
	require.NoError(t, err)

	require.NoError(t, s.RevokeAccessKey(ctx, alice, "", k.ID))
	for _, tok := range []string{raw, child} {
		_, err = s.Authenticate(ctx, tok)
		require.ErrorIs(t, err, recording.ErrUnauthenticated, "a revoked key's tokens die with it")
	}
	_, _, err = s.CreateToken(ctx, tp, time.Hour)
	require.Error(t, err, "a dead token's principal cannot mint: its key is gone")
	_, err = s.Authenticate(ctx, other)
	require.NoError(t, err, "another key's tokens live on")

	k2, _, err := s.CreateAccessKey(ctx, alice, "", false, "disabled")
	require.NoError(t, err)
	raw2, _, err := s.CreateToken(ctx, service.PrincipalOf(k2), time.Hour)
	require.NoError(t, err)
	require.NoError(t, s.SetAccessKeyDisabled(ctx, alice, "", k2.ID, true))
	_, err = s.Authenticate(ctx, raw2)
	require.ErrorIs(t, err, recording.ErrUnauthenticated, "a disabled key's tokens die")
	_, _, err = s.KeySecret(ctx, k2.ID)
	require.ErrorIs(t, err, service.ErrUnknownKey, "a disabled key authenticates nothing")
	require.NoError(t, s.SetAccessKeyDisabled(ctx, alice, "", k2.ID, false))
	_, err = s.Authenticate(ctx, raw2)
	require.ErrorIs(t, err, recording.ErrUnauthenticated, "enabling the key does not revive its tokens")
	_, _, err = s.KeySecret(ctx, k2.ID)
	require.NoError(t, err, "an enabled key works again")
	requireValidation(t, s.SetAccessKeyDisabled(ctx, service.PrincipalOf(k2), "", k2.ID, true), "enabled")
}

// TestTokenCannotOutliveItsParent: a token minted with a token expires no later than it.
func TestTokenCannotOutliveItsParent(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newServiceWithKeys(t)
	clk := &clock{t: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)}
	s.Now = clk.now
	raw, parent, err := s.CreateToken(ctx, alice, time.Hour)
	require.NoError(t, err)
	tp, err := s.Authenticate(ctx, raw)
	require.NoError(t, err)
	_, child, err := s.CreateToken(ctx, tp, service.MaxTokenTTL)
	require.NoError(t, err)
	require.Equal(t, parent.ExpiresAt, child.ExpiresAt, "capped at the parent's expiry")
	_, short, err := s.CreateToken(ctx, tp, time.Minute)
	require.NoError(t, err)
	require.Equal(t, clk.t.Add(time.Minute), short.ExpiresAt, "a shorter ttl is kept")
}

// TestTokensAreListedAndRevokedByAnAdmin: a project lists its own live tokens; an admin lists
// and revokes any project's.
func TestTokensAreListedAndRevokedByAnAdmin(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newServiceWithKeys(t)
	raw, tok, err := s.CreateToken(ctx, alice, time.Hour)
	require.NoError(t, err)
	_, btok, err := s.CreateToken(ctx, bob, time.Hour)
	require.NoError(t, err)

	ts, err := s.ListTokens(ctx, alice, "")
	require.NoError(t, err)
	require.Len(t, ts, 1)
	require.Equal(t, tok.ID, ts[0].ID)
	require.Equal(t, alice.AccessKeyID, ts[0].KeyID)
	_, err = s.ListTokens(ctx, alice, bob.Project)
	require.ErrorIs(t, err, recording.ErrForbidden)

	all, err := s.ListTokens(ctx, admin, "*")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{tok.ID, btok.ID}, []string{all[0].ID, all[1].ID})
	require.NoError(t, s.DeleteToken(ctx, admin, alice.Project, tok.ID))
	_, err = s.Authenticate(ctx, raw)
	require.ErrorIs(t, err, recording.ErrUnauthenticated)
}

// TestAdminsManageOtherProjectsKeys: ?project= on the key calls, as tokens have it. An admin
// lists another project's keys or every project's ("*"), and disables, enables and revokes a
// key of a project it names; anyone else is refused even for a project they guess right.
func TestAdminsManageOtherProjectsKeys(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newServiceWithKeys(t)
	keyIDs := func(ks []recording.AccessKey) []string {
		out := []string{}
		for _, k := range ks {
			out = append(out, k.ID)
		}
		return out
	}

	lists := []struct {
		name    string
		p       service.Principal
		project string
		want    []string // nil: forbidden
	}{
		{"OwnByDefault", alice, "", []string{alice.AccessKeyID}},
		{"OwnByName", alice, alice.Project, []string{alice.AccessKeyID}},
		{"AnotherProject", alice, bob.Project, nil},
		{"EveryProject", alice, "*", nil},
		{"AdminOwn", admin, "", []string{admin.AccessKeyID}},
		{"AdminAnotherProject", admin, bob.Project, []string{bob.AccessKeyID}},
		{"AdminEveryProject", admin, "*", []string{alice.AccessKeyID, bob.AccessKeyID, admin.AccessKeyID}},
		{"AdminUnknownProject", admin, "nobody", []string{}},
	}
	for _, tc := range lists {
		ks, err := s.ListAccessKeys(ctx, tc.p, tc.project)
		if tc.want == nil {
			require.ErrorIs(t, err, recording.ErrForbidden, tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, keyIDs(ks), tc.name)
	}

	k, sec, err := s.CreateAccessKey(ctx, admin, bob.Project, false, "made by the operator")
	require.NoError(t, err)
	works := func() bool {
		_, got, kerr := s.KeySecret(ctx, k.ID)
		return kerr == nil && got == sec
	}

	// Refusals leave the key working.
	require.ErrorIs(t, s.SetAccessKeyDisabled(ctx, alice, bob.Project, k.ID, true), recording.ErrForbidden)
	require.ErrorIs(t, s.RevokeAccessKey(ctx, alice, bob.Project, k.ID), recording.ErrForbidden)
	require.ErrorIs(t, s.SetAccessKeyDisabled(ctx, admin, "", k.ID, true), recording.ErrNotFound,
		"without ?project= an admin acts in its own project")
	require.ErrorIs(t, s.SetAccessKeyDisabled(ctx, admin, alice.Project, k.ID, true), recording.ErrNotFound,
		"the key is not in the project named")
	requireValidation(t, s.SetAccessKeyDisabled(ctx, admin, "*", k.ID, true), "project")
	requireValidation(t, s.RevokeAccessKey(ctx, admin, "*", k.ID), "project")
	require.True(t, works())

	require.NoError(t, s.SetAccessKeyDisabled(ctx, admin, bob.Project, k.ID, true))
	require.False(t, works(), "disabled by the admin")
	ks, err := s.ListAccessKeys(ctx, bob, "")
	require.NoError(t, err)
	require.Equal(t, []string{bob.AccessKeyID, k.ID}, keyIDs(ks))
	require.True(t, ks[1].Disabled, "bob sees his key disabled")
	require.NoError(t, s.SetAccessKeyDisabled(ctx, admin, bob.Project, k.ID, false))
	require.True(t, works(), "enabled again")

	// An admin still cannot disable the key it is using, whatever project it names.
	requireValidation(t, s.SetAccessKeyDisabled(ctx, admin, admin.Project, admin.AccessKeyID, true), "enabled")

	require.NoError(t, s.RevokeAccessKey(ctx, admin, bob.Project, k.ID))
	require.False(t, works(), "revoked by the admin")
}
