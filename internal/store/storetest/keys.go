package storetest

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

func insertAccessKey(ctx context.Context, t *testing.T, s store.Control, id, project string) *recording.AccessKey {
	t.Helper()
	k := &recording.AccessKey{ID: id, Project: project, SecretSealed: []byte("sealed-" + id), CreatedAt: odd(0)}
	require.NoError(t, s.AccessKeyInsert(ctx, k))
	return k
}

func accessKeyID(k recording.AccessKey) string { return k.ID }

func exerciseAccessKeys(t *testing.T, newStore func(t *testing.T) store.Control) {
	t.Run("InsertRoundTripsAndGetFindsItByIDAlone", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		k := &recording.AccessKey{ID: "LRKEY1", Project: "p1", Admin: true, Description: "ops",
			SecretSealed: []byte{0x01, 0x00, 0xfe}, CreatedAt: odd(0)}
		require.NoError(t, s.AccessKeyInsert(ctx, k))
		require.Equal(t, normalised(odd(0)), k.CreatedAt, "insert normalises the caller's time")

		got, err := s.AccessKeyGet(ctx, "LRKEY1")
		require.NoError(t, err)
		require.Equal(t, k, got)
		require.Nil(t, got.RevokedAt)

		_, err = s.AccessKeyGet(ctx, "LRUNKNOWN")
		require.ErrorIs(t, err, recording.ErrNotFound)
	})

	t.Run("InsertWithoutCreatedAtUsesNow", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		before := time.Now().Add(-time.Second)
		k := &recording.AccessKey{ID: "LRKEY1", Project: "p1", SecretSealed: []byte("x")}
		require.NoError(t, s.AccessKeyInsert(ctx, k))
		require.True(t, k.CreatedAt.After(before), "created_at %v", k.CreatedAt)
		got, err := s.AccessKeyGet(ctx, "LRKEY1")
		require.NoError(t, err)
		require.Equal(t, k, got)
	})

	t.Run("InsertDuplicateIDConflictsAcrossProjects", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		insertAccessKey(ctx, t, s, "LRKEY1", "p1")
		err := s.AccessKeyInsert(ctx, &recording.AccessKey{ID: "LRKEY1", Project: "p2", SecretSealed: []byte("x")})
		require.ErrorIs(t, err, recording.ErrConflict)
		got, err := s.AccessKeyGet(ctx, "LRKEY1")
		require.NoError(t, err)
		require.Equal(t, "p1", got.Project)
	})

	t.Run("ListIsPerProjectInCreationOrder", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		// Ids out of alphabetical order and equal created_at: only insertion order decides.
		insertAccessKey(ctx, t, s, "LRC", "p1")
		insertAccessKey(ctx, t, s, "LRB", "p2")
		insertAccessKey(ctx, t, s, "LRA", "p1")
		require.NoError(t, s.AccessKeyRevoke(ctx, "p1", "LRA", odd(time.Hour)))

		cases := []struct {
			project string
			want    []string
		}{
			{"p1", []string{"LRC", "LRA"}}, // revoked keys are listed too
			{"p2", []string{"LRB"}},
			{"", []string{"LRC", "LRB", "LRA"}},
			{"p3", []string{}},
		}
		for _, tc := range cases {
			ks, err := s.AccessKeyList(ctx, tc.project)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(ks, accessKeyID), "project %q", tc.project)
			require.NotNil(t, ks, "an empty list is [] in JSON, not null")
		}
	})

	t.Run("RevokeSetsRevokedAtWithinTheProjectOnly", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		k := insertAccessKey(ctx, t, s, "LRKEY1", "p1")
		require.ErrorIs(t, s.AccessKeyRevoke(ctx, "p2", k.ID, odd(time.Hour)), recording.ErrNotFound)
		require.ErrorIs(t, s.AccessKeyRevoke(ctx, "p1", "LRUNKNOWN", odd(time.Hour)), recording.ErrNotFound)
		got, err := s.AccessKeyGet(ctx, k.ID)
		require.NoError(t, err)
		require.Nil(t, got.RevokedAt, "another project cannot revoke the key")

		require.NoError(t, s.AccessKeyRevoke(ctx, "p1", k.ID, odd(time.Hour)))
		got, err = s.AccessKeyGet(ctx, k.ID)
		require.NoError(t, err, "a revoked key is still found (to be refused by the caller)")
		require.NotNil(t, got.RevokedAt)
		require.Equal(t, normalised(odd(time.Hour)), *got.RevokedAt)

		// A second revocation keeps the first time: when the key stopped working.
		require.NoError(t, s.AccessKeyRevoke(ctx, "p1", k.ID, odd(2*time.Hour)))
		got, err = s.AccessKeyGet(ctx, k.ID)
		require.NoError(t, err)
		require.Equal(t, normalised(odd(time.Hour)), *got.RevokedAt)
	})

	t.Run("UpdateSecretReplacesItAndUnrevokes", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		k := insertAccessKey(ctx, t, s, "LRKEY1", "p1")
		require.NoError(t, s.AccessKeyRevoke(ctx, "p1", k.ID, odd(time.Hour)))
		require.NoError(t, s.AccessKeyUpdateSecret(ctx, k.ID, []byte("sealed-new")))

		got, err := s.AccessKeyGet(ctx, k.ID)
		require.NoError(t, err)
		k.SecretSealed = []byte("sealed-new")
		require.Equal(t, k, got)
		require.Nil(t, got.RevokedAt)

		require.ErrorIs(t, s.AccessKeyUpdateSecret(ctx, "LRUNKNOWN", []byte("x")), recording.ErrNotFound)
	})
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// newToken is a token of project descending from the key "LRKEY-"+project, which the tokens
// tests insert first (a token lives only while its key does).
func newToken(project, raw string) *recording.Token {
	return &recording.Token{Project: project, KeyID: "LRKEY-" + project, Hash: hash(raw), CreatedAt: odd(0),
		ExpiresAt: odd(time.Hour)}
}

