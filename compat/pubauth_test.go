package compat

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/live"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/live/v1/model"
	"github.com/stretchr/testify/require"
)

const (
	authPrimary = "LiveRecPrimaryKey01"
	authBackup  = "LiveRecBackupKey02"
	authHuawei  = "LiveRec0123456789abcdefABCDEF012"
)

// flvRule makes every stream of app on 127.0.0.1 record one FLV file per publish, completed as
// soon as the publisher leaves, at bucket "auth" under APP/STREAM/.
func flvRule(t *testing.T, s *server, app string) {
	t.Helper()
	body := `{"domain":"127.0.0.1","app":"` + app + `","stream":"*","mode":"auto","formats":[{"format":"flv",` +
		`"cycle_s":0,"merge_window_s":0,"object_template":"{AppName}/{StreamName}/{EscapedStartTime}"}],` +
		`"storage":{"endpoint":"local","bucket":"auth"}}`
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+s.HTTP+"/api/v1/rules", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(keyA, secretA)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
}

// streamFiles lists the objects recorded for app/stream in bucket "auth".
func streamFiles(s *server, app, stream string) []string {
	var out []string
	filepath.WalkDir(filepath.Join(s.Data, "buckets", "auth", app, stream), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// videoFrames counts the video packets of a file with ffprobe.
func videoFrames(t *testing.T, path string) int {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
		"-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", path).Output()
	require.NoError(t, err, path)
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	require.NoError(t, err, path)
	return n
}

// requireRecorded publishes src to rtmpURL and checks that one clean FLV holding every video
// frame of src is stored for app/stream.
func requireRecorded(t *testing.T, s *server, src, rtmpURL, app, stream string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", src, "-c", "copy",
		"-f", "flv", rtmpURL).CombinedOutput()
	require.NoError(t, err, "ffmpeg publish to %s: %s", rtmpURL, out)
	var files []string
	require.Eventually(t, func() bool {
		files = streamFiles(s, app, stream)
		return len(files) == 1
	}, 30*time.Second, 100*time.Millisecond, "the recording of %s/%s did not appear", app, stream)
	probeClean(t, files[0])
	require.Equal(t, videoFrames(t, src), videoFrames(t, files[0]), "every frame of %s/%s is recorded", app, stream)
}

// requireRefusedPublish publishes src to rtmpURL and checks that liverec refused it and
// recorded nothing.
func requireRefusedPublish(t *testing.T, s *server, src, rtmpURL, app, stream string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-i", src, "-c", "copy",
		"-f", "flv", rtmpURL).CombinedOutput()
	require.Error(t, err, "%s must be refused: %s", rtmpURL, out)
	require.Contains(t, string(out), "publish not authorized")
	require.Empty(t, streamFiles(s, app, stream))
}

// aliSign is Alibaba's type-A signature, computed here independently of liverec.
func aliSign(path, key string, ts int64) string {
	sum := md5.Sum(fmt.Appendf(nil, "/%s-%d-0-0-%s", path, ts, key))
	return fmt.Sprintf("auth_key=%d-0-0-%s", ts, hex.EncodeToString(sum[:]))
}

// TestAliyunPublishAuth: aliauth set with BatchSetLiveDomainConfigs, read back with
// DescribeLiveDomainConfigs, URLs checked with DescribeLiveStreamAuthChecking, a signed ffmpeg
// publish recorded and an unsigned one refused, then deleted with BatchDeleteLiveDomainConfigs.
func TestAliyunPublishAuth(t *testing.T) {
	t.Parallel()
	s := startLiverec(t)
	c := aliyunClient(t, s, keyA, secretA, nil)
	flvRule(t, s, "ali")
	src := refStream(t, 3)

	set := live.CreateBatchSetLiveDomainConfigsRequest()
	set.DomainNames = "127.0.0.1"
	set.Functions = `[{"functionName":"aliauth","functionArgs":[{"argName":"auth_type","argValue":"type_a"},` +
		`{"argName":"auth_key1","argValue":"` + authPrimary + `"},{"argName":"auth_key2","argValue":"` + authBackup + `"},` +
		`{"argName":"ali_auth_delta","argValue":"1800"}]}]`
	_, err := c.BatchSetLiveDomainConfigs(set)
	require.NoError(t, err)

	d := live.CreateDescribeLiveDomainConfigsRequest()
	d.DomainName, d.FunctionNames = "127.0.0.1", "aliauth"
	described, err := c.DescribeLiveDomainConfigs(d)
	require.NoError(t, err)
	require.Len(t, described.DomainConfigs.DomainConfig, 1)
	cfg := described.DomainConfigs.DomainConfig[0]
	require.Equal(t, "aliauth", cfg.FunctionName)
	require.NotEmpty(t, cfg.ConfigId)
	require.Equal(t, []live.FunctionArg{{ArgName: "auth_type", ArgValue: "type_a"}, {ArgName: "auth_key1", ArgValue: authPrimary},
		{ArgName: "auth_key2", ArgValue: authBackup}, {ArgName: "ali_auth_delta", ArgValue: "1800"}}, cfg.FunctionArgs.FunctionArg)

	now := time.Now().Unix()
	base := "rtmp://127.0.0.1/ali/cam"
	for _, tc := range []struct{ url, status, description string }{
		{base + "?" + aliSign("ali/cam", authPrimary, now), "pass", ""},
		{base + "?" + aliSign("ali/cam", authBackup, now), "pass", ""},
		{base, "false", "INVALID AUTH_KEY"},
		{base + "?auth_key=" + strconv.FormatInt(now, 10) + "-0-0", "false", "INVALID AUTH_KEY"},
		{base + "?" + aliSign("ali/other", authPrimary, now), "false", "INVALID MD5HASH"},
		{base + "?" + aliSign("ali/cam", "NotTheKey123", now), "false", "INVALID MD5HASH"},
		{base + "?" + aliSign("ali/cam", authPrimary, now-1800-120), "false", "INVALID TIMESTAMP"},
	} {
		r := live.CreateDescribeLiveStreamAuthCheckingRequest()
		r.DomainName, r.Url = "127.0.0.1", tc.url
		resp, cerr := c.DescribeLiveStreamAuthChecking(r)
		require.NoError(t, cerr)
		require.Equal(t, tc.status, resp.Status, tc.url)
		require.Equal(t, tc.description, resp.Description, tc.url)
	}

	rtmp := "rtmp://" + s.RTMP + "/"
	requireRecorded(t, s, src, rtmp+"ali/signed?"+aliSign("ali/signed", authPrimary, now), "ali", "signed")
	requireRecorded(t, s, src, rtmp+"ali/backup?"+aliSign("ali/backup", authBackup, now), "ali", "backup")
	requireRefusedPublish(t, s, src, rtmp+"ali/unsigned", "ali", "unsigned")

	del := live.CreateBatchDeleteLiveDomainConfigsRequest()
	del.DomainNames, del.FunctionNames = "127.0.0.1", "aliauth"
	_, err = c.BatchDeleteLiveDomainConfigs(del)
	require.NoError(t, err)
	described, err = c.DescribeLiveDomainConfigs(d)
	require.NoError(t, err)
	require.Empty(t, described.DomainConfigs.DomainConfig)
	requireRecorded(t, s, src, rtmp+"ali/open", "ali", "open")
}

