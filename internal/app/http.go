package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/liverec/liverec/internal/api/aliyun"
	"github.com/liverec/liverec/internal/api/huawei"
	"github.com/liverec/liverec/internal/api/native"
	"github.com/liverec/liverec/internal/conf"
	"github.com/liverec/liverec/internal/console"
)

func (a *App) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", a.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	mux.Handle(peerPrefix, a.peerHandler())
	mux.Handle("/api/v1/", native.NewHandler(a.svc, native.Config{Logger: a.log.With("component", "api"),
		Throttle: a.limits.throttle}))
	mux.Handle("/v1/", huawei.NewHandler(a.svc, huawei.Config{Logger: a.log.With("component", "api-huawei"),
		MaxSkew: a.conf.API.SignatureSkew.D(), Throttle: a.limits.throttle}))
	ali := aliyun.NewHandler(a.svc, aliyun.Config{Logger: a.log.With("component", "api-aliyun"),
		MaxSkew: a.conf.API.SignatureSkew.D(), Throttle: a.limits.throttle})
	mux.Handle("/{$}", alibabaOnly(ali))
	con := console.Handler(console.Config{Logger: a.log.With("component", "console"),
		ExtraOrigins: a.consoleOrigins(a.conf.Storage)})
	mux.Handle(console.Prefix, con)
	mux.Handle("/console", con) // redirects to /console/
	a.playbackRoutes(mux)
	return mux
}

// consoleOrigins are the origins the console's players read recordings from besides its own:
// each S3 endpoint's url and public_url (with their subdomains in virtual-host style, where
// the bucket leads the host name) and download_base_url, where links to local objects point.
func (a *App) consoleOrigins(s conf.Storage) []string {
	var out []string
	add := func(raw string, subdomains bool) {
		if raw == "" {
			return
		}
		o, err := console.OriginsOf(raw, subdomains)
		if err != nil {
			a.log.Warn("console: storage URL left out of the CSP", "err", err)
			return
		}
		out = append(out, o...)
	}
	for _, e := range s.Endpoints {
		if e.Type == "s3" {
			add(e.URL, !e.PathStyle)
			add(e.PublicURL, !e.PathStyle)
		}
	}
	add(s.DownloadBaseURL, false)
	return out
}

// maxRPCForm caps an Alibaba RPC form body read to find its Action.
const maxRPCForm = 1 << 20

// alibabaOnly sends requests for "/" that carry an Action parameter (the Alibaba SDK puts every
// parameter in the query string of a POST) to the Alibaba façade. A GET without one is a
// browser opening the server's address: it goes to the console.
func alibabaOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Action") == "" {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, console.Prefix, http.StatusFound)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxRPCForm)
			if err := r.ParseForm(); err != nil || r.Form.Get("Action") == "" {
				http.NotFound(w, r)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// ready reports whether the database and every storage endpoint answer, with the disk
// policy's detail of each volume (a warning there does not fail readiness).
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{}
	ok := true
	if err := a.store.Ping(ctx); err != nil {
		checks["database"], ok = err.Error(), false
	} else {
		checks["database"] = "ok"
	}
	for name, st := range a.stores {
		if err := storageReachable(ctx, st); err != nil {
			checks["storage:"+name], ok = err.Error(), false
		} else {
			checks["storage:"+name] = "ok"
		}
	}
	if err := probeWrite(a.conf.Storage.Spool); err != nil {
		checks["spool"], ok = err.Error(), false
	} else {
		checks["spool"] = "ok"
	}
	// The database answered; it must also take writes: none kept waiting, the reserve held.
	if why := a.events.Health(); why != "" {
		checks["database_writes"], ok = why, false
	} else {
		checks["database_writes"] = "ok"
	}
	a.diskChecks(checks)
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{"ready": ok, "checks": checks})
}

// probeSize is what the spool's write check writes: a page, as a recorder's flush would need.
const probeSize = 4096

// probeWrite checks that dir takes a small write (a full disk refuses it).
func probeWrite(dir string) error {
	f, err := os.CreateTemp(dir, ".readyz-*")
	if err != nil {
		return fmt.Errorf("spool not writable: %w", err)
	}
	_, err = f.Write(make([]byte, probeSize))
	err = errors.Join(err, f.Close(), os.Remove(f.Name()))
	if err != nil {
		return fmt.Errorf("spool not writable: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
