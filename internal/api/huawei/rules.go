package huawei

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// Huawei record types (RecordRule.record_type) and their liverec modes.
const (
	typeContinuous = "CONTINUOUS_RECORD"
	typeCommand    = "COMMAND_RECORD"
	typePlan       = "PLAN_RECORD"
	typeOnDemand   = "ON_DEMAND_RECORD"
)

var modeOfType = map[string]recording.Mode{
	typeContinuous: recording.ModeAuto,
	typeCommand:    recording.ModeManual,
	typePlan:       recording.ModePlan,
	typeOnDemand:   recording.ModeOnDemandHTTP,
}

// recordTypeOf names a rule's mode in Huawei's terms; on_demand_param has no Huawei twin and
// reads as the other on-demand mode.
func recordTypeOf(m recording.Mode) string {
	switch m {
	case recording.ModeManual:
		return typeCommand
	case recording.ModePlan:
		return typePlan
	case recording.ModeOnDemandHTTP, recording.ModeOnDemandParam:
		return typeOnDemand
	}
	return typeContinuous
}

// Default templates of B.3.
const (
	defaultHLSPrefix  = "Record/{publish_domain}/{app}/{record_type}/{record_format}/{stream}_{file_start_time}/{stream}_{file_start_time}"
	defaultFilePrefix = "Record/{publish_domain}/{app}/{record_type}/{record_format}/{stream}_{file_start_time}/{file_start_time}"
	defaultTSPrefix   = "{file_start_time_unix}_{file_end_time_unix}_{ts_sequence_number}"
	defaultSliceS     = 10
	// A format listed without its config gets the cycle the API doc gives for record_cycle 0
	// (21600 s) for HLS and liverec's 3600 s for FLV and MP4.
	defaultHLSCycleS  = 21600
	defaultFileCycleS = 3600
)

// timeLayout is yyyy-mm-ddThh:mm:ssZ in UTC.
const timeLayout = "2006-01-02T15:04:05Z"

// ruleBody is RecordRuleRequest (POST and PUT). id, create_time and update_time are the read-only
// fields of RecordRule: accepted and ignored, so a rule read back can be written back.
type ruleBody struct {
	PublishDomain       string            `json:"publish_domain"`
	App                 string            `json:"app"`
	Stream              string            `json:"stream"`
	RecordType          *string           `json:"record_type"`
	DefaultRecordConfig *recordConfigBody `json:"default_record_config"`
	ID                  json.RawMessage   `json:"id"`
	CreateTime          json.RawMessage   `json:"create_time"`
	UpdateTime          json.RawMessage   `json:"update_time"`
}

type recordConfigBody struct {
	RecordFormat []string        `json:"record_format"`
	ObsAddr      *obsAddr        `json:"obs_addr"`
	HLSConfig    *hlsBody        `json:"hls_config"`
	FLVConfig    *fileFormatBody `json:"flv_config"`
	MP4Config    *fileFormatBody `json:"mp4_config"`
}

type obsAddr struct {
	Bucket   string `json:"bucket"`
	Location string `json:"location"`
	Object   string `json:"object"`
}

// hlsBody is HLSRecordConfig; pointers tell an absent field (its default) from a zero.
type hlsBody struct {
	RecordCycle                  *int    `json:"record_cycle"`
	RecordPrefix                 *string `json:"record_prefix"`
	RecordTSPrefix               *string `json:"record_ts_prefix"`
	RecordSliceDuration          *int    `json:"record_slice_duration"`
	RecordMaxDurationToMergeFile *int    `json:"record_max_duration_to_merge_file"`
}

// fileFormatBody is FLVRecordConfig and MP4RecordConfig: no slice fields.
type fileFormatBody struct {
	RecordCycle                  *int    `json:"record_cycle"`
	RecordPrefix                 *string `json:"record_prefix"`
	RecordMaxDurationToMergeFile *int    `json:"record_max_duration_to_merge_file"`
}

