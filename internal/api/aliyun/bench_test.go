package aliyun

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkDescribe measures signed DescribeLiveRecordConfig requests through the handler
// over HTTP (signature check, nonce write, domain check, a page of 10 rules), sequentially and
// from parallel clients. Each request is signed afresh with a new nonce, as the SDK does.
func BenchmarkDescribe(b *testing.B) {
	e := newEnv(b)
	for i := range 10 {
		e.do(call(keyP1, "AddLiveAppRecordConfig", "DomainName", "a.com", "AppName", fmt.Sprintf("app%d", i),
			"OssEndpoint", "x", "OssBucket", "b", "RecordFormat.1.Format", "flv", "RecordFormat.2.Format", "m3u8")).ok(b)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	// describe reports with Error, not Fatal: RunParallel's goroutines may not call FailNow.
	describe := func(b *testing.B) bool {
		v := call(keyP1, "DescribeLiveRecordConfig", "DomainName", "a.com").signed()
		req, err := http.NewRequestWithContext(b.Context(), http.MethodPost, e.url+"/?"+v.Encode(), strings.NewReader(""))
		if err != nil {
			b.Error(err)
			return false
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("status %d", resp.StatusCode)
			return false
		}
		return true
	}
	b.Run("Sequential", func(b *testing.B) {
		for b.Loop() {
			if !describe(b) {
				return
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
	b.Run("Parallel", func(b *testing.B) {
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !describe(b) {
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
}
