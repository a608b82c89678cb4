package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

func getDelivery(ctx context.Context, t *testing.T, s store.Outbox, project, id string) *recording.Delivery {
	t.Helper()
	d, err := s.DeliveryGet(ctx, project, id)
	require.NoError(t, err)
	return d
}

func exerciseDeliveries(t *testing.T, newStore func(t *testing.T) Driver) {
	t.Run("RecordDeliveredEndsTheDelivery", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		d := emit(ctx, t, s, newRecording("p1", "s1"), 1, t0, "cb_a")[0]
		require.Len(t, claim(ctx, t, s, t0, 10), 1)
		a := recording.Attempt{DeliveryID: d.ID, At: t0, Status: 204, Latency: 1500 * time.Microsecond}
		require.NoError(t, s.DeliveryRecord(ctx, a, recording.DeliveryDelivered, time.Time{}, ""))

		got := getDelivery(ctx, t, s, "p1", d.ID)
		require.Equal(t, recording.DeliveryDelivered, got.State)
		require.Equal(t, 1, got.Attempts)
		require.Equal(t, 204, got.LastStatus)
		require.Empty(t, got.LastError)
		require.Empty(t, claim(ctx, t, s, t0.Add(24*time.Hour), 10), "never claimed again")
	})

	t.Run("RecordRetriesThenGivesUpAndLogsEveryAttemptInOrder", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		d := emit(ctx, t, s, newRecording("p1", "s1"), 1, t0, "cb_a")[0]
		zone := time.FixedZone("UTC+8", 8*3600)
		attempts := []recording.Attempt{
			{DeliveryID: d.ID, At: t0.Add(123456789).In(zone), Status: 503, Latency: 20 * time.Millisecond, ReplyHead: "Service Unavailable"},
			{DeliveryID: d.ID, At: t0.Add(10 * time.Second), Latency: 5 * time.Second, Error: "timeout"},
			{DeliveryID: d.ID, At: t0.Add(40 * time.Second), Status: 404, Latency: time.Millisecond, ReplyHead: `{"error":"no such hook"}`},
		}
		steps := []struct {
			state   recording.DeliveryState
			next    time.Time
			lastErr string
		}{
			{recording.DeliveryPending, t0.Add(10 * time.Second), "503 Service Unavailable"},
			{recording.DeliveryPending, t0.Add(40 * time.Second), "timeout after 5s"},
			{recording.DeliveryFailed, time.Time{}, "404 Not Found"},
		}
		for i, st := range steps {
			require.Equal(t, []string{d.ID}, claim(ctx, t, s, attempts[i].At, 10), "attempt %d", i)
			require.NoError(t, s.DeliveryRecord(ctx, attempts[i], st.state, st.next, st.lastErr))
			got := getDelivery(ctx, t, s, "p1", d.ID)
			require.Equal(t, st.state, got.State, "attempt %d", i)
			require.Equal(t, i+1, got.Attempts)
			require.Equal(t, attempts[i].Status, got.LastStatus)
			require.Equal(t, st.lastErr, got.LastError)
			if st.state == recording.DeliveryPending {
				require.Equal(t, st.next, got.NextAt, "retried at next")
				require.Empty(t, claim(ctx, t, s, st.next.Add(-time.Microsecond), 10), "not before next")
			}
		}
		require.Empty(t, claim(ctx, t, s, t0.Add(24*time.Hour), 10), "given up")

		got, err := s.DeliveryAttempts(ctx, d.ID)
		require.NoError(t, err)
		attempts[0].At = normalised(attempts[0].At)
		require.Equal(t, attempts, got)

		none, err := s.DeliveryAttempts(ctx, "dl_unknown")
		require.NoError(t, err)
		require.Equal(t, []recording.Attempt{}, none)
	})

	t.Run("RecordIsNotFoundForUnknownDeliveriesAndRejectsUnknownStates", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		a := recording.Attempt{DeliveryID: "dl_unknown", At: t0, Status: 200}
		require.ErrorIs(t, s.DeliveryRecord(ctx, a, recording.DeliveryDelivered, time.Time{}, ""), recording.ErrNotFound)

		d := emit(ctx, t, s, newRecording("p1", "s1"), 1, t0, "cb_a")[0]
		a.DeliveryID = d.ID
		require.Error(t, s.DeliveryRecord(ctx, a, "lost", time.Time{}, ""))
		require.Equal(t, recording.DeliveryPending, getDelivery(ctx, t, s, "p1", d.ID).State)
		got, err := s.DeliveryAttempts(ctx, d.ID)
		require.NoError(t, err)
		require.Empty(t, got, "a rejected record logs nothing")
	})

	// Worker 1's lease expires, worker 2 delivers, then worker 1 reports a retryable failure:
	// the delivery stays delivered, and both attempts are in the log.
	t.Run("ALateAttemptCannotUndoAnEnd", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		d := emit(ctx, t, s, newRecording("p1", "s1"), 1, t0, "cb_a")[0]
		require.Equal(t, []string{d.ID}, claim(ctx, t, s, t0, 10))
		require.Equal(t, []string{d.ID}, claim(ctx, t, s, t0.Add(lease), 10))
		record(ctx, t, s, d.ID, t0.Add(lease+time.Second), 200, recording.DeliveryDelivered, time.Time{})
		a := recording.Attempt{DeliveryID: d.ID, At: t0.Add(lease + 2*time.Second), Error: "timeout"}
		require.NoError(t, s.DeliveryRecord(ctx, a, recording.DeliveryPending, t0.Add(time.Hour), "timeout"))

		got := getDelivery(ctx, t, s, "p1", d.ID)
		require.Equal(t, recording.DeliveryDelivered, got.State)
		require.Equal(t, 200, got.LastStatus)
		require.Empty(t, got.LastError)
		require.Equal(t, 2, got.Attempts)
		as, err := s.DeliveryAttempts(ctx, d.ID)
		require.NoError(t, err)
		require.Len(t, as, 2)
		require.Empty(t, claim(ctx, t, s, t0.Add(2*time.Hour), 10))
	})

	t.Run("ListFiltersPagesAndIsolatesProjects", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		recA, recB, recC := newRecording("p1", "s1"), newRecording("p1", "s2"), newRecording("p2", "s1")
		recA.ID, recB.ID, recC.ID = "rec_a", "rec_b", "rec_c"
		recB.Domain = "b.com"
		e1 := emit(ctx, t, s, recA, 1, t0, "cb_1", "cb_2")
		e2 := emit(ctx, t, s, recB, 1, t0.Add(time.Minute), "cb_1")
		e4 := emit(ctx, t, s, recC, 1, t0.Add(time.Minute), "cb_x")
		e3 := emit(ctx, t, s, recA, 2, t0.Add(2*time.Minute), "cb_1")
		d1, d2, d3, d4, d5 := e1[0].ID, e1[1].ID, e2[0].ID, e3[0].ID, e4[0].ID
		require.Contains(t, claim(ctx, t, s, t0, 10), d2)
		record(ctx, t, s, d2, t0, 410, recording.DeliveryFailed, time.Time{})

		cases := []struct {
			filter store.DeliveryFilter
			want   []string
			total  int
		}{
			{store.DeliveryFilter{Project: "p1"}, []string{d1, d2, d3, d4}, 4},
			{store.DeliveryFilter{Project: "p2"}, []string{d5}, 1},
			{store.DeliveryFilter{Project: "p3"}, []string{}, 0},
			{store.DeliveryFilter{Project: "p1", CallbackID: "cb_1"}, []string{d1, d3, d4}, 3},
			{store.DeliveryFilter{Project: "p1", RecordingID: "rec_a"}, []string{d1, d2, d4}, 3},
			{store.DeliveryFilter{Project: "p1", State: recording.DeliveryFailed}, []string{d2}, 1},
			{store.DeliveryFilter{Project: "p1", State: recording.DeliveryPending, CallbackID: "cb_2"}, []string{}, 0},
			{store.DeliveryFilter{Project: "p1", Domain: "b.com"}, []string{d3}, 1},
			{store.DeliveryFilter{Project: "p1", Domain: "a.com", App: "live", Stream: "s1"}, []string{d1, d2, d4}, 3},
			{store.DeliveryFilter{Project: "p1", App: "vod"}, []string{}, 0},
			{store.DeliveryFilter{Project: "p1", Since: t0.Add(time.Minute)}, []string{d3, d4}, 2},
			{store.DeliveryFilter{Project: "p1", Until: t0.Add(2 * time.Minute)}, []string{d1, d2, d3}, 3},
			{store.DeliveryFilter{Project: "p1", Since: t0.Add(time.Minute), Until: t0.Add(2 * time.Minute)}, []string{d3}, 1},
			{store.DeliveryFilter{Project: "p1", Offset: 1, Limit: 2}, []string{d2, d3}, 4},
			{store.DeliveryFilter{Project: "p1", Limit: 1, OrderDesc: true}, []string{d4}, 4},
			{store.DeliveryFilter{Project: "p1", CallbackID: "cb_1", Offset: 1, OrderDesc: true}, []string{d3, d1}, 3},
		}
		for _, tc := range cases {
			ds, total, err := s.DeliveryList(ctx, tc.filter)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(ds, deliveryID), "%+v", tc.filter)
			require.Equal(t, tc.total, total, "%+v", tc.filter)
		}

		ds, _, err := s.DeliveryList(ctx, store.DeliveryFilter{Project: "p1", State: recording.DeliveryFailed})
		require.NoError(t, err)
		require.Equal(t, getDelivery(ctx, t, s, "p1", d2), &ds[0], "lists return what a get does")
		require.NotNil(t, ds[0].Event)
		require.Equal(t, "cb_2", ds[0].CallbackID)

		_, err = s.DeliveryGet(ctx, "p2", d1)
		require.ErrorIs(t, err, recording.ErrNotFound)
		_, err = s.DeliveryGet(ctx, "p1", "dl_unknown")
		require.ErrorIs(t, err, recording.ErrNotFound)
		_, _, err = s.DeliveryList(ctx, store.DeliveryFilter{})
		require.Error(t, err, "a project is required")
	})

	t.Run("RedeliverMakesOnlyAFailedDeliveryPendingAgain", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := newRecording("p1", "s1")
		failed := emit(ctx, t, s, rec, 1, t0, "cb_a")[0]
		delivered := emit(ctx, t, s, rec, 1, t0, "cb_b")[0]
		pending := emit(ctx, t, s, newRecording("p1", "s2"), 1, t0, "cb_a")[0]
		require.Len(t, claim(ctx, t, s, t0, 10), 3)
		record(ctx, t, s, failed.ID, t0, 400, recording.DeliveryFailed, time.Time{})
		record(ctx, t, s, delivered.ID, t0, 200, recording.DeliveryDelivered, time.Time{})

		later := t0.Add(time.Hour)
		require.ErrorIs(t, s.DeliveryRedeliver(ctx, "p1", pending.ID, later), recording.ErrConflict)
		require.ErrorIs(t, s.DeliveryRedeliver(ctx, "p1", delivered.ID, later), recording.ErrConflict)
		require.ErrorIs(t, s.DeliveryRedeliver(ctx, "p1", "dl_unknown", later), recording.ErrNotFound)
		require.ErrorIs(t, s.DeliveryRedeliver(ctx, "p2", failed.ID, later), recording.ErrNotFound)
		require.Equal(t, recording.DeliveryDelivered, getDelivery(ctx, t, s, "p1", delivered.ID).State)

		require.NoError(t, s.DeliveryRedeliver(ctx, "p1", failed.ID, later))
		got := getDelivery(ctx, t, s, "p1", failed.ID)
		require.Equal(t, recording.DeliveryPending, got.State)
		require.Equal(t, later, got.NextAt)
		require.Equal(t, 1, got.Attempts, "the log of earlier attempts stays")
		require.Equal(t, 400, got.LastStatus)
		// pending's lease is long over, so it comes back; the redelivered one is due at now.
		require.Equal(t, []string{pending.ID}, claim(ctx, t, s, later.Add(-time.Microsecond), 10))
		require.Equal(t, []string{failed.ID}, claim(ctx, t, s, later, 10))
	})
}
