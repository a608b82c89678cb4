package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// t0 is when the outbox tests' events happen. Deliveries are due at their event's creation,
// so claims at t0 or later see them whatever the wall clock says.
var t0 = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// lease is the claims' lease in the outbox tests.
const lease = 30 * time.Second

func newEvent(rec *recording.Recording, typ recording.Event, seq int64, at time.Time) recording.OutboxEvent {
	return recording.OutboxEvent{Type: typ, CreatedAt: at, Data: recording.EventData{
		Project: rec.Project, RecordingID: rec.ID, Domain: rec.Domain, App: rec.App, Stream: rec.Stream, Seq: seq,
	}}
}

// orderKey is the key a notifier would use: one stream to one configuration.
func orderKey(callbackID string, rec *recording.Recording) string {
	return callbackID + "/" + rec.Domain + "/" + rec.App + "/" + rec.Stream
}

// emit writes one event of rec created at `at`, with a delivery of Seq seq to each callback,
// and returns the deliveries as Apply left them.
func emit(ctx context.Context, t *testing.T, s store.Outbox, rec *recording.Recording, seq int64, at time.Time, callbacks ...string) []recording.Delivery {
	t.Helper()
	ds := make([]recording.Delivery, len(callbacks))
	for i, cb := range callbacks {
		ds[i] = recording.Delivery{CallbackID: cb, OrderKey: orderKey(cb, rec), Seq: seq}
	}
	c := store.Change{
		Events:     []recording.OutboxEvent{newEvent(rec, recording.EventFileCompleted, seq, at)},
		Deliveries: [][]recording.Delivery{ds},
	}
	require.NoError(t, s.Apply(ctx, c))
	return ds
}

func deliveryID(d recording.Delivery) string { return d.ID }
func eventID(e recording.OutboxEvent) string { return e.ID }

