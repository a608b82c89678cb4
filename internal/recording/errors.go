package recording

import "errors"

// Sentinel errors the store drivers translate their database errors into, so the APIs can map
// them to each dialect's code without knowing the database.
var (
	// ErrNotFound means the object does not exist (or belongs to another project).
	ErrNotFound = errors.New("not found")
	// ErrConflict means the write would duplicate a unique key, such as a rule's
	// (project, domain, app, stream).
	ErrConflict = errors.New("conflict")
)

// ValidationError says which field of an object is invalid and why. Field is the JSON path of
// the native model (e.g. "formats[1].cycle_s"); each API dialect maps it to its own parameter
// name and error code.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	return "invalid " + e.Field + ": " + e.Reason
}

func invalid(field, reason string) *ValidationError {
	return &ValidationError{Field: field, Reason: reason}
}

// ErrForbidden means the principal may not do this at all (e.g. a non-admin key assigning a
// domain). Tenancy misses are ErrNotFound instead, so other projects' objects stay invisible.
var ErrForbidden = errors.New("forbidden")

// ErrUnauthenticated means the request carried no valid credentials.
var ErrUnauthenticated = errors.New("unauthenticated")

// Record command errors (§5 manual mode).
var (
	// ErrNotLive: the stream named by a record command is not being published.
	ErrNotLive = errors.New("the stream is not being published")
	// ErrCommandState: the command is not valid in the recording's current state (a second
	// start, a stop before any start).
	ErrCommandState = errors.New("the command is not valid in the current recording state")
	// ErrCommandTooSoon: Huawei refuses a START within 10 s of a STOP ("Record task exist").
	ErrCommandTooSoon = errors.New("a record task of the stream still exists")
)

// Command is a manual-mode record command (Alibaba RealTimeRecordCommand, Huawei
// record/control).
type Command string

// Commands.
const (
	CommandStart       Command = "start"
	CommandStop        Command = "stop"
	CommandCancelDelay Command = "cancel_delay"
	CommandRestart     Command = "restart"
	// CommandStartAfterGap is Huawei's START: refused within 10 s of a STOP.
	CommandStartAfterGap Command = "start_after_gap"
)
