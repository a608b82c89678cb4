package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/testutil"
)

// TestOnDemandHTTP is part of acceptance 1 of the callbacks issue: the decision GET carries the
// stream, codec and bitrate; a positive reply with Interval {Flv:5, Mp4:5} and Format
// [flv, mp4], even 1.5 s late, records only FLV and MP4 in 5 s files from the first keyframe;
// NeedRecord false leaves the stream unrecorded and visible as such.
func TestOnDemandHTTP(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 12, GOP: 30})
	_, units := testutil.LoadFLV(t, src)
	wantV, wantA := testutil.CountUnits(units)

	var mu sync.Mutex
	var asked []string
	decider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.RawQuery)
		mu.Unlock()
		if r.URL.Query().Get("stream") == "no" {
			io.WriteString(w, `{"ApiVersion":"1.0","NeedRecord":false}`)
			return
		}
		time.Sleep(1500 * time.Millisecond)
		io.WriteString(w, `{"ApiVersion":"1.0","NeedRecord":true,"Interval":{"Flv":5,"Mp4":5},"Format":["flv","mp4"]}`)
	}))
	defer decider.Close()

	ta := startApp(t, "callbacks:\n  ondemand_timeout: 5s\n")
	r := cycleRule("127.0.0.1", "od", 3600, 2)
	r.Mode = recording.ModeOnDemandHTTP
	ta.putRule(t, r)
	resp := ta.apiRequest(t, http.MethodPost, "/api/v1/callbacks", strings.NewReader(
		`{"dialect":"aliyun","domain":"127.0.0.1","app":"*","on_demand_url":"`+decider.URL+`/ask?token=x"}`))
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(b))

	publishFFmpeg(t, src, ta.rtmpURL("od/yes"))
	files := ta.waitFiles(t, "yes", 6)
	require.Empty(t, files[recording.FormatHLS], "HLS is not in the decision's Format")
	for _, format := range []recording.Format{recording.FormatFLV, recording.FormatMP4} {
		require.Len(t, files[format], 3, "%s: 5 s cycles of a 12 s stream with 1 s GOPs", format)
		var v, a int
		for i, f := range files[format] {
			fv, fa, dur := checkClean(t, ta.objectPath(f), fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
			require.InDelta(t, []float64{5, 5, 2}[i], dur, 0.2, "%s file %d", format, i)
			v, a = v+fv, a+fa
		}
		require.Equal(t, wantV, v, "%s: recorded from the stream's first keyframe although the reply took 1.5 s", format)
		require.Equal(t, wantA, a, format)
	}

	publishFFmpeg(t, src, ta.rtmpURL("od/no"))
	require.Eventually(t, func() bool {
		recs, _, err := ta.Store().RecordingList(context.Background(), store.RecordingFilter{Stream: "no"})
		return err == nil && len(recs) == 1 && recs[0].State == recording.RecordingNotRecorded
	}, 30*time.Second, 100*time.Millisecond, "NeedRecord false must be visible as not recorded")

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, asked, 2)
	require.Contains(t, asked[0], "token=x")
	for _, want := range []string{"app=od", "domain=127.0.0.1", "stream=yes", "codec=h264", "vbitrate="} {
		require.Contains(t, asked[0], want)
	}
	require.NotContains(t, asked[0], "vbitrate=0&", "the bitrate is known")
}

