package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/store/sqldb"
	"github.com/liverec/liverec/internal/testutil"
)

// deliveriesConfig retries quickly and bounds an attempt at 2 s, so a claim's lease (twice
// that) runs out 4 s after a killed node took it. At debug level each node logs every
// delivery it records, which tells the nodes' shares apart.
const deliveriesConfig = `log:
  level: debug
  format: json
callbacks:
  delivery_timeout: 2s
  workers: 8
  retry_min: 100ms
  retry_max: 300ms
cluster:
  lease_ttl: 3s
  heartbeat: 500ms
`

const (
	queuedStreams   = 50
	eventsPerStream = 20
	queuedEvents    = queuedStreams * eventsPerStream
	// stopAfter distinct events have arrived when one node is stopped.
	stopAfter = 300
	// nodeWorkers is callbacks.workers: the most requests a node has in flight.
	nodeWorkers = 8
)

// TestTwoNodesDeliverQueuedEvents: two nodes on one PostgreSQL share an outbox of 1,000
// queued events (50 streams × 20). One node stops after about 300 have arrived, while the
// receiver holds requests of both nodes unanswered; the other node delivers the rest. Every
// event arrives, each stream's in order, and every delivery is recorded delivered after
// exactly one attempt. After SIGTERM no event arrives twice; after SIGKILL delivery is at
// least once: the events the killed node had sent but not recorded arrive again once their
// leases run out, and no others.
func TestTwoNodesDeliverQueuedEvents(t *testing.T) {
	t.Parallel() // real-time publishers: the cluster tests wait side by side
	bin := buildBinary(t)
	t.Run("SIGTERM", func(t *testing.T) { testDeliveriesAcrossStop(t, bin, syscall.SIGTERM) })
	t.Run("SIGKILL", func(t *testing.T) { testDeliveriesAcrossStop(t, bin, syscall.SIGKILL) })
}

