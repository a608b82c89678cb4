package compat

import (
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/live"
	"github.com/stretchr/testify/require"
)

// aliLayout is the Alibaba API's time format (UTC, seconds).
const aliLayout = "2006-01-02T15:04:05Z"

// The reference stream's GOP (refStream: a keyframe every 30 frames at 30 fps) and the HLS
// slice of the catalogue tests (Alibaba's shortest).
const (
	aliFPS   = 30
	aliGOP   = time.Second
	aliSlice = 5 * time.Second
)

func aliParse(t *testing.T, v string) time.Time {
	t.Helper()
	ts, err := time.Parse(aliLayout, v)
	require.NoError(t, err, "time %q", v)
	return ts
}

// aliPublish runs ffmpeg publishing src in real time to url; Wait ends with it.
type aliPublisher struct {
	cmd  *exec.Cmd
	done chan error
}

func aliPublish(t *testing.T, src, url string) *aliPublisher {
	t.Helper()
	p := &aliPublisher{cmd: exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy", "-f", "flv", url),
		done: make(chan error, 1)}
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		p.done <- nil
	})
	return p
}

// exited reports whether ffmpeg ended within d (now, when d is not positive).
func (p *aliPublisher) exited(d time.Duration) bool {
	select {
	case err := <-p.done:
		p.done <- err
		return true
	default:
	}
	if d <= 0 {
		return false
	}
	select {
	case err := <-p.done:
		p.done <- err
		return true
	case <-time.After(d):
		return false
	}
}

// catalogRule records app on 127.0.0.1 in HLS (5 s slices), FLV and MP4 at bucket, merging
// pauses of up to 15 s (Alibaba's least DelayTime) into the same files.
func catalogRule(t *testing.T, c *live.Client, app, bucket string) {
	t.Helper()
	const object = "cat/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}"
	req := addRecordConfig("127.0.0.1", app,
		live.AddLiveAppRecordConfigRecordFormat{Format: "m3u8", OssObjectPrefix: object, CycleDuration: "3600",
			SliceOssObjectPrefix: "cat/{AppName}/{StreamName}/ts/{UnixTimestamp}_{Sequence}", SliceDuration: strconv.Itoa(int(aliSlice / time.Second))},
		live.AddLiveAppRecordConfigRecordFormat{Format: "flv", OssObjectPrefix: object, CycleDuration: "3600"},
		live.AddLiveAppRecordConfigRecordFormat{Format: "mp4", OssObjectPrefix: object, CycleDuration: "3600"})
	req.OssBucket = bucket
	req.DelayTime = requests.NewInteger(15)
	_, err := c.AddLiveAppRecordConfig(req)
	require.NoError(t, err)
}

// countFrames reads every video frame of url with ffprobe, which must report no error.
func countFrames(t *testing.T, url string) int {
	t.Helper()
	cmd := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", url)
	var stderr fsBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "ffprobe %s: %s", url, stderr)
	require.Empty(t, string(stderr), "ffprobe errors reading %s", url)
	// An HLS input lists its stream under its program too: the first count is the stream's.
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	n, err := strconv.Atoi(strings.TrimSpace(first))
	require.NoError(t, err, "ffprobe output %q", out)
	return n
}

