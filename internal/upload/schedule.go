package upload

import (
	"context"
	"sync"
	"time"
)

// schedule orders the Uploader's jobs: each recording's jobs run one at a time in the order
// they were queued (slices before their playlist, files before the end), recordings take turns,
// and a recording whose head job failed waits out its backoff off the workers. So a failing
// endpoint holds only its own recordings' jobs, and Enqueue never blocks: the queue lives in
// memory as small job descriptors while the files themselves wait in the spool.
type schedule struct {
	mu     sync.Mutex
	queues map[string]*recQueue // recording id → its jobs
	ready  []*recQueue          // recordings whose head job may run now, oldest first
	timers map[*recQueue]*time.Timer
	// wake is signalled when ready grows; a worker that takes a recording passes the signal on
	// while more are ready.
	wake chan struct{}
}

type recQueue struct {
	id   string
	jobs []*Job
	// busy: ready, running or waiting out a backoff (not idle).
	busy bool
	// failures counts the head job's failed attempts; since is when it first failed.
	failures int
	since    time.Time
}

func newSchedule() *schedule {
	return &schedule{queues: map[string]*recQueue{}, timers: map[*recQueue]*time.Timer{}, wake: make(chan struct{}, 1)}
}

// push appends j to its recording's queue.
func (s *schedule) push(j *Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[j.RecordingID]
	if q == nil {
		q = &recQueue{id: j.RecordingID}
		s.queues[j.RecordingID] = q
	}
	q.jobs = append(q.jobs, j)
	if !q.busy {
		q.busy = true
		s.makeReady(q)
	}
}

func (s *schedule) makeReady(q *recQueue) {
	s.ready = append(s.ready, q)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// next waits for a recording whose head job may run and returns both; nil once ctx ends. Until
// done or retryLater, the caller alone works on the recording (q's backoff fields are its).
func (s *schedule) next(ctx context.Context) (*recQueue, *Job) {
	for {
		s.mu.Lock()
		if len(s.ready) > 0 {
			q := s.ready[0]
			s.ready[0] = nil
			s.ready = s.ready[1:]
			more := len(s.ready) > 0
			j := q.jobs[0]
			s.mu.Unlock()
			if more {
				select {
				case s.wake <- struct{}{}:
				default:
				}
			}
			return q, j
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, nil
		case <-s.wake:
		}
	}
}

// followedBy tells whether the job queued after q's head job satisfies match.
func (s *schedule) followedBy(q *recQueue, match func(*Job) bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(q.jobs) > 1 && match(q.jobs[1])
}

// done ends q's head job (finished or given up) and gives the recording its next turn.
func (s *schedule) done(q *recQueue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q.jobs[0] = nil
	q.jobs = q.jobs[1:]
	q.failures, q.since = 0, time.Time{}
	if len(q.jobs) == 0 {
		q.busy = false
		delete(s.queues, q.id)
		return
	}
	s.makeReady(q)
}

// retryLater puts q's head job back after wait, its backoff.
func (s *schedule) retryLater(q *recQueue, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timers[q] = time.AfterFunc(wait, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.timers[q]; !ok {
			return // stopped
		}
		delete(s.timers, q)
		s.makeReady(q)
	})
}

// stop cancels the pending retries (the jobs stay queued; their files stay in the spool).
func (s *schedule) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for q, t := range s.timers {
		t.Stop()
		delete(s.timers, q)
	}
}
