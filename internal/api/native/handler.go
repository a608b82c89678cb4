// Package native is liverec's own JSON API under /api/v1/ (§9), the one the console uses.
package native

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// RuleStore is what the rules API needs from the store.
type RuleStore interface {
	RuleInsert(ctx context.Context, r *recording.Rule) error
	RuleUpdate(ctx context.Context, r *recording.Rule) error
	RuleDelete(ctx context.Context, project, id string) error
	RuleGet(ctx context.Context, project, id string) (*recording.Rule, error)
	RuleList(ctx context.Context, f store.RuleFilter) ([]recording.Rule, int, error)
}

// maxBodyBytes caps request bodies (§11).
const maxBodyBytes = 1 << 20

type handler struct {
	rules   RuleStore
	project func(*http.Request) (string, bool)
	log     *slog.Logger
}

// NewHandler returns the native API. project resolves the caller's project from the request
// (authentication, §11); when it says no the request is answered 401. A nil logger discards.
func NewHandler(rules RuleStore, project func(*http.Request) (string, bool), logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{rules: rules, project: project, log: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/rules", h.authed(h.listRules))
	mux.HandleFunc("POST /api/v1/rules", h.authed(h.createRule))
	mux.HandleFunc("GET /api/v1/rules/{id}", h.authed(h.getRule))
	mux.HandleFunc("PUT /api/v1/rules/{id}", h.authed(h.updateRule))
	mux.HandleFunc("DELETE /api/v1/rules/{id}", h.authed(h.deleteRule))
	// JSON errors instead of the mux's plain-text ones.
	mux.HandleFunc("/api/v1/rules", methodNotAllowed("GET, HEAD, POST"))
	mux.HandleFunc("/api/v1/rules/{id}", methodNotAllowed("GET, HEAD, PUT, DELETE"))
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, apiError{Code: codeNotFound, Message: "no such endpoint"})
	})
	return mux
}

// authed resolves the project before calling next.
func (h *handler) authed(next func(w http.ResponseWriter, r *http.Request, project string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		project, ok := h.project(r)
		if !ok {
			writeError(w, http.StatusUnauthorized, apiError{Code: codeUnauthenticated, Message: "authentication required"})
			return
		}
		next(w, r, project)
	}
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, apiError{Code: codeMethodNotAllowed, Message: r.Method + " is not allowed here"})
	}
}
