package native

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

func TestPlanTasks(t *testing.T) {
	t.Parallel()
	f := newCatalogFake()
	c := serveCatalog(t, f)

	// Without start_time the window starts now.
	r := c.json("A", http.MethodPost, "/api/v1/plan-tasks", `{"domain":"a.com","app":"live","stream":"s","end_time":"2026-03-01T13:00:00Z"}`)
	task := decode[recording.PlanTask](t, r, http.StatusCreated)
	require.Equal(t, "/api/v1/plan-tasks/task_1", r.header.Get("Location"))
	require.Equal(t, "A", task.Project)
	require.Equal(t, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), task.StartTime)
	require.Equal(t, time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC), task.EndTime)
	require.Nil(t, task.StoppedAt)

	for _, tc := range []struct{ body, field string }{
		{`{"domain":"a.com","app":"live","stream":"s"}`, "end_time"},
		{`{"domain":"a.com","app":"live","stream":"s","end_time":"13:00"}`, "end_time"},
		{`{"domain":"a.com","app":"live","stream":"s","start_time":5,"end_time":"2026-03-01T13:00:00Z"}`, "start_time"},
		{`{"domain":"a.com","app":"live","stream":"s","start_time":"2026-03-01T14:00:00Z","end_time":"2026-03-01T13:00:00Z"}`, "end_time"},
		{`{"domain":"a.com","app":"live","stream":"*","end_time":"2026-03-01T13:00:00Z"}`, "stream"},
		{`{"domain":"a.com","app":"live","stream":"s","end_time":"2026-03-01T13:00:00Z","id":"task_9"}`, "id"},
	} {
		c.json("A", http.MethodPost, "/api/v1/plan-tasks", tc.body).requireError(t, http.StatusBadRequest, codeInvalidArgument, tc.field)
	}
	c.json("B", http.MethodPost, "/api/v1/plan-tasks", `{"domain":"a.com","app":"live","stream":"s","end_time":"2026-03-01T13:00:00Z"}`).
		requireError(t, http.StatusNotFound, codeNotFound, "")

	l := decode[page[recording.PlanTask]](t, c.json("A", http.MethodGet, "/api/v1/plan-tasks?domain=a.com&app=live&stream=s&offset=0&limit=20", ""), http.StatusOK)
	require.Equal(t, 1, l.Total)
	require.Equal(t, task, l.Items[0])
	require.Equal(t, "a.com", f.taskFilter.Domain)
	require.Equal(t, 20, f.taskFilter.Limit)
	require.Equal(t, 0, decode[page[recording.PlanTask]](t, c.json("B", http.MethodGet, "/api/v1/plan-tasks", ""), http.StatusOK).Total)
	c.json("A", http.MethodGet, "/api/v1/plan-tasks?offset=x", "").requireError(t, http.StatusBadRequest, codeInvalidArgument, "offset")

	c.json("B", http.MethodDelete, "/api/v1/plan-tasks/task_1", "").requireError(t, http.StatusNotFound, codeNotFound, "")
	require.Equal(t, http.StatusNoContent, c.json("A", http.MethodDelete, "/api/v1/plan-tasks/task_1", "").status)
	c.json("A", http.MethodDelete, "/api/v1/plan-tasks/task_1", "").requireError(t, http.StatusNotFound, codeNotFound, "")
}
