// Package upload moves a recording's completed files from the spool into their buckets: the
// Uploader syncs, finalizes, names and stores each job the recorder hands it, keeps HLS live
// playlists current while slices are stored, retries what a bucket refuses, and recovers
// what a crash or a failure left in the spool. The recorder produces jobs; this
// package knows nothing of it beyond the spool's layout and manifest, which both share.
package upload

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/liverec/liverec/internal/backoff"
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
	// Bytes is what was stored: the size of the file Put stored for a file or a slice (a
	// finalized MP4 is smaller than the fragmented one its writer counted), and for a playlist
	// the bytes of its slices, its media (as the clouds report an m3u8 recording's size).
	Bytes int64
}

// Config configures an Uploader; zero fields take the documented defaults.
type Config struct {
	// Storage resolves a rule's storage endpoint name.
	Storage func(endpoint string) (ObjectStore, error)
	// Workers is the number of jobs handled at once. Default 2.
	Workers int
	// RetryMin and RetryMax bound the backoff between attempts to store a job: the first retry
	// waits RetryMin, each next one twice the last, at most RetryMax (no jitter). Defaults 1 s
	// and 1 min.
	RetryMin, RetryMax time.Duration
	// OnStored is called after each object is durable in its bucket.
	OnStored func(Stored)
	// FailAfter is how long a job may keep failing before its recording is reported failed
	// through OnFailed; the job is still retried. Default 10 min.
	FailAfter time.Duration
	// OnFailed is called once per recording whose job kept failing for FailAfter, or panicked.
	OnFailed func(recordingID string, err error)
	// Location is the time zone object names render times in (recording.time_zone) when a
	// job's NameVars name none. Default UTC.
	Location *time.Location
	// FileMode is the mode of the files the uploader writes in the spool (the journal of an
	// HLS playlist's stored slices; storage.file_mode; zero: filemode.Default).
	FileMode fs.FileMode
	Logger   *slog.Logger
	Metrics  *Metrics
}

// Uploader completes jobs off the recorders' goroutines: it syncs and closes spool files,
// turns fragmented MP4 into regular MP4, names objects from the rule's templates and stores
// them. Jobs of one recording are handled in order, one at a time; recordings share Workers
// workers. A job that cannot be stored is retried with backoff while the worker moves on to
// other recordings; its file stays in the spool. Enqueue never blocks, and queues until Run
// runs.
type Uploader struct {
	Config // as New completed it; read-only

	retry   backoff.Policy
	sched   *schedule
	wg      sync.WaitGroup
	mu      sync.Mutex
	slices  map[string]*livePlaylist // playlist id → its slices stored so far
	failed  map[string]bool          // recordings reported through OnFailed
	pendMu  sync.Mutex
	pending int           // jobs queued, not handled (no WaitGroup: Drain would leave a waiter behind)
	drained chan struct{} // made by a waiting Drain, closed when pending falls to 0
}

// New returns an Uploader of cfg, its defaults filled in; Run runs it.
func New(cfg Config) *Uploader {
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.FailAfter <= 0 {
		cfg.FailAfter = 10 * time.Minute
	}
	return &Uploader{
		Config: cfg,
		retry:  backoff.Policy{Min: cfg.RetryMin, Max: cfg.RetryMax},
		slices: make(map[string]*livePlaylist),
		failed: make(map[string]bool),
		sched:  newSchedule(),
	}
}

// Enqueue queues a job. It never blocks, and is safe for concurrent use.
func (u *Uploader) Enqueue(j *Job) {
	u.pendMu.Lock()
	u.pending++
	u.pendMu.Unlock()
	j.queuedAt, j.queuedBytes = time.Now(), j.Stats.Bytes
	u.Metrics.backlog(1, j.queuedBytes)
	u.sched.push(j)
}

// Run handles jobs until ctx is cancelled and returns once its workers stopped. Call Drain
// before cancelling to finish the queue.
func (u *Uploader) Run(ctx context.Context) error {
	for range u.Workers {
		u.wg.Go(func() {
			for q, j := u.sched.next(ctx); q != nil; q, j = u.sched.next(ctx) {
				u.work(ctx, q, j)
			}
		})
	}
	u.wg.Wait()
	u.sched.stop()
	return nil
}

