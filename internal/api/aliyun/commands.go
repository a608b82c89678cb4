package aliyun

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/liverec/liverec/internal/notify/dialect"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// realTimeRecordCommand validates the command and hands it to the stream's recorder (manual
// mode, OnDemand=7): a stream without a matching rule is InvalidConfig.NotFound, one that is
// not publishing, or whose recording does not take commands (its rule is not manual),
// InvalidStream.NotFound with a message that tells which, and a command that does not fit the
// recording's state (start twice, stop before start) IllegalOperation.
func (h *handler) realTimeRecordCommand(ctx context.Context, p service.Principal, q params) (response, error) {
	var v [4]string
	for i, name := range []string{"DomainName", "AppName", "StreamName", "Command"} {
		var err error
		if v[i], err = q.required(name); err != nil {
			return nil, err
		}
	}
	domain, app, stream := strings.ToLower(v[0]), v[1], v[2]
	if err := checkName("AppName", app, false); err != nil {
		return nil, err
	}
	if err := checkName("StreamName", stream, false); err != nil {
		return nil, err
	}
	// Note cancel_delay, not cancel.
	cmd, err := q.oneOf("Command", "", "start", "stop", "cancel_delay", "restart")
	if err != nil {
		return nil, err
	}
	if err = h.svc.CheckDomain(ctx, p, domain); err != nil {
		return nil, notifyError(err, errDomain)
	}
	rules, _, err := h.svc.ListRules(ctx, p, store.RuleFilter{Domain: domain})
	if err != nil {
		return nil, err
	}
	rule := recording.MatchRule(rules, domain, app, stream)
	if rule == nil {
		return nil, errConfigMissing
	}
	switch err := h.svc.RecordCommand(ctx, p, domain, app, stream, recording.Command(cmd)); {
	case err == nil:
		return &base{}, nil
	case errors.Is(err, recording.ErrNotLive):
		return nil, h.whyNoCommand(ctx, p, rule, domain, app, stream)
	case errors.Is(err, recording.ErrCommandState):
		return nil, errCommandState
	default:
		return nil, err
	}
}

// whyNoCommand tells a caller whose command found no recording to take it why: the stream is
// not publishing, or it is but its rule is not manual. The code stays InvalidStream.NotFound,
// the cloud's answer to both.
func (h *handler) whyNoCommand(ctx context.Context, p service.Principal, rule *recording.Rule,
	domain, app, stream string,
) error {
	name := domain + "/" + app + "/" + stream
	_, err := h.svc.StreamState(ctx, p, domain, app, stream)
	switch {
	case errors.Is(err, recording.ErrNotLive):
		return newError(http.StatusNotFound, errStreamMissing.code,
			"Stream does not exist: %s is not being published; RealTimeRecordCommand applies to a live stream.", name)
	case err != nil:
		return err
	case rule.Mode != recording.ModeManual:
		return newError(http.StatusNotFound, errStreamMissing.code,
			"The stream %s is live but its record config is not manual (OnDemand=%d, mode %s); "+
				"RealTimeRecordCommand applies to streams of manual record configs (OnDemand=7).",
			name, onDemondOf(rule.Mode), rule.Mode)
	}
	// Live under a manual config, yet no recorder takes the command: the recording started
	// under an earlier config, is still deciding, or has failed.
	return newError(http.StatusNotFound, errStreamMissing.code,
		"The stream %s is live but its recording takes no command: it started before its record config "+
			"was added or made manual (OnDemand=7), has only just started, or has failed.", name)
}

type callbackRecord struct {
	AppName       string `json:"AppName"`
	Description   string `json:"Description"`
	DomainName    string `json:"DomainName"`
	NotifyContent string `json:"NotifyContent"`
	NotifyResult  string `json:"NotifyResult"`
	NotifyTime    string `json:"NotifyTime"`
	NotifyType    string `json:"NotifyType"`
	NotifyURL     string `json:"NotifyUrl"`
	StreamName    string `json:"StreamName"`
}

type describeNotifyRecordsResponse struct {
	base
	Code         int              `json:"Code"`
	Msg          string           `json:"Msg"`
	PageNum      int              `json:"PageNum"`
	PageSize     int              `json:"PageSize"`
	TotalNum     int              `json:"TotalNum"`
	TotalPage    int              `json:"TotalPage"`
	CallbackList []callbackRecord `json:"CallbackList"`
}

