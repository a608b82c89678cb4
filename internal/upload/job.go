package upload

import (
	"time"

	"github.com/liverec/liverec/internal/record/hls"
	"github.com/liverec/liverec/internal/recording"
)

// FileStats is what a format writer reports about a completed file.
type FileStats struct {
	Duration                 time.Duration
	VideoFrames, AudioFrames int64
	Bytes                    int64
}

// SpoolFile is a completed file still open in the spool: the Uploader syncs and closes it off
// the recorder's goroutine.
type SpoolFile interface {
	Sync() error
	Close() error
}

// JobKind says what a job stores.
type JobKind uint8

// Job kinds.
const (
	// JobFile is a completed FLV or MP4 file.
	JobFile JobKind = iota + 1
	// JobSlice is a completed HLS slice; it is stored as soon as it is complete.
	JobSlice
	// JobPlaylist is a completed HLS playlist; its slices were queued before it.
	JobPlaylist
	// JobEnd marks the end of a recording: every job of the recording was queued before it.
	JobEnd
	// JobRecover is a file (HLS: a playlist directory) left in the spool by a crash or a
	// failure: the Uploader recovers what was written, then stores it like a completed file.
	JobRecover
)

// Job is a completed piece of a recording on its way from the spool to its bucket. The
// recorder (or crash recovery) fills it and hands it to the Uploader; from then on only the
// Uploader touches it.
type Job struct {
	Kind        JobKind
	RecordingID string
	Format      recording.Format
	// Seq is the file's number in its recording, or the slice's sequence number.
	Seq int
	// PlaylistSeq is, for a slice, the number of the playlist (file) it belongs to.
	PlaylistSeq int
	SpoolPath   string
	Start, End  time.Time
	Stats       FileStats
	Slices      []hls.Slice
	// Slice and PlaylistVars are, for a slice, the slice itself and its playlist's naming
	// variables (for the live playlist).
	Slice        hls.Slice
	PlaylistVars NameVars
	Config       recording.FormatConfig
	Storage      recording.Storage
	Vars         NameVars
	// Err is, for JobEnd, why the recording failed (nil: it ended normally).
	Err error
	// EndReason is, for JobEnd, why the recording ended without its publisher's leaving:
	// a restart recovered it (events.RecoveredReason), or its node died. Empty otherwise.
	EndReason string
	// Unsynced, when set, is the completed file, still open: the Uploader syncs and closes it.
	Unsynced SpoolFile
	// FinalizeMP4: the file is fragmented MP4, turned into a regular MP4 before it is stored.
	FinalizeMP4 bool

	attempt     func() error // the Uploader's attempt at the job; it keeps what earlier ones did
	liveLater   bool         // a slice followed in the queue by its playlist's next job: no live rewrite
	fragmented  string       // the fragmented MP4 a stored regular one was made from
	recovered   bool         // the stats come from recovery, not from the writer
	queuedAt    time.Time    // when the job was queued, for the upload lag
	queuedBytes int64        // what it added to the backlog
}

// setStats sets recovered stats and the end times that follow from them.
func (j *Job) setStats(st FileStats) {
	j.Stats = st
	j.End = j.Start.Add(st.Duration)
	j.Vars.End = j.End
}
