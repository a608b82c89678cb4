package native

import (
	"net/http"

	"github.com/liverec/liverec/internal/service"
)

// eventRequest is the body of POST /api/v1/streams/{domain}/{app}/{stream}/events.
type eventRequest struct {
	PreS  float64 `json:"pre_s"`
	PostS float64 `json:"post_s"`
	Label string  `json:"label"`
	Merge *bool   `json:"merge"`
}

// createEvent starts an event recording of a live stream: 202 with the recording that holds
// the MP4 once it is stored, after post_s.
func (h *handler) createEvent(w http.ResponseWriter, r *http.Request, p service.Principal) {
	var req eventRequest
	if err := readJSON(w, r, &req, false); err != nil {
		h.fail(w, r, err)
		return
	}
	k := pathStreamKey(r)
	merge := req.Merge == nil || *req.Merge
	v, err := h.svc.CreateEvent(r.Context(), p, service.EventRequest{Domain: k.domain, App: k.app, Stream: k.stream,
		PreS: req.PreS, PostS: req.PostS, Label: req.Label, Merge: merge})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/recordings/"+v.RecordingID)
	writeJSON(w, http.StatusAccepted, v)
}
