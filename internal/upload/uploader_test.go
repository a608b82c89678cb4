package upload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/blob"
	"github.com/liverec/liverec/internal/recording"
)

// flakyStore refuses every Put while down is set.
type flakyStore struct {
	down *atomic.Bool
	next ObjectStore
	// refused, when set, counts the Puts refused.
	refused *atomic.Int64
}

var errBucketDown = errors.New("bucket refuses")

func (s flakyStore) Put(ctx context.Context, bucket, key, src string) (string, error) {
	if s.down.Load() {
		if s.refused != nil {
			s.refused.Add(1)
		}
		return "", errBucketDown
	}
	return s.next.Put(ctx, bucket, key, src)
}

func (s flakyStore) PutBytes(ctx context.Context, bucket, key string, data []byte) (string, error) {
	if s.down.Load() {
		return "", errBucketDown
	}
	return s.next.PutBytes(ctx, bucket, key, data)
}

func (s flakyStore) Replace(ctx context.Context, bucket, key string, data []byte) error {
	if s.down.Load() {
		return errBucketDown
	}
	return s.next.Replace(ctx, bucket, key, data)
}

func (s flakyStore) Delete(ctx context.Context, bucket, key string) error {
	if s.down.Load() {
		return errBucketDown
	}
	return s.next.Delete(ctx, bucket, key)
}

