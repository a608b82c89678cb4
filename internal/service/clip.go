package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/clip"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// MaxClipSpan bounds a clip's range: a clip is read and written whole by one request.
const MaxClipSpan = 12 * time.Hour

// ClipRequest asks for one MP4 of a stream over [From, To).
type ClipRequest struct {
	Domain, App, Stream string
	From, To            time.Time
	// Endpoint and Bucket are where the clip is stored; empty: where its first slice is.
	Endpoint, Bucket string
	// Object is the key template (as IndexRequest's); empty: DefaultClipObject. ".mp4" is added.
	Object string
}

// sliceOpener reads slices through the storage endpoints.
type sliceOpener struct{ o Objects }

func (so sliceOpener) Open(ctx context.Context, s recording.Slice) (io.ReadCloser, error) {
	return so.o.Open(ctx, s.Endpoint, s.Bucket, s.ObjectKey)
}

// CreateClip exports one MP4 (moov first) of the stored HLS slices of a stream over the range,
// cut on keyframes without transcoding. It is stored like any file, in a recording of its own
// (mode clip), and reported by a file_completed event.
func (s *Service) CreateClip(ctx context.Context, p Principal, req ClipRequest) (*FileView, error) {
	req.Domain = strings.ToLower(strings.TrimSpace(req.Domain))
	if err := s.checkRange(req.From, req.To, MaxClipSpan, 0); err != nil {
		return nil, err
	}
	if s.Objects == nil || s.ClipStored == nil {
		return nil, errors.New("clips are not available")
	}
	slices, err := s.streamSlices(ctx, p, req.Domain, req.App, req.Stream, req.From, req.To, false)
	if err != nil {
		return nil, err
	}
	endpoint, bucket, err := s.target(req.Endpoint, req.Bucket, slices[0])
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(s.ClipDir, ".clip-*.mp4")
	if err != nil {
		return nil, fmt.Errorf("make clip file: %w", err)
	}
	dst := tmp.Name()
	tmp.Close()
	defer os.Remove(dst) // the store consumes it; a failure leaves nothing behind
	st, err := clip.Clip(ctx, sliceOpener{s.Objects}, slices, req.From, req.To, dst)
	if err != nil {
		return nil, fmt.Errorf("cut clip: %w", err)
	}
	start, end := st.FirstAt, st.FirstAt.Add(st.Duration)
	key, err := renderObject(req.Object, DefaultClipObject, ".mp4", req.Domain, req.App, req.Stream, start, end)
	if err != nil {
		return nil, err
	}
	if key, err = s.Objects.PutFile(ctx, endpoint, bucket, key, dst); err != nil {
		return nil, fmt.Errorf("store clip: %w", err)
	}
	rec := &recording.Recording{ID: store.NewID(store.RecordingPrefix), Project: p.Project, Domain: req.Domain,
		App: req.App, Stream: req.Stream, Mode: recording.ModeClip, Reason: "clip of " +
			req.From.UTC().Format(time.RFC3339) + " to " + req.To.UTC().Format(time.RFC3339)}
	f, err := s.recordCut(ctx, rec, endpoint, bucket, key, cut{FirstAt: st.FirstAt, Duration: st.Duration,
		Bytes: st.Bytes, VideoFrames: st.VideoFrames, AudioFrames: st.AudioFrames, Width: st.Width, Height: st.Height})
	if err != nil {
		return nil, fmt.Errorf("record clip: %w", err)
	}
	views, err := s.fileViews(ctx, p, []recording.File{*f}, rec)
	if err != nil {
		return nil, err
	}
	return &views[0], nil
}

// cut is what a cut MP4 (a clip or an event recording) is recorded with.
type cut struct {
	FirstAt                         time.Time
	Duration                        time.Duration
	Bytes, VideoFrames, AudioFrames int64
	Width, Height                   int
}

// recordCut writes rec, over, with its one stored MP4 at endpoint/bucket/key and that file's
// file_completed event; rec.StartedAt is the cut's first frame.
func (s *Service) recordCut(ctx context.Context, rec *recording.Recording, endpoint, bucket, key string, c cut) (*recording.File, error) {
	start, end, now := c.FirstAt, c.FirstAt.Add(c.Duration), s.now()
	rec.State, rec.StartedAt, rec.EndedAt = recording.RecordingOver, start, &now
	f := &recording.File{ID: store.NewID(store.FilePrefix), RecordingID: rec.ID, Format: recording.FormatMP4,
		State: recording.FileStored, Endpoint: endpoint, Bucket: bucket, ObjectKey: key, StartedAt: start,
		EndedAt: &end, Duration: c.Duration, Bytes: c.Bytes, VideoFrames: c.VideoFrames,
		AudioFrames: c.AudioFrames, Width: c.Width, Height: c.Height}
	if err := s.ClipStored(ctx, rec, f); err != nil {
		return nil, err
	}
	return f, nil
}
