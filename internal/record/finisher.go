package record

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/liverec/liverec/internal/record/hls"
	"github.com/liverec/liverec/internal/record/mp4"
)

// ObjectStore is where completed files land (a bucket on some endpoint).
type ObjectStore interface {
	// Put stores the file at srcPath under bucket/key, never overwriting an existing object,
	// and returns the key actually used. The source file may be consumed (moved).
	Put(ctx context.Context, bucket, key, srcPath string) (string, error)
	// PutBytes stores data under bucket/key the same way.
	PutBytes(ctx context.Context, bucket, key string, data []byte) (string, error)
}

// Stored describes a job whose object is durable in its bucket.
type Stored struct {
	Job       *Job
	Endpoint  string
	Bucket    string
	ObjectKey string
}

// Finisher completes jobs off the recorders' goroutines: it syncs and closes spool files,
// turns fragmented MP4 into regular MP4, names objects from the rule's templates and stores
// them. Jobs of one recording are handled in order by one worker; recordings spread over
// Workers workers. A job that cannot be stored is retried; its file stays in the spool.
type Finisher struct {
	// Storage resolves a rule's storage endpoint name.
	Storage func(endpoint string) (ObjectStore, error)
	// Workers is the number of jobs handled at once. Default 2.
	Workers int
	// RetryMin and RetryMax bound the backoff between attempts to store a job. Defaults 1 s and 1 min.
	RetryMin, RetryMax time.Duration
	// OnStored is called after each object is durable in its bucket.
	OnStored func(Stored)
	Logger   *slog.Logger
	Metrics  *Metrics

	once    sync.Once
	queues  []chan *Job
	wg      sync.WaitGroup
	mu      sync.Mutex
	slices  map[string][]string // playlist id → stored slice keys, by slice seq order
	pending sync.WaitGroup
	closing chan struct{}
}

func (f *Finisher) init() {
	f.once.Do(func() {
		if f.Workers <= 0 {
			f.Workers = 2
		}
		if f.RetryMin <= 0 {
			f.RetryMin = time.Second
		}
		if f.RetryMax <= 0 {
			f.RetryMax = time.Minute
		}
		if f.Logger == nil {
			f.Logger = slog.New(slog.DiscardHandler)
		}
		f.slices = make(map[string][]string)
		f.closing = make(chan struct{})
		for range f.Workers {
			f.queues = append(f.queues, make(chan *Job, 4096))
		}
	})
}

// Enqueue queues a job. It is safe for concurrent use.
func (f *Finisher) Enqueue(j *Job) {
	f.init()
	h := fnv.New32a()
	h.Write([]byte(j.RecordingID))
	f.pending.Add(1)
	f.Metrics.backlog(1)
	f.queues[int(h.Sum32())%len(f.queues)] <- j
}

// Run handles jobs until ctx is cancelled. Call Drain before cancelling to finish the queue.
func (f *Finisher) Run(ctx context.Context) error {
	f.init()
	for _, q := range f.queues {
		f.wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-q:
					f.handle(ctx, j)
					f.Metrics.backlog(-1)
					f.pending.Done()
				}
			}
		})
	}
	f.wg.Wait()
	return nil
}

// Drain waits until every queued job was handled or ctx ends.
func (f *Finisher) Drain(ctx context.Context) error {
	f.init()
	done := make(chan struct{})
	go func() { f.pending.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("drain completion queue: %w", ctx.Err())
	}
}

