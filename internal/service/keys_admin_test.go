package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// keyState is "enabled", "disabled" or "revoked": a key as every project's list shows it.
func keyState(t *testing.T, s *service.Service, id string) string {
	t.Helper()
	ks, err := s.ListAccessKeys(t.Context(), admin, "*")
	require.NoError(t, err)
	for _, k := range ks {
		switch {
		case k.ID != id:
		case k.RevokedAt != nil:
			return "revoked"
		case k.Disabled:
			return "disabled"
		default:
			return "enabled"
		}
	}
	t.Fatalf("access key %s is not listed", id)
	return ""
}

// newPlainKey makes a non-admin key of project and returns the principal it acts as.
func newPlainKey(t *testing.T, s *service.Service, project string) service.Principal {
	t.Helper()
	k, _, err := s.CreateAccessKey(t.Context(), admin, project, false, "plain")
	require.NoError(t, err)
	return service.PrincipalOf(k)
}

// TestOnlyAnAdminChangesAnAdminKey: a non-admin key of the project an admin key is in may not
// disable, enable or revoke it (it could lock the admins out), while it still manages the
// project's other keys; an admin may do all three. Refusals change nothing.
func TestOnlyAnAdminChangesAnAdminKey(t *testing.T) {
	t.Parallel()
	type action func(ctx context.Context, s *service.Service, p service.Principal, project, id string) error
	disable := func(ctx context.Context, s *service.Service, p service.Principal, project, id string) error {
		return s.SetAccessKeyDisabled(ctx, p, project, id, true)
	}
	enable := func(ctx context.Context, s *service.Service, p service.Principal, project, id string) error {
		return s.SetAccessKeyDisabled(ctx, p, project, id, false)
	}
	revoke := func(ctx context.Context, s *service.Service, p service.Principal, project, id string) error {
		return s.RevokeAccessKey(ctx, p, project, id)
	}
	cases := []struct {
		name     string
		caller   string // "ops" (a non-admin key of the admin's project), "alice", "bob" or "admin"
		project  string
		target   string // "opsAdmin" (a second admin key of ops), "pbAdmin" (an admin key of bob's project) or "opsPlain"
		act      action
		disabled bool   // the target is disabled before the action
		want     error  // nil: allowed
		after    string // the target's state after an allowed action
	}{
		{"NonAdminDisables", "ops", "", "opsAdmin", disable, false, recording.ErrForbidden, ""},
		{"NonAdminEnables", "ops", "", "opsAdmin", enable, true, recording.ErrForbidden, ""},
		{"NonAdminRevokes", "ops", "", "opsAdmin", revoke, false, recording.ErrForbidden, ""},
		{"NonAdminNamingItsProject", "ops", "ops", "opsAdmin", revoke, false, recording.ErrForbidden, ""},
		{"NonAdminOfAnotherProjectKeysAdmin", "bob", "", "pbAdmin", disable, false, recording.ErrForbidden, ""},
		{"NonAdminOnAnotherProjectsAdminKey", "alice", "", "pbAdmin", revoke, false, recording.ErrNotFound, ""},
		{"NonAdminDisablesAPlainKey", "ops", "", "opsPlain", disable, false, nil, "disabled"},
		{"NonAdminEnablesAPlainKey", "ops", "", "opsPlain", enable, true, nil, "enabled"},
		{"NonAdminRevokesAPlainKey", "ops", "", "opsPlain", revoke, false, nil, "revoked"},
		{"AdminDisables", "admin", "", "opsAdmin", disable, false, nil, "disabled"},
		{"AdminEnables", "admin", "", "opsAdmin", enable, true, nil, "enabled"},
		{"AdminRevokes", "admin", "", "opsAdmin", revoke, false, nil, "revoked"},
		{"AdminOfAnotherProject", "admin", bob.Project, "pbAdmin", revoke, false, nil, "revoked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, s := t.Context(), newServiceWithKeys(t)
			opsAdmin, _, err := s.CreateAccessKey(ctx, admin, "", true, "second admin")
			require.NoError(t, err)
			pbAdmin, _, err := s.CreateAccessKey(ctx, admin, bob.Project, true, "admin of pb")
			require.NoError(t, err)
			opsPlain := newPlainKey(t, s, admin.Project)
			callers := map[string]service.Principal{
				"ops": newPlainKey(t, s, admin.Project), "alice": alice, "bob": bob, "admin": admin,
			}
			targets := map[string]string{"opsAdmin": opsAdmin.ID, "pbAdmin": pbAdmin.ID, "opsPlain": opsPlain.AccessKeyID}
			id := targets[tc.target]
			if tc.disabled {
				keyProject := map[string]string{"opsAdmin": "", "pbAdmin": bob.Project, "opsPlain": ""}[tc.target]
				require.NoError(t, s.SetAccessKeyDisabled(ctx, admin, keyProject, id, true))
			}
			before := keyState(t, s, id)

			err = tc.act(ctx, s, callers[tc.caller], tc.project, id)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				require.Equal(t, before, keyState(t, s, id), "a refusal changes nothing")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.after, keyState(t, s, id))
		})
	}
}

