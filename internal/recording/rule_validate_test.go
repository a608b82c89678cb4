package recording

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// validRule is a normalised native rule every Validate case starts from.
func validRule() Rule {
	r := DefaultRule()
	r.Domain = "a.com"
	r.App = "live"
	return r
}

func TestValidate(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	end := start.Add(time.Hour)
	cases := []struct {
		name  string
		edit  func(r *Rule)
		field string // "" = valid
	}{
		{"DefaultRuleIsValid", func(r *Rule) { *r = DefaultRule() }, ""},
		{"ValidRule", func(*Rule) {}, ""},
		{"UnknownDialect", func(r *Rule) { r.Dialect = "tencent" }, "dialect"},
		{"EmptyProject", func(r *Rule) { r.Project = "" }, "project"},
		{"ProjectWithSlash", func(r *Rule) { r.Project = "a/b" }, "project"},
		{"EmptyDomain", func(r *Rule) { r.Domain = "" }, "domain"},
		{"UpperCaseDomain", func(r *Rule) { r.Domain = "A.com" }, "domain"},
		{"DomainWithSlash", func(r *Rule) { r.Domain = "a.com/x" }, "domain"},
		{"DomainTooLong", func(r *Rule) { r.Domain = strings.Repeat("a", 254) }, "domain"},
		{"IPv4Domain", func(r *Rule) { r.Domain = "127.0.0.1" }, ""},
		{"WildcardDomain", func(r *Rule) { r.Domain = "*" }, ""},
		{"PartialWildcardDomain", func(r *Rule) { r.Domain = "*.a.com" }, "domain"},
		{"WildcardApp", func(r *Rule) { r.App = "*" }, ""},
		{"EmptyApp", func(r *Rule) { r.App = "" }, "app"},
		{"AppDot", func(r *Rule) { r.App = "." }, "app"},
		{"AppDotDot", func(r *Rule) { r.App = ".." }, "app"},
		{"AppWithSlash", func(r *Rule) { r.App = "a/b" }, "app"},
		{"AppWithSpace", func(r *Rule) { r.App = "a b" }, "app"},
		{"AppAllChars", func(r *Rule) { r.App = "Az09._~-" }, ""},
		{"AppMaxLen", func(r *Rule) { r.App = strings.Repeat("a", 128) }, ""},
		{"AppTooLong", func(r *Rule) { r.App = strings.Repeat("a", 129) }, "app"},
		{"ExactStream", func(r *Rule) { r.Stream = "test" }, ""},
		{"StreamDotDot", func(r *Rule) { r.Stream = ".." }, "stream"},
		{"StreamWithQuery", func(r *Rule) { r.Stream = "s?k=v" }, "stream"},
		{"EveryMode", func(r *Rule) { r.Mode = ModeOnDemandParam }, ""},
		{"UnknownMode", func(r *Rule) { r.Mode = "sometimes" }, "mode"},
		{"Retention", func(r *Rule) { r.RetentionS, r.OverwriteWhenFull = 1, true }, ""},
		{"RetentionMax", func(r *Rule) { r.RetentionS = MaxRetentionS }, ""},
		{"RetentionTooLong", func(r *Rule) { r.RetentionS = MaxRetentionS + 1 }, "retention_s"},
		{"RetentionNegative", func(r *Rule) { r.RetentionS = -1 }, "retention_s"},
		{"PreRollMax", func(r *Rule) { r.PreRollS = MaxPreRollS }, ""},
		{"PreRollTooLong", func(r *Rule) { r.PreRollS = MaxPreRollS + 1 }, "pre_roll_s"},
		{"PreRollNegative", func(r *Rule) { r.PreRollS = -1 }, "pre_roll_s"},
		{"PlanWithTimes", func(r *Rule) { r.Mode, r.StartTime, r.EndTime = ModePlan, &start, &end }, ""},
		{"PlanWithoutWindowRecordsInTaskWindows", func(r *Rule) { r.Mode = ModePlan }, ""},
		{"PlanWithoutStart", func(r *Rule) { r.Mode, r.EndTime = ModePlan, &end }, "start_time"},
		{"PlanWithoutEnd", func(r *Rule) { r.Mode, r.StartTime = ModePlan, &start }, "end_time"},
		{"PlanEndBeforeStart", func(r *Rule) { r.Mode, r.StartTime, r.EndTime = ModePlan, &end, &start }, "end_time"},
		{"PlanEmptyWindow", func(r *Rule) { r.Mode, r.StartTime, r.EndTime = ModePlan, &start, &start }, "end_time"},
		{"NoFormats", func(r *Rule) { r.Formats = nil }, "formats"},
		{"UnknownFormat", func(r *Rule) { r.Formats[1].Format = "m3u8" }, "formats[1].format"},
		{"DuplicateFormat", func(r *Rule) { r.Formats[1].Format = FormatFLV }, "formats[1].format"},
		{"OneFormat", func(r *Rule) { r.Formats = r.Formats[2:] }, ""},
		{"CycleZero", func(r *Rule) { r.Formats[0].CycleS = 0 }, ""},
		{"CycleMin", func(r *Rule) { r.Formats[0].CycleS = 5 }, ""},
		{"CycleBelowMin", func(r *Rule) { r.Formats[0].CycleS = 4 }, "formats[0].cycle_s"},
		{"CycleMax", func(r *Rule) { r.Formats[2].CycleS = 43200 }, ""},
		{"CycleAboveMax", func(r *Rule) { r.Formats[2].CycleS = 43201 }, "formats[2].cycle_s"},
		{"CycleNegative", func(r *Rule) { r.Formats[1].CycleS = -1 }, "formats[1].cycle_s"},
		{"SliceMin", func(r *Rule) { r.Formats[2].SliceS = 1 }, ""},
		{"SliceMax", func(r *Rule) { r.Formats[2].SliceS = 60 }, ""},
		{"SliceZero", func(r *Rule) { r.Formats[2].SliceS = 0 }, "formats[2].slice_s"},
		{"SliceAboveMax", func(r *Rule) { r.Formats[2].SliceS = 61 }, "formats[2].slice_s"},
		{"SliceOnFLV", func(r *Rule) { r.Formats[0].SliceS = 10 }, "formats[0].slice_s"},
		{"SliceTemplateOnMP4", func(r *Rule) { r.Formats[1].SliceTemplate = DefaultSliceTemplate }, "formats[1].slice_template"},
		{"MergeWindowZero", func(r *Rule) { r.Formats[0].MergeWindowS = 0 }, ""},
		{"MergeWindowMax", func(r *Rule) { r.Formats[0].MergeWindowS = 21600 }, ""},
		{"MergeWindowAboveMax", func(r *Rule) { r.Formats[0].MergeWindowS = 21601 }, "formats[0].merge_window_s"},
		{"MergeWindowMinusOneNative", func(r *Rule) { r.Formats[1].MergeWindowS = -1 }, "formats[1].merge_window_s"},
		{"MergeWindowMinusOneAliyun", func(r *Rule) { r.Dialect, r.Formats[1].MergeWindowS = DialectAliyun, -1 }, "formats[1].merge_window_s"},
		{"MergeWindowMinusOneHuawei", func(r *Rule) { r.Dialect, r.Formats[1].MergeWindowS = DialectHuawei, -1 }, ""},
		{"MergeWindowMinusTwoHuawei", func(r *Rule) { r.Dialect, r.Formats[1].MergeWindowS = DialectHuawei, -2 }, "formats[1].merge_window_s"},
		{"EmptyObjectTemplate", func(r *Rule) { r.Formats[0].ObjectTemplate = "" }, "formats[0].object_template"},
		{"HuaweiVariables", func(r *Rule) {
			r.Formats[0].ObjectTemplate = "Record/{publish_domain}/{app}/{record_type}/{record_format}/{stream}_{file_start_time}/{file_start_time_unix}_{file_end_time_unix}"
		}, ""},
		{"UnknownVariable", func(r *Rule) { r.Formats[0].ObjectTemplate = "{AppName}/{Date}" }, "formats[0].object_template"},
		{"TemplateTooLong", func(r *Rule) { r.Formats[0].ObjectTemplate = strings.Repeat("a", 256) }, "formats[0].object_template"},
		{"TemplateMaxLen", func(r *Rule) { r.Formats[0].ObjectTemplate = strings.Repeat("a", 255) }, ""},
		{"TemplateDotDot", func(r *Rule) { r.Formats[0].ObjectTemplate = "../{StreamName}" }, "formats[0].object_template"},
		{"EmptySliceTemplate", func(r *Rule) { r.Formats[2].SliceTemplate = "" }, "formats[2].slice_template"},
		{"BadSliceTemplate", func(r *Rule) { r.Formats[2].SliceTemplate = "{Sequence" }, "formats[2].slice_template"},
		{"EmptyEndpoint", func(r *Rule) { r.Storage.Endpoint = "" }, "storage.endpoint"},
		{"CloudEndpoint", func(r *Rule) { r.Storage.Endpoint = "oss-cn-shanghai.aliyuncs.com" }, ""},
		{"EndpointWithSpace", func(r *Rule) { r.Storage.Endpoint = "a b" }, "storage.endpoint"},
		{"EmptyBucket", func(r *Rule) { r.Storage.Bucket = "" }, "storage.bucket"},
		{"BucketDotDot", func(r *Rule) { r.Storage.Bucket = ".." }, "storage.bucket"},
		{"BucketWithSlash", func(r *Rule) { r.Storage.Bucket = "a/b" }, "storage.bucket"},
		{"BucketTooLong", func(r *Rule) { r.Storage.Bucket = strings.Repeat("b", 64) }, "storage.bucket"},
		{"BasePath", func(r *Rule) { r.Storage.BasePath = "tenant/a" }, ""},
		{"BasePathDotDot", func(r *Rule) { r.Storage.BasePath = "a/../../etc" }, "storage.base_path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := validRule()
			tc.edit(&r)
			err := r.Validate()
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.field, ve.Field, "reason: %s", ve.Reason)
			require.NotEmpty(t, ve.Reason)
		})
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   Rule
		want Rule
	}{
		{
			name: "FillsDefaults",
			in: Rule{Domain: " A.Com ", App: "live", Formats: []FormatConfig{
				{Format: "FLV", CycleS: 60},
				{Format: FormatHLS},
			}},
			want: Rule{Dialect: DialectNative, Domain: "a.com", App: "live", Stream: "*", Mode: ModeAuto,
				Formats: []FormatConfig{
					{Format: FormatFLV, CycleS: 60, ObjectTemplate: DefaultFileTemplate},
					{Format: FormatHLS, SliceS: 10, ObjectTemplate: DefaultFileTemplate, SliceTemplate: DefaultSliceTemplate},
				},
				Storage: Storage{Endpoint: "local", Bucket: "recordings"}},
		},
		{
			name: "KeepsWhatIsSet",
			in: Rule{Dialect: DialectHuawei, Domain: "b.com", App: "*", Stream: "s1", Mode: ModeManual,
				Formats: []FormatConfig{{Format: FormatHLS, CycleS: 0, SliceS: 2, MergeWindowS: -1, ObjectTemplate: "x/{app}", SliceTemplate: "y/{ts_sequence_number}"}},
				Storage: Storage{Endpoint: "cn-north-4", Bucket: "bkt", BasePath: "/p/q/"}},
			want: Rule{Dialect: DialectHuawei, Domain: "b.com", App: "*", Stream: "s1", Mode: ModeManual,
				Formats: []FormatConfig{{Format: FormatHLS, CycleS: 0, SliceS: 2, MergeWindowS: -1, ObjectTemplate: "x/{app}", SliceTemplate: "y/{ts_sequence_number}"}},
				Storage: Storage{Endpoint: "cn-north-4", Bucket: "bkt", BasePath: "p/q"}},
		},
		{
			name: "DefaultRuleIsAFixedPoint",
			in:   DefaultRule(),
			want: DefaultRule(),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.in
			got.Normalize()
			require.Equal(t, tc.want, got)
			again := got
			again.Formats = append([]FormatConfig(nil), got.Formats...)
			again.Normalize()
			require.Equal(t, got, again, "Normalize is idempotent")
		})
	}
}

