package notify

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// TestPanicIsContainedToItsDelivery is defect 7 of the hardening issue: an encoder that panics
// on one stream's event fails that delivery (visibly, with the reason, counted) and every other
// delivery is still made.
func TestPanicIsContainedToItsDelivery(t *testing.T) {
	s := newFakeStore()
	var h hits
	srv := receiver(t, func(_ http.ResponseWriter, r *http.Request) { h.note(r) })
	s.addCallback("cb1", srv.URL, true)
	now := time.Now()
	bad := s.add("cb1", "bad", recording.EventRecordStarted, now)
	good := s.add("cb1", "good", recording.EventRecordStarted, now)
	var panics atomic.Int32
	encode := func(ev *recording.OutboxEvent, cfg *recording.CallbackConfig, key string, at time.Time) (Request, bool, error) {
		if ev.Data.Stream == "bad" {
			var p *recording.CallbackConfig
			_ = p.URL // a real nil dereference
		}
		return testEncode(ev, cfg, key, at)
	}
	n := testNotifier(t, s, func(c *Config) { c.OnPanic = func() { panics.Add(1) }; c.Encode = encode })
	start(t, n)
	waitFor(t, settled(s, bad, good))
	require.Equal(t, recording.DeliveryDelivered, s.delivery(good.ID).State)
	require.Equal(t, []string{good.Event.ID}, h.ids(""))
	d := s.delivery(bad.ID)
	require.Equal(t, recording.DeliveryFailed, d.State)
	require.True(t, strings.HasPrefix(d.LastError, ReasonPanic), d.LastError)
	require.Contains(t, d.LastError, "nil pointer dereference")
	require.Len(t, s.attemptsOf(bad.ID), 1)
	require.Equal(t, int32(1), panics.Load())
}
