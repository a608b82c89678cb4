package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/liverec/liverec/internal/recording"
)

// Commander carries record commands to the recorder of a publishing stream (the app
// implements it).
type Commander interface {
	RecordCommand(ctx context.Context, project, domain, app, stream string, c recording.Command) error
}

// RecordCommand sends a manual-mode command to a stream of p's domain.
// recording.ErrNotLive when it is not publishing, ErrCommandState when the command does not
// fit, ErrNotFound for another project's domain.
func (s *Service) RecordCommand(ctx context.Context, p Principal, domain, app, stream string, c recording.Command) error {
	domain = strings.ToLower(domain)
	if err := s.CheckDomain(ctx, p, domain); err != nil {
		return err
	}
	if s.Commander == nil {
		return recording.ErrNotLive
	}
	if err := s.Commander.RecordCommand(ctx, p.Project, domain, app, stream, c); err != nil {
		return fmt.Errorf("record command %s: %w", c, err)
	}
	return nil
}
