package ondemand

import (
	"slices"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// Apply merges a decision into a snapshot of the stream's rule (seed 000) and returns the rule
// to record with, or nil to record nothing:
//   - NeedRecord false → nil;
//   - Format, when present, is intersected with the rule's formats; an empty intersection → nil
//     (seed 000: formats not in the configuration are not recorded);
//   - an Interval value overrides the cycle of the format it names when it is within
//     MinInterval..MaxInterval (seed 000's range); a value outside it is ignored and the rule's
//     cycle kept, so one bad value does not cost the whole recording; Interval never adds a format.
//
// A rule left with no format at all is nil too. The result is a deep copy: rule is never mutated.
func Apply(rule *recording.Rule, r Reply) *recording.Rule {
	if rule == nil || !r.NeedRecord {
		return nil
	}
	var keep []recording.Format
	if r.Formats != nil {
		keep = make([]recording.Format, 0, len(r.Formats))
		for _, f := range r.Formats {
			if nf, ok := formatName(string(f)); ok {
				keep = append(keep, nf)
			}
		}
	}
	interval := make(map[recording.Format]int, len(r.Interval))
	for f, v := range r.Interval {
		if nf, ok := formatName(string(f)); ok && v >= MinInterval && v <= MaxInterval {
			interval[nf] = v
		}
	}
	out := *rule
	out.Formats = make([]recording.FormatConfig, 0, len(rule.Formats))
	for _, fc := range rule.Formats {
		if r.Formats != nil && !slices.Contains(keep, fc.Format) {
			continue
		}
		if v, ok := interval[fc.Format]; ok {
			fc.CycleS = v
		}
		out.Formats = append(out.Formats, fc)
	}
	if len(out.Formats) == 0 {
		return nil
	}
	out.StartTime = cloneTime(rule.StartTime)
	out.EndTime = cloneTime(rule.EndTime)
	return &out
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}
