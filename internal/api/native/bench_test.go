package native

import (
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/liverec/liverec/internal/secret"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store/sqlite"
)

// BenchmarkListRules measures authenticated rule listings (the native counterpart of the cloud
// façades' signed Describe) through the whole handler over loopback HTTP.
func BenchmarkListRules(b *testing.B) {
	db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "liverec.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	key := make([]byte, secret.KeySize)
	rand.Read(key)
	box, _ := secret.New(key)
	svc := &service.Service{Store: db, Sealer: box}
	p := service.Principal{Project: "bench", Admin: true}
	k, sec, err := svc.CreateAccessKey(b.Context(), p, "bench", true, "")
	if err != nil {
		b.Fatal(err)
	}
	token, _, err := svc.CreateToken(b.Context(), service.PrincipalOf(k), time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(NewHandler(svc, Config{Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	body := `{"domain":"bench.example","app":"live","formats":[{"format":"flv"}]}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/rules", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatalf("create rule: %v", err)
	}
	resp.Body.Close() // an unread body keeps the connection busy past srv.Close
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("create rule: %s", resp.Status)
	}
	for name, auth := range map[string]func(*http.Request){
		"bearer": func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) },
		"basic":  func(r *http.Request) { r.SetBasicAuth(k.ID, sec) },
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/rules?domain=bench.example", nil)
				auth(req)
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
