package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

func exerciseRules(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("InsertAssignsIDAndTimesAndGetReturnsIt", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		before := time.Now().Add(-time.Second)
		r := insertRule(ctx, t, s, "p1", "a.com", "live", "*")
		require.Regexp(t, idPattern[store.RulePrefix], r.ID)
		require.Equal(t, r.CreatedAt, r.UpdatedAt)
		require.True(t, r.CreatedAt.After(before), "created_at %v", r.CreatedAt)
		require.Equal(t, time.UTC, r.CreatedAt.Location())

		got, err := s.RuleGet(ctx, "p1", r.ID)
		require.NoError(t, err)
		require.Equal(t, r, got)
	})

	t.Run("InsertKeepsAGivenID", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		r := rule("p1", "a.com", "live", "*")
		r.ID = "r_given"
		require.NoError(t, s.RuleInsert(ctx, r))
		require.Equal(t, "r_given", r.ID)
		_, err := s.RuleGet(ctx, "p1", "r_given")
		require.NoError(t, err)
	})

	t.Run("RoundTripsEveryField", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		start, end := odd(0), odd(time.Hour)
		r := &recording.Rule{
			Project: "p1", Dialect: recording.DialectHuawei, Domain: "a.com", App: "live", Stream: "s1",
			Mode: recording.ModePlan, StartTime: &start, EndTime: &end,
			Formats: []recording.FormatConfig{
				{Format: recording.FormatHLS, CycleS: 0, SliceS: 2, MergeWindowS: -1, ObjectTemplate: "a/{app}", SliceTemplate: "b/{ts_sequence_number}"},
				{Format: recording.FormatMP4, CycleS: 60, MergeWindowS: 0, ObjectTemplate: "c/{StreamName}"},
			},
			Storage:    recording.Storage{Endpoint: "cn-north-4", Bucket: "bkt", BasePath: "x/y"},
			RetentionS: 86400, OverwriteWhenFull: true, PreRollS: 10,
		}
		require.NoError(t, s.RuleInsert(ctx, r))
		require.Equal(t, normalised(start), *r.StartTime, "insert normalises the caller's times")
		require.Equal(t, odd(0), start, "without touching the caller's time values")

		got, err := s.RuleGet(ctx, "p1", r.ID)
		require.NoError(t, err)
		require.Equal(t, r, got)
	})

	t.Run("InsertDuplicateKeyConflictsWithinAProjectOnly", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		insertRule(ctx, t, s, "p1", "a.com", "live", "*")
		err := s.RuleInsert(ctx, rule("p1", "a.com", "live", "*"))
		require.ErrorIs(t, err, recording.ErrConflict)
		require.ErrorContains(t, err, "insert rule")
		insertRule(ctx, t, s, "p2", "a.com", "live", "*")
		insertRule(ctx, t, s, "p1", "a.com", "live", "other")
	})

	t.Run("InsertDuplicateIDConflicts", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		r := insertRule(ctx, t, s, "p1", "a.com", "live", "*")
		dup := rule("p2", "b.com", "live", "*")
		dup.ID = r.ID
		require.ErrorIs(t, s.RuleInsert(ctx, dup), recording.ErrConflict)
	})

	t.Run("GetIsNotFoundForUnknownIDsAndOtherProjects", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		r := insertRule(ctx, t, s, "p1", "a.com", "live", "*")
		_, err := s.RuleGet(ctx, "p1", "r_unknown")
		require.ErrorIs(t, err, recording.ErrNotFound)
		_, err = s.RuleGet(ctx, "p2", r.ID)
		require.ErrorIs(t, err, recording.ErrNotFound)
	})

	t.Run("UpdateReplacesFieldsAndKeepsCreatedAt", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		r := insertRule(ctx, t, s, "p1", "a.com", "live", "*")
		created := r.CreatedAt

		upd := rule("p1", "b.com", "vod", "s2")
		upd.ID = r.ID
		upd.Mode = recording.ModeManual
		upd.Formats = upd.Formats[:1]
		upd.Formats[0].CycleS = 0
		upd.Storage.Bucket = "other"
		upd.RetentionS, upd.OverwriteWhenFull, upd.PreRollS = 3600, true, 5
		require.NoError(t, s.RuleUpdate(ctx, upd))
		require.Equal(t, created, upd.CreatedAt, "update reloads created_at")
		require.False(t, upd.UpdatedAt.Before(created))

		got, err := s.RuleGet(ctx, "p1", r.ID)
		require.NoError(t, err)
		require.Equal(t, upd, got)
	})

	t.Run("UpdateIsNotFoundForUnknownIDsAndOtherProjects", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		r := insertRule(ctx, t, s, "p1", "a.com", "live", "*")
		unknown := rule("p1", "a.com", "live", "*")
		unknown.ID = "r_unknown"
		require.ErrorIs(t, s.RuleUpdate(ctx, unknown), recording.ErrNotFound)

		other := rule("p2", "evil.com", "live", "*")
		other.ID = r.ID
		require.ErrorIs(t, s.RuleUpdate(ctx, other), recording.ErrNotFound)
		got, err := s.RuleGet(ctx, "p1", r.ID)
		require.NoError(t, err)
		require.Equal(t, "a.com", got.Domain)
	})

	t.Run("UpdateToAnotherRulesKeyConflicts", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		insertRule(ctx, t, s, "p1", "a.com", "live", "*")
		r := insertRule(ctx, t, s, "p1", "a.com", "vod", "*")
		r.App = "live"
		require.ErrorIs(t, s.RuleUpdate(ctx, r), recording.ErrConflict)
	})

	t.Run("DeleteRemovesOnlyWithinTheProject", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		r := insertRule(ctx, t, s, "p1", "a.com", "live", "*")
		require.ErrorIs(t, s.RuleDelete(ctx, "p2", r.ID), recording.ErrNotFound)
		_, err := s.RuleGet(ctx, "p1", r.ID)
		require.NoError(t, err)

		require.NoError(t, s.RuleDelete(ctx, "p1", r.ID))
		_, err = s.RuleGet(ctx, "p1", r.ID)
		require.ErrorIs(t, err, recording.ErrNotFound)
		require.ErrorIs(t, s.RuleDelete(ctx, "p1", r.ID), recording.ErrNotFound)
		insertRule(ctx, t, s, "p1", "a.com", "live", "*") // the key is free again
	})

	t.Run("RulesForStreamReturnsTheDomainAndWildcardsOfEveryProject", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		def := recording.DefaultRule()
		require.NoError(t, s.RuleInsert(ctx, &def))
		a1 := insertRule(ctx, t, s, "p1", "a.com", "*", "*")
		insertRule(ctx, t, s, "p1", "b.com", "live", "*")
		a2 := insertRule(ctx, t, s, "p2", "a.com", "live", "test")
		w2 := insertRule(ctx, t, s, "p2", "*", "live", "*")

		rules, err := s.RulesForStream(ctx, "A.com")
		require.NoError(t, err)
		require.Equal(t, []string{def.ID, a1.ID, a2.ID, w2.ID}, ids(rules, ruleID))
		require.Equal(t, a2.ID, recording.MatchRule(rules, "a.com", "live", "test").ID)
		require.Equal(t, a1.ID, recording.MatchRule(rules, "a.com", "live", "other").ID)

		rules, err = s.RulesForStream(ctx, "c.com")
		require.NoError(t, err)
		require.Equal(t, []string{def.ID, w2.ID}, ids(rules, ruleID))
		require.Equal(t, w2.ID, recording.MatchRule(rules, "c.com", "live", "x").ID)
		require.Equal(t, def.ID, recording.MatchRule(rules, "c.com", "vod", "x").ID)
	})

	t.Run("RulesForStreamOfAnEmptyStoreIsEmpty", func(t *testing.T) {
		t.Parallel()
		rules, err := newStore(t).RulesForStream(t.Context(), "a.com")
		require.NoError(t, err)
		require.Empty(t, rules)
	})
}

