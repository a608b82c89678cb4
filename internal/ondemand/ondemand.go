// Package ondemand makes the recording decision of a new stream (spec §5, seed 000): a Decider
// applies the rule's mode; for the on-demand modes it asks the business server over HTTP whether
// and how to record, or parses the same reply when it comes as the record_config ingest
// parameter, and merges the decision into a rule snapshot. It knows nothing of the recorder:
// callers pass a rule in and get a rule (or nil) back.
package ondemand

import (
	"fmt"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// Defaults and limits (seed 000).
const (
	// DefaultTimeout bounds one decision, from the request to the last byte read (default 3 s).
	DefaultTimeout = 3 * time.Second
	// DefaultMaxBody is how many bytes of the reply are read (seed 000: 2,048; more is truncated).
	DefaultMaxBody = 2048
	// MinInterval and MaxInterval bound an Interval value in seconds (seed 000: 5 to 21600).
	MinInterval = 5
	MaxInterval = 21600
	// DefaultAPIVersion is ApiVersion when the reply omits it (seed 000).
	DefaultAPIVersion = "1.0"
)

// Request names the stream being asked about and what the publisher sends.
type Request struct {
	Domain, App, Stream string
	// Codec is "h264", "h265" or "" (audio-only).
	Codec string
	// VideoKbps is the video bitrate in kbit/s (metadata, else measured, else 0).
	VideoKbps int
}

// Reply is a parsed decision: the JSON reply of seed 000, or the record_config parameter.
type Reply struct {
	// APIVersion is the reply's ApiVersion (seed 000), DefaultAPIVersion when absent.
	APIVersion string
	NeedRecord bool
	// Interval is the per-format cycle in seconds; nil when absent or naming no known format.
	// Values are kept as sent: Apply ignores those outside MinInterval..MaxInterval.
	Interval map[recording.Format]int
	// Formats is nil when Format is absent (or null); otherwise the known formats it names,
	// deduplicated, possibly empty (which records nothing).
	Formats []recording.Format
}

// Reason says why a decision failed, as a short label for logs, metrics and the API. It is an
// error so that errors.Is(err, ErrTimeout) works on what Ask returns.
type Reason string

// Failure reasons. Every failure means "not recorded".
const (
	// ErrStatus: the reply's status was not 200 (a 3xx too: redirects are not followed).
	ErrStatus Reason = "status"
	// ErrTimeout: no complete reply within the timeout.
	ErrTimeout Reason = "timeout"
	// ErrTransport: the request could not be sent or the reply not read.
	ErrTransport Reason = "transport"
	// ErrTruncated: the server sent more than MaxBody bytes and the JSON object is not complete
	// within them.
	ErrTruncated Reason = "truncated"
	// ErrInvalid: the body is not one valid JSON object of the documented shape.
	ErrInvalid Reason = "invalid"
	// ErrCanceled: the caller's context was canceled (e.g. the publisher left).
	ErrCanceled Reason = "canceled"
	// ErrURL: the on-demand URL is not an absolute http(s) URL.
	ErrURL Reason = "bad_url"
)

func (r Reason) Error() string { return "on-demand " + string(r) }

// Error is a failed decision. errors.Is matches its Reason and its cause.
type Error struct {
	Reason Reason
	// Status is the HTTP status for ErrStatus, else 0.
	Status int
	// Err is the cause, if any.
	Err error
}

func (e *Error) Error() string {
	msg := "on-demand decision failed: " + string(e.Reason)
	if e.Status != 0 {
		msg += fmt.Sprintf(" (http %d)", e.Status)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap exposes the Reason and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Err}
}

func fail(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Err: fmt.Errorf(format, args...)}
}
