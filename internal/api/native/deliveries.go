package native

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

type deliveryList struct {
	Total      int                  `json:"total"`
	Deliveries []recording.Delivery `json:"deliveries"`
}

type attemptList struct {
	Attempts []recording.Attempt `json:"attempts"`
}

func (h *handler) listDeliveries(w http.ResponseWriter, r *http.Request, p service.Principal) {
	f, err := deliveryFilter(r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ds, total, err := h.svc.ListDeliveries(r.Context(), p, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if ds == nil {
		ds = []recording.Delivery{}
	}
	writeJSON(w, http.StatusOK, deliveryList{Total: total, Deliveries: ds})
}

func (h *handler) getDelivery(w http.ResponseWriter, r *http.Request, p service.Principal) {
	d, err := h.svc.GetDelivery(r.Context(), p, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (h *handler) deliveryAttempts(w http.ResponseWriter, r *http.Request, p service.Principal) {
	as, err := h.svc.DeliveryAttempts(r.Context(), p, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if as == nil {
		as = []recording.Attempt{}
	}
	writeJSON(w, http.StatusOK, attemptList{Attempts: as})
}

// redeliver makes a failed delivery pending again; the notifier sends it shortly (202).
func (h *handler) redeliver(w http.ResponseWriter, r *http.Request, p service.Principal) {
	if err := h.svc.Redeliver(r.Context(), p, r.PathValue("id")); err != nil {
		h.fail(w, r, conflictAs(err, "only a failed delivery can be redelivered"))
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// deliveryFilter reads GET /deliveries' query; the service sets the project.
func deliveryFilter(q url.Values) (store.DeliveryFilter, error) {
	f := store.DeliveryFilter{
		State:       recording.DeliveryState(q.Get("state")),
		CallbackID:  q.Get("callback_id"),
		RecordingID: q.Get("recording_id"),
		Domain:      q.Get("domain"),
		App:         q.Get("app"),
		Stream:      q.Get("stream"),
	}
	states := []recording.DeliveryState{recording.DeliveryPending, recording.DeliveryDelivered, recording.DeliveryFailed}
	if f.State != "" && !slices.Contains(states, f.State) {
		return f, invalidArgument("state", "state must be one of %v", states)
	}
	var err error
	if f.Since, err = queryTime(q, "since"); err != nil {
		return f, err
	}
	if f.Until, err = queryTime(q, "until"); err != nil {
		return f, err
	}
	f.Offset, f.Limit, f.OrderDesc, err = paging(q)
	return f, err
}

// queryTime parses an optional RFC 3339 query parameter.
func queryTime(q url.Values, name string) (time.Time, error) {
	if !q.Has(name) {
		return time.Time{}, nil
	}
	s := q.Get(name)
	t, err := timeParam(&s, name)
	if err != nil {
		return time.Time{}, err
	}
	return *t, nil
}
