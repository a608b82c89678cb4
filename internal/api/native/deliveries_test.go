package native

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// emit writes a file-completed event of project's stream at the given time with one delivery
// to callback cb_1, and returns the delivery id.
func (c *client) emit(project, domain, stream string, at time.Time) string {
	c.t.Helper()
	ev := recording.OutboxEvent{Type: recording.EventFileCompleted, CreatedAt: at, Data: recording.EventData{
		Project: project, RecordingID: "rc_" + stream, Domain: domain, App: "live", Stream: stream, Seq: 1,
	}}
	ds := []recording.Delivery{{CallbackID: "cb_1", OrderKey: "cb_1/" + stream, Seq: 1}}
	require.NoError(c.t, c.svc.Store.Apply(c.t.Context(), store.Change{Events: []recording.OutboxEvent{ev}, Deliveries: [][]recording.Delivery{ds}}))
	return ds[0].ID
}

// fail records a 404 attempt that gives the delivery up.
func (c *client) fail(id string) {
	c.t.Helper()
	a := recording.Attempt{DeliveryID: id, At: c.clock.Now(), Status: 404, Latency: time.Millisecond, ReplyHead: "no such hook"}
	require.NoError(c.t, c.svc.Store.DeliveryRecord(c.t.Context(), a, recording.DeliveryFailed, time.Time{}, "404 Not Found"))
}

func TestListDeliveries(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	t0 := c.clock.Now()
	d1 := c.emit("A", "a.com", "s1", t0)
	d2 := c.emit("A", "a.com", "s2", t0.Add(time.Hour))
	c.emit("B", "b.com", "s1", t0)
	c.fail(d2)

	ids := func(path string) []string {
		t.Helper()
		l := decode[deliveryList](t, c.json("A", http.MethodGet, path, ""), http.StatusOK)
		ids := []string{}
		for _, d := range l.Deliveries {
			require.NotNil(t, d.Event, "each delivery comes with its event")
			require.Equal(t, "A", d.Project)
			ids = append(ids, d.ID)
		}
		require.Len(t, ids, l.Total, path)
		return ids
	}
	require.Equal(t, []string{d1, d2}, ids("/api/v1/deliveries"))
	require.Equal(t, []string{d2, d1}, ids("/api/v1/deliveries?order=desc"))
	require.Equal(t, []string{d2}, ids("/api/v1/deliveries?state=failed"))
	require.Equal(t, []string{d1}, ids("/api/v1/deliveries?state=pending&callback_id=cb_1"))
	require.Equal(t, []string{d1}, ids("/api/v1/deliveries?stream=s1&domain=A.com&app=live"))
	require.Equal(t, []string{d2}, ids("/api/v1/deliveries?recording_id=rc_s2"))
	require.Equal(t, []string{d2}, ids("/api/v1/deliveries?since="+t0.Add(time.Minute).Format(time.RFC3339)))
	require.Equal(t, []string{d1}, ids("/api/v1/deliveries?until="+t0.Add(time.Minute).Format(time.RFC3339)))
	require.Empty(t, ids("/api/v1/deliveries?domain=b.com"))

	l := decode[deliveryList](t, c.json("A", http.MethodGet, "/api/v1/deliveries?limit=1&offset=1", ""), http.StatusOK)
	require.Equal(t, 2, l.Total)
	require.Len(t, l.Deliveries, 1)
	require.Equal(t, d2, l.Deliveries[0].ID)

	for _, tc := range []struct{ query, field string }{
		{"state=lost", "state"},
		{"since=yesterday", "since"},
		{"until=2026-03-01", "until"},
		{"limit=0", "limit"},
		{"order=up", "order"},
	} {
		c.json("A", http.MethodGet, "/api/v1/deliveries?"+tc.query, "").requireError(t, http.StatusBadRequest, codeInvalidArgument, tc.field)
	}
}

func TestDeliveryAndAttempts(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	id := c.emit("A", "a.com", "s1", c.clock.Now())

	d := decode[recording.Delivery](t, c.json("A", http.MethodGet, "/api/v1/deliveries/"+id, ""), http.StatusOK)
	require.Equal(t, recording.DeliveryPending, d.State)
	require.Equal(t, "s1", d.Event.Data.Stream)
	require.Equal(t, attemptList{Attempts: []recording.Attempt{}},
		decode[attemptList](t, c.json("A", http.MethodGet, "/api/v1/deliveries/"+id+"/attempts", ""), http.StatusOK))

	c.fail(id)
	as := decode[attemptList](t, c.json("A", http.MethodGet, "/api/v1/deliveries/"+id+"/attempts", ""), http.StatusOK)
	require.Len(t, as.Attempts, 1)
	require.Equal(t, 404, as.Attempts[0].Status)
	require.Equal(t, "no such hook", as.Attempts[0].ReplyHead)

	for _, path := range []string{"/api/v1/deliveries/" + id, "/api/v1/deliveries/" + id + "/attempts", "/api/v1/deliveries/dl_unknown"} {
		c.json("B", http.MethodGet, path, "").requireError(t, http.StatusNotFound, codeNotFound, "")
	}
}

func TestRedeliver(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	id := c.emit("A", "a.com", "s1", c.clock.Now())
	path := "/api/v1/deliveries/" + id + "/redeliver"

	c.json("A", http.MethodPost, path, "").requireError(t, http.StatusConflict, codeConflict, "")
	c.fail(id)
	c.json("B", http.MethodPost, path, "").requireError(t, http.StatusNotFound, codeNotFound, "")
	c.json("A", http.MethodPost, "/api/v1/deliveries/dl_unknown/redeliver", "").requireError(t, http.StatusNotFound, codeNotFound, "")

	r := c.json("A", http.MethodPost, path, "")
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	d := decode[recording.Delivery](t, c.json("A", http.MethodGet, "/api/v1/deliveries/"+id, ""), http.StatusOK)
	require.Equal(t, recording.DeliveryPending, d.State)
	require.Equal(t, 1, d.Attempts, "the log keeps earlier attempts")
	c.json("A", http.MethodPost, path, "").requireError(t, http.StatusConflict, codeConflict, "")
}

func TestDeliveriesNeedCredentials(t *testing.T) {
	t.Parallel()
	c := newServer(t)
	id := c.emit("A", "a.com", "s1", c.clock.Now())
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/deliveries"},
		{http.MethodGet, "/api/v1/deliveries/" + id},
		{http.MethodGet, "/api/v1/deliveries/" + id + "/attempts"},
		{http.MethodPost, "/api/v1/deliveries/" + id + "/redeliver"},
	} {
		c.json("", req.method, req.path, "").requireError(t, http.StatusUnauthorized, codeUnauthenticated, "")
	}
}
