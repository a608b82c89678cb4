package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// nextMicrosecond waits until the wall clock has passed the microsecond it reads now, so
// times a store assigns from its clock before and after differ.
func nextMicrosecond(t *testing.T) {
	t.Helper()
	start := time.Now().Truncate(time.Microsecond)
	require.Eventually(t, func() bool { return time.Now().Truncate(time.Microsecond).After(start) },
		time.Second, time.Microsecond)
}

func index(project, stream string, from, to time.Duration) *recording.RecordIndex {
	return &recording.RecordIndex{
		Project: project, Domain: "a.com", App: "live", Stream: stream, Endpoint: "local", Bucket: "recordings",
		ObjectKey: "index/" + stream + ".m3u8", StartedAt: t0.Add(from), EndedAt: t0.Add(to), Duration: to - from,
		Width: 1280, Height: 720,
	}
}

func indexID(x recording.RecordIndex) string { return x.ID }

func exerciseIndexes(t *testing.T, newStore func(t *testing.T) Driver) {
	t.Run("InsertGetDelete", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		before := time.Now().Add(-time.Second)
		x := index("p1", "s1", 0, time.Minute)
		x.StartedAt = odd(0)
		require.NoError(t, s.IndexInsert(ctx, x))
		require.Regexp(t, `^idx_[0-9a-f]{16}$`, x.ID)
		require.WithinRange(t, x.CreatedAt, before, time.Now().Add(time.Second))
		require.Equal(t, normalised(odd(0)), x.StartedAt)

		got, err := s.IndexGet(ctx, "p1", x.ID)
		require.NoError(t, err)
		require.Equal(t, x, got)
		_, err = s.IndexGet(ctx, "p2", x.ID)
		require.ErrorIs(t, err, recording.ErrNotFound)

		dup := index("p1", "s1", 0, time.Minute)
		dup.ID = x.ID
		require.ErrorIs(t, s.IndexInsert(ctx, dup), recording.ErrConflict)

		require.ErrorIs(t, s.IndexDelete(ctx, "p2", x.ID), recording.ErrNotFound)
		require.NoError(t, s.IndexDelete(ctx, "p1", x.ID))
		_, err = s.IndexGet(ctx, "p1", x.ID)
		require.ErrorIs(t, err, recording.ErrNotFound)
		require.ErrorIs(t, s.IndexDelete(ctx, "p1", x.ID), recording.ErrNotFound)
	})

	t.Run("ListFiltersOrdersAndPages", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		late := index("p1", "s1", 20*time.Minute, 30*time.Minute)
		early := index("p1", "s1", 0, 10*time.Minute)
		mid := index("p1", "s1", 10*time.Minute, 20*time.Minute)
		other := index("p1", "s2", 0, time.Hour)
		foreign := index("p2", "s1", 0, time.Hour)
		for _, x := range []*recording.RecordIndex{late, early, mid, other, foreign} {
			require.NoError(t, s.IndexInsert(ctx, x))
		}
		at := t0.Add
		cases := []struct {
			filter store.IndexFilter
			want   []string
			total  int
		}{
			{store.IndexFilter{Project: "p1"}, []string{early.ID, other.ID, mid.ID, late.ID}, 4},
			{store.IndexFilter{Project: "p1", Domain: "a.com", App: "live", Stream: "s1"}, []string{early.ID, mid.ID, late.ID}, 3},
			{store.IndexFilter{Project: "p1", Stream: "s1", OrderDesc: true}, []string{late.ID, mid.ID, early.ID}, 3},
			{store.IndexFilter{Project: "p1", Stream: "s1", From: at(10 * time.Minute), To: at(20 * time.Minute)}, []string{mid.ID}, 1},
			{store.IndexFilter{Project: "p1", Stream: "s1", From: at(15 * time.Minute)}, []string{mid.ID, late.ID}, 2},
			{store.IndexFilter{Project: "p1", Stream: "s1", Offset: 1, Limit: 1}, []string{mid.ID}, 3},
			{store.IndexFilter{Project: "p2"}, []string{foreign.ID}, 1},
			{store.IndexFilter{Project: "p3"}, []string{}, 0},
		}
		for _, tc := range cases {
			xs, total, err := s.IndexList(ctx, tc.filter)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(xs, indexID), "%+v", tc.filter)
			require.Equal(t, tc.total, total, "%+v", tc.filter)
		}
	})
}

func blockKey(b recording.StreamBlock) string { return b.Domain + "/" + b.App + "/" + b.Stream }

func exerciseBlocks(t *testing.T, newStore func(t *testing.T) Driver) {
	t.Run("PutGetExpireReplaceDelete", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		resume := odd(time.Hour)
		b := &recording.StreamBlock{Domain: "A.com", App: "live", Stream: "s1", ResumeAt: &resume}
		require.NoError(t, s.BlockPut(ctx, b))
		require.Equal(t, "a.com", b.Domain, "domains are kept lower-case")
		require.Equal(t, normalised(resume), *b.ResumeAt)
		require.False(t, b.CreatedAt.IsZero())

		got, err := s.BlockGet(ctx, "a.COM", "live", "s1", odd(0))
		require.NoError(t, err)
		require.Equal(t, b, got)
		_, err = s.BlockGet(ctx, "a.com", "live", "s1", odd(time.Hour))
		require.ErrorIs(t, err, recording.ErrNotFound, "a block ends at ResumeAt")
		_, err = s.BlockGet(ctx, "a.com", "live", "s2", odd(0))
		require.ErrorIs(t, err, recording.ErrNotFound)

		// Forbidding again moves the end and keeps when the key was first forbidden.
		nextMicrosecond(t)
		forever := &recording.StreamBlock{Domain: "a.com", App: "live", Stream: "s1"}
		require.NoError(t, s.BlockPut(ctx, forever))
		require.Equal(t, b.CreatedAt, forever.CreatedAt)
		got, err = s.BlockGet(ctx, "a.com", "live", "s1", odd(24*365*time.Hour))
		require.NoError(t, err)
		require.Nil(t, got.ResumeAt)

		require.NoError(t, s.BlockDelete(ctx, "A.COM", "live", "s1"))
		_, err = s.BlockGet(ctx, "a.com", "live", "s1", odd(0))
		require.ErrorIs(t, err, recording.ErrNotFound)
		require.ErrorIs(t, s.BlockDelete(ctx, "a.com", "live", "s1"), recording.ErrNotFound)
	})

	t.Run("ListShowsActiveBlocksOldestFirst", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		past, future := t0.Add(-time.Minute), t0.Add(time.Hour)
		// Put in reverse name order, so the order seen is the blocks' age.
		for _, b := range []*recording.StreamBlock{
			{Domain: "b.com", App: "live", Stream: "z", ResumeAt: &future},
			{Domain: "a.com", App: "live", Stream: "y"},
			{Domain: "a.com", App: "live", Stream: "x", ResumeAt: &past}, // expired
			{Domain: "a.com", App: "live", Stream: "w"},
		} {
			nextMicrosecond(t)
			require.NoError(t, s.BlockPut(ctx, b))
		}
		cases := []struct {
			filter store.BlockFilter
			want   []string
			total  int
		}{
			{store.BlockFilter{Now: t0}, []string{"b.com/live/z", "a.com/live/y", "a.com/live/w"}, 3},
			{store.BlockFilter{Now: t0.Add(time.Hour)}, []string{"a.com/live/y", "a.com/live/w"}, 2},
			{store.BlockFilter{Now: t0.Add(-time.Hour)}, []string{"b.com/live/z", "a.com/live/y", "a.com/live/x", "a.com/live/w"}, 4},
			{store.BlockFilter{Now: t0, Domain: "A.com"}, []string{"a.com/live/y", "a.com/live/w"}, 2},
			{store.BlockFilter{Now: t0, Domain: "a.com", App: "live", Stream: "w"}, []string{"a.com/live/w"}, 1},
			{store.BlockFilter{Now: t0, App: "vod"}, []string{}, 0},
			{store.BlockFilter{Now: t0, Offset: 1, Limit: 1}, []string{"a.com/live/y"}, 3},
		}
		for _, tc := range cases {
			bs, total, err := s.BlockList(ctx, tc.filter)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(bs, blockKey), "%+v", tc.filter)
			require.Equal(t, tc.total, total, "%+v", tc.filter)
		}
	})
}

func publishID(p recording.Publish) string { return p.ID }

func exercisePublishes(t *testing.T, newStore func(t *testing.T) Driver) {
	t.Run("InsertEndAndList", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		pub := func(stream string, at time.Duration) *recording.Publish {
			p := &recording.Publish{Domain: "a.com", App: "live", Stream: stream, ClientAddr: "10.0.0.1:5000",
				Protocol: "rtmp", StartedAt: t0.Add(at)}
			require.NoError(t, s.PublishInsert(ctx, p))
			return p
		}
		first := pub("s1", 0)
		require.Regexp(t, `^pub_[0-9a-f]{16}$`, first.ID)
		second := pub("s1", 10*time.Minute)
		other := pub("s2", 5*time.Minute)
		firstEnd := t0.Add(10*time.Minute + 123456789*time.Nanosecond)
		require.NoError(t, s.PublishEnd(ctx, first.ID, firstEnd))
		require.NoError(t, s.PublishEnd(ctx, other.ID, t0.Add(6*time.Minute)))
		require.ErrorIs(t, s.PublishEnd(ctx, "pub_unknown", t0), recording.ErrNotFound)

		list, _, err := s.PublishList(ctx, store.PublishFilter{Stream: "s1"})
		require.NoError(t, err)
		require.Equal(t, []string{second.ID, first.ID}, ids(list, publishID))
		require.Equal(t, normalised(firstEnd), *list[1].EndedAt)
		require.Nil(t, list[0].EndedAt)
		require.Equal(t, *second, list[0])

		at := t0.Add
		cases := []struct {
			filter store.PublishFilter
			want   []string
			total  int
		}{
			{store.PublishFilter{}, []string{second.ID, other.ID, first.ID}, 3},
			{store.PublishFilter{Live: true}, []string{second.ID}, 1},
			{store.PublishFilter{Domain: "a.com", App: "live", Stream: "s2"}, []string{other.ID}, 1},
			{store.PublishFilter{From: at(6 * time.Minute)}, []string{second.ID, first.ID}, 2},
			{store.PublishFilter{From: at(time.Hour)}, []string{second.ID}, 1},
			{store.PublishFilter{To: at(5 * time.Minute)}, []string{first.ID}, 1},
			{store.PublishFilter{From: at(4 * time.Minute), To: at(10 * time.Minute)}, []string{other.ID, first.ID}, 2},
			{store.PublishFilter{Domain: "b.com"}, []string{}, 0},
			{store.PublishFilter{Offset: 1, Limit: 1}, []string{other.ID}, 3},
		}
		for _, tc := range cases {
			ps, total, err := s.PublishList(ctx, tc.filter)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(ps, publishID), "%+v", tc.filter)
			require.Equal(t, tc.total, total, "%+v", tc.filter)
		}
	})
}

func taskID(t recording.PlanTask) string { return t.ID }

func exerciseTasks(t *testing.T, newStore func(t *testing.T) Driver) {
	task := func(project, stream string, from, to time.Duration) *recording.PlanTask {
		return &recording.PlanTask{Project: project, Domain: "a.com", App: "live", Stream: stream,
			StartTime: t0.Add(from), EndTime: t0.Add(to)}
	}

	t.Run("InsertListStop", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		a := task("p1", "s1", time.Hour, 2*time.Hour)
		a.StartTime = odd(0)
		require.NoError(t, s.TaskInsert(ctx, a))
		require.Regexp(t, `^task_[0-9a-f]{16}$`, a.ID)
		require.False(t, a.CreatedAt.IsZero())
		require.Equal(t, normalised(odd(0)), a.StartTime)
		b := task("p1", "s2", 0, time.Hour)
		c := task("p2", "s1", 0, time.Hour)
		d := task("p1", "s1", 0, time.Hour)
		for _, x := range []*recording.PlanTask{b, c, d} {
			require.NoError(t, s.TaskInsert(ctx, x))
		}

		list, total, err := s.TaskList(ctx, store.TaskFilter{Project: "p1"})
		require.NoError(t, err)
		require.Equal(t, []string{a.ID, b.ID, d.ID}, ids(list, taskID))
		require.Equal(t, 3, total)
		require.Equal(t, *a, list[0])
		list, total, err = s.TaskList(ctx, store.TaskFilter{Project: "p1", Domain: "a.com", App: "live", Stream: "s1", Offset: 1, Limit: 5})
		require.NoError(t, err)
		require.Equal(t, []string{d.ID}, ids(list, taskID))
		require.Equal(t, 2, total)
		list, _, err = s.TaskList(ctx, store.TaskFilter{Project: "p3"})
		require.NoError(t, err)
		require.Empty(t, list)

		byID, total, err := s.TaskList(ctx, store.TaskFilter{Project: "p1", ID: a.ID})
		require.NoError(t, err)
		require.Equal(t, 1, total)
		require.Equal(t, a.ID, byID[0].ID)
		byID, _, err = s.TaskList(ctx, store.TaskFilter{Project: "p2", ID: a.ID})
		require.NoError(t, err)
		require.Empty(t, byID, "another project's task is not found by its ID")
		require.ErrorIs(t, s.TaskStop(ctx, "p2", a.ID, t0), recording.ErrNotFound)
		require.NoError(t, s.TaskStop(ctx, "p1", a.ID, odd(time.Minute)))
		require.ErrorIs(t, s.TaskStop(ctx, "p1", a.ID, t0), recording.ErrNotFound, "stopped already")
		require.ErrorIs(t, s.TaskStop(ctx, "p1", "task_unknown", t0), recording.ErrNotFound)
		list, _, err = s.TaskList(ctx, store.TaskFilter{Project: "p1", Stream: "s1"})
		require.NoError(t, err)
		require.Equal(t, normalised(odd(time.Minute)), *list[0].StoppedAt, "a stopped task stays listed")
	})

	t.Run("TasksForStreamAreTheStandingWindowsByStart", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		later := task("p1", "s1", 3*time.Hour, 4*time.Hour)
		now := task("p2", "s1", 0, 2*time.Hour)
		over := task("p1", "s1", -2*time.Hour, -time.Hour)
		endsNow := task("p1", "s1", -time.Hour, 0)
		stopped := task("p1", "s1", time.Hour, 2*time.Hour)
		elsewhere := task("p1", "s2", 0, time.Hour)
		for _, x := range []*recording.PlanTask{later, now, over, endsNow, stopped, elsewhere} {
			require.NoError(t, s.TaskInsert(ctx, x))
		}
		require.NoError(t, s.TaskStop(ctx, "p1", stopped.ID, t0))

		got, err := s.TasksForStream(ctx, "a.com", "live", "s1", t0)
		require.NoError(t, err)
		require.Equal(t, []string{now.ID, later.ID}, ids(got, taskID))
		got, err = s.TasksForStream(ctx, "a.com", "live", "s3", t0)
		require.NoError(t, err)
		require.Empty(t, got)
	})
}
