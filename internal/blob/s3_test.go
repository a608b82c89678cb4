package blob_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/blob"
	"github.com/liverec/liverec/internal/blob/blobtest"
	"github.com/liverec/liverec/internal/testutil"
)

const mib = 1 << 20

// s3env is one versitygw server shared by the subtests of a test, each in its own bucket.
type s3env struct {
	srv     *testutil.S3Server
	client  *minio.Client
	buckets atomic.Int32
}

func newS3Env(t *testing.T) *s3env {
	t.Helper()
	srv := testutil.StartS3(t)
	return &s3env{srv: srv, client: srv.Client(t)}
}

func (e *s3env) bucket(t *testing.T) string {
	name := fmt.Sprintf("bucket-%03d", e.buckets.Add(1))
	e.srv.MakeBucket(t, name)
	return name
}

// store returns an endpoint of the server, unlimited, changed by mod.
func (e *s3env) store(t *testing.T, mod func(*blob.S3Config)) *blob.S3 {
	cfg := blob.S3Config{Name: "s3", URL: e.srv.URL, Region: "us-east-1", AccessKey: e.srv.AccessKey,
		SecretKey: e.srv.SecretKey, PathStyle: true, Timeout: 10 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	s, err := blob.NewS3(cfg)
	require.NoError(t, err)
	return s
}

func (e *s3env) read(t *testing.T, bucket, key string) ([]byte, bool) {
	t.Helper()
	obj, err := e.client.GetObject(t.Context(), bucket, key, minio.GetObjectOptions{})
	require.NoError(t, err)
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if blob.S3Code(err) == minio.NoSuchKey {
		return nil, false
	}
	require.NoError(t, err)
	return b, true
}

func randomFile(t *testing.T, size int, seed uint64) (string, []byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	data := make([]byte, size)
	for i := 0; i+8 <= size; i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	p := filepath.Join(t.TempDir(), "spool.mp4")
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p, data
}

func readSidecar(t *testing.T, src string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(src + blob.SidecarSuffix)
	require.NoError(t, err)
	var sc map[string]any
	require.NoError(t, json.Unmarshal(b, &sc))
	return sc
}

// waitFor polls cond every 10 ms for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// partsOf lists the parts the server holds for an upload (-1 when it is gone).
func (e *s3env) partsOf(t *testing.T, bucket, key, uploadID string) int {
	core := minio.Core{Client: e.client}
	res, err := core.ListObjectParts(t.Context(), bucket, key, uploadID, 0, 1000)
	if blob.S3Code(err) == "NoSuchUpload" {
		return -1
	}
	require.NoError(t, err)
	return len(res.ObjectParts)
}

func (e *s3env) requireNoUploads(t *testing.T, bucket string) {
	t.Helper()
	core := minio.Core{Client: e.client}
	res, err := core.ListMultipartUploads(t.Context(), bucket, "", "", "", "", 1000)
	require.NoError(t, err)
	require.Empty(t, res.Uploads, "no multipart upload left behind")
}

func TestS3(t *testing.T) {
	e := newS3Env(t)

	t.Run("Contract", func(t *testing.T) {
		blobtest.Exercise(t, func(t *testing.T) blobtest.Target {
			return blobtest.Target{Store: e.store(t, nil), Bucket: e.bucket(t), MissingBucket: "no-such-bucket", Read: e.read}
		})
	})

	// A file over PartSize goes up in parts and comes back byte for byte; the object carries
	// its content type.
	t.Run("MultipartRoundTrip", func(t *testing.T) {
		t.Parallel()
		bucket := e.bucket(t)
		s := e.store(t, func(c *blob.S3Config) { c.PartSize = 5 * mib })
		src, data := randomFile(t, 21*mib+123, 1)
		k, err := s.Put(t.Context(), bucket, "live/big.mp4", src)
		require.NoError(t, err)
		require.Equal(t, "live/big.mp4", k)
		got, ok := e.read(t, bucket, k)
		require.True(t, ok)
		require.True(t, bytes.Equal(data, got), "byte-identical")
		require.NoFileExists(t, src)
		require.NoFileExists(t, src+blob.SidecarSuffix)
		require.EqualValues(t, len(data), s.BytesSent(), "each byte read once")
		info, err := e.client.StatObject(t.Context(), bucket, k, minio.StatObjectOptions{})
		require.NoError(t, err)
		require.Equal(t, "video/mp4", info.ContentType)
		require.True(t, strings.HasSuffix(info.ETag, "-5"), "a 5-part upload, etag %s", info.ETag)
		e.requireNoUploads(t, bucket)

		// A second large file under the same key gets a suffix, also in parts.
		src2, data2 := randomFile(t, 6*mib, 2)
		k, err = s.Put(t.Context(), bucket, "live/big.mp4", src2)
		require.NoError(t, err)
		require.Equal(t, "live/big_1.mp4", k)
		got, _ = e.read(t, bucket, k)
		require.True(t, bytes.Equal(data2, got))
	})

	// A Put cancelled mid-upload keeps its source and sidecar; the next Put resumes from the
	// parts the server holds. When the server has forgotten the upload (NoSuchUpload), the
	// next Put starts over.
	t.Run("CancelledPutResumesAndRestartsWhenUploadIsGone", func(t *testing.T) {
		t.Parallel()
		bucket := e.bucket(t)
		src, data := randomFile(t, 16*mib, 3)
		for _, gone := range []bool{false, true} {
			require.NoError(t, os.WriteFile(src, data, 0o644))
			slow := e.store(t, func(c *blob.S3Config) { c.PartSize = 5 * mib; c.Limiter = blob.NewBandwidthLimiter(16 * mib) })
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { _, err := slow.Put(ctx, bucket, "c/x.mp4", src); done <- err }()
			var uploadID, object string
			waitFor(t, "the sidecar", func() bool { _, err := os.Stat(src + blob.SidecarSuffix); return err == nil })
			sc := readSidecar(t, src)
			uploadID, object = sc["upload_id"].(string), sc["object"].(string)
			waitFor(t, "one part", func() bool { return e.partsOf(t, bucket, object, uploadID) >= 1 })
			cancel()
			require.ErrorIs(t, <-done, context.Canceled)
			require.FileExists(t, src, "a failed Put keeps its source")
			require.Equal(t, uploadID, readSidecar(t, src)["upload_id"], "and its sidecar")
			have := e.partsOf(t, bucket, object, uploadID)
			require.GreaterOrEqual(t, have, 1)
			require.Less(t, have, 4)

			if gone {
				require.NoError(t, (&minio.Core{Client: e.client}).AbortMultipartUpload(t.Context(), bucket, object, uploadID))
			}
			s := e.store(t, func(c *blob.S3Config) { c.PartSize = 5 * mib })
			k, err := s.Put(t.Context(), bucket, "c/x.mp4", src)
			require.NoError(t, err)
			require.Equal(t, object, k)
			got, _ := e.read(t, bucket, k)
			require.True(t, bytes.Equal(data, got), "byte-identical")
			if gone {
				require.EqualValues(t, len(data), s.BytesSent(), "started over")
			} else {
				// Only the missing parts (a part cut by the cancel may still have been
				// completed by the server after the listing above).
				sent := s.BytesSent()
				require.LessOrEqual(t, sent, int64(len(data)-have*5*mib), "only the missing parts are sent")
				require.GreaterOrEqual(t, sent, int64(len(data)-(have+1)*5*mib))
			}
			require.NoFileExists(t, src)
			require.NoFileExists(t, src+blob.SidecarSuffix)
			require.NoError(t, s.Delete(t.Context(), bucket, k))
		}
		e.requireNoUploads(t, bucket)
	})

	// A crash after the object was completed, before the source and sidecar were removed:
	// the next Put recognises its own object by the sidecar's token and lands nothing new.
	t.Run("PutAfterCrashPastCompletionDoesNotDuplicate", func(t *testing.T) {
		t.Parallel()
		bucket := e.bucket(t)
		for _, size := range []int{1 * mib, 6 * mib} { // one PUT, then multipart
			src, data := randomFile(t, size, uint64(size))
			s := e.store(t, func(c *blob.S3Config) { c.PartSize = 5 * mib; c.Limiter = blob.NewBandwidthLimiter(8 * mib) })
			done := make(chan error, 1)
			go func() { _, err := s.Put(t.Context(), bucket, "done/x.flv", src); done <- err }()
			var sidecar []byte
			waitFor(t, "the sidecar", func() bool {
				b, err := os.ReadFile(src + blob.SidecarSuffix)
				sidecar = b
				return err == nil
			})
			require.NoError(t, <-done)
			// Bring back what the crash would have left: the source and its sidecar.
			require.NoError(t, os.WriteFile(src, data, 0o644))
			require.NoError(t, os.WriteFile(src+blob.SidecarSuffix, sidecar, 0o644))
			s2 := e.store(t, nil)
			k, err := s2.Put(t.Context(), bucket, "done/x.flv", src)
			require.NoError(t, err)
			require.Equal(t, "done/x.flv", k, "size %d", size)
			require.Zero(t, s2.BytesSent(), "nothing sent again")
			ok, err := s2.Exists(t.Context(), bucket, "done/x_1.flv")
			require.NoError(t, err)
			require.False(t, ok, "no duplicate")
			require.NoFileExists(t, src)
			require.NoFileExists(t, src+blob.SidecarSuffix)

			// A crash between the removal of the source and of the sidecar: the Put of the
			// missing source reports the object stored.
			require.NoError(t, os.WriteFile(src+blob.SidecarSuffix, sidecar, 0o644))
			k, err = s2.Put(t.Context(), bucket, "done/x.flv", src)
			require.NoError(t, err)
			require.Equal(t, "done/x.flv", k)
			require.NoFileExists(t, src+blob.SidecarSuffix)
			require.Zero(t, s2.BytesSent())
			require.NoError(t, s2.Delete(t.Context(), bucket, k))
		}
	})

	// Another process (another S3 value: its own in-process reservations) lands the key while
	// an upload is under way: the conditional write (If-None-Match: *) refuses to overwrite it
	// and the upload goes to key_1, for one PUT and for multipart.
	t.Run("ConditionalWriteKeepsAnotherProcessesObject", func(t *testing.T) {
		t.Parallel()
		bucket := e.bucket(t)
		// The server itself refuses a conditional PUT over an existing object.
		_, err := e.client.PutObject(t.Context(), bucket, "cond", strings.NewReader("1"), 1, minio.PutObjectOptions{})
		require.NoError(t, err)
		opts := minio.PutObjectOptions{}
		opts.SetMatchETagExcept("*")
		_, err = e.client.PutObject(t.Context(), bucket, "cond", strings.NewReader("2"), 1, opts)
		require.Equal(t, minio.PreconditionFailed, blob.S3Code(err))

		for i, size := range []int{2 * mib, 7 * mib} {
			key := fmt.Sprintf("race/%d.flv", i)
			src, data := randomFile(t, size, uint64(10+i))
			a := e.store(t, func(c *blob.S3Config) { c.PartSize = 5 * mib; c.Limiter = blob.NewBandwidthLimiter(10 * mib) })
			b := e.store(t, nil)
			done := make(chan error, 1)
			var used string
			go func() {
				var err error
				used, err = a.Put(t.Context(), bucket, key, src)
				done <- err
			}()
			waitFor(t, "the sidecar", func() bool { _, err := os.Stat(src + blob.SidecarSuffix); return err == nil })
			k, err := b.PutBytes(t.Context(), bucket, key, []byte("the other process"))
			require.NoError(t, err)
			require.Equal(t, key, k, "b found the key free: a has not landed yet")
			require.NoError(t, <-done)
			require.Equal(t, strings.TrimSuffix(key, ".flv")+"_1.flv", used)
			got, _ := e.read(t, bucket, key)
			require.Equal(t, "the other process", string(got), "not overwritten")
			got, _ = e.read(t, bucket, used)
			require.True(t, bytes.Equal(data, got))
		}
		e.requireNoUploads(t, bucket)
	})

	// The bandwidth limit holds, and is one budget for the endpoints that share it: 10 MiB at
	// 20 MiB/s, split over two endpoints, takes at least 0.4 s (about 0.5).
	t.Run("BandwidthLimits", func(t *testing.T) {
		t.Parallel()
		bucket := e.bucket(t)
		lim := blob.NewBandwidthLimiter(20 * mib)
		s := e.store(t, func(c *blob.S3Config) { c.Limiter = lim })
		s2 := e.store(t, func(c *blob.S3Config) { c.Limiter = lim })
		src, _ := randomFile(t, 5*mib, 4)
		src2, _ := randomFile(t, 5*mib, 5)
		start := time.Now()
		var wg sync.WaitGroup
		wg.Go(func() { _, err := s.Put(t.Context(), bucket, "bw.flv", src); assert.NoError(t, err) })
		wg.Go(func() { _, err := s2.Put(t.Context(), bucket, "bw2.flv", src2); assert.NoError(t, err) })
		wg.Wait()
		el := time.Since(start)
		require.GreaterOrEqual(t, el, 400*time.Millisecond)
		t.Logf("10 MiB at 20 MiB/s: %v", el)
		require.EqualValues(t, 10*mib, s.BytesSent()+s2.BytesSent())
	})

	t.Run("WrongCredentialsNameTheS3Code", func(t *testing.T) {
		t.Parallel()
		bucket := e.bucket(t)
		for code, mod := range map[string]func(*blob.S3Config){
			"InvalidAccessKeyId":    func(c *blob.S3Config) { c.AccessKey = "NOSUCHKEY" },
			"SignatureDoesNotMatch": func(c *blob.S3Config) { c.SecretKey = "wrong-secret" },
		} {
			s := e.store(t, mod)
			src, _ := randomFile(t, 1000, 5)
			_, err := s.Put(t.Context(), bucket, "live/a.flv", src)
			require.ErrorContains(t, err, code)
			require.ErrorContains(t, err, "s3 put "+bucket+"/live/a.flv")
			require.Equal(t, code, blob.S3Code(err))
			require.FileExists(t, src)
			_, err = s.PutBytes(t.Context(), bucket, "live/a.flv", []byte("x"))
			require.ErrorContains(t, err, code)
			_, err = s.BucketExists(t.Context(), bucket)
			require.ErrorContains(t, err, code, "BucketExists reports the code, not a bodiless 403")
			_, err = s.Exists(t.Context(), bucket, "live/a.flv")
			require.ErrorContains(t, err, code)
			require.ErrorContains(t, s.Replace(t.Context(), bucket, "live/a.m3u8", []byte("x")), code)
			require.ErrorContains(t, s.Delete(t.Context(), bucket, "live/a.flv"), code)
		}
	})

	t.Run("MissingBucketIsNoSuchBucket", func(t *testing.T) {
		t.Parallel()
		s := e.store(t, func(c *blob.S3Config) { c.PartSize = 5 * mib })
		for _, size := range []int{10, 6 * mib} {
			src, _ := randomFile(t, size, 6)
			_, err := s.Put(t.Context(), "missing-bucket", "live/a.flv", src)
			require.ErrorContains(t, err, "NoSuchBucket")
			require.ErrorContains(t, err, "s3 put missing-bucket/live/a.flv")
			require.FileExists(t, src)
		}
		_, err := s.Exists(t.Context(), "missing-bucket", "a.flv")
		require.ErrorContains(t, err, "NoSuchBucket")
		_, err = s.PutBytes(t.Context(), "missing-bucket", "a.flv", []byte("x"))
		require.ErrorContains(t, err, "NoSuchBucket")
		require.ErrorContains(t, s.Replace(t.Context(), "missing-bucket", "a.m3u8", []byte("x")), "NoSuchBucket")
		ok, err := s.BucketExists(t.Context(), "missing-bucket")
		require.NoError(t, err)
		require.False(t, ok)
	})

	t.Run("PresignedURLIsFetchable", func(t *testing.T) {
		t.Parallel()
		bucket := e.bucket(t)
		s := e.store(t, func(c *blob.S3Config) { c.PublicURL = c.URL + "/" }) // the same as URL: presign
		src, data := randomFile(t, 100_000, 7)
		k, err := s.Put(t.Context(), bucket, "live/a b+c.flv", src)
		require.NoError(t, err)
		u, err := s.URL(t.Context(), bucket, k, time.Minute)
		require.NoError(t, err)
		require.Contains(t, u, "X-Amz-Signature=")
		require.Contains(t, u, "X-Amz-Expires=60")
		resp, err := http.Get(u)
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(got))
		require.True(t, bytes.Equal(data, got))
		require.Equal(t, "video/x-flv", resp.Header.Get("Content-Type"))

		// Unsigned, the server refuses it.
		resp, err = http.Get(strings.Split(u, "?")[0])
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
	})

	t.Run("PublicURLFormats", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct {
			public    string
			pathStyle bool
			want      string
		}{
			{"https://media.example.com", true, "https://media.example.com/bkt/live/a%20b/%E7%9B%B4.flv"},
			{"https://media.example.com/cdn/", true, "https://media.example.com/cdn/bkt/live/a%20b/%E7%9B%B4.flv"},
			{"https://media.example.com", false, "https://bkt.media.example.com/live/a%20b/%E7%9B%B4.flv"},
			{"http://media.example.com:8080/cdn", false, "http://bkt.media.example.com:8080/cdn/live/a%20b/%E7%9B%B4.flv"},
		} {
			s := e.store(t, func(cfg *blob.S3Config) { cfg.PublicURL, cfg.PathStyle = c.public, c.pathStyle })
			u, err := s.URL(t.Context(), "bkt", "live/a b/直.flv", time.Hour)
			require.NoError(t, err)
			require.Equal(t, c.want, u)
		}
	})

	t.Run("ConfigIsChecked", func(t *testing.T) {
		t.Parallel()
		for _, cfg := range []blob.S3Config{
			{URL: "ftp://x"}, {URL: "http://"}, {URL: "http://h/path"}, {URL: "http://h", PartSize: 1 << 20},
			{URL: "http://h", PublicURL: "media.example.com"},
		} {
			_, err := blob.NewS3(cfg)
			require.Error(t, err, "%+v", cfg)
		}
	})
}