// TestUploaderReportsFailureAndStoresLater: a store error that lasts FailAfter reports the
// recording failed once; the file stays in the spool, the attempts go on, and it is stored
// when the bucket recovers.
func TestUploaderReportsFailureAndStoresLater(t *testing.T) {
	var down atomic.Bool
	var refused atomic.Int64
	down.Store(true)
	root := t.TempDir()
	failed := make(chan error, 4)
	stored := make(chan Stored, 4)
	f := New(Config{
		Storage:   func(string) (ObjectStore, error) { return flakyStore{&down, &blob.Local{Root: root}, &refused}, nil },
		RetryMin:  5 * time.Millisecond,
		RetryMax:  20 * time.Millisecond,
		FailAfter: 50 * time.Millisecond,
		OnFailed: func(id string, err error) {
			failed <- fmt.Errorf("%s: %w", id, err)
		},
		OnStored: func(s Stored) { stored <- s },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	spool := filepath.Join(t.TempDir(), "1_0.flv")
	require.NoError(t, os.WriteFile(spool, []byte("recorded"), 0o644))
	f.Enqueue(&Job{Kind: JobFile, RecordingID: "rec_f", Format: recording.FormatFLV, SpoolPath: spool,
		Config: recording.FormatConfig{ObjectTemplate: "live/s"}, Storage: recording.Storage{Endpoint: "e", Bucket: "b"}})
	select {
	case err := <-failed:
		require.ErrorIs(t, err, errBucketDown)
		require.ErrorContains(t, err, "rec_f:")
	case <-time.After(10 * time.Second):
		t.Fatal("no failure reported")
	}
	n := refused.Load()
	require.Eventually(t, func() bool { return refused.Load() >= n+3 }, 10*time.Second, time.Millisecond,
		"the attempts stopped after the report")
	// More failed attempts: still one report.
	require.Empty(t, failed)
	require.Empty(t, stored)
	require.FileExists(t, spool, "the spool keeps the file while storing fails")

	down.Store(false)
	select {
	case s := <-stored:
		require.Equal(t, "live/s.flv", s.ObjectKey)
	case <-time.After(10 * time.Second):
		t.Fatal("not stored after the bucket recovered")
	}
	require.NoFileExists(t, spool)
	b, err := os.ReadFile(filepath.Join(root, "b", "live", "s.flv"))
	require.NoError(t, err)
	require.Equal(t, "recorded", string(b))
}

// endpointStores serves endpoint "down" from a store that refuses everything and every other
// endpoint from root.
func endpointStores(root string) func(string) (ObjectStore, error) {
	var down atomic.Bool
	down.Store(true)
	return func(name string) (ObjectStore, error) {
		if name == "down" {
			return flakyStore{&down, &blob.Local{Root: root}, nil}, nil
		}
		return &blob.Local{Root: root}, nil
	}
}

// TestUploaderOutageHoldsOnlyItsOwnJobs is defect 6 of the hardening issue: jobs for an endpoint
// that keeps failing must neither block Enqueue (the recorders call it on their goroutines) nor
// hold up other recordings' jobs, even with a single worker.
func TestUploaderOutageHoldsOnlyItsOwnJobs(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	stored := make(chan Stored, 16)
	f := New(Config{Storage: endpointStores(root), Workers: 1, RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond,
		OnStored: func(s Stored) {
			if s.Job.Kind == JobFile {
				stored <- s
			}
		}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	spool := t.TempDir()
	job := func(id, endpoint string, n int) *Job {
		p := filepath.Join(spool, fmt.Sprintf("%s_%d.flv", id, n))
		require.NoError(t, os.WriteFile(p, []byte("recorded"), 0o644))
		return &Job{Kind: JobFile, RecordingID: id, Format: recording.FormatFLV, SpoolPath: p,
			Config:  recording.FormatConfig{ObjectTemplate: fmt.Sprintf("%s/%d", id, n)},
			Storage: recording.Storage{Endpoint: endpoint, Bucket: "b"}}
	}
	// Far more completed files than any channel buffer held, all for the failing endpoint:
	// queuing them must return at once.
	const backlog = 5000
	jobs := make([]*Job, backlog)
	for i := range jobs {
		jobs[i] = job(fmt.Sprintf("rec_down%d", i%50), "down", i)
	}
	queued := make(chan struct{})
	go func() {
		for _, j := range jobs {
			f.Enqueue(j)
		}
		close(queued)
	}()
	select {
	case <-queued:
	case <-time.After(10 * time.Second):
		t.Fatal("Enqueue blocked behind a failing endpoint")
	}

	f.Enqueue(job("rec_up", "up", 1))
	select {
	case s := <-stored:
		require.Equal(t, "rec_up/1.flv", s.ObjectKey)
	case <-time.After(10 * time.Second):
		t.Fatal("a healthy endpoint's job waited behind the failing one")
	}
	require.FileExists(t, jobs[0].SpoolPath, "the failing endpoint's files stay in the spool")
}

// TestUploaderNamesInItsTimeZone: recording.time_zone reaches the names: {StartTime}-style
// variables render in the Uploader's Location, {UnixTimestamp} stays the same instant, and
// without a Location names are in UTC as before.
func TestUploaderNamesInItsTimeZone(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 21, 20, 5, 7, 0, time.UTC)
	for _, tc := range []struct {
		loc  *time.Location
		want string
	}{
		{nil, "2026-11-21-20:05:07/2026-11-21-20-05-07_2026-11-21-20-15-07/1795291507.flv"},
		{time.UTC, "2026-11-21-20:05:07/2026-11-21-20-05-07_2026-11-21-20-15-07/1795291507.flv"},
		{time.FixedZone("CST", 8*3600), "2026-11-22-04:05:07/2026-11-22-04-05-07_2026-11-22-04-15-07/1795291507.flv"},
		{time.FixedZone("BRT", -3*3600), "2026-11-21-17:05:07/2026-11-21-17-05-07_2026-11-21-17-15-07/1795291507.flv"},
	} {
		root := t.TempDir()
		stored := make(chan Stored, 1)
		u := New(Config{Storage: func(string) (ObjectStore, error) { return &blob.Local{Root: root}, nil }, Location: tc.loc,
			OnStored: func(s Stored) { stored <- s }})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { u.Run(ctx); close(done) }()
		p := filepath.Join(t.TempDir(), "0_0.flv")
		require.NoError(t, os.WriteFile(p, []byte("recorded"), 0o644))
		u.Enqueue(&Job{Kind: JobFile, RecordingID: "rec_z", Format: recording.FormatFLV, SpoolPath: p,
			Config:  recording.FormatConfig{ObjectTemplate: "{StartTime}/{EscapedStartTime}_{EscapedEndTime}/{UnixTimestamp}"},
			Storage: recording.Storage{Endpoint: "e", Bucket: "b"},
			Vars:    NameVars{Format: "flv", Start: start, End: start.Add(10 * time.Minute)}})
		s := <-stored
		cancel()
		<-done
		require.Equal(t, tc.want, s.ObjectKey, tc.loc)
		require.FileExists(t, filepath.Join(root, "b", tc.want))
	}
}