// work makes one attempt at q's head job: done, or back in line after its backoff.
func (u *Uploader) work(ctx context.Context, q *recQueue, j *Job) {
	if j.Kind == JobSlice {
		// After an outage a recording's slices queue up: rewriting its live playlist for each
		// one would double the uploads, when the last one queued rewrites it with them all.
		j.liveLater = u.sched.followedBy(q, func(next *Job) bool {
			return next.Format == j.Format && (next.Kind == JobSlice && next.PlaylistSeq == j.PlaylistSeq ||
				next.Kind == JobPlaylist && next.Seq == j.PlaylistSeq)
		})
	}
	err := u.attempt(ctx, j)
	if err == nil || errors.Is(err, errDropped) || errors.Is(err, errPanicked) {
		u.Metrics.backlog(-1, -j.queuedBytes)
		u.sched.done(q)
		u.pendMu.Lock()
		if u.pending--; u.pending == 0 && u.drained != nil {
			close(u.drained)
			u.drained = nil
		}
		u.pendMu.Unlock()
		return
	}
	now := time.Now()
	if q.since.IsZero() {
		q.since = now
	}
	q.failures++
	wait := u.retry.Delay(q.failures)
	u.Metrics.storeFailed()
	u.Logger.Warn("storing file failed, will retry", "recording", j.RecordingID, "path", j.SpoolPath,
		"retry_in", wait, "err", err)
	if now.Sub(q.since) >= u.FailAfter {
		u.reportFailed(j.RecordingID, err)
	}
	u.sched.retryLater(q, wait)
}

// Drain waits until every queued job was handled or ctx ends.
func (u *Uploader) Drain(ctx context.Context) error {
	u.pendMu.Lock()
	if u.pending == 0 {
		u.pendMu.Unlock()
		return nil
	}
	if u.drained == nil {
		u.drained = make(chan struct{})
	}
	done := u.drained
	u.pendMu.Unlock()
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
func (u *Uploader) attempt(ctx context.Context, j *Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			u.Metrics.Panicked("uploader")
			u.Logger.Error("panic while completing a file; the job is given up and its file stays in the spool",
				"recording", j.RecordingID, "path", j.SpoolPath, "panic", p, "stack", string(debug.Stack()))
			u.reportFailed(j.RecordingID, fmt.Errorf("internal error while storing %s: %v", filepath.Base(j.SpoolPath), p))
			err = errPanicked
		}
	}()
	if j.attempt == nil {
		j.attempt = u.attemptOf(ctx, j)
	}
	return j.attempt()
}

// attemptOf returns the attempt function of a job; it keeps what earlier attempts did.
func (u *Uploader) attemptOf(ctx context.Context, j *Job) func() error {
	switch j.Kind {
	case JobEnd:
		return func() error { u.end(j); return nil }
	case JobRecover:
		return u.recover(ctx, j)
	}
	return func() error {
		if err := u.prepare(j); err != nil {
			return err
		}
		return u.store(ctx, j)
	}
}

// errDropped stops retrying a job whose spool file held nothing to keep.
var errDropped = errors.New("nothing to store")

func (u *Uploader) reportFailed(id string, err error) {
	u.mu.Lock()
	first := !u.failed[id]
	u.failed[id] = true
	u.mu.Unlock()
	if first && u.OnFailed != nil {
		u.OnFailed(id, err)
	}
}

// end reports the end of a recording and removes its spool directory once nothing in it is
// left to store (what could not be stored stays for the next start).
func (u *Uploader) end(j *Job) {
	u.mu.Lock()
	delete(u.failed, j.RecordingID)
	u.mu.Unlock()
	if u.OnStored != nil {
		u.OnStored(Stored{Job: j})
	}
	if j.SpoolPath == "" {
		return
	}
	if spoolHasMedia(j.SpoolPath) {
		u.Logger.Warn("recording ended with files left in the spool", "recording", j.RecordingID, "dir", j.SpoolPath)
		return
	}
	if err := os.RemoveAll(j.SpoolPath); err != nil {
		u.Logger.Warn("removing recording spool dir", "dir", j.SpoolPath, "err", err)
	}
}

