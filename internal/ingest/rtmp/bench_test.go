package rtmp

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/testutil"
)

// BenchmarkIngest measures ingest per unit: a publisher replays the reference stream's
// messages over loopback as fast as it can into a discarding sink. One op is one unit
// (video picture or audio frame); the client's cost is only writing pre-encoded bytes.
func BenchmarkIngest(b *testing.B) {
	tracks, units := testutil.LoadFLV(b, testutil.RefStream(b, b.TempDir(), testutil.RefOptions{Seconds: 4}))
	prefix, body := encodeSession(b, tracks, units)

	var mu sync.Mutex
	var got int64
	ended := make(chan struct{})
	hub := &stream.Hub{Open: func(*stream.Publication) stream.Sink {
		return discardSink{units: &got, mu: &mu, ended: ended}
	}}
	srv, err := NewServer(Config{Addr: "127.0.0.1:0", Hub: hub, ReadBatch: -1, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		require.NoError(b, <-done)
	}()

	rounds := b.N/len(units) + 1
	nc, err := net.Dial("tcp", srv.BoundAddr().String())
	require.NoError(b, err)
	defer nc.Close()
	drained := make(chan struct{})
	go func() { // unread input would make the close a reset that loses data in flight
		defer close(drained)
		_, _ = io.Copy(io.Discard, nc)
	}()
	b.ReportAllocs()
	b.SetBytes(int64(len(body) / len(units)))
	b.ResetTimer()
	start := time.Now()
	_, err = nc.Write(append(plainHandshake(), prefix...))
	require.NoError(b, err)
	for range rounds {
		if _, err := nc.Write(body); err != nil {
			b.Fatal(err)
		}
	}
	require.NoError(b, nc.(*net.TCPConn).CloseWrite())
	<-ended
	<-drained
	elapsed := time.Since(start)
	b.StopTimer()

	mu.Lock()
	n := got
	mu.Unlock()
	require.GreaterOrEqual(b, n, int64((rounds-1)*len(units)))
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/unit")
}
