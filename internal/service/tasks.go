package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// Plan tasks: scheduled recording windows of a stream (Huawei schedule/record/tasks) that a
// plan-mode rule records inside.

// Plan task limits (Huawei ScheduleRecordTasksReq).
const (
	// MaxTaskSpan bounds a task's window.
	MaxTaskSpan = 24 * time.Hour
	// MaxTaskAhead bounds how far ahead a task may end.
	MaxTaskAhead = 7 * 24 * time.Hour
)

// CreatePlanTask stores a recording window of a stream of p's domain. A zero StartTime starts
// it now; the end must be after the start and now, within MaxTaskAhead, and at most
// MaxTaskSpan after the start.
func (s *Service) CreatePlanTask(ctx context.Context, p Principal, t *recording.PlanTask) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	t.Domain = strings.ToLower(strings.TrimSpace(t.Domain))
	if err := checkStreamKey(t.Domain, t.App, t.Stream); err != nil {
		return err
	}
	if err := s.useDomain(ctx, p, t.Domain, true); err != nil {
		return err
	}
	now := s.now()
	if t.StartTime.IsZero() {
		t.StartTime = now
	}
	switch {
	case !t.EndTime.After(t.StartTime):
		return &recording.ValidationError{Field: "end_time", Reason: "must be after start_time"}
	case !t.EndTime.After(now):
		return &recording.ValidationError{Field: "end_time", Reason: "must be in the future"}
	case t.EndTime.After(now.Add(MaxTaskAhead)):
		return &recording.ValidationError{Field: "end_time", Reason: "must be within 7 days from now"}
	case t.EndTime.Sub(t.StartTime) > MaxTaskSpan:
		return &recording.ValidationError{Field: "end_time", Reason: "must be at most 24 hours after start_time"}
	}
	t.ID, t.Project, t.StoppedAt = "", p.Project, nil
	if err := cat.TaskInsert(ctx, t); err != nil {
		return fmt.Errorf("store plan task: %w", err)
	}
	s.planChanged(ctx, t)
	return nil
}

// planChanged tells a live recording of the task's stream that its windows changed.
func (s *Service) planChanged(ctx context.Context, t *recording.PlanTask) {
	if s.OnPlanChanged != nil {
		s.OnPlanChanged(ctx, t.Project, t.Domain, t.App, t.Stream)
	}
}

// ListPlanTasks pages the plan tasks of p's project.
func (s *Service) ListPlanTasks(ctx context.Context, p Principal, f store.TaskFilter) ([]recording.PlanTask, int, error) {
	cat, err := s.catalog()
	if err != nil {
		return nil, 0, err
	}
	f.Project, f.Domain = p.Project, strings.ToLower(f.Domain)
	return cat.TaskList(ctx, f)
}

// StopPlanTask ends a plan task of p's project: it opens no window from now on.
func (s *Service) StopPlanTask(ctx context.Context, p Principal, id string) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	ts, _, err := cat.TaskList(ctx, store.TaskFilter{Project: p.Project, ID: id})
	if err != nil {
		return fmt.Errorf("find plan task: %w", err)
	}
	if err := cat.TaskStop(ctx, p.Project, id, s.now()); err != nil {
		return fmt.Errorf("stop plan task: %w", err)
	}
	if len(ts) == 1 {
		s.planChanged(ctx, &ts[0])
	}
	return nil
}
