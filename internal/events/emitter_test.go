package events

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// rec1 is a new recording of p's a.com/live/s1.
func rec1() *recording.Recording {
	return &recording.Recording{ID: "rec_1", Project: "p", RuleID: "rule_1", Domain: "a.com", App: "live", Stream: "s1",
		State: recording.RecordingActive, StartedAt: time.Unix(1000, 0), Params: map[string]string{"callback_x": "1"}}
}

// callbacks1 are p's configurations of a.com: Alibaba for every app with status callbacks,
// Huawei for "live" (default subscription: file completed), a disabled standard one for
// "live" that hides the standard "*" one, and another project's.
func callbacks1() []recording.CallbackConfig {
	return []recording.CallbackConfig{
		{ID: "cb_ali", Project: "p", Dialect: recording.DialectAliyun, Domain: "a.com", App: "*", URL: "http://ali",
			NeedStatusNotify: true, Enabled: true},
		{ID: "cb_std_any", Project: "p", Dialect: recording.DialectStandard, Domain: "a.com", App: "*", URL: "http://std", Enabled: true},
		{ID: "cb_hw", Project: "p", Dialect: recording.DialectHuawei, Domain: "a.com", App: "live", URL: "http://hw", Enabled: true},
		{ID: "cb_std_live", Project: "p", Dialect: recording.DialectStandard, Domain: "a.com", App: "live", URL: "http://std2"},
		{ID: "cb_other", Project: "q", Dialect: recording.DialectAliyun, Domain: "a.com", App: "live", URL: "http://q",
			NeedStatusNotify: true, Enabled: true},
	}
}

// deliveries lists the callback IDs of a change's deliveries.
func deliveries(c store.Change) []string {
	var out []string
	for _, ds := range c.Deliveries {
		for _, d := range ds {
			out = append(out, d.CallbackID)
		}
	}
	return out
}

