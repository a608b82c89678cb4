package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

func newRecording(project, stream string) *recording.Recording {
	return &recording.Recording{
		Project: project, RuleID: "r_0123456789abcdef", Domain: "a.com", App: "live", Stream: stream,
		State: recording.RecordingActive, StartedAt: odd(0),
	}
}

func insertRecording(ctx context.Context, t *testing.T, s store.Store, project, stream string) *recording.Recording {
	t.Helper()
	rec := newRecording(project, stream)
	require.NoError(t, s.RecordingInsert(ctx, rec))
	return rec
}

func exerciseRecordings(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("InsertAssignsIDAndRoundTripsNilTimesAndParams", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		require.Regexp(t, idPattern[store.RecordingPrefix], rec.ID)
		require.Equal(t, normalised(odd(0)), rec.StartedAt)

		got, err := s.RecordingGet(ctx, "p1", rec.ID)
		require.NoError(t, err)
		require.Equal(t, rec, got)
		require.Nil(t, got.EndedAt)
		require.Nil(t, got.Params)
	})

	t.Run("RoundTripsParams", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		for _, params := range []map[string]string{
			{},
			{"callback_a": "1", "callback_b": "x y&z=é"},
		} {
			rec := newRecording("p1", "s1")
			rec.Params = params
			require.NoError(t, s.RecordingInsert(ctx, rec))
			got, err := s.RecordingGet(ctx, "p1", rec.ID)
			require.NoError(t, err)
			require.Equal(t, params, got.Params)
			require.NotNil(t, got.Params, "an empty map stays a map")
		}
	})

	t.Run("InsertDuplicateIDConflicts", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		dup := newRecording("p1", "s2")
		dup.ID = rec.ID
		require.ErrorIs(t, s.RecordingInsert(ctx, dup), recording.ErrConflict)
	})

	t.Run("GetIsNotFoundForUnknownIDsAndOtherProjects", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		_, err := s.RecordingGet(ctx, "p1", "rec_unknown")
		require.ErrorIs(t, err, recording.ErrNotFound)
		_, err = s.RecordingGet(ctx, "p2", rec.ID)
		require.ErrorIs(t, err, recording.ErrNotFound)
	})

	t.Run("UpdateWritesStateReasonEndAndParams", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		ended := odd(time.Hour)
		rec.State, rec.Reason, rec.EndedAt = recording.RecordingFailed, "disk full", &ended
		rec.Params = map[string]string{"callback_x": "1"}
		require.NoError(t, s.RecordingUpdate(ctx, rec))
		require.Equal(t, normalised(ended), *rec.EndedAt)

		got, err := s.RecordingGet(ctx, "p1", rec.ID)
		require.NoError(t, err)
		require.Equal(t, rec, got)

		// And back to nil: a resumed recording has no end.
		rec.State, rec.Reason, rec.EndedAt, rec.Params = recording.RecordingActive, "", nil, nil
		require.NoError(t, s.RecordingUpdate(ctx, rec))
		got, err = s.RecordingGet(ctx, "p1", rec.ID)
		require.NoError(t, err)
		require.Equal(t, rec, got)
	})

	t.Run("UpdateIsNotFoundForUnknownIDs", func(t *testing.T) {
		t.Parallel()
		rec := newRecording("p1", "s1")
		rec.ID = "rec_unknown"
		require.ErrorIs(t, newStore(t).RecordingUpdate(t.Context(), rec), recording.ErrNotFound)
	})

	t.Run("ListFiltersAndPages", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		r1 := insertRecording(ctx, t, s, "p1", "s1")
		r2 := insertRecording(ctx, t, s, "p2", "s1")
		r3 := insertRecording(ctx, t, s, "p1", "s2")
		r3.State = recording.RecordingOver
		require.NoError(t, s.RecordingUpdate(ctx, r3))
		r4 := insertRecording(ctx, t, s, "p1", "s1")

		cases := []struct {
			filter store.RecordingFilter
			want   []string
			total  int
		}{
			{store.RecordingFilter{Project: "p1"}, []string{r1.ID, r3.ID, r4.ID}, 3},
			{store.RecordingFilter{Project: "p2"}, []string{r2.ID}, 1},
			{store.RecordingFilter{Project: "p3"}, []string{}, 0},
			{store.RecordingFilter{}, []string{r1.ID, r2.ID, r3.ID, r4.ID}, 4},
			{store.RecordingFilter{State: recording.RecordingActive}, []string{r1.ID, r2.ID, r4.ID}, 3},
			{store.RecordingFilter{Project: "p1", Stream: "s1"}, []string{r1.ID, r4.ID}, 2},
			{store.RecordingFilter{Project: "p1", Domain: "a.com", App: "live", RuleID: r1.RuleID}, []string{r1.ID, r3.ID, r4.ID}, 3},
			{store.RecordingFilter{Project: "p1", App: "vod"}, []string{}, 0},
			{store.RecordingFilter{Project: "p1", Limit: 1, Offset: 1, OrderDesc: true}, []string{r3.ID}, 3},
		}
		for _, tc := range cases {
			recs, total, err := s.RecordingList(ctx, tc.filter)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(recs, recordingID), "%+v", tc.filter)
			require.Equal(t, tc.total, total, "%+v", tc.filter)
		}
	})
}

