package native

import (
	"net/http"

	"github.com/liverec/liverec/internal/retention"
	"github.com/liverec/liverec/internal/service"
)

// retentionPreview is GET /api/v1/retention/preview: the files the next pass would delete.
type retentionPreview struct {
	Files []retention.Due `json:"files"`
}

// lockRecording locks a recording against retention and the disk policy.
func (h *handler) lockRecording(w http.ResponseWriter, r *http.Request, p service.Principal) {
	h.setLock(w, r, p, true)
}

// unlockRecording lifts the lock.
func (h *handler) unlockRecording(w http.ResponseWriter, r *http.Request, p service.Principal) {
	h.setLock(w, r, p, false)
}

func (h *handler) setLock(w http.ResponseWriter, r *http.Request, p service.Principal, locked bool) {
	rec, err := h.svc.LockRecording(r.Context(), p, r.PathValue("id"), locked)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (h *handler) retentionPreview(w http.ResponseWriter, r *http.Request, p service.Principal) {
	due, err := h.svc.RetentionPreview(r.Context(), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, retentionPreview{Files: due})
}
