package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/testutil"
)

// objectRef is an object the store records for a file: its own, or one of its slices.
type objectRef struct{ endpoint, bucket, key string }

// objectsOf lists every object of the stream's files, slices included.
func objectsOf(t *testing.T, ta *testApp, files []recording.File) []objectRef {
	t.Helper()
	var out []objectRef
	for _, f := range files {
		out = append(out, objectRef{f.Endpoint, f.Bucket, f.ObjectKey})
		if f.Format != recording.FormatHLS {
			continue
		}
		sls, err := ta.store.SliceList(context.Background(), store.SliceFilter{RecordingID: f.RecordingID,
			FileSeq: f.Seq, HasFileSeq: true, Deleted: true})
		require.NoError(t, err)
		require.NotEmpty(t, sls)
		for _, sl := range sls {
			out = append(out, objectRef{sl.Endpoint, sl.Bucket, sl.ObjectKey})
		}
	}
	return out
}

// TestRetentionDeletesExpiredFilesLocalAndS3: with a 2 s retention and 200ms passes, the files
// of finished recordings on a local endpoint and on versitygw vanish after the retention, are
// deleted in the API and each sends one file_deleted to a standard receiver; a locked
// recording's files stay.
func TestRetentionDeletesExpiredFilesLocalAndS3(t *testing.T) {
	t.Parallel()
	s3 := testutil.StartS3(t)
	s3.MakeBucket(t, "ret")
	cl := s3.Client(t)
	src := testutil.RefStream(t, fixtures, testutil.RefOptions{Seconds: 4})
	ta := startApp(t, s3Config(s3, s3.SecretKey, "retention:\n  interval: 200ms\n  pace: 1ms\n"))
	const retentionS = 2
	for _, r := range []recording.Rule{cycleRule("127.0.0.1", "retl", 0, 2), s3Rule("rets", "ret"), cycleRule("127.0.0.1", "retk", 0, 2)} {
		r.RetentionS = retentionS
		ta.putRule(t, r)
	}
	std := newReceiver(t)
	resp := ta.apiRequest(t, http.MethodPost, "/api/v1/callbacks",
		strings.NewReader(`{"dialect":"standard","domain":"127.0.0.1","app":"*","url":"`+std.srv.URL+`/std"}`))
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(b))

	var wg sync.WaitGroup
	for _, app := range []string{"retl", "rets", "retk"} {
		wg.Go(func() { publishFFmpeg(t, src, ta.rtmpURL(app+"/cam")) })
	}
	// Lock retk's recording while it is live, before it can expire.
	var locked string
	require.Eventually(t, func() bool {
		recs, _, err := ta.Store().RecordingList(context.Background(), store.RecordingFilter{App: "retk"})
		require.NoError(t, err)
		if len(recs) == 0 {
			return false
		}
		locked = recs[0].ID
		return true
	}, 30*time.Second, 50*time.Millisecond)
	resp = ta.apiRequest(t, http.MethodPost, "/api/v1/recordings/"+locked+"/lock", nil)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	require.Contains(t, string(b), `"locked":true`)
	wg.Wait()

	ta.waitFiles(t, "cam", 9) // three recordings of three formats, all over
	var expiring []recording.File
	for _, app := range []string{"retl", "rets"} {
		expiring = append(expiring, storedFiles(t, ta, app, "cam")...)
	}
	require.Len(t, expiring, 6)
	objects := objectsOf(t, ta, expiring)
	keptFiles := storedFiles(t, ta, "retk", "cam")
	kept := objectsOf(t, ta, keptFiles)
	var lastEnd time.Time
	for _, f := range append(expiring, keptFiles...) {
		require.Equal(t, recording.FileStored, f.State)
		if f.EndedAt.After(lastEnd) {
			lastEnd = *f.EndedAt
		}
	}

	exists := func(o objectRef) bool {
		if o.endpoint == "local" {
			_, err := os.Stat(ta.objectPath(recording.File{Bucket: o.bucket, ObjectKey: o.key}))
			return err == nil
		}
		_, err := cl.StatObject(context.Background(), o.bucket, o.key, minio.StatObjectOptions{})
		var er minio.ErrorResponse
		if errors.As(err, &er) && er.Code == "NoSuchKey" {
			return false
		}
		require.NoError(t, err)
		return true
	}
	// Within one pass after the retention: (recording end + 2 s) + 200ms, with slack for a
	// loaded machine.
	require.Eventually(t, func() bool {
		for _, o := range objects {
			if exists(o) {
				return false
			}
		}
		return true
	}, 20*time.Second, 50*time.Millisecond, "expired objects are deleted")
	require.WithinDuration(t, lastEnd.Add(retentionS*time.Second), time.Now(), 10*time.Second)

	// Marked deleted in the API.
	deleted := map[string]bool{}
	for _, f := range expiring {
		deleted[f.RecordingID] = true
	}
	for id := range deleted {
		dr := ta.apiRequest(t, http.MethodGet, "/api/v1/recordings/"+id, nil)
		var d service.RecordingDetail
		require.NoError(t, json.NewDecoder(dr.Body).Decode(&d))
		dr.Body.Close()
		require.Len(t, d.Files, 3)
		for _, f := range d.Files {
			require.Equal(t, recording.FileDeleted, f.State, f.ID)
		}
	}

	// One file_deleted per file, none for the locked recording.
	want := map[string]bool{}
	for _, f := range expiring {
		want[f.ID] = true
	}
	count := func() map[string]int {
		got := map[string]int{}
		for _, r := range std.snapshot() {
			data, _ := r.body["data"].(map[string]any)
			if r.body["type"] == "recording.file_deleted" && data["reason"] == "retention" {
				got[data["file_id"].(string)]++
			}
		}
		return got
	}
	require.Eventually(t, func() bool { return len(count()) == len(want) }, 20*time.Second, 50*time.Millisecond)
	// A few more passes: nothing is deleted or reported twice, the locked files stay.
	time.Sleep(5 * 200 * time.Millisecond) // passes that must change nothing; nothing to wait for
	got := count()
	for id := range want {
		require.Equal(t, 1, got[id], id)
	}
	require.Len(t, got, len(want))
	for _, o := range kept {
		require.True(t, exists(o), o.key)
	}
	for _, f := range storedFiles(t, ta, "retk", "cam") {
		require.Equal(t, recording.FileStored, f.State)
	}

	// The admin delete of the API takes the same path: objects gone, one file_deleted each
	// (reason api), even for a locked recording.
	resp = ta.apiRequest(t, http.MethodDelete, "/api/v1/recordings/"+locked+"/files", nil)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	require.JSONEq(t, `{"deleted":3}`, string(b))
	for _, o := range kept {
		require.False(t, exists(o), o.key)
	}
	require.Eventually(t, func() bool {
		n := 0
		for _, r := range std.snapshot() {
			data, _ := r.body["data"].(map[string]any)
			if r.body["type"] == "recording.file_deleted" && data["reason"] == "api" && data["recording_id"] == locked {
				n++
			}
		}
		return n == 3
	}, 20*time.Second, 50*time.Millisecond)
}
