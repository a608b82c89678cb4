package app

import (
	"log/slog"
	"sync/atomic"

	"github.com/liverec/liverec/internal/record"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/stream"
)

// recorderReporter is the record.Reporter of one recording: it hands the recorder's question
// and reports to the app's resolve and events.
type recorderReporter struct {
	a   *App
	p   *stream.Publication
	id  string
	log *slog.Logger
	r   *record.Recorder // the recorder it reports for, set once it exists
	pre *prerollSink     // the publication's pre-roll, configured once the rule is known
	// cont, when set, is the recording of a dead node this one continues: decided and
	// written before, so Resolve only hands its rule on.
	cont *continued
	// state is the recording's recording.State as reported, for the online lists (read from
	// other goroutines); "" until Resolve decided to record.
	state atomic.Value
}

func (x *recorderReporter) Resolve(info record.StreamInfo) (*recording.Rule, error) {
	if x.cont != nil {
		x.state.Store(recording.RecordingActive)
		x.pre.configure(x.cont.rule)
		return x.cont.rule, nil
	}
	rule, err := x.a.resolve(x.p, x.id, info, x.log)
	if rule != nil && err == nil {
		x.state.Store(recording.RecordingActive)
		x.pre.configure(rule)
	}
	return rule, err
}

// State is the recording's state, "" when it is not (yet) being recorded.
func (x *recorderReporter) State() recording.State {
	s, _ := x.state.Load().(recording.State)
	return s
}

func (x *recorderReporter) FileStarted(f record.FileStarted) { x.a.fileStarted(x.id, f) }
func (x *recorderReporter) Paused()                          { x.state.Store(recording.RecordingPaused); x.a.paused(x.id) }
func (x *recorderReporter) Resumed()                         { x.state.Store(recording.RecordingActive); x.a.resumed(x.id) }
func (x *recorderReporter) Failed(err error) {
	x.state.Store(recording.RecordingFailed)
	x.a.recordingFailed(x.id, err)
}

// Ended forgets the stopped recorder. The recording's end is written when its end job has
// passed the uploader (App.stored).
func (x *recorderReporter) Ended(error) {
	a, k := x.a, x.p.Req.Key
	a.liveMu.Lock()
	if a.byKey[k] == x.r {
		delete(a.byKey, k)
	}
	a.liveMu.Unlock()
}
