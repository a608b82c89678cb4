package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// callback returns an enabled configuration without key for the key (project, dialect,
// domain, app).
func callback(project string, dialect recording.Dialect, domain, app string) *recording.CallbackConfig {
	return &recording.CallbackConfig{
		Project: project, Dialect: dialect, Domain: domain, App: app,
		URL: "https://hooks.example.com/" + project, Enabled: true,
	}
}

func insertCallback(ctx context.Context, t *testing.T, s store.Control, project string, dialect recording.Dialect, domain, app string) *recording.CallbackConfig {
	t.Helper()
	c := callback(project, dialect, domain, app)
	require.NoError(t, s.CallbackInsert(ctx, c))
	return c
}

func callbackID(c recording.CallbackConfig) string { return c.ID }

func exerciseCallbacks(t *testing.T, newStore func(t *testing.T) store.Control) {
	t.Run("InsertAssignsIDAndTimesAndRoundTripsEveryField", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		before := time.Now().Add(-time.Second)
		c := &recording.CallbackConfig{
			Project: "p1", Dialect: recording.DialectHuawei, Domain: "a.com", App: "live",
			URL: "https://hooks.example.com/rec", OnDemandURL: "http://decide.example.com/?x=1",
			Events:           []recording.Event{recording.EventFileCompleted, recording.EventRecordOver},
			NeedStatusNotify: true, SignType: recording.SignHMACSHA256,
			KeySealed: []byte{0x01, 0x00, 0xff, 'k'}, Enabled: false, DisabledReason: "410 Gone",
		}
		require.NoError(t, s.CallbackInsert(ctx, c))
		require.Regexp(t, idPattern[store.CallbackPrefix], c.ID)
		require.True(t, c.CreatedAt.After(before), "created_at %v", c.CreatedAt)
		require.Equal(t, c.CreatedAt, c.UpdatedAt)
		require.Equal(t, time.UTC, c.CreatedAt.Location())
		require.True(t, c.HasKey, "HasKey follows KeySealed")

		got, err := s.CallbackGet(ctx, "p1", c.ID)
		require.NoError(t, err)
		require.Equal(t, c, got)
		require.Equal(t, []byte{0x01, 0x00, 0xff, 'k'}, got.KeySealed, "the sealed key comes back byte for byte")
		byID, err := s.CallbackByID(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, c, byID, "by id, whatever the project")
		_, err = s.CallbackByID(ctx, "cb_missing")
		require.ErrorIs(t, err, recording.ErrNotFound)
	})

	t.Run("RoundTripsNoKeyAndNilOrEmptyEvents", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		// nil events mean the dialect's default, an empty list does not: both must survive.
		for i, events := range [][]recording.Event{nil, {}} {
			c := callback("p1", recording.DialectAliyun, "a.com", []string{"x", "y"}[i])
			c.Events = events
			c.KeySealed = []byte{} // an empty key is no key
			c.HasKey = true
			require.NoError(t, s.CallbackInsert(ctx, c))
			require.False(t, c.HasKey)
			require.Nil(t, c.KeySealed)

			got, err := s.CallbackGet(ctx, "p1", c.ID)
			require.NoError(t, err)
			require.Equal(t, c, got)
			require.Equal(t, events == nil, got.Events == nil)
		}
	})

	t.Run("InsertKeepsAGivenID", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		c := callback("p1", recording.DialectStandard, "a.com", "*")
		c.ID = "cb_given"
		require.NoError(t, s.CallbackInsert(ctx, c))
		_, err := s.CallbackGet(ctx, "p1", "cb_given")
		require.NoError(t, err)
	})

	t.Run("InsertDuplicateKeyConflictsWithinAProjectAndDialectOnly", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		insertCallback(ctx, t, s, "p1", recording.DialectAliyun, "a.com", "*")
		err := s.CallbackInsert(ctx, callback("p1", recording.DialectAliyun, "a.com", "*"))
		require.ErrorIs(t, err, recording.ErrConflict)
		require.ErrorContains(t, err, "insert callback")
		insertCallback(ctx, t, s, "p2", recording.DialectAliyun, "a.com", "*")
		insertCallback(ctx, t, s, "p1", recording.DialectHuawei, "a.com", "*")
		insertCallback(ctx, t, s, "p1", recording.DialectAliyun, "a.com", "live")
		insertCallback(ctx, t, s, "p1", recording.DialectAliyun, "b.com", "*")
	})

	t.Run("InsertDuplicateIDConflicts", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		c := insertCallback(ctx, t, s, "p1", recording.DialectAliyun, "a.com", "*")
		dup := callback("p2", recording.DialectHuawei, "b.com", "*")
		dup.ID = c.ID
		require.ErrorIs(t, s.CallbackInsert(ctx, dup), recording.ErrConflict)
	})

	t.Run("GetIsNotFoundForUnknownIDsAndOtherProjects", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		c := insertCallback(ctx, t, s, "p1", recording.DialectAliyun, "a.com", "*")
		_, err := s.CallbackGet(ctx, "p1", "cb_unknown")
		require.ErrorIs(t, err, recording.ErrNotFound)
		_, err = s.CallbackGet(ctx, "p2", c.ID)
		require.ErrorIs(t, err, recording.ErrNotFound)
	})

	t.Run("UpdateReplacesFieldsAndKeyAndKeepsCreatedAt", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		c := insertCallback(ctx, t, s, "p1", recording.DialectAliyun, "a.com", "*")
		c.KeySealed = []byte("sealed-1")
		require.NoError(t, s.CallbackUpdate(ctx, c))
		created := c.CreatedAt

		upd := &recording.CallbackConfig{
			ID: c.ID, Project: "p1", Dialect: recording.DialectHuawei, Domain: "b.com", App: "live",
			URL: "https://other.example.com", Events: []recording.Event{recording.EventRecordStarted},
			SignType: recording.SignMD5, KeySealed: []byte("sealed-2"), Enabled: false, DisabledReason: "operator",
		}
		require.NoError(t, s.CallbackUpdate(ctx, upd))
		require.Equal(t, created, upd.CreatedAt, "update reloads created_at")
		require.False(t, upd.UpdatedAt.Before(created))
		got, err := s.CallbackGet(ctx, "p1", c.ID)
		require.NoError(t, err)
		require.Equal(t, upd, got)

		// KeySealed is replaced as given, so nil removes the key.
		upd.KeySealed, upd.Enabled, upd.DisabledReason = nil, true, ""
		require.NoError(t, s.CallbackUpdate(ctx, upd))
		got, err = s.CallbackGet(ctx, "p1", c.ID)
		require.NoError(t, err)
		require.Equal(t, upd, got)
		require.False(t, got.HasKey)
	})

	t.Run("UpdateIsNotFoundForUnknownIDsAndOtherProjects", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		c := insertCallback(ctx, t, s, "p1", recording.DialectAliyun, "a.com", "*")
		unknown := callback("p1", recording.DialectAliyun, "a.com", "*")
		unknown.ID = "cb_unknown"
		require.ErrorIs(t, s.CallbackUpdate(ctx, unknown), recording.ErrNotFound)

		other := callback("p2", recording.DialectAliyun, "evil.com", "*")
		other.ID = c.ID
		require.ErrorIs(t, s.CallbackUpdate(ctx, other), recording.ErrNotFound)
		got, err := s.CallbackGet(ctx, "p1", c.ID)
		require.NoError(t, err)
		require.Equal(t, c, got, "another project's update changed nothing")
	})

	t.Run("UpdateToAnotherConfigurationsKeyConflicts", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		insertCallback(ctx, t, s, "p1", recording.DialectAliyun, "a.com", "*")
		c := insertCallback(ctx, t, s, "p1", recording.DialectAliyun, "b.com", "*")
		c.Domain = "a.com"
		require.ErrorIs(t, s.CallbackUpdate(ctx, c), recording.ErrConflict)
	})

	t.Run("DeleteRemovesOnlyWithinTheProject", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		c := insertCallback(ctx, t, s, "p1", recording.DialectAliyun, "a.com", "*")
		require.ErrorIs(t, s.CallbackDelete(ctx, "p2", c.ID), recording.ErrNotFound)
		_, err := s.CallbackGet(ctx, "p1", c.ID)
		require.NoError(t, err)

		require.NoError(t, s.CallbackDelete(ctx, "p1", c.ID))
		_, err = s.CallbackGet(ctx, "p1", c.ID)
		require.ErrorIs(t, err, recording.ErrNotFound)
		require.ErrorIs(t, s.CallbackDelete(ctx, "p1", c.ID), recording.ErrNotFound)
		insertCallback(ctx, t, s, "p1", recording.DialectAliyun, "a.com", "*") // the key is free again
	})

	t.Run("CallbacksForStreamReturnsEveryProjectsConfigurationsOfTheDomain", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		a1 := insertCallback(ctx, t, s, "p1", recording.DialectAliyun, "a.com", "*")
		insertCallback(ctx, t, s, "p1", recording.DialectAliyun, "b.com", "*")
		a2 := callback("p2", recording.DialectHuawei, "a.com", "live")
		a2.Enabled, a2.DisabledReason = false, "410 Gone" // the notifier still needs to see it
		require.NoError(t, s.CallbackInsert(ctx, a2))
		a3 := insertCallback(ctx, t, s, "p1", recording.DialectStandard, "a.com", "live")

		cs, err := s.CallbacksForStream(ctx, "A.com")
		require.NoError(t, err)
		require.Equal(t, []string{a1.ID, a2.ID, a3.ID}, ids(cs, callbackID))
		require.Equal(t, *a2, cs[1])

		cs, err = s.CallbacksForStream(ctx, "c.com")
		require.NoError(t, err)
		require.Empty(t, cs)
	})
}