func testDeliveriesAcrossStop(t *testing.T, bin string, stop syscall.Signal) {
	dsn := testutil.Postgres(t)
	hook := startDeliveryReceiver(t, stopAfter)
	config := filepath.Join(t.TempDir(), "liverec.yaml")
	require.NoError(t, os.WriteFile(config, []byte(deliveriesConfig), 0o644))
	a, _ := startNode(t, bin, dsn, config)
	b, _ := startNode(t, bin, dsn, config)
	cb := createStandardCallback(t, a.http, hook.url)

	db, err := sqldb.OpenPostgres(t.Context(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	// One transaction: the whole queue is there before either node can claim any of it.
	queued := queueEvents(t, db, cb)
	byEvent := map[string]queuedEvent{}
	for _, q := range queued {
		byEvent[q.eventID] = q
	}

	waitReached(t, hook, stopAfter, 30*time.Second)
	// More requests held than one node makes at once: node A has some in flight.
	require.Eventually(t, func() bool { return hook.heldNow() > nodeWorkers }, 10*time.Second, 10*time.Millisecond,
		"the receiver never held requests of both nodes")
	require.NoError(t, a.cmd.Process.Signal(stop))
	if stop == syscall.SIGTERM {
		// A stopping node finishes the attempts it has in flight (answered well within their
		// 2 s timeout) and records them.
		require.Eventually(t, func() bool { return strings.Contains(a.logs.String(), `"msg":"shutting down"`) },
			10*time.Second, 10*time.Millisecond, "node A did not start shutting down")
		hook.releaseHeld()
	}
	select {
	case <-a.exited:
	case <-time.After(40 * time.Second):
		t.Fatalf("node A did not exit after %v", stop)
	}
	if stop == syscall.SIGTERM {
		require.NoError(t, a.err, "node A exits 0 after SIGTERM")
	}
	// From here on, every arrival comes from node B.
	distinctAtStop, arrivalsAtStop := hook.counts()
	require.Less(t, distinctAtStop, queuedEvents, "node A stopped before the queue was delivered")
	hook.releaseHeld()

	waitReached(t, hook, queuedEvents, 40*time.Second)
	require.Eventually(t, func() bool {
		_, pending, err := db.DeliveryList(t.Context(), store.DeliveryFilter{Project: cb.Project,
			State: recording.DeliveryPending, Limit: 1})
		return err == nil && pending == 0
	}, 10*time.Second, 50*time.Millisecond, "deliveries are still pending after every event arrived")

	arrivals := hook.snapshot()
	t.Logf("%d requests in %v", len(arrivals), arrivals[len(arrivals)-1].at.Sub(arrivals[0].at).Round(time.Millisecond))
	// A's output is complete once it exited; B counts and logs a delivery just after storing
	// it, so its metric and log agree once both caught up.
	byA, byB := deliveredBy(a.logs.String()), map[string]bool{}
	require.Eventually(t, func() bool {
		byB = deliveredBy(b.logs.String())
		return b.metric(`liverec_deliveries_total{outcome="delivered"}`) == float64(len(byB))
	}, 5*time.Second, 50*time.Millisecond, "node B's delivered metric is not the count its log shows")
	checkArrivals(t, arrivals, byEvent, stop, arrivalsAtStop, byA)
	checkNodeShares(t, queued, byA, byB, distinctAtStop, stop)
	checkStoredDeliveries(t, db, cb, queued)
	// Nothing was retried, given up or dropped.
	for _, outcome := range []string{"retry", "failed", "dropped"} {
		require.Zero(t, b.metric(`liverec_deliveries_total{outcome="`+outcome+`"}`), outcome)
	}
}

// checkArrivals: every queued event arrived, as queued, each stream's in Seq order; after
// SIGTERM none twice, after SIGKILL only those node A held at the kill (sent, first among the
// arrivals before the stop, and never recorded by A).
func checkArrivals(t *testing.T, arrivals []webhookArrival, byEvent map[string]queuedEvent, stop syscall.Signal,
	arrivalsAtStop int, byA map[string]bool,
) {
	t.Helper()
	count := map[string]int{}
	firstAt := map[string]int{}
	for i, arr := range arrivals {
		q, ok := byEvent[arr.webhookID]
		require.True(t, ok, "arrival %d: unknown event %q", i, arr.webhookID)
		require.Equal(t, arr.webhookID, arr.eventID, "webhook-id is the event id")
		require.Equal(t, q.stream, arr.stream, arr.webhookID)
		require.Equal(t, q.recordingID, arr.recordingID, arr.webhookID)
		require.Equal(t, q.seq, arr.seq, arr.webhookID)
		require.Equal(t, "recording."+string(q.typ), arr.typ, arr.webhookID)
		if count[arr.webhookID] == 0 {
			firstAt[arr.webhookID] = i
		}
		count[arr.webhookID]++
	}
	require.Len(t, count, queuedEvents, "every queued event arrived")
	var repeated []string
	for id, n := range count {
		if n > 1 {
			repeated = append(repeated, id)
		}
	}
	if stop == syscall.SIGTERM {
		require.Zero(t, len(repeated), "after a clean stop no event arrives twice, yet these did (the first 5): %v",
			repeated[:min(5, len(repeated))])
	} else {
		// The receiver held some of the killed node's requests: those arrive again.
		require.NotEmpty(t, repeated, "the events the killed node had sent arrive again")
		require.LessOrEqual(t, len(repeated), nodeWorkers, "only the deliveries the killed node held arrive again")
		for _, id := range repeated {
			q := byEvent[id]
			require.Equal(t, 2, count[id], "event %s arrived %d times", id, count[id])
			require.Less(t, firstAt[id], arrivalsAtStop, "repeated event %s was first sent before the kill", id)
			require.False(t, byA[q.deliveryID], "repeated event %s was not recorded by the killed node", id)
		}
		t.Logf("after SIGKILL %d events arrived twice (held by the killed node)", len(repeated))
	}
	// Per stream, first arrivals come in Seq order, and a repeat comes before the next event.
	lastSeq := map[string]int64{}
	for i, arr := range arrivals {
		if firstAt[arr.webhookID] == i {
			require.Equal(t, lastSeq[arr.stream]+1, arr.seq, "stream %s: the first arrival of seq %d follows seq %d",
				arr.stream, arr.seq, lastSeq[arr.stream])
		} else {
			require.Equal(t, lastSeq[arr.stream], arr.seq, "stream %s: seq %d arrived again after seq %d",
				arr.stream, arr.seq, lastSeq[arr.stream])
		}
		lastSeq[arr.stream] = arr.seq
	}
}

// checkNodeShares: both nodes delivered, no delivery was recorded by both, and node B
// delivered at least what arrived after A stopped. After SIGTERM the logs account for all.
func checkNodeShares(t *testing.T, queued []queuedEvent, byA, byB map[string]bool, distinctAtStop int,
	stop syscall.Signal,
) {
	t.Helper()
	all := map[string]bool{}
	for _, q := range queued {
		all[q.deliveryID] = true
	}
	for id := range byA {
		require.True(t, all[id], "node A delivered unknown %s", id)
		require.False(t, byB[id], "delivery %s was recorded by both nodes", id)
	}
	for id := range byB {
		require.True(t, all[id], "node B delivered unknown %s", id)
	}
	t.Logf("%v: node A delivered %d, node B %d; %d events had arrived when A was gone", stop,
		len(byA), len(byB), distinctAtStop)
	require.NotEmpty(t, byA, "node A delivered some")
	require.GreaterOrEqual(t, len(byB), queuedEvents-distinctAtStop, "node B delivered what arrived after A stopped")
	if stop == syscall.SIGTERM {
		require.Equal(t, queuedEvents, len(byA)+len(byB), "a cleanly stopped node logged every delivery it made")
	}
}

// checkStoredDeliveries: the database holds every queued delivery delivered after exactly
// one attempt, answered 200.
func checkStoredDeliveries(t *testing.T, db *sqldb.DB, cb recording.CallbackConfig, queued []queuedEvent) {
	t.Helper()
	ds, total, err := db.DeliveryList(t.Context(), store.DeliveryFilter{Project: cb.Project, CallbackID: cb.ID,
		Limit: queuedEvents + 1})
	require.NoError(t, err)
	require.Equal(t, queuedEvents, total)
	stored := map[string]recording.Delivery{}
	for _, d := range ds {
		stored[d.ID] = d
	}
	for _, q := range queued {
		d, ok := stored[q.deliveryID]
		require.True(t, ok, "delivery %s is stored", q.deliveryID)
		require.Equal(t, recording.DeliveryDelivered, d.State, q.deliveryID)
		require.Equal(t, 1, d.Attempts, q.deliveryID)
		require.Equal(t, http.StatusOK, d.LastStatus, q.deliveryID)
		as, err := db.DeliveryAttempts(t.Context(), q.deliveryID)
		require.NoError(t, err)
		require.Len(t, as, 1, "attempts of %s", q.deliveryID)
		require.Equal(t, http.StatusOK, as[0].Status, q.deliveryID)
	}
}

// createStandardCallback creates through node httpAddr's native API an unsigned Standard
// Webhooks configuration for every app of 127.0.0.1, delivering to url.
func createStandardCallback(t *testing.T, httpAddr, url string) recording.CallbackConfig {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+httpAddr+"/api/v1/callbacks", strings.NewReader(
		`{"dialect":"standard","domain":"127.0.0.1","app":"*","url":"`+url+`"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("LRCRASHTESTKEY0000000000", "crashtestsecretcrashtestsecret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var cb recording.CallbackConfig
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&cb))
	require.NotEmpty(t, cb.ID)
	require.NotEmpty(t, cb.Project)
	return cb
}

// queuedEvent is one queued event and its one delivery.
type queuedEvent struct {
	eventID, deliveryID string
	typ                 recording.Event
	recordingID, stream string
	seq                 int64
}

// queueEvents writes, in one transaction, queuedStreams recordings' events as internal/events
// writes them (the store numbers each recording's events from 1), each with a delivery to cb
// ordered per stream as the emitter orders it.
func queueEvents(t *testing.T, db *sqldb.DB, cb recording.CallbackConfig) []queuedEvent {
	t.Helper()
	var c store.Change
	var streams []string
	for s := range queuedStreams {
		stream := fmt.Sprintf("s%02d", s)
		recID := store.NewID(store.RecordingPrefix)
		for i, ev := range recordingEvents(cb.Project, recID, stream) {
			streams = append(streams, stream)
			c.Events = append(c.Events, ev)
			c.Deliveries = append(c.Deliveries, []recording.Delivery{{CallbackID: cb.ID, Project: cb.Project,
				OrderKey: cb.ID + "|127.0.0.1/live/" + stream, Seq: int64(i + 1)}})
		}
	}
	require.NoError(t, db.Apply(t.Context(), c))
	queued := make([]queuedEvent, 0, queuedEvents)
	for i, ev := range c.Events {
		d := c.Deliveries[i][0]
		require.Equal(t, d.Seq, ev.Data.Seq, "the store numbered %s's events in order", streams[i])
		queued = append(queued, queuedEvent{eventID: ev.ID, deliveryID: d.ID, typ: ev.Type,
			recordingID: ev.Data.RecordingID, stream: streams[i], seq: ev.Data.Seq})
	}
	return queued
}

// recordingEvents are a recording's eventsPerStream events: started, file_started and
// file_completed of 9 files, over. Seq is left 0 for the store to number.
func recordingEvents(project, recID, stream string) []recording.OutboxEvent {
	base := recording.EventData{Project: project, RecordingID: recID, Domain: "127.0.0.1", App: "live", Stream: stream}
	evs := []recording.OutboxEvent{{Type: recording.EventRecordStarted, Data: base}}
	formats := []recording.Format{recording.FormatFLV, recording.FormatMP4, recording.FormatHLS}
	start := time.Now().Add(-time.Hour).UTC()
	for f := range (eventsPerStream - 2) / 2 {
		file := base
		file.FileID = store.NewID(store.FilePrefix)
		file.Format = formats[f%len(formats)]
		file.Endpoint, file.Bucket = "local", "recordings"
		file.ObjectKey = fmt.Sprintf("live/%s/%d.%s", stream, f, file.Format)
		done := file
		from, to := start.Add(time.Duration(f)*time.Minute), start.Add(time.Duration(f+1)*time.Minute)
		done.StartTime, done.EndTime = &from, &to
		done.Bytes, done.Duration, done.Width, done.Height = 1<<20, time.Minute, 640, 360
		evs = append(evs, recording.OutboxEvent{Type: recording.EventFileStarted, Data: file},
			recording.OutboxEvent{Type: recording.EventFileCompleted, Data: done})
	}
	return append(evs, recording.OutboxEvent{Type: recording.EventRecordOver, Data: base})
}

// deliveredBy returns the IDs of the deliveries a node's JSON debug log says it recorded
// delivered. A line cut short by SIGKILL is skipped.
func deliveredBy(logs string) map[string]bool {
	out := map[string]bool{}
	for line := range strings.Lines(logs) {
		var l struct {
			Msg      string `json:"msg"`
			Delivery string `json:"delivery"`
			Outcome  string `json:"outcome"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "delivery attempt" && l.Outcome == "delivered" {
			out[l.Delivery] = true
		}
	}
	return out
}

// webhookArrival is one request to the receiver.
type webhookArrival struct {
	// webhookID is the Standard Webhooks id, eventID the X-Liverec-Event-Id header.
	webhookID, eventID       string
	typ, recordingID, stream string
	seq                      int64
	at                       time.Time
}

// deliveryReceiver is a Standard Webhooks receiver that keeps every request in arrival order
// and accepts it; from the holdFrom-th distinct event on, it answers only once releaseHeld.
type deliveryReceiver struct {
	url      string
	holdFrom int
	release  chan struct{}
	once     sync.Once

	mu       sync.Mutex
	arrivals []webhookArrival
	distinct map[string]bool
	held     int // requests waiting for release
	// waiters are closed once that many distinct events have arrived.
	waiters map[int]chan struct{}
}

func startDeliveryReceiver(t *testing.T, holdFrom int) *deliveryReceiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &deliveryReceiver{url: "http://" + l.Addr().String() + "/hook", holdFrom: holdFrom,
		release: make(chan struct{}), distinct: map[string]bool{}, waiters: map[int]chan struct{}{}}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() { _ = srv.Serve(l); close(served) }()
	t.Cleanup(func() {
		r.releaseHeld() // a failed test must not leave handlers waiting
		_ = srv.Close()
		<-served
	})
	return r
}

func (r *deliveryReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body struct {
		Type string `json:"type"`
		Data struct {
			Seq         int64  `json:"seq"`
			RecordingID string `json:"recording_id"`
			Stream      string `json:"stream"`
		} `json:"data"`
	}
	if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
		http.Error(w, "body: "+err.Error(), http.StatusBadRequest) // given up: the test sees it failed
		return
	}
	arr := webhookArrival{webhookID: req.Header.Get("webhook-id"), eventID: req.Header.Get("X-Liverec-Event-Id"),
		typ: body.Type, recordingID: body.Data.RecordingID, stream: body.Data.Stream, seq: body.Data.Seq,
		at: time.Now()}
	r.mu.Lock()
	r.arrivals = append(r.arrivals, arr)
	r.distinct[arr.webhookID] = true
	if ch, ok := r.waiters[len(r.distinct)]; ok {
		close(ch)
		delete(r.waiters, len(r.distinct))
	}
	hold := len(r.distinct) >= r.holdFrom
	if hold {
		r.held++
	}
	r.mu.Unlock()
	if hold {
		<-r.release
		r.mu.Lock()
		r.held--
		r.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

// releaseHeld answers the held requests, and every later one at once.
func (r *deliveryReceiver) releaseHeld() { r.once.Do(func() { close(r.release) }) }

// heldNow returns how many requests wait for releaseHeld.
func (r *deliveryReceiver) heldNow() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.held
}

// reached returns a channel closed once n distinct events have arrived.
func (r *deliveryReceiver) reached(n int) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := make(chan struct{})
	if len(r.distinct) >= n {
		close(ch)
		return ch
	}
	if old, ok := r.waiters[n]; ok {
		return old
	}
	r.waiters[n] = ch
	return ch
}

// counts returns how many distinct events and how many requests have arrived.
func (r *deliveryReceiver) counts() (distinct, arrivals int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.distinct), len(r.arrivals)
}

func (r *deliveryReceiver) snapshot() []webhookArrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webhookArrival(nil), r.arrivals...)
}

// waitReached waits until n distinct events have arrived at r.
func waitReached(t *testing.T, r *deliveryReceiver, n int, timeout time.Duration) {
	t.Helper()
	select {
	case <-r.reached(n):
	case <-time.After(timeout):
		distinct, arrivals := r.counts()
		t.Fatalf("%d distinct events never arrived in %v: %d did, in %d requests", n, timeout, distinct, arrivals)
	}
}
