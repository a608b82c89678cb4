package stream

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
)

var (
	h264Track = &media.Track{Codec: media.CodecH264, Width: 1280, Height: 720}
	aacTrack  = &media.Track{Codec: media.CodecAAC, SampleRate: 44100, Channels: 2}
)

// second is one second of media: fps pictures of vBytes/fps bytes and 43 AAC frames of
// aBytes/43 bytes (about 44.1 kHz).
func second(video *media.Track, fps, vBytes, aBytes int) *Batch {
	b := NewBatch()
	pic := make([]byte, vBytes/fps)
	for range fps {
		b.Add(&media.Unit{Track: video, Data: pic})
	}
	frame := make([]byte, aBytes/43)
	for range 43 {
		b.Add(&media.Unit{Track: aacTrack, Data: frame})
	}
	return b
}

func TestLiveMeasuresRecentMedia(t *testing.T) {
	clk := &clock{now: time.Unix(1000, 0)}
	h := &Hub{Now: clk.Now, MeasureWindow: 5 * time.Second, Open: func(*Publication) Sink { return &fakeSink{} }}
	p, err := h.Publish(context.Background(), PublishRequest{Key: Key{"b.com", "live", "cam"},
		Remote: "203.0.113.9:5000", Protocol: "rtmp"})
	require.NoError(t, err)
	other, err := h.Publish(context.Background(), PublishRequest{Key: Key{"a.com", "live", "cam"}})
	require.NoError(t, err)

	live := h.Live()
	require.Len(t, live, 2)
	require.Equal(t, "a.com", live[0].Domain, "sorted by key")
	first := live[1]
	require.Equal(t, "203.0.113.9:5000", first.ClientAddr)
	require.Equal(t, "rtmp", first.Protocol)
	require.Equal(t, time.Unix(1000, 0), first.StartedAt)
	require.Empty(t, first.VideoCodec, "nothing seen yet")
	require.Zero(t, first.VideoKbps)

	// Ten seconds at 25 fps, 2 Mbit/s video (250,000 bytes a second) and 128 kbit/s audio.
	for range 10 {
		clk.now = clk.now.Add(time.Second)
		p.WriteBatch(second(h264Track, 25, 250_000, 16_000))
	}
	live = h.Live()
	got := live[1]
	require.Equal(t, "H264", got.VideoCodec)
	require.Equal(t, "AAC", got.AudioCodec)
	require.Equal(t, 1280, got.Width)
	require.Equal(t, 720, got.Height)
	require.Equal(t, 44100, got.SampleRate)
	require.Equal(t, 2, got.Channels)
	require.InDelta(t, 25, got.FrameRate, 0.01)
	require.InDelta(t, 2000, got.VideoKbps, 1)
	require.InDelta(t, 128, got.AudioKbps, 1)

	// The rate drops to 10 fps and 500 kbit/s: within one window the measure is the new one.
	for range 5 {
		clk.now = clk.now.Add(time.Second)
		p.WriteBatch(second(h264Track, 10, 62_500, 16_000))
	}
	got = h.Live()[1]
	require.InDelta(t, 10, got.FrameRate, 0.01, "only the last window counts")
	require.InDelta(t, 500, got.VideoKbps, 1)

	// A new video track (new parameters) is what is shown.
	clk.now = clk.now.Add(time.Second)
	p.WriteBatch(second(&media.Track{Codec: media.CodecH265, Width: 1920, Height: 1080}, 10, 62_500, 16_000))
	got = h.Live()[1]
	require.Equal(t, "H265", got.VideoCodec)
	require.Equal(t, 1920, got.Width)

	// A publisher that sends nothing for a whole window shows no rate.
	clk.now = clk.now.Add(6 * time.Second)
	got = h.Live()[1]
	require.Zero(t, got.VideoKbps)
	require.Zero(t, got.FrameRate)
	require.Equal(t, "H265", got.VideoCodec, "the tracks stay known")

	p.Close(nil)
	other.Close(nil)
	require.Empty(t, h.Live(), "ended publications are not live")
}

