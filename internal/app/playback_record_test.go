package app

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/testutil"
)

// hlsOnly keeps the HLS format of a rule (one playlist per recording, 2 s slices).
func hlsOnly(r recording.Rule) recording.Rule {
	for _, f := range r.Formats {
		if f.Format == recording.FormatHLS {
			f.CycleS, f.SliceS = 0, 2
			r.Formats = []recording.FormatConfig{f}
			return r
		}
	}
	panic("rule without HLS")
}

// probeFrames decodes the video of url with `ffprobe -count_frames` and returns the frames read
// and what ffprobe printed at log level error.
func probeFrames(t *testing.T, url string) (int, string) {
	t.Helper()
	testutil.RequireTool(t, "ffprobe")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", url)
	var stderr testutil.SyncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "ffprobe %s: %s", url, stderr.String())
	n, err := strconv.Atoi(strings.TrimSpace(strings.Split(string(out), "\n")[0]))
	require.NoError(t, err, "ffprobe output %q", out)
	return n, stderr.String()
}

// httpGet fetches url with headers, without following redirects.
func httpGet(t *testing.T, url string, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header[k] = v
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	require.NoError(t, err)
	return resp, b.String()
}

// changeParam changes one character of a URL's query parameter.
func changeParam(t *testing.T, link, param string) string {
	t.Helper()
	i := strings.Index(link, param+"=")
	require.GreaterOrEqual(t, i, 0, "%s has no %s", link, param)
	i += len(param) + 1 + 3
	c := byte('0')
	if link[i] == '0' {
		c = '1'
	}
	return link[:i] + string(c) + link[i+1:]
}

