package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/testutil"
	"github.com/liverec/liverec/internal/upload"
)

// s3Config declares the S3 endpoint store1 (aliased like an Alibaba OSS endpoint and a Huawei
// region) with secret, plus extra YAML.
func s3Config(s *testutil.S3Server, secret, extra string) string {
	return fmt.Sprintf(`storage:
  endpoints:
    - name: store1
      type: s3
      url: %s
      access_key: %s
      secret_key: %s
      path_style: true
      aliases: ["oss-cn-shanghai.aliyuncs.com", "cn-north-4"]
recording:
  store_retry_min: 100ms
  store_retry_max: 1s
%s`, s.URL, s.AccessKey, secret, extra)
}

// s3Rule records every format of app into bucket on the endpoint named by its Alibaba alias.
func s3Rule(app, bucket string) recording.Rule {
	r := mergeRule(app, 0)
	r.Storage = recording.Storage{Endpoint: "oss-cn-shanghai.aliyuncs.com", Bucket: bucket}
	return r
}

// getObject reads an object.
func getObject(t *testing.T, cl *minio.Client, bucket, key string) []byte {
	t.Helper()
	o, err := cl.GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
	require.NoError(t, err)
	defer o.Close()
	b, err := io.ReadAll(o)
	require.NoError(t, err, "get %s/%s", bucket, key)
	return b
}

// downloadRecording copies an object (a playlist with every slice it references) into dir
// and returns its local path, for ffprobe.
func downloadRecording(t *testing.T, cl *minio.Client, bucket, key, dir string) string {
	t.Helper()
	b := getObject(t, cl, bucket, key)
	p := filepath.Join(dir, filepath.FromSlash(key))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, b, 0o644))
	if strings.HasSuffix(key, ".m3u8") {
		for _, uri := range playlistURIs(string(b)) {
			downloadRecording(t, cl, bucket, path.Join(path.Dir(key), uri), dir)
		}
	}
	return p
}

func playlistURIs(pl string) []string {
	var out []string
	for _, l := range strings.Split(pl, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// storedFiles lists the files of the stream's recordings.
func storedFiles(t *testing.T, ta *testApp, app, stream string) []recording.File {
	t.Helper()
	recs, _, err := ta.Store().RecordingList(context.Background(), store.RecordingFilter{App: app, Stream: stream})
	require.NoError(t, err)
	var out []recording.File
	for _, r := range recs {
		fs, _, err := ta.Store().FileList(context.Background(), store.FileFilter{RecordingID: r.ID})
		require.NoError(t, err)
		out = append(out, fs...)
	}
	return out
}

// TestS3RecordsEveryFormatWithALivePlaylist is acceptance 1 and 2 of §8: a 30 s recording to an
// S3 endpoint. While it runs, the bucket's live playlist is fetchable, grows and references
// only stored slices; at the end every object is under its templated key, byte-identical to
// what ffprobe validated, and fetchable through the callbacks' download_url.
func TestS3RecordsEveryFormatWithALivePlaylist(t *testing.T) {
	t.Parallel()
	s3 := testutil.StartS3(t)
	s3.MakeBucket(t, "rec")
	cl := s3.Client(t)
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 30})
	ta := startApp(t, s3Config(s3, s3.SecretKey, ""))
	ta.putRule(t, s3Rule("s3", "rec"))
	_, hw := addCallbacks(t, ta, "s3")
	pub := ffmpegPublisher(t, src, ta.rtmpURL("s3/cam"))
	require.NoError(t, pub.Start())
	exited := make(chan error, 1)
	go func() { exited <- pub.Wait() }()

	sizes := map[int]bool{}
	var liveKey string
poll:
	for {
		select {
		case err := <-exited:
			require.NoError(t, err)
			break poll
		case <-time.After(500 * time.Millisecond):
		}
		for o := range cl.ListObjects(context.Background(), "rec", minio.ListObjectsOptions{Prefix: "s3/cam/", Recursive: true}) {
			require.NoError(t, o.Err)
			if strings.HasSuffix(o.Key, "_live.m3u8") {
				liveKey = o.Key
			}
		}
		if liveKey == "" {
			continue
		}
		pl := string(getObject(t, cl, "rec", liveKey))
		require.True(t, strings.HasPrefix(pl, "#EXTM3U\n"), pl)
		require.NotContains(t, pl, "#EXT-X-ENDLIST")
		for _, uri := range playlistURIs(pl) {
			_, err := cl.StatObject(context.Background(), "rec", path.Join(path.Dir(liveKey), uri), minio.StatObjectOptions{})
			require.NoError(t, err, "the live playlist references %s, which is not stored", uri)
		}
		sizes[strings.Count(pl, "#EXTINF:")] = true
	}
	require.GreaterOrEqual(t, len(sizes), 3, "the live playlist grew while recording: %v", sizes)

	waitHuaweiCount(t, hw, "RECORD_OVER", 1, 60*time.Second)
	files := storedFiles(t, ta, "s3", "cam")
	require.Len(t, files, 3)
	dir := t.TempDir()
	cfgs := s3Rule("s3", "rec").Formats
	for _, f := range files {
		require.Equal(t, "oss-cn-shanghai.aliyuncs.com", f.Endpoint, "the rule's name for the endpoint")
		require.Equal(t, "rec", f.Bucket)
		var cfg recording.FormatConfig
		for _, c := range cfgs {
			if c.Format == f.Format {
				cfg = c
			}
		}
		want := upload.RenderName(cfg.ObjectTemplate, upload.NameVars{App: "s3", Stream: "cam", Format: string(f.Format),
			Start: f.StartedAt, End: *f.EndedAt}) + upload.Extension(string(f.Format))
		require.Equal(t, want, f.ObjectKey, "the object is under its templated key")
		p := downloadRecording(t, cl, "rec", f.ObjectKey, dir)
		v, _, _ := checkClean(t, p, fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
		require.Equal(t, 900, v, f.Format)
	}
	_, err := cl.StatObject(context.Background(), "rec", liveKey, minio.StatObjectOptions{})
	require.Error(t, err, "the live playlist is gone once the final one is stored")

	var urls int
	for _, r := range hw.snapshot() {
		if r.body["event_type"] != "RECORD_FILE_COMPLETE" {
			continue
		}
		u, _ := r.body["download_url"].(string)
		require.NotEmpty(t, u)
		resp, err := http.Get(u)
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", u, got)
		key := r.body["obs_object"].(string)
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(key)))
		require.NoError(t, err)
		if strings.HasSuffix(key, ".m3u8") {
			// Through liverec, with each slice presigned (issue 15).
			requireServedPlaylist(t, string(got), string(b))
			urls++
			continue
		}
		require.True(t, bytes.Equal(getObject(t, cl, "rec", key), got), "download_url of %s serves the object", key)
		require.True(t, bytes.Equal(b, got), "the object ffprobe validated is the one served")
		urls++
	}
	require.Equal(t, 3, urls)
}

