package record

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
}

var errBucketDown = errors.New("bucket refuses")

func (s flakyStore) Put(ctx context.Context, bucket, key, src string) (string, error) {
	if s.down.Load() {
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

// TestFinisherReportsFailureAndStoresLater: a store error that lasts FailAfter reports the
// recording failed once; the file stays in the spool, the attempts go on, and it is stored
// when the bucket recovers (§6).
func TestFinisherReportsFailureAndStoresLater(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	root := t.TempDir()
	failed := make(chan error, 4)
	stored := make(chan Stored, 4)
	f := &Finisher{
		Storage:   func(string) (ObjectStore, error) { return flakyStore{&down, &blob.Local{Root: root}}, nil },
		RetryMin:  5 * time.Millisecond,
		RetryMax:  20 * time.Millisecond,
		FailAfter: 50 * time.Millisecond,
		OnFailed: func(id string, err error) {
			failed <- fmt.Errorf("%s: %w", id, err)
		},
		OnStored: func(s Stored) { stored <- s },
	}
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
	time.Sleep(100 * time.Millisecond) // more failed attempts: still one report
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
