package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// ListDeliveries pages the deliveries of p's project, with their events.
func (s *Service) ListDeliveries(ctx context.Context, p Principal, f store.DeliveryFilter) ([]recording.Delivery, int, error) {
	f.Project = p.Project
	f.Domain = strings.ToLower(f.Domain)
	return s.Store.DeliveryList(ctx, f)
}

// GetDelivery returns a delivery of p's project with its event.
func (s *Service) GetDelivery(ctx context.Context, p Principal, id string) (*recording.Delivery, error) {
	return s.Store.DeliveryGet(ctx, p.Project, id)
}

// DeliveryAttempts returns the attempts of a delivery of p's project, oldest first.
func (s *Service) DeliveryAttempts(ctx context.Context, p Principal, id string) ([]recording.Attempt, error) {
	if _, err := s.Store.DeliveryGet(ctx, p.Project, id); err != nil {
		return nil, err
	}
	return s.Store.DeliveryAttempts(ctx, id)
}

// Redeliver makes a failed delivery of p's project pending and due now; ErrNotFound, or
// ErrConflict when it is not failed.
func (s *Service) Redeliver(ctx context.Context, p Principal, id string) error {
	if err := s.Store.DeliveryRedeliver(ctx, p.Project, id, s.now()); err != nil {
		return fmt.Errorf("redeliver: %w", err)
	}
	if s.OnRedeliver != nil {
		s.OnRedeliver()
	}
	return nil
}
