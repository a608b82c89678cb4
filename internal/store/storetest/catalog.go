package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// slice returns a 2 s slice of recording recID starting at t0+at.
func slice(recID string, fileSeq, seq int, at time.Duration) *recording.Slice {
	return &recording.Slice{
		RecordingID: recID, FileSeq: fileSeq, Seq: seq, Endpoint: "local", Bucket: "recordings",
		ObjectKey: fmt.Sprintf("%s/%d/%d.ts", recID, fileSeq, seq), StartedAt: t0.Add(at),
		Duration: 2 * time.Second, Bytes: 1000,
	}
}

func insertSlices(ctx context.Context, t *testing.T, s store.Catalog, slices ...*recording.Slice) {
	t.Helper()
	for _, sl := range slices {
		require.NoError(t, s.SliceInsert(ctx, sl))
	}
}

// sliceKey names a slice in failure messages and comparisons.
func sliceKey(s recording.Slice) string {
	return fmt.Sprintf("%s/%d/%d", s.RecordingID, s.FileSeq, s.Seq)
}

func keys(slices ...*recording.Slice) []string {
	out := make([]string, len(slices))
	for i, s := range slices {
		out[i] = sliceKey(*s)
	}
	return out
}

// stream is the slice filter of the stream key the recordings of newRecording have.
func stream(project, name string) store.SliceFilter {
	return store.SliceFilter{Project: project, Domain: "a.com", App: "live", Stream: name}
}

