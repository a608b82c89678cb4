package store

import (
	"context"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// Catalog persists what makes recordings and streams findable and controllable: stored
// HLS slices, indexes, stream blocks, the publish history and plan tasks. Every driver
// implements it beside Store, and storetest.Exercise covers it.
type Catalog interface {
	// SliceInsert stores a slice of recording s.RecordingID, filling s.Project, s.Domain, s.App
	// and s.Stream from the recording. recording.ErrNotFound when the recording does not exist;
	// a second insert of the same (RecordingID, FileSeq, Seq) replaces the first (a slice stored
	// again after a crash).
	SliceInsert(ctx context.Context, s *recording.Slice) error
	// SliceList returns the slices that match f, oldest first (StartedAt, then RecordingID,
	// FileSeq, Seq), at most f.Limit of them (0 or less: all).
	SliceList(ctx context.Context, f SliceFilter) ([]recording.Slice, error)
	// FileDelete marks file id of a recording of project deleted at at (State FileDeleted,
	// DeletedAt), and the slices of an HLS file with it, in one transaction.
	// recording.ErrNotFound when there is no such file in project.
	FileDelete(ctx context.Context, project, id string, at time.Time) error

	// IndexInsert stores an index, assigning ID (prefix IndexPrefix) when empty and CreatedAt.
	IndexInsert(ctx context.Context, x *recording.RecordIndex) error
	// IndexGet returns an index of project; recording.ErrNotFound.
	IndexGet(ctx context.Context, project, id string) (*recording.RecordIndex, error)
	// IndexList returns a page of indexes and the number matching f.
	IndexList(ctx context.Context, f IndexFilter) ([]recording.RecordIndex, int, error)
	// IndexDelete deletes an index of project; recording.ErrNotFound.
	IndexDelete(ctx context.Context, project, id string) error

	// BlockPut forbids a stream key, replacing the block already on it (a new ResumeAt).
	BlockPut(ctx context.Context, b *recording.StreamBlock) error
	// BlockDelete lifts the block of a stream key; recording.ErrNotFound when there is none.
	BlockDelete(ctx context.Context, domain, app, stream string) error
	// BlockGet returns the block of a stream key that is active at now; recording.ErrNotFound
	// when none is (an expired block counts as none). The publish path asks it.
	BlockGet(ctx context.Context, domain, app, stream string, now time.Time) (*recording.StreamBlock, error)
	// BlockList returns a page of the blocks active at f.Now and the number matching f, oldest
	// first.
	BlockList(ctx context.Context, f BlockFilter) ([]recording.StreamBlock, int, error)

	// PublishInsert stores a publication that started, assigning ID (prefix PublishPrefix) when
	// empty.
	PublishInsert(ctx context.Context, p *recording.Publish) error
	// PublishEnd sets the end of publication id; recording.ErrNotFound.
	PublishEnd(ctx context.Context, id string, at time.Time) error
	// PublishList returns a page of publications and the number matching f, newest first.
	PublishList(ctx context.Context, f PublishFilter) ([]recording.Publish, int, error)

	// TaskInsert stores a plan task, assigning ID (prefix TaskPrefix) when empty and CreatedAt.
	TaskInsert(ctx context.Context, t *recording.PlanTask) error
	// TaskList returns a page of a project's tasks and the number matching f, oldest first.
	TaskList(ctx context.Context, f TaskFilter) ([]recording.PlanTask, int, error)
	// TaskStop sets StoppedAt of a task of project (it no longer opens a window);
	// recording.ErrNotFound when there is none or it was stopped already.
	TaskStop(ctx context.Context, project, id string, at time.Time) error
	// TasksForStream returns every project's tasks of a stream key that are not stopped and
	// end after now, by start time: the windows a plan-mode recording keeps to.
	TasksForStream(ctx context.Context, domain, app, stream string, now time.Time) ([]recording.PlanTask, error)
}

// More ID prefixes.
const (
	IndexPrefix   = "idx_"
	PublishPrefix = "pub_"
	TaskPrefix    = "task_"
)

// SliceFilter selects slices. Domain, App and Stream are exact; a zero time does not bound.
// Slices overlapping [From, To) match: StartedAt < To and StartedAt+Duration > From.
type SliceFilter struct {
	Project     string
	Domain      string
	App         string
	Stream      string
	RecordingID string
	// FileSeq selects the slices of one HLS file of RecordingID when HasFileSeq is set.
	FileSeq    int
	HasFileSeq bool
	From, To   time.Time
	// Deleted includes the slices of deleted files.
	Deleted bool
	Limit   int
}

// IndexFilter selects indexes of Project: of a stream key when set, whose range
// overlaps [From, To) when set.
type IndexFilter struct {
	Project   string
	Domain    string
	App       string
	Stream    string
	From, To  time.Time
	Offset    int
	Limit     int
	OrderDesc bool
}

// BlockFilter selects the blocks active at Now, of Domain (and App, Stream) when set.
type BlockFilter struct {
	Domain string
	App    string
	Stream string
	Now    time.Time
	Offset int
	Limit  int
}

// PublishFilter selects publications: of Domain (App, Stream) when set, whose span overlaps
// [From, To) when set (a live one overlaps every later time), live ones only when Live.
type PublishFilter struct {
	Domain   string
	App      string
	Stream   string
	From, To time.Time
	Live     bool
	Offset   int
	Limit    int
}

// TaskFilter selects a project's plan tasks: the one with ID, of a stream key, when set.
type TaskFilter struct {
	Project string
	ID      string
	Domain  string
	App     string
	Stream  string
	Offset  int
	Limit   int
}
