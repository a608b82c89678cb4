package recording

import "time"

// FileDeleted is the state of a file whose objects were removed by an admin (or retention);
// the record stays so the catalogue keeps the history.
const FileDeleted FileState = "deleted"

// ModeClip marks a recording made by the clip operation rather than by a publisher: it holds
// the one MP4 a clip exported.
const ModeClip Mode = "clip"

// Slice is one stored HLS slice (a media segment of a playlist file). Slices are what indexes
// and clips are built from, so each is kept with the wall time of its first frame.
type Slice struct {
	RecordingID string `json:"recording_id"`
	// FileSeq is the number of the playlist (File.Seq of its HLS file) the slice belongs to.
	FileSeq int `json:"file_seq"`
	// Seq is the slice's media sequence number in its playlist.
	Seq int `json:"seq"`
	// Project, Domain, App and Stream are the recording's; the store fills them in on insert.
	Project   string        `json:"project"`
	Domain    string        `json:"domain"`
	App       string        `json:"app"`
	Stream    string        `json:"stream"`
	Endpoint  string        `json:"endpoint"`
	Bucket    string        `json:"bucket"`
	ObjectKey string        `json:"object_key"`
	StartedAt time.Time     `json:"started_at"`
	Duration  time.Duration `json:"duration_ns"`
	Bytes     int64         `json:"bytes"`
	// Discontinuity: the slice follows a pause (RFC 8216 §4.3.2.3).
	Discontinuity bool `json:"discontinuity,omitempty"`
	// Deleted: its object was removed with its file.
	Deleted bool `json:"deleted,omitempty"`
}

// End is the wall time just after the slice's last frame.
func (s *Slice) End() time.Time { return s.StartedAt.Add(s.Duration) }

// RecordIndex is an m3u8 written on request over the stored slices of one stream in a time
// range (Alibaba CreateLiveStreamRecordIndexFiles, Huawei record/indexes).
type RecordIndex struct {
	ID        string `json:"id"`
	Project   string `json:"project"`
	Domain    string `json:"domain"`
	App       string `json:"app"`
	Stream    string `json:"stream"`
	Endpoint  string `json:"endpoint"`
	Bucket    string `json:"bucket"`
	ObjectKey string `json:"object_key"`
	// StartedAt and EndedAt are the actual range covered: the first slice's start and the last
	// slice's end, which may lie outside the requested range by up to a slice.
	StartedAt time.Time     `json:"started_at"`
	EndedAt   time.Time     `json:"ended_at"`
	Duration  time.Duration `json:"duration_ns"`
	Width     int           `json:"width,omitempty"`
	Height    int           `json:"height,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
}

// StreamBlock forbids a stream key to publish (Alibaba ForbidLiveStream, Huawei stream
// blocks, native block list) until it is resumed or ResumeAt passes.
type StreamBlock struct {
	Domain string `json:"domain"`
	App    string `json:"app"`
	Stream string `json:"stream"`
	// ResumeAt ends the block by itself; nil blocks until it is deleted.
	ResumeAt  *time.Time `json:"resume_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// Active tells whether the block refuses publishers at now.
func (b *StreamBlock) Active(now time.Time) bool { return b.ResumeAt == nil || now.Before(*b.ResumeAt) }

// Publish is one publication of a stream, live or past (Alibaba DescribeLiveStreamsPublishList).
type Publish struct {
	ID         string     `json:"id"`
	Domain     string     `json:"domain"`
	App        string     `json:"app"`
	Stream     string     `json:"stream"`
	ClientAddr string     `json:"client_addr"`
	Protocol   string     `json:"protocol"`
	StartedAt  time.Time  `json:"started_at"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
}

// LiveStream is a publication in progress with what was measured of it (§9 online lists).
type LiveStream struct {
	Domain     string    `json:"domain"`
	App        string    `json:"app"`
	Stream     string    `json:"stream"`
	ClientAddr string    `json:"client_addr"`
	Protocol   string    `json:"protocol"`
	StartedAt  time.Time `json:"started_at"`
	// VideoCodec and AudioCodec are "H264", "H265", "AAC"…; empty while unknown.
	VideoCodec string `json:"video_codec,omitempty"`
	AudioCodec string `json:"audio_codec,omitempty"`
	Width      int    `json:"width,omitempty"`
	Height     int    `json:"height,omitempty"`
	// FrameRate and the bitrates are measured over the last few seconds of media.
	FrameRate  float64 `json:"frame_rate"`
	VideoKbps  float64 `json:"video_kbps"`
	AudioKbps  float64 `json:"audio_kbps"`
	SampleRate int     `json:"sample_rate,omitempty"`
	Channels   int     `json:"channels,omitempty"`
	// RecordingID and RecordingState are the publication's recording, empty when none.
	RecordingID    string `json:"recording_id,omitempty"`
	RecordingState State  `json:"recording_state,omitempty"`
	// Node is the node it publishes on.
	Node string `json:"node,omitempty"`
}

// PlanTask is a scheduled recording window of one stream (Huawei schedule/record/tasks): a
// stream whose rule is in plan mode records inside its tasks' windows.
type PlanTask struct {
	ID        string    `json:"id"`
	Project   string    `json:"project"`
	Domain    string    `json:"domain"`
	App       string    `json:"app"`
	Stream    string    `json:"stream"`
	StartTime time.Time `json:"start_time"`
	EndTime   time.Time `json:"end_time"`
	// StoppedAt is when the task was deleted before its end; nil while it stands.
	StoppedAt *time.Time `json:"stopped_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// TimeWindow is a span of wall time [Start, End).
type TimeWindow struct {
	Start, End time.Time
}

// Contains tells whether t is inside the window.
func (w TimeWindow) Contains(t time.Time) bool { return !t.Before(w.Start) && t.Before(w.End) }
