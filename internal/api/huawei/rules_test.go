package huawei

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
)

const fullRule = `{
  "publish_domain": "Push.Example.com", "app": "live", "stream": "s1", "record_type": "COMMAND_RECORD",
  "default_record_config": {
    "record_format": ["HLS", "FLV", "MP4"],
    "obs_addr": {"bucket": "mybucket", "location": "cn-north-4", "object": "record/"},
    "hls_config": {"record_cycle": 900, "record_prefix": "r/{stream}/{file_start_time}",
      "record_ts_prefix": "{stream}-{ts_sequence_number}", "record_slice_duration": 6,
      "record_max_duration_to_merge_file": -1},
    "flv_config": {"record_cycle": 0, "record_prefix": "f/{stream}_{file_start_time_unix}", "record_max_duration_to_merge_file": 300},
    "mp4_config": {"record_cycle": 43200}
  }}`

func (e *env) createRule(t *testing.T, body string) ruleOut {
	t.Helper()
	r := e.do(req{method: http.MethodPost, path: rulesPath(projectA), body: body})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	var out ruleOut
	r.decode(t, &out)
	return out
}

func minimalRule(domain, app, stream string) string {
	return fmt.Sprintf(`{"publish_domain":%q,"app":%q,"stream":%q,"default_record_config":{"record_format":["FLV"],
		"obs_addr":{"bucket":"b","location":"cn-north-4","object":""}}}`, domain, app, stream)
}

func TestRuleMappingBothWays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	got := e.createRule(t, fullRule)
	require.NotEmpty(t, got.ID)
	_, err := time.Parse(timeLayout, got.CreateTime)
	require.NoError(t, err)
	require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, got.UpdateTime)
	want := ruleOut{ID: got.ID, PublishDomain: "push.example.com", App: "live", Stream: "s1", RecordType: "COMMAND_RECORD",
		CreateTime: got.CreateTime, UpdateTime: got.UpdateTime,
		DefaultRecordConfig: recordConfigOut{
			RecordFormat: []string{"HLS", "FLV", "MP4"},
			ObsAddr:      obsAddr{Bucket: "mybucket", Location: "cn-north-4", Object: "record"},
			HLSConfig: &hlsConfigOut{RecordCycle: 900, RecordPrefix: "r/{stream}/{file_start_time}",
				RecordTSPrefix: "{stream}-{ts_sequence_number}", RecordSliceDuration: 6, RecordMaxDurationToMergeFile: -1},
			FLVConfig: &fileConfigOut{RecordCycle: 0, RecordPrefix: "f/{stream}_{file_start_time_unix}", RecordMaxDurationToMergeFile: 300},
			MP4Config: &fileConfigOut{RecordCycle: 43200, RecordPrefix: defaultFilePrefix},
		}}
	require.Equal(t, want, got)

	// Show answers the same.
	r := e.do(req{method: http.MethodGet, path: rulesPath(projectA) + "/" + got.ID})
	require.Equal(t, http.StatusOK, r.status)
	var shown ruleOut
	r.decode(t, &shown)
	require.Equal(t, want, shown)

	// The model the service holds.
	rule, err := e.svc.GetRule(t.Context(), service.Principal{Project: projectA}, got.ID)
	require.NoError(t, err)
	require.Equal(t, recording.DialectHuawei, rule.Dialect)
	require.Equal(t, recording.ModeManual, rule.Mode)
	require.Equal(t, recording.Storage{Endpoint: "cn-north-4", Bucket: "mybucket", BasePath: "record"}, rule.Storage)
	require.Equal(t, []recording.FormatConfig{
		{Format: recording.FormatHLS, CycleS: 900, SliceS: 6, MergeWindowS: -1, ObjectTemplate: "r/{stream}/{file_start_time}",
			SliceTemplate: "r/{stream}/{stream}-{ts_sequence_number}"},
		{Format: recording.FormatFLV, CycleS: 0, MergeWindowS: 300, ObjectTemplate: "f/{stream}_{file_start_time_unix}"},
		{Format: recording.FormatMP4, CycleS: 43200, MergeWindowS: 0, ObjectTemplate: defaultFilePrefix},
	}, rule.Formats)
}

func TestRuleDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	got := e.createRule(t, `{"publish_domain":"a.com","app":"live","stream":"",
		"default_record_config":{"record_format":["HLS","MP4"],"obs_addr":{"bucket":"b","location":"cn-north-4","object":""},
		"hls_config":{"record_cycle":0}}}`)
	require.Equal(t, "*", got.Stream)
	require.Equal(t, "CONTINUOUS_RECORD", got.RecordType)
	require.Equal(t, &hlsConfigOut{RecordCycle: 0, RecordPrefix: defaultHLSPrefix, RecordTSPrefix: defaultTSPrefix,
		RecordSliceDuration: 10}, got.DefaultRecordConfig.HLSConfig)
	require.Equal(t, &fileConfigOut{RecordCycle: defaultFileCycleS, RecordPrefix: defaultFilePrefix}, got.DefaultRecordConfig.MP4Config)
	require.Nil(t, got.DefaultRecordConfig.FLVConfig)

	rule, err := e.svc.GetRule(t.Context(), service.Principal{Project: projectA}, got.ID)
	require.NoError(t, err)
	require.Equal(t, "Record/{publish_domain}/{app}/{record_type}/{record_format}/{stream}_{file_start_time}/"+defaultTSPrefix,
		rule.Formats[0].SliceTemplate, "slices sit next to their playlist")

	// Without hls_config, HLS takes the API doc's 21600 s.
	got = e.createRule(t, strings.Replace(minimalRule("a.com", "x", "*"), `"FLV"`, `"HLS"`, 1))
	require.Equal(t, defaultHLSCycleS, got.DefaultRecordConfig.HLSConfig.RecordCycle)
}

func TestRuleReadsRulesOfOtherAPIs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	native := recording.Rule{Domain: "n.com", App: "live", Mode: recording.ModeOnDemandParam, Formats: []recording.FormatConfig{
		recording.DefaultFormatConfig(recording.FormatHLS)}, Storage: recording.Storage{Endpoint: "local", Bucket: "recordings"}}
	require.NoError(t, e.svc.CreateRule(t.Context(), service.Principal{Project: projectA}, &native))
	r := e.do(req{method: http.MethodGet, path: rulesPath(projectA) + "/" + native.ID})
	require.Equal(t, http.StatusOK, r.status)
	var got ruleOut
	r.decode(t, &got)
	require.Equal(t, "ON_DEMAND_RECORD", got.RecordType)
	require.Equal(t, []string{"HLS"}, got.DefaultRecordConfig.RecordFormat)
	require.Equal(t, obsAddr{Bucket: "recordings", Location: "local"}, got.DefaultRecordConfig.ObsAddr)
	// The native slices sit in the playlist's directory: shown relative to it.
	require.Equal(t, "{UnixTimestamp}_{Sequence}", got.DefaultRecordConfig.HLSConfig.RecordTSPrefix)
	require.Equal(t, 30, got.DefaultRecordConfig.HLSConfig.RecordMaxDurationToMergeFile)
}

func TestRuleValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hls := func(cfg string) string {
		return `{"publish_domain":"v.com","app":"live","stream":"*","default_record_config":{"record_format":["HLS"],
			"obs_addr":{"bucket":"b","location":"cn-north-4","object":""},"hls_config":` + cfg + `}}`
	}
	cases := []struct {
		name, body, field string // field "" = valid
	}{
		{"CycleZero", hls(`{"record_cycle":0}`), ""},
		{"CycleMin", hls(`{"record_cycle":60}`), ""},
		{"CycleMax", hls(`{"record_cycle":43200}`), ""},
		{"CycleBelowMin", hls(`{"record_cycle":59}`), "default_record_config.hls_config.record_cycle"},
		{"CycleAboveMax", hls(`{"record_cycle":43201}`), "default_record_config.hls_config.record_cycle"},
		{"CycleMissing", hls(`{}`), "default_record_config.hls_config.record_cycle"},
		{"CycleNotANumber", hls(`{"record_cycle":"60"}`), "default_record_config.hls_config.record_cycle"},
		{"CycleFraction", hls(`{"record_cycle":60.5}`), "default_record_config.hls_config.record_cycle"},
		{"SliceMin", hls(`{"record_cycle":60,"record_slice_duration":2}`), ""},
		{"SliceMax", hls(`{"record_cycle":60,"record_slice_duration":60}`), ""},
		{"SliceBelowMin", hls(`{"record_cycle":60,"record_slice_duration":1}`), "default_record_config.hls_config.record_slice_duration"},
		{"SliceZero", hls(`{"record_cycle":60,"record_slice_duration":0}`), "default_record_config.hls_config.record_slice_duration"},
		{"SliceAboveMax", hls(`{"record_cycle":60,"record_slice_duration":61}`), "default_record_config.hls_config.record_slice_duration"},
		{"MergeMinusOne", hls(`{"record_cycle":60,"record_max_duration_to_merge_file":-1}`), ""},
		{"MergeMax", hls(`{"record_cycle":60,"record_max_duration_to_merge_file":300}`), ""},
		{"MergeMinusTwo", hls(`{"record_cycle":60,"record_max_duration_to_merge_file":-2}`), "default_record_config.hls_config.record_max_duration_to_merge_file"},
		{"MergeAboveMax", hls(`{"record_cycle":60,"record_max_duration_to_merge_file":301}`), "default_record_config.hls_config.record_max_duration_to_merge_file"},
		{"UnknownPrefixVariable", hls(`{"record_cycle":60,"record_prefix":"{date}/x"}`), "default_record_config.hls_config.record_prefix"},
		{"PrefixDotDot", hls(`{"record_cycle":60,"record_prefix":"../x"}`), "default_record_config.hls_config.record_prefix"},
		{"BadTSPrefix", hls(`{"record_cycle":60,"record_ts_prefix":"{nope}"}`), "default_record_config.hls_config.record_ts_prefix"},
		{"UnknownConfigField", hls(`{"record_cycle":60,"garbage":1}`), "garbage"},
		{"FLVCycleBelowMin", strings.Replace(minimalRule("v.com", "f", "*"), `"object":""}`, `"object":""},"flv_config":{"record_cycle":30}`, 1),
			"default_record_config.flv_config.record_cycle"},
		{"LowerCaseFormat", strings.Replace(minimalRule("v.com", "l", "*"), `"FLV"`, `"flv"`, 1), "default_record_config.record_format[0]"},
		{"M3U8Format", strings.Replace(minimalRule("v.com", "l", "*"), `"FLV"`, `"M3U8"`, 1), "default_record_config.record_format[0]"},
		{"DuplicateFormat", strings.Replace(minimalRule("v.com", "d", "*"), `"FLV"`, `"FLV","FLV"`, 1), "default_record_config.record_format[1]"},
		{"NoFormat", strings.Replace(minimalRule("v.com", "n", "*"), `"FLV"`, ``, 1), "default_record_config.record_format"},
		{"NoConfig", `{"publish_domain":"v.com","app":"live","stream":"*"}`, "default_record_config"},
		{"NoObsAddr", `{"publish_domain":"v.com","app":"live","stream":"*","default_record_config":{"record_format":["FLV"]}}`,
			"default_record_config.obs_addr"},
		{"NoBucket", strings.Replace(minimalRule("v.com", "b", "*"), `"bucket":"b"`, `"bucket":""`, 1), "default_record_config.obs_addr"},
		{"BadBucket", strings.Replace(minimalRule("v.com", "b", "*"), `"bucket":"b"`, `"bucket":"a/b"`, 1), "default_record_config.obs_addr.bucket"},
		{"UnknownLocation", strings.Replace(minimalRule("v.com", "u", "*"), `cn-north-4`, `nowhere`, 1), "default_record_config.obs_addr.location"},
		{"ObjectDotDot", strings.Replace(minimalRule("v.com", "o", "*"), `"object":""`, `"object":"a/../../x"`, 1), "default_record_config.obs_addr.object"},
		{"NoDomain", minimalRule("", "live", "*"), "publish_domain"},
		{"BadDomain", minimalRule("a b.com", "live", "*"), "publish_domain"},
		{"NoApp", minimalRule("v.com", "", "*"), "app"},
		{"BadStream", minimalRule("v.com", "live", "a/b"), "stream"},
		{"UnknownRecordType", strings.Replace(minimalRule("v.com", "t", "*"), `"stream"`, `"record_type":"SOMETIMES","stream"`, 1), "record_type"},
		// Huawei has no start/end on a rule: a PLAN_RECORD rule records in its schedule tasks' windows.
		{"PlanRecord", strings.Replace(minimalRule("v.com", "p", "*"), `"stream"`, `"record_type":"PLAN_RECORD","stream"`, 1), ""},
		{"UnknownField", strings.Replace(minimalRule("v.com", "g", "*"), `"stream"`, `"extra":true,"stream"`, 1), "extra"},
		{"ReadOnlyFieldsAccepted", strings.Replace(minimalRule("v.com", "r", "*"), `"stream"`,
			`"id":"x","create_time":"2020-01-01T00:00:00Z","update_time":"y","stream"`, 1), ""},
		{"MalformedJSON", `{"publish_domain":`, ""},
		{"TrailingData", minimalRule("v.com", "t2", "*") + `{}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Each case its own stream, so valid ones do not collide.
			body := strings.Replace(tc.body, `"stream":"*"`, `"stream":"`+tc.name+`"`, 1)
			r := e.do(req{method: http.MethodPost, path: rulesPath(projectA), body: body})
			switch {
			case tc.field == "" && strings.HasPrefix(tc.name, "Malformed"), tc.name == "TrailingData":
				r.requireError(t, http.StatusBadRequest, codeBadParameter, "")
			case tc.field == "":
				require.Equal(t, http.StatusCreated, r.status, string(r.body))
			default:
				r.requireError(t, http.StatusBadRequest, codeBadParameter, "Invalid request parameter: "+tc.field)
			}
		})
	}
}

func TestRuleBodyChecks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do(req{method: http.MethodPost, path: rulesPath(projectA), body: minimalRule("a.com", "live", "*"), contentType: "text/plain"}).
		requireError(t, http.StatusBadRequest, codeMediaType, "")
	e.do(req{method: http.MethodPost, path: rulesPath(projectA)}).requireError(t, http.StatusBadRequest, codeMediaType, "")
	huge := `{"publish_domain":"` + strings.Repeat("a", maxBodyBytes) + `"}`
	e.do(req{method: http.MethodPost, path: rulesPath(projectA), body: huge}).requireError(t, http.StatusBadRequest, codeBadParameter, "body")
}

func TestRuleLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := e.createRule(t, minimalRule("a.com", "live", "*"))
	path := rulesPath(projectA) + "/" + created.ID

	// Duplicate key, whatever the case of the domain.
	e.do(req{method: http.MethodPost, path: rulesPath(projectA), body: minimalRule("A.com", "live", "*")}).
		requireError(t, http.StatusBadRequest, codeExists, "")
	other := e.createRule(t, minimalRule("a.com", "other", "*"))

	// Update replaces the rule; moving onto another rule's key is a duplicate.
	r := e.do(req{method: http.MethodPut, path: path, body: strings.Replace(fullRule, "Push.Example.com", "a.com", 1)})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var updated ruleOut
	r.decode(t, &updated)
	require.Equal(t, created.ID, updated.ID)
	require.Equal(t, "COMMAND_RECORD", updated.RecordType)
	require.Equal(t, []string{"HLS", "FLV", "MP4"}, updated.DefaultRecordConfig.RecordFormat)
	e.do(req{method: http.MethodPut, path: rulesPath(projectA) + "/" + other.ID, body: minimalRule("a.com", "live", "s1")}).
		requireError(t, http.StatusBadRequest, codeExists, "")
	e.do(req{method: http.MethodPut, path: path, body: strings.Replace(fullRule, `"record_cycle": 900`, `"record_cycle": 10`, 1)}).
		requireError(t, http.StatusBadRequest, codeBadParameter, "hls_config.record_cycle")
	e.do(req{method: http.MethodPut, path: rulesPath(projectA) + "/nosuch", body: minimalRule("a.com", "x", "*")}).
		requireError(t, http.StatusNotFound, codeNotFound, "")

	// Delete, then it is gone for every verb.
	r = e.do(req{method: http.MethodDelete, path: path})
	require.Equal(t, http.StatusNoContent, r.status)
	require.Empty(t, r.body)
	e.do(req{method: http.MethodGet, path: path}).requireError(t, http.StatusNotFound, codeNotFound, "")
	e.do(req{method: http.MethodDelete, path: path}).requireError(t, http.StatusNotFound, codeNotFound, "")
	e.do(req{method: http.MethodPut, path: path, body: minimalRule("a.com", "live", "*")}).requireError(t, http.StatusNotFound, codeNotFound, "")
}

func TestRuleTenancy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := e.createRule(t, minimalRule("a.com", "live", "*"))
	path := "/v1/" + projectB + "/record/rules"
	b := req{key: keyB, secret: secretB, projectHeader: ptr(projectB)}
	do := func(method, p, body string) resp {
		q := b
		q.method, q.path, q.body = method, p, body
		return e.do(q)
	}
	// Project B sees nothing of A: not the rule, not its domain.
	var l ruleList
	r := do(http.MethodGet, path, "")
	r.decode(t, &l)
	require.Equal(t, ruleList{Total: 0, RecordConfig: []ruleOut{}}, l)
	do(http.MethodGet, path+"/"+created.ID, "").requireError(t, http.StatusNotFound, codeNotFound, "")
	do(http.MethodPut, path+"/"+created.ID, minimalRule("b.com", "live", "*")).requireError(t, http.StatusNotFound, codeNotFound, "")
	do(http.MethodDelete, path+"/"+created.ID, "").requireError(t, http.StatusNotFound, codeNotFound, "")
	do(http.MethodPost, path, minimalRule("a.com", "other", "*")).requireError(t, http.StatusNotFound, codeNotFound, "")
	// Nor can B's key address A's project.
	q := b
	q.method, q.path, q.projectHeader = http.MethodGet, rulesPath(projectA)+"/"+created.ID, ptr(projectA)
	e.do(q).requireError(t, http.StatusForbidden, codeDenied, "")
	// The default rule's domain "*" is an admin's.
	e.do(req{method: http.MethodPost, path: rulesPath(projectA), body: minimalRule("*", "live", "*")}).
		requireError(t, http.StatusBadRequest, codeBadParameter, `publish_domain: the catch-all domain "*" is for admin keys`)
	r = e.do(req{method: http.MethodPost, path: rulesPath(projectA), body: minimalRule("*", "live", "*"), key: keyAdmin, secret: secAdmin})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
}

func TestRuleListPagingAndFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var ids []string
	for i := range 12 {
		body := minimalRule("a.com", fmt.Sprintf("app%02d", i), "*")
		if i%3 == 0 {
			body = strings.Replace(body, `"stream"`, `"record_type":"COMMAND_RECORD","stream"`, 1)
		}
		ids = append(ids, e.createRule(t, body).ID)
	}
	e.createRule(t, minimalRule("b.com", "app00", "s"))
	list := func(query string) ruleList {
		t.Helper()
		r := e.do(req{method: http.MethodGet, path: rulesPath(projectA) + query})
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		var l ruleList
		r.decode(t, &l)
		return l
	}
	idsOf := func(l ruleList) []string {
		var out []string
		for _, r := range l.RecordConfig {
			out = append(out, r.ID)
		}
		return out
	}
	l := list("")
	require.Equal(t, 13, l.Total)
	require.Equal(t, ids[:10], idsOf(l))
	require.Equal(t, ids[10:12], idsOf(list("?offset=10&limit=2")))
	require.Len(t, list("?limit=100").RecordConfig, 13)
	require.Empty(t, list("?offset=50").RecordConfig)
	l = list("?publish_domain=A.COM&limit=1")
	require.Equal(t, 12, l.Total)
	require.Equal(t, ids[:1], idsOf(l))
	require.Equal(t, 2, list("?app=app00").Total)
	require.Equal(t, 1, list("?app=app00&stream=s").Total)
	l = list("?record_type=COMMAND_RECORD&offset=1&limit=2")
	require.Equal(t, 4, l.Total)
	require.Equal(t, []string{ids[3], ids[6]}, idsOf(l))
	require.Equal(t, 8, list("?record_type=CONTINUOUS_RECORD&publish_domain=a.com").Total)
	for _, q := range []string{"?limit=0", "?limit=101", "?limit=x", "?offset=-1", "?record_type=NOPE"} {
		e.do(req{method: http.MethodGet, path: rulesPath(projectA) + q}).requireError(t, http.StatusBadRequest, codeBadParameter, "")
	}
}
