package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// endedRecording stores an ended recording of rule r that ended at end, with one stored file
// per format on endpoint.
func endedRecording(ctx context.Context, t *testing.T, s Driver, r *recording.Rule, stream string, end time.Time,
	endpoint string, formats ...recording.Format,
) (*recording.Recording, []*recording.File) {
	t.Helper()
	rec := &recording.Recording{Project: r.Project, RuleID: r.ID, Domain: r.Domain, App: r.App, Stream: stream,
		State: recording.RecordingOver, StartedAt: end.Add(-time.Minute), EndedAt: &end}
	require.NoError(t, s.RecordingInsert(ctx, rec))
	var files []*recording.File
	for i, format := range formats {
		fend := end
		f := &recording.File{RecordingID: rec.ID, Format: format, Seq: i, State: recording.FileStored,
			Endpoint: endpoint, Bucket: "recordings", ObjectKey: rec.ID + "/" + string(format),
			StartedAt: end.Add(-time.Minute), EndedAt: &fend, Bytes: 100}
		require.NoError(t, s.FileInsert(ctx, f))
		files = append(files, f)
	}
	return rec, files
}

func dueIDs(due []store.DueFile) []string {
	return ids(due, func(d store.DueFile) string { return d.File.ID })
}

func exerciseRetention(t *testing.T, newStore func(t *testing.T) Driver) {
	t.Run("RuleAndRecordingFieldsRoundTrip", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := newRecording("p1", "s1")
		rec.Locked, rec.Label = true, "goal"
		require.NoError(t, s.RecordingInsert(ctx, rec))
		got, err := s.RecordingGet(ctx, "p1", rec.ID)
		require.NoError(t, err)
		require.Equal(t, rec, got)
	})

	t.Run("LockIsPerProjectAndKeptByUpdates", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		rec := insertRecording(ctx, t, s, "p1", "s1")
		_, err := s.RecordingLock(ctx, "p2", rec.ID, true)
		require.ErrorIs(t, err, recording.ErrNotFound)
		_, err = s.RecordingLock(ctx, "p1", "rec_unknown", true)
		require.ErrorIs(t, err, recording.ErrNotFound)

		locked, err := s.RecordingLock(ctx, "p1", rec.ID, true)
		require.NoError(t, err)
		require.True(t, locked.Locked)
		rec.State = recording.RecordingOver
		require.NoError(t, s.RecordingUpdate(ctx, rec))
		got, err := s.RecordingGet(ctx, "p1", rec.ID)
		require.NoError(t, err)
		require.True(t, got.Locked, "a state update keeps the lock")

		unlocked, err := s.RecordingLock(ctx, "p1", rec.ID, false)
		require.NoError(t, err)
		require.False(t, unlocked.Locked)
	})

	t.Run("RetentionRulesAreThoseWithARetention", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		insertRule(ctx, t, s, "p1", "a.com", "live", "*")
		r2 := rule("p2", "b.com", "live", "*")
		r2.RetentionS = 60
		require.NoError(t, s.RuleInsert(ctx, r2))
		got, err := s.RetentionRules(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{r2.ID}, ids(got, ruleID))
		require.Equal(t, int64(60), got[0].RetentionS)
	})

	t.Run("DueIsStoredUnlockedEndedByTheCutoffOldestFirst", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		r := rule("p1", "a.com", "live", "*")
		r.RetentionS = 60
		require.NoError(t, s.RuleInsert(ctx, r))
		other := insertRule(ctx, t, s, "p1", "b.com", "live", "*")
		cutoff := odd(0)

		newer, newerFiles := endedRecording(ctx, t, s, r, "s1", cutoff.Add(-time.Second), "local", recording.FormatMP4, recording.FormatFLV)
		_, older := endedRecording(ctx, t, s, r, "s2", cutoff.Add(-time.Hour), "local", recording.FormatMP4)
		_, atCutoff := endedRecording(ctx, t, s, r, "s3", cutoff, "local", recording.FormatMP4)
		endedRecording(ctx, t, s, r, "late", cutoff.Add(time.Microsecond), "local", recording.FormatMP4)
		endedRecording(ctx, t, s, other, "s1", cutoff.Add(-time.Hour), "local", recording.FormatMP4)
		locked, _ := endedRecording(ctx, t, s, r, "locked", cutoff.Add(-2*time.Hour), "local", recording.FormatMP4)
		_, err := s.RecordingLock(ctx, "p1", locked.ID, true)
		require.NoError(t, err)
		live := insertRecording(ctx, t, s, "p1", "live")
		live.RuleID = r.ID
		_, deleted := endedRecording(ctx, t, s, r, "gone", cutoff.Add(-3*time.Hour), "local", recording.FormatMP4)
		deleted[0].State = recording.FileDeleted
		require.NoError(t, s.FileUpdate(ctx, deleted[0]))

		due, err := s.RetentionDue(ctx, r.ID, cutoff, 0)
		require.NoError(t, err)
		require.Equal(t, []string{older[0].ID, newerFiles[0].ID, newerFiles[1].ID, atCutoff[0].ID}, dueIDs(due))
		require.Equal(t, *newer, due[1].Recording, "each file comes with its recording")
		require.Equal(t, *newerFiles[0], due[1].File)

		page, err := s.RetentionDue(ctx, r.ID, cutoff, 2)
		require.NoError(t, err)
		require.Equal(t, dueIDs(due[:2]), dueIDs(page))
	})

	t.Run("ConditionalDeleteConflictsOnceDeletedAndTakesSlices", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		r := insertRule(ctx, t, s, "p1", "a.com", "live", "*")
		_, files := endedRecording(ctx, t, s, r, "s1", odd(0), "local", recording.FormatHLS)
		f := files[0]
		insertSlices(ctx, t, s, slice(f.RecordingID, f.Seq, 0, 0), slice(f.RecordingID, f.Seq, 1, 2*time.Second))

		at := odd(time.Hour)
		f.State, f.DeletedAt = recording.FileDeleted, &at
		ev := recording.OutboxEvent{Type: recording.EventFileDeleted,
			Data: recording.EventData{Project: "p1", RecordingID: f.RecordingID, FileID: f.ID, Reason: recording.DeleteRetention}}
		require.NoError(t, s.Apply(ctx, store.Change{FileUpdate: f, FileUpdateFrom: recording.FileStored,
			Events: []recording.OutboxEvent{ev}}))
		err := s.Apply(ctx, store.Change{FileUpdate: f, FileUpdateFrom: recording.FileStored,
			Events: []recording.OutboxEvent{{Type: recording.EventFileDeleted, Data: ev.Data}}})
		require.ErrorIs(t, err, recording.ErrConflict)

		evs, err := s.EventsOf(ctx, f.RecordingID)
		require.NoError(t, err)
		require.Len(t, evs, 1, "the conflicting change wrote no event")
		got, err := s.FileGet(ctx, "p1", f.ID)
		require.NoError(t, err)
		require.Equal(t, recording.FileDeleted, got.State)
		left, err := s.SliceList(ctx, store.SliceFilter{RecordingID: f.RecordingID})
		require.NoError(t, err)
		require.Empty(t, left, "the HLS file's slices are deleted with it")
		all, err := s.SliceList(ctx, store.SliceFilter{RecordingID: f.RecordingID, Deleted: true})
		require.NoError(t, err)
		require.Len(t, all, 2)
	})

	t.Run("BatchOfConditionalUpdatesIsAllOrNothing", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		r := insertRule(ctx, t, s, "p1", "a.com", "live", "*")
		rec, files := endedRecording(ctx, t, s, r, "s1", odd(0), "local",
			recording.FormatMP4, recording.FormatFLV, recording.FormatHLS)
		insertSlices(ctx, t, s, slice(rec.ID, files[2].Seq, 0, 0))
		at := odd(time.Hour)
		batch := func(fs ...*recording.File) store.Change {
			var c store.Change
			for _, f := range fs {
				upd := *f
				upd.State, upd.DeletedAt = recording.FileDeleted, &at
				c.FileUpdates = append(c.FileUpdates, store.FileUpdate{File: &upd, From: recording.FileStored})
				c.Events = append(c.Events, recording.OutboxEvent{Type: recording.EventFileDeleted,
					Data: recording.EventData{Project: "p1", RecordingID: rec.ID, FileID: f.ID, Reason: recording.DeleteRetention}})
			}
			return c
		}
		state := func(f *recording.File) recording.FileState {
			got, err := s.FileGet(ctx, "p1", f.ID)
			require.NoError(t, err)
			return got.State
		}

		require.NoError(t, s.Apply(ctx, batch(files[1])))
		err := s.Apply(ctx, batch(files[0], files[1], files[2]))
		require.ErrorIs(t, err, recording.ErrConflict, "files[1] is no longer stored")
		require.ErrorContains(t, err, files[1].ID)
		require.Equal(t, recording.FileStored, state(files[0]), "nothing of the failed batch was written")
		require.Equal(t, recording.FileStored, state(files[2]))
		evs, err := s.EventsOf(ctx, rec.ID)
		require.NoError(t, err)
		require.Len(t, evs, 1)

		missing := *files[0]
		missing.ID = "f_unknown"
		require.ErrorIs(t, s.Apply(ctx, batch(files[0], &missing)), recording.ErrNotFound)

		require.NoError(t, s.Apply(ctx, batch(files[0], files[2])))
		require.Equal(t, recording.FileDeleted, state(files[0]))
		require.Equal(t, recording.FileDeleted, state(files[2]))
		evs, err = s.EventsOf(ctx, rec.ID)
		require.NoError(t, err)
		require.Len(t, evs, 3, "one event per deleted file")
		require.Equal(t, []int64{1, 2, 3}, []int64{evs[0].Data.Seq, evs[1].Data.Seq, evs[2].Data.Seq})
		left, err := s.SliceList(ctx, store.SliceFilter{RecordingID: rec.ID})
		require.NoError(t, err)
		require.Empty(t, left, "the HLS file's slices are deleted with it")
	})

	t.Run("OverwriteCandidatesAreOnTheEndpointOfOverwritingRules", func(t *testing.T) {
		t.Parallel()
		ctx, s := t.Context(), newStore(t)
		r := rule("p1", "a.com", "live", "*")
		r.OverwriteWhenFull = true
		require.NoError(t, s.RuleInsert(ctx, r))
		keep := insertRule(ctx, t, s, "p1", "b.com", "live", "*")

		_, second := endedRecording(ctx, t, s, r, "s1", odd(0), "local", recording.FormatMP4)
		_, first := endedRecording(ctx, t, s, r, "s2", odd(-time.Hour), "local", recording.FormatMP4)
		endedRecording(ctx, t, s, r, "s3", odd(-2*time.Hour), "other", recording.FormatMP4)
		endedRecording(ctx, t, s, keep, "s1", odd(-2*time.Hour), "local", recording.FormatMP4)
		locked, _ := endedRecording(ctx, t, s, r, "locked", odd(-3*time.Hour), "local", recording.FormatMP4)
		_, err := s.RecordingLock(ctx, "p1", locked.ID, true)
		require.NoError(t, err)

		got, err := s.OverwriteCandidates(ctx, "local", 0)
		require.NoError(t, err)
		require.Equal(t, []string{first[0].ID, second[0].ID}, dueIDs(got))
		got, err = s.OverwriteCandidates(ctx, "local", 1)
		require.NoError(t, err)
		require.Equal(t, []string{first[0].ID}, dueIDs(got))
	})
}
