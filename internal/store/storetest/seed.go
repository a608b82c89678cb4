package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

func exerciseSeed(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("SeedsOnceWhateverItFinds", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		def := rule("default", recording.Wildcard, recording.Wildcard, recording.Wildcard)
		seeded, err := s.Seed(ctx, def)
		require.NoError(t, err)
		require.True(t, seeded, "a fresh store is seeded")
		got, err := s.RuleGet(ctx, "default", def.ID)
		require.NoError(t, err)
		require.Equal(t, def.ID, got.ID)

		// The operator deletes the default rule: a later start must not bring it back.
		require.NoError(t, s.RuleDelete(ctx, "default", def.ID))
		again := rule("default", recording.Wildcard, recording.Wildcard, recording.Wildcard)
		seeded, err = s.Seed(ctx, again)
		require.NoError(t, err)
		require.False(t, seeded)
		_, total, err := s.RuleList(ctx, store.RuleFilter{Project: "default"})
		require.NoError(t, err)
		require.Zero(t, total)
	})

	t.Run("AFailedSeedLeavesTheStoreUnseeded", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		taken := insertRule(ctx, t, s, "default", "a.com", "*", "*")
		clash := rule("default", "a.com", "*", "*") // the same key: the insert fails
		_, err := s.Seed(ctx, clash)
		require.ErrorIs(t, err, recording.ErrConflict)
		def := rule("default", recording.Wildcard, recording.Wildcard, recording.Wildcard)
		seeded, err := s.Seed(ctx, def)
		require.NoError(t, err)
		require.True(t, seeded, "the marker went with the failed transaction")
		_, total, err := s.RuleList(ctx, store.RuleFilter{Project: "default"})
		require.NoError(t, err)
		require.Equal(t, 2, total, "%s and the default rule", taken.ID)
	})
}
