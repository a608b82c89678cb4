package ondemand

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// BenchmarkAsk measures a whole decision against a local server that answers at once, so ns/op
// is the decision's own cost (request, loopback round trip, bounded read, parse) beyond the
// business server's latency. It also reports the p99 of 2,000 sequential asks: the product target
// is ≤ 5 ms p99 beyond the server's latency (§14 style: measured by benchmarks, not timed tests).
func BenchmarkAsk(b *testing.B) {
	const reply = `{"ApiVersion":"1.0","NeedRecord":true,"Interval":{"Mp4":300,"Flv":120,"M3U8":180},"Format":["mp4","flv"]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, reply)
	}))
	b.Cleanup(srv.Close)
	a := &Asker{}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Ask(ctx, srv.URL, req1()); err != nil {
			b.Fatal(err)
		}
	}

	const n = 2000
	lat := make([]time.Duration, n)
	for i := range lat {
		start := time.Now()
		if _, err := a.Ask(ctx, srv.URL, req1()); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(start)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[n*50/100].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[n*99/100].Microseconds()), "p99-µs")
}

// BenchmarkParseReply is the parsing alone, on the seed's sample reply.
func BenchmarkParseReply(b *testing.B) {
	body := []byte(`{"ApiVersion":"1.0","NeedRecord":true,"Interval":{"Mp4":300,"Flv":120,"M3U8":180},"Format":["mp4","flv"]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseBody(body, DefaultMaxBody); err != nil {
			b.Fatal(err)
		}
	}
}