// ruleOut is RecordRule.
type ruleOut struct {
	ID                  string          `json:"id"`
	PublishDomain       string          `json:"publish_domain"`
	App                 string          `json:"app"`
	Stream              string          `json:"stream"`
	RecordType          string          `json:"record_type"`
	DefaultRecordConfig recordConfigOut `json:"default_record_config"`
	CreateTime          string          `json:"create_time"`
	UpdateTime          string          `json:"update_time"`
}

type recordConfigOut struct {
	RecordFormat []string       `json:"record_format"`
	ObsAddr      obsAddr        `json:"obs_addr"`
	HLSConfig    *hlsConfigOut  `json:"hls_config,omitempty"`
	FLVConfig    *fileConfigOut `json:"flv_config,omitempty"`
	MP4Config    *fileConfigOut `json:"mp4_config,omitempty"`
}

type hlsConfigOut struct {
	RecordCycle                  int    `json:"record_cycle"`
	RecordPrefix                 string `json:"record_prefix"`
	RecordTSPrefix               string `json:"record_ts_prefix"`
	RecordSliceDuration          int    `json:"record_slice_duration"`
	RecordMaxDurationToMergeFile int    `json:"record_max_duration_to_merge_file"`
}

type fileConfigOut struct {
	RecordCycle                  int    `json:"record_cycle"`
	RecordPrefix                 string `json:"record_prefix"`
	RecordMaxDurationToMergeFile int    `json:"record_max_duration_to_merge_file"`
}

type ruleList struct {
	Total        int       `json:"total"`
	RecordConfig []ruleOut `json:"record_config"`
}

const cfgPath = "default_record_config."

// toRule maps a request to a Huawei-dialect rule; the service validates ranges.
func (b *ruleBody) toRule() (*recording.Rule, error) {
	if b.PublishDomain == "" {
		return nil, badParameter("publish_domain", "required")
	}
	if b.App == "" {
		return nil, badParameter("app", "required")
	}
	r := &recording.Rule{Dialect: recording.DialectHuawei, Domain: b.PublishDomain, App: b.App,
		Stream: b.Stream, Mode: recording.ModeAuto}
	if b.RecordType != nil {
		m, ok := modeOfType[*b.RecordType]
		if !ok {
			return nil, badParameter("record_type", "must be CONTINUOUS_RECORD, COMMAND_RECORD, PLAN_RECORD or ON_DEMAND_RECORD")
		}
		r.Mode = m
	}
	c := b.DefaultRecordConfig
	if c == nil {
		return nil, badParameter("default_record_config", "required")
	}
	if len(c.RecordFormat) == 0 {
		return nil, badParameter(cfgPath+"record_format", "at least one of FLV, HLS, MP4 is required")
	}
	if c.ObsAddr == nil || c.ObsAddr.Bucket == "" || c.ObsAddr.Location == "" {
		return nil, badParameter(cfgPath+"obs_addr", "bucket and location are required")
	}
	r.Storage = recording.Storage{Endpoint: c.ObsAddr.Location, Bucket: c.ObsAddr.Bucket, BasePath: c.ObsAddr.Object}
	for i, name := range c.RecordFormat {
		fc, err := c.format(i, name)
		if err != nil {
			return nil, err
		}
		r.Formats = append(r.Formats, fc)
	}
	return r, nil
}

