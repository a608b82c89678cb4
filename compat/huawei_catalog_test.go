package compat

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdktime"
	live "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/live/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/live/v1/model"
	"github.com/stretchr/testify/require"
)

// hwLayout is the yyyy-mm-ddThh:mm:ssZ of Huawei's times.
const hwLayout = "2006-01-02T15:04:05Z"

// hwGOP is the key frame interval of gopStream, and the HLS slice duration of the rules
// below, so that an index is exact to one GOP at each end.
const hwGOP = 2 * time.Second

// gopStream is refStream with a key frame every hwGOP (30 fps, H.264/AAC FLV).
func gopStream(t *testing.T, seconds int) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "gop.flv")
	gop := strconv.Itoa(int(hwGOP.Seconds() * 30))
	b, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=640x360:rate=30:duration=%d", seconds),
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=44100:duration=%d", seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-g", gop, "-keyint_min", gop, "-sc_threshold", "0",
		"-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", out).CombinedOutput()
	require.NoError(t, err, "ffmpeg: %s", b)
	return out
}

// hwRule creates a CONTINUOUS_RECORD rule of domain 127.0.0.1 (what an RTMP publish to the
// loopback address names) for app, recording HLS (hwGOP slices) and FLV into bucket, each
// file completed as soon as the publisher leaves.
func hwRule(t *testing.T, c *live.LiveClient, app, bucket string) string {
	t.Helper()
	rule := ruleRequest(app, 900)
	rule.PublishDomain = "127.0.0.1"
	rule.DefaultRecordConfig.ObsAddr.Bucket = bucket
	rule.DefaultRecordConfig.HlsConfig = &model.HlsRecordConfig{RecordCycle: 900,
		RecordSliceDuration: hwPtr(int32(hwGOP.Seconds())), RecordMaxDurationToMergeFile: hwPtr(int32(0))}
	rule.DefaultRecordConfig.FlvConfig.RecordMaxDurationToMergeFile = hwPtr(int32(0))
	created, err := c.CreateRecordRule(&model.CreateRecordRuleRequest{Body: rule})
	require.NoError(t, err)
	return *created.Id
}

// publisher is an ffmpeg publish in progress; done closes when ffmpeg exits.
type publisher struct {
	done chan struct{}
	err  error
}

func hwPublish(t *testing.T, src, url string) *publisher {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy", "-f", "flv", url)
	require.NoError(t, cmd.Start())
	p := &publisher{done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-p.done })
	return p
}

// requireEndsWithin fails unless p's ffmpeg exits within d of since.
func requireEndsWithin(t *testing.T, p *publisher, since time.Time, d time.Duration, what string) {
	t.Helper()
	select {
	case <-p.done:
		require.LessOrEqual(t, time.Since(since), d+100*time.Millisecond, what)
	case <-time.After(time.Until(since.Add(d))):
		t.Fatalf("%s: the publisher is still connected %v later", what, d)
	}
}

func parseHW(t *testing.T, v *string) time.Time {
	t.Helper()
	require.NotNil(t, v)
	ts, err := time.Parse(hwLayout, *v)
	require.NoError(t, err)
	return ts
}

func sdkTime(t time.Time) *sdktime.SdkTime {
	st := sdktime.SdkTime(t.UTC().Truncate(time.Second))
	return &st
}

