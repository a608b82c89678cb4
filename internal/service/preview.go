package service

import (
	"context"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// ObjectName is what an object key is rendered from: a rule's storage and template and the
// values its variables draw on.
type ObjectName struct {
	Storage  recording.Storage
	Template string
	Format   recording.Format
	// Slice names an HLS slice (.ts) rather than a file or playlist.
	Slice               bool
	Domain, App, Stream string
	Mode                recording.Mode
	// Sequence is the file's number in its recording, or the slice's.
	Sequence int
	// Start and End bound the file or slice; a zero End renders end-time variables as "live".
	Start, End time.Time
}

// StreamKey names a stream.
type StreamKey struct {
	Domain string `json:"domain"`
	App    string `json:"app"`
	Stream string `json:"stream"`
}

// Sample values of a preview.
const (
	previewDomain = "example.com"
	previewApp    = "live"
	previewStream = "mystream"
	// previewUncut is the sample length of a file whose format has no cycle.
	previewUncut = time.Hour
)

// Preview is what PreviewObjects answers: the stream the names were rendered for, and the
// object key of each enabled format by name (flv, mp4, hls, and hls_slice for HLS slices).
type Preview struct {
	Stream  StreamKey         `json:"stream"`
	Objects map[string]string `json:"objects"`
}

// PreviewObjects renders the object keys a recording of rule r started now would get for its
// first file of each format (ending after one cycle; an hour when the format has no cycle)
// and first HLS slice, for stream (whose empty parts default to the rule's key, a "*" made an
// example). r is normalised as CreateRule would, but not validated: the console previews as
// the user types, so an invalid rule still previews what it can; formats liverec does not know
// are left out. Nothing is written.
func (s *Service) PreviewObjects(_ context.Context, _ Principal, r *recording.Rule, stream StreamKey) *Preview {
	r.Normalize()
	k := StreamKey{Domain: strings.ToLower(stream.Domain), App: stream.App, Stream: stream.Stream}
	if k.Domain == "" {
		k.Domain = example(r.Domain, previewDomain)
	}
	if k.App == "" {
		k.App = example(r.App, previewApp)
	}
	if k.Stream == "" {
		k.Stream = example(r.Stream, previewStream)
	}
	start := s.now()
	out := &Preview{Stream: k, Objects: map[string]string{}}
	for _, fc := range r.Formats {
		switch fc.Format {
		case recording.FormatFLV, recording.FormatMP4, recording.FormatHLS:
		default:
			continue
		}
		n := ObjectName{Storage: r.Storage, Template: fc.ObjectTemplate, Format: fc.Format,
			Domain: k.Domain, App: k.App, Stream: k.Stream, Mode: r.Mode, Start: start, End: start.Add(previewUncut)}
		if fc.CycleS > 0 {
			n.End = start.Add(time.Duration(fc.CycleS) * time.Second)
		}
		out.Objects[string(fc.Format)] = s.objectKey(n)
		if fc.Format == recording.FormatHLS {
			n.Slice, n.Template = true, fc.SliceTemplate
			n.End = start.Add(time.Duration(max(fc.SliceS, 1)) * time.Second)
			out.Objects["hls_slice"] = s.objectKey(n)
		}
	}
	return out
}

// example is v, or ex when v is empty or "*".
func example(v, ex string) string {
	if v == "" || v == recording.Wildcard {
		return ex
	}
	return v
}

// objectKey renders n with the uploader's naming (ObjectKey), "" when none is wired.
func (s *Service) objectKey(n ObjectName) string {
	if s.ObjectKey == nil {
		return ""
	}
	return s.ObjectKey(n)
}
