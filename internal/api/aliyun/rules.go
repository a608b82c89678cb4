package aliyun

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// Alibaba's defaults (reference B.1).
const (
	defaultDelayTime = 180
	defaultCycle     = 3600
	defaultM3U8Cycle = 21600
	defaultSlice     = 30
	maxPlanWindow    = 7 * 24 * time.Hour
)

// Reasons for refusing parameters liverec cannot honour.
const (
	transcodeRefusal  = "transcoded recording is not supported"
	immutableOnUpdate = "cannot be changed by UpdateLiveAppRecordConfig (delete and add the config instead)"
)

// parseOnDemand maps OnDemand to a mode; plan mode is OnDemand 0 with a time window.
func parseOnDemand(q params) (recording.Mode, bool, error) {
	switch q["OnDemand"] {
	case "":
		return recording.ModeAuto, false, nil
	case "0":
		return recording.ModeAuto, true, nil
	case "1":
		return recording.ModeOnDemandHTTP, true, nil
	case "2":
		return recording.ModeOnDemandParam, true, nil
	case "7":
		return recording.ModeManual, true, nil
	}
	return "", false, errInvalid("OnDemand", "must be 0, 1, 2 or 7")
}

func onDemondOf(m recording.Mode) int {
	switch m {
	case recording.ModeOnDemandHTTP:
		return 1
	case recording.ModeOnDemandParam:
		return 2
	case recording.ModeManual:
		return 7
	}
	return 0
}

func (h *handler) addRecordConfig(ctx context.Context, p service.Principal, q params) (response, error) {
	if err := q.refuse(transcodeRefusal, "TranscodeRecordFormat", "TranscodeTemplates"); err != nil {
		return nil, err
	}
	r := &recording.Rule{Dialect: recording.DialectAliyun, Stream: q["StreamName"]}
	var err error
	for _, f := range []struct {
		name string
		dst  *string
	}{{"DomainName", &r.Domain}, {"AppName", &r.App}, {"OssEndpoint", &r.Storage.Endpoint}, {"OssBucket", &r.Storage.Bucket}} {
		if *f.dst, err = q.required(f.name); err != nil {
			return nil, err
		}
	}
	if r.Mode, _, err = parseOnDemand(q); err != nil {
		return nil, err
	}
	delay, set, err := q.optInt("DelayTime")
	if err != nil {
		return nil, err
	}
	if !set {
		delay = defaultDelayTime
	}
	formats, ns, err := buildFormats(q, nil, delay, false)
	if err != nil {
		return nil, err
	}
	if len(formats) == 0 {
		return nil, errMissingAction("RecordFormat")
	}
	r.Formats = formats
	start, end, err := requestWindow(q)
	if err != nil {
		return nil, err
	}
	if err := applyWindow(r, start, end); err != nil {
		return nil, err
	}
	if err := h.svc.CreateRule(ctx, p, r); err != nil {
		return nil, ruleError(err, ns, errDomain)
	}
	return &base{}, nil
}

