package huawei

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

// onlineOut is OnlineInfo: a publication in progress with what was measured of it (frame
// rates in fps, bitrates in kbit/s).
type onlineOut struct {
	PublishDomain  string `json:"publish_domain"`
	App            string `json:"app"`
	Stream         string `json:"stream"`
	VideoCodec     string `json:"video_codec"`
	AudioCodec     string `json:"audio_codec"`
	VideoFrameRate int64  `json:"video_frame_rate"`
	// AudioFrameRate is known for AAC (1024 samples a frame) once its sample rate is.
	AudioFrameRate *int64 `json:"audio_frame_rate,omitempty"`
	VideoBitrate   int64  `json:"video_bitrate"`
	AudioBitrate   int64  `json:"audio_bitrate"`
	Resolution     string `json:"resolution,omitempty"`
	ClientIP       string `json:"client_ip"`
	StartTime      string `json:"start_time"`
}

// onlineList is ListLiveStreamsOnlineResponse.
type onlineList struct {
	TotalPage int64       `json:"total_page"`
	TotalNum  int64       `json:"total_num"`
	Offset    int64       `json:"offset"`
	Limit     int64       `json:"limit"`
	RequestID string      `json:"request_id"`
	Streams   []onlineOut `json:"streams"`
}

// listLiveStreamsOnline is GET /realtime/streams (ListLiveStreamsOnline): the publications in
// progress of a domain, of an app, or one stream (stream needs app).
func (h *handler) listLiveStreamsOnline(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	q := r.URL.Query()
	offset, limit, err := paging(q)
	if err != nil {
		return err
	}
	f := service.LiveFilter{Domain: strings.TrimSpace(q.Get("publish_domain")), App: q.Get("app"), Stream: q.Get("stream")}
	switch {
	case f.Domain == "" || f.Domain == recording.Wildcard:
		return badParameter("publish_domain", "a domain is required")
	case f.Stream != "" && f.App == "":
		return badParameter("app", "is required with stream")
	}
	live, err := h.svc.ListLiveStreams(r.Context(), p, f)
	if err != nil {
		return err
	}
	total := len(live)
	out := onlineList{TotalNum: int64(total), TotalPage: int64((total + limit - 1) / limit), Offset: int64(offset),
		Limit: int64(limit), Streams: []onlineOut{}}
	// withRequestID stores the header under Huawei's spelling, past canonicalization, so it is
	// read back by that exact key (Header.Get would canonicalize it and miss it).
	requestIDKey := "X-request-id"
	if ids := w.Header()[requestIDKey]; len(ids) > 0 {
		out.RequestID = ids[0]
	}
	for _, l := range live[min(offset, total):min(offset+limit, total)] {
		out.Streams = append(out.Streams, onlineOutOf(&l))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func onlineOutOf(l *recording.LiveStream) onlineOut {
	o := onlineOut{PublishDomain: l.Domain, App: l.App, Stream: l.Stream, VideoCodec: l.VideoCodec, AudioCodec: l.AudioCodec,
		VideoFrameRate: int64(math.Round(l.FrameRate)), VideoBitrate: int64(math.Round(l.VideoKbps)),
		AudioBitrate: int64(math.Round(l.AudioKbps)), ClientIP: l.ClientAddr, StartTime: formatTime(l.StartedAt)}
	if host, _, err := net.SplitHostPort(l.ClientAddr); err == nil {
		o.ClientIP = host
	}
	if l.Width > 0 && l.Height > 0 {
		o.Resolution = strconv.Itoa(l.Width) + "x" + strconv.Itoa(l.Height)
	}
	if l.AudioCodec == "AAC" && l.SampleRate > 0 {
		fps := int64(math.Round(float64(l.SampleRate) / 1024))
		o.AudioFrameRate = &fps
	}
	return o
}

// Stream block limits (StreamForbiddenSetting.resume_time): 7 days when not given, at most 90.
const (
	defaultBlock = 7 * 24 * time.Hour
	maxBlock     = 90 * 24 * time.Hour
)

// forbiddenBody is StreamForbiddenSetting (POST and PUT /stream/blocks).
type forbiddenBody struct {
	Domain     string  `json:"domain"`
	AppName    string  `json:"app_name"`
	StreamName string  `json:"stream_name"`
	ResumeTime *string `json:"resume_time"`
}

// forbiddenOnceBody is StreamForbiddenOnceSetting.
type forbiddenOnceBody struct {
	Domain     string `json:"domain"`
	AppName    string `json:"app_name"`
	StreamName string `json:"stream_name"`
}

// forbiddenOut is StreamForbiddenList.
type forbiddenOut struct {
	AppName    string `json:"app_name"`
	StreamName string `json:"stream_name"`
	ResumeTime string `json:"resume_time,omitempty"`
}

type forbiddenList struct {
	Total  int            `json:"total"`
	Blocks []forbiddenOut `json:"blocks"`
}

// blockField names a field of recording.StreamBlock as StreamForbiddenSetting does.
func blockField(f string) string {
	switch f {
	case "app":
		return "app_name"
	case "stream":
		return "stream_name"
	case "resume_at":
		return "resume_time"
	}
	return f
}

// streamKey checks the domain, app_name and stream_name of a stream operation: one stream,
// named whole.
func streamKey(domain, app, stream string) error {
	for _, f := range []struct{ name, value string }{{"domain", domain}, {"app_name", app}, {"stream_name", stream}} {
		if strings.TrimSpace(f.value) == "" || f.value == recording.Wildcard {
			return badParameter(f.name, "one stream must be named (no \"*\")")
		}
	}
	return nil
}

// decodeBlock reads a StreamForbiddenSetting: resume_time after now, 7 days from now when not
// given, at most 90 days from now.
func (h *handler) decodeBlock(r *http.Request) (recording.StreamBlock, error) {
	var b forbiddenBody
	if err := decodeBody(r, &b); err != nil {
		return recording.StreamBlock{}, err
	}
	if err := streamKey(b.Domain, b.AppName, b.StreamName); err != nil {
		return recording.StreamBlock{}, err
	}
	now := h.now()
	resume := now.Add(defaultBlock)
	if b.ResumeTime != nil && *b.ResumeTime != "" {
		t, err := parseTime("resume_time", *b.ResumeTime)
		if err != nil {
			return recording.StreamBlock{}, err
		}
		switch {
		case !t.After(now):
			return recording.StreamBlock{}, badParameter("resume_time", "must be later than now")
		case t.Sub(now) > maxBlock:
			return recording.StreamBlock{}, badParameter("resume_time", "must be at most 90 days from now")
		}
		resume = t
	}
	return recording.StreamBlock{Domain: b.Domain, App: b.AppName, Stream: b.StreamName, ResumeAt: &resume}, nil
}

// createStreamForbidden is POST /stream/blocks (CreateStreamForbidden): the stream is refused
// until resume_time and its publisher, if live, is disconnected now (204).
func (h *handler) createStreamForbidden(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	b, err := h.decodeBlock(r)
	if err != nil {
		return err
	}
	if _, err := h.svc.ForbidStream(r.Context(), p, b); err != nil {
		h.fail(w, r, err, blockField)
		return nil
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// updateStreamForbidden is PUT /stream/blocks (UpdateStreamForbidden): a new resume_time for
// a stream that is forbidden (404 when it is not).
func (h *handler) updateStreamForbidden(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	b, err := h.decodeBlock(r)
	if err != nil {
		return err
	}
	if _, err := h.svc.GetBlock(r.Context(), p, b.Domain, b.App, b.Stream); err != nil {
		return err
	}
	if _, err := h.svc.ForbidStream(r.Context(), p, b); err != nil {
		h.fail(w, r, err, blockField)
		return nil
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listStreamForbidden is GET /stream/blocks (ListStreamForbidden): the blocks in force of a
// domain (of every domain of the project when domain is empty); page is a page number from 0.
func (h *handler) listStreamForbidden(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	q := r.URL.Query()
	page, size, err := pageNumber(q, "page", "size")
	if err != nil {
		return err
	}
	f := store.BlockFilter{Domain: strings.TrimSpace(q.Get("domain")), App: q.Get("app_name"), Stream: q.Get("stream_name"),
		Offset: page * size, Limit: size}
	if f.Domain == recording.Wildcard {
		return badParameter("domain", "must name one domain")
	}
	blocks, total, err := h.svc.ListBlocks(r.Context(), p, f)
	if err != nil {
		return err
	}
	out := forbiddenList{Total: total, Blocks: make([]forbiddenOut, 0, len(blocks))}
	for _, b := range blocks {
		o := forbiddenOut{AppName: b.App, StreamName: b.Stream}
		if b.ResumeAt != nil { // a block of the native API may stand until it is lifted
			o.ResumeTime = formatTime(*b.ResumeAt)
		}
		out.Blocks = append(out.Blocks, o)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deleteStreamForbidden is DELETE /stream/blocks?domain=&app_name=&stream_name=
// (DeleteStreamForbidden): the stream may publish again (204; 404 when it was not forbidden).
func (h *handler) deleteStreamForbidden(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	q := r.URL.Query()
	domain, app, stream := strings.TrimSpace(q.Get("domain")), q.Get("app_name"), q.Get("stream_name")
	if err := streamKey(domain, app, stream); err != nil {
		return err
	}
	if err := h.svc.ResumeStream(r.Context(), p, domain, app, stream); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// createStreamForbiddenOnce is POST /stream/block-once (CreateStreamForbiddenOnce): the
// publisher is disconnected now and may publish again at once (204; 404 when not live).
func (h *handler) createStreamForbiddenOnce(w http.ResponseWriter, r *http.Request, p service.Principal) error {
	var b forbiddenOnceBody
	if err := decodeBody(r, &b); err != nil {
		return err
	}
	if err := streamKey(b.Domain, b.AppName, b.StreamName); err != nil {
		return err
	}
	if err := h.svc.KickStream(r.Context(), p, b.Domain, b.AppName, b.StreamName); err != nil {
		h.fail(w, r, err, blockField)
		return nil
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
