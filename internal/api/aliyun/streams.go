package aliyun

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// LiveService is what the live-stream actions need from *service.Service.
type LiveService interface {
	ListLiveStreams(ctx context.Context, p service.Principal, f service.LiveFilter) ([]recording.LiveStream, error)
	StreamState(ctx context.Context, p service.Principal, domain, app, stream string) (*recording.LiveStream, error)
	ListPublishes(ctx context.Context, p service.Principal, f store.PublishFilter) ([]recording.Publish, int, error)
	KickStream(ctx context.Context, p service.Principal, domain, app, stream string) error
	ForbidStream(ctx context.Context, p service.Principal, b recording.StreamBlock) (bool, error)
	ResumeStream(ctx context.Context, p service.Principal, domain, app, stream string) error
	ListBlocks(ctx context.Context, p service.Principal, f store.BlockFilter) ([]recording.StreamBlock, int, error)
}

// Paging of the stream lists: the cloud's 1–3000 items a page, 2000 by default.
const (
	maxStreamPage     = 3000
	defaultStreamPage = 2000
	maxPageNum        = 100000
	// maxPublishSpan bounds StartTime–EndTime of the publish history, as the cloud does.
	maxPublishSpan = 30 * 24 * time.Hour
)

// FLV codec ids, which the cloud reports as VideoCodecId and AudioCodecId.
var (
	videoCodecIDs = map[string]int{"H264": 7, "H265": 12, "HEVC": 12}
	audioCodecIDs = map[string]int{"MP3": 2, "AAC": 10, "SPEEX": 11}
)

var errNotForbidden = newError(http.StatusNotFound, "InvalidStream.NotFound", "Specified stream is not forbidden.")

type liveStreamOnlineInfo struct {
	DomainName        string `json:"DomainName"`
	AppName           string `json:"AppName"`
	StreamName        string `json:"StreamName"`
	PublishTime       string `json:"PublishTime"`
	PublishURL        string `json:"PublishUrl"`
	PublishDomain     string `json:"PublishDomain"`
	PublishType       string `json:"PublishType"`
	ClientIP          string `json:"ClientIp"`
	ServerIP          string `json:"ServerIp"`
	Transcoded        string `json:"Transcoded"`
	TranscodeID       string `json:"TranscodeId"`
	TranscodeDrm      string `json:"TranscodeDrm"`
	StreamURLArgs     string `json:"StreamUrlArgs"`
	VideoCodecID      int    `json:"VideoCodecId"`
	VideoDataRate     int    `json:"VideoDataRate"`
	FrameRate         int    `json:"FrameRate"`
	Width             int    `json:"Width"`
	Height            int    `json:"Height"`
	AudioCodecID      int    `json:"AudioCodecId"`
	AudioDataRate     int    `json:"AudioDataRate"`
	CurrVideoCodecID  int    `json:"CurrVideoCodecId"`
	CurrVideoDataRate int    `json:"CurrVideoDataRate"`
	CurrFrameRate     int    `json:"CurrFrameRate"`
	CurrWidth         int    `json:"CurrWidth"`
	CurrHeight        int    `json:"CurrHeight"`
	CurrAudioDataRate int    `json:"CurrAudioDataRate"`
}

type describeOnlineListResponse struct {
	base
	PageNum    int `json:"PageNum"`
	PageSize   int `json:"PageSize"`
	TotalNum   int `json:"TotalNum"`
	TotalPage  int `json:"TotalPage"`
	OnlineInfo struct {
		LiveStreamOnlineInfo []liveStreamOnlineInfo `json:"LiveStreamOnlineInfo"`
	} `json:"OnlineInfo"`
}

