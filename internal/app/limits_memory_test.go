package app

import (
	"net"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil"
)

// heapSampler watches the live heap (as the last collection marked it) and the bytes charged to
// the pending budget, keeping their peaks.
type heapSampler struct {
	mu                      sync.Mutex
	peakLive, peakObjects   uint64
	peakPending, overBudget float64
}

func (h *heapSampler) run(ta *testApp, budget float64, stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(done)
		for range 6000 { // at most 10 minutes
			metrics.Read(samples)
			pending := float64(ta.rtmp.PendingBytes())
			h.mu.Lock()
			h.peakLive = max(h.peakLive, samples[0].Value.Uint64())
			h.peakObjects = max(h.peakObjects, samples[1].Value.Uint64())
			h.peakPending = max(h.peakPending, pending)
			if pending > budget {
				h.overBudget++
			}
			h.mu.Unlock()
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return done
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestPendingBudgetBoundsMemory: with ingest.max_pending_bytes at 64 MiB, 100 connections each
// sending 16 MiB of messages that never finish (four 10 MiB messages, 4 MiB of each) keep the
// heap under the budget plus each connection's free first MiB plus a stated slack, where
// without the budget they would hold 1.6 GB; a control ffmpeg stream publishing meanwhile
// records every frame.
func TestPendingBudgetBoundsMemory(t *testing.T) {
	const (
		budget = 64 << 20
		conns  = 100
		// slack covers what is not unfinished messages: read buffers (64 KiB per reading
		// connection), goroutines, the control stream's recorder, the store, the runtime.
		slack = 48 << 20
	)
	testutil.RequireTool(t, "ffmpeg")
	// The handshake timeout outlasts the attack: what the attackers hold is still held when the
	// heap is measured after they are done.
	ta, _ := startLimitsApp(t, "ingest:\n  max_pending_bytes: 67108864\n  handshake_timeout: 2m\n")
	ta.putRule(t, flvRule())
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 10})
	attack := unfinishedMessages() // one buffer for every connection, allocated before the baseline

	control := ffmpegPublisher(t, src, ta.rtmpURL("live/control"))
	out := &testutil.SyncBuffer{}
	control.Stdout, control.Stderr = out, out
	require.NoError(t, control.Start())
	controlDone := make(chan error, 1)
	go func() { controlDone <- control.Wait() }()
	require.Eventually(t, func() bool { return ta.metric(t, "liverec_rtmp_publishers") == 1 }, 10*time.Second, 50*time.Millisecond)

	base := liveHeap()
	var h heapSampler
	stop := make(chan struct{})
	sampled := h.run(ta, budget, stop)

	// Four source addresses, 25 connections each: the per-address cap is not what stops them.
	var wrote, closed sync.WaitGroup
	var mu sync.Mutex
	cut := 0
	release := make(chan struct{})
	for i := range conns {
		wrote.Add(1)
		closed.Go(func() {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(1+i%4))}, Timeout: 10 * time.Second}
			c, err := d.Dial("tcp", ta.RTMPAddr().String())
			if err != nil {
				wrote.Done()
				t.Errorf("dial: %v", err)
				return
			}
			defer c.Close()
			_ = c.SetWriteDeadline(time.Now().Add(2 * time.Minute))
			_, err = c.Write(attack)
			if err != nil {
				mu.Lock()
				cut++ // closed by the server part-way
				mu.Unlock()
			}
			wrote.Done()
			if err == nil {
				<-release // sent whole: the server holds its messages until the test is done
			}
		})
	}
	allWrote := make(chan struct{})
	go func() { wrote.Wait(); close(allWrote) }()
	select {
	case <-allWrote:
	case <-time.After(3 * time.Minute):
		t.Fatal("the attackers did not finish writing within 3 minutes")
	}
	// The attack is over and what it could hold is held: measure, then let go.
	held := liveHeap()
	pendingHeld := ta.rtmp.PendingBytes()
	open := int(ta.metric(t, "liverec_rtmp_connections_open")) - 1 // the control stream's is not an attacker's
	close(release)
	closed.Wait()
	close(stop)
	<-sampled

	require.NoError(t, <-controlDone, "control ffmpeg: %s", out.String())
	ta.requireEveryFrame(t, src, "control")

	h.mu.Lock()
	defer h.mu.Unlock()
	t.Logf("baseline %d MiB; peak live heap +%d MiB; after the attack +%d MiB, %d MiB charged, %d attackers still "+
		"connected; heap objects (garbage included) peak +%d MiB; peak charged %d MiB of %d; %d of %d attackers "+
		"closed while writing", base>>20, (h.peakLive-min(h.peakLive, base))>>20, (held-min(held, base))>>20,
		pendingHeld>>20, open, (h.peakObjects-min(h.peakObjects, base))>>20, uint64(h.peakPending)>>20, budget>>20,
		cut, conns)
	require.Zero(t, h.overBudget, "the charged bytes never exceeded the budget")
	require.Greater(t, cut, 0, "the budget closed connections")
	require.Greater(t, ta.metric(t, `liverec_rtmp_rejected_total{reason="budget"}`), float64(0))
	// The live heap (as each collection marked it) never held more than the budget, each
	// connection's free first MiB and the slack; once the attack is over, what the connections
	// still open hold is within the budget, their free MiB and the slack.
	require.LessOrEqual(t, h.peakLive, base+uint64(budget+conns*(1<<20)+slack), "peak live heap")
	require.LessOrEqual(t, held, base+uint64(budget+open*(1<<20)+slack), "heap after the attack")
}
