package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// span inserts a recording of the key in project over [t0+from, t0+to), live when to is 0.
func span(ctx context.Context, t *testing.T, s store.Store, project, domain, stream string, mode recording.Mode,
	from, to time.Duration,
) *recording.Recording {
	t.Helper()
	rec := newRecording(project, stream)
	rec.Domain, rec.Mode, rec.StartedAt = domain, mode, t0.Add(from)
	if to != 0 {
		end := t0.Add(to)
		rec.State, rec.EndedAt = recording.RecordingOver, &end
	}
	require.NoError(t, s.RecordingInsert(ctx, rec))
	return rec
}

// exerciseRecordingCatalog covers what the catalogue added to recordings: Mode, the time range,
// the cursor.
func exerciseRecordingCatalog(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("ModeRoundTrips", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := span(ctx, t, s, "p1", "a.com", "s1", recording.ModeClip, 0, time.Minute)
		got, err := s.RecordingGet(ctx, "p1", rec.ID)
		require.NoError(t, err)
		require.Equal(t, rec, got)
		require.Equal(t, recording.ModeClip, got.Mode)
	})

	t.Run("ListFiltersByModeAndOverlap", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		a := span(ctx, t, s, "p1", "a.com", "s1", recording.ModeAuto, 0, 10*time.Minute)
		b := span(ctx, t, s, "p1", "a.com", "s1", recording.ModeManual, 10*time.Minute, 20*time.Minute)
		c := span(ctx, t, s, "p1", "a.com", "s1", recording.ModePlan, 20*time.Minute, 0) // live
		span(ctx, t, s, "p2", "a.com", "s1", recording.ModeAuto, 0, time.Hour)           // another project
		at := t0.Add
		cases := []struct {
			name   string
			filter store.RecordingFilter
			want   []string
		}{
			{"Mode", store.RecordingFilter{Mode: recording.ModeManual}, []string{b.ID}},
			{"EndsAtFromAndStartsAtToAreOut", store.RecordingFilter{From: at(10 * time.Minute), To: at(20 * time.Minute)}, []string{b.ID}},
			{"LiveOverlapsEveryLaterTime", store.RecordingFilter{From: at(time.Hour)}, []string{c.ID}},
			{"FromOnly", store.RecordingFilter{From: at(10*time.Minute - time.Microsecond)}, []string{a.ID, b.ID, c.ID}},
			{"ToOnly", store.RecordingFilter{To: at(10 * time.Minute)}, []string{a.ID}},
			{"ToJustAfterAStart", store.RecordingFilter{To: at(10*time.Minute + time.Nanosecond)}, []string{a.ID, b.ID}},
			{"ToAtTheFirstStart", store.RecordingFilter{To: t0}, []string{}},
			{"Inside", store.RecordingFilter{From: at(5 * time.Minute), To: at(25 * time.Minute)}, []string{a.ID, b.ID, c.ID}},
			{"WithState", store.RecordingFilter{From: at(5 * time.Minute), State: recording.RecordingActive}, []string{c.ID}},
		}
		for _, tc := range cases {
			tc.filter.Project = "p1"
			recs, total, err := s.RecordingList(ctx, tc.filter)
			require.NoError(t, err, tc.name)
			require.Equal(t, tc.want, ids(recs, recordingID), tc.name)
			require.Equal(t, len(tc.want), total, tc.name)
		}
	})

	t.Run("LongAndLongLiveRecordingsOverlapLaterRanges", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		long := span(ctx, t, s, "p1", "a.com", "s1", recording.ModeAuto, -10*24*time.Hour, time.Hour)
		oldLive := span(ctx, t, s, "p1", "a.com", "s2", recording.ModeAuto, -30*24*time.Hour, 0)
		short := span(ctx, t, s, "p1", "a.com", "s3", recording.ModeAuto, -time.Hour, -30*time.Minute)
		span(ctx, t, s, "p2", "a.com", "s1", recording.ModeAuto, -100*24*time.Hour, 0)
		for _, tc := range []struct {
			from, to time.Time
			want     []string
		}{
			{t0.Add(30 * time.Minute), t0.Add(time.Hour), []string{long.ID, oldLive.ID}},
			{t0.Add(-45 * time.Minute), t0, []string{long.ID, oldLive.ID, short.ID}},
			{t0.Add(-20 * 24 * time.Hour), t0.Add(-15 * 24 * time.Hour), []string{oldLive.ID}},
			{t0.Add(2 * time.Hour), time.Time{}, []string{oldLive.ID}},
		} {
			recs, total, err := s.RecordingList(ctx, store.RecordingFilter{Project: "p1", From: tc.from, To: tc.to})
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(recs, recordingID), "%s–%s", tc.from, tc.to)
			require.Equal(t, len(tc.want), total)
		}
	})

	t.Run("TotalsFollowStatesModesAndProjects", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		a := span(ctx, t, s, "p1", "a.com", "s1", recording.ModeAuto, 0, 0)
		span(ctx, t, s, "p1", "a.com", "s1", recording.ModeManual, 0, 0)
		span(ctx, t, s, "p1", "a.com", "s2", recording.ModeAuto, 0, time.Minute)
		span(ctx, t, s, "p2", "a.com", "s1", recording.ModeAuto, 0, 0)
		total := func(f store.RecordingFilter) int {
			t.Helper()
			recs, n, err := s.RecordingList(ctx, f)
			require.NoError(t, err)
			if f.Limit == 0 {
				require.Len(t, recs, n, "the total is what the list holds")
			}
			return n
		}
		require.Equal(t, 3, total(store.RecordingFilter{Project: "p1", Limit: 1}))
		require.Equal(t, 4, total(store.RecordingFilter{}))
		require.Equal(t, 2, total(store.RecordingFilter{Project: "p1", State: recording.RecordingActive}))
		require.Equal(t, 3, total(store.RecordingFilter{State: recording.RecordingActive}))
		require.Equal(t, 1, total(store.RecordingFilter{Project: "p1", State: recording.RecordingActive, Mode: recording.ModeAuto}))
		require.Equal(t, 3, total(store.RecordingFilter{Mode: recording.ModeAuto}))

		end := t0.Add(time.Hour)
		a.State, a.EndedAt = recording.RecordingOver, &end
		require.NoError(t, s.RecordingUpdate(ctx, a))
		require.Equal(t, 1, total(store.RecordingFilter{Project: "p1", State: recording.RecordingActive}))
		require.Equal(t, 2, total(store.RecordingFilter{Project: "p1", State: recording.RecordingOver, Mode: recording.ModeAuto}))
		require.Equal(t, 3, total(store.RecordingFilter{Project: "p1"}))
		require.NoError(t, s.RecordingUpdate(ctx, a), "an update that changes nothing counts nothing")
		require.Equal(t, 3, total(store.RecordingFilter{Project: "p1"}))
		require.Equal(t, 2, total(store.RecordingFilter{Project: "p1", State: recording.RecordingOver}))
	})

	t.Run("CursorPagesBothWays", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		var p1 []string
		for i := range 5 {
			p1 = append(p1, insertRecording(ctx, t, s, "p1", "s1").ID)
			if i == 2 {
				insertRecording(ctx, t, s, "p2", "s1")
			}
		}
		walk := func(desc bool) []string {
			var seen []string
			after := ""
			for range 10 {
				recs, total, err := s.RecordingList(ctx, store.RecordingFilter{Project: "p1", After: after, Limit: 2, OrderDesc: desc})
				require.NoError(t, err)
				require.Equal(t, 5, total, "the total counts the whole filter, not what follows the cursor")
				if len(recs) == 0 {
					return seen
				}
				require.LessOrEqual(t, len(recs), 2)
				seen = append(seen, ids(recs, recordingID)...)
				after = recs[len(recs)-1].ID
			}
			t.Fatal("the cursor does not reach the end")
			return nil
		}
		require.Equal(t, p1, walk(false))
		require.Equal(t, []string{p1[4], p1[3], p1[2], p1[1], p1[0]}, walk(true))

		recs, _, err := s.RecordingList(ctx, store.RecordingFilter{Project: "p1", After: p1[1], Offset: 1, Limit: 1})
		require.NoError(t, err)
		require.Equal(t, []string{p1[3]}, ids(recs, recordingID), "an offset counts from the cursor")
	})

	t.Run("CursorOfAnUnknownOrForeignRecordingIsNotFound", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		insertRecording(ctx, t, s, "p1", "s1")
		other := insertRecording(ctx, t, s, "p2", "s1")
		_, _, err := s.RecordingList(ctx, store.RecordingFilter{Project: "p1", After: "rec_unknown"})
		require.ErrorIs(t, err, recording.ErrNotFound)
		_, _, err = s.RecordingList(ctx, store.RecordingFilter{Project: "p1", After: other.ID})
		require.ErrorIs(t, err, recording.ErrNotFound)
	})
}

