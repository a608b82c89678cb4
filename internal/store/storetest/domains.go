package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

func domainName(d recording.DomainClaim) string { return d.Domain }

func exerciseDomains(t *testing.T, newStore func(t *testing.T) store.Control) {
	t.Run("FirstClaimWinsAndLaterClaimsGetTheOwner", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		_, err := s.DomainOwner(ctx, "a.com")
		require.ErrorIs(t, err, recording.ErrNotFound)

		for _, c := range []struct{ domain, project, owner string }{
			{"a.com", "p1", "p1"},
			{"a.com", "p1", "p1"}, // claiming one's own domain again is fine
			{"a.com", "p2", "p1"},
			{"A.COM", "p2", "p1"}, // domains are DNS names: case does not make a new one
			{"b.com", "p2", "p2"},
		} {
			owner, err := s.DomainClaim(ctx, c.domain, c.project)
			require.NoError(t, err)
			require.Equal(t, c.owner, owner, "%s claims %s", c.project, c.domain)
		}
		for domain, want := range map[string]string{"a.com": "p1", "A.com": "p1", "b.com": "p2"} {
			owner, err := s.DomainOwner(ctx, domain)
			require.NoError(t, err)
			require.Equal(t, want, owner, domain)
		}
	})

	t.Run("ConcurrentClaimsHaveOneWinner", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		const n = 8
		owners := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { owners[i], errs[i] = s.DomainClaim(ctx, "a.com", fmt.Sprintf("p%d", i)) })
		}
		wg.Wait()
		require.NoError(t, errors.Join(errs...))
		winner, err := s.DomainOwner(ctx, "a.com")
		require.NoError(t, err)
		for i, owner := range owners {
			require.Equal(t, winner, owner, "claim %d", i)
		}
	})

	t.Run("AssignMovesOrCreatesAClaim", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		_, err := s.DomainClaim(ctx, "a.com", "p1")
		require.NoError(t, err)

		require.NoError(t, s.DomainAssign(ctx, "A.com", "p2"))
		owner, err := s.DomainOwner(ctx, "a.com")
		require.NoError(t, err)
		require.Equal(t, "p2", owner)
		owner, err = s.DomainClaim(ctx, "a.com", "p1")
		require.NoError(t, err)
		require.Equal(t, "p2", owner, "the former owner cannot claim it back")

		require.NoError(t, s.DomainAssign(ctx, "b.com", "p3"))
		owner, err = s.DomainOwner(ctx, "b.com")
		require.NoError(t, err)
		require.Equal(t, "p3", owner)

		// Assigning to the owner changes nothing, not even the claim's time.
		before, err := s.DomainList(ctx, "p3")
		require.NoError(t, err)
		require.NoError(t, s.DomainAssign(ctx, "b.com", "p3"))
		after, err := s.DomainList(ctx, "p3")
		require.NoError(t, err)
		require.Equal(t, before, after)
	})

	t.Run("ListIsPerProjectSortedByDomain", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		start := time.Now().Add(-time.Second)
		// Neither creation order nor its reverse is sorted.
		for _, c := range [][2]string{{"b.com", "p1"}, {"c.com", "p2"}, {"a.com", "p1"}, {"d.com", "p1"}} {
			_, err := s.DomainClaim(ctx, c[0], c[1])
			require.NoError(t, err)
		}
		cases := []struct {
			project string
			want    []string
		}{
			{"p1", []string{"a.com", "b.com", "d.com"}},
			{"p2", []string{"c.com"}},
			{"", []string{"a.com", "b.com", "c.com", "d.com"}},
			{"p3", []string{}},
		}
		for _, tc := range cases {
			ds, err := s.DomainList(ctx, tc.project)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(ds, domainName), "project %q", tc.project)
			require.NotNil(t, ds, "an empty list is [] in JSON, not null")
			for _, d := range ds {
				require.True(t, tc.project == "" || d.Project == tc.project, "%+v", d)
				require.True(t, d.CreatedAt.After(start), "%+v", d)
				require.Equal(t, time.UTC, d.CreatedAt.Location())
			}
		}
	})
}

func exerciseNonces(t *testing.T, newStore func(t *testing.T) store.Control) {
	const ttl = 15 * time.Minute

	t.Run("ALiveNonceIsUsedOncePerKey", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		require.NoError(t, s.NonceUse(ctx, "k1", "n1", odd(ttl), odd(0)))
		err := s.NonceUse(ctx, "k1", "n1", odd(time.Minute+ttl), odd(time.Minute))
		require.ErrorIs(t, err, recording.ErrConflict)
		require.ErrorContains(t, err, "nonce")
		require.NoError(t, s.NonceUse(ctx, "k2", "n1", odd(ttl), odd(0)), "nonces are per key")
		require.NoError(t, s.NonceUse(ctx, "k1", "n2", odd(ttl), odd(0)))
	})

	t.Run("AnExpiredNonceMayBeUsedAgain", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		require.NoError(t, s.NonceUse(ctx, "k1", "n1", odd(ttl), odd(0)))
		require.ErrorIs(t, s.NonceUse(ctx, "k1", "n1", odd(2*ttl), odd(ttl-time.Microsecond)), recording.ErrConflict)
		require.NoError(t, s.NonceUse(ctx, "k1", "n1", odd(2*ttl), odd(ttl)), "expired at its expiry")
		require.ErrorIs(t, s.NonceUse(ctx, "k1", "n1", odd(3*ttl), odd(ttl+time.Minute)), recording.ErrConflict,
			"the second use is live until its own expiry")
	})

	t.Run("ConcurrentUsesHaveOneWinner", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = s.NonceUse(ctx, "k1", "n1", odd(ttl), odd(0)) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				require.ErrorIs(t, err, recording.ErrConflict)
			}
		}
		require.Equal(t, 1, won)
	})
}