func (f *Finisher) handle(ctx context.Context, j *Job) {
	if j.Kind == JobEnd {
		if f.OnStored != nil {
			f.OnStored(Stored{Job: j})
		}
		return
	}
	if err := f.prepare(j); err != nil {
		// The spool file is kept: recovery at the next start picks it up (§6).
		f.Logger.Error("preparing completed file failed", "recording", j.RecordingID, "path", j.SpoolPath, "err", err)
		f.Metrics.storeFailed()
		return
	}
	backoff := f.RetryMin
	for {
		err := f.store(ctx, j)
		if err == nil {
			return
		}
		f.Metrics.storeFailed()
		f.Logger.Warn("storing file failed, will retry", "recording", j.RecordingID, "path", j.SpoolPath,
			"retry_in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, f.RetryMax)
	}
}

// prepare makes a completed file durable in the spool and in its final form.
func (f *Finisher) prepare(j *Job) error {
	if j.sink != nil {
		err := errors.Join(j.sink.Sync(), j.sink.Close())
		j.sink = nil
		if err != nil {
			return err
		}
	}
	if j.finalizeMP4 {
		dst := strings.TrimSuffix(j.SpoolPath, filepath.Ext(j.SpoolPath)) + ".mp4"
		if _, err := mp4.Finalize(j.SpoolPath, dst); err != nil {
			return fmt.Errorf("finalize mp4: %w", err)
		}
		if err := os.Remove(j.SpoolPath); err != nil {
			return fmt.Errorf("remove fragmented mp4: %w", err)
		}
		j.SpoolPath = dst
		j.finalizeMP4 = false
	}
	return nil
}

func (f *Finisher) store(ctx context.Context, j *Job) error {
	st, err := f.Storage(j.Storage.Endpoint)
	if err != nil {
		return err
	}
	playlistID := fmt.Sprintf("%s/%s/%d", j.RecordingID, j.Format, j.PlaylistSeq)
	var key string
	switch j.Kind {
	case JobFile:
		key, err = st.Put(ctx, j.Storage.Bucket, f.objectKey(j, j.Config.ObjectTemplate, Extension(string(j.Format))), j.SpoolPath)
	case JobSlice:
		key, err = st.Put(ctx, j.Storage.Bucket, f.objectKey(j, j.Config.SliceTemplate, ".ts"), j.SpoolPath)
		if err == nil {
			f.mu.Lock()
			f.slices[playlistID] = append(f.slices[playlistID], key)
			f.mu.Unlock()
		}
	case JobPlaylist:
		playlistID = fmt.Sprintf("%s/%s/%d", j.RecordingID, j.Format, j.Seq)
		key, err = f.storePlaylist(ctx, st, j, playlistID)
	}
	if err != nil {
		return fmt.Errorf("store %s: %w", j.SpoolPath, err)
	}
	f.Logger.Info("file stored", "recording", j.RecordingID, "format", j.Format, "kind", j.Kind,
		"bucket", j.Storage.Bucket, "key", key)
	if f.OnStored != nil {
		f.OnStored(Stored{Job: j, Endpoint: j.Storage.Endpoint, Bucket: j.Storage.Bucket, ObjectKey: key})
	}
	return nil
}

func (f *Finisher) storePlaylist(ctx context.Context, st ObjectStore, j *Job, playlistID string) (string, error) {
	f.mu.Lock()
	keys := f.slices[playlistID]
	f.mu.Unlock()
	if len(keys) != len(j.Slices) {
		return "", fmt.Errorf("playlist has %d slices but %d were stored", len(j.Slices), len(keys))
	}
	key := f.objectKey(j, j.Config.ObjectTemplate, ".m3u8")
	uris := make([]string, len(keys))
	for i, k := range keys {
		rel, err := filepath.Rel(path.Dir(key), k)
		if err != nil {
			return "", fmt.Errorf("relative slice uri: %w", err)
		}
		uris[i] = filepath.ToSlash(rel)
	}
	stored, err := st.PutBytes(ctx, j.Storage.Bucket, key, hls.Playlist(j.Slices, uris, true))
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	delete(f.slices, playlistID)
	f.mu.Unlock()
	// The spool copy of the playlist is no longer needed once the bucket has the final one.
	if len(j.Slices) > 0 {
		os.RemoveAll(filepath.Dir(j.Slices[0].Path))
	}
	return stored, nil
}

func (f *Finisher) objectKey(j *Job, tmpl, ext string) string {
	name := RenderName(tmpl, j.Vars) + ext
	if j.Storage.BasePath != "" {
		name = path.Join(j.Storage.BasePath, name)
	}
	return strings.TrimPrefix(name, "/")
}
