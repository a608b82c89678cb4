package service

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/liverec/liverec/internal/notify/dialect"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// StateError is a request the object's current state refuses (a disabled callback
// configuration): a conflict whose Reason tells the caller what to change.
type StateError struct{ Reason string }

func (e *StateError) Error() string { return e.Reason }
func (e *StateError) Unwrap() error { return recording.ErrConflict }

// Sample values of test events.
const (
	TestStream          = "liverec_test"
	testRecordingPrefix = "test_"
	testDomain          = "example.com"
	testApp             = "live"
	testFileBytes       = 1 << 20
	testFileDuration    = 10 * time.Second
	testWidth           = 1280
	testHeight          = 720
)

// testEventOrder is the order in which a test event's type is chosen when the caller names
// none: the configuration's first subscribed event of this list.
var testEventOrder = []recording.Event{
	recording.EventFileCompleted, recording.EventRecordStarted, recording.EventRecordOver,
	recording.EventFileStarted, recording.EventRecordPaused, recording.EventRecordResumed,
	recording.EventRecordFailed, recording.EventOnDemandFailed,
}

// TestEvent is what SendTestEvent wrote.
type TestEvent struct {
	Event    recording.OutboxEvent
	Delivery recording.Delivery
}

// SendTestEvent writes one event of type t ("" for the configuration's first subscribed one)
// with sample data and one delivery of it to callback configuration id only, so its receiver
// gets a body of its dialect signed as real events are. The delivery is logged like any other
// (redeliverable when it fails). A disabled configuration, or one without an event URL, is a
// *StateError.
func (s *Service) SendTestEvent(ctx context.Context, p Principal, id string, t recording.Event) (*TestEvent, error) {
	c, err := s.GetCallback(ctx, p, id)
	if err != nil {
		return nil, err
	}
	switch {
	case !c.Enabled:
		reason := "the callback configuration is disabled"
		if c.DisabledReason != "" {
			reason += " (" + c.DisabledReason + ")"
		}
		return nil, &StateError{Reason: reason + "; enable it to send a test event"}
	case c.URL == "":
		return nil, &StateError{Reason: "the callback configuration has no event URL (only an on-demand URL)"}
	}
	switch {
	case t == "":
		i := slices.IndexFunc(testEventOrder, func(e recording.Event) bool { return dialect.Subscribed(c, e) })
		if i < 0 {
			return nil, &StateError{Reason: "the callback configuration receives no event its dialect sends"}
		}
		t = testEventOrder[i]
	case !slices.Contains(testEventOrder, t):
		return nil, &recording.ValidationError{Field: "event", Reason: fmt.Sprintf("must be one of %v", testEventOrder)}
	case !dialect.Subscribed(c, t):
		return nil, &recording.ValidationError{Field: "event",
			Reason: fmt.Sprintf("the configuration does not receive %s (not subscribed, or its dialect has no such callback)", t)}
	}
	data, err := s.testEventData(ctx, p, c, t)
	if err != nil {
		return nil, err
	}
	now := s.now()
	te := &TestEvent{Event: recording.OutboxEvent{ID: store.NewID(store.EventPrefix), Type: t, Data: data, CreatedAt: now}}
	// An order key of its own: a test never waits behind the stream's real deliveries, nor
	// they behind it. Seq is set, so the store does not number the event among a recording's.
	te.Delivery = recording.Delivery{ID: store.NewID(store.DeliveryPrefix), EventID: te.Event.ID, CallbackID: c.ID,
		Project: p.Project, OrderKey: "test:" + c.ID, Seq: 1, CreatedAt: now}
	ch := store.Change{Events: []recording.OutboxEvent{te.Event}, Deliveries: [][]recording.Delivery{{te.Delivery}}}
	if err := s.Store.Apply(ctx, ch); err != nil {
		return nil, fmt.Errorf("write test event: %w", err)
	}
	if s.OnRedeliver != nil {
		s.OnRedeliver()
	}
	return te, nil
}

// testEventData is a sample event of type t for c's streams: its domain and app ("*" made an
// example), stream TestStream, a fresh recording id, and for file events an MP4 file named as
// the matching rule of p's project (or the default rule) would name it.
func (s *Service) testEventData(ctx context.Context, p Principal, c *recording.CallbackConfig, t recording.Event) (recording.EventData, error) {
	d := recording.EventData{Project: p.Project, RecordingID: store.NewID(testRecordingPrefix),
		Domain: c.Domain, App: c.App, Stream: TestStream, Seq: 1}
	if d.Domain == recording.Wildcard {
		d.Domain = testDomain
	}
	if d.App == recording.Wildcard || d.App == "" {
		d.App = testApp
	}
	switch t {
	case recording.EventRecordFailed:
		d.Reason = "test event: no recording failed"
		return d, nil
	case recording.EventOnDemandFailed:
		d.Reason = "test event: no on-demand decision failed"
		return d, nil
	case recording.EventFileStarted, recording.EventFileCompleted:
	default:
		return d, nil
	}
	rule, err := s.sampleRule(ctx, p, d.Domain, d.App, d.Stream)
	if err != nil {
		return d, err
	}
	fc := rule.Format(recording.FormatMP4)
	if fc == nil {
		def := recording.DefaultFormatConfig(recording.FormatMP4)
		fc = &def
	}
	end := s.now().UTC()
	start := end.Add(-testFileDuration)
	d.FileID = store.NewID("file_")
	d.Format = recording.FormatMP4
	d.Endpoint, d.Bucket = rule.Storage.Endpoint, rule.Storage.Bucket
	d.StartTime = &start
	d.Width, d.Height = testWidth, testHeight
	n := ObjectName{Storage: rule.Storage, Template: fc.ObjectTemplate, Format: recording.FormatMP4,
		Domain: d.Domain, App: d.App, Stream: d.Stream, Mode: rule.Mode, Start: start}
	if t == recording.EventFileCompleted {
		n.End = end
		d.EndTime = &end
		d.Bytes, d.Duration = testFileBytes, testFileDuration
	}
	d.ObjectKey = s.objectKey(n)
	return d, nil
}

// sampleRule is the rule of p's project that would record the stream, or the default rule.
func (s *Service) sampleRule(ctx context.Context, p Principal, domain, app, stream string) (*recording.Rule, error) {
	rules, _, err := s.Store.RuleList(ctx, store.RuleFilter{Project: p.Project})
	if err != nil {
		return nil, fmt.Errorf("look up the sample's rule: %w", err)
	}
	if r := recording.MatchRule(rules, domain, app, stream); r != nil {
		return r, nil
	}
	def := recording.DefaultRule()
	return &def, nil
}
