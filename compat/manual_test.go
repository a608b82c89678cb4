package compat

import (
	"errors"
	"io/fs"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	alierrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/live"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/live/v1/model"
	"github.com/stretchr/testify/require"
)

// flvFiles lists the FLV objects of a bucket.
func flvFiles(t *testing.T, s *server, bucket string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(s.Data, "buckets", bucket), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".flv") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// flvDuration is the video duration ffprobe reads in a clean file.
func flvDuration(t *testing.T, path string) float64 {
	t.Helper()
	probeClean(t, path)
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path).Output()
	require.NoError(t, err)
	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	require.NoError(t, err)
	return d
}

func startPublish(t *testing.T, src, url string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy", "-f", "flv", url)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// TestManualRecordingAliyun: with OnDemand=7 nothing is recorded until RealTimeRecordCommand
// start; stop ends the file; commands out of state are refused.
func TestManualRecordingAliyun(t *testing.T) {
	t.Parallel()
	s := startLiverec(t)
	c := aliyunClient(t, s, keyA, secretA, nil)
	req := addRecordConfig("127.0.0.1", "ali", live.AddLiveAppRecordConfigRecordFormat{Format: "flv", CycleDuration: "3600",
		OssObjectPrefix: "m/{StreamName}/{EscapedStartTime}_{EscapedEndTime}"})
	req.OnDemand = requests.NewInteger(7)
	req.OssBucket = "manual"
	_, err := c.AddLiveAppRecordConfig(req)
	require.NoError(t, err)

	pub := startPublish(t, refStream(t, 12), "rtmp://"+s.RTMP+"/ali/s1")
	cmd := live.CreateRealTimeRecordCommandRequest()
	cmd.DomainName, cmd.AppName, cmd.StreamName = "127.0.0.1", "ali", "s1"
	send := func(command string) error {
		cmd.Command = command
		_, err := c.RealTimeRecordCommand(cmd)
		return err
	}
	// The stream needs a moment to be live (and decided) before it takes commands.
	require.Eventually(t, func() bool {
		err := send("start")
		var se *alierrors.ServerError
		return err == nil || !(errors.As(err, &se) && se.ErrorCode() == "InvalidStream.NotFound")
	}, 10*time.Second, 200*time.Millisecond)
	requireServerError(t, send("start"), http.StatusForbidden, "IllegalOperation")
	time.Sleep(4 * time.Second)
	require.NoError(t, send("stop"))
	requireServerError(t, send("stop"), http.StatusForbidden, "IllegalOperation")
	require.NoError(t, send("cancel_delay"))
	require.NoError(t, pub.Wait())

	var files []string
	require.Eventually(t, func() bool { files = flvFiles(t, s, "manual"); return len(files) == 1 },
		20*time.Second, 200*time.Millisecond, "one file from start to stop")
	d := flvDuration(t, files[0])
	require.Greater(t, d, 2.5, "about the 4 s between start and stop")
	require.Less(t, d, 6.0)
}

// TestManualRecordingHuawei: a COMMAND_RECORD rule records between record/control START and
// STOP; a START right after a STOP is "Record task exist" (LIVE.100011022).
func TestManualRecordingHuawei(t *testing.T) {
	t.Parallel()
	s := startLiverec(t)
	c := huaweiClient(t, s, keyA, secretA, projectA)
	rule := ruleRequest("hw", 900)
	rule.PublishDomain = "127.0.0.1"
	rt := model.GetRecordRuleRequestRecordTypeEnum().COMMAND_RECORD
	rule.RecordType = &rt
	rule.DefaultRecordConfig.RecordFormat = []model.VideoFormatVar{model.GetVideoFormatVarEnum().FLV}
	rule.DefaultRecordConfig.HlsConfig = nil
	rule.DefaultRecordConfig.FlvConfig.RecordMaxDurationToMergeFile = hwPtr(int32(0))
	rule.DefaultRecordConfig.ObsAddr.Bucket = "hwmanual"
	_, err := c.CreateRecordRule(&model.CreateRecordRuleRequest{Body: rule})
	require.NoError(t, err)

	pub := startPublish(t, refStream(t, 12), "rtmp://"+s.RTMP+"/hw/s1")
	control := func(a model.RunRecordRequestAction) error {
		_, err := c.RunRecord(&model.RunRecordRequest{Action: a,
			Body: &model.RecordControlInfo{PublishDomain: "127.0.0.1", App: "hw", Stream: "s1"}})
		return err
	}
	actions := model.GetRunRecordRequestActionEnum()
	require.Eventually(t, func() bool { return control(actions.START) == nil }, 10*time.Second, 200*time.Millisecond)
	time.Sleep(4 * time.Second)
	require.NoError(t, control(actions.STOP))
	requireHuaweiError(t, control(actions.START), http.StatusBadRequest, "LIVE.100011022")
	require.NoError(t, pub.Wait())

	var files []string
	require.Eventually(t, func() bool { files = flvFiles(t, s, "hwmanual"); return len(files) == 1 },
		20*time.Second, 200*time.Millisecond, "one file from START to STOP")
	d := flvDuration(t, files[0])
	require.Greater(t, d, 2.5)
	require.Less(t, d, 6.0)
}
