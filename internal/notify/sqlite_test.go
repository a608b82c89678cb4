package notify

import (
	"context"
	"encoding/json"
	"github.com/liverec/liverec/internal/store/sqldb/sqldbtest"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// The notifier over the SQLite outbox and the real standard dialect: retries in order with a
// stable event id, a 400 gives up while the stream moves on, a 410 disables the configuration,
// and a claim whose worker died is delivered after its lease.
func TestSQLiteOutbox(t *testing.T) {
	ctx := context.Background()
	db := sqldbtest.OpenSQLite(t)
	var h hits
	var first atomic.Bool
	okSrv := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var env struct {
			Data struct{ Stream, Event string }
		}
		if err := json.Unmarshal(body, &env); err != nil || r.Header.Get("webhook-signature") == "" {
			t.Errorf("bad delivery: %v, headers %v", err, r.Header)
		}
		h.mu.Lock()
		h.list = append(h.list, hit{ID: r.Header.Get("X-Liverec-Event-Id"), Stream: env.Data.Stream})
		h.mu.Unlock()
		switch {
		case env.Data.Stream == "a" && first.CompareAndSwap(false, true):
			w.WriteHeader(http.StatusServiceUnavailable)
		case env.Data.Stream == "b" && env.Data.Event == "record_started":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"bad"}`)
		}
	})
	goneSrv := receiver(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) })
	cbs := sqliteCallbacks{db: db, keys: map[string]string{}}
	newCallback := func(domain, url string) string {
		c := &recording.CallbackConfig{Project: "p1", Dialect: recording.DialectStandard, Domain: domain,
			App: "*", URL: url, Enabled: true, HasKey: true}
		require.NoError(t, db.CallbackInsert(ctx, c))
		cbs.keys[c.ID] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		return c.ID
	}
	ok, gone := newCallback("d.example", okSrv.URL), newCallback("e.example", goneSrv.URL)

	var ids []string // delivery ids, in the order below
	add := func(stream string, typ recording.Event, cbs ...string) {
		var ds []recording.Delivery
		for _, cb := range cbs {
			ds = append(ds, recording.Delivery{CallbackID: cb, OrderKey: stream + "|" + cb, Seq: int64(len(ids) + 1)})
		}
		c := store.Change{Events: []recording.OutboxEvent{{Type: typ, Data: recording.EventData{Project: "p1",
			RecordingID: "rec_" + stream, Domain: "d.example", App: "live", Stream: stream, Seq: int64(len(ids) + 1)}}},
			Deliveries: [][]recording.Delivery{ds}}
		require.NoError(t, db.Apply(ctx, c))
		for _, d := range c.Deliveries[0] {
			ids = append(ids, d.ID)
		}
	}
	add("a", recording.EventRecordStarted, ok)   // 0: 503, then delivered
	add("a", recording.EventRecordOver, ok)      // 1
	add("b", recording.EventRecordStarted, ok)   // 2: 400
	add("b", recording.EventRecordOver, ok)      // 3
	add("c", recording.EventRecordStarted, gone) // 4: 410
	add("c", recording.EventRecordOver, gone)    // 5: configuration disabled
	add("d", recording.EventRecordStarted, ok)   // 6: claimed by a worker that died
	claimed, err := db.DeliveryClaim(ctx, time.Now(), 50*time.Millisecond, 10)
	require.NoError(t, err)
	require.NotEmpty(t, claimed)

	n := mustNew(t, Config{Outbox: db, Callbacks: cbs, Encode: dialectEncode, Poll: 5 * time.Millisecond,
		Backoff: Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond, MaxAge: time.Hour}})
	start(t, n)
	state := func(i int) *recording.Delivery {
		d, gerr := db.DeliveryGet(ctx, "p1", ids[i])
		require.NoError(t, gerr)
		return d
	}
	waitFor(t, func() bool {
		for i := range ids {
			if state(i).State == recording.DeliveryPending {
				return false
			}
		}
		return true
	})

	want := map[int]recording.DeliveryState{0: recording.DeliveryDelivered, 1: recording.DeliveryDelivered,
		2: recording.DeliveryFailed, 3: recording.DeliveryDelivered, 4: recording.DeliveryFailed,
		5: recording.DeliveryFailed, 6: recording.DeliveryDelivered}
	for i, st := range want {
		require.Equal(t, st, state(i).State, "delivery %d", i)
	}
	as, err := db.DeliveryAttempts(ctx, ids[0])
	require.NoError(t, err)
	require.Len(t, as, 2)
	require.Equal(t, []int{503, 200}, []int{as[0].Status, as[1].Status})
	as, err = db.DeliveryAttempts(ctx, ids[2])
	require.NoError(t, err)
	require.Len(t, as, 1)
	require.Equal(t, `{"error":"bad"}`, as[0].ReplyHead)
	require.Equal(t, ReasonDisabled, state(5).LastError)
	cb, err := db.CallbackGet(ctx, "p1", gone)
	require.NoError(t, err)
	require.False(t, cb.Enabled)
	require.Equal(t, ReasonGone, cb.DisabledReason)

	a0, a1 := state(0).EventID, state(1).EventID
	require.Equal(t, []string{a0, a0, a1}, h.ids("a"), "in order, the same event id on every attempt")
	require.Equal(t, []string{state(2).EventID, state(3).EventID}, h.ids("b"))
}
