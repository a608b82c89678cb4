package aliyun

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

func liveStream(app, stream string, started time.Time) recording.LiveStream {
	return recording.LiveStream{Domain: "test.com", App: app, Stream: stream, ClientAddr: "10.1.2.3:50000", Protocol: "rtmp",
		StartedAt: started, VideoCodec: "H264", AudioCodec: "AAC", Width: 640, Height: 360, FrameRate: 29.97,
		VideoKbps: 1000, AudioKbps: 128}
}

func TestOnlineList(t *testing.T) {
	e, f := newCatalogEnv(t)
	f.live = []recording.LiveStream{liveStream("live", "cam2", t0.Add(time.Minute)), liveStream("live", "cam1", t0),
		liveStream("other", "x", t0.Add(2*time.Minute))}
	f.live[2].VideoCodec, f.live[2].AudioCodec = "H265", ""
	online := func(key testKey, args ...string) *req {
		return call(key, "DescribeLiveStreamsOnlineList", append([]string{"DomainName", "test.com"}, args...)...)
	}
	var resp struct {
		PageNum, PageSize, TotalNum, TotalPage int
		OnlineInfo                             struct{ LiveStreamOnlineInfo []liveStreamOnlineInfo }
	}
	e.do(online(keyP1)).ok(t).decode(t, &resp)
	require.Equal(t, 1, resp.PageNum)
	require.Equal(t, 2000, resp.PageSize)
	require.Equal(t, 3, resp.TotalNum)
	require.Equal(t, 1, resp.TotalPage)
	infos := resp.OnlineInfo.LiveStreamOnlineInfo
	require.Len(t, infos, 3)
	require.Equal(t, liveStreamOnlineInfo{DomainName: "test.com", AppName: "live", StreamName: "cam1", PublishTime: "2026-03-04T05:06:07Z",
		PublishURL: "rtmp://test.com/live/cam1", PublishDomain: "test.com", PublishType: "edge", ClientIP: "10.1.2.3", Transcoded: "no",
		VideoCodecID: 7, VideoDataRate: 125000, FrameRate: 30, Width: 640, Height: 360, AudioCodecID: 10, AudioDataRate: 16000},
		infos[0], "the oldest publication first; FLV codec ids; bytes per second")
	require.Equal(t, "cam2", infos[1].StreamName)
	require.Equal(t, 12, infos[2].VideoCodecID, "H.265")
	require.Zero(t, infos[2].AudioCodecID)

	// Fuzzy (default) and strict names; the app; current rates; only the stream fields.
	e.do(online(keyP1, "StreamName", "cam", "AppName", "live", "IsGetCurrentRate", "true", "OrderBy", "stream_name_desc")).ok(t).decode(t, &resp)
	require.Equal(t, 2, resp.TotalNum)
	require.Equal(t, "cam2", resp.OnlineInfo.LiveStreamOnlineInfo[0].StreamName)
	require.Equal(t, 125000, resp.OnlineInfo.LiveStreamOnlineInfo[0].CurrVideoDataRate)
	require.Equal(t, 7, resp.OnlineInfo.LiveStreamOnlineInfo[0].CurrVideoCodecID)
	f.got(func() { require.Equal(t, "", f.liveF.Stream, "fuzzy matching is the façade's") })
	e.do(online(keyP1, "StreamName", "cam", "QueryType", "strict")).ok(t).decode(t, &resp)
	require.Equal(t, 0, resp.TotalNum)
	e.do(online(keyP1, "StreamName", "cam1", "QueryType", "strict", "OnlyStream", "yes")).ok(t).decode(t, &resp)
	require.Equal(t, []liveStreamOnlineInfo{{DomainName: "test.com", AppName: "live", StreamName: "cam1", PublishTime: "2026-03-04T05:06:07Z"}},
		resp.OnlineInfo.LiveStreamOnlineInfo)
	e.do(online(keyP1, "StreamType", "trans")).ok(t).decode(t, &resp)
	require.Equal(t, 0, resp.TotalNum, "nothing is transcoded")
	e.do(online(keyP1, "StartTime", t0.Add(30*time.Second).Format(timeLayout), "EndTime", t0.Add(time.Hour).Format(timeLayout))).ok(t).decode(t, &resp)
	require.Equal(t, 2, resp.TotalNum, "published within the window")

	// Pages.
	e.do(online(keyP1, "PageSize", "2", "PageNum", "2")).ok(t).decode(t, &resp)
	require.Equal(t, 2, resp.TotalPage)
	require.Len(t, resp.OnlineInfo.LiveStreamOnlineInfo, 1)
	require.Equal(t, "x", resp.OnlineInfo.LiveStreamOnlineInfo[0].StreamName)

	e.do(online(keyP1, "PageSize", "0")).fails(t, http.StatusBadRequest, "InvalidParameter", "PageSize")
	e.do(online(keyP1, "PageSize", "3001")).fails(t, http.StatusBadRequest, "InvalidParameter", "PageSize")
	e.do(online(keyP1, "QueryType", "exact")).fails(t, http.StatusBadRequest, "InvalidParameter", "QueryType")
	e.do(online(keyP1, "OrderBy", "size")).fails(t, http.StatusBadRequest, "InvalidParameter", "OrderBy")
	e.do(online(keyP1, "StartTime", t0.Format(timeLayout))).fails(t, http.StatusBadRequest, "MissingEndTime")
	e.do(call(keyP1, "DescribeLiveStreamsOnlineList")).fails(t, http.StatusBadRequest, "MissingDomainName")
	e.do(online(keyP2)).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
}

