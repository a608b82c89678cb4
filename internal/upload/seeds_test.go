package upload

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/testutil/fuzzcorpus"
)

// TestFuzzSeeds checks the committed seed corpora (and rewrites them with
// LIVEREC_WRITE_FUZZ_SEEDS=1): manifests as the Recorder writes them for the default rule and
// rules of both clouds' defaults, the clouds' default templates, journals as putSlice writes them.
func TestFuzzSeeds(t *testing.T) {
	start := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	huaweiHLS := recording.FormatConfig{Format: recording.FormatHLS, CycleS: 21600, SliceS: 10, MergeWindowS: -1,
		ObjectTemplate: "Record/{publish_domain}/{app}/{record_type}/{record_format}/{stream}_{file_start_time}/{stream}_{file_start_time}",
		SliceTemplate:  "Record/{publish_domain}/{app}/{record_type}/{record_format}/{stream}_{file_start_time}/{file_start_time_unix}_{file_end_time_unix}_{ts_sequence_number}"}
	aliyunFLV := recording.FormatConfig{Format: recording.FormatFLV, CycleS: 3600, MergeWindowS: 180,
		ObjectTemplate: "record/{AppName}/{StreamName}/{StartTime}_{EndTime}"}
	fuzzcorpus.Check(t, fuzzcorpus.Seeds{
		"FuzzReadManifest": func(t testing.TB) [][]any {
			def := recording.DefaultRule()
			hw := def
			hw.Dialect, hw.Domain, hw.App, hw.Mode = recording.DialectHuawei, "push.example.com", "live", recording.ModeManual
			hw.Formats = []recording.FormatConfig{huaweiHLS}
			hw.Storage = recording.Storage{Endpoint: "cn-north-4", Bucket: "obs-bucket", BasePath: "rec/a"}
			ali := def
			ali.Dialect, ali.Domain, ali.App = recording.DialectAliyun, "push.example.com", "live"
			ali.Formats = []recording.FormatConfig{aliyunFLV}
			var seeds [][]any
			for i, r := range []recording.Rule{def, hw, ali} {
				m := Manifest{RecordingID: "rec_" + string(rune('a'+i)), Key: stream.Key{Domain: "push.example.com", App: "live", Stream: "cam1"},
					Rule: r, Start: start}
				b, err := json.Marshal(m)
				require.NoError(t, err)
				seeds = append(seeds, fuzzcorpus.One(fuzzcorpus.Cuts(b, len(b)-1)...)...)
			}
			return seeds
		},
		"FuzzObjectKey": func(testing.TB) [][]any {
			var seeds [][]any
			for _, tmpl := range []string{recording.DefaultFileTemplate, recording.DefaultSliceTemplate, huaweiHLS.ObjectTemplate,
				huaweiHLS.SliceTemplate, aliyunFLV.ObjectTemplate, "/{Domain}//{AppName}/{Sequence}/"} {
				seeds = append(seeds, []any{tmpl, "rec/a", "push.example.com", "live", "cam1", 3, start.Unix(), uint32(600)})
			}
			return seeds
		},
		"FuzzReadJournal": func(testing.TB) [][]any {
			st := FileStats{Bytes: 188 * 500, VideoFrames: 50, AudioFrames: 86}
			before := "0\tlive/cam1/0.ts\t94000\t50\t86\n" + journalLine(1, "live/cam1/1.ts", st)
			return [][]any{
				{[]byte(before), 2, "live/cam1/2.ts", st.Bytes, st.VideoFrames, st.AudioFrames},
				{[]byte(before + "2\tlive/ca"), 3, "live/cam1/3_1.ts", int64(0), int64(0), int64(1)},
			}
		},
	})
}
