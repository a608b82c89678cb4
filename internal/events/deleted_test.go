package events

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

func TestFileDeletedWritesStateAndEventInOneChange(t *testing.T) {
	st := &fakeStore{callbacks: callbacks1()}
	e, notified := newEmitter(t, st)
	rec := rec1()
	rec.Label, rec.App = "goal", "vod" // "live" has a disabled standard configuration
	end := time.Unix(1700000060, 0)
	f := &recording.File{ID: "f_1", RecordingID: rec.ID, Format: recording.FormatMP4, State: recording.FileStored,
		Endpoint: "local", Bucket: "b", ObjectKey: "k.mp4", StartedAt: end.Add(-time.Minute), EndedAt: &end, Bytes: 42}

	require.NoError(t, e.FileDeleted(t.Context(), rec, f, recording.DeleteRetention))
	require.Equal(t, recording.FileDeleted, f.State)
	require.NotNil(t, f.DeletedAt)

	cs := st.changes()
	require.Len(t, cs, 1)
	c := cs[0]
	require.Len(t, c.FileUpdates, 1)
	require.Equal(t, recording.FileStored, c.FileUpdates[0].From, "only a stored file is marked")
	require.Equal(t, recording.FileDeleted, c.FileUpdates[0].File.State)
	require.Equal(t, f.DeletedAt, c.FileUpdates[0].File.DeletedAt)
	require.Len(t, c.Events, 1)
	ev := c.Events[0]
	require.Equal(t, recording.EventFileDeleted, ev.Type)
	require.Equal(t, "retention", ev.Data.Reason)
	require.Equal(t, "goal", ev.Data.Label)
	require.Equal(t, int64(42), ev.Data.Bytes)
	require.Equal(t, "k.mp4", ev.Data.ObjectKey)
	require.Equal(t, rec.ID, ev.Data.RecordingID)
	require.Equal(t, []string{"cb_std_any"}, deliveries(c), "the standard configuration receives it, Alibaba's does not")
	require.Equal(t, 1, notified())
}

func TestFileDeletedReturnsAFailedWriteInsteadOfKeepingIt(t *testing.T) {
	st := &fakeStore{callbacks: callbacks1()}
	e, _ := newEmitter(t, st)
	st.failNext(errors.New("database is locked"))
	f := &recording.File{ID: "f_1", RecordingID: rec1().ID, State: recording.FileStored}
	err := e.FileDeleted(t.Context(), rec1(), f, recording.DeleteAPI)
	require.ErrorContains(t, err, "database is locked")
	require.Equal(t, recording.FileStored, f.State)
	require.Empty(t, st.changes())
	require.Empty(t, e.Health(), "nothing was kept to retry")

	st.failNext(recording.ErrConflict)
	require.ErrorIs(t, e.FileDeleted(t.Context(), rec1(), f, recording.DeleteAPI), recording.ErrConflict)
	require.NoError(t, e.FileDeleted(t.Context(), rec1(), f, recording.DeleteAPI))
	require.Len(t, st.changes(), 1)
}

func TestFilesDeletedWritesABatchInOneChangeWithAnEventPerFile(t *testing.T) {
	st := &fakeStore{callbacks: append(callbacks1(),
		recording.CallbackConfig{ID: "cb_b", Project: "p", Dialect: recording.DialectStandard, Domain: "b.com", App: "*",
			URL: "http://b", Enabled: true})}
	e, notified := newEmitter(t, st)
	recA, recB := rec1(), rec1()
	recA.App = "vod"
	recB.ID, recB.Domain, recB.Label = "rec_2", "b.com", "goal"
	set := time.Unix(1700000000, 0)
	file := func(id string, rec *recording.Recording) store.DueFile {
		return store.DueFile{Recording: *rec, File: recording.File{ID: id, RecordingID: rec.ID, Format: recording.FormatMP4,
			State: recording.FileStored, ObjectKey: id + ".mp4", StartedAt: set, Bytes: 7}}
	}
	files := []store.DueFile{file("f_1", recA), file("f_2", recA), file("f_3", recB)}
	files[2].File.DeletedAt = &set

	require.NoError(t, e.FilesDeleted(t.Context(), files, recording.DeleteDiskFull))
	cs := st.changes()
	require.Len(t, cs, 1, "one write for the batch")
	c := cs[0]
	require.Len(t, c.FileUpdates, 3)
	require.Len(t, c.Events, 3)
	for i, u := range c.FileUpdates {
		require.Equal(t, files[i].File.ID, u.File.ID)
		require.Equal(t, recording.FileStored, u.From)
		require.Equal(t, recording.FileDeleted, u.File.State)
		require.Equal(t, recording.FileDeleted, files[i].File.State, "the caller's copy is updated")
		ev := c.Events[i]
		require.Equal(t, recording.EventFileDeleted, ev.Type)
		require.Equal(t, files[i].File.ID, ev.Data.FileID)
		require.Equal(t, files[i].Recording.ID, ev.Data.RecordingID)
		require.Equal(t, "disk_full", ev.Data.Reason)
	}
	require.Equal(t, &set, c.FileUpdates[2].File.DeletedAt, "a DeletedAt the caller set is kept")
	require.Equal(t, "goal", c.Events[2].Data.Label)
	require.Equal(t, []string{"cb_std_any", "cb_std_any", "cb_b"}, deliveries(c))
	require.Equal(t, 2, st.lookups, "callbacks are looked up once per domain")
	require.Equal(t, 1, notified())
}

func TestFilesDeletedWritesNothingOfAFailedBatch(t *testing.T) {
	st := &fakeStore{callbacks: callbacks1()}
	e, _ := newEmitter(t, st)
	rec := rec1()
	files := []store.DueFile{
		{Recording: *rec, File: recording.File{ID: "f_1", RecordingID: rec.ID, State: recording.FileStored}},
		{Recording: *rec, File: recording.File{ID: "f_2", RecordingID: rec.ID, State: recording.FileStored}},
	}
	st.failNext(recording.ErrConflict)
	require.ErrorIs(t, e.FilesDeleted(t.Context(), files, recording.DeleteRetention), recording.ErrConflict)
	require.Equal(t, recording.FileStored, files[0].File.State)
	require.Nil(t, files[0].File.DeletedAt)
	require.Empty(t, st.changes())
	require.Empty(t, e.Health(), "nothing was kept to retry")

	files[1].File.RecordingID = "rec_other"
	require.ErrorContains(t, e.FilesDeleted(t.Context(), files, recording.DeleteRetention), "not of recording")
	require.NoError(t, e.FilesDeleted(t.Context(), nil, recording.DeleteRetention))
	require.Empty(t, st.changes())
}