// TestHuaweiRecordContentsAndIndex: a recorded publish appears in ListRecordContents (offset
// is a page number) with its start and end within a slice of the publish, and an index over a
// middle range plays over HTTP with the frames of that range, within one GOP at each end.
func TestHuaweiRecordContentsAndIndex(t *testing.T) {
	t.Parallel()
	s := startLiverec(t)
	c := huaweiClient(t, s, keyA, secretA, projectA)
	hwRule(t, c, "hwcat", "hwcat")

	src := gopStream(t, 24)
	before := time.Now()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy",
		"-f", "flv", "rtmp://"+s.RTMP+"/hwcat/cam").CombinedOutput()
	require.NoError(t, err, "ffmpeg publish: %s", out)
	after := time.Now()

	query := func(page, limit int32) *model.ListRecordContentsResponse {
		resp, listErr := c.ListRecordContents(&model.ListRecordContentsRequest{PublishDomain: hwPtr("127.0.0.1"), App: hwPtr("hwcat"),
			Stream: hwPtr("cam"), StartTime: before.Add(-time.Minute).UTC().Format(hwLayout),
			EndTime: hwPtr(after.Add(time.Minute).UTC().Format(hwLayout)), Offset: &page, Limit: &limit})
		require.NoError(t, listErr)
		return resp
	}
	var contents []model.RecordContentInfoV2
	require.Eventually(t, func() bool {
		resp := query(0, 10)
		contents = *resp.RecordContents
		return *resp.Total == 2 && len(contents) == 2
	}, 30*time.Second, 200*time.Millisecond, "the HLS and FLV files of the publish are listed")
	var hls *model.RecordContentInfoV2
	for i := range contents {
		ct := &contents[i]
		require.Equal(t, "127.0.0.1", *ct.PublishDomain)
		require.Equal(t, "hwcat", *ct.App)
		require.Equal(t, "cam", *ct.Stream)
		require.Equal(t, "CONTINUOUS_RECORD", ct.RecordType.Value())
		require.Equal(t, "hwcat", ct.ObsAddr.Bucket)
		require.NotEmpty(t, ct.ObsAddr.Object)
		require.NotEmpty(t, *ct.FileName)
		require.NotEmpty(t, *ct.DownloadUrl)
		if ct.RecordFormat.Value() == "HLS" {
			hls = ct
		}
	}
	require.NotNil(t, hls, "an HLS file is listed")
	start, end := parseHW(t, hls.StartTime), parseHW(t, hls.EndTime)
	slack := hwGOP + time.Second // a slice, and the second the times are rounded to
	require.WithinDuration(t, before, start, slack, "the file starts with the publish")
	require.WithinDuration(t, after, end, slack, "the file ends with the publish")
	require.InDelta(t, end.Sub(start).Seconds(), float64(*hls.Duration), 1)

	// offset is a page number: page 1 of 2 items a page is past the end.
	page := query(1, 2)
	require.Equal(t, int32(2), *page.Total)
	require.Empty(t, *page.RecordContents)
	page = query(1, 1)
	require.Len(t, *page.RecordContents, 1)
	require.NotEqual(t, contents[0].RecordFormat.Value(), (*page.RecordContents)[0].RecordFormat.Value(), "page 1 of 1 is the second file")

	// An index over seconds 6–16 of the recording.
	from, to := start.Add(6*time.Second), start.Add(16*time.Second)
	idx, err := c.CreateRecordIndex(&model.CreateRecordIndexRequest{Body: &model.RecordIndexRequestBody{PublishDomain: "127.0.0.1",
		App: "hwcat", Stream: "cam", StartTime: sdkTime(from), EndTime: sdkTime(to)}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, idx.HttpStatusCode)
	require.NotEmpty(t, *idx.IndexUrl)
	require.Equal(t, "hwcat", *idx.Bucket)
	require.True(t, strings.HasPrefix(*idx.Object, "Index/127.0.0.1/hwcat/cam/cam-"), *idx.Object)
	require.True(t, strings.HasSuffix(*idx.Object, ".m3u8"), *idx.Object)
	require.Equal(t, int32(640), *idx.Width)
	require.Equal(t, int32(360), *idx.Height)
	idxStart, idxEnd := time.Time(*idx.StartTime), time.Time(*idx.EndTime)
	require.WithinDuration(t, from, idxStart, slack, "the index starts at the slice holding the start")
	require.WithinDuration(t, to, idxEnd, slack, "the index ends at the slice holding the end")

	cmd := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", *idx.IndexUrl)
	var stderr fsBuffer
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	require.NoError(t, err, "ffprobe %s: %s", *idx.IndexUrl, stderr)
	require.Empty(t, string(stderr), "ffprobe errors")
	// An HLS input lists its streams under its program too: the first count is the stream's.
	frames, err := strconv.Atoi(strings.Fields(string(got) + " x")[0])
	require.NoError(t, err, "%q", got)
	gopFrames := int(hwGOP.Seconds() * 30)
	require.InDelta(t, int(to.Sub(from).Seconds()*30), frames, float64(2*gopFrames), "the frames of the range, to a GOP at each end")
	require.InDelta(t, float64(*idx.Duration)*30, frames, 30, "the duration told is what plays")
}

