package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// claim claims at now with the tests' lease and returns the IDs in claim order.
func claim(ctx context.Context, t *testing.T, s store.Outbox, now time.Time, limit int) []string {
	t.Helper()
	ds, err := s.DeliveryClaim(ctx, now, lease, limit)
	require.NoError(t, err)
	for _, d := range ds {
		require.NotNil(t, d.Event, "claims come with their event")
		require.Equal(t, d.EventID, d.Event.ID)
	}
	return ids(ds, deliveryID)
}

// record stores an attempt at `at` answered with status, and the delivery's new state.
func record(ctx context.Context, t *testing.T, s store.Outbox, id string, at time.Time, status int,
	state recording.DeliveryState, next time.Time,
) {
	t.Helper()
	a := recording.Attempt{DeliveryID: id, At: at, Status: status, Latency: 3 * time.Millisecond}
	require.NoError(t, s.DeliveryRecord(ctx, a, state, next, ""))
}

func exerciseClaims(t *testing.T, newStore func(t *testing.T) Driver) {
	t.Run("OnlyTheHeadOfEachKeyIsClaimed", func(t *testing.T) {
		t.Parallel()
		for _, end := range []recording.DeliveryState{recording.DeliveryDelivered, recording.DeliveryFailed} {
			ctx, s := t.Context(), newStore(t)
			rec := newRecording("p1", "s1")
			first := emit(ctx, t, s, rec, 1, t0, "cb_a", "cb_b")
			second := emit(ctx, t, s, rec, 2, t0, "cb_a", "cb_b")

			// Different keys are claimable together; the second of a key waits for the first.
			require.Equal(t, []string{first[0].ID, first[1].ID}, claim(ctx, t, s, t0, 10))
			require.Empty(t, claim(ctx, t, s, t0, 10), "heads leased, the rest blocked")

			// Delivered or given up, the head no longer blocks its key, and only its key.
			record(ctx, t, s, first[0].ID, t0, 200, end, time.Time{})
			require.Equal(t, []string{second[0].ID}, claim(ctx, t, s, t0, 10), "after %s", end)
			require.Empty(t, claim(ctx, t, s, t0, 10))
		}
	})

	t.Run("ARetryKeepsItsKeyBlocked", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := newRecording("p1", "s1")
		first := emit(ctx, t, s, rec, 1, t0, "cb_a")[0]
		emit(ctx, t, s, rec, 2, t0, "cb_a")
		require.Equal(t, []string{first.ID}, claim(ctx, t, s, t0, 10))
		record(ctx, t, s, first.ID, t0, 503, recording.DeliveryPending, t0.Add(time.Minute))

		require.Empty(t, claim(ctx, t, s, t0.Add(59*time.Second), 10), "the second is due but must wait")
		require.Equal(t, []string{first.ID}, claim(ctx, t, s, t0.Add(time.Minute), 10))
	})

	t.Run("SeqOrdersAKeyAndTiesGoInCreationOrder", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := newRecording("p1", "s1")
		late := emit(ctx, t, s, rec, 2, t0, "cb_a")[0]
		early := emit(ctx, t, s, rec, 1, t0.Add(time.Second), "cb_a")[0]
		tie := emit(ctx, t, s, rec, 2, t0, "cb_a")[0]
		now := t0.Add(time.Second)
		for _, want := range []string{early.ID, late.ID, tie.ID} {
			require.Equal(t, []string{want}, claim(ctx, t, s, now, 10))
			record(ctx, t, s, want, now, 200, recording.DeliveryDelivered, time.Time{})
		}
		require.Empty(t, claim(ctx, t, s, now, 10))
	})

	t.Run("ALeaseHidesAClaimUntilItExpires", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		d := emit(ctx, t, s, newRecording("p1", "s1"), 1, t0, "cb_a")[0]
		claimed, err := s.DeliveryClaim(ctx, t0, lease, 10)
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		require.Equal(t, t0.Add(lease), claimed[0].NextAt, "leased")
		got, err := s.DeliveryGet(ctx, "p1", d.ID)
		require.NoError(t, err)
		require.Equal(t, &claimed[0], got, "a claim returns the delivery as stored")

		require.Empty(t, claim(ctx, t, s, t0.Add(lease-time.Microsecond), 10))
		// The worker crashed: once the lease is over, the delivery comes back.
		claimed, err = s.DeliveryClaim(ctx, t0.Add(lease), lease, 10)
		require.NoError(t, err)
		require.Equal(t, []string{d.ID}, ids(claimed, deliveryID))
		require.Equal(t, t0.Add(2*lease), claimed[0].NextAt)
		require.Zero(t, claimed[0].Attempts, "a claim is not an attempt")
	})

	t.Run("ADeliveryIsNotClaimedBeforeItIsDue", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		d := emit(ctx, t, s, newRecording("p1", "s1"), 1, t0.Add(time.Hour), "cb_a")[0]
		require.Empty(t, claim(ctx, t, s, t0, 10))
		require.Equal(t, []string{d.ID}, claim(ctx, t, s, t0.Add(time.Hour), 10))
	})

	t.Run("ClaimsRespectTheLimitOldestFirst", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		var want []string
		for i := range 5 {
			d := emit(ctx, t, s, newRecording("p1", fmt.Sprint("s", i)), 1, t0.Add(time.Duration(5-i)*time.Second), "cb_a")[0]
			want = append([]string{d.ID}, want...) // later streams' events are older
		}
		now := t0.Add(time.Minute)
		require.Equal(t, want[:2], claim(ctx, t, s, now, 2))
		require.Equal(t, want[2:4], claim(ctx, t, s, now, 2))
		require.Equal(t, want[4:], claim(ctx, t, s, now, 2))
		require.Empty(t, claim(ctx, t, s, now, 2))

		require.Empty(t, claim(ctx, t, s, now.Add(time.Hour), 0), "no limit claims nothing")
		_, err := s.DeliveryClaim(ctx, now, 0, 10)
		require.Error(t, err, "a claim without a lease would never expire")
	})

	t.Run("ConcurrentClaimersNeverShareADelivery", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		const streams = 60
		for i := range streams {
			emit(ctx, t, s, newRecording("p1", fmt.Sprint("s", i)), 1, t0, "cb_a")
		}
		var (
			mu   sync.Mutex
			seen = map[string]int{}
			errs []error
			wg   sync.WaitGroup
		)
		for range 6 {
			wg.Go(func() {
				for range streams { // bounded, so a claim that never empties fails instead of hanging
					ds, err := s.DeliveryClaim(ctx, t0, lease, 4)
					mu.Lock()
					for _, d := range ds {
						seen[d.ID]++
					}
					if err != nil {
						errs = append(errs, err)
					}
					mu.Unlock()
					if err != nil || len(ds) == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		require.Empty(t, errs)
		require.Len(t, seen, streams)
		for id, n := range seen {
			require.Equal(t, 1, n, "delivery %s claimed %d times", id, n)
		}
	})

	// 2,000 events on 100 keys, written in random order: each round of claims returns every
	// key's head and nothing else.
	t.Run("ManyDeliveriesClaimEachKeysHeadOnly", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		const keys, perKey = 100, 20
		type item struct {
			key int
			seq int64
		}
		items := make([]item, 0, keys*perKey)
		for k := range keys {
			for q := range perKey {
				items = append(items, item{k, int64(q + 1)})
			}
		}
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		recs := make([]*recording.Recording, keys)
		for k := range recs {
			recs[k] = newRecording("p1", fmt.Sprintf("s%03d", k))
			recs[k].ID = fmt.Sprintf("rec_%016d", k)
		}
		for batch := range perKey {
			var c store.Change
			for _, it := range items[batch*keys : (batch+1)*keys] {
				c.Events = append(c.Events, newEvent(recs[it.key], recording.EventFileCompleted, it.seq, t0))
				c.Deliveries = append(c.Deliveries, []recording.Delivery{{CallbackID: "cb_a", OrderKey: orderKey("cb_a", recs[it.key]), Seq: it.seq}})
			}
			require.NoError(t, s.Apply(ctx, c))
		}

		for round := range int64(perKey) {
			ds, err := s.DeliveryClaim(ctx, t0, lease, 2*keys)
			require.NoError(t, err)
			require.Len(t, ds, keys, "round %d", round)
			perKeySeen := map[string]bool{}
			for _, d := range ds {
				require.False(t, perKeySeen[d.OrderKey], "round %d: key %s twice", round, d.OrderKey)
				perKeySeen[d.OrderKey] = true
				require.Equal(t, round+1, d.Seq, "round %d: key %s", round, d.OrderKey)
				require.Equal(t, round+1, d.Event.Data.Seq)
				record(ctx, t, s, d.ID, t0, 200, recording.DeliveryDelivered, time.Time{})
			}
		}
		require.Empty(t, claim(ctx, t, s, t0.Add(time.Hour), 2*keys))
	})
}
