package huawei

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// Huawei callback event types and the internal events they subscribe to.
var eventOfType = map[string]recording.Event{
	"RECORD_START":          recording.EventRecordStarted,
	"RECORD_NEW_FILE_START": recording.EventFileStarted,
	"RECORD_FILE_COMPLETE":  recording.EventFileCompleted,
	"RECORD_OVER":           recording.EventRecordOver,
	"RECORD_FAILED":         recording.EventRecordFailed,
}

var typeOfEvent = func() map[recording.Event]string {
	m := make(map[recording.Event]string, len(eventOfType))
	for t, e := range eventOfType {
		m[e] = t
	}
	return m
}()

// defaultEvents is Huawei's default subscription, fresh each time so no caller shares it.
func defaultEvents() []recording.Event { return []recording.Event{recording.EventFileCompleted} }

// callbackBody is RecordCallbackConfigRequest; id, create_time and update_time are accepted and
// ignored as in ruleBody.
type callbackBody struct {
	PublishDomain           string          `json:"publish_domain"`
	App                     string          `json:"app"`
	NotifyCallbackURL       *string         `json:"notify_callback_url"`
	NotifyEventSubscription []string        `json:"notify_event_subscription"`
	SignType                *string         `json:"sign_type"`
	Key                     *string         `json:"key"`
	ID                      json.RawMessage `json:"id"`
	CreateTime              json.RawMessage `json:"create_time"`
	UpdateTime              json.RawMessage `json:"update_time"`
}

// callbackOut is RecordCallbackConfig: the key is write-only and never returned.
type callbackOut struct {
	ID                      string   `json:"id"`
	PublishDomain           string   `json:"publish_domain"`
	App                     string   `json:"app"`
	NotifyCallbackURL       string   `json:"notify_callback_url"`
	NotifyEventSubscription []string `json:"notify_event_subscription"`
	SignType                string   `json:"sign_type"`
	CreateTime              string   `json:"create_time"`
	UpdateTime              string   `json:"update_time"`
}

type callbackList struct {
	Total          int           `json:"total"`
	CallbackConfig []callbackOut `json:"callback_config"`
}

func (b *callbackBody) toConfig() (*recording.CallbackConfig, error) {
	if b.PublishDomain == "" {
		return nil, badParameter("publish_domain", "required")
	}
	if b.App == "" {
		return nil, badParameter("app", "required")
	}
	c := &recording.CallbackConfig{Dialect: recording.DialectHuawei, Domain: b.PublishDomain, App: b.App,
		SignType: recording.SignHMACSHA256, Events: defaultEvents()}
	if b.NotifyCallbackURL != nil {
		// The cloud's rule: a callback URL carries no parameters.
		if u, err := url.Parse(*b.NotifyCallbackURL); err == nil && (u.RawQuery != "" || u.ForceQuery || u.Fragment != "") {
			return nil, badParameter("notify_callback_url", "must not contain parameters")
		}
		c.URL = *b.NotifyCallbackURL
	}
	if len(b.NotifyEventSubscription) > 0 {
		c.Events = nil
		for _, t := range b.NotifyEventSubscription {
			e, ok := eventOfType[t]
			if !ok {
				return nil, badParameter("notify_event_subscription",
					"must be RECORD_NEW_FILE_START, RECORD_FILE_COMPLETE, RECORD_OVER, RECORD_FAILED or RECORD_START")
			}
			c.Events = append(c.Events, e)
		}
	}
	if b.SignType != nil && *b.SignType != "" {
		c.SignType = *b.SignType
	}
	if b.Key != nil {
		c.Key = *b.Key
	}
	return c, nil
}

func callbackOutOf(c *recording.CallbackConfig) callbackOut {
	out := callbackOut{ID: c.ID, PublishDomain: c.Domain, App: c.App, NotifyCallbackURL: c.URL,
		SignType: c.SignType, NotifyEventSubscription: []string{},
		CreateTime: formatTime(c.CreatedAt), UpdateTime: formatTime(c.UpdatedAt)}
	if out.SignType == "" {
		out.SignType = recording.SignHMACSHA256
	}
	events := c.Events
	if len(events) == 0 {
		events = defaultEvents()
	}
	for _, e := range events {
		// Events Huawei cannot name (paused, resumed…) are left out.
		if t, ok := typeOfEvent[e]; ok {
			out.NotifyEventSubscription = append(out.NotifyEventSubscription, t)
		}
	}
	return out
}

// callbackField maps the service's validation fields to Huawei's parameters.
func callbackField(field string) string {
	switch field {
	case "domain":
		return "publish_domain"
	case "url":
		return "notify_callback_url"
	case "events":
		return "notify_event_subscription"
	}
	return field
}

func decodeCallback(r *http.Request) (*recording.CallbackConfig, error) {
	var b callbackBody
	if err := decodeBody(r, &b); err != nil {
		return nil, err
	}
	return b.toConfig()
}

func (h *handler) createCallback(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	c, err := decodeCallback(r)
	if err != nil {
		return err
	}
	if err := h.svc.CreateCallback(r.Context(), p, c); err != nil {
		h.fail(w, r, err, callbackField)
		return nil
	}
	writeJSON(w, http.StatusCreated, callbackOutOf(c))
	return nil
}

func (h *handler) updateCallback(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	c, err := decodeCallback(r)
	if err != nil {
		return err
	}
	c.ID = r.PathValue("id")
	old, err := h.huaweiCallback(r, p, c.ID)
	if err != nil {
		return err
	}
	// Huawei's body has no enabled flag: an update keeps the configuration's state (a 410
	// disable stays until re-enabled through the native API).
	c.Enabled, c.DisabledReason = old.Enabled, old.DisabledReason
	if err := h.svc.UpdateCallback(r.Context(), p, c); err != nil {
		h.fail(w, r, err, callbackField)
		return nil
	}
	writeJSON(w, http.StatusOK, callbackOutOf(c))
	return nil
}

func (h *handler) showCallback(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	c, err := h.huaweiCallback(r, p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, callbackOutOf(c))
	return nil
}

func (h *handler) deleteCallback(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	id := r.PathValue("id")
	if _, err := h.huaweiCallback(r, p, id); err != nil {
		return err
	}
	if err := h.svc.DeleteCallback(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// huaweiCallback returns configuration id of p's project if it is of the Huawei dialect: the
// configurations of other dialects (Alibaba's, native ones) are not this API's to show or change.
func (h *handler) huaweiCallback(r *http.Request, p service.Principal, id string) (*recording.CallbackConfig, error) {
	c, err := h.svc.GetCallback(r.Context(), p, id)
	if err != nil {
		return nil, err
	}
	if c.Dialect != recording.DialectHuawei {
		return nil, errNotFound
	}
	return c, nil
}

func (h *handler) listCallbacks(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	q := r.URL.Query()
	offset, limit, err := paging(q)
	if err != nil {
		return err
	}
	cs, total, err := h.svc.ListCallbacks(r.Context(), p, store.CallbackFilter{Dialect: recording.DialectHuawei,
		Domain: q.Get("publish_domain"), App: q.Get("app"), Offset: offset, Limit: limit})
	if err != nil {
		return err
	}
	out := callbackList{Total: total, CallbackConfig: make([]callbackOut, 0, len(cs))}
	for i := range cs {
		out.CallbackConfig = append(out.CallbackConfig, callbackOutOf(&cs[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// Paging of the lists (B.3): offset ≥ 0, limit 1–100, default 10.
const (
	defaultLimit = 10
	maxLimit     = 100
)

func paging(q url.Values) (offset, limit int, err error) {
	offset, limit = 0, defaultLimit
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, badParameter("offset", "must be an integer of at least 0")
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxLimit {
			return 0, 0, badParameter("limit", "must be an integer from 1 to 100")
		}
	}
	return offset, limit, nil
}