// format builds the config of one upper-case format name from its *_config, or from the
// defaults when that config is absent.
func (c *recordConfigBody) format(i int, name string) (recording.FormatConfig, error) {
	switch name {
	case "HLS":
		fc := recording.FormatConfig{Format: recording.FormatHLS, CycleS: defaultHLSCycleS, SliceS: defaultSliceS,
			ObjectTemplate: defaultHLSPrefix}
		ts := defaultTSPrefix
		if h := c.HLSConfig; h != nil {
			if h.RecordCycle == nil {
				return fc, badParameter(cfgPath+"hls_config.record_cycle", "required")
			}
			fc.CycleS = *h.RecordCycle
			setTemplate(&fc.ObjectTemplate, h.RecordPrefix)
			setTemplate(&ts, h.RecordTSPrefix)
			if h.RecordSliceDuration != nil {
				// Explicit, so 0 is out of range rather than "default" (Normalize's reading).
				if *h.RecordSliceDuration == 0 {
					return fc, badParameter(cfgPath+"hls_config.record_slice_duration", "must be 2–60")
				}
				fc.SliceS = *h.RecordSliceDuration
			}
			if h.RecordMaxDurationToMergeFile != nil {
				fc.MergeWindowS = *h.RecordMaxDurationToMergeFile
			}
		}
		fc.SliceTemplate = sliceTemplate(fc.ObjectTemplate, ts)
		return fc, nil
	case "FLV", "MP4":
		fc := recording.FormatConfig{Format: recording.FormatFLV, CycleS: defaultFileCycleS, ObjectTemplate: defaultFilePrefix}
		cfg := c.FLVConfig
		if name == "MP4" {
			fc.Format, cfg = recording.FormatMP4, c.MP4Config
		}
		if cfg != nil {
			if cfg.RecordCycle == nil {
				return fc, badParameter(cfgPath+strings.ToLower(name)+"_config.record_cycle", "required")
			}
			fc.CycleS = *cfg.RecordCycle
			setTemplate(&fc.ObjectTemplate, cfg.RecordPrefix)
			if cfg.RecordMaxDurationToMergeFile != nil {
				fc.MergeWindowS = *cfg.RecordMaxDurationToMergeFile
			}
		}
		return fc, nil
	}
	return recording.FormatConfig{}, badParameter(fmt.Sprintf("%srecord_format[%d]", cfgPath, i), "must be FLV, HLS or MP4 (upper case)")
}

func setTemplate(dst *string, v *string) {
	if v != nil && *v != "" {
		*dst = *v
	}
}

// sliceTemplate places HLS slices next to their playlist: Huawei's record_ts_prefix names a TS
// file in the playlist's directory, liverec's slice template is a whole key.
func sliceTemplate(object, ts string) string {
	if i := strings.LastIndexByte(object, '/'); i >= 0 {
		return object[:i+1] + ts
	}
	return ts
}

// tsPrefix is the inverse of sliceTemplate; a slice template elsewhere (written through another
// API) is returned whole.
func tsPrefix(object, slice string) string {
	if i := strings.LastIndexByte(object, '/'); i >= 0 {
		if rest, ok := strings.CutPrefix(slice, object[:i+1]); ok && rest != "" {
			return rest
		}
	}
	return slice
}

// ruleOutOf shows any rule, whichever API wrote it, in Huawei's terms.
func ruleOutOf(r *recording.Rule) ruleOut {
	out := ruleOut{ID: r.ID, PublishDomain: r.Domain, App: r.App, Stream: r.Stream, RecordType: recordTypeOf(r.Mode),
		CreateTime: formatTime(r.CreatedAt), UpdateTime: formatTime(r.UpdatedAt)}
	c := &out.DefaultRecordConfig
	c.RecordFormat = []string{}
	c.ObsAddr = obsAddr{Bucket: r.Storage.Bucket, Location: r.Storage.Endpoint, Object: r.Storage.BasePath}
	for _, fc := range r.Formats {
		c.RecordFormat = append(c.RecordFormat, strings.ToUpper(string(fc.Format)))
		file := &fileConfigOut{RecordCycle: fc.CycleS, RecordPrefix: fc.ObjectTemplate, RecordMaxDurationToMergeFile: fc.MergeWindowS}
		switch fc.Format {
		case recording.FormatHLS:
			c.HLSConfig = &hlsConfigOut{RecordCycle: fc.CycleS, RecordPrefix: fc.ObjectTemplate,
				RecordTSPrefix: tsPrefix(fc.ObjectTemplate, fc.SliceTemplate), RecordSliceDuration: fc.SliceS,
				RecordMaxDurationToMergeFile: fc.MergeWindowS}
		case recording.FormatFLV:
			c.FLVConfig = file
		case recording.FormatMP4:
			c.MP4Config = file
		}
	}
	return out
}

