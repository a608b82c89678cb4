package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/livelog"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/stream"
)

// Live streams: what is published now with its recording, kicks, and the publish
// history. The block list is enforced by the hub's authorizer (internal/pubauth/authorize).

// LiveStreams implements service.Live over the stream hub and the recorders.
type LiveStreams struct{ a *App }

// Live returns the app's live streams, for service.Service.Live.
func (a *App) Live() *LiveStreams { return &LiveStreams{a: a} }

// LiveStreams returns every publication in progress, this node's and the other nodes',
// with the recording its recorder keeps (empty while the rule is being resolved, or when it is
// not recorded).
func (l *LiveStreams) LiveStreams() []recording.LiveStream {
	live := l.a.localLiveStreams()
	here := map[stream.Key]bool{}
	for _, s := range live {
		here[stream.Key{Domain: s.Domain, App: s.App, Stream: s.Stream}] = true
	}
	for _, s := range l.a.peerStreams(context.Background()) {
		if !here[stream.Key{Domain: s.Domain, App: s.App, Stream: s.Stream}] {
			live = append(live, s)
		}
	}
	return live
}

// localLiveStreams returns this node's publications in progress, sorted by key.
func (a *App) localLiveStreams() []recording.LiveStream {
	l := &LiveStreams{a: a}
	live := l.a.hub.Live()
	l.a.liveMu.Lock()
	defer l.a.liveMu.Unlock()
	for i := range live {
		s := &live[i]
		r := l.a.byKey[stream.Key{Domain: s.Domain, App: s.App, Stream: s.Stream}]
		if r == nil {
			continue
		}
		// Reporter is set once by NewRecorder, so reading it here races with nothing.
		if rep, ok := r.Reporter.(*recorderReporter); ok {
			if st := rep.State(); st != "" {
				s.RecordingID, s.RecordingState = rep.id, st
			}
		}
	}
	for i := range live {
		live[i].Node = a.node.ID()
	}
	return live
}

// Kick ends the publication of a stream key at once (its connection closes, its recording
// pauses or ends by its rule); false when the key is not being published.
// A stream published on another node is kicked there.
func (l *LiveStreams) Kick(domain, app, streamName, reason string) bool {
	if l.a.kickLocal(domain, app, streamName, reason) {
		return true
	}
	return l.a.peerKickStream(context.Background(), peerKick{Domain: domain, App: app, Stream: streamName, Reason: reason})
}

// kickLocal kicks the stream's publisher on this node; false when it does not publish here.
func (a *App) kickLocal(domain, app, streamName, reason string) bool {
	key := stream.Key{Domain: strings.ToLower(domain), App: app, Stream: streamName}
	if !a.hub.Kick(key, errors.New(reason)) {
		return false
	}
	a.log.Info("publisher kicked", "domain", key.Domain, "app", key.App, "stream", key.Stream, "reason", reason)
	return true
}

// newPublishLog returns the writer of the publish history, its counter registered.
func (a *App) newPublishLog() (*livelog.Writer, error) {
	return livelog.New(livelog.Config{Store: a.store, Timeout: dbTimeout, Registerer: a.reg,
		Logger: a.log.With("component", "publish-log")})
}

// openPublication is the hub's Open: it opens the publication's recorder and writes the
// publication to the publish history, its end too when it ends (both queued, so ingest never
// waits for the database).
func (a *App) openPublication(p *stream.Publication) stream.Sink {
	sink := a.openRecorder(p)
	k := p.Req.Key
	id := a.pubLog.Started(recording.Publish{Domain: k.Domain, App: k.App, Stream: k.Stream,
		ClientAddr: p.Req.Remote, Protocol: p.Req.Protocol, StartedAt: p.Start})
	return &historySink{Sink: sink, log: a.pubLog, id: id}
}

// historySink is a publication's sink that writes its end to the publish history.
type historySink struct {
	stream.Sink
	log *livelog.Writer
	id  string
}

// End implements stream.Sink; the hub calls it once.
func (s *historySink) End(reason error) {
	s.Sink.End(reason)
	s.log.Ended(s.id, time.Now())
}