func (h *handler) updateRecordConfig(ctx context.Context, p service.Principal, q params) (response, error) {
	if err := q.refuse(transcodeRefusal, "TranscodeRecordFormat", "TranscodeTemplates"); err != nil {
		return nil, err
	}
	if err := q.refuse(immutableOnUpdate, "OssBucket"); err != nil {
		return nil, err
	}
	old, err := h.findRule(ctx, p, q)
	if err != nil {
		return nil, err
	}
	r := *old
	r.Dialect = recording.DialectAliyun
	r.Formats = slices.Clone(old.Formats)
	if e := q["OssEndpoint"]; e != "" {
		r.Storage.Endpoint = e
	}
	mode, modeSet, err := parseOnDemand(q)
	if err != nil {
		return nil, err
	}
	start, end, err := requestWindow(q)
	if err != nil {
		return nil, err
	}
	// The old window survives an update that names neither times nor another mode.
	if r.Mode == recording.ModePlan && start == nil && end == nil && (!modeSet || mode == recording.ModeAuto) {
		start, end = old.StartTime, old.EndTime
	}
	r.Mode, r.StartTime, r.EndTime = recording.ModeAuto, nil, nil
	if modeSet {
		r.Mode = mode
	} else if old.Mode != recording.ModePlan {
		r.Mode = old.Mode
	}
	if err = applyWindow(&r, start, end); err != nil {
		return nil, err
	}
	delay, set, err := q.optInt("DelayTime")
	if err != nil {
		return nil, err
	}
	if !set && len(old.Formats) > 0 {
		delay = old.Formats[0].MergeWindowS
	}
	ns := make([]int, len(r.Formats))
	for i := range r.Formats {
		r.Formats[i].MergeWindowS = delay
		ns[i] = i + 1
	}
	if hasPrefix(q, "RecordFormat.") {
		if r.Formats, ns, err = buildFormats(q, old.Formats, delay, true); err != nil {
			return nil, err
		}
	}
	if err := h.svc.UpdateRule(ctx, p, &r); err != nil {
		return nil, ruleError(err, ns, errConfigMissing)
	}
	return &base{}, nil
}

func (h *handler) deleteRecordConfig(ctx context.Context, p service.Principal, q params) (response, error) {
	r, err := h.findRule(ctx, p, q)
	if err != nil {
		return nil, err
	}
	if err := h.svc.DeleteRule(ctx, p, r.ID); err != nil {
		return nil, ruleError(err, nil, errConfigMissing)
	}
	return &base{}, nil
}

// findRule resolves (DomainName, AppName, StreamName) to a rule of p's project: another
// project's domain is InvalidDomain.NotFound, a missing config InvalidConfig.NotFound.
func (h *handler) findRule(ctx context.Context, p service.Principal, q params) (*recording.Rule, error) {
	domain, err := q.required("DomainName")
	if err != nil {
		return nil, err
	}
	app, err := q.required("AppName")
	if err != nil {
		return nil, err
	}
	if err = h.svc.CheckDomain(ctx, p, domain); err != nil {
		return nil, ruleError(err, nil, errDomain)
	}
	r, err := h.svc.FindRule(ctx, p, domain, app, q["StreamName"])
	if err != nil {
		return nil, ruleError(err, nil, errConfigMissing)
	}
	return r, nil
}

type recordFormat struct {
	Format               string `json:"Format"`
	OssObjectPrefix      string `json:"OssObjectPrefix"`
	SliceOssObjectPrefix string `json:"SliceOssObjectPrefix"`
	SliceDuration        int    `json:"SliceDuration"`
	CycleDuration        int    `json:"CycleDuration"`
}

type liveAppRecord struct {
	DomainName       string `json:"DomainName"`
	AppName          string `json:"AppName"`
	StreamName       string `json:"StreamName"`
	OssEndpoint      string `json:"OssEndpoint"`
	OssBucket        string `json:"OssBucket"`
	CreateTime       string `json:"CreateTime"`
	StartTime        string `json:"StartTime"`
	EndTime          string `json:"EndTime"`
	OnDemond         int    `json:"OnDemond"` // sic: the cloud's response spelling
	DelayTime        int    `json:"DelayTime"`
	RecordFormatList struct {
		RecordFormat []recordFormat `json:"RecordFormat"`
	} `json:"RecordFormatList"`
	TranscodeRecordFormatList struct {
		RecordFormat []recordFormat `json:"RecordFormat"`
	} `json:"TranscodeRecordFormatList"`
	TranscodeTemplates struct {
		Templates []string `json:"Templates"`
	} `json:"TranscodeTemplates"`
}