func exerciseOutbox(t *testing.T, newStore func(t *testing.T) Driver) {
	t.Run("ApplyWritesStateEventsAndDeliveriesAndAssignsIDs", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		before := time.Now().Add(-time.Second)
		rec := newRecording("p1", "s1")
		rec.ID = store.NewID(store.RecordingPrefix) // events name the recording before it is written
		f := &recording.File{RecordingID: rec.ID, Format: recording.FormatFLV, State: recording.FileWriting, StartedAt: odd(0)}
		started := newEvent(rec, recording.EventRecordStarted, 1, time.Time{})
		started.Data.PushArgs = map[string]string{"callback_a": "1"}
		fileStarted := newEvent(rec, recording.EventFileStarted, 2, odd(time.Second))
		start, end := odd(0), odd(time.Minute)
		fileStarted.Data.Format, fileStarted.Data.StartTime, fileStarted.Data.EndTime = recording.FormatFLV, &start, &end
		fileStarted.Data.Duration, fileStarted.Data.Bytes = time.Minute+time.Millisecond, 5<<32
		c := store.Change{
			RecordingInsert: rec, FileInsert: f,
			Events: []recording.OutboxEvent{started, fileStarted},
			Deliveries: [][]recording.Delivery{
				{{CallbackID: "cb_1", OrderKey: orderKey("cb_1", rec), Seq: 1}},
				{{CallbackID: "cb_1", OrderKey: orderKey("cb_1", rec), Seq: 2}, {CallbackID: "cb_2", OrderKey: orderKey("cb_2", rec), Seq: 2}},
			},
		}
		require.NoError(t, s.Apply(ctx, c))

		got, err := s.RecordingGet(ctx, "p1", rec.ID)
		require.NoError(t, err)
		require.Equal(t, rec, got)
		files, _, err := s.FileList(ctx, store.FileFilter{RecordingID: rec.ID})
		require.NoError(t, err)
		require.Equal(t, []recording.File{*f}, files)

		// Apply assigned and normalised the events in place; a read returns them as held.
		evs := c.Events
		require.Regexp(t, idPattern[store.EventPrefix], evs[0].ID)
		require.True(t, evs[0].CreatedAt.After(before), "an empty CreatedAt is now: %v", evs[0].CreatedAt)
		require.Equal(t, time.UTC, evs[0].CreatedAt.Location())
		require.Equal(t, normalised(odd(time.Second)), evs[1].CreatedAt)
		require.Equal(t, normalised(odd(0)), *evs[1].Data.StartTime)
		gotEvs, err := s.EventsOf(ctx, rec.ID)
		require.NoError(t, err)
		require.Equal(t, evs, gotEvs)

		for i, ds := range c.Deliveries {
			for _, d := range ds {
				require.Regexp(t, idPattern[store.DeliveryPrefix], d.ID)
				require.Equal(t, evs[i].ID, d.EventID)
				require.Equal(t, "p1", d.Project, "the event's project by default")
				require.Equal(t, recording.DeliveryPending, d.State)
				require.Equal(t, evs[i].CreatedAt, d.CreatedAt, "created with the event")
				require.Equal(t, d.CreatedAt, d.NextAt, "due at once")
				require.Equal(t, d.CreatedAt, d.UpdatedAt)
				gotD, err := s.DeliveryGet(ctx, "p1", d.ID)
				require.NoError(t, err)
				d.Event = &evs[i]
				require.Equal(t, &d, gotD)
			}
		}
	})

	t.Run("ApplyUpdatesRecordingAndFileWithTheirEvents", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		f := &recording.File{RecordingID: rec.ID, Format: recording.FormatMP4, State: recording.FileWriting, StartedAt: odd(0)}
		require.NoError(t, s.FileInsert(ctx, f))

		ended := odd(time.Hour)
		rec.State, rec.EndedAt = recording.RecordingOver, &ended
		f.State, f.EndedAt, f.Bytes = recording.FileStored, &ended, 1234
		c := store.Change{
			RecordingUpdate: rec, FileUpdate: f,
			Events: []recording.OutboxEvent{
				newEvent(rec, recording.EventFileCompleted, 1, t0),
				newEvent(rec, recording.EventRecordOver, 2, t0),
			},
		}
		require.NoError(t, s.Apply(ctx, c))

		got, err := s.RecordingGet(ctx, "p1", rec.ID)
		require.NoError(t, err)
		require.Equal(t, rec, got)
		files, _, err := s.FileList(ctx, store.FileFilter{RecordingID: rec.ID})
		require.NoError(t, err)
		require.Equal(t, []recording.File{*f}, files)
		evs, err := s.EventsOf(ctx, rec.ID)
		require.NoError(t, err)
		require.Equal(t, c.Events, evs)
	})

	t.Run("ApplyWritesNothingWhenAPartFails", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		withEvent := func(c store.Change) store.Change {
			c.Events = []recording.OutboxEvent{newEvent(rec, recording.EventFileStarted, 1, t0)}
			c.Deliveries = [][]recording.Delivery{{{CallbackID: "cb_1", OrderKey: orderKey("cb_1", rec), Seq: 1}}}
			return c
		}
		orphan := &recording.File{RecordingID: "rec_unknown", Format: recording.FormatFLV, State: recording.FileWriting, StartedAt: odd(0)}
		require.ErrorIs(t, s.Apply(ctx, withEvent(store.Change{FileInsert: orphan})), recording.ErrNotFound)

		gone := newRecording("p1", "s2")
		gone.ID = "rec_unknown"
		require.ErrorIs(t, s.Apply(ctx, withEvent(store.Change{RecordingUpdate: gone})), recording.ErrNotFound)

		// A conflict after an insert that succeeded undoes the insert too.
		f := &recording.File{RecordingID: rec.ID, Format: recording.FormatFLV, State: recording.FileWriting, StartedAt: odd(0)}
		require.NoError(t, s.FileInsert(ctx, f))
		fresh := newRecording("p1", "s3")
		dup := &recording.File{ID: f.ID, RecordingID: rec.ID, Format: recording.FormatMP4, State: recording.FileWriting, StartedAt: odd(0)}
		require.ErrorIs(t, s.Apply(ctx, withEvent(store.Change{RecordingInsert: fresh, FileInsert: dup})), recording.ErrConflict)
		_, err := s.RecordingGet(ctx, "p1", fresh.ID)
		require.ErrorIs(t, err, recording.ErrNotFound)

		// So does a conflicting event after a good one.
		c := withEvent(store.Change{})
		require.NoError(t, s.Apply(ctx, c))
		again := withEvent(store.Change{})
		again.Events = append(again.Events, c.Events[0])
		require.ErrorIs(t, s.Apply(ctx, again), recording.ErrConflict)

		evs, err := s.EventsOf(ctx, rec.ID)
		require.NoError(t, err)
		require.Equal(t, []string{c.Events[0].ID}, ids(evs, eventID), "only the change that succeeded")
		ds, total, err := s.DeliveryList(ctx, store.DeliveryFilter{Project: "p1"})
		require.NoError(t, err)
		require.Equal(t, 1, total)
		require.Equal(t, []string{c.Deliveries[0][0].ID}, ids(ds, deliveryID))
		claimed, err := s.DeliveryClaim(ctx, t0, lease, 10)
		require.NoError(t, err)
		require.Equal(t, []string{c.Deliveries[0][0].ID}, ids(claimed, deliveryID))
	})

	t.Run("ApplyRejectsDeliveriesWithoutTheirEvent", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		err := s.Apply(ctx, store.Change{Deliveries: [][]recording.Delivery{{{CallbackID: "cb_1", OrderKey: "k", Seq: 1}}}})
		require.Error(t, err)
		_, total, err := s.DeliveryList(ctx, store.DeliveryFilter{Project: "p1"})
		require.NoError(t, err)
		require.Zero(t, total)
	})

	t.Run("EventsOfIsInSeqOrder", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		other := insertRecording(ctx, t, s, "p1", "s2")
		var want [4]recording.OutboxEvent
		// Written out of order; two with the same Seq keep their creation order.
		for _, x := range []struct {
			i   int
			rec *recording.Recording
			seq int64
		}{{2, rec, 3}, {0, rec, 1}, {-1, other, 2}, {1, rec, 2}, {3, rec, 3}} {
			c := store.Change{Events: []recording.OutboxEvent{newEvent(x.rec, recording.EventFileCompleted, x.seq, t0)}}
			require.NoError(t, s.Apply(ctx, c))
			if x.i >= 0 {
				want[x.i] = c.Events[0]
			}
		}
		evs, err := s.EventsOf(ctx, rec.ID)
		require.NoError(t, err)
		require.Equal(t, want[:], evs)

		evs, err = s.EventsOf(ctx, "rec_unknown")
		require.NoError(t, err)
		require.Equal(t, []recording.OutboxEvent{}, evs)
	})

	t.Run("ApplyNumbersARecordingsEventsAfterTheStoredOnes", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		other := insertRecording(ctx, t, s, "p1", "s2")
		apply := func(r *recording.Recording, seq int64, n int) []int64 {
			t.Helper()
			c := store.Change{}
			for range n {
				c.Events = append(c.Events, newEvent(r, recording.EventFileStarted, seq, t0))
			}
			require.NoError(t, s.Apply(ctx, c))
			got := make([]int64, n)
			for i, ev := range c.Events {
				got[i] = ev.Data.Seq
			}
			return got
		}
		require.Equal(t, []int64{1, 2}, apply(rec, 0, 2), "numbered within one change")
		require.Equal(t, []int64{1}, apply(other, 0, 1), "each recording has its own numbers")
		require.Equal(t, []int64{3}, apply(rec, 0, 1), "a later change carries on (a restart holds nothing in memory)")
		require.Equal(t, []int64{7}, apply(rec, 7, 1), "a given number is kept")
		require.Equal(t, []int64{8}, apply(rec, 0, 1))
		evs, err := s.EventsOf(ctx, rec.ID)
		require.NoError(t, err)
		seqs := make([]int64, len(evs))
		for i, ev := range evs {
			seqs[i] = ev.Data.Seq
		}
		require.Equal(t, []int64{1, 2, 3, 7, 8}, seqs, "stored as numbered")
	})

	t.Run("CallbackDisableKeepsAReason", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		c := insertCallback(ctx, t, s, "p1", recording.DialectStandard, "a.com", "*")
		require.NoError(t, s.CallbackDisable(ctx, c.ID, "410 Gone from https://hooks.example.com/p1"))

		got, err := s.CallbackGet(ctx, "p1", c.ID)
		require.NoError(t, err)
		require.False(t, got.Enabled)
		require.Equal(t, "410 Gone from https://hooks.example.com/p1", got.DisabledReason)
		require.False(t, got.UpdatedAt.Before(c.UpdatedAt))
		c.Enabled, c.DisabledReason, c.UpdatedAt = got.Enabled, got.DisabledReason, got.UpdatedAt
		require.Equal(t, c, got, "nothing else changes")

		require.ErrorIs(t, s.CallbackDisable(ctx, "cb_unknown", "410"), recording.ErrNotFound)
	})
}
