package aliyun

import (
	"context"
	"strings"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// realTimeRecordCommand validates the command fully, then answers as the cloud does for a
// stream it is not recording: liverec does not yet track publishing streams for this API
// (the recording side of manual mode comes with a later issue), so a configured stream is
// InvalidStream.NotFound and an unconfigured one InvalidConfig.NotFound.
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
	if _, err := q.oneOf("Command", "", "start", "stop", "cancel_delay", "restart"); err != nil {
		return nil, err
	}
	if err := h.svc.CheckDomain(ctx, p, domain); err != nil {
		return nil, notifyError(err, errDomain)
	}
	rules, _, err := h.svc.ListRules(ctx, p, store.RuleFilter{Domain: domain})
	if err != nil {
		return nil, err
	}
	if recording.MatchRule(rules, domain, app, stream) == nil {
		return nil, errConfigMissing
	}
	return nil, errStreamMissing
}

type callbackRecord struct {
	AppName       string `json:"AppName"`
	Description   string `json:"Description"`
	DomainName    string `json:"DomainName"`
	NotifyContent string `json:"NotifyContent"`
	NotifyResult  string `json:"NotifyResult"`
	NotifyTime    string `json:"NotifyTime"`
	NotifyType    string `json:"NotifyType"`
	NotifyUrl     string `json:"NotifyUrl"`
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

// describeNotifyRecords validates the query fully and answers an empty page: the delivery log
// this reads comes with the callback delivery issue. PageSize 1–500 (default 20), PageNumber
// 1–100000 (default 1), Status success|failed, StorageType oss|vod|all, StartTime < EndTime.
func (h *handler) describeNotifyRecords(ctx context.Context, p service.Principal, q params) (response, error) {
	domain, err := q.required("DomainName")
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"AppName", "StreamName"} {
		if v := q[name]; v != "" {
			if err := checkName(name, v, false); err != nil {
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
	if _, err := q.oneOf("Status", "", "success", "failed"); err != nil {
		return nil, err
	}
	if _, err := q.oneOf("StorageType", "", "oss", "vod", "all"); err != nil {
		return nil, err
	}
	if _, err := q.required("StartTime"); err != nil {
		return nil, err
	}
	if _, err := q.required("EndTime"); err != nil {
		return nil, err
	}
	start, end, err := requestWindow(q)
	if err != nil {
		return nil, err
	}
	if !end.After(*start) {
		return nil, errInvalid("EndTime", "must be after StartTime")
	}
	if err := h.svc.CheckDomain(ctx, p, domain); err != nil {
		return nil, notifyError(err, errDomain)
	}
	return &describeNotifyRecordsResponse{Msg: "ok", PageNum: pageNum, PageSize: pageSize, CallbackList: []callbackRecord{}}, nil
}
