package native

import (
	"net/http"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

type callbackKeyRequest struct {
	Dialect recording.Dialect `json:"dialect"`
}

type callbackKeyResponse struct {
	Dialect recording.Dialect `json:"dialect"`
	Key     string            `json:"key"`
}

// createCallbackKey answers a fresh random key in the form the dialect's callbacks take (the
// standard dialect by default), for the caller to put in a callback configuration and in its
// receiver. Nothing is stored or logged: the key exists only in this response.
func (h *handler) createCallbackKey(w http.ResponseWriter, r *http.Request, _ service.Principal) {
	req := callbackKeyRequest{Dialect: recording.DialectStandard}
	if err := readJSON(w, r, &req, true); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.Dialect == "" {
		req.Dialect = recording.DialectStandard
	}
	key, err := service.NewCallbackKey(req.Dialect)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, callbackKeyResponse{Dialect: req.Dialect, Key: key})
}
