package service_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// emitDelivery writes a file-completed event of project's stream on domain with one delivery
// to callback, and returns the delivery.
func emitDelivery(ctx context.Context, t *testing.T, s *service.Service, project, domain, stream, callback string) recording.Delivery {
	t.Helper()
	ev := recording.OutboxEvent{Type: recording.EventFileCompleted, Data: recording.EventData{
		Project: project, RecordingID: "rc_" + stream, Domain: domain, App: "live", Stream: stream, Seq: 1,
	}}
	ds := []recording.Delivery{{CallbackID: callback, OrderKey: callback + "/" + stream, Seq: 1}}
	require.NoError(t, s.Store.Apply(ctx, store.Change{Events: []recording.OutboxEvent{ev}, Deliveries: [][]recording.Delivery{ds}}))
	require.NotEmpty(t, ds[0].ID)
	return ds[0]
}

// failDelivery records a 404 attempt that gives d up.
func failDelivery(ctx context.Context, t *testing.T, s *service.Service, id string) {
	t.Helper()
	a := recording.Attempt{DeliveryID: id, At: time.Now(), Status: 404, Latency: time.Millisecond, ReplyHead: "no such hook"}
	require.NoError(t, s.Store.DeliveryRecord(ctx, a, recording.DeliveryFailed, time.Time{}, "404 Not Found"))
}

func TestDeliveriesAreListedPerProject(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	a1 := emitDelivery(ctx, t, s, alice.Project, "a.com", "s1", "cb_a")
	a2 := emitDelivery(ctx, t, s, alice.Project, "a.com", "s2", "cb_a")
	b1 := emitDelivery(ctx, t, s, bob.Project, "b.com", "s1", "cb_b")
	failDelivery(ctx, t, s, a2.ID)

	ds, total, err := s.ListDeliveries(ctx, alice, store.DeliveryFilter{Project: bob.Project, Limit: 10})
	require.NoError(t, err)
	require.Equal(t, 2, total, "the filter's project is the principal's")
	require.Equal(t, []string{a1.ID, a2.ID}, []string{ds[0].ID, ds[1].ID})
	require.NotNil(t, ds[0].Event)
	require.Equal(t, "s1", ds[0].Event.Data.Stream)

	ds, total, err = s.ListDeliveries(ctx, alice, store.DeliveryFilter{State: recording.DeliveryFailed, Domain: "A.COM", Limit: 10})
	require.NoError(t, err)
	require.Equal(t, 1, total)
	require.Equal(t, a2.ID, ds[0].ID)

	ds, total, err = s.ListDeliveries(ctx, bob, store.DeliveryFilter{Limit: 10})
	require.NoError(t, err)
	require.Equal(t, 1, total)
	require.Equal(t, b1.ID, ds[0].ID)

	got, err := s.GetDelivery(ctx, alice, a2.ID)
	require.NoError(t, err)
	require.Equal(t, recording.DeliveryFailed, got.State)
	as, err := s.DeliveryAttempts(ctx, alice, a2.ID)
	require.NoError(t, err)
	require.Len(t, as, 1)
	require.Equal(t, 404, as[0].Status)
}

func TestDeliveriesOfAnotherProjectAreNotFound(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	d := emitDelivery(ctx, t, s, alice.Project, "a.com", "s1", "cb_a")
	failDelivery(ctx, t, s, d.ID)

	_, err := s.GetDelivery(ctx, bob, d.ID)
	require.ErrorIs(t, err, recording.ErrNotFound)
	_, err = s.DeliveryAttempts(ctx, bob, d.ID)
	require.ErrorIs(t, err, recording.ErrNotFound)
	require.ErrorIs(t, s.Redeliver(ctx, bob, d.ID), recording.ErrNotFound)
	_, err = s.DeliveryAttempts(ctx, alice, "dl_unknown")
	require.ErrorIs(t, err, recording.ErrNotFound)

	got, err := s.GetDelivery(ctx, alice, d.ID)
	require.NoError(t, err)
	require.Equal(t, recording.DeliveryFailed, got.State, "bob changed nothing")
}

func TestRedeliverOnlyFailed(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	var woken atomic.Int32
	s.Now, s.OnRedeliver = clk.now, func() { woken.Add(1) }
	pending := emitDelivery(ctx, t, s, alice.Project, "a.com", "s1", "cb_a")
	failed := emitDelivery(ctx, t, s, alice.Project, "a.com", "s2", "cb_a")
	failDelivery(ctx, t, s, failed.ID)

	require.ErrorIs(t, s.Redeliver(ctx, alice, pending.ID), recording.ErrConflict)
	require.ErrorIs(t, s.Redeliver(ctx, alice, "dl_unknown"), recording.ErrNotFound)
	require.Zero(t, woken.Load())

	require.NoError(t, s.Redeliver(ctx, alice, failed.ID))
	require.Equal(t, int32(1), woken.Load(), "the notifier is woken")
	got, err := s.GetDelivery(ctx, alice, failed.ID)
	require.NoError(t, err)
	require.Equal(t, recording.DeliveryPending, got.State)
	require.True(t, clk.t.Equal(got.NextAt), "due now: %v", got.NextAt)
	require.ErrorIs(t, s.Redeliver(ctx, alice, failed.ID), recording.ErrConflict, "already pending")
}