// describeNotifyRecords pages the delivery log of the domain's aliyun notify config (the one
// the Notify actions manage), in creation order. PageSize 1–500 (default 20), PageNumber
// 1–100000 (default 1), StorageType oss|vod|all (accepted, not filtered on), StartTime <
// EndTime bound the event's time. Status success → delivered, failed → failed (given up); no
// Status lists every state, a pending delivery (unanswered or retrying) then reports
// NotifyResult "pending". A domain without a notify config has an empty log.
func (h *handler) describeNotifyRecords(ctx context.Context, p service.Principal, q params) (response, error) {
	domain, err := q.required("DomainName")
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"AppName", "StreamName"} {
		if v := q[name]; v != "" {
			if err = checkName(name, v, false); err != nil {
				return nil, err
			}
		}
	}
	pageSize, err := q.intIn("PageSize", 1, 500, 20)
	if err != nil {
		return nil, err
	}
	pageNum, err := q.intIn("PageNumber", 1, 100000, 1)
	if err != nil {
		return nil, err
	}
	status, err := q.oneOf("Status", "", "success", "failed")
	if err != nil {
		return nil, err
	}
	if _, err = q.oneOf("StorageType", "", "oss", "vod", "all"); err != nil {
		return nil, err
	}
	if _, err = q.required("StartTime"); err != nil {
		return nil, err
	}
	if _, err = q.required("EndTime"); err != nil {
		return nil, err
	}
	start, end, err := requestWindow(q)
	if err != nil {
		return nil, err
	}
	if !end.After(*start) {
		return nil, errInvalid("EndTime", "must be after StartTime")
	}
	if err = h.svc.CheckDomain(ctx, p, domain); err != nil {
		return nil, notifyError(err, errDomain)
	}
	resp := &describeNotifyRecordsResponse{Msg: "ok", PageNum: pageNum, PageSize: pageSize, CallbackList: []callbackRecord{}}
	cfg, err := h.svc.FindCallback(ctx, p, recording.DialectAliyun, domain, recording.Wildcard)
	if errors.Is(err, recording.ErrNotFound) {
		return resp, nil
	}
	if err != nil {
		return nil, err
	}
	f := store.DeliveryFilter{CallbackID: cfg.ID, Domain: domain, App: q["AppName"], Stream: q["StreamName"],
		Since: *start, Until: *end, Offset: (pageNum - 1) * pageSize, Limit: pageSize}
	switch status {
	case "success":
		f.State = recording.DeliveryDelivered
	case "failed":
		f.State = recording.DeliveryFailed
	}
	ds, total, err := h.svc.ListDeliveries(ctx, p, f)
	if err != nil {
		return nil, err
	}
	resp.TotalNum, resp.TotalPage = total, (total+pageSize-1)/pageSize
	for i := range ds {
		if ds[i].Event != nil {
			resp.CallbackList = append(resp.CallbackList, notifyRecord(&ds[i], cfg))
		}
	}
	return resp, nil
}

// notifyRecord is one delivery as the log shows it. NotifyContent is the body the aliyun
// dialect sends for the event (re-encoded, unsigned); the event's compact JSON when the config
// no longer sends that event type.
func notifyRecord(d *recording.Delivery, cfg *recording.CallbackConfig) callbackRecord {
	ev := d.Event
	r := callbackRecord{AppName: ev.Data.App, DomainName: ev.Data.Domain, StreamName: ev.Data.Stream,
		NotifyTime: ev.CreatedAt.UTC().Format(timeLayout), NotifyType: string(ev.Type), NotifyURL: cfg.URL}
	switch d.State {
	case recording.DeliveryDelivered:
		r.NotifyResult = "success"
	case recording.DeliveryFailed:
		r.NotifyResult, r.Description = "failed", d.LastError
	default:
		r.NotifyResult, r.Description = string(d.State), d.LastError
	}
	if req, ok, err := dialect.Encode(ev, cfg, "", ev.CreatedAt); err == nil && ok {
		r.NotifyContent = string(req.Body)
	} else if b, err := json.Marshal(ev); err == nil {
		r.NotifyContent = string(b)
	}
	return r
}
