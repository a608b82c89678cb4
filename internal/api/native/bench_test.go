package native

import (
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/secret"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store/sqldb"
	"github.com/liverec/liverec/internal/store/sqldb/sqldbtest"
)

// BenchmarkListRules measures authenticated rule listings (the native counterpart of the cloud
// façades' signed Describe) through the whole handler over loopback HTTP, on each of
// benchDatabases.
func BenchmarkListRules(b *testing.B) {
	for _, database := range sqldbtest.Databases() {
		b.Run(database.Name, func(b *testing.B) { benchListRules(b, database.Open(b)) })
	}
}

func benchListRules(b *testing.B, db *sqldb.DB) {
	key := make([]byte, secret.KeySize)
	rand.Read(key)
	box, err := secret.New(key)
	require.NoError(b, err)
	svc := &service.Service{Store: db, Sealer: box}
	p := service.Principal{Project: "bench", Admin: true}
	k, sec, err := svc.CreateAccessKey(b.Context(), p, "bench", true, "")
	require.NoError(b, err)
	token, _, err := svc.CreateToken(b.Context(), service.PrincipalOf(k), time.Hour)
	require.NoError(b, err)
	srv := httptest.NewServer(NewHandler(svc, Config{Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	body := `{"domain":"bench.example","app":"live","formats":[{"format":"flv"}]}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/rules", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b, err, "create rule")
	resp.Body.Close() // an unread body keeps the connection busy past srv.Close
	require.Equal(b, http.StatusCreated, resp.StatusCode, "create rule")
	for _, auth := range []struct {
		name string
		set  func(*http.Request)
	}{
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }},
		{"basic", func(r *http.Request) { r.SetBasicAuth(k.ID, sec) }},
	} {
		b.Run(auth.name, func(b *testing.B) {
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/rules?domain=bench.example", nil)
				auth.set(req)
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("list rules: %v %v", err, resp)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