// describeOnlineList pages the publications in progress of a domain, filtered by AppName and
// StreamName (QueryType fuzzy, the default, matches names containing it; strict the name) and
// by a publish time within StartTime–EndTime when given. OrderBy sorts by publish time or
// name (publish_time_asc by default). StreamType trans lists nothing: liverec does not
// transcode. OnlyStream=yes keeps DomainName, AppName, StreamName and PublishTime. Bitrates
// are in bytes per second, as the cloud's monitoring reports them, measured over the last few
// seconds; IsGetCurrentRate fills the Curr* fields too.
func (h *handler) describeOnlineList(ctx context.Context, p service.Principal, q params) (response, error) {
	f, err := listFilter(q)
	if err != nil {
		return nil, err
	}
	pageNum, err := q.intIn("PageNum", 1, maxPageNum, 1)
	if err != nil {
		return nil, err
	}
	pageSize, err := q.intIn("PageSize", 1, maxStreamPage, defaultStreamPage)
	if err != nil {
		return nil, err
	}
	onlyStream, err := q.oneOf("OnlyStream", "no", "yes", "no")
	if err != nil {
		return nil, err
	}
	current, _, err := q.optBool("IsGetCurrentRate")
	if err != nil {
		return nil, err
	}
	start, end, err := requestWindow(q)
	if err != nil {
		return nil, err
	}
	lf := service.LiveFilter{Domain: f.domain, App: f.app}
	if f.strict {
		lf.Stream = f.stream
	}
	all, err := h.svc.ListLiveStreams(ctx, p, lf)
	if err != nil {
		return nil, catalogError(err, errDomain)
	}
	var ls []recording.LiveStream
	for _, l := range all {
		switch {
		case f.transOnly:
		case f.stream != "" && !strings.Contains(l.Stream, f.stream):
		case start != nil && (l.StartedAt.Before(*start) || l.StartedAt.After(*end)):
		default:
			ls = append(ls, l)
		}
	}
	sortStreams(ls, f.orderBy, func(l recording.LiveStream) (string, time.Time) { return l.Stream, l.StartedAt })
	total := len(ls)
	resp := &describeOnlineListResponse{PageNum: pageNum, PageSize: pageSize, TotalNum: total,
		TotalPage: (total + pageSize - 1) / pageSize}
	resp.OnlineInfo.LiveStreamOnlineInfo = []liveStreamOnlineInfo{}
	for _, l := range page(ls, pageNum, pageSize) {
		resp.OnlineInfo.LiveStreamOnlineInfo = append(resp.OnlineInfo.LiveStreamOnlineInfo, onlineInfo(&l, onlyStream == "yes", current))
	}
	return resp, nil
}

func onlineInfo(l *recording.LiveStream, onlyStream, current bool) liveStreamOnlineInfo {
	o := liveStreamOnlineInfo{DomainName: l.Domain, AppName: l.App, StreamName: l.Stream, PublishTime: utc(l.StartedAt)}
	if onlyStream {
		return o
	}
	o.PublishURL, o.PublishDomain, o.PublishType = publishURL(l.Domain, l.App, l.Stream), l.Domain, "edge"
	o.ClientIP, o.Transcoded = hostOf(l.ClientAddr), "no"
	o.VideoCodecID, o.AudioCodecID = videoCodecIDs[strings.ToUpper(l.VideoCodec)], audioCodecIDs[strings.ToUpper(l.AudioCodec)]
	o.VideoDataRate, o.AudioDataRate = bytesPerSecond(l.VideoKbps), bytesPerSecond(l.AudioKbps)
	o.FrameRate, o.Width, o.Height = int(math.Round(l.FrameRate)), l.Width, l.Height
	if current {
		o.CurrVideoCodecID, o.CurrVideoDataRate, o.CurrAudioDataRate = o.VideoCodecID, o.VideoDataRate, o.AudioDataRate
		o.CurrFrameRate, o.CurrWidth, o.CurrHeight = o.FrameRate, o.Width, o.Height
	}
	return o
}

func bytesPerSecond(kbps float64) int { return int(math.Round(kbps * 1000 / 8)) }

func publishURL(domain, app, stream string) string {
	return "rtmp://" + domain + "/" + app + "/" + stream
}

// hostOf is the address without its port.
func hostOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// streamListFilter is what the online and publish lists filter and sort by.
type streamListFilter struct {
	domain, app, stream string
	strict, transOnly   bool
	orderBy             string
}

func listFilter(q params) (streamListFilter, error) {
	var f streamListFilter
	domain, err := q.required("DomainName")
	if err != nil {
		return f, err
	}
	if err = checkDomain(domain); err != nil {
		return f, err
	}
	f.domain, f.app, f.stream = strings.ToLower(domain), q["AppName"], q["StreamName"]
	for _, n := range []struct{ name, v string }{{"AppName", f.app}, {"StreamName", f.stream}} {
		if n.v != "" {
			if err = checkName(n.name, n.v, false); err != nil {
				return f, err
			}
		}
	}
	queryType, err := q.oneOf("QueryType", "fuzzy", "fuzzy", "strict")
	if err != nil {
		return f, err
	}
	streamType, err := q.oneOf("StreamType", "all", "all", "raw", "trans")
	if err != nil {
		return f, err
	}
	if f.orderBy, err = q.oneOf("OrderBy", "publish_time_asc", "publish_time_asc", "publish_time_desc",
		"stream_name_asc", "stream_name_desc"); err != nil {
		return f, err
	}
	f.strict, f.transOnly = queryType == "strict", streamType == "trans"
	return f, nil
}

