package store

import (
	"context"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// Retention finds what retention and the disk policy may delete, and locks recordings against
// them. Every driver implements it beside Store, and storetest.Exercise covers it. Only stored
// files (State FileStored) of unlocked recordings are ever returned: a locked recording's
// files are never candidates.
type Retention interface {
	// RecordingLock sets the Locked flag of a recording of project and returns the recording;
	// recording.ErrNotFound when there is none.
	RecordingLock(ctx context.Context, project, id string, locked bool) (*recording.Recording, error)
	// RetentionRules returns every project's rules with RetentionS > 0, in creation order.
	RetentionRules(ctx context.Context) ([]recording.Rule, error)
	// RetentionDue returns the stored files of the unlocked recordings of rule ruleID that
	// ended at or before endedBefore, oldest first (the recording's end, then the file's
	// creation), at most limit of them (0 or less: all), each with its recording.
	RetentionDue(ctx context.Context, ruleID string, endedBefore time.Time, limit int) ([]DueFile, error)
	// OverwriteCandidates returns, for the disk policy, the oldest stored files on endpoint
	// (File.Endpoint, as the uploader wrote it) of the unlocked recordings whose rule has
	// OverwriteWhenFull, oldest first (the file's start, then its creation), at most limit of
	// them (0 or less: all), each with its recording. A live recording's stored files are
	// candidates too: a surveillance stream that never stops must still free space.
	OverwriteCandidates(ctx context.Context, endpoint string, limit int) ([]DueFile, error)
}

// DueFile is a stored file that may be deleted, with the recording it belongs to (for its
// file_deleted event).
type DueFile struct {
	File      recording.File      `json:"file"`
	Recording recording.Recording `json:"recording"`
}
