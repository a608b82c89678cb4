package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/blob"
	"github.com/liverec/liverec/internal/record"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/stream"
)

// dbTimeout bounds the store calls made on a recording's behalf.
const dbTimeout = 10 * time.Second

// openRecorder is the hub's Open: every publication gets a recorder at once, so ingest never
// waits; the rule lookup runs on the recorder's goroutine while media queues.
func (a *App) openRecorder(p *stream.Publication) stream.Sink {
	id := store.NewID(store.RecordingPrefix)
	log := a.log.With("domain", p.Req.Key.Domain, "app", p.Req.Key.App, "stream", p.Req.Key.Stream,
		"recording", id)
	r := &record.Recorder{
		RecordingID:     id,
		Key:             p.Req.Key,
		StartWall:       p.Start,
		SpoolDir:        a.conf.Storage.Spool,
		FlushInterval:   a.conf.Recording.FlushInterval.D(),
		QueueLen:        a.conf.Recording.QueueLen,
		DiscoveryWindow: a.conf.Recording.DiscoveryWindow.D(),
		Complete:        a.fin.Enqueue,
		Logger:          log,
		Metrics:         a.recMet,
	}
	// Resolve and OnEnd both run on the recorder's goroutine, so rec needs no lock.
	var rec *recording.Recording
	r.Resolve = func() (*recording.Rule, error) {
		rule, started, err := a.resolve(p, id)
		rec = started
		return rule, err
	}
	a.recorders.Add(1)
	r.OnEnd = func(err error) {
		defer a.recorders.Done()
		if rec != nil {
			a.endRecording(rec, err, log)
		}
	}
	r.Start()
	return r
}

// resolve picks the rule of a publication (§3) and persists the recording it starts.
func (a *App) resolve(p *stream.Publication, id string) (*recording.Rule, *recording.Recording, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	k := p.Req.Key
	rules, err := a.store.RulesForStream(ctx, k.Domain)
	if err != nil {
		return nil, nil, fmt.Errorf("look up rules: %w", err)
	}
	rule := recording.MatchRule(rules, k.Domain, k.App, k.Stream)
	if rule == nil {
		a.log.Info("no rule matches, not recording", "domain", k.Domain, "app", k.App, "stream", k.Stream)
		return nil, nil, nil
	}
	if rule.Mode != recording.ModeAuto {
		// The other modes (on-demand, manual, plan) arrive with the callbacks issue.
		a.log.Warn("rule mode not supported yet, not recording", "rule", rule.ID, "mode", rule.Mode)
		return nil, nil, nil
	}
	params := map[string]string{}
	for name, vals := range p.Req.Params {
		if strings.HasPrefix(name, "callback_") && len(vals) > 0 {
			params[name] = vals[0]
		}
	}
	rec := &recording.Recording{ID: id, Project: rule.Project, RuleID: rule.ID, Domain: k.Domain,
		App: k.App, Stream: k.Stream, State: recording.RecordingActive, StartedAt: p.Start, Params: params}
	if err := a.store.RecordingInsert(ctx, rec); err != nil {
		return nil, nil, fmt.Errorf("save recording: %w", err)
	}
	a.log.Info("recording started", "recording", id, "rule", rule.ID, "domain", k.Domain,
		"app", k.App, "stream", k.Stream)
	return rule, rec, nil
}

func (a *App) endRecording(rec *recording.Recording, err error, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	now := time.Now()
	rec.EndedAt = &now
	rec.State = recording.RecordingOver
	if err != nil {
		rec.State, rec.Reason = recording.RecordingFailed, err.Error()
	}
	if uerr := a.store.RecordingUpdate(ctx, rec); uerr != nil {
		log.Error("save recording end", "err", uerr)
	}
	log.Info("recording ended", "state", rec.State)
}

// onStored persists a file (or HLS playlist) once it is durable in its bucket.
func (a *App) onStored(s record.Stored) {
	if s.Job.Kind == record.JobSlice {
		return // slices are listed in their playlist
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	end := s.Job.End
	f := &recording.File{ID: store.NewID(store.FilePrefix), RecordingID: s.Job.RecordingID, Format: s.Job.Format,
		State: recording.FileStored, Endpoint: s.Endpoint, Bucket: s.Bucket, ObjectKey: s.ObjectKey,
		StartedAt: s.Job.Start, EndedAt: &end, Duration: s.Job.Stats.Duration, Bytes: s.Job.Stats.Bytes,
		VideoFrames: s.Job.Stats.VideoFrames, AudioFrames: s.Job.Stats.AudioFrames}
	if err := a.store.FileInsert(ctx, f); err != nil {
		a.log.Error("save file", "recording", s.Job.RecordingID, "key", s.ObjectKey, "err", err)
	}
}

// initStorage builds the endpoints of the config and their alias table (§8).
func (a *App) initStorage() {
	a.local = map[string]*blob.Local{}
	a.alias = map[string]string{}
	for _, e := range a.conf.Storage.Endpoints {
		a.local[e.Name] = &blob.Local{Root: e.Root}
		for _, al := range e.Aliases {
			a.alias[al] = e.Name
		}
	}
}

// endpointName resolves a rule's endpoint name or alias.
func (a *App) endpointName(name string) (string, bool) {
	if _, ok := a.local[name]; ok {
		return name, true
	}
	if n, ok := a.alias[name]; ok {
		return n, true
	}
	n, ok := a.alias["*"]
	return n, ok
}

func (a *App) objectStore(endpoint string) (record.ObjectStore, error) {
	n, ok := a.endpointName(endpoint)
	if !ok {
		return nil, fmt.Errorf("storage endpoint %q is not configured", endpoint)
	}
	return a.local[n], nil
}

// seedRules writes the default rule on a fresh data dir (§2) and the config file's rules.
func (a *App) seedRules(ctx context.Context, fresh bool) error {
	if fresh {
		def := recording.DefaultRule()
		if err := a.store.RuleInsert(ctx, &def); err != nil && !errors.Is(err, recording.ErrConflict) {
			return fmt.Errorf("write default rule: %w", err)
		}
	}
	for i := range a.conf.Rules {
		r := a.conf.Rules[i]
		if r.Project == "" {
			r.Project = "default"
		}
		if r.Dialect == "" {
			r.Dialect = recording.DialectNative
		}
		r.Normalize()
		if err := r.Validate(); err != nil {
			return fmt.Errorf("config rule %d: %w", i, err)
		}
		err := a.store.RuleInsert(ctx, &r)
		if errors.Is(err, recording.ErrConflict) {
			err = a.replaceRule(ctx, &r)
		}
		if err != nil {
			return fmt.Errorf("config rule %d: %w", i, err)
		}
	}
	return nil
}

func (a *App) replaceRule(ctx context.Context, r *recording.Rule) error {
	rules, err := a.store.RulesForStream(ctx, r.Domain)
	if err != nil {
		return err
	}
	for _, old := range rules {
		if old.Project == r.Project && old.Domain == r.Domain && old.App == r.App && old.Stream == r.Stream {
			r.ID, r.CreatedAt = old.ID, old.CreatedAt
			return a.store.RuleUpdate(ctx, r)
		}
	}
	return fmt.Errorf("rule %s/%s/%s conflicts but was not found", r.Domain, r.App, r.Stream)
}