// TestLiveFirstMeasureWithinAStep: a new publication has rates one step (window/10) after
// it started, not a whole window later.
func TestLiveFirstMeasureWithinAStep(t *testing.T) {
	clk := &clock{now: time.Unix(1000, 0)}
	h := &Hub{Now: clk.Now, MeasureWindow: 10 * time.Second}
	p, err := h.Publish(context.Background(), PublishRequest{Key: Key{"a.com", "live", "cam"}})
	require.NoError(t, err)
	defer p.Close(nil)
	for i := range 4 { // 24 fps in batches of 250 ms
		if i == 3 {
			require.Zero(t, h.Live()[0].FrameRate, "no step yet")
		}
		clk.now = clk.now.Add(250 * time.Millisecond)
		b := NewBatch()
		for range 6 {
			b.Add(&media.Unit{Track: h264Track, Data: make([]byte, 1000)})
		}
		p.WriteBatch(b)
	}
	got := h.Live()[0]
	require.InDelta(t, 24, got.FrameRate, 0.01)
	require.InDelta(t, 24*8, got.VideoKbps, 0.1)
}

func TestKickEndsThePublication(t *testing.T) {
	sink := &fakeSink{}
	h := &Hub{Open: func(*Publication) Sink { return sink }}
	key := Key{"a.com", "live", "cam"}
	p, err := h.Publish(context.Background(), PublishRequest{Key: key})
	require.NoError(t, err)

	require.False(t, h.Kick(Key{"a.com", "live", "other"}, nil), "nothing to kick")
	forbidden := errors.New("stream is forbidden")
	require.True(t, h.Kick(key, forbidden))
	require.ErrorIs(t, context.Cause(p.Context()), ErrKicked, "the connection can tell a kick")
	require.ErrorIs(t, context.Cause(p.Context()), forbidden)
	sink.mu.Lock()
	require.ErrorIs(t, sink.ended, forbidden, "the sink's End gets the reason")
	require.ErrorIs(t, sink.ended, ErrKicked)
	sink.mu.Unlock()
	require.Empty(t, h.Live())
	require.False(t, h.Kick(key, forbidden), "kicked once")

	p.WriteBatch(unitBatch()) // the connection's last reads are dropped
	p.Close(errors.New("connection closed"))
	sink.mu.Lock()
	require.Equal(t, 1, sink.endings, "End is called once")
	require.Zero(t, sink.units)
	sink.mu.Unlock()

	again, err := h.Publish(context.Background(), PublishRequest{Key: key})
	require.NoError(t, err, "the key is free at once")
	again.Close(nil)
}

// BenchmarkWriteBatch is the hub's share of ingest per batch (the measuring included): it
// must not allocate.
func BenchmarkWriteBatch(b *testing.B) {
	h := &Hub{}
	p, err := h.Publish(context.Background(), PublishRequest{Key: Key{"a.com", "live", "cam"}})
	require.NoError(b, err)
	defer p.Close(nil)
	pic, frame := make([]byte, 5000), make([]byte, 400)
	b.ReportAllocs()
	for b.Loop() {
		batch := NewBatch() // no sink: WriteBatch releases it into the pool for the next round
		batch.Add(&media.Unit{Track: h264Track, Data: pic})
		batch.Add(&media.Unit{Track: aacTrack, Data: frame})
		p.WriteBatch(batch)
	}
}

// TestLiveFrameRateCountsStreamTime: an encoder that sends 30 fps in bursts (here 40 frames
// a second of arrival, as x264 does while catching up) shows 30 fps, the stream's rate.
func TestLiveFrameRateCountsStreamTime(t *testing.T) {
	clk := &clock{now: time.Unix(1000, 0)}
	h := &Hub{Now: clk.Now, MeasureWindow: 5 * time.Second}
	p, err := h.Publish(context.Background(), PublishRequest{Key: Key{"a.com", "live", "cam"}})
	require.NoError(t, err)
	defer p.Close(nil)
	frame := time.Second / 30
	var dts time.Duration
	for range 6 {
		clk.now = clk.now.Add(time.Second)
		b := NewBatch()
		for range 40 {
			b.Add(&media.Unit{Track: h264Track, Data: make([]byte, 100), DTS: dts, PTS: dts})
			dts += frame
		}
		p.WriteBatch(b)
	}
	require.InDelta(t, 30, h.Live()[0].FrameRate, 0.01)
}