func TestEmitterLifecycleEventsAndFanOut(t *testing.T) {
	t.Parallel()
	st := &fakeStore{callbacks: callbacks1()}
	e, notified := newEmitter(t, st)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)

	require.NoError(t, e.Started(ctx, rec1(), log))
	start := time.Unix(1001, 0)
	e.FileStarted(ctx, "rec_1", FileStart{Format: recording.FormatFLV, Seq: 0, Start: start,
		Tracks:   media.Tracks{Video: &media.Track{Width: 1280, Height: 720}},
		Endpoint: "local", Bucket: "b", ObjectKey: "live/s1/0/live.flv"})
	e.Paused(ctx, "rec_1")
	e.Resumed(ctx, "rec_1")
	// An audio-only file keeps the size of the last video for the recording's file events.
	e.FileStarted(ctx, "rec_1", FileStart{Format: recording.FormatMP4, Start: start})
	e.FileStored(ctx, StoredFile{RecordingID: "rec_1", Format: recording.FormatFLV, Endpoint: "local", Bucket: "b",
		ObjectKey: "k.flv", Start: start, End: start.Add(time.Minute), Duration: time.Minute, Bytes: 100,
		VideoFrames: 1500, AudioFrames: 2800})
	e.Ended(ctx, "rec_1", nil, "")
	// After its end, a recording's changes are no longer written.
	e.FileStored(ctx, StoredFile{RecordingID: "rec_1", Format: recording.FormatMP4})
	e.Paused(ctx, "rec_1")
	e.FileStarted(ctx, "unknown", FileStart{})

	require.Equal(t, []recording.Event{recording.EventRecordStarted, recording.EventFileStarted,
		recording.EventRecordPaused, recording.EventRecordResumed, recording.EventFileStarted,
		recording.EventFileCompleted, recording.EventRecordOver}, st.events())
	cs := st.changes()
	// Status events go to Alibaba (NeedStatusNotify); file_completed to every dialect that takes
	// it, per dialect the exact app before "*", enabled or not; file_started to none of them.
	want := [][]string{{"cb_ali"}, nil, {"cb_ali"}, {"cb_ali"}, nil, {"cb_ali", "cb_hw"}, nil}
	var lastSeq int64
	for i, c := range cs {
		require.Equal(t, want[i], deliveries(c), "change %d", i)
		require.Len(t, c.Events, 1)
		ev := c.Events[0]
		require.Equal(t, recording.EventData{Project: "p", RecordingID: "rec_1", Domain: "a.com", App: "live",
			Stream: "s1", PushArgs: map[string]string{"callback_x": "1"}},
			recording.EventData{Project: ev.Data.Project, RecordingID: ev.Data.RecordingID, Domain: ev.Data.Domain,
				App: ev.Data.App, Stream: ev.Data.Stream, PushArgs: ev.Data.PushArgs}, "change %d", i)
		require.Zero(t, ev.Data.Seq, "numbered by the store")
		for _, ds := range c.Deliveries {
			for _, d := range ds {
				require.Equal(t, ev.ID, d.EventID)
				require.Equal(t, "p", d.Project)
				require.Equal(t, d.CallbackID+"|a.com/live/s1", d.OrderKey)
				require.Greater(t, d.Seq, lastSeq, "delivery numbers increase")
				lastSeq = d.Seq
			}
		}
	}
	require.Equal(t, 4, notified(), "one wake-up per change with deliveries")

	require.Equal(t, rec1(), cs[0].RecordingInsert)
	require.Equal(t, 1280, cs[1].Events[0].Data.Width)
	require.Equal(t, recording.RecordingPaused, cs[2].RecordingUpdate.State)
	require.Equal(t, recording.RecordingActive, cs[3].RecordingUpdate.State)
	require.Zero(t, cs[4].Events[0].Data.Width, "an audio-only file_started has no size")

	f, data := cs[5].FileInsert, cs[5].Events[0].Data
	require.NotNil(t, f)
	require.Equal(t, recording.File{ID: f.ID, RecordingID: "rec_1", Format: recording.FormatFLV, State: recording.FileStored,
		Endpoint: "local", Bucket: "b", ObjectKey: "k.flv", StartedAt: start, EndedAt: new(start.Add(time.Minute)),
		Duration: time.Minute, Bytes: 100, VideoFrames: 1500, AudioFrames: 2800, Width: 1280, Height: 720}, *f)
	require.Equal(t, f.ID, data.FileID)
	// file_started announced the file's ID and where it will be stored.
	started := cs[1].Events[0].Data
	require.Equal(t, f.ID, started.FileID, "file_started and file_completed name the same file")
	require.Equal(t, "live/s1/0/live.flv", started.ObjectKey)
	require.Equal(t, "local", started.Endpoint)
	require.Equal(t, "b", started.Bucket)
	require.NotEmpty(t, cs[4].Events[0].Data.FileID)
	require.NotEqual(t, f.ID, cs[4].Events[0].Data.FileID, "another file")
	require.Equal(t, "https://dl/local/b/k.flv", data.DownloadURL)
	require.Equal(t, 1280, data.Width)
	require.Equal(t, 720, data.Height)
	require.Equal(t, int64(100), data.Bytes)

	over := cs[6].RecordingUpdate
	require.Equal(t, recording.RecordingOver, over.State)
	require.NotNil(t, over.EndedAt)
	require.Empty(t, over.Reason)
}

func TestEmitterFailureIsWrittenOnce(t *testing.T) {
	t.Parallel()
	st := &fakeStore{}
	e, _ := newEmitter(t, st)
	ctx := context.Background()
	require.NoError(t, e.Started(ctx, rec1(), slog.New(slog.DiscardHandler)))
	e.Failed(ctx, "rec_1", errors.New(" upload failed \n")) //nolint:revive // the padding is the case: reasons are trimmed
	e.Failed(ctx, "rec_1", errors.New("again"))
	e.Paused(ctx, "rec_1")
	// Files stored after the failure are still reported; the end writes nothing more.
	e.FileStored(ctx, StoredFile{RecordingID: "rec_1", Format: recording.FormatFLV})
	e.Ended(ctx, "rec_1", errors.New("upload failed"), "")
	require.Equal(t, []recording.Event{recording.EventRecordStarted, recording.EventRecordFailed,
		recording.EventFileCompleted}, st.events())
	failed := st.changes()[1]
	require.Equal(t, "upload failed", failed.Events[0].Data.Reason)
	require.Equal(t, recording.RecordingFailed, failed.RecordingUpdate.State)
	require.Equal(t, "upload failed", failed.RecordingUpdate.Reason)
	require.NotNil(t, failed.RecordingUpdate.EndedAt)
}