// TestHuaweiOnlineStreamsAndForbidden: the online list shows a publication with its codecs
// and bitrate within 2 s; CreateStreamForbidden disconnects it within 1 s and refuses it until
// DeleteStreamForbidden; CreateStreamForbiddenOnce disconnects without refusing.
func TestHuaweiOnlineStreamsAndForbidden(t *testing.T) {
	t.Parallel()
	s := startLiverec(t)
	c := huaweiClient(t, s, keyA, secretA, projectA)
	hwRule(t, c, "hwlive", "hwlive")
	src := refStream(t, 60)
	url := "rtmp://" + s.RTMP + "/hwlive/s1"

	online := func() []model.OnlineInfo {
		resp, err := c.ListLiveStreamsOnline(&model.ListLiveStreamsOnlineRequest{PublishDomain: "127.0.0.1", App: hwPtr("hwlive")})
		require.NoError(t, err)
		require.Equal(t, int64(len(*resp.Streams)), *resp.TotalNum)
		return *resp.Streams
	}
	isLive := func() bool { return len(online()) == 1 }

	pub := hwPublish(t, src, url)
	var info model.OnlineInfo
	require.Eventually(t, func() bool {
		l := online()
		if len(l) != 1 {
			return false
		}
		info = l[0]
		return info.VideoCodec.Value() == "H264" && info.AudioCodec.Value() == "AAC" && info.VideoBitrate != nil && *info.VideoBitrate > 0
	}, 2*time.Second, 100*time.Millisecond, "the publication is listed with its codecs and bitrate")
	require.Equal(t, "s1", info.Stream)
	require.Equal(t, "127.0.0.1", info.ClientIp)
	require.WithinDuration(t, time.Now(), parseHW(t, &info.StartTime), 3*time.Second)
	require.Eventually(t, func() bool {
		l := online()
		return len(l) == 1 && l[0].Resolution != nil && *l[0].Resolution == "640x360" &&
			l[0].VideoFrameRate != nil && *l[0].VideoFrameRate >= 25 && *l[0].VideoFrameRate <= 35
	}, 5*time.Second, 200*time.Millisecond, "resolution and frame rate are measured")

	// Forbidden: disconnected within 1 s and refused.
	forbidAt := time.Now()
	forbidden, err := c.CreateStreamForbidden(&model.CreateStreamForbiddenRequest{Body: &model.StreamForbiddenSetting{
		Domain: "127.0.0.1", AppName: "hwlive", StreamName: "s1"}})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, forbidden.HttpStatusCode)
	requireEndsWithin(t, pub, forbidAt, time.Second, "CreateStreamForbidden")
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy",
		"-f", "flv", url).CombinedOutput()
	require.Error(t, err, "a republish is refused: %s", out)
	require.NoError(t, ctx.Err(), "the republish was refused, not left hanging")
	require.False(t, isLive())

	blocks, err := c.ListStreamForbidden(&model.ListStreamForbiddenRequest{Domain: "127.0.0.1"})
	require.NoError(t, err)
	require.Equal(t, int32(1), *blocks.Total)
	b := (*blocks.Blocks)[0]
	require.Equal(t, "hwlive", b.AppName)
	require.Equal(t, "s1", b.StreamName)
	require.WithinDuration(t, time.Now().Add(7*24*time.Hour), parseHW(t, b.ResumeTime), time.Minute, "7 days by default")

	resume := time.Now().Add(time.Hour)
	updated, err := c.UpdateStreamForbidden(&model.UpdateStreamForbiddenRequest{Body: &model.StreamForbiddenSetting{
		Domain: "127.0.0.1", AppName: "hwlive", StreamName: "s1", ResumeTime: sdkTime(resume)}})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, updated.HttpStatusCode)
	blocks, err = c.ListStreamForbidden(&model.ListStreamForbiddenRequest{Domain: "127.0.0.1", AppName: hwPtr("hwlive")})
	require.NoError(t, err)
	require.Equal(t, resume.UTC().Format(hwLayout), *(*blocks.Blocks)[0].ResumeTime)
	_, err = c.UpdateStreamForbidden(&model.UpdateStreamForbiddenRequest{Body: &model.StreamForbiddenSetting{
		Domain: "127.0.0.1", AppName: "hwlive", StreamName: "other"}})
	requireHuaweiError(t, err, http.StatusNotFound, "LIVE.103011019")

	// Resumed: it publishes again.
	deleted, err := c.DeleteStreamForbidden(&model.DeleteStreamForbiddenRequest{Domain: "127.0.0.1", AppName: "hwlive", StreamName: "s1"})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, deleted.HttpStatusCode)
	_, err = c.DeleteStreamForbidden(&model.DeleteStreamForbiddenRequest{Domain: "127.0.0.1", AppName: "hwlive", StreamName: "s1"})
	requireHuaweiError(t, err, http.StatusNotFound, "LIVE.103011019")
	pub = hwPublish(t, src, url)
	require.Eventually(t, isLive, 5*time.Second, 100*time.Millisecond, "the resumed stream publishes")

	// Once: disconnected within 1 s, and free to publish again at once.
	kickAt := time.Now()
	once, err := c.CreateStreamForbiddenOnce(&model.CreateStreamForbiddenOnceRequest{Body: &model.StreamForbiddenOnceSetting{
		Domain: "127.0.0.1", AppName: "hwlive", StreamName: "s1"}})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, once.HttpStatusCode)
	requireEndsWithin(t, pub, kickAt, time.Second, "CreateStreamForbiddenOnce")
	blocks, err = c.ListStreamForbidden(&model.ListStreamForbiddenRequest{Domain: "127.0.0.1"})
	require.NoError(t, err)
	require.Equal(t, int32(0), *blocks.Total, "once forbids nothing")
	hwPublish(t, src, url)
	require.Eventually(t, isLive, 5*time.Second, 100*time.Millisecond, "a kicked stream publishes again")

	_, err = c.CreateStreamForbiddenOnce(&model.CreateStreamForbiddenOnceRequest{Body: &model.StreamForbiddenOnceSetting{
		Domain: "127.0.0.1", AppName: "hwlive", StreamName: "nobody"}})
	requireHuaweiError(t, err, http.StatusNotFound, "LIVE.103011019")
}

