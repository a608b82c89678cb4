package huawei

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
)

const (
	onlinePath    = "/v1/" + projectA + "/realtime/streams"
	blocksPath    = "/v1/" + projectA + "/stream/blocks"
	blockOncePath = "/v1/" + projectA + "/stream/block-once"
)

// TestListLiveStreamsOnline: the filter reaches the service, the list is paged by offset and
// limit, and each publication shows as OnlineInfo.
func TestListLiveStreamsOnline(t *testing.T) {
	e, f := newCatalogEnv(t)
	started := testNow.Add(-90 * time.Second)
	f.live = []recording.LiveStream{
		{Domain: "a.com", App: "live", Stream: "s0", ClientAddr: "192.0.2.1:5000", StartedAt: started},
		{Domain: "a.com", App: "live", Stream: "s1", ClientAddr: "[2001:db8::1]:40000", Protocol: "rtmp", StartedAt: started,
			VideoCodec: "H264", AudioCodec: "AAC", Width: 1280, Height: 720, FrameRate: 29.97, VideoKbps: 2499.6, AudioKbps: 127.8,
			SampleRate: 44100, Channels: 2},
		{Domain: "a.com", App: "live", Stream: "s2", ClientAddr: "192.0.2.3:5000", StartedAt: started},
	}
	r := e.do(req{method: http.MethodGet, path: onlinePath + "?publish_domain=a.com&app=live&offset=1&limit=1"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, service.LiveFilter{Domain: "a.com", App: "live"}, f.liveF)
	var got onlineList
	r.decode(t, &got)
	require.Equal(t, r.header["X-request-id"][0], got.RequestID) //nolint:staticcheck // spelled as the cloud does
	got.RequestID = ""
	fps := int64(43)
	require.Equal(t, onlineList{TotalPage: 3, TotalNum: 3, Offset: 1, Limit: 1, Streams: []onlineOut{{PublishDomain: "a.com",
		App: "live", Stream: "s1", VideoCodec: "H264", AudioCodec: "AAC", VideoFrameRate: 30, AudioFrameRate: &fps,
		VideoBitrate: 2500, AudioBitrate: 128, Resolution: "1280x720", ClientIP: "2001:db8::1", StartTime: "2026-01-02T03:02:35Z"}}}, got)

	// Unmeasured: no resolution nor audio frame rate; the codecs are present and empty.
	r = e.do(req{method: http.MethodGet, path: onlinePath + "?publish_domain=a.com&app=live&stream=s0&limit=1"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, service.LiveFilter{Domain: "a.com", App: "live", Stream: "s0"}, f.liveF)
	require.Contains(t, string(r.body), `{"publish_domain":"a.com","app":"live","stream":"s0","video_codec":"","audio_codec":"",`+
		`"video_frame_rate":0,"video_bitrate":0,"audio_bitrate":0,"client_ip":"192.0.2.1","start_time":"2026-01-02T03:02:35Z"}`)

	// Past the end: an empty page, the totals still told.
	r = e.do(req{method: http.MethodGet, path: onlinePath + "?publish_domain=a.com&offset=7"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	r.decode(t, &got)
	require.Equal(t, int64(3), got.TotalNum)
	require.Equal(t, int64(1), got.TotalPage)
	require.Empty(t, got.Streams)
	require.Contains(t, string(r.body), `"streams":[]`)
}

func TestListLiveStreamsOnlineRefusesBadParameters(t *testing.T) {
	e, f := newCatalogEnv(t)
	for _, tc := range []struct{ query, field string }{
		{"app=live", "publish_domain"},
		{"publish_domain=*", "publish_domain"},
		{"publish_domain=a.com&stream=s1", "app"},
		{"publish_domain=a.com&limit=101", "limit"},
		{"publish_domain=a.com&offset=-3", "offset"},
	} {
		e.do(req{method: http.MethodGet, path: onlinePath + "?" + tc.query}).requireError(t, http.StatusBadRequest, codeBadParameter, tc.field)
	}
	require.Zero(t, f.liveF)
	f.err = fmt.Errorf("domain a.com: %w", recording.ErrNotFound)
	e.do(req{method: http.MethodGet, path: onlinePath + "?publish_domain=a.com"}).requireError(t, http.StatusNotFound, codeNotFound, "")
}

func blockJSON(domain, app, stream, resume string) string {
	s := fmt.Sprintf(`{"domain":%q,"app_name":%q,"stream_name":%q`, domain, app, stream)
	if resume != "" {
		s += fmt.Sprintf(`,"resume_time":%q`, resume)
	}
	return s + "}"
}

// TestStreamForbidden walks the five operations: forbid (7 days by default), update, list by
// page, resume, and the one-off kick.
func TestStreamForbidden(t *testing.T) {
	e, f := newCatalogEnv(t)
	r := e.do(req{method: http.MethodPost, path: blocksPath, body: blockJSON("a.com", "live", "s1", "")})
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	require.Empty(t, r.body)
	week := testNow.Add(7 * 24 * time.Hour)
	require.Equal(t, []recording.StreamBlock{{Domain: "a.com", App: "live", Stream: "s1", ResumeAt: &week}}, f.forbidden)

	resume := testNow.Add(time.Hour).Format(timeLayout)
	r = e.do(req{method: http.MethodPost, path: blocksPath, body: blockJSON("a.com", "live", "s2", resume)})
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	require.Equal(t, testNow.Add(time.Hour), *f.forbidden[1].ResumeAt)

	// Update: a forbidden stream gets its new resume time; another is 404.
	r = e.do(req{method: http.MethodPut, path: blocksPath, body: blockJSON("a.com", "live", "s2", testNow.Add(48*time.Hour).Format(timeLayout))})
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	require.Equal(t, testNow.Add(48*time.Hour), *f.blocks["a.com/live/s2"].ResumeAt)
	e.do(req{method: http.MethodPut, path: blocksPath, body: blockJSON("a.com", "live", "s3", resume)}).
		requireError(t, http.StatusNotFound, codeNotFound, "")
	require.Len(t, f.forbidden, 3, "the 404 update forbade nothing")

	// List: page 1 of size 1 skips one; a block without end (native API) shows no resume_time.
	delete(f.blocks, "a.com/live/s1")
	f.blocks["a.com/live/s9"] = recording.StreamBlock{Domain: "a.com", App: "live", Stream: "s9"}
	delete(f.blocks, "a.com/live/s2")
	r = e.do(req{method: http.MethodGet, path: blocksPath + "?domain=a.com&app_name=live&stream_name=s9&page=1&size=1"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, store.BlockFilter{Domain: "a.com", App: "live", Stream: "s9", Offset: 1, Limit: 1}, f.blockF)
	require.JSONEq(t, `{"total":2,"blocks":[{"app_name":"live","stream_name":"s9"}]}`, string(r.body))
	f.blocks["a.com/live/s9"] = recording.StreamBlock{Domain: "a.com", App: "live", Stream: "s9", ResumeAt: &week}
	r = e.do(req{method: http.MethodGet, path: blocksPath + "?domain=a.com"})
	require.Equal(t, store.BlockFilter{Domain: "a.com", Limit: 10}, f.blockF)
	require.JSONEq(t, `{"total":1,"blocks":[{"app_name":"live","stream_name":"s9","resume_time":"2026-01-09T03:04:05Z"}]}`, string(r.body))

	// Delete resumes; a stream that is not forbidden is 404.
	r = e.do(req{method: http.MethodDelete, path: blocksPath + "?domain=a.com&app_name=live&stream_name=s9"})
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	require.Equal(t, []string{"a.com/live/s9"}, f.resumed)
	e.do(req{method: http.MethodDelete, path: blocksPath + "?domain=a.com&app_name=live&stream_name=s9"}).
		requireError(t, http.StatusNotFound, codeNotFound, "")

	// Once: kicked, not forbidden; a stream that is not live is 404.
	r = e.do(req{method: http.MethodPost, path: blockOncePath, body: `{"domain":"a.com","app_name":"live","stream_name":"s4"}`})
	require.Equal(t, http.StatusNoContent, r.status, string(r.body))
	require.Equal(t, []string{"a.com/live/s4"}, f.kicked)
	require.Len(t, f.forbidden, 3)
	f.err = recording.ErrNotLive
	e.do(req{method: http.MethodPost, path: blockOncePath, body: `{"domain":"a.com","app_name":"live","stream_name":"s5"}`}).
		requireError(t, http.StatusNotFound, codeNotFound, "not being published")
}

func TestStreamForbiddenRefusesBadRequests(t *testing.T) {
	e, f := newCatalogEnv(t)
	at := func(d time.Duration) string { return testNow.Add(d).Format(timeLayout) }
	for _, tc := range []struct{ method, path, body, field string }{
		{http.MethodPost, blocksPath, blockJSON("", "live", "s1", ""), "domain"},
		{http.MethodPost, blocksPath, blockJSON("a.com", "", "s1", ""), "app_name"},
		{http.MethodPost, blocksPath, blockJSON("a.com", "live", "*", ""), "stream_name"},
		{http.MethodPost, blocksPath, blockJSON("a.com", "live", "s1", at(-time.Second)), "resume_time"},
		{http.MethodPost, blocksPath, blockJSON("a.com", "live", "s1", at(91*24*time.Hour)), "resume_time"},
		{http.MethodPost, blocksPath, blockJSON("a.com", "live", "s1", "2026-02-01"), "resume_time"},
		{http.MethodPut, blocksPath, blockJSON("a.com", "live", "*", ""), "stream_name"},
		{http.MethodPost, blocksPath, `{"domain":"a.com","app_name":"live","stream_name":"s1","app":"x"}`, "app"},
		{http.MethodPost, blockOncePath, blockJSON("a.com", "live", "s1", at(time.Hour)), "resume_time"},
		{http.MethodPost, blockOncePath, blockJSON("a.com", "live", "", ""), "stream_name"},
		{http.MethodDelete, blocksPath + "?domain=a.com&app_name=live", "", "stream_name"},
		{http.MethodDelete, blocksPath + "?domain=a.com&stream_name=s1", "", "app_name"},
		{http.MethodGet, blocksPath + "?domain=a.com&size=0", "", "size"},
		{http.MethodGet, blocksPath + "?domain=a.com&page=-1", "", "page"},
		{http.MethodGet, blocksPath + "?domain=*", "", "domain"},
	} {
		e.do(req{method: tc.method, path: tc.path, body: tc.body}).requireError(t, http.StatusBadRequest, codeBadParameter, tc.field)
	}
	require.Empty(t, f.forbidden)
	require.Empty(t, f.kicked)
	require.Zero(t, f.blockF)

	// The service's refusals in the request's names.
	f.err = &recording.ValidationError{Field: "stream", Reason: "must name one stream"}
	e.do(req{method: http.MethodPost, path: blocksPath, body: blockJSON("a.com", "live", "s1", "")}).
		requireError(t, http.StatusBadRequest, codeBadParameter, "stream_name: must name one stream")
	f.err = fmt.Errorf("domain b.com: %w", recording.ErrNotFound)
	e.do(req{method: http.MethodPost, path: blocksPath, body: blockJSON("b.com", "live", "s1", "")}).
		requireError(t, http.StatusNotFound, codeNotFound, "")
}
