package service

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// Live streams: what is published now, the publish history, and the block list.

// Live reaches the stream hub (the app implements it).
type Live interface {
	// LiveStreams returns every publication in progress.
	LiveStreams() []recording.LiveStream
	// Kick ends the publication of a stream key at once; false when it is not live.
	Kick(domain, app, stream, reason string) bool
}

// LiveFilter selects live streams; empty fields match everything.
type LiveFilter struct {
	Domain, App, Stream string
}

// ListLiveStreams returns the publications in progress of p's domains (an admin's: all),
// sorted by stream key.
func (s *Service) ListLiveStreams(ctx context.Context, p Principal, f LiveFilter) ([]recording.LiveStream, error) {
	f.Domain = strings.ToLower(f.Domain)
	if f.Domain != "" {
		if err := s.CheckDomain(ctx, p, f.Domain); err != nil {
			return nil, err
		}
	}
	owned := map[string]bool{}
	if !p.Admin {
		claims, err := s.Store.DomainList(ctx, p.Project)
		if err != nil {
			return nil, fmt.Errorf("list domains: %w", err)
		}
		for _, c := range claims {
			owned[c.Domain] = true
		}
	}
	out := []recording.LiveStream{}
	if s.Live == nil {
		return out, nil
	}
	for _, l := range s.Live.LiveStreams() {
		d := strings.ToLower(l.Domain)
		switch {
		case !p.Admin && !owned[d]:
		case f.Domain != "" && d != f.Domain:
		case f.App != "" && l.App != f.App:
		case f.Stream != "" && l.Stream != f.Stream:
		default:
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Domain+"/"+a.App+"/"+a.Stream < b.Domain+"/"+b.App+"/"+b.Stream
	})
	return out, nil
}

// StreamState returns the publication of a stream of p's domain; recording.ErrNotLive when it
// is not being published.
func (s *Service) StreamState(ctx context.Context, p Principal, domain, app, stream string) (*recording.LiveStream, error) {
	ls, err := s.ListLiveStreams(ctx, p, LiveFilter{Domain: domain, App: app, Stream: stream})
	if err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, recording.ErrNotLive
	}
	return &ls[0], nil
}

// ListPublishes pages the publications (live and past) of a domain of p's, newest first.
func (s *Service) ListPublishes(ctx context.Context, p Principal, f store.PublishFilter) ([]recording.Publish, int, error) {
	cat, err := s.catalog()
	if err != nil {
		return nil, 0, err
	}
	f.Domain = strings.ToLower(f.Domain)
	if err = s.CheckDomain(ctx, p, f.Domain); err != nil {
		return nil, 0, err
	}
	pubs, total, err := cat.PublishList(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list publications: %w", err)
	}
	return pubs, total, nil
}

// KickStream disconnects the publisher of a stream of p's domain now, without blocking it:
// it may publish again at once. recording.ErrNotLive when it is not being published.
func (s *Service) KickStream(ctx context.Context, p Principal, domain, app, stream string) error {
	domain = strings.ToLower(domain)
	// An admin sees every live stream (ListLiveStreams), so may kick any: a default-rule
	// stream of a domain no project owns could not be kicked otherwise.
	if !p.Admin {
		if err := s.CheckDomain(ctx, p, domain); err != nil {
			return err
		}
	}
	if s.Live == nil || !s.Live.Kick(domain, app, stream, "kicked through the API") {
		return recording.ErrNotLive
	}
	return nil
}

// errPastResume refuses a block that would end before it starts.
var errPastResume = &recording.ValidationError{Field: "resume_at", Reason: "must be in the future"}

// ForbidStream blocks a stream key of p's domain until it is resumed (or b.ResumeAt) and
// disconnects its publisher at once; the block stands whether or not the stream is live. It
// reports whether a publisher was disconnected.
func (s *Service) ForbidStream(ctx context.Context, p Principal, b recording.StreamBlock) (bool, error) {
	cat, err := s.catalog()
	if err != nil {
		return false, err
	}
	b.Domain = strings.ToLower(strings.TrimSpace(b.Domain))
	if err := checkStreamKey(b.Domain, b.App, b.Stream); err != nil {
		return false, err
	}
	if err := s.useDomain(ctx, p, b.Domain, true); err != nil {
		return false, err
	}
	now := s.now()
	if b.ResumeAt != nil && !b.ResumeAt.After(now) {
		return false, errPastResume
	}
	b.CreatedAt = now
	if err := cat.BlockPut(ctx, &b); err != nil {
		return false, fmt.Errorf("store block: %w", err)
	}
	return s.Live != nil && s.Live.Kick(b.Domain, b.App, b.Stream, "the stream is forbidden"), nil
}