// TestHuaweiScheduleRecordTasks: a task is created, listed with stop_time 0, deleted (listed
// with its stop time), and a second delete is 404.
func TestHuaweiScheduleRecordTasks(t *testing.T) {
	t.Parallel()
	s := startLiverec(t)
	c := huaweiClient(t, s, keyA, secretA, projectA)
	ruleID := hwRule(t, c, "hwplan", "hwplan")

	now := time.Now()
	end := now.Add(time.Hour).Unix()
	created, err := c.CreateScheduleRecordTasks(&model.CreateScheduleRecordTasksRequest{Body: &model.ScheduleRecordTasksReq{
		Domain: "127.0.0.1", App: "hwplan", Stream: "s1", EndTime: end, TemplateId: ruleID}})
	require.NoError(t, err)
	require.NotEmpty(t, *created.TaskId)

	list := func() []model.ScheduleRecordTasks {
		resp, listErr := c.ListScheduleRecordTasks(&model.ListScheduleRecordTasksRequest{StartTime: hwPtr(now.Add(-time.Hour).Unix()),
			EndTime: now.Add(2 * time.Hour).Unix(), Domain: hwPtr("127.0.0.1")})
		require.NoError(t, listErr)
		require.Equal(t, int32(len(*resp.Tasks)), *resp.Total)
		return *resp.Tasks
	}
	tasks := list()
	require.Len(t, tasks, 1)
	task := tasks[0]
	require.Equal(t, *created.TaskId, *task.TaskId)
	require.Equal(t, "hwplan", task.App)
	require.Equal(t, "s1", task.Stream)
	require.Equal(t, end, task.EndTime)
	require.InDelta(t, now.Unix(), *task.StartTime, 2, "no start_time: now")
	require.Equal(t, int64(0), *task.StopTime, "0 while it stands")

	_, err = c.CreateScheduleRecordTasks(&model.CreateScheduleRecordTasksRequest{Body: &model.ScheduleRecordTasksReq{
		Domain: "127.0.0.1", App: "hwplan", Stream: "s1", EndTime: now.Add(8 * 24 * time.Hour).Unix(), TemplateId: ruleID}})
	requireHuaweiError(t, err, http.StatusBadRequest, "LIVE.100011001")

	_, err = c.DeleteScheduleRecordTasks(&model.DeleteScheduleRecordTasksRequest{TaskId: *created.TaskId})
	require.NoError(t, err)
	tasks = list()
	require.Len(t, tasks, 1)
	require.InDelta(t, time.Now().Unix(), *tasks[0].StopTime, 2, "stopped now")
	_, err = c.DeleteScheduleRecordTasks(&model.DeleteScheduleRecordTasksRequest{TaskId: *created.TaskId})
	requireHuaweiError(t, err, http.StatusNotFound, "LIVE.103011019")
}
