package native

import (
	"net/http"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// tokenRequest is the optional body of POST /tokens; no ttl_s means the service's default.
type tokenRequest struct {
	TTLS *int64 `json:"ttl_s"`
}

// tokenCreated is the only response that carries the token: only its hash is stored.
type tokenCreated struct {
	ID        string    `json:"id"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// createToken issues a token acting as the caller (same project, same admin flag).
func (h *handler) createToken(w http.ResponseWriter, r *http.Request, p service.Principal) {
	var req tokenRequest
	if err := readJSON(w, r, &req, true); err != nil {
		h.fail(w, r, err)
		return
	}
	var ttl time.Duration
	if req.TTLS != nil {
		// Checked here so the error names this API's field, not the service's.
		if maxS := int64(service.MaxTokenTTL / time.Second); *req.TTLS < 1 || *req.TTLS > maxS {
			h.fail(w, r, invalidArgument("ttl_s", "ttl_s must be an integer from 1 to %d", maxS))
			return
		}
		ttl = time.Duration(*req.TTLS) * time.Second
	}
	token, t, err := h.svc.CreateToken(r.Context(), p, ttl)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, tokenCreated{ID: t.ID, Token: token, ExpiresAt: t.ExpiresAt})
}

type tokenList struct {
	Total  int               `json:"total"`
	Tokens []recording.Token `json:"tokens"`
}

// listTokens lists live tokens: the caller's project's, or for an admin another project's
// (?project=) or every project's (?project=*).
func (h *handler) listTokens(w http.ResponseWriter, r *http.Request, p service.Principal) {
	ts, err := h.svc.ListTokens(r.Context(), p, r.URL.Query().Get("project"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenList{Total: len(ts), Tokens: ts})
}

func (h *handler) deleteToken(w http.ResponseWriter, r *http.Request, p service.Principal) {
	if err := h.svc.DeleteToken(r.Context(), p, r.URL.Query().Get("project"), r.PathValue("id")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
