package callbacks_test

import (
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// The events of one recording of push.example.com/live/cam1, as liverec's emitter fills them,
// and an on-demand failure of another stream: the bodies docs/callbacks.md shows and the
// deliveries the verifiers are tested with.

const (
	sampleProject   = "default"
	sampleRecording = "rec_4f9a2c61d8e03b57"
	sampleFile      = "f_7d21e0c94ab35f86"
	sampleStartKey  = "record/live/cam1/2026-05-04-09-00-00_live.mp4"
	sampleKey       = "record/live/cam1/2026-05-04-09-00-00_2026-05-04-10-00-00.mp4"
	sampleDownload  = "http://127.0.0.1:8080/download/local/recordings/" + sampleKey +
		"?expires=1777975202&signature=5b0e4f1c9a7d3e2b8c6f0a1d4e7b9c2f5a8d1e4b7c0f3a6d9e2b5c8f1a4d7e0b"
)

// at is a time of the sample recording's day.
func at(clock string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, "2026-05-04T"+clock+"Z")
	if err != nil {
		panic(err)
	}
	return t
}

func ptr[T any](v T) *T { return &v }

// sampleEvents returns every internal event once, in the order a recording sends them.
func sampleEvents() []recording.OutboxEvent {
	base := recording.EventData{Project: sampleProject, RecordingID: sampleRecording, Domain: "push.example.com",
		App: "live", Stream: "cam1", PushArgs: map[string]string{"callback_room": "42"}}
	with := func(seq int64, edit func(*recording.EventData)) recording.EventData {
		d := base
		d.Seq = seq
		if edit != nil {
			edit(&d)
		}
		return d
	}
	fileStart := func(d *recording.EventData) {
		d.FileID, d.Format, d.Endpoint, d.Bucket = sampleFile, recording.FormatMP4, recording.DefaultEndpoint, recording.DefaultBucket
		d.StartTime, d.Width, d.Height = ptr(at("09:00:00.968")), 1920, 1080
		d.ObjectKey = sampleStartKey
	}
	fileStored := func(d *recording.EventData) {
		fileStart(d)
		d.ObjectKey, d.Bytes, d.Duration = sampleKey, 1_073_741_312, 3599981*time.Millisecond
		d.EndTime = ptr(at("10:00:00.949"))
	}
	return []recording.OutboxEvent{
		{ID: "ev_0c5b7e19a4d2f683", Type: recording.EventRecordStarted, Data: with(1, nil), CreatedAt: at("09:00:00.412")},
		{ID: "ev_1a8f3d60c2e947b5", Type: recording.EventFileStarted, Data: with(2, fileStart), CreatedAt: at("09:00:01.037")},
		{ID: "ev_2e6c9b04f7a135d8", Type: recording.EventRecordPaused, Data: with(3, nil), CreatedAt: at("09:20:05.118")},
		{ID: "ev_3b4d8a27e6f0c159", Type: recording.EventRecordResumed, Data: with(4, nil), CreatedAt: at("09:20:21.640")},
		{ID: "ev_4f0e2c95b8d71a36", Type: recording.EventFileCompleted, Data: with(5, func(d *recording.EventData) {
			fileStored(d)
			d.DownloadURL = sampleDownload
		}), CreatedAt: at("10:00:02.733")},
		{ID: "ev_5d9a1f73c0b4e862", Type: recording.EventRecordOver, Data: with(6, nil), CreatedAt: at("10:12:31.205")},
		{ID: "ev_6c3e8b52d1f9a074", Type: recording.EventRecordFailed, Data: with(6, func(d *recording.EventData) {
			d.Reason = "store file: dial tcp 10.0.0.5:9000: connect: connection refused"
		}), CreatedAt: at("10:12:31.205")},
		{ID: "ev_7a2f6d49e8c05b13", Type: recording.EventOnDemandFailed, Data: recording.EventData{
			Project: sampleProject, RecordingID: "rec_8e1b5c07f4a29d36", Domain: "push.example.com", App: "live",
			Stream: "cam2", Seq: 1, PushArgs: map[string]string{},
			Reason: "record_config: on-demand decision failed: invalid: NeedRecord is missing",
		}, CreatedAt: at("11:30:00.802")},
		{ID: "ev_8b7c0e31f5d2a964", Type: recording.EventFileDeleted, Data: with(7, func(d *recording.EventData) {
			fileStored(d)
			d.Reason = recording.DeleteRetention
		}), CreatedAt: time.Date(2026, 6, 3, 10, 0, 4, 311e6, time.UTC)},
	}
}

// dialectCase is one dialect: its configuration (subscribed to every event it sends), a key of
// the form it takes, and the events it sends, by the name its verifier prints.
type dialectCase struct {
	name  string
	cfg   recording.CallbackConfig
	key   string
	sends map[recording.Event]string
}

// Keys of the documentation's examples. Real ones: POST /api/v1/callback-keys.
const (
	docStandardKey = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	docKey         = "Xq7RmT2vLw9KpB4nZc8HjF3dYs6GtA1e"
)

func dialectCases() []dialectCase {
	all := []recording.Event{recording.EventRecordStarted, recording.EventRecordPaused, recording.EventRecordResumed,
		recording.EventFileStarted, recording.EventFileCompleted, recording.EventRecordOver,
		recording.EventRecordFailed, recording.EventOnDemandFailed, recording.EventFileDeleted}
	return []dialectCase{{
		name: "standard",
		cfg:  recording.CallbackConfig{ID: "cb_standard", Dialect: recording.DialectStandard, Enabled: true},
		key:  docStandardKey,
		sends: map[recording.Event]string{
			recording.EventRecordStarted: "recording.record_started", recording.EventRecordPaused: "recording.record_paused",
			recording.EventRecordResumed: "recording.record_resumed", recording.EventFileStarted: "recording.file_started",
			recording.EventFileCompleted: "recording.file_completed", recording.EventRecordOver: "recording.record_over",
			recording.EventRecordFailed: "recording.record_failed", recording.EventOnDemandFailed: "recording.ondemand_failed",
			recording.EventFileDeleted: "recording.file_deleted",
		},
	}, {
		name: "aliyun",
		cfg: recording.CallbackConfig{ID: "cb_aliyun", Dialect: recording.DialectAliyun, Enabled: true,
			NeedStatusNotify: true},
		key: docKey,
		sends: map[recording.Event]string{
			recording.EventRecordStarted: "record_started", recording.EventRecordPaused: "record_paused",
			recording.EventRecordResumed: "record_resumed", recording.EventFileCompleted: "file_completed",
		},
	}, {
		name: "huawei",
		cfg: recording.CallbackConfig{ID: "cb_huawei", Dialect: recording.DialectHuawei, Enabled: true,
			SignType: recording.SignHMACSHA256, Events: all},
		key: docKey,
		sends: map[recording.Event]string{
			recording.EventRecordStarted: "RECORD_START", recording.EventFileStarted: "RECORD_NEW_FILE_START",
			recording.EventFileCompleted: "RECORD_FILE_COMPLETE", recording.EventRecordOver: "RECORD_OVER",
			recording.EventRecordFailed: "RECORD_FAILED",
		},
	}}
}