// TestOnDemandParam: an on_demand_param rule records what the record_config ingest parameter
// says, and nothing without it.
func TestOnDemandParam(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	_, units := testutil.LoadFLV(t, src)
	wantV, _ := testutil.CountUnits(units)
	ta := startApp(t, "")
	r := cycleRule("127.0.0.1", "param", 0, 2)
	r.Mode = recording.ModeOnDemandParam
	ta.putRule(t, r)

	cfg := url.QueryEscape(`{"NeedRecord":true,"Format":["flv","m3u8"]}`)
	publishFFmpeg(t, src, ta.rtmpURL("param/withcfg?record_config="+cfg))
	files := ta.waitFiles(t, "withcfg", 2)
	require.Empty(t, files[recording.FormatMP4], "mp4 is not in record_config's Format")
	for _, format := range []recording.Format{recording.FormatFLV, recording.FormatHLS} {
		require.Len(t, files[format], 1, format)
		v, _, _ := checkClean(t, ta.objectPath(files[format][0]), fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
		require.Equal(t, wantV, v, format)
	}

	publishFFmpeg(t, src, ta.rtmpURL("param/without"))
	require.Eventually(t, func() bool {
		recs, _, err := ta.Store().RecordingList(context.Background(), store.RecordingFilter{Stream: "without"})
		return err == nil && len(recs) == 1 && recs[0].State == recording.RecordingNotRecorded &&
			strings.Contains(recs[0].Reason, "record_config")
	}, 30*time.Second, 100*time.Millisecond, "no record_config: not recorded, and visibly so")
}

// TestPlanWindow: a plan rule records only inside its window: a file from the first
// keyframe after start_time to end_time, nothing before or after.
func TestPlanWindow(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 12, GOP: 30})
	ta := startApp(t, "recording:\n  flush_interval: 200ms\n")
	r := cycleRule("127.0.0.1", "plan", 0, 2)
	r.Formats = r.Formats[:1] // FLV
	r.Mode = recording.ModePlan
	start, end := time.Now().Add(4*time.Second), time.Now().Add(8*time.Second)
	r.StartTime, r.EndTime = &start, &end
	ta.putRule(t, r)
	publishFFmpeg(t, src, ta.rtmpURL("plan/cam"))
	files := ta.waitFiles(t, "cam", 1)
	require.Len(t, files[recording.FormatFLV], 1)
	f := files[recording.FormatFLV][0]
	_, _, dur := checkClean(t, ta.objectPath(f), fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
	require.InDelta(t, 4.0, dur, 1.3, "the window is 4 s long")
	require.False(t, f.StartedAt.Before(start.Add(-time.Second)), "nothing before start_time")
}

// TestOnDemandFailuresLeaveStreamsUnrecorded: a 500, a timeout, a reply whose JSON is not
// complete within 2,048 bytes, an empty Format intersection and a missing OnDemandUrl each
// leave the stream unrecorded, with the reason visible.
func TestOnDemandFailuresLeaveStreamsUnrecorded(t *testing.T) {
	t.Parallel()
	decider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("stream") {
		case "s500":
			w.WriteHeader(http.StatusInternalServerError)
		case "slow":
			<-r.Context().Done() // past ondemand_timeout: the asker gives up first
			io.WriteString(w, `{"NeedRecord":true}`)
		case "big":
			io.WriteString(w, strings.Repeat(" ", 2040)+`{"NeedRecord":true}`)
		case "noformat":
			io.WriteString(w, `{"NeedRecord":true,"Format":["cmaf"]}`)
		}
	}))
	defer decider.Close()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 3})
	ta := startApp(t, "callbacks:\n  ondemand_timeout: 500ms\n")
	for _, app := range []string{"odf", "nourl"} {
		r := cycleRule("127.0.0.1", app, 0, 2)
		r.Mode = recording.ModeOnDemandHTTP
		ta.putRule(t, r)
	}
	resp := ta.apiRequest(t, http.MethodPost, "/api/v1/callbacks", strings.NewReader(
		`{"dialect":"aliyun","domain":"127.0.0.1","app":"odf","on_demand_url":"`+decider.URL+`"}`))
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	cases := map[string]string{ // stream → part of the reason
		"odf/s500": "status", "odf/slow": "tim", "odf/big": "2048", "odf/noformat": "no format",
		"nourl/cam": "no on-demand url",
	}
	var wg sync.WaitGroup
	for path := range cases {
		wg.Go(func() { publishFFmpeg(t, src, ta.rtmpURL(path)) })
	}
	wg.Wait()
	for path, reason := range cases {
		stream := path[strings.IndexByte(path, '/')+1:]
		app := path[:strings.IndexByte(path, '/')]
		require.Eventually(t, func() bool {
			recs, _, err := ta.Store().RecordingList(context.Background(), store.RecordingFilter{App: app, Stream: stream})
			return err == nil && len(recs) == 1 && recs[0].State == recording.RecordingNotRecorded
		}, 30*time.Second, 100*time.Millisecond, path)
		recs, _, _ := ta.Store().RecordingList(context.Background(), store.RecordingFilter{App: app, Stream: stream})
		require.Contains(t, strings.ToLower(recs[0].Reason), reason, path)
	}
	require.Empty(t, filesOnDisk(t, ta.data), "nothing was recorded")
	_, metrics := get(t, ta.base+"/metrics")
	require.Contains(t, metrics, "liverec_ondemand_failures_total 3")
}