// tokenStore is a fresh store holding the keys of newToken's tokens for projects p1 and p2.
func tokenStore(t *testing.T, newStore func(t *testing.T) store.Control) store.Control {
	t.Helper()
	s := newStore(t)
	for _, p := range []string{"p1", "p2"} {
		insertAccessKey(t.Context(), t, s, "LRKEY-"+p, p)
	}
	return s
}

func exerciseTokens(t *testing.T, newStore func(t *testing.T) store.Control) {
	t.Run("InsertAssignsIDAndByHashFindsIt", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), tokenStore(t, newStore)
		tok := newToken("p1", "secret-1")
		tok.Admin = true
		require.NoError(t, s.TokenInsert(ctx, tok))
		require.Regexp(t, idPattern[store.TokenPrefix], tok.ID)
		require.Equal(t, normalised(odd(time.Hour)), tok.ExpiresAt)

		got, err := s.TokenByHash(ctx, hash("secret-1"), odd(time.Minute))
		require.NoError(t, err)
		require.Equal(t, tok, got)

		_, err = s.TokenByHash(ctx, hash("secret-2"), odd(time.Minute))
		require.ErrorIs(t, err, recording.ErrNotFound)
	})

	t.Run("ByHashIsNotFoundOnceExpired", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), tokenStore(t, newStore)
		require.NoError(t, s.TokenInsert(ctx, newToken("p1", "secret-1")))
		cases := []struct {
			name  string
			now   time.Time
			found bool
		}{
			{"BeforeCreation", odd(-time.Hour), true}, // only expiry is checked
			{"JustBeforeExpiry", odd(time.Hour - time.Microsecond), true},
			{"AtExpiry", odd(time.Hour), false},
			{"AfterExpiry", odd(2 * time.Hour), false},
		}
		for _, tc := range cases {
			_, err := s.TokenByHash(ctx, hash("secret-1"), tc.now)
			if tc.found {
				require.NoError(t, err, tc.name)
			} else {
				require.ErrorIs(t, err, recording.ErrNotFound, tc.name)
			}
		}
	})

	t.Run("InsertDuplicateHashOrIDConflicts", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), tokenStore(t, newStore)
		tok := newToken("p1", "secret-1")
		require.NoError(t, s.TokenInsert(ctx, tok))
		require.ErrorIs(t, s.TokenInsert(ctx, newToken("p2", "secret-1")), recording.ErrConflict)
		dup := newToken("p1", "secret-2")
		dup.ID = tok.ID
		require.ErrorIs(t, s.TokenInsert(ctx, dup), recording.ErrConflict)
	})

	t.Run("DeleteRemovesOnlyWithinTheProject", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), tokenStore(t, newStore)
		tok := newToken("p1", "secret-1")
		require.NoError(t, s.TokenInsert(ctx, tok))
		require.ErrorIs(t, s.TokenDelete(ctx, "p2", tok.ID), recording.ErrNotFound)
		_, err := s.TokenByHash(ctx, tok.Hash, odd(0))
		require.NoError(t, err, "another project cannot delete the token")

		require.NoError(t, s.TokenDelete(ctx, "p1", tok.ID))
		_, err = s.TokenByHash(ctx, tok.Hash, odd(0))
		require.ErrorIs(t, err, recording.ErrNotFound)
		require.ErrorIs(t, s.TokenDelete(ctx, "p1", tok.ID), recording.ErrNotFound)
	})

	t.Run("ByHashIsNotFoundOnceItsKeyIsRevokedOrDisabled", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), tokenStore(t, newStore)
		a, b := newToken("p1", "secret-a"), newToken("p1", "secret-b")
		other := newToken("p2", "secret-other")
		for _, tok := range []*recording.Token{a, b, other} {
			require.NoError(t, s.TokenInsert(ctx, tok))
		}
		require.ErrorIs(t, s.AccessKeySetDisabled(ctx, "p2", "LRKEY-p1", true), recording.ErrNotFound)
		require.NoError(t, s.AccessKeySetDisabled(ctx, "p1", "LRKEY-p1", true))
		_, err := s.TokenByHash(ctx, a.Hash, odd(0))
		require.ErrorIs(t, err, recording.ErrNotFound, "a disabled key's token")
		k, err := s.AccessKeyGet(ctx, "LRKEY-p1")
		require.NoError(t, err)
		require.True(t, k.Disabled)

		// A token inserted while its key is disabled is not valid either (the join, not only the
		// delete, holds), and enabling the key brings back only that one.
		require.NoError(t, s.TokenInsert(ctx, newToken("p1", "secret-late")))
		_, err = s.TokenByHash(ctx, hash("secret-late"), odd(0))
		require.ErrorIs(t, err, recording.ErrNotFound)
		require.NoError(t, s.AccessKeySetDisabled(ctx, "p1", "LRKEY-p1", false))
		_, err = s.TokenByHash(ctx, b.Hash, odd(0))
		require.ErrorIs(t, err, recording.ErrNotFound, "disabling deleted the key's tokens")
		_, err = s.TokenByHash(ctx, hash("secret-late"), odd(0))
		require.NoError(t, err)

		require.NoError(t, s.AccessKeyRevoke(ctx, "p1", "LRKEY-p1", odd(time.Minute)))
		_, err = s.TokenByHash(ctx, hash("secret-late"), odd(0))
		require.ErrorIs(t, err, recording.ErrNotFound, "a revoked key's token")
		_, err = s.TokenByHash(ctx, other.Hash, odd(0))
		require.NoError(t, err, "another key's token lives on")

		orphan := newToken("p1", "secret-orphan")
		orphan.KeyID = "LRNOSUCHKEY"
		require.NoError(t, s.TokenInsert(ctx, orphan))
		_, err = s.TokenByHash(ctx, orphan.Hash, odd(0))
		require.ErrorIs(t, err, recording.ErrNotFound, "a token without a key")
	})

	t.Run("ListShowsLiveTokensPerProject", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), tokenStore(t, newStore)
		a, b := newToken("p1", "secret-a"), newToken("p2", "secret-b")
		short := newToken("p1", "secret-short")
		short.ExpiresAt = odd(time.Minute)
		for _, tok := range []*recording.Token{a, b, short} {
			require.NoError(t, s.TokenInsert(ctx, tok))
		}
		id := func(tk recording.Token) string { return tk.ID }
		got, err := s.TokenList(ctx, "p1", odd(0))
		require.NoError(t, err)
		require.ElementsMatch(t, []string{a.ID, short.ID}, ids(got, id))
		got, err = s.TokenList(ctx, "p1", odd(2*time.Minute))
		require.NoError(t, err)
		require.Equal(t, []string{a.ID}, ids(got, id), "expired tokens are not listed")
		require.Equal(t, *a, got[0])
		got, err = s.TokenList(ctx, "", odd(0))
		require.NoError(t, err)
		require.Len(t, got, 3)
	})
}
