package native

import (
	"net/http"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// Plan tasks: recording windows of a stream that a plan-mode rule records inside.

// taskRequest is the body of POST /plan-tasks.
type taskRequest struct {
	Domain    string  `json:"domain"`
	App       string  `json:"app"`
	Stream    string  `json:"stream"`
	StartTime *string `json:"start_time"`
	EndTime   *string `json:"end_time"`
}

// createPlanTask stores a window; without start_time it starts now.
func (h *handler) createPlanTask(w http.ResponseWriter, r *http.Request, p service.Principal) {
	var req taskRequest
	if err := readJSON(w, r, &req, false); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := requireStreamKey(req.Domain, req.App, req.Stream); err != nil {
		h.fail(w, r, err)
		return
	}
	t := &recording.PlanTask{Domain: req.Domain, App: req.App, Stream: req.Stream}
	if req.StartTime != nil {
		start, err := requiredTime(req.StartTime, "start_time")
		if err != nil {
			h.fail(w, r, err)
			return
		}
		t.StartTime = start
	}
	end, err := requiredTime(req.EndTime, "end_time")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t.EndTime = end
	if err := h.svc.CreatePlanTask(r.Context(), p, t); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/plan-tasks/"+t.ID)
	writeJSON(w, http.StatusCreated, t)
}

func (h *handler) listPlanTasks(w http.ResponseWriter, r *http.Request, p service.Principal) {
	q := r.URL.Query()
	f := store.TaskFilter{Domain: q.Get("domain"), App: q.Get("app"), Stream: q.Get("stream")}
	var err error
	if f.Offset, f.Limit, err = offsetLimit(q); err != nil {
		h.fail(w, r, err)
		return
	}
	ts, total, err := h.svc.ListPlanTasks(r.Context(), p, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pageOf(ts, total, ""))
}

// deletePlanTask stops a task: it opens no window from now on; its record stays, stopped.
func (h *handler) deletePlanTask(w http.ResponseWriter, r *http.Request, p service.Principal) {
	if err := h.svc.StopPlanTask(r.Context(), p, r.PathValue("id")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
