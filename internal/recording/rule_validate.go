package recording

import (
	"fmt"
	"strings"
)

// Name limits.
const (
	// MaxNameLen is the longest app or stream name (and project id).
	MaxNameLen = 128
	// MaxDomainLen is the longest domain (a DNS name).
	MaxDomainLen = 253
	// MaxBucketLen is the longest bucket name (S3's limit).
	MaxBucketLen = 63
	// MaxEndpointLen is the longest storage endpoint name.
	MaxEndpointLen = 255
)

// limits are the ranges of a dialect. A dialect's API converts its own units before
// validating, so the limits are in the native model's seconds.
type limits struct {
	cycleMin, cycleMax int
	// cycleZero allows CycleS 0: one file per recording.
	cycleZero            bool
	sliceMin, sliceMax   int
	windowMin, windowMax int
	// windowMinusOne allows MergeWindowS -1 (Huawei: append to the previous file).
	windowMinusOne bool
}

// limitsFor returns the ranges of dialect d.
func limitsFor(d Dialect) limits {
	switch d {
	case DialectAliyun:
		// CycleDuration 15–21600, SliceDuration 5–30, DelayTime 15–21600.
		return limits{cycleMin: 15, cycleMax: 21600, sliceMin: 5, sliceMax: 30, windowMin: 15, windowMax: 21600}
	case DialectHuawei:
		// record_cycle 60–43200 (0: one file), slice 2–60, merge −1..300.
		return limits{cycleMin: 60, cycleMax: 43200, cycleZero: true, sliceMin: 2, sliceMax: 60,
			windowMin: 0, windowMax: 300, windowMinusOne: true}
	}
	return limits{cycleMin: 5, cycleMax: 43200, cycleZero: true, sliceMin: 1, sliceMax: 60,
		windowMin: 0, windowMax: 21600}
}

// aliyunTemplateRules are Alibaba's: OssObjectPrefix holds a start and an end time variable,
// SliceOssObjectPrefix holds {UnixTimestamp} and {Sequence}.
func aliyunTemplateRules(object, slice string, hls bool) (field, reason string) {
	has := func(t string, names ...string) bool {
		for _, v := range names {
			if strings.Contains(t, "{"+v+"}") {
				return true
			}
		}
		return false
	}
	if !has(object, "StartTime", "EscapedStartTime") || !has(object, "EndTime", "EscapedEndTime") {
		return "object_template", "must contain {StartTime} or {EscapedStartTime} and {EndTime} or {EscapedEndTime}"
	}
	if hls && (!has(slice, "UnixTimestamp") || !has(slice, "Sequence")) {
		return "slice_template", "must contain {UnixTimestamp} and {Sequence}"
	}
	return "", ""
}

// Normalize fills what a writer may leave out and canonicalises the key: an empty Dialect is
// native, an empty Mode is auto, an empty Stream is "*", the Domain is lower-cased, HLS gets the
// default slice length when it has none, empty templates and storage get the native defaults.
// Cycles and merge windows are not defaulted here because 0 is a valid value for both (the
// native API defaults absent fields with DefaultFormatConfig).
func (r *Rule) Normalize() {
	if r.Dialect == "" {
		r.Dialect = DialectNative
	}
	if r.Mode == "" {
		r.Mode = ModeAuto
	}
	r.Domain = strings.ToLower(strings.TrimSpace(r.Domain))
	if r.Stream == "" {
		r.Stream = Wildcard
	}
	for i := range r.Formats {
		fc := &r.Formats[i]
		fc.Format = Format(strings.ToLower(string(fc.Format)))
		def := DefaultFormatConfig(fc.Format)
		if fc.ObjectTemplate == "" {
			fc.ObjectTemplate = def.ObjectTemplate
		}
		if fc.Format == FormatHLS {
			if fc.SliceS == 0 {
				fc.SliceS = def.SliceS
			}
			if fc.SliceTemplate == "" {
				fc.SliceTemplate = def.SliceTemplate
			}
		}
	}
	if r.Storage.Endpoint == "" {
		r.Storage.Endpoint = DefaultEndpoint
	}
	if r.Storage.Bucket == "" {
		r.Storage.Bucket = DefaultBucket
	}
	r.Storage.BasePath = strings.Trim(r.Storage.BasePath, "/")
}

// Validate checks a normalised rule against the ranges of its dialect. The error is a
// *ValidationError naming the first invalid field.
func (r *Rule) Validate() error {
	switch r.Dialect {
	case DialectNative, DialectAliyun, DialectHuawei:
	default:
		return invalid("dialect", fmt.Sprintf("unknown dialect %q", r.Dialect))
	}
	if !ValidName(r.Project) {
		return invalid("project", nameReason)
	}
	if err := checkDomain(r.Domain); err != nil {
		return invalid("domain", err.Error())
	}
	if r.App != Wildcard && !ValidName(r.App) {
		return invalid("app", "must be \"*\" or "+nameReason)
	}
	if r.Stream != Wildcard && !ValidName(r.Stream) {
		return invalid("stream", "must be \"*\" or "+nameReason)
	}
	switch r.Mode {
	case ModeAuto, ModeOnDemandHTTP, ModeOnDemandParam, ModeManual:
	case ModePlan:
		// A window of its own (Alibaba), or none: then it records in the windows of its
		// streams' plan tasks (Huawei schedule/record/tasks).
		switch {
		case r.StartTime == nil && r.EndTime != nil:
			return invalid("start_time", "required with end_time in plan mode")
		case r.StartTime != nil && r.EndTime == nil:
			return invalid("end_time", "required with start_time in plan mode")
		case r.StartTime != nil && !r.StartTime.Before(*r.EndTime):
			return invalid("end_time", "must be after start_time")
		}
	default:
		return invalid("mode", fmt.Sprintf("unknown mode %q", r.Mode))
	}
	if r.RetentionS < 0 || r.RetentionS > MaxRetentionS {
		return invalid("retention_s", fmt.Sprintf("must be 0 (keep) or 1..%d seconds", MaxRetentionS))
	}
	if r.PreRollS < 0 || r.PreRollS > MaxPreRollS {
		return invalid("pre_roll_s", fmt.Sprintf("must be 0 (off) or 1..%d seconds", MaxPreRollS))
	}
	if err := r.validateFormats(); err != nil {
		return err
	}
	return r.Storage.validate()
}