// TestS3ResumesAfterKill: a process uploading a large file is killed (SIGKILL) after two
// parts; a Put of the same source in another process sends only the missing parts, and the
// object is byte-identical.
func TestS3ResumesAfterKill(t *testing.T) {
	if os.Getenv("LIVEREC_BLOB_CRASH_CHILD") != "" {
		return // the child's work is done by TestS3CrashChild
	}
	e := newS3Env(t)
	bucket := e.bucket(t)
	const partSize = 5 * mib
	src, data := randomFile(t, 22*mib+5, 8)

	cmd := exec.Command(os.Args[0], "-test.run=^TestS3CrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LIVEREC_BLOB_CRASH_CHILD=1",
		"CHILD_URL="+e.srv.URL, "CHILD_ACCESS="+e.srv.AccessKey, "CHILD_SECRET="+e.srv.SecretKey,
		"CHILD_BUCKET="+bucket, "CHILD_SRC="+src, "CHILD_PART="+strconv.Itoa(partSize))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })

	waitFor(t, "the child's sidecar", func() bool { _, err := os.Stat(src + blob.SidecarSuffix); return err == nil })
	sc := readSidecar(t, src)
	uploadID, object := sc["upload_id"].(string), sc["object"].(string)
	require.NotEmpty(t, uploadID)
	require.EqualValues(t, partSize, sc["part_size"])
	waitFor(t, "two parts", func() bool {
		select {
		case <-exited:
			t.Fatalf("the child ended before the kill: %s", out.String())
		default:
		}
		return e.partsOf(t, bucket, object, uploadID) >= 2
	})
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	<-exited
	have := e.partsOf(t, bucket, object, uploadID)
	require.GreaterOrEqual(t, have, 2)
	require.Less(t, have, 5, "killed before the end")

	s := e.store(t, func(c *blob.S3Config) { c.PartSize = 16 * mib }) // the sidecar's part size wins
	k, err := s.Put(t.Context(), bucket, "live/crash.mp4", src)
	require.NoError(t, err)
	require.Equal(t, "live/crash.mp4", k)
	got, _ := e.read(t, bucket, k)
	require.True(t, bytes.Equal(data, got), "byte-identical")
	sent := s.BytesSent()
	// Only what the server lacked: at most the file less two parts (a part in flight at the
	// kill may have been completed after the listing above).
	require.LessOrEqual(t, sent, int64(len(data)-2*partSize))
	require.GreaterOrEqual(t, sent, int64(len(data)-(have+1)*partSize))
	t.Logf("killed with %d parts on the server; resumed with %d of %d bytes", have, sent, len(data))
	require.NoFileExists(t, src)
	require.NoFileExists(t, src+blob.SidecarSuffix)
	e.requireNoUploads(t, bucket)
}