type describeRecordConfigResponse struct {
	base
	PageNum           int    `json:"PageNum"`
	PageSize          int    `json:"PageSize"`
	Order             string `json:"Order"`
	TotalNum          int    `json:"TotalNum"`
	TotalPage         int    `json:"TotalPage"`
	LiveAppRecordList struct {
		LiveAppRecord []liveAppRecord `json:"LiveAppRecord"`
	} `json:"LiveAppRecordList"`
}

func (h *handler) describeRecordConfig(ctx context.Context, p service.Principal, q params) (response, error) {
	domain, err := q.required("DomainName")
	if err != nil {
		return nil, err
	}
	pageNum, err := q.intIn("PageNum", 1, 100000, 1)
	if err != nil {
		return nil, err
	}
	pageSize, err := q.intIn("PageSize", 5, 30, 10)
	if err != nil {
		return nil, err
	}
	order, err := q.oneOf("Order", "asc", "asc", "desc")
	if err != nil {
		return nil, err
	}
	if err = h.svc.CheckDomain(ctx, p, domain); err != nil {
		return nil, ruleError(err, nil, errDomain)
	}
	rules, total, err := h.svc.ListRules(ctx, p, store.RuleFilter{Domain: strings.ToLower(domain), App: q["AppName"],
		Stream: q["StreamName"], Offset: (pageNum - 1) * pageSize, Limit: pageSize, OrderDesc: order == "desc"})
	if err != nil {
		return nil, err
	}
	resp := &describeRecordConfigResponse{PageNum: pageNum, PageSize: pageSize, Order: order, TotalNum: total,
		TotalPage: (total + pageSize - 1) / pageSize}
	resp.LiveAppRecordList.LiveAppRecord = make([]liveAppRecord, 0, len(rules))
	for i := range rules {
		resp.LiveAppRecordList.LiveAppRecord = append(resp.LiveAppRecordList.LiveAppRecord, toLiveAppRecord(&rules[i]))
	}
	return resp, nil
}

func toLiveAppRecord(r *recording.Rule) liveAppRecord {
	a := liveAppRecord{DomainName: r.Domain, AppName: r.App, OssEndpoint: r.Storage.Endpoint, OssBucket: r.Storage.Bucket,
		CreateTime: r.CreatedAt.UTC().Format(timeLayout), OnDemond: onDemondOf(r.Mode)}
	if r.Stream != recording.Wildcard {
		a.StreamName = r.Stream
	}
	if r.StartTime != nil {
		a.StartTime = r.StartTime.UTC().Format(timeLayout)
	}
	if r.EndTime != nil {
		a.EndTime = r.EndTime.UTC().Format(timeLayout)
	}
	if len(r.Formats) > 0 {
		a.DelayTime = r.Formats[0].MergeWindowS
		if a.DelayTime < 0 { // Huawei's "append to the previous file", taken as 21600
			a.DelayTime = 21600
		}
	}
	a.RecordFormatList.RecordFormat = make([]recordFormat, 0, len(r.Formats))
	for _, fc := range r.Formats {
		name := strings.ToUpper(string(fc.Format))
		if fc.Format == recording.FormatHLS {
			name = "M3U8"
		}
		a.RecordFormatList.RecordFormat = append(a.RecordFormatList.RecordFormat, recordFormat{Format: name,
			OssObjectPrefix: fc.ObjectTemplate, SliceOssObjectPrefix: fc.SliceTemplate, SliceDuration: fc.SliceS, CycleDuration: fc.CycleS})
	}
	a.TranscodeRecordFormatList.RecordFormat = []recordFormat{}
	a.TranscodeTemplates.Templates = []string{}
	return a
}

func hasPrefix(q params, prefix string) bool {
	for k := range q {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// ruleError maps the service's errors; a validation error names the Alibaba parameter.
func ruleError(err error, ns []int, notFound *apiError) error {
	var ve *recording.ValidationError
	if errors.As(err, &ve) {
		return errInvalid(ruleParam(ve.Field, ns), ve.Reason)
	}
	if e, ok := toAPIError(err, notFound); ok {
		return e
	}
	return err
}
