package upload

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/blob"
	"github.com/liverec/liverec/internal/recording"
)

// explodingStore panics in Put, as a storage driver bug would.
type explodingStore struct{ ObjectStore }

func (explodingStore) Put(context.Context, string, string, string) (string, error) {
	panic("driver bug")
}

// TestUploadPanicIsContainedToItsJob: a panic while storing one job gives that job up (its file
// stays in the spool, its recording is reported failed, the panic counted) and the Uploader
// goes on storing other recordings' files.
func TestUploadPanicIsContainedToItsJob(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	reg := prometheus.NewRegistry()
	met := NewMetrics(reg)
	failed := make(chan error, 2)
	stored := make(chan Stored, 2)
	f := New(Config{Workers: 1, Metrics: met,
		Storage: func(name string) (ObjectStore, error) {
			if name == "boom" {
				return explodingStore{&blob.Local{Root: root}}, nil
			}
			return &blob.Local{Root: root}, nil
		},
		OnFailed: func(id string, err error) { failed <- fmt.Errorf("%s: %w", id, err) },
		OnStored: func(s Stored) { stored <- s },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	spool := t.TempDir()
	job := func(id, endpoint string) *Job {
		p := filepath.Join(spool, id+".flv")
		require.NoError(t, os.WriteFile(p, []byte("recorded"), 0o644))
		return &Job{Kind: JobFile, RecordingID: id, Format: recording.FormatFLV, SpoolPath: p,
			Config: recording.FormatConfig{ObjectTemplate: id}, Storage: recording.Storage{Endpoint: endpoint, Bucket: "b"}}
	}
	boom := job("rec_boom", "boom")
	f.Enqueue(boom)
	f.Enqueue(job("rec_fine", "fine"))
	require.NoError(t, f.Drain(t.Context()), "the panicking job is given up, not retried forever")
	err := <-failed
	require.ErrorContains(t, err, "rec_boom: internal error while storing rec_boom.flv: driver bug")
	s := <-stored
	require.Equal(t, "rec_fine.flv", s.ObjectKey)
	require.FileExists(t, boom.SpoolPath, "the file stays in the spool for the next start")
	require.Equal(t, 1.0, testutil.ToFloat64(met.panics.WithLabelValues("uploader")))
}