func TestPublishList(t *testing.T) {
	e, f := newCatalogEnv(t)
	ended := t0.Add(time.Hour)
	f.pubs = []recording.Publish{ // newest first, as the store lists them
		{ID: "pub_3", Domain: "test.com", App: "live", Stream: "b", ClientAddr: "[::1]:4000", StartedAt: t0.Add(2 * time.Hour)},
		{ID: "pub_2", Domain: "test.com", App: "live", Stream: "a", ClientAddr: "10.0.0.1:1", StartedAt: t0.Add(time.Minute), EndedAt: &ended},
		{ID: "pub_1", Domain: "test.com", App: "live", Stream: "c", ClientAddr: "10.0.0.2:2", StartedAt: t0, EndedAt: &ended},
	}
	list := func(key testKey, args ...string) *req {
		return call(key, "DescribeLiveStreamsPublishList", append([]string{"DomainName", "test.com",
			"StartTime", t0.Add(-time.Hour).Format(timeLayout), "EndTime", t0.Add(3 * time.Hour).Format(timeLayout)}, args...)...)
	}
	var resp struct {
		PageNum, PageSize, TotalNum, TotalPage int
		PublishInfo                            struct{ LiveStreamPublishInfo []liveStreamPublishInfo }
	}
	e.do(list(keyP1)).ok(t).decode(t, &resp)
	require.Equal(t, 3, resp.TotalNum)
	infos := resp.PublishInfo.LiveStreamPublishInfo
	require.Equal(t, []string{"c", "a", "b"}, []string{infos[0].StreamName, infos[1].StreamName, infos[2].StreamName}, "publish_time_asc")
	require.Equal(t, liveStreamPublishInfo{DomainName: "test.com", AppName: "live", StreamName: "c", PublishTime: "2026-03-04T05:06:07Z",
		StopTime: "2026-03-04T06:06:07Z", ClientAddr: "10.0.0.2", PublishURL: "rtmp://test.com/live/c", PublishDomain: "test.com",
		PublishType: "edge", StreamURL: "rtmp://test.com/live/c", Transcoded: "no"}, infos[0])
	require.Empty(t, infos[2].StopTime, "still live")
	require.Equal(t, "::1", infos[2].ClientAddr)
	f.got(func() {
		require.Equal(t, store.PublishFilter{Domain: "test.com", From: t0.Add(-time.Hour), To: t0.Add(3 * time.Hour)}, f.pubF)
	})

	e.do(list(keyP1, "OrderBy", "publish_time_desc", "PageSize", "1", "PageNumber", "3", "AppName", "live")).ok(t).decode(t, &resp)
	require.Equal(t, 3, resp.TotalPage)
	require.Equal(t, "c", resp.PublishInfo.LiveStreamPublishInfo[0].StreamName)
	f.got(func() { require.Equal(t, "live", f.pubF.App) })
	e.do(list(keyP1, "StreamName", "a", "QueryType", "strict")).ok(t).decode(t, &resp)
	require.Equal(t, 1, resp.TotalNum)
	f.got(func() { require.Equal(t, "a", f.pubF.Stream) })

	e.do(call(keyP1, "DescribeLiveStreamsPublishList", "DomainName", "test.com")).fails(t, http.StatusBadRequest, "MissingStartTime")
	e.do(list(keyP1, "EndTime", t0.Add(31*24*time.Hour).Format(timeLayout))).fails(t, http.StatusBadRequest, "InvalidParameter", "30 days")
	e.do(list(keyP1, "PageNumber", "-1")).fails(t, http.StatusBadRequest, "InvalidParameter", "PageNumber")
	e.do(list(keyP2)).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
}

func TestStreamState(t *testing.T) {
	e, f := newCatalogEnv(t)
	f.live = []recording.LiveStream{liveStream("live", "cam", t0)}
	state := func(key testKey, stream string) *req {
		return call(key, "DescribeLiveStreamState", "DomainName", "test.com", "AppName", "live", "StreamName", stream)
	}
	r := e.do(state(keyP1, "cam")).ok(t)
	require.Equal(t, "online", r.body["StreamState"])
	require.Equal(t, "push", r.body["Type"])
	r = e.do(state(keyP1, "other")).ok(t)
	require.Equal(t, "offline", r.body["StreamState"])
	require.NotContains(t, r.body, "Type")
	e.do(state(keyP2, "cam")).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
	e.do(state(keyP1, "")).fails(t, http.StatusBadRequest, "MissingStreamName")
}