// TestS3CrashChild is the process TestS3ResumesAfterKill kills: a slow Put.
func TestS3CrashChild(t *testing.T) {
	if os.Getenv("LIVEREC_BLOB_CRASH_CHILD") == "" {
		return // only as TestS3ResumesAfterKill's child
	}
	part, _ := strconv.Atoi(os.Getenv("CHILD_PART"))
	s, err := blob.NewS3(blob.S3Config{URL: os.Getenv("CHILD_URL"), Region: "us-east-1",
		AccessKey: os.Getenv("CHILD_ACCESS"), SecretKey: os.Getenv("CHILD_SECRET"), PathStyle: true,
		PartSize: int64(part), Limiter: blob.NewBandwidthLimiter(8 * mib)})
	require.NoError(t, err)
	_, err = s.Put(context.Background(), os.Getenv("CHILD_BUCKET"), "live/crash.mp4", os.Getenv("CHILD_SRC"))
	t.Fatalf("the child was to be killed before the end; Put returned %v", err)
}

// TestS3Outage: while the server is down every call fails with an error (no hang), the
// source stays; once it is back the same Put succeeds.
func TestS3Outage(t *testing.T) {
	e := newS3Env(t)
	bucket := e.bucket(t)
	s := e.store(t, nil)
	e.srv.Stop()
	src, data := randomFile(t, 1000, 9)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := s.Put(ctx, bucket, "o.flv", src)
	require.Error(t, err)
	require.ErrorContains(t, err, "s3 put "+bucket+"/o.flv")
	require.FileExists(t, src)
	_, err = s.BucketExists(ctx, bucket)
	require.Error(t, err)
	e.srv.Start()
	k, err := s.Put(ctx, bucket, "o.flv", src)
	require.NoError(t, err)
	require.Equal(t, "o.flv", k)
	got, _ := e.read(t, bucket, k)
	require.Equal(t, data, got)
}
