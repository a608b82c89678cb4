package huawei

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

const tasksPath = "/v1/" + projectA + "/schedule/record/tasks"

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// TestScheduleRecordTasks: create hands the window to the service and answers its task_id;
// list selects by window and id and shows stop_time; delete stops the task.
func TestScheduleRecordTasks(t *testing.T) {
	e, f := newCatalogEnv(t)
	start, end := testNow.Add(time.Hour), testNow.Add(3*time.Hour)
	r := e.do(req{method: http.MethodPost, path: tasksPath, body: fmt.Sprintf(
		`{"domain":"a.com","app":"live","stream":"s1","start_time":%d,"end_time":%d,"template_id":"rule_1"}`, start.Unix(), end.Unix())})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	require.JSONEq(t, `{"task_id":"task_new"}`, string(r.body))
	require.Equal(t, []recording.PlanTask{{ID: "task_new", Domain: "a.com", App: "live", Stream: "s1", StartTime: start, EndTime: end}}, f.created)

	// No start_time: the service starts it now.
	r = e.do(req{method: http.MethodPost, path: tasksPath, body: fmt.Sprintf(`{"domain":"a.com","app":"live","stream":"s1","end_time":%d,"template_id":""}`, end.Unix())})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	require.True(t, f.created[1].StartTime.IsZero())

	stopped := testNow.Add(-time.Minute)
	f.tasks = []recording.PlanTask{
		{ID: "task_a", Domain: "a.com", App: "live", Stream: "s1", StartTime: start, EndTime: end},
		{ID: "task_b", Domain: "a.com", App: "live", Stream: "s1", StartTime: testNow.Add(-2 * time.Hour), EndTime: testNow.Add(-time.Hour)},
		{ID: "task_c", Domain: "a.com", App: "live", Stream: "s2", StartTime: testNow.Add(-time.Hour), EndTime: end, StoppedAt: &stopped},
		{ID: "task_d", Domain: "a.com", App: "live", Stream: "s1", StartTime: testNow.Add(-10 * 24 * time.Hour), EndTime: testNow.Add(-9 * 24 * time.Hour)},
	}
	r = e.do(req{method: http.MethodGet, path: tasksPath + "?domain=a.com&app=live&start_time=" + unix(testNow.Add(-3*time.Hour)) +
		"&end_time=" + unix(testNow.Add(4*time.Hour))})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, store.TaskFilter{Domain: "a.com", App: "live"}, f.taskF)
	require.JSONEq(t, fmt.Sprintf(`{"total":3,"offset":0,"limit":10,"tasks":[
		{"domain":"a.com","app":"live","stream":"s1","start_time":%d,"end_time":%d,"template_id":"","stop_time":0,"task_id":"task_a"},
		{"domain":"a.com","app":"live","stream":"s1","start_time":%d,"end_time":%d,"template_id":"","stop_time":%d,"task_id":"task_b"},
		{"domain":"a.com","app":"live","stream":"s2","start_time":%d,"end_time":%d,"template_id":"","stop_time":%d,"task_id":"task_c"}]}`,
		start.Unix(), end.Unix(), testNow.Add(-2*time.Hour).Unix(), testNow.Add(-time.Hour).Unix(), testNow.Add(-time.Hour).Unix(),
		testNow.Add(-time.Hour).Unix(), end.Unix(), stopped.Unix()), string(r.body), "task_d lies outside the window")

	// One id, paging, and app without domain (ignored, as the cloud documents).
	r = e.do(req{method: http.MethodGet, path: tasksPath + "?app=live&stream=s1&task_id=task_c&end_time=" + unix(testNow.Add(4*time.Hour))})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, store.TaskFilter{}, f.taskF)
	require.Contains(t, string(r.body), `"total":1,`)
	require.Contains(t, string(r.body), `"task_id":"task_c"`)
	r = e.do(req{method: http.MethodGet, path: tasksPath + "?offset=2&limit=1&start_time=" + unix(testNow.Add(-3*time.Hour)) +
		"&end_time=" + unix(testNow.Add(4*time.Hour))})
	require.Contains(t, string(r.body), `"total":3,"offset":2,"limit":1,"tasks":[{`)
	require.Contains(t, string(r.body), `"task_id":"task_c"`)

	r = e.do(req{method: http.MethodDelete, path: tasksPath + "?task_id=task_a"})
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	require.Equal(t, []string{"task_a"}, f.stopped)
	f.err = fmt.Errorf("stop plan task: %w", recording.ErrNotFound)
	e.do(req{method: http.MethodDelete, path: tasksPath + "?task_id=task_a"}).requireError(t, http.StatusNotFound, codeNotFound, "")
}

func TestScheduleRecordTasksRefuseBadRequests(t *testing.T) {
	e, f := newCatalogEnv(t)
	end := unix(testNow.Add(time.Hour))
	for _, tc := range []struct{ method, path, body, field string }{
		{http.MethodPost, tasksPath, `{"domain":"a.com","app":"live","stream":"s1","template_id":"x"}`, "end_time"},
		{http.MethodPost, tasksPath, `{"domain":"a.com","app":"live","stream":"*","end_time":` + end + `}`, "stream"},
		{http.MethodPost, tasksPath, `{"domain":"","app":"live","stream":"s","end_time":` + end + `}`, "domain"},
		{http.MethodPost, tasksPath, `{"domain":"a.com","app":"live","stream":"s","end_time":"` + end + `"}`, "end_time"},
		{http.MethodPost, tasksPath, `{"domain":"a.com","app":"live","stream":"s","end_time":` + end + `,"task_id":"x"}`, "task_id"},
		{http.MethodGet, tasksPath + "?domain=a.com", "", "end_time"},
		{http.MethodGet, tasksPath + "?end_time=abc", "", "end_time"},
		{http.MethodGet, tasksPath + "?end_time=" + end + "&start_time=-5", "", "start_time"},
		{http.MethodGet, tasksPath + "?end_time=" + end + "&start_time=" + end, "", "end_time"},
		{http.MethodGet, tasksPath + "?end_time=" + end + "&start_time=" + unix(testNow.Add(-7*24*time.Hour)), "", "end_time"},
		{http.MethodGet, tasksPath + "?end_time=" + end + "&limit=500", "", "limit"},
		{http.MethodDelete, tasksPath, "", "task_id"},
	} {
		e.do(req{method: tc.method, path: tc.path, body: tc.body}).requireError(t, http.StatusBadRequest, codeBadParameter, tc.field)
	}
	require.Empty(t, f.created)
	require.Zero(t, f.taskF)
	require.Empty(t, f.stopped)

	f.err = &recording.ValidationError{Field: "end_time", Reason: "must be within 7 days from now"}
	e.do(req{method: http.MethodPost, path: tasksPath, body: `{"domain":"a.com","app":"live","stream":"s","end_time":` + end + `}`}).
		requireError(t, http.StatusBadRequest, codeBadParameter, "end_time: must be within 7 days")
}
