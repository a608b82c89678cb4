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

	"github.com/liverec/liverec/internal/record/mp4"
	"github.com/liverec/liverec/internal/recording"
)

// ObjectStore is where completed files land (a bucket on some endpoint).
type ObjectStore interface {
	// Put stores the file at srcPath under bucket/key, never overwriting an existing object,
	// and returns the key actually used. The source file may be consumed (moved).
	Put(ctx context.Context, bucket, key, srcPath string) (string, error)
	// PutBytes stores data under bucket/key the same way.
	PutBytes(ctx context.Context, bucket, key string, data []byte) (string, error)
	// Replace writes data under bucket/key, replacing what is there (the live playlist).
	Replace(ctx context.Context, bucket, key string, data []byte) error
	// Delete removes bucket/key; a missing object is not an error.
	Delete(ctx context.Context, bucket, key string) error
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
	// FailAfter is how long a job may keep failing before its recording is reported failed
	// through OnFailed (§6); the job is still retried. Default 10 min.
	FailAfter time.Duration
	// OnFailed is called once per recording whose job kept failing for FailAfter.
	OnFailed func(recordingID string, err error)
	Logger   *slog.Logger
	Metrics  *Metrics

	once    sync.Once
	queues  []chan *Job
	wg      sync.WaitGroup
	mu      sync.Mutex
	slices  map[string]*livePlaylist // playlist id → its slices stored so far
	failed  map[string]bool          // recordings reported through OnFailed
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
		if f.FailAfter <= 0 {
			f.FailAfter = 10 * time.Minute
		}
		f.slices = make(map[string]*livePlaylist)
		f.failed = make(map[string]bool)
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
	j.queuedAt, j.queuedBytes = time.Now(), j.Stats.Bytes
	f.Metrics.backlog(1, j.queuedBytes)
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
					f.Metrics.backlog(-1, -j.queuedBytes)
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
	switch j.Kind {
	case JobEnd:
		f.end(j)
		return
	case JobRecover:
		f.recover(ctx, j)
		return
	}
	f.prepareAndStore(ctx, j)
}

// prepareAndStore makes a completed file final in the spool and stores it, retrying both.
func (f *Finisher) prepareAndStore(ctx context.Context, j *Job) {
	f.retry(ctx, j, func() error {
		if err := f.prepare(j); err != nil {
			return err
		}
		return f.store(ctx, j)
	})
}

// errDropped stops retrying a job whose spool file held nothing to keep.
var errDropped = errors.New("nothing to store")

// retry runs attempt until it succeeds, with backoff; the spool file stays meanwhile (§8: a
// spool file is deleted only after its upload is confirmed). After FailAfter of failures the
// recording is reported failed, and the attempts go on.
func (f *Finisher) retry(ctx context.Context, j *Job, attempt func() error) {
	backoff := f.RetryMin
	var since time.Time
	for {
		err := attempt()
		if err == nil || errors.Is(err, errDropped) {
			return
		}
		now := time.Now()
		if since.IsZero() {
			since = now
		}
		f.Metrics.storeFailed()
		f.Logger.Warn("storing file failed, will retry", "recording", j.RecordingID, "path", j.SpoolPath,
			"retry_in", backoff, "err", err)
		if now.Sub(since) >= f.FailAfter {
			f.reportFailed(j.RecordingID, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, f.RetryMax)
	}
}

func (f *Finisher) reportFailed(id string, err error) {
	f.mu.Lock()
	first := !f.failed[id]
	f.failed[id] = true
	f.mu.Unlock()
	if first && f.OnFailed != nil {
		f.OnFailed(id, err)
	}
}

// end reports the end of a recording and removes its spool directory once nothing in it is
// left to store (what could not be stored stays for the next start).
func (f *Finisher) end(j *Job) {
	f.mu.Lock()
	delete(f.failed, j.RecordingID)
	f.mu.Unlock()
	if f.OnStored != nil {
		f.OnStored(Stored{Job: j})
	}
	if j.SpoolPath == "" {
		return
	}
	if spoolHasMedia(j.SpoolPath) {
		f.Logger.Warn("recording ended with files left in the spool", "recording", j.RecordingID, "dir", j.SpoolPath)
		return
	}
	if err := os.RemoveAll(j.SpoolPath); err != nil {
		f.Logger.Warn("removing recording spool dir", "dir", j.SpoolPath, "err", err)
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
		// The fragmented file stays until the regular one is stored: a crash before that
		// finalizes it again at the next start.
		dst := strings.TrimSuffix(j.SpoolPath, filepath.Ext(j.SpoolPath)) + ".mp4"
		st, err := mp4.Finalize(j.SpoolPath, dst)
		if errors.Is(err, mp4.ErrNothingToRecover) {
			f.Logger.Warn("dropping an MP4 file without a complete fragment", "path", j.SpoolPath)
			os.Remove(j.SpoolPath)
			return errDropped
		}
		if err != nil {
			return fmt.Errorf("finalize mp4: %w", err)
		}
		if j.recovered {
			j.setStats(FileStats(st))
			f.Metrics.fileRecovered()
		}
		j.fragmented, j.SpoolPath = j.SpoolPath, dst
		j.finalizeMP4 = false
	}
	return nil
}

func (f *Finisher) store(ctx context.Context, j *Job) error {
	st, err := f.Storage(j.Storage.Endpoint)
	if err != nil {
		return err
	}
	var key string
	switch j.Kind {
	case JobFile:
		key, err = st.Put(ctx, j.Storage.Bucket, f.objectKey(j, j.Config.ObjectTemplate, Extension(string(j.Format))), j.SpoolPath)
		if err == nil && j.fragmented != "" {
			if rerr := os.Remove(j.fragmented); rerr != nil {
				f.Logger.Warn("removing stored fragmented mp4", "path", j.fragmented, "err", rerr)
			}
		}
	case JobSlice:
		key, err = f.putSlice(ctx, st, j)
		if err == nil {
			f.sliceStored(ctx, st, j, key)
		}
	case JobPlaylist:
		key, err = f.storePlaylist(ctx, st, j)
	}
	if err != nil {
		return fmt.Errorf("store %s: %w", j.SpoolPath, err)
	}
	f.Logger.Info("file stored", "recording", j.RecordingID, "format", j.Format, "kind", j.Kind,
		"bucket", j.Storage.Bucket, "key", key)
	f.Metrics.stored(j.queuedAt)
	if f.OnStored != nil {
		f.OnStored(Stored{Job: j, Endpoint: j.Storage.Endpoint, Bucket: j.Storage.Bucket, ObjectKey: key})
	}
	return nil
}

func (f *Finisher) objectKey(j *Job, tmpl, ext string) string {
	return objectKey(j.Storage, tmpl, j.Vars, ext)
}

func objectKey(st recording.Storage, tmpl string, v NameVars, ext string) string {
	name := RenderName(tmpl, v) + ext
	if st.BasePath != "" {
		name = path.Join(st.BasePath, name)
	}
	return strings.TrimPrefix(name, "/")
}