func TestDefaultRule(t *testing.T) {
	t.Parallel()
	r := DefaultRule()
	require.Equal(t, Rule{
		Project: "default", Dialect: DialectNative, Domain: "*", App: "*", Stream: "*", Mode: ModeAuto,
		Formats: []FormatConfig{
			{Format: FormatFLV, CycleS: 3600, MergeWindowS: 30, ObjectTemplate: "record/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}"},
			{Format: FormatMP4, CycleS: 3600, MergeWindowS: 30, ObjectTemplate: "record/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}"},
			{Format: FormatHLS, CycleS: 21600, SliceS: 10, MergeWindowS: 30,
				ObjectTemplate: "record/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}",
				SliceTemplate:  "record/{AppName}/{StreamName}/{UnixTimestamp}_{Sequence}"},
		},
		Storage: Storage{Endpoint: "local", Bucket: "recordings"},
	}, r)
	require.NoError(t, r.Validate())
	// Each call returns a fresh value: editing one must not leak into the next.
	r.Formats[0].CycleS = 1
	require.Equal(t, 3600, DefaultRule().Formats[0].CycleS)
}

func TestValidationErrorMessage(t *testing.T) {
	t.Parallel()
	var err error = &ValidationError{Field: "app", Reason: "too long"}
	require.EqualError(t, err, "invalid app: too long")
	require.False(t, errors.Is(err, ErrNotFound))
}

