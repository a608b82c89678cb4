package huawei

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// taskBody is ScheduleRecordTasksReq. Times are Unix seconds; a missing start_time starts the
// task now. template_id names the recording rule in the cloud; liverec records a stream in a
// task's window by its plan-mode rule, so it is accepted and not kept.
type taskBody struct {
	Domain     string  `json:"domain"`
	App        string  `json:"app"`
	Stream     string  `json:"stream"`
	StartTime  *int64  `json:"start_time"`
	EndTime    *int64  `json:"end_time"`
	TemplateID *string `json:"template_id"`
}

// taskOut is ScheduleRecordTasks.
type taskOut struct {
	Domain     string `json:"domain"`
	App        string `json:"app"`
	Stream     string `json:"stream"`
	StartTime  int64  `json:"start_time"`
	EndTime    int64  `json:"end_time"`
	TemplateID string `json:"template_id"`
	// StopTime is 0 while the task stands, when it was deleted, or its end once that passed.
	StopTime int64  `json:"stop_time"`
	TaskID   string `json:"task_id"`
}

type taskList struct {
	Total  int       `json:"total"`
	Offset int       `json:"offset"`
	Limit  int       `json:"limit"`
	Tasks  []taskOut `json:"tasks"`
}

// maxTaskQuery bounds the range of a task list query (ListScheduleRecordTasksRequest).
const maxTaskQuery = 7 * 24 * time.Hour

// createScheduleTask is POST /schedule/record/tasks (CreateScheduleRecordTasks): a window in
// which the stream's plan-mode rule records (201 with its task_id).
func (h *handler) createScheduleTask(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	var b taskBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	for _, f := range []struct{ name, value string }{{"domain", b.Domain}, {"app", b.App}, {"stream", b.Stream}} {
		if strings.TrimSpace(f.value) == "" || f.value == recording.Wildcard {
			return badParameter(f.name, "one stream must be named (no \"*\")")
		}
	}
	if b.EndTime == nil {
		return badParameter("end_time", "is required")
	}
	t := recording.PlanTask{Domain: b.Domain, App: b.App, Stream: b.Stream, EndTime: time.Unix(*b.EndTime, 0).UTC()}
	if b.StartTime != nil {
		t.StartTime = time.Unix(*b.StartTime, 0).UTC()
	}
	if err := h.svc.CreatePlanTask(r.Context(), p, &t); err != nil {
		return err // the service names start_time and end_time as the request does
	}
	writeJSON(w, http.StatusCreated, struct {
		TaskID string `json:"task_id"`
	}{t.ID})
	return nil
}

// listScheduleTasks is GET /schedule/record/tasks (ListScheduleRecordTasks): the project's
// tasks whose start and end lie in [start_time, end_time] (a week at most; start_time
// defaults to a week before end_time), of a domain (app, stream) or one task_id.
func (h *handler) listScheduleTasks(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	q := r.URL.Query()
	offset, limit, err := paging(q)
	if err != nil {
		return err
	}
	end, ok, err := unixParam(q, "end_time")
	switch {
	case err != nil:
		return err
	case !ok:
		return badParameter("end_time", "is required")
	}
	start, ok, err := unixParam(q, "start_time")
	switch {
	case err != nil:
		return err
	case !ok:
		start = end.Add(-maxTaskQuery)
	case !end.After(start):
		return badParameter("end_time", "must be after start_time")
	case end.Sub(start) > maxTaskQuery:
		return badParameter("end_time", "must be at most 7 days after start_time")
	}
	// app counts only with a domain, stream only with both (as the cloud documents).
	f := store.TaskFilter{Domain: strings.TrimSpace(q.Get("domain"))}
	if f.Domain != "" {
		f.App = q.Get("app")
		if f.App != "" {
			f.Stream = q.Get("stream")
		}
	}
	// The store selects by stream key; the window and the id are selected here.
	tasks, _, err := h.svc.ListPlanTasks(r.Context(), p, f)
	if err != nil {
		return err
	}
	id := q.Get("task_id")
	kept := tasks[:0]
	for _, t := range tasks {
		if (id == "" || t.ID == id) && !t.StartTime.Before(start) && !t.EndTime.After(end) {
			kept = append(kept, t)
		}
	}
	out := taskList{Total: len(kept), Offset: offset, Limit: limit, Tasks: []taskOut{}}
	now := h.now()
	for _, t := range kept[min(offset, len(kept)):min(offset+limit, len(kept))] {
		out.Tasks = append(out.Tasks, taskOutOf(&t, now))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func taskOutOf(t *recording.PlanTask, now time.Time) taskOut {
	o := taskOut{Domain: t.Domain, App: t.App, Stream: t.Stream, StartTime: t.StartTime.Unix(), EndTime: t.EndTime.Unix(), TaskID: t.ID}
	switch {
	case t.StoppedAt != nil:
		o.StopTime = t.StoppedAt.Unix()
	case !t.EndTime.After(now):
		o.StopTime = o.EndTime
	}
	return o
}

// unixParam reads a Unix time in seconds; ok is false when it is absent.
func unixParam(q url.Values, name string) (t time.Time, ok bool, err error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false, badParameter(name, "must be a Unix time in seconds")
	}
	return time.Unix(n, 0).UTC(), true, nil
}

// deleteScheduleTask is DELETE /schedule/record/tasks?task_id= (DeleteScheduleRecordTasks): the
// task opens no window from now on (204; 404 when there is none or it was deleted).
func (h *handler) deleteScheduleTask(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	id := r.URL.Query().Get("task_id")
	if id == "" {
		return badParameter("task_id", "is required")
	}
	if err := h.svc.StopPlanTask(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