// exerciseFileCatalog covers what the catalogue added to files: Seq, Width, Height, DeletedAt,
// FileGet, the recording's key and mode, the time range, the cursor.
func exerciseFileCatalog(t *testing.T, newStore func(t *testing.T) Driver) {
	file := func(recID string, format recording.Format, from, to time.Duration) *recording.File {
		f := &recording.File{
			RecordingID: recID, Format: format, State: recording.FileStored, Seq: 1,
			Endpoint: "local", Bucket: "recordings", ObjectKey: "k/" + string(format), StartedAt: t0.Add(from),
		}
		if to != 0 {
			end := t0.Add(to)
			f.EndedAt = &end
		} else {
			f.State = recording.FileWriting
		}
		return f
	}

	t.Run("NewFieldsRoundTripAndGetIsPerProject", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		f := file(rec.ID, recording.FormatHLS, 0, 0)
		f.Seq, f.Width, f.Height = 3, 1920, 1080
		f.StartedAt = odd(0)
		require.NoError(t, s.FileInsert(ctx, f))
		got, err := s.FileGet(ctx, "p1", f.ID)
		require.NoError(t, err)
		require.Equal(t, f, got)

		deleted := odd(time.Hour)
		f.Width, f.Height, f.State, f.DeletedAt = 1280, 720, recording.FileDeleted, &deleted
		require.NoError(t, s.FileUpdate(ctx, f))
		require.Equal(t, normalised(deleted), *f.DeletedAt)
		got, err = s.FileGet(ctx, "p1", f.ID)
		require.NoError(t, err)
		require.Equal(t, f, got)
		require.Equal(t, 3, got.Seq)

		_, err = s.FileGet(ctx, "p2", f.ID)
		require.ErrorIs(t, err, recording.ErrNotFound)
		_, err = s.FileGet(ctx, "p1", "f_unknown")
		require.ErrorIs(t, err, recording.ErrNotFound)
	})

	t.Run("ApplyWritesTheNewFields", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := newRecording("p1", "s1")
		rec.Mode = recording.ModeManual
		f := &recording.File{Format: recording.FormatMP4, State: recording.FileWriting, Seq: 7, Width: 640, Height: 360, StartedAt: odd(0)}
		rec.ID = store.NewID(store.RecordingPrefix)
		f.RecordingID = rec.ID
		require.NoError(t, s.Apply(ctx, store.Change{RecordingInsert: rec, FileInsert: f}))
		got, err := s.FileGet(ctx, "p1", f.ID)
		require.NoError(t, err)
		require.Equal(t, f, got)
		gotRec, err := s.RecordingGet(ctx, "p1", rec.ID)
		require.NoError(t, err)
		require.Equal(t, recording.ModeManual, gotRec.Mode)

		deleted := odd(time.Minute)
		f.Width, f.DeletedAt = 1280, &deleted
		require.NoError(t, s.Apply(ctx, store.Change{FileUpdate: f}))
		got, err = s.FileGet(ctx, "p1", f.ID)
		require.NoError(t, err)
		require.Equal(t, f, got)
	})

	t.Run("ListFiltersByRecordingKeyAndOverlap", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		recA := span(ctx, t, s, "p1", "a.com", "s1", recording.ModeAuto, 0, 0)
		recB := span(ctx, t, s, "p1", "b.com", "s2", recording.ModeClip, 0, 0)
		recC := span(ctx, t, s, "p2", "a.com", "s1", recording.ModeAuto, 0, 0)
		var fs []*recording.File
		for _, f := range []*recording.File{
			file(recA.ID, recording.FormatHLS, 0, 10*time.Minute),
			file(recA.ID, recording.FormatMP4, 10*time.Minute, 0), // still written
			file(recB.ID, recording.FormatFLV, 0, 5*time.Minute),
			file(recC.ID, recording.FormatFLV, 0, time.Minute),
		} {
			require.NoError(t, s.FileInsert(ctx, f))
			fs = append(fs, f)
		}
		at := t0.Add
		cases := []struct {
			filter store.FileFilter
			want   []string
		}{
			{store.FileFilter{Project: "p1"}, []string{fs[0].ID, fs[1].ID, fs[2].ID}},
			{store.FileFilter{Project: "p1", Domain: "a.com"}, []string{fs[0].ID, fs[1].ID}},
			{store.FileFilter{Project: "p1", App: "live", Stream: "s2"}, []string{fs[2].ID}},
			{store.FileFilter{Project: "p2"}, []string{fs[3].ID}},
			{store.FileFilter{Project: "p1", Mode: recording.ModeClip}, []string{fs[2].ID}},
			{store.FileFilter{Mode: recording.ModeAuto}, []string{fs[0].ID, fs[1].ID, fs[3].ID}},
			{store.FileFilter{Project: "p1", NotMode: recording.ModeClip}, []string{fs[0].ID, fs[1].ID}},
			{store.FileFilter{NotMode: recording.ModeAuto}, []string{fs[2].ID}},
			{store.FileFilter{Project: "p3"}, []string{}},
			{store.FileFilter{From: at(5 * time.Minute)}, []string{fs[0].ID, fs[1].ID}},
			{store.FileFilter{From: at(time.Hour)}, []string{fs[1].ID}},
			{store.FileFilter{To: at(10 * time.Minute)}, []string{fs[0].ID, fs[2].ID, fs[3].ID}},
			{store.FileFilter{Project: "p1", From: at(time.Minute), To: at(2 * time.Minute), Format: recording.FormatFLV}, []string{fs[2].ID}},
			{store.FileFilter{Project: "p1", Limit: 2, OrderDesc: true}, []string{fs[2].ID, fs[1].ID}},
		}
		for _, tc := range cases {
			files, total, err := s.FileList(ctx, tc.filter)
			require.NoError(t, err, "%+v", tc.filter)
			require.Equal(t, tc.want, ids(files, fileID), "%+v", tc.filter)
			if tc.filter.Limit == 0 {
				require.Equal(t, len(tc.want), total, "%+v", tc.filter)
			}
		}

		// The cursor, both ways, within the project.
		page, total, err := s.FileList(ctx, store.FileFilter{Project: "p1", After: fs[0].ID, Limit: 1})
		require.NoError(t, err)
		require.Equal(t, []string{fs[1].ID}, ids(page, fileID))
		require.Equal(t, 3, total)
		page, _, err = s.FileList(ctx, store.FileFilter{Project: "p1", After: fs[1].ID, Limit: 5})
		require.NoError(t, err)
		require.Equal(t, []string{fs[2].ID}, ids(page, fileID))
		page, _, err = s.FileList(ctx, store.FileFilter{Project: "p1", After: fs[2].ID, OrderDesc: true})
		require.NoError(t, err)
		require.Equal(t, []string{fs[1].ID, fs[0].ID}, ids(page, fileID))
		page, _, err = s.FileList(ctx, store.FileFilter{RecordingID: recA.ID, After: fs[1].ID})
		require.NoError(t, err)
		require.Equal(t, []string{}, ids(page, fileID))
		_, _, err = s.FileList(ctx, store.FileFilter{Project: "p1", After: fs[3].ID})
		require.ErrorIs(t, err, recording.ErrNotFound, "another project's file is no cursor")
		_, _, err = s.FileList(ctx, store.FileFilter{After: "f_unknown"})
		require.ErrorIs(t, err, recording.ErrNotFound)
	})
}