func (r *Rule) validateFormats() error {
	if len(r.Formats) == 0 {
		return invalid("formats", "at least one format is required")
	}
	l := limitsFor(r.Dialect)
	seen := make(map[Format]bool, len(r.Formats))
	for i, fc := range r.Formats {
		field := func(name string) string { return fmt.Sprintf("formats[%d].%s", i, name) }
		switch fc.Format {
		case FormatFLV, FormatMP4, FormatHLS:
		default:
			return invalid(field("format"), fmt.Sprintf("unknown format %q", fc.Format))
		}
		if seen[fc.Format] {
			return invalid(field("format"), fmt.Sprintf("format %q appears twice", fc.Format))
		}
		seen[fc.Format] = true
		if !(fc.CycleS == 0 && l.cycleZero) && (fc.CycleS < l.cycleMin || fc.CycleS > l.cycleMax) {
			return invalid(field("cycle_s"), rangeReason(l.cycleMin, l.cycleMax, l.cycleZero, false))
		}
		if !(fc.MergeWindowS == -1 && l.windowMinusOne) &&
			(fc.MergeWindowS < l.windowMin || fc.MergeWindowS > l.windowMax) {
			return invalid(field("merge_window_s"), rangeReason(l.windowMin, l.windowMax, false, l.windowMinusOne))
		}
		if err := CheckTemplate(fc.ObjectTemplate); err != nil {
			return invalid(field("object_template"), err.Error())
		}
		if r.Dialect == DialectAliyun {
			if f, reason := aliyunTemplateRules(fc.ObjectTemplate, fc.SliceTemplate, fc.Format == FormatHLS); f != "" {
				return invalid(field(f), reason)
			}
		}
		if fc.Format != FormatHLS {
			if fc.SliceS != 0 {
				return invalid(field("slice_s"), "only for hls")
			}
			if fc.SliceTemplate != "" {
				return invalid(field("slice_template"), "only for hls")
			}
			continue
		}
		if fc.SliceS < l.sliceMin || fc.SliceS > l.sliceMax {
			return invalid(field("slice_s"), rangeReason(l.sliceMin, l.sliceMax, false, false))
		}
		if err := CheckTemplate(fc.SliceTemplate); err != nil {
			return invalid(field("slice_template"), err.Error())
		}
	}
	return nil
}

func (s *Storage) validate() error {
	if s.Endpoint == "" || len(s.Endpoint) > MaxEndpointLen || strings.ContainsFunc(s.Endpoint, isSpaceOrControl) {
		return invalid("storage.endpoint", fmt.Sprintf("must be 1–%d characters without spaces", MaxEndpointLen))
	}
	if !validBucket(s.Bucket) {
		return invalid("storage.bucket", fmt.Sprintf("must be 1–%d characters of a–z A–Z 0–9 . _ - and not \".\" or \"..\"", MaxBucketLen))
	}
	if len(s.BasePath) > MaxTemplateBytes {
		return invalid("storage.base_path", fmt.Sprintf("must be at most %d bytes", MaxTemplateBytes))
	}
	if err := checkKeyPath(s.BasePath); err != nil {
		return invalid("storage.base_path", err.Error())
	}
	return nil
}

func rangeReason(lo, hi int, zero, minusOne bool) string {
	s := fmt.Sprintf("must be %d–%d", lo, hi)
	if zero {
		s += " or 0"
	}
	if minusOne {
		s += " or -1"
	}
	return s
}

const nameReason = "1–128 characters of A–Z a–z 0–9 . _ ~ - and not \".\" or \"..\""

// ValidName reports whether s is a valid app or stream name: names end up in object keys
// and paths. Ingest, the APIs and publish authentication all apply it.
func ValidName(s string) bool {
	if s == "" || len(s) > MaxNameLen || s == "." || s == ".." {
		return false
	}
	for i := range len(s) {
		if !IsNameChar(s[i]) {
			return false
		}
	}
	return true
}

// IsNameChar reports whether c may appear in an app or stream name.
func IsNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '~' || c == '-'
}

// checkDomain accepts "*" (every domain without a rule of its own; the service lets only
// admins write it) or a host name as it appears in a tcUrl or the vhost parameter,
// lower-cased: DNS names, IPv4 and bracket-less IPv6 addresses. "*" is the whole domain or
// nothing: no "*.a.com".
func checkDomain(d string) error {
	if d == Wildcard {
		return nil
	}
	if d == "" || len(d) > MaxDomainLen {
		return fmt.Errorf("must be \"*\" or 1–%d characters", MaxDomainLen)
	}
	for i := range len(d) {
		c := d[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == ':') {
			return fmt.Errorf("must be \"*\" or a lower-case host name")
		}
	}
	return nil
}

func validBucket(s string) bool {
	if s == "" || len(s) > MaxBucketLen || s == "." || s == ".." {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !IsNameChar(c) || c == '~' {
			return false
		}
	}
	return true
}

func isSpaceOrControl(c rune) bool {
	return c <= ' ' || c == 0x7f
}
