package app

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/liverec/liverec/internal/preroll"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/service"
	"github.com/liverec/liverec/internal/stream"
)

// prerollSink sits in front of a publication's recorder: it copies each batch into the
// stream's pre-roll buffer (event recordings) before the recorder takes it. The buffer exists
// once the rule is known (the recorder's Resolve); until then batches only pass through.
type prerollSink struct {
	stream.Sink
	a   *App
	key stream.Key
	buf atomic.Pointer[prerollState]
}

type prerollState struct {
	buf    *preroll.Buffer
	target service.EventTarget
}

func (s *prerollSink) WriteBatch(b *stream.Batch) {
	if st := s.buf.Load(); st != nil {
		st.buf.Write(b.Units) // copies: the recorder owns and releases b
	}
	s.Sink.WriteBatch(b)
}

func (s *prerollSink) End(reason error) {
	if st := s.buf.Load(); st != nil {
		st.buf.End()
	}
	s.a.liveMu.Lock()
	if s.a.prerolls[s.key] == s {
		delete(s.a.prerolls, s.key)
	}
	s.a.liveMu.Unlock()
	s.Sink.End(reason)
}

// configure starts the buffer for the rule the recording resolved to (Keep 0 when the rule
// has no pre-roll: events then start at the next keyframe).
func (s *prerollSink) configure(rule *recording.Rule) {
	k := s.key
	s.buf.Store(&prerollState{
		buf: preroll.New(preroll.Config{Keep: time.Duration(rule.PreRollS) * time.Second, Dir: s.a.conf.Storage.Spool,
			Metrics: s.a.preMet, Go: s.a.recorders.Go,
			Log: s.a.log.With("domain", k.Domain, "app", k.App, "stream", k.Stream)}),
		target: service.EventTarget{Project: rule.Project, Domain: k.Domain, App: k.App, Stream: k.Stream, Storage: rule.Storage},
	})
}

// wrapPreroll puts a prerollSink in front of a publication's sink and registers it.
func (a *App) wrapPreroll(k stream.Key, sink stream.Sink) *prerollSink {
	s := &prerollSink{Sink: sink, a: a, key: k}
	a.liveMu.Lock()
	a.prerolls[k] = s
	a.liveMu.Unlock()
	return s
}

// StartEvent implements service.EventRecorder, on this node or on the one the stream
// publishes on.
func (a *App) StartEvent(ctx context.Context, project, domain, app, streamName string, e preroll.Event) (preroll.Started, error) {
	st, err := a.startEventLocal(project, domain, app, streamName, e)
	if !errors.Is(err, recording.ErrNotLive) {
		return st, err
	}
	return a.peerStartEvent(ctx, peerEvent{Project: project, Domain: domain, App: app, Stream: streamName, Event: e})
}

// startEventLocal starts an event recording on this node's pre-roll of the stream.
func (a *App) startEventLocal(project, domain, app, streamName string, e preroll.Event) (preroll.Started, error) {
	a.liveMu.Lock()
	s := a.prerolls[stream.Key{Domain: domain, App: app, Stream: streamName}]
	a.liveMu.Unlock()
	if s == nil {
		return preroll.Started{}, recording.ErrNotLive
	}
	st := s.buf.Load()
	if st == nil || st.target.Project != project {
		return preroll.Started{}, recording.ErrNotLive
	}
	return st.buf.Event(e, func(r preroll.Result) { a.eventDone(st.target, r) })
}

// eventDone stores a finished event recording (on the event's goroutine).
func (a *App) eventDone(t service.EventTarget, r preroll.Result) {
	log := a.log.With("domain", t.Domain, "app", t.App, "stream", t.Stream, "recording", r.ID)
	if r.Err != nil {
		log.Error("event recording failed", "err", r.Err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := a.svc.StoreEvent(ctx, t, r); err != nil {
		log.Error("storing the event recording failed", "err", err)
		return
	}
	log.Info("event recording stored", "label", r.Label, "duration", r.Duration)
}
