package recording

import (
	"net/url"
	"strings"
	"time"
)

// State is the state of a recording.
type State string

// Recording states.
const (
	// RecordingActive: a publisher is being recorded.
	RecordingActive State = "recording"
	// RecordingPaused: the publisher left; some format still waits within its merge window.
	RecordingPaused State = "paused"
	// RecordingOver: no format has an open file and no publisher is back.
	RecordingOver State = "over"
	// RecordingFailed: files could not be written or stored; Reason says why.
	RecordingFailed State = "failed"
)

// Recording is one continuous recording of one stream. It holds files of each format.
type Recording struct {
	ID      string `json:"id"`
	Project string `json:"project"`
	// RuleID is the rule the recording started with (rules may change or go meanwhile).
	RuleID string `json:"rule_id"`
	Domain string `json:"domain"`
	App    string `json:"app"`
	Stream string `json:"stream"`
	State  State  `json:"state"`
	Reason string `json:"reason,omitempty"`
	// Mode is the mode of the rule it started with (ModeClip for a clip's recording).
	Mode      Mode       `json:"mode,omitempty"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	// Params are the ingest parameters passed back in callbacks (the callback_* ones).
	Params map[string]string `json:"params,omitempty"`
	// Locked recordings are never deleted by retention or by the disk policy.
	Locked bool `json:"locked"`
	// Label names an event recording (ModeEvent): the label of its request.
	Label string `json:"label,omitempty"`
	// Node is the id of the node recording it; empty for recordings made before nodes
	// had ids.
	Node string `json:"node,omitempty"`
}

// FileState is the state of a recorded file.
type FileState string

// File states.
const (
	// FileWriting: being written to the spool.
	FileWriting FileState = "writing"
	// FileCompleted: closed and fsynced in the spool, waiting for its upload.
	FileCompleted FileState = "completed"
	// FileStored: durable in its bucket under ObjectKey.
	FileStored FileState = "stored"
	// FileFailed: could not be written or stored.
	FileFailed FileState = "failed"
)

// File is one file of one format of a recording: a cycle's FLV or MP4 file, or an HLS playlist.
type File struct {
	ID          string `json:"id"`
	RecordingID string `json:"recording_id"`
	Format      Format `json:"format"`
	// Seq numbers the files of one format in their recording (an HLS file's slices
	// carry it as Slice.FileSeq).
	Seq   int       `json:"seq"`
	State FileState `json:"state"`
	// SpoolPath is where the file is written before its upload.
	SpoolPath string `json:"spool_path,omitempty"`
	Endpoint  string `json:"endpoint"`
	Bucket    string `json:"bucket"`
	// ObjectKey is set when the file completes (the key holds its end time).
	ObjectKey   string        `json:"object_key,omitempty"`
	StartedAt   time.Time     `json:"started_at"`
	EndedAt     *time.Time    `json:"ended_at,omitempty"`
	Duration    time.Duration `json:"duration_ns"`
	Bytes       int64         `json:"bytes"`
	VideoFrames int64         `json:"video_frames"`
	AudioFrames int64         `json:"audio_frames"`
	Width       int           `json:"width,omitempty"`
	Height      int           `json:"height,omitempty"`
	// DeletedAt is when its objects were removed (State FileDeleted).
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
}

// RecordingNotRecorded means the stream matched a rule but was not recorded: an on-demand
// decision said no or failed, or a plan window was closed; Reason says which (visible).
const RecordingNotRecorded State = "not_recorded"

// CallbackParams picks the ingest parameters a recording passes back in its callbacks:
// the callback_* ones, first value only.
func CallbackParams(q url.Values) map[string]string {
	params := map[string]string{}
	for name, vals := range q {
		if strings.HasPrefix(name, "callback_") && len(vals) > 0 {
			params[name] = vals[0]
		}
	}
	return params
}