func TestDialectRanges(t *testing.T) {
	mk := func(d Dialect, f Format, cycle, slice, window int, obj, sl string) *Rule {
		r := DefaultRule()
		r.Domain, r.App, r.Dialect = "a.com", "live", d
		fc := FormatConfig{Format: f, CycleS: cycle, SliceS: slice, MergeWindowS: window,
			ObjectTemplate: obj, SliceTemplate: sl}
		r.Formats = []FormatConfig{fc}
		return &r
	}
	const obj = "{AppName}/{StreamName}/{StartTime}_{EndTime}"
	const sl = "{AppName}/{UnixTimestamp}_{Sequence}"
	cases := []struct {
		name  string
		r     *Rule
		field string // "" = valid
	}{
		{"aliyun ok", mk(DialectAliyun, FormatHLS, 21600, 30, 180, obj, sl), ""},
		{"aliyun cycle 14", mk(DialectAliyun, FormatFLV, 14, 0, 180, obj, ""), "formats[0].cycle_s"},
		{"aliyun cycle 0", mk(DialectAliyun, FormatFLV, 0, 0, 180, obj, ""), "formats[0].cycle_s"},
		{"aliyun slice 4", mk(DialectAliyun, FormatHLS, 3600, 4, 180, obj, sl), "formats[0].slice_s"},
		{"aliyun delay 14", mk(DialectAliyun, FormatMP4, 3600, 0, 14, obj, ""), "formats[0].merge_window_s"},
		{"aliyun prefix without end", mk(DialectAliyun, FormatMP4, 3600, 0, 180, "{AppName}/{StartTime}", ""), "formats[0].object_template"},
		{"aliyun escaped times", mk(DialectAliyun, FormatMP4, 3600, 0, 180, "{EscapedStartTime}_{EscapedEndTime}", ""), ""},
		{"aliyun slice without sequence", mk(DialectAliyun, FormatHLS, 3600, 10, 180, obj, "{UnixTimestamp}"), "formats[0].slice_template"},
		{"huawei ok", mk(DialectHuawei, FormatHLS, 43200, 60, 300, obj, sl), ""},
		{"huawei cycle 0 and -1", mk(DialectHuawei, FormatFLV, 0, 0, -1, obj, ""), ""},
		{"huawei cycle 59", mk(DialectHuawei, FormatFLV, 59, 0, 0, obj, ""), "formats[0].cycle_s"},
		{"huawei window 301", mk(DialectHuawei, FormatFLV, 60, 0, 301, obj, ""), "formats[0].merge_window_s"},
		{"huawei slice 1", mk(DialectHuawei, FormatHLS, 60, 1, 0, obj, sl), "formats[0].slice_s"},
		{"native window -1", mk(DialectNative, FormatFLV, 60, 0, -1, obj, ""), "formats[0].merge_window_s"},
	}
	for _, c := range cases {
		err := c.r.Validate()
		if c.field == "" {
			require.NoError(t, err, c.name)
			continue
		}
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, c.name)
		require.Equal(t, c.field, ve.Field, c.name)
	}
}
