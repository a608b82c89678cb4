package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// A change that fails for a reason that may pass is kept, the recording's later changes wait
// behind it, other recordings go on at once, and Run writes them all in order.
func TestWriterKeepsFailedChangesInOrder(t *testing.T) {
	t.Parallel()
	st := &fakeStore{callbacks: callbacks1()}
	e, notified := newEmitter(t, st)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)

	down := errors.New("database is locked")
	st.failNext(down)
	require.NoError(t, e.Started(ctx, rec1(), log), "kept, not failed")
	e.Paused(ctx, "rec_1")
	other := rec1()
	other.ID, other.Stream = "rec_2", "s2"
	require.NoError(t, e.Started(ctx, other, log))

	require.Equal(t, []recording.Event{recording.EventRecordStarted}, st.events())
	require.Equal(t, "rec_2", st.changes()[0].RecordingInsert.ID)
	require.Equal(t, "2 state changes wait to be written: database is locked", e.Health())
	require.Equal(t, 1, notified())

	// The first retry fails again: nothing is written out of order.
	st.failNext(down)
	run(t, e)
	waitFor(t, func() bool { return e.Health() == "" }, "the kept changes to be written")
	cs := st.changes()
	require.Len(t, cs, 3)
	require.Equal(t, "rec_1", cs[1].RecordingInsert.ID)
	require.Equal(t, recording.EventRecordPaused, cs[2].Events[0].Type)
	require.Equal(t, 3, notified())
}

// When the database's disk is full the reserve is given back and the change written at once;
// readiness says so until Run takes the reserve again.
func TestWriterReleasesTheReserveOnAFullDisk(t *testing.T) {
	t.Parallel()
	st := &fakeStore{}
	e, _ := newEmitter(t, st)
	reserve := e.w.reserve
	st.failNext(fmt.Errorf("write: %w", store.ErrNoSpace))
	require.NoError(t, e.Started(context.Background(), rec1(), slog.New(slog.DiscardHandler)))
	require.Len(t, st.changes(), 1, "written after the reserve was given back")
	require.False(t, reserve.Held())
	require.Contains(t, e.Health(), "is not held: the data disk is (or was) full")

	run(t, e)
	waitFor(t, reserve.Held, "the reserve to be held again")
	require.Empty(t, e.Health())
}

// A change that cannot be written even after the reserve is given back is kept.
func TestWriterKeepsWhatAFullDiskRefuses(t *testing.T) {
	t.Parallel()
	st := &fakeStore{}
	e, _ := newEmitter(t, st)
	full := fmt.Errorf("write: %w", store.ErrNoSpace)
	st.failNext(full, full)
	require.NoError(t, e.Started(context.Background(), rec1(), slog.New(slog.DiscardHandler)))
	require.Empty(t, st.changes())
	require.Equal(t, "1 state changes wait to be written: write: no space left for the database", e.Health())
	require.True(t, e.Flush(context.Background()))
	require.Len(t, st.changes(), 1)
}

// Flush drops a kept change that turned out never to be writable, and reports what stays.
func TestWriterFlush(t *testing.T) {
	t.Parallel()
	st := &fakeStore{}
	e, _ := newEmitter(t, st)
	ctx := context.Background()
	st.failNext(errors.New("timeout"))
	require.NoError(t, e.Started(ctx, rec1(), slog.New(slog.DiscardHandler)))
	st.failNext(errors.New("timeout"))
	require.False(t, e.Flush(ctx))
	require.NotEmpty(t, e.Health())
	st.failNext(recording.ErrNotFound)
	require.True(t, e.Flush(ctx))
	require.Empty(t, st.changes(), "dropped")
	require.Empty(t, e.Health())
}

// A kept event is renumbered by the store when it is finally written.
func TestWriterLeavesNumberingToTheStore(t *testing.T) {
	t.Parallel()
	st := &fakeStore{}
	e, _ := newEmitter(t, st)
	ev := recording.OutboxEvent{Type: recording.EventRecordOver, Data: recording.EventData{RecordingID: "rec_1", Seq: 7}}
	require.NoError(t, e.w.apply(context.Background(), "rec_1", store.Change{Events: []recording.OutboxEvent{ev}}, false, "x"))
	require.Zero(t, st.changes()[0].Events[0].Data.Seq)
}