// ResumeStream lifts the block of a stream key of p's domain; recording.ErrNotFound when it is
// not blocked.
func (s *Service) ResumeStream(ctx context.Context, p Principal, domain, app, stream string) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	domain = strings.ToLower(domain)
	if err := s.CheckDomain(ctx, p, domain); err != nil {
		return err
	}
	if err := cat.BlockDelete(ctx, domain, app, stream); err != nil {
		return fmt.Errorf("lift block: %w", err)
	}
	return nil
}

// GetBlock returns the active block of a stream key of p's domain; recording.ErrNotFound.
func (s *Service) GetBlock(ctx context.Context, p Principal, domain, app, stream string) (*recording.StreamBlock, error) {
	cat, err := s.catalog()
	if err != nil {
		return nil, err
	}
	domain = strings.ToLower(domain)
	if err := s.CheckDomain(ctx, p, domain); err != nil {
		return nil, err
	}
	return cat.BlockGet(ctx, domain, app, stream, s.now())
}

// ListBlocks pages the active blocks of a domain of p's (an admin may list every domain's with
// an empty Domain).
func (s *Service) ListBlocks(ctx context.Context, p Principal, f store.BlockFilter) ([]recording.StreamBlock, int, error) {
	cat, err := s.catalog()
	if err != nil {
		return nil, 0, err
	}
	f.Domain = strings.ToLower(f.Domain)
	switch {
	case f.Domain != "":
		if err := s.CheckDomain(ctx, p, f.Domain); err != nil {
			return nil, 0, err
		}
	case !p.Admin:
		return s.listOwnBlocks(ctx, cat, p, f)
	}
	f.Now = s.now()
	return cat.BlockList(ctx, f)
}

// listOwnBlocks lists the blocks of every domain of p's project.
func (s *Service) listOwnBlocks(ctx context.Context, cat store.Catalog, p Principal, f store.BlockFilter) ([]recording.StreamBlock, int, error) {
	claims, err := s.Store.DomainList(ctx, p.Project)
	if err != nil {
		return nil, 0, fmt.Errorf("list domains: %w", err)
	}
	var all []recording.StreamBlock
	for _, c := range claims {
		bs, _, err := cat.BlockList(ctx, store.BlockFilter{Domain: c.Domain, App: f.App, Stream: f.Stream, Now: s.now()})
		if err != nil {
			return nil, 0, fmt.Errorf("list blocks: %w", err)
		}
		all = append(all, bs...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].CreatedAt.Before(all[j].CreatedAt) })
	return pageOf(all, f.Offset, f.Limit), len(all), nil
}

// pageOf is the page of items at offset, at most limit long (0 or less: all), for lists the
// service merges in memory.
func pageOf[T any](items []T, offset, limit int) []T {
	lo := min(max(offset, 0), len(items))
	hi := len(items)
	if limit > 0 {
		hi = min(lo+limit, hi)
	}
	return items[lo:hi]
}

// checkStreamKey refuses an empty or wildcard part of a stream key.
func checkStreamKey(domain, app, stream string) error {
	for _, part := range []struct{ field, v string }{{"domain", domain}, {"app", app}, {"stream", stream}} {
		if part.v == "" || part.v == recording.Wildcard || strings.ContainsAny(part.v, "/?#") {
			return &recording.ValidationError{Field: part.field, Reason: "must name one " + part.field}
		}
	}
	return nil
}

// Nodes lists the live nodes of the deployment.
type Nodes interface {
	Nodes(ctx context.Context) ([]store.Node, error)
}

// ListNodes returns the live nodes; admins only: node addresses are the operator's.
func (s *Service) ListNodes(ctx context.Context, p Principal) ([]store.Node, error) {
	if !p.Admin {
		return nil, fmt.Errorf("list nodes: %w", recording.ErrForbidden)
	}
	if s.Nodes == nil {
		return []store.Node{}, nil
	}
	nodes, err := s.Nodes.Nodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return nodes, nil
}