func exerciseRuleList(t *testing.T, newStore func(t *testing.T) store.Store) {
	// setup inserts five rules in p1 and three in p2, interleaved, and returns p1's ids in
	// creation order.
	setup := func(t *testing.T) (store.Store, []string) {
		ctx, s := t.Context(), newStore(t)
		var p1 []string
		for i, k := range [][3]string{
			{"a.com", "live", "*"}, {"a.com", "live", "s1"}, {"b.com", "live", "*"},
			{"a.com", "vod", "*"}, {"*", "live", "s1"},
		} {
			p1 = append(p1, insertRule(ctx, t, s, "p1", k[0], k[1], k[2]).ID)
			if i%2 == 0 {
				insertRule(ctx, t, s, "p2", k[0], k[1], "p2-"+k[1])
			}
		}
		return s, p1
	}
	p1 := func(f store.RuleFilter) store.RuleFilter { f.Project = "p1"; return f }
	// want picks ids from setup's p1 list by index.
	cases := []struct {
		name   string
		filter store.RuleFilter
		want   []int
		total  int
	}{
		{"AllInCreationOrder", p1(store.RuleFilter{}), []int{0, 1, 2, 3, 4}, 5},
		{"NewestFirst", p1(store.RuleFilter{OrderDesc: true}), []int{4, 3, 2, 1, 0}, 5},
		{"FirstPage", p1(store.RuleFilter{Limit: 2}), []int{0, 1}, 5},
		{"MiddlePage", p1(store.RuleFilter{Offset: 2, Limit: 2}), []int{2, 3}, 5},
		{"LastPartialPage", p1(store.RuleFilter{Offset: 4, Limit: 2}), []int{4}, 5},
		{"PastTheEnd", p1(store.RuleFilter{Offset: 9, Limit: 2}), []int{}, 5},
		{"OffsetWithoutLimit", p1(store.RuleFilter{Offset: 3}), []int{3, 4}, 5},
		{"NegativeOffsetIsZero", p1(store.RuleFilter{Offset: -1, Limit: 1}), []int{0}, 5},
		{"DescPage", p1(store.RuleFilter{Offset: 1, Limit: 2, OrderDesc: true}), []int{3, 2}, 5},
		{"ByDomain", p1(store.RuleFilter{Domain: "a.com"}), []int{0, 1, 3}, 3},
		{"ByDomainCaseInsensitive", p1(store.RuleFilter{Domain: "A.COM"}), []int{0, 1, 3}, 3},
		{"ByWildcardDomain", p1(store.RuleFilter{Domain: "*"}), []int{4}, 1},
		{"ByApp", p1(store.RuleFilter{App: "live"}), []int{0, 1, 2, 4}, 4},
		{"ByStream", p1(store.RuleFilter{Stream: "s1"}), []int{1, 4}, 2},
		{"ByEveryKeyField", p1(store.RuleFilter{Domain: "a.com", App: "live", Stream: "s1"}), []int{1}, 1},
		{"PagedFilter", p1(store.RuleFilter{App: "live", Offset: 1, Limit: 2}), []int{1, 2}, 4},
		{"NoMatch", p1(store.RuleFilter{Domain: "c.com"}), []int{}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, all := setup(t)
			rules, total, err := s.RuleList(t.Context(), tc.filter)
			require.NoError(t, err)
			want := []string{}
			for _, i := range tc.want {
				want = append(want, all[i])
			}
			require.Equal(t, want, ids(rules, ruleID))
			require.Equal(t, tc.total, total)
			for _, r := range rules {
				require.Equal(t, "p1", r.Project, "another project's rule leaked")
			}
		})
	}

	t.Run("OtherProjectSeesOnlyItsOwn", func(t *testing.T) {
		t.Parallel()
		s, _ := setup(t)
		rules, total, err := s.RuleList(t.Context(), store.RuleFilter{Project: "p2"})
		require.NoError(t, err)
		require.Equal(t, 3, total)
		for _, r := range rules {
			require.Equal(t, "p2", r.Project)
		}
		rules, total, err = s.RuleList(t.Context(), store.RuleFilter{Project: "p3"})
		require.NoError(t, err)
		require.Zero(t, total)
		require.NotNil(t, rules, "an empty list is [] in JSON, not null")
		require.Empty(t, rules)
	})

	t.Run("ProjectIsRequired", func(t *testing.T) {
		t.Parallel()
		s, _ := setup(t)
		_, _, err := s.RuleList(t.Context(), store.RuleFilter{})
		require.Error(t, err)
	})
}