func TestEmitterEndedWithError(t *testing.T) {
	t.Parallel()
	st := &fakeStore{}
	e, _ := newEmitter(t, st)
	ctx := context.Background()
	require.NoError(t, e.Started(ctx, rec1(), slog.New(slog.DiscardHandler)))
	e.Ended(ctx, "rec_1", errors.New("spool lost \n"), RecoveredReason) //nolint:revive // the padding is the case: reasons are trimmed
	end := st.changes()[1]
	require.Equal(t, recording.EventRecordFailed, end.Events[0].Type)
	require.Equal(t, "spool lost", end.Events[0].Data.Reason)
	require.Equal(t, recording.RecordingFailed, end.RecordingUpdate.State)
	require.Equal(t, "spool lost \n", end.RecordingUpdate.Reason)
}

func TestEmitterAdopt(t *testing.T) {
	t.Parallel()
	st := &fakeStore{}
	e, _ := newEmitter(t, st)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)

	// A recording still marked live is ended, saying why.
	e.Adopt(rec1(), log)
	e.FileStored(ctx, StoredFile{RecordingID: "rec_1", Format: recording.FormatFLV})
	e.Ended(ctx, "rec_1", nil, RecoveredReason)
	// One that had ended: its late files are reported, its end is not written again.
	over := rec1()
	over.ID, over.State = "rec_2", recording.RecordingOver
	e.Adopt(over, log)
	e.FileStored(ctx, StoredFile{RecordingID: "rec_2", Format: recording.FormatMP4})
	e.Ended(ctx, "rec_2", nil, RecoveredReason)

	require.Equal(t, []recording.Event{recording.EventFileCompleted, recording.EventRecordOver,
		recording.EventFileCompleted}, st.events())
	end := st.changes()[1]
	require.Equal(t, RecoveredReason, end.Events[0].Data.Reason)
	require.Equal(t, RecoveredReason, end.RecordingUpdate.Reason)
	require.Equal(t, recording.RecordingOver, end.RecordingUpdate.State)
}

func TestEmitterNotRecorded(t *testing.T) {
	t.Parallel()
	st := &fakeStore{callbacks: callbacks1()}
	e, _ := newEmitter(t, st)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)

	no := rec1()
	no.State, no.Reason = recording.RecordingNotRecorded, "the decision said NeedRecord false"
	require.NoError(t, e.NotRecorded(ctx, no, false, log))
	failed := rec1()
	failed.ID, failed.State, failed.Reason = "rec_2", recording.RecordingNotRecorded, "on-demand decision failed: timeout"
	require.NoError(t, e.NotRecorded(ctx, failed, true, log))
	// Neither is live: later changes of theirs are not written.
	e.FileStored(ctx, StoredFile{RecordingID: "rec_1"})
	e.Ended(ctx, "rec_2", nil, "")

	cs := st.changes()
	require.Len(t, cs, 2)
	require.Equal(t, store.Change{RecordingInsert: no}, cs[0])
	require.Equal(t, failed, cs[1].RecordingInsert)
	require.Len(t, cs[1].Events, 1)
	require.Equal(t, recording.EventOnDemandFailed, cs[1].Events[0].Type)
	require.Equal(t, "on-demand decision failed: timeout", cs[1].Events[0].Data.Reason)
}

func TestEmitterUnwritableChange(t *testing.T) {
	t.Parallel()
	st := &fakeStore{}
	e, _ := newEmitter(t, st)
	st.failNext(recording.ErrConflict)
	err := e.Started(context.Background(), rec1(), slog.New(slog.DiscardHandler))
	require.ErrorIs(t, err, recording.ErrConflict)
	require.Empty(t, e.Health(), "a change that can never be written is not kept")
}