func exerciseSlices(t *testing.T, newStore func(t *testing.T) Driver) {
	t.Run("InsertFillsTheStreamKeyAndListRoundTrips", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		sl := slice(rec.ID, 1, 0, 0)
		sl.StartedAt, sl.Discontinuity, sl.Bytes = odd(0), true, 5<<32
		require.NoError(t, s.SliceInsert(ctx, sl))
		require.Equal(t, []string{"p1", "a.com", "live", "s1"}, []string{sl.Project, sl.Domain, sl.App, sl.Stream})
		require.Equal(t, normalised(odd(0)), sl.StartedAt)

		got, err := s.SliceList(ctx, store.SliceFilter{RecordingID: rec.ID})
		require.NoError(t, err)
		require.Equal(t, []recording.Slice{*sl}, got)
	})

	t.Run("InsertForAnUnknownRecordingIsNotFound", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		require.ErrorIs(t, s.SliceInsert(ctx, slice("rec_unknown", 0, 0, 0)), recording.ErrNotFound)
		got, err := s.SliceList(ctx, store.SliceFilter{})
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("ASecondInsertOfTheSameSliceReplacesIt", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		insertSlices(ctx, t, s, slice(rec.ID, 0, 0, 0), slice(rec.ID, 0, 1, 2*time.Second))
		again := slice(rec.ID, 0, 1, 3*time.Second)
		again.Duration, again.Bytes, again.ObjectKey = 1500*time.Millisecond, 777, "again.ts"
		require.NoError(t, s.SliceInsert(ctx, again))

		got, err := s.SliceList(ctx, store.SliceFilter{RecordingID: rec.ID})
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.Equal(t, *again, got[1])
	})

	t.Run("OverlapEdges", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		a, b, c := slice(rec.ID, 0, 0, 0), slice(rec.ID, 0, 1, 2*time.Second), slice(rec.ID, 0, 2, 4*time.Second)
		insertSlices(ctx, t, s, a, b, c)
		at := t0.Add
		cases := []struct {
			name     string
			from, to time.Time
			want     []string
		}{
			{"EndAtFromAndStartAtToAreOut", at(2 * time.Second), at(4 * time.Second), keys(b)},
			{"ToJustAfterAStart", at(2 * time.Second), at(4*time.Second + time.Nanosecond), keys(b, c)},
			{"FromJustBeforeAnEnd", at(2*time.Second - time.Microsecond), at(4 * time.Second), keys(a, b)},
			{"Inside", at(2500 * time.Millisecond), at(2600 * time.Millisecond), keys(b)},
			{"FromOnly", at(5 * time.Second), time.Time{}, keys(c)},
			{"ToOnly", time.Time{}, at(time.Second), keys(a)},
			{"After", at(6 * time.Second), time.Time{}, []string{}},
			{"Before", time.Time{}, t0, []string{}},
		}
		for _, tc := range cases {
			f := stream("p1", "s1")
			f.From, f.To = tc.from, tc.to
			got, err := s.SliceList(ctx, f)
			require.NoError(t, err, tc.name)
			require.Equal(t, tc.want, ids(got, sliceKey), tc.name)
		}
	})

	t.Run("ALongSliceOverlapsFromFarBefore", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		long := slice(rec.ID, 0, 0, 0)
		long.Duration = time.Hour
		short := slice(rec.ID, 0, 1, time.Hour)
		insertSlices(ctx, t, s, long, short)
		f := stream("p1", "s1")
		f.From, f.To = t0.Add(59*time.Minute), t0.Add(61*time.Minute)
		got, err := s.SliceList(ctx, f)
		require.NoError(t, err)
		require.Equal(t, keys(long, short), ids(got, sliceKey))
	})

	t.Run("ListOrdersByStartThenRecordingFileAndSeq", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		r1, r2 := newRecording("p1", "s1"), newRecording("p1", "s1")
		r1.ID, r2.ID = "rec_bbbbbbbbbbbbbbbb", "rec_aaaaaaaaaaaaaaaa"
		require.NoError(t, s.RecordingInsert(ctx, r1))
		require.NoError(t, s.RecordingInsert(ctx, r2))
		x1 := slice(r1.ID, 2, 0, 4*time.Second)
		x2 := slice(r1.ID, 1, 5, 4*time.Second)
		x3 := slice(r2.ID, 9, 9, 4*time.Second)
		x4 := slice(r1.ID, 1, 4, 4*time.Second)
		x5 := slice(r1.ID, 3, 0, 2*time.Second)
		insertSlices(ctx, t, s, x1, x2, x3, x4, x5)
		got, err := s.SliceList(ctx, stream("p1", "s1"))
		require.NoError(t, err)
		require.Equal(t, keys(x5, x3, x4, x2, x1), ids(got, sliceKey))

		f := stream("p1", "s1")
		f.Limit = 2
		got, err = s.SliceList(ctx, f)
		require.NoError(t, err)
		require.Equal(t, keys(x5, x3), ids(got, sliceKey))

		got, err = s.SliceList(ctx, store.SliceFilter{RecordingID: r1.ID, FileSeq: 1, HasFileSeq: true})
		require.NoError(t, err)
		require.Equal(t, keys(x4, x2), ids(got, sliceKey))
		got, err = s.SliceList(ctx, store.SliceFilter{RecordingID: r1.ID, HasFileSeq: true})
		require.NoError(t, err)
		require.Empty(t, got, "file_seq 0 selects file 0, which has no slices")
	})

	t.Run("ListKeepsProjectsAndStreamsApart", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		mine := insertRecording(ctx, t, s, "p1", "s1")
		theirs := insertRecording(ctx, t, s, "p2", "s1")
		other := insertRecording(ctx, t, s, "p1", "s2")
		a, b, c := slice(mine.ID, 0, 0, 0), slice(theirs.ID, 0, 0, 0), slice(other.ID, 0, 0, 0)
		insertSlices(ctx, t, s, a, b, c)
		for _, tc := range []struct {
			filter store.SliceFilter
			want   []string
		}{
			{stream("p1", "s1"), keys(a)},
			{stream("p2", "s1"), keys(b)},
			{stream("p3", "s1"), []string{}},
			{store.SliceFilter{Project: "p1"}, keys(a, c)},
			{store.SliceFilter{Domain: "a.com", App: "live", Stream: "s1"}, keys(b, a)},
		} {
			got, err := s.SliceList(ctx, tc.filter)
			require.NoError(t, err)
			require.ElementsMatch(t, tc.want, ids(got, sliceKey), "%+v", tc.filter)
		}
	})

	t.Run("FileDeleteMarksTheFileAndItsSlices", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		other := insertRecording(ctx, t, s, "p1", "s1")
		hls := &recording.File{RecordingID: rec.ID, Format: recording.FormatHLS, State: recording.FileStored, Seq: 1, StartedAt: t0}
		mp4 := &recording.File{RecordingID: rec.ID, Format: recording.FormatMP4, State: recording.FileStored, Seq: 2, StartedAt: t0}
		require.NoError(t, s.FileInsert(ctx, hls))
		require.NoError(t, s.FileInsert(ctx, mp4))
		gone1, gone2 := slice(rec.ID, 1, 0, 0), slice(rec.ID, 1, 1, 2*time.Second)
		kept, keptOther := slice(rec.ID, 2, 0, 4*time.Second), slice(other.ID, 1, 0, 0)
		insertSlices(ctx, t, s, gone1, gone2, kept, keptOther)

		require.ErrorIs(t, s.FileDelete(ctx, "p2", hls.ID, odd(time.Hour)), recording.ErrNotFound)
		require.ErrorIs(t, s.FileDelete(ctx, "p1", "f_unknown", odd(time.Hour)), recording.ErrNotFound)
		got, err := s.FileGet(ctx, "p1", hls.ID)
		require.NoError(t, err)
		require.Equal(t, recording.FileStored, got.State, "a refused delete changes nothing")

		require.NoError(t, s.FileDelete(ctx, "p1", hls.ID, odd(time.Hour)))
		got, err = s.FileGet(ctx, "p1", hls.ID)
		require.NoError(t, err)
		require.Equal(t, recording.FileDeleted, got.State)
		require.Equal(t, normalised(odd(time.Hour)), *got.DeletedAt)

		live, err := s.SliceList(ctx, stream("p1", "s1"))
		require.NoError(t, err)
		require.ElementsMatch(t, keys(keptOther, kept), ids(live, sliceKey))
		all, err := s.SliceList(ctx, store.SliceFilter{RecordingID: rec.ID, Deleted: true})
		require.NoError(t, err)
		require.Equal(t, keys(gone1, gone2, kept), ids(all, sliceKey))
		require.Equal(t, []bool{true, true, false}, []bool{all[0].Deleted, all[1].Deleted, all[2].Deleted})

		// An MP4 file has no slices: deleting it leaves the HLS slices that share its number.
		require.NoError(t, s.FileDelete(ctx, "p1", mp4.ID, odd(2*time.Hour)))
		live, err = s.SliceList(ctx, store.SliceFilter{RecordingID: rec.ID})
		require.NoError(t, err)
		require.Equal(t, keys(kept), ids(live, sliceKey))
	})
}
