package huawei

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkShow measures signed GET /record/rules/{id} through the whole handler: signature
// check (key lookup and secret unsealing included), SQLite read and JSON answer.
func BenchmarkShow(b *testing.B) {
	e := newEnv(b)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, e.build(req{method: http.MethodPost, path: rulesPath(projectA), body: fullRule}))
	require.Equal(b, http.StatusCreated, w.Code, w.Body.String())
	var created ruleOut
	require.NoError(b, json.Unmarshal(w.Body.Bytes(), &created))
	signed := e.build(req{method: http.MethodGet, path: rulesPath(projectA) + "/" + created.ID})

	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodGet, signed.URL.String(), nil)
		r.Header = signed.Header
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