func exerciseFiles(t *testing.T, newStore func(t *testing.T) store.Store) {
	newFile := func(recID string, format recording.Format) *recording.File {
		return &recording.File{
			RecordingID: recID, Format: format, State: recording.FileWriting,
			SpoolPath: "/spool/x." + string(format), Endpoint: "local", Bucket: "recordings", StartedAt: odd(0),
		}
	}

	t.Run("InsertAssignsIDAndListRoundTrips", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		f := newFile(rec.ID, recording.FormatFLV)
		require.NoError(t, s.FileInsert(ctx, f))
		require.Regexp(t, idPattern[store.FilePrefix], f.ID)

		files, total, err := s.FileList(ctx, store.FileFilter{RecordingID: rec.ID})
		require.NoError(t, err)
		require.Equal(t, 1, total)
		require.Equal(t, []recording.File{*f}, files)
		require.Nil(t, files[0].EndedAt)
	})

	t.Run("InsertForAnUnknownRecordingIsNotFound", func(t *testing.T) {
		t.Parallel()
		err := newStore(t).FileInsert(t.Context(), newFile("rec_unknown", recording.FormatMP4))
		require.ErrorIs(t, err, recording.ErrNotFound)
	})

	t.Run("InsertDuplicateIDConflicts", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		f := newFile(rec.ID, recording.FormatFLV)
		require.NoError(t, s.FileInsert(ctx, f))
		dup := newFile(rec.ID, recording.FormatMP4)
		dup.ID = f.ID
		require.ErrorIs(t, s.FileInsert(ctx, dup), recording.ErrConflict)
	})

	t.Run("UpdateWritesEveryMutableField", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		f := newFile(rec.ID, recording.FormatMP4)
		require.NoError(t, s.FileInsert(ctx, f))

		ended := odd(90 * time.Minute)
		f.State, f.EndedAt = recording.FileStored, &ended
		f.SpoolPath, f.Endpoint, f.Bucket = "", "store1", "bkt"
		f.ObjectKey = "record/live/s1/2026-03-04-05-06-07_2026-03-04-06-36-07.mp4"
		f.Duration = 90*time.Minute + 123*time.Millisecond
		f.Bytes, f.VideoFrames, f.AudioFrames = 5<<32, 162000, 253125 // > 4 GiB
		require.NoError(t, s.FileUpdate(ctx, f))

		files, _, err := s.FileList(ctx, store.FileFilter{RecordingID: rec.ID})
		require.NoError(t, err)
		require.Equal(t, []recording.File{*f}, files)
	})

	t.Run("UpdateIsNotFoundForUnknownIDs", func(t *testing.T) {
		t.Parallel()
		f := newFile("rec_x", recording.FormatFLV)
		f.ID = "f_unknown"
		require.ErrorIs(t, newStore(t).FileUpdate(t.Context(), f), recording.ErrNotFound)
	})

	t.Run("ListFiltersAndPages", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		recA := insertRecording(ctx, t, s, "p1", "s1")
		recB := insertRecording(ctx, t, s, "p1", "s2")
		var fs []*recording.File
		for _, x := range []struct {
			rec    string
			format recording.Format
		}{
			{recA.ID, recording.FormatFLV}, {recA.ID, recording.FormatMP4}, {recB.ID, recording.FormatFLV},
			{recA.ID, recording.FormatHLS}, {recA.ID, recording.FormatFLV},
		} {
			f := newFile(x.rec, x.format)
			require.NoError(t, s.FileInsert(ctx, f))
			fs = append(fs, f)
		}
		fs[0].State = recording.FileCompleted
		require.NoError(t, s.FileUpdate(ctx, fs[0]))

		cases := []struct {
			filter store.FileFilter
			want   []string
			total  int
		}{
			{store.FileFilter{}, []string{fs[0].ID, fs[1].ID, fs[2].ID, fs[3].ID, fs[4].ID}, 5},
			{store.FileFilter{RecordingID: recA.ID}, []string{fs[0].ID, fs[1].ID, fs[3].ID, fs[4].ID}, 4},
			{store.FileFilter{RecordingID: recA.ID, Format: recording.FormatFLV}, []string{fs[0].ID, fs[4].ID}, 2},
			{store.FileFilter{State: recording.FileCompleted}, []string{fs[0].ID}, 1},
			{store.FileFilter{RecordingID: recA.ID, Offset: 1, Limit: 2}, []string{fs[1].ID, fs[3].ID}, 4},
			{store.FileFilter{RecordingID: recA.ID, Limit: 1, OrderDesc: true}, []string{fs[4].ID}, 4},
			{store.FileFilter{RecordingID: "rec_unknown"}, []string{}, 0},
		}
		for _, tc := range cases {
			files, total, err := s.FileList(ctx, tc.filter)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(files, fileID), "%+v", tc.filter)
			require.Equal(t, tc.total, total, "%+v", tc.filter)
		}
	})
}
