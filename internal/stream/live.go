package stream

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// ErrKicked is the cause of a publication's end by Kick; it wraps the kick's reason. A
// connection whose publication was kicked closes at once instead of reading what its socket
// still holds.
var ErrKicked = errors.New("publisher kicked")

// Live returns every publication in progress with what was measured of it, sorted by key.
// RecordingID and RecordingState are left for the caller to fill in.
func (h *Hub) Live() []recording.LiveStream {
	h.mu.Lock()
	ps := make([]*Publication, 0, len(h.active))
	for _, p := range h.active {
		ps = append(ps, p)
	}
	h.mu.Unlock()
	now, window := h.now(), h.measureWindow()
	out := make([]recording.LiveStream, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.live(now, window))
	}
	slices.SortFunc(out, func(a, b recording.LiveStream) int {
		return cmp.Or(cmp.Compare(a.Domain, b.Domain), cmp.Compare(a.App, b.App), cmp.Compare(a.Stream, b.Stream))
	})
	return out
}

// Kick ends the publication of key at once: its sink's End gets reason (wrapped in
// ErrKicked), its Context is cancelled with that cause, and the key is free. It reports false
// when nothing is published on key.
func (h *Hub) Kick(key Key, reason error) bool {
	h.mu.Lock()
	p := h.active[key]
	h.mu.Unlock()
	if p == nil {
		return false
	}
	cause := ErrKicked
	if reason != nil {
		cause = fmt.Errorf("%w: %w", ErrKicked, reason)
	}
	p.Close(cause) // as if the publisher left, with the kick as the cause
	return true
}

func (h *Hub) measureWindow() time.Duration {
	if h.MeasureWindow > 0 {
		return h.MeasureWindow
	}
	return 5 * time.Second
}

// live describes the publication at now.
func (p *Publication) live(now time.Time, window time.Duration) recording.LiveStream {
	ls := recording.LiveStream{Domain: p.Req.Key.Domain, App: p.Req.Key.App, Stream: p.Req.Key.Stream,
		ClientAddr: p.Req.Remote, Protocol: p.Req.Protocol, StartedAt: p.Start}
	ls.VideoKbps, ls.AudioKbps, ls.FrameRate = p.meter.rates(now, window)
	if v := p.meter.videoTrack.Load(); v != nil {
		ls.VideoCodec, ls.Width, ls.Height = strings.ToUpper(v.Codec.String()), v.Width, v.Height
	}
	if a := p.meter.audioTrack.Load(); a != nil {
		ls.AudioCodec, ls.SampleRate, ls.Channels = strings.ToUpper(a.Codec.String()), a.SampleRate, a.Channels
	}
	return ls
}