// TestS3OutageLosesNothing is acceptance 3 of §8: the S3 server stops mid-recording and comes
// back once the recording's files have queued behind it and kept failing; every object is
// stored in the end and each file event follows its upload.
func TestS3OutageLosesNothing(t *testing.T) {
	t.Parallel()
	s3 := testutil.StartS3(t)
	s3.MakeBucket(t, "rec")
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 20})
	ta := startApp(t, s3Config(s3, s3.SecretKey, ""))
	ta.putRule(t, s3Rule("outage", "rec"))
	_, hw := addCallbacks(t, ta, "outage")
	pub := ffmpegPublisher(t, src, ta.rtmpURL("outage/cam"))
	require.NoError(t, pub.Start())
	// Mid-recording: the bucket goes down once it holds the first live slice.
	cl := s3.Client(t)
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for o := range cl.ListObjects(ctx, "rec", minio.ListObjectsOptions{Recursive: true}) {
			if o.Err == nil {
				return true
			}
		}
		return false
	}, 20*time.Second, 100*time.Millisecond, "no slice stored while recording")
	s3.Stop()
	require.NoError(t, pub.Wait())
	// The outage lasts until every file of the ended recording is queued and storing has
	// failed again and again since (retries back off to store_retry_max, 1 s).
	require.Eventually(t, func() bool {
		for _, f := range []string{"flv", "mp4", "hls"} {
			if ta.metric(t, `liverec_files_completed_total{format="`+f+`"}`) < 1 {
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond, "the recording's files were not completed")
	failures := ta.metric(t, "liverec_store_failures_total")
	require.Eventually(t, func() bool { return ta.metric(t, "liverec_store_failures_total") >= failures+5 },
		30*time.Second, 100*time.Millisecond, "storing does not keep failing while the bucket is down")
	require.Empty(t, huaweiTypes(hw), "no file is reported while the bucket is down")
	back := time.Now()
	s3.Start()

	waitHuaweiCount(t, hw, "RECORD_OVER", 1, 60*time.Second)
	require.Greater(t, time.Since(back), time.Duration(0))
	files := storedFiles(t, ta, "outage", "cam")
	require.Len(t, files, 3)
	dir := t.TempDir()
	for _, f := range files {
		p := downloadRecording(t, cl, "rec", f.ObjectKey, dir)
		v, _, _ := checkClean(t, p, fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
		require.Equal(t, 600, v, f.Format)
	}
	entries, err := os.ReadDir(ta.conf.Storage.Spool)
	require.NoError(t, err)
	require.Empty(t, entries, "the spool is empty once everything is stored")
}

// TestS3WrongCredentials is acceptance 4 of §8: with a wrong secret the recording is reported
// failed with the S3 error, its files stay in the spool, and a restart with the right secret
// stores them.
func TestS3WrongCredentials(t *testing.T) {
	t.Parallel()
	s3 := testutil.StartS3(t)
	s3.MakeBucket(t, "rec")
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	data := t.TempDir()
	extra := "  upload_failure_after: 2s\n"
	ta := startAppIn(t, data, s3Config(s3, "not-the-secret", extra), "2s")
	ta.putRule(t, s3Rule("creds", "rec"))
	_, hw := addCallbacks(t, ta, "creds")
	publishFFmpeg(t, src, ta.rtmpURL("creds/cam"))

	failure := waitHuaweiEvent(t, hw, "RECORD_FAILED")
	require.Contains(t, failure["error_message"], "SignatureDoesNotMatch")
	spool := ta.conf.Storage.Spool
	ta.stop(t)
	var left []string
	require.NoError(t, filepath.Walk(spool, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && filepath.Ext(p) != ".json" {
			left = append(left, p)
		}
		return err
	}))
	require.NotEmpty(t, left, "the files stay in the spool")

	ta = startAppIn(t, data, s3Config(s3, s3.SecretKey, extra), "60s")
	waitHuaweiCount(t, hw, "RECORD_FILE_COMPLETE", 3, 30*time.Second) // stored after the fix
	files := storedFiles(t, ta, "creds", "cam")
	require.Len(t, files, 3)
	cl := s3.Client(t)
	dir := t.TempDir()
	for _, f := range files {
		p := downloadRecording(t, cl, "rec", f.ObjectKey, dir)
		v, _, _ := checkClean(t, p, fileCheck{codec: "h264", width: 1280, height: 720, audio: true, video: true})
		require.Equal(t, 120, v, f.Format)
	}
}

// TestS3CollidingTemplatesDoNotOverwrite is acceptance 5 of §8: two recordings whose templates
// name the same object both land, the second under a suffixed key.
func TestS3CollidingTemplatesDoNotOverwrite(t *testing.T) {
	t.Parallel()
	s3 := testutil.StartS3(t)
	s3.MakeBucket(t, "rec")
	big := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	small := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4, Width: 640, Height: 360})
	ta := startApp(t, s3Config(s3, s3.SecretKey, ""))
	for _, app := range []string{"c1", "c2"} {
		r := s3Rule(app, "rec")
		r.Formats = r.Formats[:1] // FLV
		r.Formats[0].ObjectTemplate = "collide/same"
		ta.putRule(t, r)
	}
	done := make(chan []byte, 2)
	for app, src := range map[string]string{"c1": big, "c2": small} {
		go func() {
			out, err := ffmpegPublisher(t, src, ta.rtmpURL(app+"/cam")).CombinedOutput()
			if err != nil {
				done <- out
				return
			}
			done <- nil
		}()
	}
	require.Nil(t, <-done)
	require.Nil(t, <-done)
	require.Eventually(t, func() bool {
		return len(storedFiles(t, ta, "c1", "cam"))+len(storedFiles(t, ta, "c2", "cam")) == 2
	}, 30*time.Second, 100*time.Millisecond)
	cl := s3.Client(t)
	dir := t.TempDir()
	widths := map[int]bool{}
	for _, key := range []string{"collide/same.flv", "collide/same_1.flv"} {
		p := downloadRecording(t, cl, "rec", key, dir)
		pr := testutil.Probe(t, p)
		require.Empty(t, pr.Stderr)
		require.Equal(t, 120, pr.Video().Packets(), key)
		widths[pr.Video().Width] = true
	}
	require.Equal(t, map[int]bool{1280: true, 640: true}, widths, "both recordings kept their own object")
}

// TestS3RuleForMissingBucketRefused: a rule naming a bucket the S3 endpoint does not have is
// refused when written (liverec does not create buckets).
func TestS3RuleForMissingBucketRefused(t *testing.T) {
	t.Parallel()
	s3 := testutil.StartS3(t)
	s3.MakeBucket(t, "rec")
	ta := startApp(t, s3Config(s3, s3.SecretKey, ""))
	raw := `{"domain":"127.0.0.1","app":"nobucket","stream":"*","mode":"auto",
	  "formats":[{"format":"flv","cycle_s":0,"merge_window_s":0,"object_template":"{AppName}/{StreamName}"}],
	  "storage":{"endpoint":"cn-north-4","bucket":"%s"}}`
	resp := ta.apiRequest(t, http.MethodPost, "/api/v1/rules", strings.NewReader(fmt.Sprintf(raw, "missing")))
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, string(b))
	require.Contains(t, string(b), "storage.bucket")
	require.Contains(t, string(b), "does not exist")
	resp = ta.apiRequest(t, http.MethodPost, "/api/v1/rules", strings.NewReader(fmt.Sprintf(raw, "rec")))
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
}