// TestHLSPlaysOverHTTP is acceptance 3 of issue 15 on the local endpoint, with the live URL
// of §2: while recording, the recording's live URL is an EVENT playlist that grows and that
// ffprobe opens; once completed, ffprobe reads every frame through the playlist's
// download_url; a changed signature on any slice link is refused; the playback paths answer
// the configured CORS origin.
func TestHLSPlaysOverHTTP(t *testing.T) {
	t.Parallel()
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 14})
	ta := startApp(t, "storage:\n  cors_origins: [\"https://player.example\"]\n")
	ta.putRule(t, hlsOnly(cycleRule("127.0.0.1", "play", 0, 2)))
	pub := ffmpegPublisher(t, src, ta.rtmpURL("play/cam"))
	require.NoError(t, pub.Start())
	exited := make(chan error, 1)
	go func() { exited <- pub.Wait() }()
	ctx := context.Background()

	var recID, live string
	require.Eventually(t, func() bool {
		recs, _, err := ta.Store().RecordingList(ctx, store.RecordingFilter{Stream: "cam"})
		require.NoError(t, err)
		if len(recs) == 1 {
			recID = recs[0].ID
			live = ta.LiveURL(ctx, recID)
		}
		return live != ""
	}, 30*time.Second, 100*time.Millisecond, "no live URL while recording")
	require.True(t, strings.HasPrefix(live, ta.base+"/download/local/"), live)
	resp, pl := httpGet(t, live, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, pl)
	require.Contains(t, pl, "\n#EXT-X-PLAYLIST-TYPE:EVENT\n")
	require.NotContains(t, pl, "#EXT-X-ENDLIST")
	first := strings.Count(pl, "#EXTINF:")
	require.Positive(t, first)
	for _, u := range playlistURIs(pl) {
		require.True(t, strings.HasPrefix(u, ta.base+"/download/local/recordings/"), u)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", live).CombinedOutput()
	require.NoError(t, err, "ffprobe opens the live playlist: %s", out)
	require.Contains(t, string(out), "h264")
	require.Eventually(t, func() bool {
		r, grown := httpGet(t, live, nil)
		return r.StatusCode == http.StatusOK && strings.Count(grown, "#EXTINF:") > first
	}, 20*time.Second, 200*time.Millisecond, "the live playlist grows")

	require.NoError(t, <-exited)
	files := ta.waitFiles(t, "cam", 1)
	require.Len(t, files[recording.FormatHLS], 1)
	f := files[recording.FormatHLS][0]
	require.Empty(t, ta.LiveURL(ctx, recID), "no live URL once the recording is over")
	link := ta.downloadURL(ctx, f.Endpoint, f.Bucket, f.ObjectKey)
	require.True(t, strings.HasPrefix(link, ta.base+"/download/local/recordings/"), link)
	frames, stderr := probeFrames(t, link)
	require.Empty(t, stderr, "ffprobe errors reading %s", link)
	require.Equal(t, 420, frames, "every frame of 14 s at 30 fps")
	require.Equal(t, f.VideoFrames, int64(frames), "the frames the file_completed event reports")

	resp, pl = httpGet(t, link, http.Header{"Origin": {"https://player.example"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "https://player.example", resp.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "Content-Length, Content-Range, Accept-Ranges", resp.Header.Get("Access-Control-Expose-Headers"))
	require.Contains(t, pl, "#EXT-X-ENDLIST")
	slices := playlistURIs(pl)
	require.Len(t, slices, 7)
	for _, s := range slices {
		resp, body := httpGet(t, s, http.Header{"Origin": {"https://player.example"}})
		require.Equal(t, http.StatusOK, resp.StatusCode, s)
		require.Equal(t, "https://player.example", resp.Header.Get("Access-Control-Allow-Origin"))
		require.Equal(t, byte(0x47), body[0], "an MPEG-TS slice")
		resp, _ = httpGet(t, changeParam(t, s, "signature"), nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, "a changed signature on %s", s)
	}
	req, err := http.NewRequest(http.MethodOptions, slices[0], nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://player.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "range")
	presp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	presp.Body.Close()
	require.Equal(t, http.StatusNoContent, presp.StatusCode)
	require.Equal(t, "https://player.example", presp.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "Range", presp.Header.Get("Access-Control-Allow-Headers"))
}

// TestHLSPlaysOverHTTPFromS3 is acceptance 3 of issue 15 on versitygw: the download_url of a
// playlist on an S3 endpoint without public_url is liverec's signed link, served with each
// slice presigned; ffprobe reads every frame through it; a changed presigned signature is
// refused by the endpoint; liverec's link to a slice redirects to its presigned URL.
func TestHLSPlaysOverHTTPFromS3(t *testing.T) {
	t.Parallel()
	s3 := testutil.StartS3(t)
	s3.MakeBucket(t, "rec")
	cl := s3.Client(t)
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 8})
	ta := startApp(t, s3Config(s3, s3.SecretKey, ""))
	ta.putRule(t, hlsOnly(s3Rule("s3play", "rec")))
	publishFFmpeg(t, src, ta.rtmpURL("s3play/cam"))
	files := ta.waitFiles(t, "cam", 1)
	require.Len(t, files[recording.FormatHLS], 1)
	f := files[recording.FormatHLS][0]
	ctx := context.Background()

	link := ta.downloadURL(ctx, f.Endpoint, f.Bucket, f.ObjectKey)
	require.True(t, strings.HasPrefix(link, ta.base+"/download/store1/rec/"), "a presigning endpoint's playlist plays through liverec: %s", link)
	frames, stderr := probeFrames(t, link)
	require.Empty(t, stderr, "ffprobe errors reading %s", link)
	require.Equal(t, 240, frames, "every frame of 8 s at 30 fps")
	require.Equal(t, f.VideoFrames, int64(frames))

	resp, pl := httpGet(t, link, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, pl)
	require.Equal(t, "application/vnd.apple.mpegurl", resp.Header.Get("Content-Type"))
	stored := string(getObject(t, cl, "rec", f.ObjectKey))
	rel := playlistURIs(stored)
	served := playlistURIs(pl)
	require.Len(t, served, len(rel))
	require.Len(t, served, 4)
	exp := time.Now().Add(time.Hour)
	for i, s := range served {
		require.True(t, strings.HasPrefix(s, s3.URL+"/rec/"), "a presigned slice URL: %s", s)
		var body string
		resp, body = httpGet(t, s, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, s)
		key := path.Join(path.Dir(f.ObjectKey), rel[i])
		want := getObject(t, cl, "rec", key)
		require.True(t, bytes.Equal(want, []byte(body)), "slice %s", key)
		resp, _ = httpGet(t, changeParam(t, s, "X-Amz-Signature"), nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, "a changed signature on %s", s)

		// liverec's own link to a slice of an S3 endpoint answers with its presigned URL.
		resp, _ = httpGet(t, ta.signedLink(context.Background(), "store1", "rec", key, exp), nil)
		require.Equal(t, http.StatusFound, resp.StatusCode)
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		require.Equal(t, "/rec/"+key, loc.Path)
		resp, body = httpGet(t, loc.String(), nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.True(t, bytes.Equal(want, []byte(body)))
	}
	resp, _ = httpGet(t, changeParam(t, link, "signature"), nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "a changed signature on the playlist link")
}

// requireServedPlaylist checks that a playlist served through its download_url is the stored
// one with each URI line made an absolute URL (tags and their order unchanged).
func requireServedPlaylist(t *testing.T, served, stored string) {
	t.Helper()
	sv, st := strings.Split(served, "\n"), strings.Split(stored, "\n")
	require.Len(t, sv, len(st), "served:\n%s\nstored:\n%s", served, stored)
	for i := range st {
		if st[i] == "" || strings.HasPrefix(st[i], "#") {
			require.Equal(t, st[i], sv[i], "line %d", i+1)
			continue
		}
		u, err := url.Parse(sv[i])
		require.NoError(t, err)
		require.True(t, u.IsAbs(), "line %d: %s", i+1, sv[i])
		require.True(t, strings.HasSuffix(u.Path, "/"+path.Base(st[i])), "line %d: %s names %s", i+1, sv[i], st[i])
	}
}
