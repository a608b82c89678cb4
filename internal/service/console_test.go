package service_test

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/notify/dialect"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/upload"
)

// uploaderNames is service.Service.ObjectKey as the app wires it: the uploader's naming.
func uploaderNames(loc *time.Location) func(n service.ObjectName) string {
	u := upload.New(upload.Config{Location: loc})
	return func(n service.ObjectName) string {
		v := upload.NameVars{Domain: n.Domain, App: n.App, Stream: n.Stream, Format: string(n.Format),
			RecordType: upload.RecordType(n.Mode), Sequence: n.Sequence, Start: n.Start, End: n.End}
		ext := upload.Extension(string(n.Format))
		if n.Slice {
			ext = upload.Extension("hls-slice")
		}
		return u.Key(n.Storage, n.Template, v, ext)
	}
}

func TestSendTestEventWritesOneSignedDeliveryToThatConfigurationOnly(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	clk := &clock{t: time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)}
	s.Now, s.ObjectKey = clk.now, uploaderNames(time.UTC)
	var woken atomic.Int32
	s.OnRedeliver = func() { woken.Add(1) }

	rule := &recording.Rule{Domain: "a.com", App: "live", Formats: []recording.FormatConfig{{Format: recording.FormatMP4,
		CycleS: 60, ObjectTemplate: "rec/{Domain}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}"}},
		Storage: recording.Storage{Endpoint: "local", Bucket: "b1"}}
	require.NoError(t, s.CreateRule(ctx, alice, rule))
	hw := &recording.CallbackConfig{Dialect: recording.DialectHuawei, Domain: "a.com", App: "live",
		URL: "https://hooks.example.com/hw", SignType: recording.SignHMACSHA256, Key: cbKey}
	require.NoError(t, s.CreateCallback(ctx, alice, hw))
	other := &recording.CallbackConfig{Dialect: recording.DialectStandard, Domain: "a.com", URL: "https://hooks.example.com/std"}
	require.NoError(t, s.CreateCallback(ctx, alice, other))

	te, err := s.SendTestEvent(ctx, alice, hw.ID, "")
	require.NoError(t, err)
	require.Equal(t, int32(1), woken.Load(), "the notifier is woken")
	require.Equal(t, recording.EventFileCompleted, te.Event.Type, "huawei's default subscription")
	d := te.Event.Data
	require.Equal(t, "a.com", d.Domain)
	require.Equal(t, "live", d.App)
	require.Equal(t, service.TestStream, d.Stream)
	require.True(t, strings.HasPrefix(d.RecordingID, "test_"), d.RecordingID)
	require.Equal(t, int64(1), d.Seq)
	require.Equal(t, recording.FormatMP4, d.Format)
	require.Equal(t, "b1", d.Bucket)
	require.Equal(t, "rec/a.com/liverec_test/2026-05-04-03-01-51_2026-05-04-03-02-01.mp4", d.ObjectKey,
		"named as the matching rule names its files")
	require.Positive(t, d.Bytes)

	// Exactly one delivery, to hw, in a queue of its own.
	dls, total, err := s.ListDeliveries(ctx, alice, store.DeliveryFilter{Limit: 10})
	require.NoError(t, err)
	require.Equal(t, 1, total)
	require.Equal(t, te.Delivery.ID, dls[0].ID)
	require.Equal(t, hw.ID, dls[0].CallbackID)
	require.Equal(t, "test:"+hw.ID, dls[0].OrderKey)
	require.Equal(t, recording.DeliveryPending, dls[0].State)
	require.Equal(t, te.Event.ID, dls[0].Event.ID)
	require.Equal(t, d.RecordingID, dls[0].Event.Data.RecordingID)

	// The stored event encodes as a real one: a Huawei body signed with the key.
	got, err := s.GetCallback(ctx, alice, hw.ID)
	require.NoError(t, err)
	key, err := s.CallbackKey(got)
	require.NoError(t, err)
	req, ok, err := dialect.Encode(dls[0].Event, got, key, clk.now())
	require.NoError(t, err)
	require.True(t, ok)
	var body map[string]any
	require.NoError(t, json.Unmarshal(req.Body, &body))
	require.Equal(t, "RECORD_FILE_COMPLETE", body["event_type"])
	require.Equal(t, d.RecordingID, body["task_id"])
	require.Equal(t, "liverec_test", body["stream"])
	require.NotEmpty(t, body["auth_sign"])

	// A named event the configuration receives; one it does not is refused.
	te, err = s.SendTestEvent(ctx, alice, other.ID, recording.EventRecordStarted)
	require.NoError(t, err)
	require.Equal(t, recording.EventRecordStarted, te.Event.Type)
	require.Empty(t, te.Event.Data.ObjectKey, "no file in a status event")
	_, err = s.SendTestEvent(ctx, alice, hw.ID, recording.EventRecordPaused)
	requireValidation(t, err, "event")
	_, err = s.SendTestEvent(ctx, alice, hw.ID, "no_such_event")
	requireValidation(t, err, "event")
}