// TestAliyunRecordContentAndIndexFiles is acceptance 1 through the Alibaba SDK: a 40 s publish
// with a 4 s pause inside the merge window is one HLS recording in DescribeLiveStreamRecordContent
// with the publish's start and end (within a slice); an index over seconds 10–30 plays over HTTP
// with every frame of the slices it lists, which cover the range to within a slice; it is
// described, listed and, with RemoveFile, deleted with its object.
func TestAliyunRecordContentAndIndexFiles(t *testing.T) {
	t.Parallel()
	s := startLiverec(t)
	c := aliyunClient(t, s, keyA, secretA, nil)
	catalogRule(t, c, "alicat", "alicat")
	src := refStream(t, 20)

	url := "rtmp://" + s.RTMP + "/alicat/cam"
	start := time.Now()
	first := aliPublish(t, src, url)
	require.True(t, first.exited(40*time.Second), "the first 20 s publish ended")
	time.Sleep(4 * time.Second) // the pause, well inside the 15 s merge window
	second := aliPublish(t, src, url)
	require.True(t, second.exited(40*time.Second), "the second 20 s publish ended")
	end := time.Now()

	content := live.CreateDescribeLiveStreamRecordContentRequest()
	content.DomainName, content.AppName, content.StreamName = "127.0.0.1", "alicat", "cam"
	content.StartTime = start.Add(-time.Minute).UTC().Format(aliLayout)
	content.EndTime = end.Add(time.Minute).UTC().Format(aliLayout)
	var infos []live.RecordContentInfo
	require.Eventually(t, func() bool { // the playlist is stored once the merge window has passed
		resp, err := c.DescribeLiveStreamRecordContent(content)
		require.NoError(t, err)
		infos = resp.RecordContentInfoList.RecordContentInfo
		return len(infos) > 0
	}, 60*time.Second, 500*time.Millisecond, "the recording did not appear in the content")
	require.Len(t, infos, 1, "one HLS playlist across the pause: %+v", infos)
	info := infos[0]
	gotStart, gotEnd := aliParse(t, info.StartTime), aliParse(t, info.EndTime)
	require.WithinDuration(t, start, gotStart, aliSlice, "content start")
	require.WithinDuration(t, end, gotEnd, aliSlice, "content end")
	require.InDelta(t, 40, info.Duration, 5, "media duration, without the pause")
	require.Equal(t, "alicat", info.OssBucket)
	require.Equal(t, "cat/alicat/cam", info.OssObjectPrefix)

	// Seconds 10–30 of the publish: the end of the first part, the pause, the start of the second.
	from, to := start.Add(10*time.Second).Truncate(time.Second), start.Add(30*time.Second).Truncate(time.Second)
	create := live.CreateCreateLiveStreamRecordIndexFilesRequest()
	create.DomainName, create.AppName, create.StreamName = "127.0.0.1", "alicat", "cam"
	create.OssEndpoint, create.OssBucket = "oss-cn-shanghai.aliyuncs.com", "alicat"
	create.OssObject = "index/{AppName}/{StreamName}/{Date}/{Hour}/{Minute}_{Second}.m3u8"
	create.StartTime, create.EndTime = from.UTC().Format(aliLayout), to.UTC().Format(aliLayout)
	created, err := c.CreateLiveStreamRecordIndexFiles(create)
	require.NoError(t, err)
	rec := created.RecordInfo
	require.NotEmpty(t, rec.RecordId)
	require.True(t, strings.HasPrefix(rec.RecordUrl, "http"), "RecordUrl %q", rec.RecordUrl)
	require.True(t, strings.HasPrefix(rec.OssObject, "index/alicat/cam/"), "OssObject %q", rec.OssObject)
	require.Equal(t, "alicat", rec.OssBucket)
	require.Equal(t, 640, rec.Width)
	require.Equal(t, 360, rec.Height)
	idxStart, idxEnd := aliParse(t, rec.StartTime), aliParse(t, rec.EndTime)
	require.False(t, idxStart.After(from.Add(time.Second)), "the index starts by the range's start: %s > %s", idxStart, from)
	require.False(t, idxEnd.Before(to.Add(-time.Second)), "the index reaches the range's end: %s < %s", idxEnd, to)
	require.True(t, idxStart.After(from.Add(-aliSlice-time.Second)), "at most a slice before the range: %s", idxStart)
	require.True(t, idxEnd.Before(to.Add(aliSlice+time.Second)), "at most a slice after the range: %s", idxEnd)

	// ffprobe reads it whole over HTTP: the frames of the slices listed, to within a GOP at
	// each end, and at least those of the range's media (10 s before the pause, 6 s after).
	frames := countFrames(t, rec.RecordUrl)
	t.Logf("content %s–%s (%.1f s) for a publish %s–%s; index of %s–%s: %s–%s, %.1f s listed, %d frames read",
		info.StartTime, info.EndTime, info.Duration, start.UTC().Format(aliLayout), end.UTC().Format(aliLayout),
		create.StartTime, create.EndTime, rec.StartTime, rec.EndTime, rec.Duration, frames)
	require.InDelta(t, rec.Duration*aliFPS, frames, 2*aliGOP.Seconds()*aliFPS, "frames of the index (%.1f s listed)", rec.Duration)
	require.GreaterOrEqual(t, frames, 16*aliFPS-int(aliGOP.Seconds()*aliFPS), "the range's frames are in the index")
	require.LessOrEqual(t, rec.Duration, 16+2*aliSlice.Seconds()+1, "whole slices around the range, no more")

	one := live.CreateDescribeLiveStreamRecordIndexFileRequest()
	one.DomainName, one.AppName, one.StreamName, one.RecordId = "127.0.0.1", "alicat", "cam", rec.RecordId
	described, err := c.DescribeLiveStreamRecordIndexFile(one)
	require.NoError(t, err)
	require.Equal(t, rec.RecordId, described.RecordIndexInfo.RecordId)
	require.Equal(t, rec.OssObject, described.RecordIndexInfo.OssObject)
	require.Equal(t, rec.StartTime, described.RecordIndexInfo.StartTime)
	require.Equal(t, "m3u8", described.RecordIndexInfo.Format)

	list := live.CreateDescribeLiveStreamRecordIndexFilesRequest()
	list.DomainName, list.AppName, list.StreamName = "127.0.0.1", "alicat", "cam"
	list.StartTime, list.EndTime = content.StartTime, content.EndTime
	list.PageSize = requests.NewInteger(30)
	listed, err := c.DescribeLiveStreamRecordIndexFiles(list)
	require.NoError(t, err)
	var ids []string
	for _, x := range listed.RecordIndexInfoList.RecordIndexInfo {
		ids = append(ids, x.RecordId)
	}
	require.Contains(t, ids, rec.RecordId)
	require.Equal(t, len(ids), listed.TotalNum, "the index and the recording's own playlist: %v", ids)
	require.Equal(t, 2, listed.TotalNum, "the index and the recording's own playlist: %v", ids)

	del := live.CreateDeleteLiveStreamRecordIndexFilesRequest()
	del.DomainName, del.AppName, del.StreamName = "127.0.0.1", "alicat", "cam"
	del.RecordId, del.RemoveFile = &[]string{rec.RecordId}, "true"
	deleted, err := c.DeleteLiveStreamRecordIndexFiles(del)
	require.NoError(t, err)
	require.Equal(t, "OK", deleted.Code)
	require.Equal(t, []live.RecordDeleteInfo{{RecordId: rec.RecordId, Message: "OK"}}, deleted.RecordDeleteInfoList.RecordDeleteInfo)

	resp, err := http.Get(rec.RecordUrl)
	require.NoError(t, err)
	resp.Body.Close()
	require.Contains(t, []int{http.StatusNotFound, http.StatusForbidden}, resp.StatusCode, "the index object is gone")
	_, err = c.DescribeLiveStreamRecordIndexFile(one)
	requireServerError(t, err, http.StatusNotFound, "InvalidRecordId.NotFound")

	// A range without ingest is the cloud's (misspelt) stream-not-found.
	create.StartTime = start.Add(-time.Hour).UTC().Format(aliLayout)
	create.EndTime = start.Add(-30 * time.Minute).UTC().Format(aliLayout)
	_, err = c.CreateLiveStreamRecordIndexFiles(create)
	se := requireServerError(t, err, http.StatusNotFound, "InvalidStream.NotFound")
	require.Equal(t, "Speicified stream does not exist", se.Message())
	create.EndTime = start.Add(5 * 24 * time.Hour).UTC().Format(aliLayout)
	_, err = c.CreateLiveStreamRecordIndexFiles(create)
	requireServerError(t, err, http.StatusBadRequest, "InvalidParameter")
}

