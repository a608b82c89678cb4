package sqldb

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// A claim must stay cheap however many deliveries pile up: both of its lookups are index
// seeks, never a scan of the table. (Timing it would be flaky; the plan is not.)
func TestClaimUsesIndexes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := open(t, filepath.Join(t.TempDir(), "liverec.db"))
	rows, err := db.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+claimSQL, fmtTime(time.Now()), 10)
	require.NoError(t, err)
	defer func() { require.NoError(t, rows.Close()) }()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	joined := strings.Join(plan, "\n")
	require.Regexp(t, `SEARCH d USING (COVERING )?INDEX deliveries_due \(next_at<\?\)`, joined)
	require.Regexp(t, `SEARCH p USING (COVERING )?INDEX deliveries_order \(order_key=\? AND order_seq<\?\)`, joined)
	require.NotContains(t, joined, "TEMP B-TREE", "no sort: the index gives the claim order\n%s", joined)
	for _, step := range plan {
		require.NotRegexp(t, `^SCAN (d|p|e)\b`, step, joined)
	}
}

// BenchmarkOutbox measures the outbox's share of one delivery: apply a state change with its
// event and delivery, claim it, record it delivered. ops/s is deliveries per second.
func BenchmarkOutbox(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprint("claim=", batch), func(b *testing.B) {
			ctx := b.Context()
			db, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "liverec.db"))
			require.NoError(b, err)
			b.Cleanup(func() { require.NoError(b, db.Close()) })
			n := 0
			for b.Loop() {
				benchmarkRound(ctx, b, db, n, batch)
				n += batch
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/delivery")
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// benchmarkRound applies batch changes of one event and delivery each (100 streams, one
// endpoint, as §14's target), claims them in one call and records each delivered.
func benchmarkRound(ctx context.Context, b *testing.B, db *DB, n, batch int) {
	for i := n; i < n+batch; i++ {
		stream := fmt.Sprintf("s%03d", i%100)
		c := store.Change{
			Events: []recording.OutboxEvent{{Type: recording.EventFileCompleted, Data: recording.EventData{
				Project: "p1", RecordingID: "rec_" + stream, Domain: "a.com", App: "live", Stream: stream,
				Seq: int64(i), ObjectKey: "record/live/" + stream + "/x.flv", Bytes: 1 << 20,
			}}},
			Deliveries: [][]recording.Delivery{{{CallbackID: "cb_1", OrderKey: "cb_1/a.com/live/" + stream, Seq: int64(i)}}},
		}
		if err := db.Apply(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now()
	ds, err := db.DeliveryClaim(ctx, now, time.Minute, batch)
	if err != nil || len(ds) != batch {
		b.Fatalf("claimed %d of %d: %v", len(ds), batch, err)
	}
	for _, d := range ds {
		a := recording.Attempt{DeliveryID: d.ID, At: now, Status: 204, Latency: time.Millisecond}
		if err := db.DeliveryRecord(ctx, a, recording.DeliveryDelivered, time.Time{}, ""); err != nil {
			b.Fatal(err)
		}
	}
}
