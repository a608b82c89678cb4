package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/liverec/liverec/internal/ondemand"
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
	a.liveMu.Lock()
	paused := a.byKey[p.Req.Key]
	a.liveMu.Unlock()
	// The same stream back within a merge window resumes its recording.
	if paused != nil && paused.Resume(p.Start) {
		a.log.Info("publisher back, resuming recording", "recording", paused.RecordingID,
			"domain", p.Req.Key.Domain, "app", p.Req.Key.App, "stream", p.Req.Key.Stream)
		// A resumed recording was resolved before: this publication has no pre-roll.
		return paused
	}
	id := store.NewID(store.RecordingPrefix)
	log := a.log.With("domain", p.Req.Key.Domain, "app", p.Req.Key.App, "stream", p.Req.Key.Stream)
	// A dead node's recording of this stream, within its merge window, goes on here.
	cont := a.continuation(p.Req.Key, log)
	var goOn *record.Continuation
	if cont != nil {
		id, goOn = cont.rec.ID, cont.cont
	}
	log = log.With("recording", id)
	rep := &recorderReporter{a: a, p: p, id: id, log: log, cont: cont}
	r := record.NewRecorder(record.Config{
		Continue:        goOn,
		RecordingID:     id,
		Reporter:        rep,
		Jobs:            a.up,
		Key:             p.Req.Key,
		StartWall:       p.Start,
		SpoolDir:        a.conf.Storage.Spool,
		FileMode:        a.conf.Storage.FileMode.Perm(),
		FlushInterval:   a.conf.Recording.FlushInterval.D(),
		QueueLen:        a.conf.Recording.QueueLen,
		DiscoveryWindow: a.conf.Recording.DiscoveryWindow.D(),
		Logger:          log,
		Metrics:         a.recMet,
	})
	rep.r = r
	rep.pre = a.wrapPreroll(p.Req.Key, r)
	a.liveMu.Lock()
	a.byKey[p.Req.Key] = r
	a.liveMu.Unlock()
	// a.stopRecorders ends the recording at shutdown, paused or not (a shutdown completes
	// the files a pause keeps open).
	a.recorders.Go(func() { _ = r.Run(a.recCtx) })
	return rep.pre
}

// resolve picks the rule of a publication and persists the recording it starts.
func (a *App) resolve(p *stream.Publication, id string, info record.StreamInfo, log *slog.Logger) (*recording.Rule, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	k := p.Req.Key
	rules, err := a.store.RulesForStream(ctx, k.Domain)
	if err != nil {
		return nil, fmt.Errorf("look up rules: %w", err)
	}
	rule := recording.MatchRule(rules, k.Domain, k.App, k.Stream)
	if rule == nil {
		a.log.Info("no rule matches, not recording", "domain", k.Domain, "app", k.App, "stream", k.Stream)
		return nil, nil
	}
	rec := &recording.Recording{ID: id, Project: rule.Project, RuleID: rule.ID, Mode: rule.Mode, Domain: k.Domain,
		App: k.App, Stream: k.Stream, State: recording.RecordingActive, StartedAt: p.Start,
		Params: recording.CallbackParams(p.Req.Params), Node: a.node.ID()}
	pub := ondemand.Publication{Request: ondemand.Request{Domain: k.Domain, App: k.App, Stream: k.Stream,
		VideoKbps: info.VideoKbps}, RecordConfig: p.Req.Params.Get("record_config")}
	if v := info.Tracks.Video; v != nil {
		pub.Codec = v.Codec.String()
	}
	d := a.decider.Decide(ctx, rule, pub)
	if d.Rule == nil {
		rec.State, rec.Reason = recording.RecordingNotRecorded, d.Reason
		now := time.Now()
		rec.EndedAt = &now
		if err := a.events.NotRecorded(ctx, rec, d.Failed, log); err != nil {
			return nil, fmt.Errorf("save decision: %w", err)
		}
		log.Info("not recording", "rule", rule.ID, "mode", rule.Mode, "reason", d.Reason)
		return nil, nil
	}
	if err := a.events.Started(ctx, rec, log); err != nil {
		return nil, fmt.Errorf("save recording: %w", err)
	}
	if why := a.diskRefusal(d.Rule); why != nil {
		a.refuse(ctx, id, why, log)
		return nil, nil
	}
	log.Info("recording started", "rule", rule.ID, "mode", rule.Mode)
	return d.Rule, nil
}

