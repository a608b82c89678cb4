package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/retention"
	"github.com/liverec/liverec/internal/store"
)

// FileDeleter deletes stored files, objects first, with their file_deleted events
// (retention.Deleter).
type FileDeleter interface {
	Delete(ctx context.Context, files []store.DueFile, reason string) (int, int64, error)
}

// RecordingLocker sets a recording's lock (store.Retention).
type RecordingLocker interface {
	RecordingLock(ctx context.Context, project, id string, locked bool) (*recording.Recording, error)
}

// RetentionPreviewer lists what the next retention pass would delete (retention.Retention).
type RetentionPreviewer interface {
	Preview(ctx context.Context, project string) ([]retention.Due, error)
}

// LockRecording locks (or unlocks) a recording of p's project: a locked recording's files are
// never deleted by retention or by the disk policy. It returns the recording.
func (s *Service) LockRecording(ctx context.Context, p Principal, id string, locked bool) (*recording.Recording, error) {
	if s.Locks == nil {
		return nil, errors.New("lock recording: locks are not available")
	}
	rec, err := s.Locks.RecordingLock(ctx, p.Project, id, locked)
	if err != nil {
		return nil, fmt.Errorf("lock recording: %w", err)
	}
	return rec, nil
}

// RetentionPreview lists the files of p's project that the next retention pass would delete
// (none when retention does not run).
func (s *Service) RetentionPreview(ctx context.Context, p Principal) ([]retention.Due, error) {
	if s.Retention == nil {
		return []retention.Due{}, nil
	}
	due, err := s.Retention.Preview(ctx, p.Project)
	if err != nil {
		return nil, fmt.Errorf("retention preview: %w", err)
	}
	return due, nil
}
