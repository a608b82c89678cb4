package events

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
)

// fakeSlices is a catalogue that records the slices it is given, in the order of the writes
// of st (so a test sees a slice's place among the recording's changes), and fails as told.
type fakeSlices struct {
	st   *fakeStore
	mu   sync.Mutex
	fail []error
	got  []recording.Slice
	at   []int // how many changes st had written when each slice was
}

func (f *fakeSlices) SliceInsert(_ context.Context, s *recording.Slice) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.fail) > 0 {
		err := f.fail[0]
		f.fail = f.fail[1:]
		if err != nil {
			return err
		}
	}
	f.got = append(f.got, *s)
	f.at = append(f.at, len(f.st.changes()))
	return nil
}

func (f *fakeSlices) failNext(errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = append(f.fail, errs...)
}

func (f *fakeSlices) slices() ([]recording.Slice, []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recording.Slice(nil), f.got...), append([]int(nil), f.at...)
}

func sliceEmitter(t *testing.T, st *fakeStore, sl *fakeSlices) *Emitter {
	t.Helper()
	reserve := newReserve(t, 4096)
	return New(Config{Store: st, Slices: sl, Reserve: reserve, DataDir: filepath.Dir(reserve.Path),
		RetryMin: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond})
}

func slice(seq int) *recording.Slice {
	return &recording.Slice{RecordingID: "rec_1", FileSeq: 0, Seq: seq, Endpoint: "local", Bucket: "b",
		ObjectKey: "live/s1/ts/" + string(rune('0'+seq)) + ".ts", StartedAt: time.Unix(1000+int64(2*seq), 0),
		Duration: 2 * time.Second, Bytes: 1000}
}

// TestSliceStoredIsWrittenInOrderAndKept: a stored slice is written to the catalogue; when the
// database cannot take it for now it is kept and retried, and while a change of its recording
// waits, its slices wait behind it (the slice row needs its recording).
func TestSliceStoredIsWrittenInOrderAndKept(t *testing.T) {
	t.Parallel()
	st := &fakeStore{}
	sl := &fakeSlices{st: st}
	e := sliceEmitter(t, st, sl)
	ctx := context.Background()

	down := errors.New("database is locked")
	st.failNext(down)
	require.NoError(t, e.Started(ctx, rec1(), slog.New(slog.DiscardHandler)), "kept")
	e.SliceStored(ctx, slice(0))
	got, _ := sl.slices()
	require.Empty(t, got, "waits behind the recording's insert")
	require.Equal(t, "2 state changes wait to be written: database is locked", e.Health())

	run(t, e)
	waitFor(t, func() bool { return e.Health() == "" }, "the kept writes")
	got, at := sl.slices()
	require.Equal(t, []recording.Slice{*slice(0)}, got)
	require.Equal(t, []int{1}, at, "written after the recording")

	// A slice the database refuses for now is kept and retried.
	sl.failNext(down)
	e.SliceStored(ctx, slice(1))
	waitFor(t, func() bool { g, _ := sl.slices(); return len(g) == 2 }, "the kept slice")
	got, _ = sl.slices()
	require.Equal(t, *slice(1), got[1])
	waitFor(t, func() bool { return e.Health() == "" }, "nothing left")

	// One that can never be written (no such recording) is not kept.
	sl.failNext(recording.ErrNotFound)
	e.SliceStored(ctx, slice(2))
	require.Empty(t, e.Health())
	got, _ = sl.slices()
	require.Len(t, got, 2)
}

// Without a catalogue slices are not kept, and nothing waits.
func TestSliceStoredWithoutCatalogue(t *testing.T) {
	t.Parallel()
	st := &fakeStore{}
	e, _ := newEmitter(t, st)
	e.SliceStored(context.Background(), slice(0))
	require.Empty(t, st.changes())
	require.Empty(t, e.Health())
}
