package record

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
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
// them. Jobs of one recording are handled in order, one at a time; recordings share Workers
// workers. A job that cannot be stored is retried with backoff while the worker moves on to
// other recordings; its file stays in the spool. Enqueue never blocks.
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
	// OnFailed is called once per recording whose job kept failing for FailAfter, or panicked.
	OnFailed func(recordingID string, err error)
	Logger   *slog.Logger
	Metrics  *Metrics

	once    sync.Once
	sched   *schedule
	wg      sync.WaitGroup
	mu      sync.Mutex
	slices  map[string]*livePlaylist // playlist id → its slices stored so far
	failed  map[string]bool          // recordings reported through OnFailed
	pending sync.WaitGroup
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
		f.sched = newSchedule()
	})
}

// Enqueue queues a job. It never blocks, and is safe for concurrent use.
func (f *Finisher) Enqueue(j *Job) {
	f.init()
	f.pending.Add(1)
	j.queuedAt, j.queuedBytes = time.Now(), j.Stats.Bytes
	f.Metrics.backlog(1, j.queuedBytes)
	f.sched.push(j)
}

// Run handles jobs until ctx is cancelled. Call Drain before cancelling to finish the queue.
func (f *Finisher) Run(ctx context.Context) error {
	f.init()
	for range f.Workers {
		f.wg.Go(func() {
			for q, j := f.sched.next(ctx); q != nil; q, j = f.sched.next(ctx) {
				f.work(ctx, q, j)
			}
		})
	}
	f.wg.Wait()
	f.sched.stop()
	return nil
}

// work makes one attempt at q's head job: done, or back in line after its backoff.
func (f *Finisher) work(ctx context.Context, q *recQueue, j *Job) {
	if j.Kind == JobSlice {
		// After an outage a recording's slices queue up: rewriting its live playlist for each
		// one would double the uploads, when the last one queued rewrites it with them all.
		j.liveLater = f.sched.followedBy(q, func(next *Job) bool {
			return next.Format == j.Format && (next.Kind == JobSlice && next.PlaylistSeq == j.PlaylistSeq ||
				next.Kind == JobPlaylist && next.Seq == j.PlaylistSeq)
		})
	}
	err := f.attempt(ctx, j)
	if err == nil || errors.Is(err, errDropped) || errors.Is(err, errPanicked) {
		f.Metrics.backlog(-1, -j.queuedBytes)
		f.sched.done(q)
		f.pending.Done()
		return
	}
	now := time.Now()
	if q.since.IsZero() {
		q.since, q.backoff = now, f.RetryMin
	}
	f.Metrics.storeFailed()
	f.Logger.Warn("storing file failed, will retry", "recording", j.RecordingID, "path", j.SpoolPath,
		"retry_in", q.backoff, "err", err)
	if now.Sub(q.since) >= f.FailAfter {
		f.reportFailed(j.RecordingID, err)
	}
	wait := q.backoff
	q.backoff = min(q.backoff*2, f.RetryMax)
	f.sched.retryLater(q, wait)
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

// errPanicked ends a job whose attempt panicked: a second attempt would likely panic again,
// so the job is given up and its file stays in the spool for the next start.
var errPanicked = errors.New("panicked")

// attempt runs one attempt at j. A panic is contained to the job: logged with its stack,
// counted, and its recording reported failed.
func (f *Finisher) attempt(ctx context.Context, j *Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			f.Metrics.Panicked("uploader")
			f.Logger.Error("panic while completing a file; the job is given up and its file stays in the spool",
				"recording", j.RecordingID, "path", j.SpoolPath, "panic", p, "stack", string(debug.Stack()))
			f.reportFailed(j.RecordingID, fmt.Errorf("internal error while storing %s: %v", filepath.Base(j.SpoolPath), p))
			err = errPanicked
		}
	}()
	if j.attempt == nil {
		j.attempt = f.attemptOf(ctx, j)
	}
	return j.attempt()
}

// attemptOf returns the attempt function of a job; it keeps what earlier attempts did.
func (f *Finisher) attemptOf(ctx context.Context, j *Job) func() error {
	switch j.Kind {
	case JobEnd:
		return func() error { f.end(j); return nil }
	case JobRecover:
		return f.recover(ctx, j)
	}
	return func() error {
		if err := f.prepare(j); err != nil {
			return err
		}
		return f.store(ctx, j)
	}
}

// errDropped stops retrying a job whose spool file held nothing to keep.
var errDropped = errors.New("nothing to store")

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
	// Cleaned from the root, the key is relative and clean whatever slashes a valid template
	// holds ("//x", "a//b"), which the stores refuse (found by FuzzObjectKey). Valid templates
	// and names make no ".." segment, so the key stays under the base path.
	return strings.TrimPrefix(path.Join("/", st.BasePath, RenderName(tmpl, v)+ext), "/")
}