// refuse ends a recording the disk policy refused before anything was written: failed with
// the reason and its record_failed event. Nothing is recorded, so no end job follows; Ended
// here only lets the events component forget it (no second event).
func (a *App) refuse(ctx context.Context, id string, why error, log *slog.Logger) {
	a.events.Failed(ctx, id, why)
	a.events.Ended(ctx, id, why, "")
	log.Warn("recording refused", "reason", why.Error())
}

// seedRules writes the default rule on a fresh data dir and the config file's rules. The
// store decides what is fresh, from its own state and in one transaction with the rule: a first
// start that failed half-way (a database file without the rule) is still fresh.
func (a *App) seedRules(ctx context.Context) error {
	def := recording.DefaultRule()
	if _, err := a.store.Seed(ctx, &def); err != nil && !errors.Is(err, recording.ErrConflict) {
		return fmt.Errorf("write default rule: %w", err)
	}
	// conf.Load validated these very rules, naming the file's lines.
	for i, r := range a.conf.StartRules() {
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

// RecordCommand implements service.Commander: it finds the recorder of a publishing stream of
// the project and hands it the command, on this node or on the one the stream publishes on.
func (a *App) RecordCommand(ctx context.Context, project, domain, app, streamName string, c recording.Command) error {
	err := a.commandLocal(ctx, project, domain, app, streamName, c)
	if !errors.Is(err, recording.ErrNotLive) {
		return err
	}
	return a.peerCommandStream(ctx, peerCommand{Project: project, Domain: domain, App: app, Stream: streamName, Command: c})
}

// commandLocal hands a record command to the stream's recorder on this node.
func (a *App) commandLocal(ctx context.Context, project, domain, app, streamName string, c recording.Command) error {
	a.liveMu.Lock()
	r := a.byKey[stream.Key{Domain: domain, App: app, Stream: streamName}]
	a.liveMu.Unlock()
	if r == nil {
		return recording.ErrNotLive
	}
	return r.Command(ctx, project, c)
}

// planChanged hands the plan tasks of a stream to its recording in progress, if any: a
// plan-mode recording of the project records inside their windows from now on.
func (a *App) planChanged(ctx context.Context, project, domain, app, streamName string) {
	if !a.planChangedLocal(ctx, project, domain, app, streamName) {
		a.peerPlanChanged(ctx, peerCommand{Project: project, Domain: domain, App: app, Stream: streamName})
	}
}

// planChangedLocal is planChanged for this node's recording of the stream; false when the
// stream does not publish here.
func (a *App) planChangedLocal(ctx context.Context, project, domain, app, streamName string) bool {
	a.liveMu.Lock()
	r := a.byKey[stream.Key{Domain: domain, App: app, Stream: streamName}]
	a.liveMu.Unlock()
	if r == nil {
		return false
	}
	tasks, err := a.store.TasksForStream(ctx, domain, app, streamName, time.Now())
	if err != nil {
		a.log.Warn("plan tasks changed but could not be read; the live recording keeps its windows",
			"stream", domain+"/"+app+"/"+streamName, "err", err)
		return true
	}
	if err := r.SetPlan(ctx, project, ondemand.Windows(tasks, project)); err != nil && !errors.Is(err, recording.ErrNotLive) {
		a.log.Warn("updating the plan windows of a live recording", "stream", domain+"/"+app+"/"+streamName, "err", err)
	}
	return true
}
