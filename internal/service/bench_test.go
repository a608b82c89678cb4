package service_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// BenchmarkCreateIndex12h builds the index of a 12 h range of one stream recorded in 2 s
// slices (21,600 of them, in 12 one-hour recordings) on SQLite: the slice query, the playlist
// and its write (to memory here). The target is 1 s per index.
func BenchmarkCreateIndex12h(b *testing.B) {
	s, _, c := newCatalogService(b)
	ctx := b.Context()
	t0 := c.t.Add(-13 * time.Hour)
	const perHour = 1800
	for h := range 12 {
		start := t0.Add(time.Duration(h) * time.Hour)
		end := start.Add(time.Hour)
		rec := &recording.Recording{Project: alice.Project, Domain: "a.com", App: "live", Stream: "s1",
			State: recording.RecordingOver, Mode: recording.ModeAuto, StartedAt: start, EndedAt: &end}
		require.NoError(b, s.Store.RecordingInsert(ctx, rec))
		for i := range perHour {
			sl := recording.Slice{RecordingID: rec.ID, Seq: i, Endpoint: "local", Bucket: "b",
				ObjectKey: fmt.Sprintf("Record/a.com/live/s1/%s/%d.ts", rec.ID, i),
				StartedAt: start.Add(time.Duration(i) * 2 * time.Second), Duration: 2 * time.Second, Bytes: 500_000}
			require.NoError(b, s.Catalog.SliceInsert(ctx, &sl))
		}
	}
	req := service.IndexRequest{Domain: "a.com", App: "live", Stream: "s1", From: t0, To: t0.Add(12 * time.Hour),
		MaxSpan: 12 * time.Hour}
	b.ResetTimer()
	for b.Loop() {
		x, err := s.CreateIndex(ctx, alice, req)
		if err != nil {
			b.Fatal(err)
		}
		if x.Duration != 12*time.Hour {
			b.Fatalf("index covers %s", x.Duration)
		}
	}
}