// onlineStream returns the online-list entry of app/stream on 127.0.0.1, nil when not listed.
func onlineStream(t *testing.T, c *live.Client, app, stream string) *live.LiveStreamOnlineInfo {
	t.Helper()
	req := live.CreateDescribeLiveStreamsOnlineListRequest()
	req.DomainName, req.AppName, req.StreamName, req.QueryType = "127.0.0.1", app, stream, "strict"
	resp, err := c.DescribeLiveStreamsOnlineList(req)
	require.NoError(t, err)
	for _, o := range resp.OnlineInfo.LiveStreamOnlineInfo {
		if o.AppName == app && o.StreamName == stream {
			return &o
		}
	}
	return nil
}

func streamState(t *testing.T, c *live.Client, app, stream string) string {
	t.Helper()
	req := live.CreateDescribeLiveStreamStateRequest()
	req.DomainName, req.AppName, req.StreamName = "127.0.0.1", app, stream
	resp, err := c.DescribeLiveStreamState(req)
	require.NoError(t, err)
	return resp.StreamState
}

// TestAliyunLiveStreamControl is acceptance 2 through the Alibaba SDK: the online list shows a
// publication with its codec and bitrate within 2 s of publishing; ForbidLiveStream disconnects
// the ffmpeg publisher within 1 s, a republish is refused and the block is listed;
// ResumeLiveStream lets it in again; DescribeLiveStreamState follows; Oneshot only kicks; the
// publish history has the publications.
func TestAliyunLiveStreamControl(t *testing.T) {
	t.Parallel()
	s := startLiverec(t)
	c := aliyunClient(t, s, keyA, secretA, nil)
	catalogRule(t, c, "alictl", "alictl") // claims 127.0.0.1 for project A
	src := refStream(t, 30)
	url := "rtmp://" + s.RTMP + "/alictl/cam"
	require.Equal(t, "offline", streamState(t, c, "alictl", "cam"))

	began := time.Now()
	pub := aliPublish(t, src, url)
	// Publishing starts when liverec accepts the stream (ffmpeg's start-up and handshake are
	// not liverec's); from then on its codec and bitrate are listed within 2 s.
	var info *live.LiveStreamOnlineInfo
	require.Eventually(t, func() bool { info = onlineStream(t, c, "alictl", "cam"); return info != nil },
		10*time.Second, 20*time.Millisecond, "the publication is listed")
	accepted := time.Now()
	require.Eventually(t, func() bool {
		info = onlineStream(t, c, "alictl", "cam")
		return info != nil && info.VideoCodecId == 7 && info.VideoDataRate > 0 && info.AudioCodecId == 10 && info.AudioDataRate > 0
	}, 2*time.Second, 50*time.Millisecond, "codec and bitrate listed within 2 s of publishing: %+v", info)
	t.Logf("listed %v after ffmpeg started, with codec and bitrate %v later", accepted.Sub(began), time.Since(accepted))
	require.Equal(t, "127.0.0.1", info.ClientIp)
	require.Equal(t, "rtmp://127.0.0.1/alictl/cam", info.PublishUrl)
	require.WithinDuration(t, began, aliParse(t, info.PublishTime), 2*time.Second)
	require.Equal(t, "online", streamState(t, c, "alictl", "cam"))
	require.Eventually(t, func() bool {
		info = onlineStream(t, c, "alictl", "cam")
		return info.Width == 640 && info.Height == 360 && info.FrameRate >= 25 && info.FrameRate <= 35
	}, 5*time.Second, 100*time.Millisecond, "picture size and frame rate: %+v", info)

	forbid := live.CreateForbidLiveStreamRequest()
	forbid.DomainName, forbid.AppName, forbid.StreamName, forbid.LiveStreamType = "127.0.0.1", "alictl", "cam", "publisher"
	asked := time.Now()
	_, err := c.ForbidLiveStream(forbid)
	require.NoError(t, err)
	require.True(t, pub.exited(time.Second-time.Since(asked)), "ffmpeg still publishing 1 s after ForbidLiveStream")
	t.Logf("ffmpeg ended %v after ForbidLiveStream was sent", time.Since(asked))
	require.Eventually(t, func() bool { return streamState(t, c, "alictl", "cam") == "offline" }, 2*time.Second, 50*time.Millisecond)

	// A republish is refused.
	refused := aliPublish(t, src, url)
	require.True(t, refused.exited(10*time.Second), "a forbidden republish ends")
	require.Error(t, <-refused.done, "ffmpeg reports the refusal")
	refused.done <- nil
	require.Nil(t, onlineStream(t, c, "alictl", "cam"))

	blocks := live.CreateDescribeLiveStreamsBlockListRequest()
	blocks.DomainName = "127.0.0.1"
	bl, err := c.DescribeLiveStreamsBlockList(blocks)
	require.NoError(t, err)
	require.Equal(t, []string{"127.0.0.1/alictl/cam"}, bl.StreamUrls.StreamUrl)
	require.Equal(t, 1, bl.TotalNum)
	require.Equal(t, "127.0.0.1", bl.DomainName)

	resume := live.CreateResumeLiveStreamRequest()
	resume.DomainName, resume.AppName, resume.StreamName, resume.LiveStreamType = "127.0.0.1", "alictl", "cam", "publisher"
	_, err = c.ResumeLiveStream(resume)
	require.NoError(t, err)
	_, err = c.ResumeLiveStream(resume)
	requireServerError(t, err, http.StatusNotFound, "InvalidStream.NotFound")
	bl, err = c.DescribeLiveStreamsBlockList(blocks)
	require.NoError(t, err)
	require.Empty(t, bl.StreamUrls.StreamUrl)

	// Let in again; then a oneshot forbid disconnects without blocking.
	again := aliPublish(t, src, url)
	require.Eventually(t, func() bool { return streamState(t, c, "alictl", "cam") == "online" }, 5*time.Second, 50*time.Millisecond)
	forbid.Oneshot = "yes"
	asked = time.Now()
	_, err = c.ForbidLiveStream(forbid)
	require.NoError(t, err)
	require.True(t, again.exited(time.Second-time.Since(asked)), "ffmpeg still publishing 1 s after a oneshot ForbidLiveStream")
	bl, err = c.DescribeLiveStreamsBlockList(blocks)
	require.NoError(t, err)
	require.Empty(t, bl.StreamUrls.StreamUrl, "a oneshot forbid blocks nothing")
	last := aliPublish(t, src, url)
	require.Eventually(t, func() bool { return onlineStream(t, c, "alictl", "cam") != nil }, 5*time.Second, 50*time.Millisecond)
	require.False(t, last.exited(0))

	history := live.CreateDescribeLiveStreamsPublishListRequest()
	history.DomainName, history.AppName, history.StreamName = "127.0.0.1", "alictl", "cam"
	history.StartTime = began.Add(-time.Minute).UTC().Format(aliLayout)
	history.EndTime = time.Now().Add(time.Minute).UTC().Format(aliLayout)
	hist, err := c.DescribeLiveStreamsPublishList(history)
	require.NoError(t, err)
	pubs := hist.PublishInfo.LiveStreamPublishInfo
	require.Equal(t, 3, hist.TotalNum, "the first, the resumed and the current publication: %+v", pubs)
	require.True(t, slices.IsSortedFunc(pubs, func(a, b live.LiveStreamPublishInfo) int { return strings.Compare(a.PublishTime, b.PublishTime) }))
	require.NotEmpty(t, pubs[0].StopTime)
	require.Empty(t, pubs[2].StopTime, "the current publication is live")
	require.Equal(t, "127.0.0.1", pubs[0].ClientAddr)
}
