package app

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/liverec/liverec/internal/api/native"
)

func (a *App) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", a.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	// Authentication arrives with the management APIs issue; until then the native API acts
	// for the default project.
	rules := native.NewHandler(a.store, func(*http.Request) (string, bool) { return "default", true },
		a.log.With("component", "api"))
	mux.Handle("/api/v1/", rules)
	return mux
}

// ready reports whether the database and every storage endpoint answer (§13).
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
	for name, l := range a.local {
		if _, err := os.Stat(l.Root); err != nil && !os.IsNotExist(err) {
			checks["storage:"+name], ok = err.Error(), false
		} else {
			checks["storage:"+name] = "ok"
		}
	}
	if _, err := os.Stat(a.conf.Storage.Spool); err != nil {
		checks["spool"], ok = err.Error(), false
	} else {
		checks["spool"] = "ok"
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{"ready": ok, "checks": checks})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