// TestCreateAccessKeyAdminNeedsAnAdmin: a non-admin key, even of the admin's own project,
// makes only non-admin keys.
func TestCreateAccessKeyAdminNeedsAnAdmin(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newServiceWithKeys(t)
	ops := newPlainKey(t, s, admin.Project)
	for _, project := range []string{"", admin.Project} {
		_, _, err := s.CreateAccessKey(ctx, ops, project, true, "")
		require.ErrorIs(t, err, recording.ErrForbidden, "project %q", project)
	}
	k, _, err := s.CreateAccessKey(ctx, ops, "", false, "")
	require.NoError(t, err)
	require.False(t, k.Admin)
}

// TestLastEnabledAdminKeyStays: no one can disable or revoke the last enabled admin key (of any
// project: admin keys act on every project), so the admins cannot lock themselves out;
// disabled and revoked admin keys do not count as another.
func TestLastEnabledAdminKeyStays(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newServiceWithKeys(t)
	requireLast := func(err error) {
		t.Helper()
		var se *service.StateError
		require.ErrorAs(t, err, &se)
		require.ErrorIs(t, err, recording.ErrConflict)
		require.Contains(t, se.Reason, "it is the last enabled admin key")
	}

	requireLast(s.RevokeAccessKey(ctx, admin, "", admin.AccessKeyID))
	require.Equal(t, "enabled", keyState(t, s, admin.AccessKeyID))

	// A second admin key, in another project, disabled: the first is still the last enabled.
	k2, _, err := s.CreateAccessKey(ctx, admin, bob.Project, true, "second admin")
	require.NoError(t, err)
	second := service.PrincipalOf(k2)
	require.NoError(t, s.SetAccessKeyDisabled(ctx, admin, bob.Project, k2.ID, true))
	requireLast(s.SetAccessKeyDisabled(ctx, second, admin.Project, admin.AccessKeyID, true))
	requireLast(s.RevokeAccessKey(ctx, second, admin.Project, admin.AccessKeyID))
	require.Equal(t, "enabled", keyState(t, s, admin.AccessKeyID))

	// Enabled again, it stands in for the first, which can then go.
	require.NoError(t, s.SetAccessKeyDisabled(ctx, admin, bob.Project, k2.ID, false))
	require.NoError(t, s.SetAccessKeyDisabled(ctx, second, admin.Project, admin.AccessKeyID, true))
	require.NoError(t, s.RevokeAccessKey(ctx, second, admin.Project, admin.AccessKeyID))
	require.Equal(t, "revoked", keyState(t, s, admin.AccessKeyID))
	requireLast(s.RevokeAccessKey(ctx, second, "", k2.ID))

	// Ending an admin key that is already disabled leaves the count as it is.
	k3, _, err := s.CreateAccessKey(ctx, second, "", true, "third admin")
	require.NoError(t, err)
	require.NoError(t, s.SetAccessKeyDisabled(ctx, second, "", k3.ID, true))
	require.NoError(t, s.RevokeAccessKey(ctx, second, "", k3.ID))
	require.Equal(t, "enabled", keyState(t, s, k2.ID))
}

// TestOnlyAnAdminRevokesAnAdminsToken: a non-admin key may revoke its project's tokens except
// those an admin key minted; an admin may revoke any.
func TestOnlyAnAdminRevokesAnAdminsToken(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		caller  string // "ops" (a non-admin key of the admin's project), "opsToken" (a token of it), "bob" or "admin"
		project string
		token   string // "admin" or "ops": whose token is revoked
		want    error  // nil: allowed
	}{
		{"NonAdminOnAnAdminsToken", "ops", "", "admin", recording.ErrForbidden},
		{"NonAdminNamingItsProject", "ops", admin.Project, "admin", recording.ErrForbidden},
		{"NonAdminsTokenOnAnAdminsToken", "opsToken", "", "admin", recording.ErrForbidden},
		{"AnotherProject", "bob", "", "admin", recording.ErrNotFound},
		{"NonAdminOnANonAdminsToken", "ops", "", "ops", nil},
		{"AdminOnANonAdminsToken", "admin", "", "ops", nil},
		{"AdminOnAnAdminsToken", "admin", "", "admin", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, s := t.Context(), newServiceWithKeys(t)
			ops := newPlainKey(t, s, admin.Project)
			raws, toks := map[string]string{}, map[string]*recording.Token{}
			for name, p := range map[string]service.Principal{"admin": admin, "ops": ops} {
				raw, tok, err := s.CreateToken(ctx, p, time.Hour)
				require.NoError(t, err)
				raws[name], toks[name] = raw, tok
			}
			opsToken, err := s.Authenticate(ctx, raws["ops"])
			require.NoError(t, err)
			callers := map[string]service.Principal{"ops": ops, "opsToken": opsToken, "bob": bob, "admin": admin}

			err = s.DeleteToken(ctx, callers[tc.caller], tc.project, toks[tc.token].ID)
			_, authErr := s.Authenticate(ctx, raws[tc.token])
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				require.NoError(t, authErr, "a refused revocation leaves the token working")
				return
			}
			require.NoError(t, err)
			require.ErrorIs(t, authErr, recording.ErrUnauthenticated, "the revoked token stops working")
		})
	}
}