// prepare makes a completed file durable in the spool and in its final form.
func (u *Uploader) prepare(j *Job) error {
	if j.Unsynced != nil {
		err := errors.Join(j.Unsynced.Sync(), j.Unsynced.Close())
		j.Unsynced = nil
		if err != nil {
			return err
		}
	}
	if j.FinalizeMP4 {
		// The fragmented file stays until the regular one is stored: a crash before that
		// finalizes it again at the next start.
		dst := strings.TrimSuffix(j.SpoolPath, filepath.Ext(j.SpoolPath)) + ".mp4"
		st, err := mp4.Finalize(j.SpoolPath, dst)
		if errors.Is(err, mp4.ErrNothingToRecover) {
			u.Logger.Warn("dropping an MP4 file without a complete fragment", "path", j.SpoolPath)
			os.Remove(j.SpoolPath)
			return errDropped
		}
		if err != nil {
			return fmt.Errorf("finalize mp4: %w", err)
		}
		if j.recovered {
			j.setStats(FileStats(st))
			u.Metrics.fileRecovered()
		}
		j.fragmented, j.SpoolPath = j.SpoolPath, dst
		j.FinalizeMP4 = false
	}
	return nil
}

func (u *Uploader) store(ctx context.Context, j *Job) error {
	st, err := u.Storage(j.Storage.Endpoint)
	if err != nil {
		return err
	}
	var key string
	size := j.Stats.Bytes
	if j.Kind == JobFile || j.Kind == JobSlice {
		// Measured before Put, which may move the file away.
		fi, serr := os.Stat(j.SpoolPath)
		if serr != nil {
			return fmt.Errorf("store %s: %w", j.SpoolPath, serr)
		}
		size = fi.Size()
	}
	switch j.Kind {
	case JobFile:
		key, err = st.Put(ctx, j.Storage.Bucket, u.objectKey(j, j.Config.ObjectTemplate, Extension(string(j.Format))), j.SpoolPath)
		if err == nil && j.fragmented != "" {
			if rerr := os.Remove(j.fragmented); rerr != nil {
				u.Logger.Warn("removing stored fragmented mp4", "path", j.fragmented, "err", rerr)
			}
		}
	case JobSlice:
		key, err = u.putSlice(ctx, st, j)
		if err == nil {
			u.sliceStored(ctx, st, j, key)
		}
	case JobPlaylist:
		key, err = u.storePlaylist(ctx, st, j)
	}
	if err != nil {
		return fmt.Errorf("store %s: %w", j.SpoolPath, err)
	}
	u.Logger.Info("file stored", "recording", j.RecordingID, "format", j.Format, "kind", j.Kind,
		"bucket", j.Storage.Bucket, "key", key)
	u.Metrics.stored(j.queuedAt)
	if u.OnStored != nil {
		u.OnStored(Stored{Job: j, Endpoint: j.Storage.Endpoint, Bucket: j.Storage.Bucket, ObjectKey: key, Bytes: size})
	}
	return nil
}

// StartKey is the object key a file of format cfg.Format will have as far as its start tells:
// cfg's object template rendered with v, every end-time variable as "live" (like an HLS
// playlist's provisional key, which it is for HLS). The final key differs when the template
// uses end-time variables, or when the key is taken and the store picks another.
func (u *Uploader) StartKey(st recording.Storage, cfg recording.FormatConfig, v NameVars) string {
	return u.key(st, cfg.ObjectTemplate, liveVars(v), Extension(string(cfg.Format)))
}

// Key is the object key the uploader gives an object named from template tmpl with v and
// extension ext (before a store that finds the key taken picks another): what a rule's
// templates make of a stream, for previews.
func (u *Uploader) Key(st recording.Storage, tmpl string, v NameVars, ext string) string {
	return u.key(st, tmpl, v, ext)
}

// objectKey names j's object from template tmpl.
func (u *Uploader) objectKey(j *Job, tmpl, ext string) string {
	return u.key(j.Storage, tmpl, j.Vars, ext)
}

// key names an object, rendering times in the Uploader's time zone.
func (u *Uploader) key(st recording.Storage, tmpl string, v NameVars, ext string) string {
	if v.Location == nil {
		v.Location = u.Location
	}
	return objectKey(st, tmpl, v, ext)
}

func objectKey(st recording.Storage, tmpl string, v NameVars, ext string) string {
	// Cleaned from the root, the key is relative and clean whatever slashes a valid template
	// holds ("//x", "a//b"), which the stores refuse (found by FuzzObjectKey). Valid templates
	// and names make no ".." segment, so the key stays under the base path.
	return strings.TrimPrefix(path.Join("/", st.BasePath, RenderName(tmpl, v)+ext), "/")
}
