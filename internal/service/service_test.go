package service_test

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/secret"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/store/sqldb/sqldbtest"
)

// Two tenants and an operator. Every tenancy test has bob try what alice owns.
var (
	alice = service.Principal{Project: "pa", KeyID: "LRALICE", AccessKeyID: "LRALICE"}
	bob   = service.Principal{Project: "pb", KeyID: "LRBOB", AccessKeyID: "LRBOB"}
	admin = service.Principal{Project: "ops", Admin: true, KeyID: "LRADMIN", AccessKeyID: "LRADMIN"}
)

// newService returns a service on a fresh SQLite file (the production driver, so tenancy is
// checked against real claims) with a random master key. Endpoints "local" and "s3" exist.
func newService(t testing.TB) *service.Service {
	t.Helper()
	db := sqldbtest.OpenSQLiteAt(t, filepath.Join(t.TempDir(), "liverec.db"))
	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	box, err := secret.New(key)
	require.NoError(t, err)
	s := &service.Service{
		Store:          db,
		Sealer:         box,
		EndpointExists: func(name string) bool { return name == "local" || name == "s3" },
	}
	if cat, ok := any(db).(store.Catalog); ok {
		s.Catalog = cat
	}
	return s
}

// newServiceWithKeys is newService where the principals' access keys exist, as a real caller's
// do: tokens live only while their key does.
func newServiceWithKeys(t *testing.T) *service.Service {
	t.Helper()
	s := newService(t)
	for _, p := range []service.Principal{alice, bob, admin} {
		require.NoError(t, s.EnsureAccessKey(t.Context(), p.AccessKeyID, "secret of "+p.KeyID, p.Project, p.Admin))
	}
	return s
}

// clock is a settable Service.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// requireValidation asserts err is a *recording.ValidationError for field.
func requireValidation(t *testing.T, err error, field string) {
	t.Helper()
	var ve *recording.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, field, ve.Field, ve.Error())
}

func TestCheckDomain(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	require.NoError(t, s.CreateRule(ctx, alice, newRule("a.com", "live", "")))

	cases := []struct {
		name   string
		p      service.Principal
		domain string
		want   error // nil: allowed
	}{
		{"OwnerMayReadItsDomain", alice, "a.com", nil},
		{"OwnerInAnyCase", alice, "A.COM", nil},
		{"OtherProjectCannotSeeIt", bob, "a.com", recording.ErrNotFound},
		{"UnclaimedIsNotFoundAndNotClaimed", bob, "b.com", recording.ErrNotFound},
		{"WildcardIsForAdmins", alice, "*", recording.ErrForbidden},
		{"AdminReadsWildcard", admin, "*", nil},
	}
	for _, tc := range cases {
		err := s.CheckDomain(ctx, tc.p, tc.domain)
		if tc.want == nil {
			require.NoError(t, err, tc.name)
		} else {
			require.ErrorIs(t, err, tc.want, tc.name)
		}
	}
	// CheckDomain never claims: b.com is still free for bob to claim.
	require.NoError(t, s.CreateRule(ctx, bob, newRule("b.com", "live", "")))
}

func TestAssignDomain(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	ra := newRule("a.com", "live", "")
	require.NoError(t, s.CreateRule(ctx, alice, ra))

	require.ErrorIs(t, s.AssignDomain(ctx, alice, "a.com", bob.Project), recording.ErrForbidden)
	require.ErrorIs(t, s.CreateRule(ctx, bob, newRule("a.com", "vod", "")), recording.ErrNotFound,
		"a refused assignment changed nothing")

	for _, bad := range []struct{ domain, project string }{{"", "pb"}, {" ", "pb"}, {"*", "pb"}, {"a.com", ""}} {
		requireValidation(t, s.AssignDomain(ctx, admin, bad.domain, bad.project), "domain")
	}

	require.NoError(t, s.AssignDomain(ctx, admin, " A.com ", bob.Project))
	require.NoError(t, s.CreateRule(ctx, bob, newRule("a.com", "vod", "")))
	require.ErrorIs(t, s.CreateRule(ctx, alice, newRule("a.com", "vod2", "")), recording.ErrNotFound)
	require.ErrorIs(t, s.CheckDomain(ctx, alice, "a.com"), recording.ErrNotFound)

	ds, err := s.ListDomains(ctx, bob)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, "a.com", ds[0].Domain)
	ds, err = s.ListDomains(ctx, alice)
	require.NoError(t, err)
	require.Empty(t, ds)
}

func TestErrorsMatchTheirSentinels(t *testing.T) {
	t.Parallel()
	// Façades map errors with errors.Is; the service's own sentinels must say what they are.
	require.ErrorIs(t, service.ErrUnknownKey, recording.ErrUnauthenticated)
	require.ErrorIs(t, service.ErrReplay, recording.ErrUnauthenticated)
	require.False(t, errors.Is(service.ErrReplay, service.ErrUnknownKey))
}

// racingStore lets another project claim a domain between the service's owner check and its
// own claim, the window two concurrent first writers share.
type racingStore struct {
	service.Store
	rival string
}

func (r *racingStore) DomainOwner(ctx context.Context, domain string) (string, error) {
	owner, err := r.Store.DomainOwner(ctx, domain)
	if errors.Is(err, recording.ErrNotFound) {
		if _, cerr := r.DomainClaim(ctx, domain, r.rival); cerr != nil {
			return "", cerr
		}
	}
	return owner, err
}

func TestLosingAClaimRaceIsNotFound(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	s.Store = &racingStore{Store: s.Store, rival: bob.Project}
	require.ErrorIs(t, s.CreateRule(ctx, alice, newRule("a.com", "live", "")), recording.ErrNotFound)

	rules, total, err := s.ListRules(ctx, alice, store.RuleFilter{})
	require.NoError(t, err)
	require.Zero(t, total, "the loser wrote nothing: %+v", rules)
	owner, err := s.Store.DomainOwner(ctx, "a.com")
	require.NoError(t, err)
	require.Equal(t, bob.Project, owner)
}