func exerciseCallbackList(t *testing.T, newStore func(t *testing.T) store.Control) {
	// setup inserts five configurations in p1 and three in p2, interleaved, and returns p1's
	// ids in creation order.
	setup := func(t *testing.T) (store.Control, []string) {
		ctx, s := t.Context(), newStore(t)
		var p1 []string
		for i, k := range []struct {
			dialect     recording.Dialect
			domain, app string
		}{
			{recording.DialectAliyun, "a.com", "*"}, {recording.DialectHuawei, "a.com", "*"},
			{recording.DialectAliyun, "b.com", "*"}, {recording.DialectHuawei, "a.com", "live"},
			{recording.DialectStandard, "b.com", "live"},
		} {
			p1 = append(p1, insertCallback(ctx, t, s, "p1", k.dialect, k.domain, k.app).ID)
			if i%2 == 0 {
				insertCallback(ctx, t, s, "p2", k.dialect, k.domain, k.app)
			}
		}
		return s, p1
	}
	p1 := func(f store.CallbackFilter) store.CallbackFilter { f.Project = "p1"; return f }
	cases := []struct {
		name   string
		filter store.CallbackFilter
		want   []int // indexes into setup's p1 ids
		total  int
	}{
		{"AllInCreationOrder", p1(store.CallbackFilter{}), []int{0, 1, 2, 3, 4}, 5},
		{"NewestFirst", p1(store.CallbackFilter{OrderDesc: true}), []int{4, 3, 2, 1, 0}, 5},
		{"FirstPage", p1(store.CallbackFilter{Limit: 2}), []int{0, 1}, 5},
		{"MiddlePage", p1(store.CallbackFilter{Offset: 2, Limit: 2}), []int{2, 3}, 5},
		{"PastTheEnd", p1(store.CallbackFilter{Offset: 9, Limit: 2}), []int{}, 5},
		{"DescPage", p1(store.CallbackFilter{Offset: 1, Limit: 2, OrderDesc: true}), []int{3, 2}, 5},
		{"ByDialect", p1(store.CallbackFilter{Dialect: recording.DialectHuawei}), []int{1, 3}, 2},
		{"ByDomainCaseInsensitive", p1(store.CallbackFilter{Domain: "A.COM"}), []int{0, 1, 3}, 3},
		{"ByApp", p1(store.CallbackFilter{App: "live"}), []int{3, 4}, 2},
		{"ByEveryKeyField", p1(store.CallbackFilter{Dialect: recording.DialectAliyun, Domain: "b.com", App: "*"}), []int{2}, 1},
		{"PagedFilter", p1(store.CallbackFilter{Domain: "a.com", Offset: 1, Limit: 1}), []int{1}, 3},
		{"NoMatch", p1(store.CallbackFilter{Domain: "c.com"}), []int{}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, all := setup(t)
			cs, total, err := s.CallbackList(t.Context(), tc.filter)
			require.NoError(t, err)
			want := []string{}
			for _, i := range tc.want {
				want = append(want, all[i])
			}
			require.Equal(t, want, ids(cs, callbackID))
			require.Equal(t, tc.total, total)
			for _, c := range cs {
				require.Equal(t, "p1", c.Project, "another project's configuration leaked")
			}
		})
	}

	t.Run("OtherProjectsSeeOnlyTheirOwn", func(t *testing.T) {
		t.Parallel()
		s, _ := setup(t)
		cs, total, err := s.CallbackList(t.Context(), store.CallbackFilter{Project: "p2"})
		require.NoError(t, err)
		require.Equal(t, 3, total)
		for _, c := range cs {
			require.Equal(t, "p2", c.Project)
		}
		cs, total, err = s.CallbackList(t.Context(), store.CallbackFilter{Project: "p3"})
		require.NoError(t, err)
		require.Zero(t, total)
		require.NotNil(t, cs, "an empty list is [] in JSON, not null")
	})

	t.Run("ProjectIsRequired", func(t *testing.T) {
		t.Parallel()
		s, _ := setup(t)
		_, _, err := s.CallbackList(t.Context(), store.CallbackFilter{})
		require.Error(t, err)
	})
}
