package native

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

// ConsoleService is what the console's helper routes need beyond the resources: test events
// and object-name previews.
type ConsoleService interface {
	SendTestEvent(ctx context.Context, p service.Principal, id string, t recording.Event) (*service.TestEvent, error)
	PreviewObjects(ctx context.Context, p service.Principal, r *recording.Rule, stream service.StreamKey) *service.Preview
}

// whoamiResponse describes the caller's credentials (GET /api/v1/whoami).
type whoamiResponse struct {
	// KeyID is the token's id, or the access key's when the caller signed with a key.
	KeyID       string `json:"key_id"`
	AccessKeyID string `json:"access_key_id"`
	Project     string `json:"project"`
	Admin       bool   `json:"admin"`
	// ExpiresAt is a token's expiry; absent for an access key.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func (h *handler) whoami(w http.ResponseWriter, _ *http.Request, p service.Principal) {
	resp := whoamiResponse{KeyID: p.KeyID, AccessKeyID: p.AccessKeyID, Project: p.Project, Admin: p.Admin}
	if !p.Expires.IsZero() {
		exp := p.Expires.UTC()
		resp.ExpiresAt = &exp
	}
	writeJSON(w, http.StatusOK, resp)
}

type testEventRequest struct {
	// Event is an internal event type; empty: the configuration's first subscribed one.
	Event recording.Event `json:"event"`
}

type testEventResponse struct {
	EventID    string          `json:"event_id"`
	DeliveryID string          `json:"delivery_id"`
	Event      recording.Event `json:"event"`
}

// testCallback sends a sample event to one configuration. 202: the delivery is on its way and
// shows in the delivery log like any other.
func (h *handler) testCallback(w http.ResponseWriter, r *http.Request, p service.Principal) {
	var req testEventRequest
	if err := readJSON(w, r, &req, true); err != nil {
		h.fail(w, r, err)
		return
	}
	te, err := h.svc.SendTestEvent(r.Context(), p, r.PathValue("id"), req.Event)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/deliveries/"+te.Delivery.ID)
	writeJSON(w, http.StatusAccepted, testEventResponse{EventID: te.Event.ID, DeliveryID: te.Delivery.ID, Event: te.Event.Type})
}

// previewRequest is a rule as POST /api/v1/rules takes it, plus the stream to name objects
// for. "stream" is the rule's stream when a string; as an object it is taken for "sample",
// which is the documented name.
type previewRequest struct {
	ruleRequest
	Stream json.RawMessage    `json:"stream"`
	Sample *service.StreamKey `json:"sample"`
}

// previewRule answers the object keys a recording of the posted rule would get. The rule is
// not validated (the console calls this as the user types): only a body that cannot be read as
// a rule is refused.
func (h *handler) previewRule(w http.ResponseWriter, r *http.Request, p service.Principal) {
	var req previewRequest
	if err := readJSON(w, r, &req, false); err != nil {
		h.fail(w, r, err)
		return
	}
	var sample service.StreamKey
	if req.Sample != nil {
		sample = *req.Sample
	}
	if len(req.Stream) > 0 && req.Stream[0] == '{' {
		if err := decodeStrict(req.Stream, &sample, "stream."); err != nil {
			h.fail(w, r, err)
			return
		}
	} else if len(req.Stream) > 0 && string(req.Stream) != "null" {
		if err := decodeStrict(req.Stream, &req.ruleRequest.Stream, "stream"); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	rule, err := req.rule()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h.svc.PreviewObjects(r.Context(), p, rule, sample))
}
