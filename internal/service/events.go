package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/preroll"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// Event recording limits.
const (
	// MaxEventPostS bounds how long an event recording collects after its call.
	MaxEventPostS = 600
	// MaxEventLabel bounds a label's length in bytes.
	MaxEventLabel = 256
	// DefaultEventObject names an event recording's MP4 (".mp4" is added).
	DefaultEventObject = "Event/{publish_domain}/{app}/{stream}/{stream}-{start_time}-{end_time}"
)

// EventRecorder starts event recordings on the pre-roll buffer of a live stream (the app
// implements it): recording.ErrNotLive when the stream of the project is not being recorded.
type EventRecorder interface {
	StartEvent(ctx context.Context, project, domain, app, stream string, e preroll.Event) (preroll.Started, error)
}

// EventRequest asks for an event recording of a live stream: one MP4 from PreS before the
// call to PostS after it.
type EventRequest struct {
	Domain, App, Stream string
	PreS, PostS         float64
	Label               string
	// Merge extends an event of the stream still collecting instead of making a new one.
	Merge bool
}

// EventView answers an event request: the recording that will hold the MP4 once it is stored
// (after PostS); it is listed once stored.
type EventView struct {
	RecordingID string `json:"recording_id"`
	// Merged: the event extended the end of one still collecting.
	Merged bool `json:"merged"`
	// From is the wall time of the GOP the recording starts with (absent: the next keyframe).
	From *time.Time `json:"from,omitempty"`
	// To is the earliest end: the recording ends before the first keyframe at or after it.
	To time.Time `json:"to"`
}

// CreateEvent starts an event recording (recording.ModeEvent) of a live stream of p's domain.
func (s *Service) CreateEvent(ctx context.Context, p Principal, req EventRequest) (*EventView, error) {
	req.Domain = strings.ToLower(strings.TrimSpace(req.Domain))
	switch {
	case req.PreS < 0 || req.PreS > recording.MaxPreRollS:
		return nil, &recording.ValidationError{Field: "pre_s", Reason: "must be between 0 and " + strconv.Itoa(recording.MaxPreRollS)}
	case req.PostS < 0 || req.PostS > MaxEventPostS:
		return nil, &recording.ValidationError{Field: "post_s", Reason: "must be between 0 and " + strconv.Itoa(MaxEventPostS)}
	case req.PreS+req.PostS <= 0:
		return nil, &recording.ValidationError{Field: "post_s", Reason: "pre_s and post_s cover nothing"}
	case len(req.Label) > MaxEventLabel:
		return nil, &recording.ValidationError{Field: "label", Reason: "longer than " + strconv.Itoa(MaxEventLabel) + " bytes"}
	}
	if err := s.CheckDomain(ctx, p, req.Domain); err != nil {
		return nil, err
	}
	if s.Events == nil {
		return nil, recording.ErrNotLive
	}
	st, err := s.Events.StartEvent(ctx, p.Project, req.Domain, req.App, req.Stream, preroll.Event{
		ID: store.NewID(store.RecordingPrefix), Label: req.Label, Merge: req.Merge,
		Pre: seconds(req.PreS), Post: seconds(req.PostS)})
	var le *preroll.LimitError
	switch {
	case errors.As(err, &le):
		return nil, &recording.ValidationError{Field: "pre_s",
			Reason: fmt.Sprintf("longer than the stream rule's pre_roll_s (%v)", le.Max.Seconds())}
	case errors.Is(err, preroll.ErrEnded):
		return nil, recording.ErrNotLive
	case err != nil:
		return nil, fmt.Errorf("start event recording: %w", err)
	}
	v := &EventView{RecordingID: st.ID, Merged: st.Merged, To: st.To}
	if !st.From.IsZero() {
		v.From = &st.From
	}
	return v, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// EventTarget is where a live stream's event recordings go: its rule's project and storage.
type EventTarget struct {
	Project, Domain, App, Stream string
	Storage                      recording.Storage
}

// StoreEvent stores a finished event MP4 at the target's storage and reports it like a clip:
// a recording (mode event, with the label) over at once, its file and a file_completed event
// in one write. The file at r.Path is consumed.
func (s *Service) StoreEvent(ctx context.Context, t EventTarget, r preroll.Result) error {
	defer os.Remove(r.Path) // the store consumes it; a failure leaves nothing behind
	if s.Objects == nil || s.ClipStored == nil {
		return errors.New("event recordings are not available")
	}
	endpoint, ok := s.Objects.Resolve(t.Storage.Endpoint)
	if !ok {
		return fmt.Errorf("store event recording: no storage endpoint is named %q", t.Storage.Endpoint)
	}
	start, end := r.FirstAt, r.FirstAt.Add(r.Duration)
	key, err := renderObject("", DefaultEventObject, ".mp4", t.Domain, t.App, t.Stream, start, end)
	if err != nil {
		return err
	}
	if t.Storage.BasePath != "" {
		key = strings.TrimSuffix(t.Storage.BasePath, "/") + "/" + key
	}
	if key, err = s.Objects.PutFile(ctx, endpoint, t.Storage.Bucket, key, r.Path); err != nil {
		return fmt.Errorf("store event recording: %w", err)
	}
	rec := &recording.Recording{ID: r.ID, Project: t.Project, Domain: t.Domain, App: t.App, Stream: t.Stream,
		Mode: recording.ModeEvent, Label: r.Label, Reason: "event recording"}
	if _, err := s.recordCut(ctx, rec, endpoint, t.Storage.Bucket, key, cut{FirstAt: r.FirstAt, Duration: r.Duration,
		Bytes: r.Bytes, VideoFrames: r.VideoFrames, AudioFrames: r.AudioFrames, Width: r.Width, Height: r.Height}); err != nil {
		return fmt.Errorf("record event recording: %w", err)
	}
	return nil
}
