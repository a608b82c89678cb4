package recording

// Retention, disk policy and event recordings: the shared vocabulary.

// EventFileDeleted reports that a stored file's objects were removed (by retention, by the disk
// policy or through the API). Standard Webhooks always carries it; the cloud dialects have no
// such callback and do not send it.
const EventFileDeleted Event = "file_deleted"

// ModeEvent marks a recording made by an event request (POST …/events): it holds the one MP4
// cut from pre_s before the request to post_s after it.
const ModeEvent Mode = "event"

// Why a file was deleted (EventData.Reason of a file_deleted event, and the metrics' label).
const (
	DeleteRetention = "retention"
	DeleteDiskFull  = "disk_full"
	DeleteAPI       = "api"
)

// Rule limits of retention and pre-roll.
const (
	// MaxRetentionS is 100 years: "keep" is RetentionS 0, not a huge number.
	MaxRetentionS = 100 * 365 * 24 * 3600
	// MaxPreRollS bounds the memory a stream's pre-roll buffer may hold.
	MaxPreRollS = 120
)
