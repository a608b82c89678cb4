package upload

import (
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// NameVars are the values object-name templates draw from. Both the Alibaba and the
// Huawei variable sets work in any template.
type NameVars struct {
	Domain, App, Stream string
	// Format is the file's format: flv, mp4 or hls.
	Format string
	// RecordType is Huawei's record_type (CONTINUOUS_RECORD, COMMAND_RECORD, ...).
	RecordType string
	// Sequence is the file's number within its recording (Alibaba {Sequence}), or the slice's
	// sequence number when naming an HLS slice.
	Sequence int
	// Start and End bound the file (or slice). A zero End renders every end-time variable as
	// "live", which names the provisional live playlist.
	Start, End time.Time
	// Location is the time zone of rendered times; nil means UTC.
	Location *time.Location
}

// Time layouts of §8.
const (
	layoutTime        = "2006-01-02-15:04:05"
	layoutEscapedTime = "2006-01-02-15-04-05"
)

// RenderName expands a template. Unknown {Variables} are left as they are (rules are validated
// when written, so none reach here in practice).
func RenderName(tmpl string, v NameVars) string {
	loc := v.Location
	if loc == nil {
		loc = time.UTC
	}
	start, end := v.Start.In(loc), v.End.In(loc)
	live := v.End.IsZero()
	endOr := func(s string) string {
		if live {
			return "live"
		}
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		name := tmpl[i+1 : i+j]
		var val string
		known := true
		switch name {
		case "AppName", "app":
			val = v.App
		case "StreamName", "stream":
			val = v.Stream
		case "Domain", "publish_domain":
			val = v.Domain
		case "Sequence", "ts_sequence_number":
			val = strconv.Itoa(v.Sequence)
		case "StartTime":
			val = start.Format(layoutTime)
		case "EscapedStartTime", "file_start_time":
			val = start.Format(layoutEscapedTime)
		case "EndTime":
			val = endOr(end.Format(layoutTime))
		case "EscapedEndTime":
			val = endOr(end.Format(layoutEscapedTime))
		case "UnixTimestamp", "file_start_time_unix":
			val = strconv.FormatInt(start.Unix(), 10)
		case "file_end_time_unix":
			val = endOr(strconv.FormatInt(end.Unix(), 10))
		case "record_type":
			val = v.RecordType
		case "record_format":
			val = strings.ToUpper(v.Format)
		default:
			known = false
		}
		if known {
			b.WriteString(val)
		} else {
			b.WriteString(tmpl[i : i+j+1])
		}
		tmpl = tmpl[i+j+1:]
	}
}

// Extension returns the file extension of a format's objects.
func Extension(format string) string {
	switch format {
	case "hls":
		return ".m3u8"
	case "hls-slice":
		return ".ts"
	}
	return "." + format
}

// RecordType is Huawei's record_type of a recording in mode m.
func RecordType(m recording.Mode) string {
	switch m {
	case recording.ModeManual:
		return "COMMAND_RECORD"
	case recording.ModePlan:
		return "PLAN_RECORD"
	case recording.ModeOnDemandHTTP, recording.ModeOnDemandParam:
		return "ON_DEMAND_RECORD"
	}
	return "CONTINUOUS_RECORD"
}