// sortStreams orders items by OrderBy, stably.
func sortStreams[T any](items []T, orderBy string, key func(T) (string, time.Time)) {
	sort.SliceStable(items, func(i, j int) bool {
		ni, ti := key(items[i])
		nj, tj := key(items[j])
		switch orderBy {
		case "publish_time_desc":
			return ti.After(tj)
		case "stream_name_asc":
			return ni < nj
		case "stream_name_desc":
			return ni > nj
		default:
			return ti.Before(tj)
		}
	})
}

// page returns page pageNum (from 1) of items.
func page[T any](items []T, pageNum, pageSize int) []T {
	lo := min((pageNum-1)*pageSize, len(items))
	return items[lo:min(lo+pageSize, len(items))]
}

type liveStreamPublishInfo struct {
	DomainName    string `json:"DomainName"`
	AppName       string `json:"AppName"`
	StreamName    string `json:"StreamName"`
	PublishTime   string `json:"PublishTime"`
	StopTime      string `json:"StopTime"`
	ClientAddr    string `json:"ClientAddr"`
	EdgeNodeAddr  string `json:"EdgeNodeAddr"`
	PublishURL    string `json:"PublishUrl"`
	PublishDomain string `json:"PublishDomain"`
	PublishType   string `json:"PublishType"`
	StreamURL     string `json:"StreamUrl"`
	Transcoded    string `json:"Transcoded"`
	TranscodeID   string `json:"TranscodeId"`
}

type describePublishListResponse struct {
	base
	PageNum     int `json:"PageNum"`
	PageSize    int `json:"PageSize"`
	TotalNum    int `json:"TotalNum"`
	TotalPage   int `json:"TotalPage"`
	PublishInfo struct {
		LiveStreamPublishInfo []liveStreamPublishInfo `json:"LiveStreamPublishInfo"`
	} `json:"PublishInfo"`
}

// describePublishList pages the publications (live ones and past ones) of a domain that were
// live during StartTime–EndTime (required, at most 30 days apart), filtered and sorted as the
// online list; PageNumber from 1. A live publication has no StopTime.
func (h *handler) describePublishList(ctx context.Context, p service.Principal, q params) (response, error) {
	f, err := listFilter(q)
	if err != nil {
		return nil, err
	}
	from, to, err := timeRange(q, maxPublishSpan)
	if err != nil {
		return nil, err
	}
	pageNum, err := q.intIn("PageNumber", 1, maxPageNum, 1)
	if err != nil {
		return nil, err
	}
	pageSize, err := q.intIn("PageSize", 1, maxStreamPage, defaultStreamPage)
	if err != nil {
		return nil, err
	}
	pf := store.PublishFilter{Domain: f.domain, App: f.app, From: from, To: to}
	if f.strict {
		pf.Stream = f.stream
	}
	// Every match, since the list sorts and filters by name itself: 30 days of one domain.
	all, _, err := h.svc.ListPublishes(ctx, p, pf)
	if err != nil {
		return nil, catalogError(err, errDomain)
	}
	var pubs []recording.Publish
	for _, pub := range all {
		if !f.transOnly && (f.stream == "" || strings.Contains(pub.Stream, f.stream)) {
			pubs = append(pubs, pub)
		}
	}
	sortStreams(pubs, f.orderBy, func(p recording.Publish) (string, time.Time) { return p.Stream, p.StartedAt })
	total := len(pubs)
	resp := &describePublishListResponse{PageNum: pageNum, PageSize: pageSize, TotalNum: total,
		TotalPage: (total + pageSize - 1) / pageSize}
	resp.PublishInfo.LiveStreamPublishInfo = []liveStreamPublishInfo{}
	for _, pub := range page(pubs, pageNum, pageSize) {
		u := publishURL(pub.Domain, pub.App, pub.Stream)
		info := liveStreamPublishInfo{DomainName: pub.Domain, AppName: pub.App, StreamName: pub.Stream,
			PublishTime: utc(pub.StartedAt), ClientAddr: hostOf(pub.ClientAddr), PublishURL: u, PublishDomain: pub.Domain,
			PublishType: "edge", StreamURL: u, Transcoded: "no"}
		if pub.EndedAt != nil {
			info.StopTime = utc(*pub.EndedAt)
		}
		resp.PublishInfo.LiveStreamPublishInfo = append(resp.PublishInfo.LiveStreamPublishInfo, info)
	}
	return resp, nil
}

type describeStreamStateResponse struct {
	base
	StreamState string `json:"StreamState"`
	Type        string `json:"Type,omitempty"`
}