// ruleField maps a native validation field of r to its Huawei parameter path.
func ruleField(r *recording.Rule) func(string) string {
	return func(field string) string {
		switch field {
		case "domain":
			return "publish_domain"
		case "app", "stream":
			return field
		case "mode":
			return "record_type"
		case "formats":
			return cfgPath + "record_format"
		case "storage.endpoint":
			return cfgPath + "obs_addr.location"
		case "storage.bucket":
			return cfgPath + "obs_addr.bucket"
		case "storage.base_path":
			return cfgPath + "obs_addr.object"
		}
		var i int
		var name string
		if n, _ := fmt.Sscanf(field, "formats[%d].%s", &i, &name); n == 2 && i >= 0 && i < len(r.Formats) {
			if name == "format" {
				return fmt.Sprintf("%srecord_format[%d]", cfgPath, i)
			}
			param := map[string]string{"cycle_s": "record_cycle", "slice_s": "record_slice_duration",
				"merge_window_s": "record_max_duration_to_merge_file", "object_template": "record_prefix",
				"slice_template": "record_ts_prefix"}[name]
			if param != "" {
				return cfgPath + string(r.Formats[i].Format) + "_config." + param
			}
		}
		return field
	}
}

func (h *handler) createRule(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	rule, err := decodeRule(r)
	if err != nil {
		return err
	}
	if err := h.svc.CreateRule(r.Context(), p, rule); err != nil {
		h.fail(w, r, err, ruleField(rule))
		return nil
	}
	writeJSON(w, http.StatusCreated, ruleOutOf(rule))
	return nil
}

func (h *handler) updateRule(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	rule, err := decodeRule(r)
	if err != nil {
		return err
	}
	rule.ID = r.PathValue("id")
	if err := h.svc.UpdateRule(r.Context(), p, rule); err != nil {
		h.fail(w, r, err, ruleField(rule))
		return nil
	}
	writeJSON(w, http.StatusOK, ruleOutOf(rule))
	return nil
}

func decodeRule(r *http.Request) (*recording.Rule, error) {
	var b ruleBody
	if err := decodeBody(r, &b); err != nil {
		return nil, err
	}
	return b.toRule()
}

func (h *handler) showRule(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	rule, err := h.svc.GetRule(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ruleOutOf(rule))
	return nil
}

func (h *handler) deleteRule(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	if err := h.svc.DeleteRule(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) listRules(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	q := r.URL.Query()
	offset, limit, err := paging(q)
	if err != nil {
		return err
	}
	f := store.RuleFilter{Domain: q.Get("publish_domain"), App: q.Get("app"), Stream: q.Get("stream"),
		Offset: offset, Limit: limit}
	recordType := q.Get("record_type")
	if recordType != "" {
		if _, ok := modeOfType[recordType]; !ok {
			return badParameter("record_type", "must be CONTINUOUS_RECORD, COMMAND_RECORD, PLAN_RECORD or ON_DEMAND_RECORD")
		}
		// The store does not filter by mode: page the project's matching rules here.
		f.Offset, f.Limit = 0, 0
	}
	rules, total, err := h.svc.ListRules(r.Context(), p, f)
	if err != nil {
		return err
	}
	if recordType != "" {
		kept := rules[:0]
		for _, rule := range rules {
			if recordTypeOf(rule.Mode) == recordType {
				kept = append(kept, rule)
			}
		}
		total = len(kept)
		rules = kept[min(offset, len(kept)):min(offset+limit, len(kept))]
	}
	out := ruleList{Total: total, RecordConfig: make([]ruleOut, 0, len(rules))}
	for i := range rules {
		out.RecordConfig = append(out.RecordConfig, ruleOutOf(&rules[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }
