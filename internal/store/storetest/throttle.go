package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/store"
)

func exerciseAuthFailures(t *testing.T, newStore func(t *testing.T) Driver) {
	now := odd(0)
	open := now.Add(30 * time.Second) // the end of a window still open at now
	subjects := func(hot []store.AuthFailureTotal) []string {
		return ids(hot, func(h store.AuthFailureTotal) string { return h.Subject })
	}

	t.Run("CountsAddUpAcrossInstances", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		require.NoError(t, s.AuthFailuresPut(ctx, "api", "node-a", []store.AuthFailure{
			{Subject: "addr:192.0.2.1", Failures: 3, WindowEnd: open},
			{Subject: "key:K1", Failures: 4, WindowEnd: open},
		}))
		require.NoError(t, s.AuthFailuresPut(ctx, "api", "node-b", []store.AuthFailure{
			{Subject: "addr:192.0.2.1", Failures: 2, WindowEnd: open},
			{Subject: "addr:192.0.2.2", Failures: 4, WindowEnd: open},
		}))
		require.NoError(t, s.AuthFailuresPut(ctx, "publish", "node-b", []store.AuthFailure{
			{Subject: "addr:192.0.2.2", Failures: 1, WindowEnd: open},
		}))

		hot, err := s.AuthFailuresHot(ctx, "api", now, 5, 0)
		require.NoError(t, err)
		require.Equal(t, []store.AuthFailureTotal{{Subject: "addr:192.0.2.1", Failures: 5}}, hot,
			"only subjects at the limit, their counts added over the instances; another scope's count apart")
		hot, err = s.AuthFailuresHot(ctx, "api", now, 4, 0)
		require.NoError(t, err)
		require.Equal(t, []string{"addr:192.0.2.1", "addr:192.0.2.2", "key:K1"}, subjects(hot), "by subject")
		hot, err = s.AuthFailuresHot(ctx, "api", now, 4, 2)
		require.NoError(t, err)
		require.Equal(t, []string{"addr:192.0.2.1", "addr:192.0.2.2"}, subjects(hot), "at most maxSubjects")
		hot, err = s.AuthFailuresHot(ctx, "publish", now, 1, 0)
		require.NoError(t, err)
		require.Equal(t, []store.AuthFailureTotal{{Subject: "addr:192.0.2.2", Failures: 1}}, hot)
		hot, err = s.AuthFailuresHot(ctx, "api", open, 1, 0)
		require.NoError(t, err)
		require.Empty(t, hot, "a window ending at now is over")
	})

	t.Run("PutReplacesTheInstancesCount", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		require.NoError(t, s.AuthFailuresPut(ctx, "api", "node-a", []store.AuthFailure{
			{Subject: "key:K1", Failures: 9, WindowEnd: open}}))
		require.NoError(t, s.AuthFailuresPut(ctx, "api", "node-a", []store.AuthFailure{
			{Subject: "key:K1", Failures: 1, WindowEnd: open.Add(time.Minute)},
			{Subject: "key:K2", Failures: 7, WindowEnd: open},
			{Subject: "key:K2", Failures: 2, WindowEnd: open}, // the last of a subject wins
		}))
		require.NoError(t, s.AuthFailuresPut(ctx, "api", "node-a", nil))
		hot, err := s.AuthFailuresHot(ctx, "api", now, 1, 0)
		require.NoError(t, err)
		require.Equal(t, []store.AuthFailureTotal{{Subject: "key:K1", Failures: 1}, {Subject: "key:K2", Failures: 2}}, hot)
		hot, err = s.AuthFailuresHot(ctx, "api", open.Add(time.Second), 1, 0)
		require.NoError(t, err)
		require.Equal(t, []string{"key:K1"}, subjects(hot), "the window's end was replaced too")
	})

	t.Run("CooldownsAreReportedNotCounted", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		early, late := now.Add(2*time.Minute), now.Add(5*time.Minute)
		require.NoError(t, s.AuthFailuresPut(ctx, "api", "node-a", []store.AuthFailure{
			{Subject: "addr:192.0.2.1", Failures: 10, WindowEnd: open, CooldownUntil: early},
			{Subject: "addr:192.0.2.2", Failures: 10, WindowEnd: open, CooldownUntil: now}, // over
		}))
		require.NoError(t, s.AuthFailuresPut(ctx, "api", "node-b", []store.AuthFailure{
			{Subject: "addr:192.0.2.1", Failures: 1, WindowEnd: open, CooldownUntil: late},
			{Subject: "addr:192.0.2.2", Failures: 2, WindowEnd: open},
		}))
		hot, err := s.AuthFailuresHot(ctx, "api", now, 3, 0)
		require.NoError(t, err)
		require.Equal(t, []store.AuthFailureTotal{{Subject: "addr:192.0.2.1", CooldownUntil: normalised(late)}}, hot,
			"the latest cool-down, whatever the count; a cooling count and an ended cool-down count no more")
		hot, err = s.AuthFailuresHot(ctx, "api", now, 2, 0)
		require.NoError(t, err)
		require.Equal(t, []store.AuthFailureTotal{{Subject: "addr:192.0.2.1", CooldownUntil: normalised(late)},
			{Subject: "addr:192.0.2.2", Failures: 2}}, hot)
		hot, err = s.AuthFailuresHot(ctx, "api", late, 1, 0)
		require.NoError(t, err)
		require.Empty(t, hot, "a cool-down ending at now is over")
	})

	t.Run("PruneDeletesWhatIsOver", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		later := now.Add(time.Hour)
		for _, scope := range []string{"api", "publish"} {
			require.NoError(t, s.AuthFailuresPut(ctx, scope, "node-a", []store.AuthFailure{
				{Subject: "addr:192.0.2.1", Failures: 5, WindowEnd: open},
				{Subject: "addr:192.0.2.2", Failures: 5, WindowEnd: open, CooldownUntil: later},
				{Subject: "addr:192.0.2.3", Failures: 5, WindowEnd: later},
			}))
		}
		require.NoError(t, s.AuthFailuresPrune(ctx, "api", open))
		hot, err := s.AuthFailuresHot(ctx, "api", now, 1, 0)
		require.NoError(t, err)
		require.Equal(t, []string{"addr:192.0.2.2", "addr:192.0.2.3"}, subjects(hot),
			"the window over by then is gone; a running cool-down and an open window stay")
		hot, err = s.AuthFailuresHot(ctx, "publish", now, 1, 0)
		require.NoError(t, err)
		require.Len(t, hot, 3, "another scope is not pruned")
	})

	t.Run("ManyCountsAtOnce", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		counts := make([]store.AuthFailure, 1234)
		for i := range counts {
			counts[i] = store.AuthFailure{Subject: fmt.Sprintf("addr:10.0.%d.%d", i/256, i%256), Failures: 1 + i%3,
				WindowEnd: open}
		}
		require.NoError(t, s.AuthFailuresPut(ctx, "api", "node-a", counts))
		hot, err := s.AuthFailuresHot(ctx, "api", now, 3, 0)
		require.NoError(t, err)
		require.Len(t, hot, 411, "every third subject has 3 failures")
		for _, h := range hot {
			require.Equal(t, 3, h.Failures, h.Subject)
		}
	})
}