func TestSendTestEventRefusals(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	c := newCallback("a.com")
	require.NoError(t, s.CreateCallback(ctx, alice, c))

	_, err := s.SendTestEvent(ctx, bob, c.ID, "")
	require.ErrorIs(t, err, recording.ErrNotFound, "another project's configuration does not exist for bob")

	c.Enabled, c.DisabledReason = false, "disabled through the API"
	require.NoError(t, s.UpdateCallback(ctx, alice, c))
	_, err = s.SendTestEvent(ctx, alice, c.ID, "")
	require.ErrorIs(t, err, recording.ErrConflict)
	var se *service.StateError
	require.ErrorAs(t, err, &se)
	require.Contains(t, se.Reason, "disabled through the API")

	_, total, err := s.ListDeliveries(ctx, alice, store.DeliveryFilter{Limit: 10})
	require.NoError(t, err)
	require.Zero(t, total, "a refused test writes nothing")
}

func TestSendTestEventOfTheCatchAllConfigurationUsesExampleNames(t *testing.T) {
	t.Parallel()
	ctx, s := t.Context(), newService(t)
	s.ObjectKey = uploaderNames(time.UTC)
	c := &recording.CallbackConfig{Dialect: recording.DialectStandard, Domain: "*", URL: "https://hooks.example.com/all"}
	require.NoError(t, s.CreateCallback(ctx, admin, c))
	te, err := s.SendTestEvent(ctx, admin, c.ID, recording.EventFileStarted)
	require.NoError(t, err)
	d := te.Event.Data
	require.Equal(t, "example.com", d.Domain)
	require.Equal(t, "live", d.App)
	// No rule of the project: the default rule's bucket and template, end time still "live".
	require.Equal(t, recording.DefaultBucket, d.Bucket)
	require.True(t, strings.HasPrefix(d.ObjectKey, "record/live/liverec_test/"), d.ObjectKey)
	require.True(t, strings.HasSuffix(d.ObjectKey, "_live.mp4"), d.ObjectKey)
	require.Nil(t, d.EndTime)
}

func TestPreviewObjectsRendersWithTheUploadersNaming(t *testing.T) {
	t.Parallel()
	s := newService(t)
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s.Now, s.ObjectKey = clk.now, uploaderNames(time.FixedZone("UTC+8", 8*3600))
	r := &recording.Rule{Domain: "*", App: "*", Stream: "*",
		Formats: []recording.FormatConfig{
			{Format: "MP4", CycleS: 600, ObjectTemplate: "x/{publish_domain}/{app}/{stream}/{file_start_time}_{EscapedEndTime}"},
			{Format: recording.FormatHLS, CycleS: 0, SliceS: 4},
			{Format: "avi", ObjectTemplate: "ignored"},
			{Format: recording.FormatFLV, CycleS: -7, ObjectTemplate: "{record_type}/{Sequence}"},
		},
		Storage: recording.Storage{Endpoint: "local", Bucket: "b", BasePath: "base"}}
	p := s.PreviewObjects(t.Context(), alice, r, service.StreamKey{})
	require.Equal(t, service.StreamKey{Domain: "example.com", App: "live", Stream: "mystream"}, p.Stream)
	require.Equal(t, map[string]string{
		"mp4":       "base/x/example.com/live/mystream/2026-01-02-11-04-05_2026-01-02-11-14-05.mp4",
		"hls":       "base/record/live/mystream/2026-01-02-11-04-05_2026-01-02-12-04-05.m3u8",
		"hls_slice": "base/record/live/mystream/1767323045_0.ts",
		"flv":       "base/CONTINUOUS_RECORD/0.flv",
	}, p.Objects, "an invalid cycle still previews; an unknown format is left out")

	r = &recording.Rule{Domain: "a.com", App: "app1", Stream: "s1", Mode: recording.ModeManual,
		Formats: []recording.FormatConfig{{Format: recording.FormatFLV, CycleS: 60, ObjectTemplate: "{Domain}/{AppName}/{StreamName}/{record_type}"}}}
	p = s.PreviewObjects(t.Context(), alice, r, service.StreamKey{Stream: "given"})
	require.Equal(t, service.StreamKey{Domain: "a.com", App: "app1", Stream: "given"}, p.Stream)
	require.Equal(t, map[string]string{"flv": "a.com/app1/given/COMMAND_RECORD.flv"}, p.Objects)
}
