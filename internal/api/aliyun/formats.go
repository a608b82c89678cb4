package aliyun

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// Fields of RecordFormat.N.
const (
	fieldFormat      = "Format"
	fieldObject      = "OssObjectPrefix"
	fieldSliceObject = "SliceOssObjectPrefix"
	fieldSlice       = "SliceDuration"
	fieldCycle       = "CycleDuration"
)

// buildFormats turns RecordFormat.N.* into format configs in increasing N; ns[i] is the N of
// formats[i], so validation errors can name the parameter. old holds the formats of the rule
// being updated: a format kept by the update keeps its templates (immutable through Update),
// and its cycle and slice unless the request sets them. Every format gets delay as its merge
// window: Alibaba's DelayTime applies to them all.
func buildFormats(q params, old []recording.FormatConfig, delay int, update bool) ([]recording.FormatConfig, []int, error) {
	groups, err := q.repeated("RecordFormat")
	if err != nil {
		return nil, nil, err
	}
	formats := make([]recording.FormatConfig, 0, len(groups))
	ns := make([]int, 0, len(groups))
	for _, g := range groups {
		name := func(field string) string { return "RecordFormat." + strconv.Itoa(g.n) + "." + field }
		for field := range g.fields {
			switch field {
			case fieldFormat, fieldCycle, fieldSlice:
			case fieldObject, fieldSliceObject:
				if update {
					return nil, nil, errInvalid(name(field), immutableOnUpdate)
				}
			default:
				return nil, nil, errInvalid(name(field), "unknown field")
			}
		}
		f, err := parseFormat(name(fieldFormat), g.fields[fieldFormat])
		if err != nil {
			return nil, nil, err
		}
		fc := aliyunDefaults(f)
		for _, o := range old {
			if o.Format == f {
				fc = o
			}
		}
		fc.MergeWindowS = delay
		if v := g.fields[fieldObject]; v != "" {
			fc.ObjectTemplate = v
		}
		if v := g.fields[fieldSliceObject]; v != "" {
			fc.SliceTemplate = v
		}
		for _, num := range []struct {
			field string
			dst   *int
		}{{fieldCycle, &fc.CycleS}, {fieldSlice, &fc.SliceS}} {
			v := g.fields[num.field]
			if v == "" {
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, nil, errInvalid(name(num.field), "must be an integer")
			}
			*num.dst = n
		}
		formats = append(formats, fc)
		ns = append(ns, g.n)
	}
	return formats, ns, nil
}

// parseFormat accepts m3u8, flv and mp4 (the cloud's spelling is lower-case; upper-case as
// Describe shows them is taken too).
func parseFormat(param, v string) (recording.Format, error) {
	switch strings.ToLower(v) {
	case "":
		return "", errMissing(param)
	case "m3u8":
		return recording.FormatHLS, nil
	case "flv":
		return recording.FormatFLV, nil
	case "mp4":
		return recording.FormatMP4, nil
	case "cmaf":
		return "", errInvalid(param, "cmaf is not supported by liverec; use m3u8, flv or mp4")
	}
	return "", errInvalid(param, "must be m3u8, flv or mp4")
}

// aliyunDefaults are Alibaba's defaults of a format: 1 h files (6 h playlists), 30 s slices and
// the default object names (seed 003 adds an m3u8 config without slice fields).
func aliyunDefaults(f recording.Format) recording.FormatConfig {
	fc := recording.FormatConfig{Format: f, CycleS: defaultCycle, ObjectTemplate: recording.DefaultFileTemplate}
	if f == recording.FormatHLS {
		fc.CycleS = defaultM3U8Cycle
		fc.SliceS = defaultSlice
		fc.SliceTemplate = recording.DefaultSliceTemplate
	}
	return fc
}

// requestWindow reads StartTime and EndTime; both or neither.
func requestWindow(q params) (start, end *time.Time, err error) {
	if start, err = q.optTime("StartTime"); err != nil {
		return nil, nil, err
	}
	if end, err = q.optTime("EndTime"); err != nil {
		return nil, nil, err
	}
	switch {
	case start == nil && end != nil:
		return nil, nil, errMissingAction("StartTime")
	case start != nil && end == nil:
		return nil, nil, errMissingAction("EndTime")
	}
	return start, end, nil
}

// applyWindow turns an automatic stream-level rule with a time window into a plan rule.
// The cloud treats windows longer than 7 days as 7 days.
func applyWindow(r *recording.Rule, start, end *time.Time) error {
	if start == nil {
		return nil
	}
	switch {
	case r.Stream == "" || r.Stream == recording.Wildcard:
		return errInvalid("StartTime", "StartTime and EndTime apply to stream-level configs only (set StreamName)")
	case r.Mode != recording.ModeAuto:
		return errInvalid("StartTime", "a time window applies to automatic recording only (OnDemand 0)")
	case !end.After(*start):
		return errInvalid("EndTime", "must be after StartTime")
	}
	if end.Sub(*start) > maxPlanWindow {
		e := start.Add(maxPlanWindow)
		end = &e
	}
	r.Mode, r.StartTime, r.EndTime = recording.ModePlan, start, end
	return nil
}

// ruleParam names the Alibaba parameter of a native field path; ns maps format indexes to N.
func ruleParam(field string, ns []int) string {
	switch field {
	case "domain":
		return "DomainName"
	case "app":
		return "AppName"
	case "stream":
		return "StreamName"
	case "mode":
		return "OnDemand"
	case "start_time":
		return "StartTime"
	case "end_time":
		return "EndTime"
	case "storage.endpoint":
		return "OssEndpoint"
	case "storage.bucket":
		return "OssBucket"
	case "formats":
		return "RecordFormat"
	}
	var i int
	var sub string
	if _, err := fmt.Sscanf(field, "formats[%d].%s", &i, &sub); err != nil {
		return field
	}
	n := i + 1
	if i >= 0 && i < len(ns) {
		n = ns[i]
	}
	name := map[string]string{"format": fieldFormat, "cycle_s": fieldCycle, "slice_s": fieldSlice,
		"object_template": fieldObject, "slice_template": fieldSliceObject}[sub]
	switch {
	case sub == "merge_window_s":
		return "DelayTime"
	case name == "":
		return field
	}
	return "RecordFormat." + strconv.Itoa(n) + "." + name
}
