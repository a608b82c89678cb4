package recording

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpora (and rewrites them with
// LIVEREC_WRITE_FUZZ_SEEDS=1): the templates and rules of the three dialects' defaults.
func TestFuzzSeeds(t *testing.T) {
	templates := []string{DefaultFileTemplate, DefaultSliceTemplate,
		"Record/{publish_domain}/{app}/{record_type}/{record_format}/{stream}_{file_start_time}/{file_start_time}",
		"{file_start_time_unix}_{file_end_time_unix}_{ts_sequence_number}",
		"record/{AppName}/{StreamName}/{StartTime}_{EndTime}", "record/{AppName}/{StreamName}/{UnixTimestamp}_{Sequence}"}
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzCheckTemplate": func(testing.TB) [][]any { return fuzzcorpus.One(templates...) },
		"FuzzValidateRule": func(t testing.TB) [][]any {
			start, end := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
			def := DefaultRule()
			ali := def
			ali.Dialect, ali.Domain, ali.App, ali.Mode, ali.StartTime, ali.EndTime = DialectAliyun, "push.example.com", "live", ModePlan, &start, &end
			ali.Formats = []FormatConfig{{Format: FormatHLS, CycleS: 21600, SliceS: 30, MergeWindowS: 180,
				ObjectTemplate: templates[4], SliceTemplate: templates[5]}}
			hw := def
			hw.Dialect, hw.Domain, hw.App, hw.Mode = DialectHuawei, "push.example.com", "live", ModeManual
			hw.Formats = []FormatConfig{{Format: FormatMP4, CycleS: 0, MergeWindowS: -1, ObjectTemplate: templates[2]}}
			hw.Storage = Storage{Endpoint: "cn-north-4", Bucket: "obs-bucket", BasePath: "rec/a"}
			var seeds [][]any
			for _, r := range []Rule{def, ali, hw} {
				b, err := json.Marshal(r)
				require.NoError(t, err)
				seeds = append(seeds, []any{b})
			}
			return seeds
		},
	})
}
