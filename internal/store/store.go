// Package store is the persistence contract of liverec: one interface, one driver per database
// (sqlite now, postgres for scale-out), and one contract suite (storetest) every driver
// runs. Drivers translate their errors into recording.ErrNotFound and recording.ErrConflict and
// never let database types out.
package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// Store persists rules, recordings and files. Times are stored in UTC with microsecond
// precision (PostgreSQL's); writes normalise the times of the object passed in accordingly, so
// what a caller holds after a write equals what a later read returns.
type Store interface {
	// RuleInsert stores a new rule. It assigns r.ID when empty and sets r.CreatedAt and
	// r.UpdatedAt. A rule with the same (Project, Domain, App, Stream), or the same ID, gives
	// recording.ErrConflict.
	RuleInsert(ctx context.Context, r *recording.Rule) error
	// RuleUpdate replaces the rule (r.Project, r.ID), sets r.UpdatedAt and reloads r.CreatedAt.
	// recording.ErrNotFound when it does not exist in that project; recording.ErrConflict when
	// the new key is another rule's.
	RuleUpdate(ctx context.Context, r *recording.Rule) error
	// RuleDelete deletes a rule of project; recording.ErrNotFound when there is none.
	RuleDelete(ctx context.Context, project, id string) error
	// RuleGet returns a rule of project; recording.ErrNotFound when there is none.
	RuleGet(ctx context.Context, project, id string) (*recording.Rule, error)
	// RuleList returns a page of a project's rules in creation order and the number of rules
	// matching the filter. The filter's Project is required.
	RuleList(ctx context.Context, f RuleFilter) ([]recording.Rule, int, error)
	// RulesForStream returns the rules of every project whose domain is domain or "*", in
	// creation order: the candidates recording.MatchRule picks from for a publishing stream.
	RulesForStream(ctx context.Context, domain string) ([]recording.Rule, error)

	// RecordingInsert stores a new recording, assigning rec.ID when empty; recording.ErrConflict
	// for an existing ID.
	RecordingInsert(ctx context.Context, rec *recording.Recording) error
	// RecordingUpdate writes the mutable fields of recording rec.ID: State, Reason, EndedAt and
	// Params. recording.ErrNotFound when it does not exist.
	RecordingUpdate(ctx context.Context, rec *recording.Recording) error
	// RecordingGet returns a recording of project; recording.ErrNotFound when there is none.
	RecordingGet(ctx context.Context, project, id string) (*recording.Recording, error)
	// RecordingList returns a page of recordings in creation order and the number matching the
	// filter.
	RecordingList(ctx context.Context, f RecordingFilter) ([]recording.Recording, int, error)

	// FileInsert stores a new file of recording f.RecordingID, assigning f.ID when empty.
	// recording.ErrNotFound when the recording does not exist; recording.ErrConflict for an
	// existing ID.
	FileInsert(ctx context.Context, f *recording.File) error
	// FileUpdate writes the mutable fields of file f.ID: State, SpoolPath, Endpoint, Bucket,
	// ObjectKey, EndedAt, Duration, Bytes, frame counts, Width, Height and DeletedAt. recording.ErrNotFound when it does
	// not exist.
	FileUpdate(ctx context.Context, f *recording.File) error
	// FileList returns a page of files in creation order and the number matching the filter.
	FileList(ctx context.Context, f FileFilter) ([]recording.File, int, error)
	// FileGet returns a file of a recording of project; recording.ErrNotFound.
	FileGet(ctx context.Context, project, id string) (*recording.File, error)

	// Seed writes the default rule r, unless this database was seeded before, and marks the
	// database seeded, in one transaction: a first start that failed half-way seeds at the
	// next one, and a seeded database is never seeded again. It reports whether it seeded.
	Seed(ctx context.Context, r *recording.Rule) (bool, error)

	// Ping checks that the database answers (/readyz).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// RuleFilter selects rules for RuleList. Empty fields other than Project match everything.
type RuleFilter struct {
	// Project is required: rules are only ever listed within one project.
	Project string
	Domain  string
	App     string
	Stream  string
	// Offset is the number of items skipped; Limit the most returned (0 or less: all);
	// OrderDesc lists the newest first instead of the oldest.
	Offset    int
	Limit     int
	OrderDesc bool
}

// RecordingFilter selects recordings for RecordingList. Empty fields match everything; an empty
// Project lists every project's recordings (for the recorder's crash recovery), so APIs must
// always set it.
type RecordingFilter struct {
	Project string
	RuleID  string
	Domain  string
	App     string
	Stream  string
	State   recording.State
	Mode    recording.Mode
	// From and To, when set, select the recordings whose span overlaps [From, To): started
	// before To, and live or ended after From.
	From, To time.Time
	// After is a cursor: only recordings listed after the recording with this ID in the
	// filter's order (creation order, or newest first with OrderDesc). An unknown ID gives
	// recording.ErrNotFound.
	After string
	// Offset is the number of items skipped; Limit the most returned (0 or less: all);
	// OrderDesc lists the newest first instead of the oldest.
	Offset    int
	Limit     int
	OrderDesc bool
}

// FileFilter selects files for FileList. Empty fields match everything. Project, Domain, App
// and Stream select by the file's recording.
type FileFilter struct {
	Project     string
	Domain      string
	App         string
	Stream      string
	RecordingID string
	Format      recording.Format
	State       recording.FileState
	// Mode selects by the recording's mode; NotMode leaves out the recordings of a mode.
	Mode    recording.Mode
	NotMode recording.Mode
	// From and To, when set, select the files whose span overlaps [From, To) (a file still
	// being written overlaps every later time).
	From, To time.Time
	// After is a cursor, as in RecordingFilter.
	After string
	// Offset is the number of items skipped; Limit the most returned (0 or less: all);
	// OrderDesc lists the newest first instead of the oldest.
	Offset    int
	Limit     int
	OrderDesc bool
}

// ErrNoSpace is what a driver's write error wraps when the database's disk is full: the write
// may succeed once space returns (or a reserve is released), unlike a conflict.
var ErrNoSpace = errors.New("no space left for the database")

// ID prefixes, so an id tells what it names.
const (
	RulePrefix      = "r_"
	RecordingPrefix = "rec_"
	FilePrefix      = "f_"
)

// NewID returns prefix followed by 16 random hex digits (64 bits).
func NewID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return prefix + hex.EncodeToString(b[:])
}
