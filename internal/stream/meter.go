package stream

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/liverec/liverec/internal/media"
)

// meterSlots is the number of snapshots the meter keeps: rates are measured over the last
// meterSlots-1 steps (a step is MeasureWindow/(meterSlots-1): 500 ms by default, so a new
// publication shows its rates within a second).
const meterSlots = 11

// meter measures one publication's media for the online lists: bitrates and frame rate over a
// recent window, and the tracks last seen. Its counters and snapshots belong to the goroutine
// that writes the publication (ingest hands a publication its batches from one goroutine); what
// others read is published through atomics at most once per step, so ingest never takes a lock
// or allocates for it.
type meter struct {
	// Writer-owned: cumulative counts and the snapshots of the last window, oldest at head.
	vBytes, vFrames, aBytes int64
	// vDTS is the last video frame's timestamp: the frame rate is counted in stream time, so
	// an encoder's bursts (frames held back, then sent at once) do not show as a higher rate.
	vDTS         time.Duration
	snaps        [meterSlots]snapshot
	head, n      int
	video, audio *media.Track

	// Published for readers.
	videoTrack, audioTrack atomic.Pointer[media.Track]
	// videoKbps, audioKbps and fps are float64 bits.
	videoKbps, audioKbps, fps atomic.Uint64
	// measuredAt is the unix nano time the rates were last computed (0: never).
	measuredAt atomic.Int64
}

type snapshot struct {
	at                      int64 // unix nanos
	vBytes, vFrames, aBytes int64
	vDTS                    time.Duration
}

// start takes the first snapshot, at the publication's start.
func (m *meter) start(now time.Time) {
	m.snaps[0] = snapshot{at: now.UnixNano()}
	m.n = 1
}

// add counts a batch's units at now and, once a step passed since the last snapshot, takes
// one and publishes the rates since the oldest snapshot kept.
func (m *meter) add(units []media.Unit, now time.Time, window time.Duration) {
	for i := range units {
		u := &units[i]
		if u.Track == nil {
			continue
		}
		if u.Track.IsVideo() {
			m.vBytes += int64(len(u.Data))
			m.vFrames++
			m.vDTS = u.DTS
			if u.Track != m.video {
				m.video = u.Track
				m.videoTrack.Store(u.Track)
			}
		} else {
			m.aBytes += int64(len(u.Data))
			if u.Track != m.audio {
				m.audio = u.Track
				m.audioTrack.Store(u.Track)
			}
		}
	}
	at := now.UnixNano()
	last := m.snaps[(m.head+m.n-1)%meterSlots]
	if at <= last.at || at-last.at < int64(window/(meterSlots-1)) {
		return
	}
	cur := snapshot{at: at, vBytes: m.vBytes, vFrames: m.vFrames, aBytes: m.aBytes, vDTS: m.vDTS}
	if m.n == meterSlots {
		m.head = (m.head + 1) % meterSlots
		m.n--
	}
	m.snaps[(m.head+m.n)%meterSlots] = cur
	m.n++
	// The base is the oldest snapshot within the window (batches further apart than a step
	// leave older ones in the ring), else the one before this.
	old := m.snaps[(m.head+m.n-2)%meterSlots]
	for i := range m.n - 1 {
		if s := m.snaps[(m.head+i)%meterSlots]; at-s.at <= int64(window) {
			old = s
			break
		}
	}
	secs := float64(at-old.at) / float64(time.Second)
	m.videoKbps.Store(math.Float64bits(float64(cur.vBytes-old.vBytes) * 8 / 1000 / secs))
	m.audioKbps.Store(math.Float64bits(float64(cur.aBytes-old.aBytes) * 8 / 1000 / secs))
	// Frames after the base's last one over the stream time they span; none before the base
	// (the first snapshot) falls back to the arrival time.
	fps := float64(cur.vFrames-old.vFrames) / secs
	if span := cur.vDTS - old.vDTS; old.vFrames > 0 && span > 0 {
		fps = float64(cur.vFrames-old.vFrames) / span.Seconds()
	}
	m.fps.Store(math.Float64bits(fps))
	m.measuredAt.Store(at)
}

// rates returns the published rates; zero when none were measured within the last window
// (nothing was written lately), so a stalled publisher does not show its old bitrate.
func (m *meter) rates(now time.Time, window time.Duration) (videoKbps, audioKbps, fps float64) {
	at := m.measuredAt.Load()
	if at == 0 || now.UnixNano()-at > int64(window) {
		return 0, 0, 0
	}
	return math.Float64frombits(m.videoKbps.Load()), math.Float64frombits(m.audioKbps.Load()),
		math.Float64frombits(m.fps.Load())
}