// TestHuaweiPublishAuth: for methods A, B and D, a key chain set with UpdateDomainKeyChain and
// read back (key masked) with ShowDomainKeyChain, a publish to the URL CreateUrlAuthchain
// returns recorded and an unsigned one refused; DeleteDomainKeyChain removes it.
func TestHuaweiPublishAuth(t *testing.T) {
	t.Parallel()
	s := startLiverec(t)
	c := huaweiClient(t, s, keyA, secretA, projectA)
	flvRule(t, s, "hw")
	src := refStream(t, 3)
	types := model.GetKeyChainInfoAuthTypeEnum()
	for _, m := range []struct {
		authType model.KeyChainInfoAuthType
		param    string
	}{{types.A_MD5, "auth_key="}, {types.B_MD5, "txSecret="}, {types.D_SHA256, "hwSecret="}} {
		name := m.authType.Value()
		t.Run(name, func(t *testing.T) {
			updated, err := c.UpdateDomainKeyChain(&model.UpdateDomainKeyChainRequest{Domain: "127.0.0.1",
				Body: &model.KeyChainInfo{Key: authHuawei, AuthType: m.authType, Timeout: 3600}})
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, updated.HttpStatusCode)

			shown, err := c.ShowDomainKeyChain(&model.ShowDomainKeyChainRequest{Domain: "127.0.0.1"})
			require.NoError(t, err)
			require.Equal(t, name, shown.AuthType.Value())
			require.Equal(t, int32(3600), *shown.Timeout)
			require.Equal(t, strings.Repeat("*", 32), *shown.Key, "the key is masked")

			stream := "cam_" + name
			chain, err := c.CreateUrlAuthchain(&model.CreateUrlAuthchainRequest{Body: &model.CreateUrlAuthchainReq{
				Domain: "127.0.0.1", DomainType: model.GetCreateUrlAuthchainReqDomainTypeEnum().PUSH,
				App: "hw", Stream: stream}})
			require.NoError(t, err)
			require.Len(t, *chain.Keychain, 1)
			signed, err := url.Parse((*chain.Keychain)[0])
			require.NoError(t, err)
			require.Equal(t, "rtmp", signed.Scheme)
			require.Equal(t, "/hw/"+stream, signed.Path)
			require.True(t, strings.HasPrefix(signed.RawQuery, m.param), signed.RawQuery)
			signed.Host = s.RTMP // the domain is 127.0.0.1; liverec listens on its own port
			requireRecorded(t, s, src, signed.String(), "hw", stream)
			requireRefusedPublish(t, s, src, "rtmp://"+s.RTMP+"/hw/"+stream+"_unsigned", "hw", stream+"_unsigned")
		})
	}
	deleted, err := c.DeleteDomainKeyChain(&model.DeleteDomainKeyChainRequest{Domain: "127.0.0.1"})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, deleted.HttpStatusCode)
	_, err = c.ShowDomainKeyChain(&model.ShowDomainKeyChainRequest{Domain: "127.0.0.1"})
	requireHuaweiError(t, err, http.StatusNotFound, "LIVE.103011019")

	_, err = c.UpdateDomainKeyChain(&model.UpdateDomainKeyChainRequest{Domain: "127.0.0.1",
		Body: &model.KeyChainInfo{Key: authHuawei, AuthType: types.C_AES, Timeout: 3600}})
	requireHuaweiError(t, err, http.StatusBadRequest, "LIVE.100011001")
}
