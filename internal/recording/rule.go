// Package recording holds the domain types shared by the recorder, the store and the APIs:
// rules, recordings, files and their errors. It does no I/O.
package recording

import "time"

// Format is a recording format.
type Format string

// Formats liverec writes.
const (
	FormatFLV Format = "flv"
	FormatMP4 Format = "mp4"
	FormatHLS Format = "hls"
)

// Mode says when a stream matched by a rule is recorded.
type Mode string

// Recording modes.
const (
	ModeAuto          Mode = "auto"
	ModeOnDemandHTTP  Mode = "on_demand_http"
	ModeOnDemandParam Mode = "on_demand_param"
	ModeManual        Mode = "manual"
	ModePlan          Mode = "plan"
)

// Dialect names who wrote a rule or receives a callback; ranges and defaults depend on it.
type Dialect string

// Dialects.
const (
	DialectNative Dialect = "native"
	DialectAliyun Dialect = "aliyun"
	DialectHuawei Dialect = "huawei"
)

// Wildcard matches any domain, app or stream in a rule key.
const Wildcard = "*"

// FormatConfig is how one format of a rule is recorded.
type FormatConfig struct {
	Format Format `json:"format" yaml:"format"`
	// CycleS is the file length in seconds; 0 means one file per recording.
	CycleS int `json:"cycle_s" yaml:"cycle_s"`
	// SliceS is the HLS slice length in seconds (HLS only).
	SliceS int `json:"slice_s,omitempty" yaml:"slice_s,omitempty"`
	// MergeWindowS is how long a paused recording waits for its publisher; -1 is Huawei's
	// "append to the previous file", taken as 21600.
	MergeWindowS int `json:"merge_window_s" yaml:"merge_window_s"`
	// ObjectTemplate names the file (for HLS, the playlist) without extension.
	ObjectTemplate string `json:"object_template" yaml:"object_template"`
	// SliceTemplate names HLS slices without extension (HLS only).
	SliceTemplate string `json:"slice_template,omitempty" yaml:"slice_template,omitempty"`
}

// Storage says where a rule's files go.
type Storage struct {
	Endpoint string `json:"endpoint" yaml:"endpoint"`
	Bucket   string `json:"bucket" yaml:"bucket"`
	BasePath string `json:"base_path,omitempty" yaml:"base_path,omitempty"`
}

// Rule is a recording rule. The key (Domain, App, Stream) is unique per project.
type Rule struct {
	ID      string  `json:"id" yaml:"id"`
	Project string  `json:"project" yaml:"project"`
	Dialect Dialect `json:"dialect" yaml:"dialect"`
	Domain  string  `json:"domain" yaml:"domain"`
	App     string  `json:"app" yaml:"app"`
	// Stream is "*" for any stream (an empty stream is normalised to "*").
	Stream    string         `json:"stream" yaml:"stream"`
	Mode      Mode           `json:"mode" yaml:"mode"`
	Formats   []FormatConfig `json:"formats" yaml:"formats"`
	Storage   Storage        `json:"storage" yaml:"storage"`
	StartTime *time.Time     `json:"start_time,omitempty" yaml:"start_time,omitempty"`
	EndTime   *time.Time     `json:"end_time,omitempty" yaml:"end_time,omitempty"`
	// RetentionS keeps a recording's stored files this many seconds after the recording ends,
	// then retention deletes them (0: kept until deleted by hand). See retention.go.
	RetentionS int64 `json:"retention_s,omitempty" yaml:"retention_s,omitempty"`
	// OverwriteWhenFull lets the disk policy delete this rule's oldest unlocked stored files
	// when a local volume runs out of space (the surveillance mode); otherwise a full volume
	// refuses new recordings and keeps what is stored.
	OverwriteWhenFull bool `json:"overwrite_when_full,omitempty" yaml:"overwrite_when_full,omitempty"`
	// PreRollS keeps this many seconds of recent GOPs of each of the rule's live streams in
	// memory, so an event recording can start before the event (0: off).
	PreRollS  int       `json:"pre_roll_s,omitempty" yaml:"pre_roll_s,omitempty"`
	CreatedAt time.Time `json:"created_at" yaml:"created_at"`
	UpdatedAt time.Time `json:"updated_at" yaml:"updated_at"`
	// PlanWindows are, for a plan-mode stream, the windows of its plan tasks, set by the
	// decision that starts its recording (never stored): the recording records inside them and
	// inside StartTime–EndTime. Nil: no tasks were looked up.
	PlanWindows []TimeWindow `json:"-" yaml:"-"`
}

// Format returns the rule's config for f, or nil.
func (r *Rule) Format(f Format) *FormatConfig {
	for i := range r.Formats {
		if r.Formats[i].Format == f {
			return &r.Formats[i]
		}
	}
	return nil
}