func TestForbidResumeAndBlockList(t *testing.T) {
	e, f := newCatalogEnv(t)
	f.live = []recording.LiveStream{liveStream("live", "cam", t0)}
	forbid := func(key testKey, stream string, args ...string) *req {
		return call(key, "ForbidLiveStream", append([]string{"DomainName", "test.com", "AppName", "live", "StreamName", stream,
			"LiveStreamType", "publisher"}, args...)...)
	}
	resume := func(key testKey, stream string) *req {
		return call(key, "ResumeLiveStream", "DomainName", "test.com", "AppName", "live", "StreamName", stream, "LiveStreamType", "publisher")
	}
	e.do(forbid(keyP1, "cam")).ok(t)
	e.do(forbid(keyP1, "later", "ResumeTime", "2099-01-02T03:04:05Z")).ok(t)
	f.got(func() {
		require.Len(t, f.blocks, 2)
		require.Equal(t, recording.StreamBlock{Domain: "test.com", App: "live", Stream: "cam"}, f.blocks[0])
		require.Equal(t, time.Date(2099, 1, 2, 3, 4, 5, 0, time.UTC), *f.blocks[1].ResumeAt)
	})

	// Oneshot kicks without blocking; a stream that is not live cannot be kicked.
	e.do(forbid(keyP1, "cam", "Oneshot", "yes")).ok(t)
	e.do(forbid(keyP1, "idle", "Oneshot", "yes")).fails(t, http.StatusNotFound, "InvalidStream.NotFound")
	e.do(forbid(keyP1, "cam", "Oneshot", "yes", "ResumeTime", "2099-01-02T03:04:05Z")).fails(t, http.StatusBadRequest, "InvalidParameter", "ResumeTime")
	f.got(func() {
		require.Equal(t, []string{"test.com/live/cam"}, f.kicked)
		require.Len(t, f.blocks, 2)
	})

	var list struct {
		DomainName                             string
		PageNum, PageSize, TotalNum, TotalPage int
		StreamUrls                             struct {
			StreamURL []string `json:"StreamUrl"`
		}
	}
	e.do(call(keyP1, "DescribeLiveStreamsBlockList", "DomainName", "Test.com")).ok(t).decode(t, &list)
	require.Equal(t, "test.com", list.DomainName)
	require.Equal(t, []string{"test.com/live/cam", "test.com/live/later"}, list.StreamUrls.StreamURL)
	require.Equal(t, 2, list.TotalNum)
	require.Equal(t, 1, list.TotalPage)
	require.Equal(t, 2000, list.PageSize)
	e.do(call(keyP1, "DescribeLiveStreamsBlockList", "DomainName", "test.com", "PageNum", "2", "PageSize", "1")).ok(t).decode(t, &list)
	require.Equal(t, []string{"test.com/live/later"}, list.StreamUrls.StreamURL)
	f.got(func() { require.Equal(t, store.BlockFilter{Domain: "test.com", Offset: 1, Limit: 1}, f.blockF) })

	e.do(resume(keyP1, "cam")).ok(t)
	e.do(resume(keyP1, "cam")).fails(t, http.StatusNotFound, "InvalidStream.NotFound", "not forbidden")
	f.got(func() { require.Equal(t, []string{"test.com/live/cam"}, f.resumed) })

	// Bad parameters and another project's domain.
	e.do(forbid(keyP1, "cam", "LiveStreamType", "subscriber")).fails(t, http.StatusBadRequest, "InvalidParameter", "LiveStreamType")
	noType := call(keyP1, "ForbidLiveStream", "DomainName", "test.com", "AppName", "live", "StreamName", "cam")
	e.do(noType).fails(t, http.StatusBadRequest, "MissingLiveStreamType")
	e.do(forbid(keyP1, "cam", "ResumeTime", "tomorrow")).fails(t, http.StatusBadRequest, "InvalidParameter", "ResumeTime")
	e.do(forbid(keyP1, "cam", "ResumeTime", "1999-01-02T03:04:05Z")).fails(t, http.StatusBadRequest, "InvalidParameter", "ResumeTime")
	e.do(forbid(keyP1, "cam", "Oneshot", "once")).fails(t, http.StatusBadRequest, "InvalidParameter", "Oneshot")
	e.do(forbid(keyP1, "cam", "ControlStreamAction", "mute")).fails(t, http.StatusBadRequest, "InvalidParameter", "ControlStreamAction")
	e.do(forbid(keyP1, "*")).fails(t, http.StatusBadRequest, "InvalidParameter", "StreamName")
	e.do(forbid(keyP2, "cam")).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
	e.do(resume(keyP2, "later")).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
	e.do(call(keyP2, "DescribeLiveStreamsBlockList", "DomainName", "test.com")).fails(t, http.StatusNotFound, "InvalidDomain.NotFound")
	e.do(call(keyP1, "DescribeLiveStreamsBlockList", "DomainName", "test.com", "PageSize", "0")).fails(t, http.StatusBadRequest, "InvalidParameter")
	f.got(func() { require.Len(t, f.blocks, 1, "only the later block stands") })
}
