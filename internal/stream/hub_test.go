package stream

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
)

type fakeSink struct {
	mu      sync.Mutex
	units   int
	ended   error
	endings int
}

func (s *fakeSink) WriteBatch(b *Batch) {
	s.mu.Lock()
	s.units += len(b.Units)
	s.mu.Unlock()
	b.Release()
}
func (s *fakeSink) SetMetadata(float64) {}
func (s *fakeSink) End(err error) {
	s.mu.Lock()
	s.ended = err
	s.endings++
	s.mu.Unlock()
}

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func unitBatch() *Batch {
	b := NewBatch()
	b.Add(&media.Unit{Track: &media.Track{Codec: media.CodecAAC}, Data: []byte{1, 2, 3}})
	return b
}

func TestHubBusyAndIdleTakeover(t *testing.T) {
	clk := &clock{now: time.Unix(1000, 0)}
	sinks := map[uint64]*fakeSink{}
	h := &Hub{PublishIdleTimeout: 5 * time.Second, Now: clk.Now, DrainTimeout: 50 * time.Millisecond, Open: func(p *Publication) Sink {
		s := &fakeSink{}
		sinks[p.ID] = s
		return s
	}}
	key := Key{"a.com", "live", "cam"}
	first, err := h.Publish(context.Background(), PublishRequest{Key: key})
	require.NoError(t, err)
	first.WriteBatch(unitBatch())

	clk.now = clk.now.Add(4 * time.Second)
	require.False(t, h.Idle(key))
	_, err = h.Publish(context.Background(), PublishRequest{Key: key})
	require.ErrorIs(t, err, ErrBusy, "a publisher that sent media 4 s ago is active")
	require.NoError(t, first.Context().Err())

	other, err := h.Publish(context.Background(), PublishRequest{Key: Key{"a.com", "live", "other"}})
	require.NoError(t, err, "another key is independent")
	other.Close(nil)

	clk.now = clk.now.Add(2 * time.Second) // 6 s since the last media
	require.True(t, h.Idle(key), "the cluster lets such a stream go to another node")
	require.False(t, h.Idle(Key{"a.com", "live", "none"}))
	second, err := h.Publish(context.Background(), PublishRequest{Key: key})
	require.NoError(t, err)
	require.Error(t, first.Context().Err(), "the idle publisher is kicked")
	require.Equal(t, 1, sinks[first.ID].endings)
	require.Equal(t, 1, sinks[first.ID].units)

	first.WriteBatch(unitBatch()) // late write of the kicked publisher is dropped
	require.Equal(t, 1, sinks[first.ID].units)
	first.Close(errors.New("gone")) // its own close must not remove the newcomer
	_, err = h.Publish(context.Background(), PublishRequest{Key: key})
	require.ErrorIs(t, err, ErrBusy, "the newcomer still holds the key")
	require.NoError(t, second.Context().Err())
	again, err := h.Publish(context.Background(), PublishRequest{Key: Key{"a.com", "live", "other"}})
	require.NoError(t, err, "a closed publication no longer holds its key, though it started 2 s ago")
	again.Close(nil)

	h.Close()
	require.ErrorIs(t, sinks[second.ID].ended, ErrClosed)
	_, err = h.Publish(context.Background(), PublishRequest{Key: key})
	require.ErrorIs(t, err, ErrClosed)
}

func TestBatchCopiesData(t *testing.T) {
	b := NewBatch()
	buf := []byte{1, 2, 3}
	for i := range 100 {
		buf[0] = byte(i)
		b.Add(&media.Unit{DTS: time.Duration(i), Data: buf})
	}
	for i, u := range b.Units {
		require.Equal(t, []byte{byte(i), 2, 3}, u.Data, "unit %d keeps its own bytes", i)
		require.Equal(t, 3, cap(u.Data), "a unit cannot grow into its neighbour")
	}
	b.Release()
}

// TestHubCloseLetsPublicationsDrain: Close cancels publications and waits for them to hand on
// what their connections still hold and end themselves; one that does not end within
// DrainTimeout is ended.
func TestHubCloseLetsPublicationsDrain(t *testing.T) {
	sinks := map[uint64]*fakeSink{}
	var mu sync.Mutex
	h := &Hub{DrainTimeout: 300 * time.Millisecond, Open: func(p *Publication) Sink {
		s := &fakeSink{}
		mu.Lock()
		sinks[p.ID] = s
		mu.Unlock()
		return s
	}}
	draining, err := h.Publish(context.Background(), PublishRequest{Key: Key{"a.com", "live", "drains"}})
	require.NoError(t, err)
	stuck, err := h.Publish(context.Background(), PublishRequest{Key: Key{"a.com", "live", "stuck"}})
	require.NoError(t, err)
	gone := errors.New("publisher gone")
	go func() {
		<-draining.Context().Done()
		draining.WriteBatch(unitBatch()) // the socket's last bytes
		draining.Close(gone)
	}()
	start := time.Now()
	h.Close()
	require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "Close waited for the stuck one")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, 1, sinks[draining.ID].units, "the last batch after the cancel is kept")
	require.ErrorIs(t, sinks[draining.ID].ended, gone, "it ended by itself")
	require.ErrorIs(t, sinks[stuck.ID].ended, ErrClosed, "the stuck one is ended by Close")
	require.Equal(t, 1, sinks[stuck.ID].endings)
}
