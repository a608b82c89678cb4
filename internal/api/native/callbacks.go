package native

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// callbackRequest is the body of POST and PUT: the writable fields of a callback
// configuration. Key is write-only; responses only say has_key.
type callbackRequest struct {
	Dialect          recording.Dialect `json:"dialect"`
	Domain           string            `json:"domain"`
	App              string            `json:"app"`
	URL              string            `json:"url"`
	OnDemandURL      string            `json:"on_demand_url"`
	Events           []recording.Event `json:"events"`
	NeedStatusNotify bool              `json:"need_status_notify"`
	SignType         string            `json:"sign_type"`
	Key              string            `json:"key"`
	// Enabled is a pointer so PUT can tell "re-enable" from "leave as is".
	Enabled *bool `json:"enabled"`
}

type callbackList struct {
	Total     int                        `json:"total"`
	Callbacks []recording.CallbackConfig `json:"callbacks"`
}

const callbackConflict = "a callback configuration of this dialect, domain and app already exists"

// disabledByAPI is the reason shown for a configuration an operator disabled.
const disabledByAPI = "disabled through the API"

// internalEvents are the events a configuration may subscribe to.
func internalEvents() []recording.Event {
	return []recording.Event{
		recording.EventRecordStarted, recording.EventRecordPaused, recording.EventRecordResumed,
		recording.EventFileStarted, recording.EventFileCompleted, recording.EventRecordOver,
		recording.EventRecordFailed, recording.EventOnDemandFailed, recording.EventFileDeleted,
	}
}

func (h *handler) listCallbacks(w http.ResponseWriter, r *http.Request, p service.Principal) {
	q := r.URL.Query()
	f := store.CallbackFilter{Dialect: recording.Dialect(q.Get("dialect")), Domain: q.Get("domain"), App: q.Get("app")}
	var err error
	if f.Offset, f.Limit, f.OrderDesc, err = paging(q); err != nil {
		h.fail(w, r, err)
		return
	}
	cs, total, err := h.svc.ListCallbacks(r.Context(), p, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if cs == nil {
		cs = []recording.CallbackConfig{}
	}
	writeJSON(w, http.StatusOK, callbackList{Total: total, Callbacks: cs})
}

func (h *handler) createCallback(w http.ResponseWriter, r *http.Request, p service.Principal) {
	req, err := decodeCallback(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if req.Enabled != nil && !*req.Enabled {
		// The service enables every new configuration; refusing beats silently ignoring.
		h.fail(w, r, invalidArgument("enabled", "a new configuration is enabled; disable it with PUT"))
		return
	}
	c := req.config()
	if err := h.svc.CreateCallback(r.Context(), p, c); err != nil {
		h.fail(w, r, conflictAs(err, callbackConflict))
		return
	}
	w.Header().Set("Location", "/api/v1/callbacks/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
}

func (h *handler) getCallback(w http.ResponseWriter, r *http.Request, p service.Principal) {
	c, err := h.svc.GetCallback(r.Context(), p, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// updateCallback replaces a configuration. Fields left out get their defaults, as on
// creation, except two that are not the writer's to forget: an empty key keeps the stored key,
// and a left-out enabled keeps the current state (a 410 disable stays visible until an
// operator sends enabled: true).
func (h *handler) updateCallback(w http.ResponseWriter, r *http.Request, p service.Principal) {
	req, err := decodeCallback(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	old, err := h.svc.GetCallback(r.Context(), p, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c := req.config()
	c.ID, c.CreatedAt = old.ID, old.CreatedAt
	c.Enabled, c.DisabledReason = old.Enabled, old.DisabledReason
	switch {
	case req.Enabled == nil:
	case *req.Enabled:
		c.Enabled, c.DisabledReason = true, ""
	case old.Enabled:
		c.Enabled, c.DisabledReason = false, disabledByAPI
	}
	if err := h.svc.UpdateCallback(r.Context(), p, c); err != nil {
		h.fail(w, r, conflictAs(err, callbackConflict))
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (h *handler) deleteCallback(w http.ResponseWriter, r *http.Request, p service.Principal) {
	if err := h.svc.DeleteCallback(r.Context(), p, r.PathValue("id")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// decodeCallback reads and checks what the service leaves to the façade: the event names.
func decodeCallback(w http.ResponseWriter, r *http.Request) (*callbackRequest, error) {
	var req callbackRequest
	if err := readJSON(w, r, &req, false); err != nil {
		return nil, err
	}
	known := internalEvents()
	for i, e := range req.Events {
		field := fmt.Sprintf("events[%d]", i)
		if !slices.Contains(known, e) {
			return nil, invalidArgument(field, "%s must be one of %v", field, known)
		}
		if slices.Contains(req.Events[:i], e) {
			return nil, invalidArgument(field, "%s repeats %s", field, e)
		}
	}
	return &req, nil
}

func (req *callbackRequest) config() *recording.CallbackConfig {
	return &recording.CallbackConfig{
		Dialect:          req.Dialect,
		Domain:           req.Domain,
		App:              req.App,
		URL:              req.URL,
		OnDemandURL:      req.OnDemandURL,
		Events:           req.Events,
		NeedStatusNotify: req.NeedStatusNotify,
		SignType:         req.SignType,
		Key:              req.Key,
	}
}