// describeStreamState says whether a stream is being published: "online" (Type "push") or
// "offline".
func (h *handler) describeStreamState(ctx context.Context, p service.Principal, q params) (response, error) {
	domain, app, stream, err := streamKey(q)
	if err != nil {
		return nil, err
	}
	switch _, err := h.svc.StreamState(ctx, p, domain, app, stream); {
	case err == nil:
		return &describeStreamStateResponse{StreamState: "online", Type: "push"}, nil
	case errors.Is(err, recording.ErrNotLive):
		return &describeStreamStateResponse{StreamState: "offline"}, nil
	default:
		return nil, catalogError(err, errDomain)
	}
}

// liveStreamType reads the required LiveStreamType: only publishers can be forbidden here.
func liveStreamType(q params) error {
	if _, err := q.required("LiveStreamType"); err != nil {
		return err
	}
	_, err := q.oneOf("LiveStreamType", "", "publisher")
	return err
}

// forbidStream forbids a stream key to publish until ResumeLiveStream or ResumeTime (UTC,
// optional) and disconnects its publisher at once. Oneshot=yes only disconnects it: it may
// publish again at once (InvalidStream.NotFound when it is not live).
func (h *handler) forbidStream(ctx context.Context, p service.Principal, q params) (response, error) {
	domain, app, stream, err := streamKey(q)
	if err != nil {
		return nil, err
	}
	if err = liveStreamType(q); err != nil {
		return nil, err
	}
	if err = q.refuse("only publishers are forbidden here", "ControlStreamAction"); err != nil {
		return nil, err
	}
	oneshot, err := q.oneOf("Oneshot", "no", "yes", "no")
	if err != nil {
		return nil, err
	}
	resume, err := q.optTime("ResumeTime")
	if err != nil {
		return nil, err
	}
	if oneshot == "yes" {
		if resume != nil {
			return nil, errInvalid("ResumeTime", "a oneshot forbid does not block, so it has no resume time")
		}
		if err := h.svc.KickStream(ctx, p, domain, app, stream); err != nil {
			return nil, catalogError(err, errDomain)
		}
		return &base{}, nil
	}
	if _, err := h.svc.ForbidStream(ctx, p, recording.StreamBlock{Domain: domain, App: app, Stream: stream, ResumeAt: resume}); err != nil {
		return nil, catalogError(err, errDomain)
	}
	return &base{}, nil
}

// resumeStream lifts the block of a stream key; InvalidStream.NotFound when it is not
// forbidden.
func (h *handler) resumeStream(ctx context.Context, p service.Principal, q params) (response, error) {
	domain, app, stream, err := streamKey(q)
	if err != nil {
		return nil, err
	}
	if err = liveStreamType(q); err != nil {
		return nil, err
	}
	// The domain first: a not-found afterwards is the block's.
	if err = h.svc.CheckDomain(ctx, p, domain); err != nil {
		return nil, catalogError(err, errDomain)
	}
	if err = h.svc.ResumeStream(ctx, p, domain, app, stream); err != nil {
		return nil, catalogError(err, errNotForbidden)
	}
	return &base{}, nil
}

type describeBlockListResponse struct {
	base
	DomainName string `json:"DomainName"`
	PageNum    int    `json:"PageNum"`
	PageSize   int    `json:"PageSize"`
	TotalNum   int    `json:"TotalNum"`
	TotalPage  int    `json:"TotalPage"`
	StreamUrls struct {
		StreamURL []string `json:"StreamUrl"`
	} `json:"StreamUrls"`
}

// describeBlockList pages the forbidden stream keys of a domain ("domain/app/stream"), oldest
// block first; expired blocks are not listed.
func (h *handler) describeBlockList(ctx context.Context, p service.Principal, q params) (response, error) {
	domain, err := q.required("DomainName")
	if err != nil {
		return nil, err
	}
	if err = checkDomain(domain); err != nil {
		return nil, err
	}
	domain = strings.ToLower(domain)
	pageNum, err := q.intIn("PageNum", 1, maxPageNum, 1)
	if err != nil {
		return nil, err
	}
	pageSize, err := q.intIn("PageSize", 1, maxStreamPage, defaultStreamPage)
	if err != nil {
		return nil, err
	}
	bs, total, err := h.svc.ListBlocks(ctx, p, store.BlockFilter{Domain: domain, Offset: (pageNum - 1) * pageSize, Limit: pageSize})
	if err != nil {
		return nil, catalogError(err, errDomain)
	}
	resp := &describeBlockListResponse{DomainName: domain, PageNum: pageNum, PageSize: pageSize, TotalNum: total,
		TotalPage: (total + pageSize - 1) / pageSize}
	resp.StreamUrls.StreamURL = make([]string, 0, len(bs))
	for _, b := range bs {
		resp.StreamUrls.StreamURL = append(resp.StreamUrls.StreamURL, b.Domain+"/"+b.App+"/"+b.Stream)
	}
	return resp, nil
}
