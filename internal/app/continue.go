package app

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/liverec/liverec/internal/record"
	"github.com/liverec/liverec/internal/record/hls"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/upload"
)

// continued is a recording of a dead node this node continues.
type continued struct {
	rec  recording.Recording
	rule *recording.Rule
	cont *record.Continuation
}

// mergeWindow is the longest merge window of a rule's formats: how long its recording waits
// for its publisher.
func mergeWindow(r *recording.Rule) time.Duration {
	var w time.Duration
	for _, fc := range r.Formats {
		d := time.Duration(fc.MergeWindowS) * time.Second
		if fc.MergeWindowS < 0 {
			d = record.MinusOneWindow
		}
		w = max(w, d)
	}
	return w
}

// recordingGrace is the cluster's Grace: a dead node's recording waits for its publisher for
// its rule's merge window before another node ends it.
func (a *App) recordingGrace(rec recording.Recording) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	rule, err := a.store.RuleGet(ctx, rec.Project, rec.RuleID)
	if err != nil {
		return 0 // the rule is gone: nothing says how long to wait
	}
	return mergeWindow(rule)
}

// continuation finds the live recording of key that a dead node left within its merge window,
// adopts it and says how to continue it; nil when there is none (a new recording starts). It
// runs on the publisher's goroutine before the publication is admitted, like the lease.
func (a *App) continuation(key stream.Key, log *slog.Logger) *continued {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	nr, err := a.store.LiveRecordingOf(ctx, key.Domain, key.App, key.Stream)
	if err != nil {
		if !errors.Is(err, recording.ErrNotFound) {
			log.Warn("looking for a recording to continue failed; starting a new one", "err", err)
		}
		return nil
	}
	rec, now := nr.Recording, time.Now()
	if rec.Node == "" || rec.Node == a.node.ID() {
		return nil // this node's own recordings resume in place
	}
	rule, err := a.store.RuleGet(ctx, rec.Project, rec.RuleID)
	if err != nil {
		return nil
	}
	// A live node hands over a recording it paused (this node holds the stream's lease, so no
	// publisher is left there) and completes its files; a dead node's waits for its merge window
	// after the node's last heartbeat.
	dead := nr.NodeBeat.IsZero() || now.Sub(nr.NodeBeat) >= a.conf.Cluster.LeaseTTL.D()
	switch {
	case dead && (nr.NodeBeat.IsZero() || now.Sub(nr.NodeBeat) > mergeWindow(rule)):
		return nil
	case !dead && rec.State != recording.RecordingPaused:
		return nil
	}
	if err = a.store.RecordingAdopt(ctx, rec.ID, rec.Node, a.node.ID()); err != nil {
		return nil // another node adopted it first
	}
	cont, hlsFile, err := a.continuationOf(ctx, rec.ID, dead)
	if err != nil {
		log.Warn("reading the recording to continue failed; continuing with new files only", "recording", rec.ID, "err", err)
		cont = &record.Continuation{}
	}
	from := rec.Node
	rec.Node, rec.State = a.node.ID(), recording.RecordingActive
	files := map[int]string{}
	if p := cont.Playlist; p != nil {
		files[p.Seq] = hlsFile
	}
	a.events.Continue(ctx, &rec, files, recording.FormatHLS, log.With("recording", rec.ID))
	if dead {
		a.recoverPeerSpool(ctx, &rec, from, true, log.With("recording", rec.ID))
	}
	log.Info("continuing the recording of another node", "recording", rec.ID, "from_node", from, "node_dead", dead)
	return &continued{rec: rec, rule: rule, cont: cont}
}

// continuationOf reads from a recording's events and stored slices where its files stopped:
// the next number of each format, and, from a dead node, the HLS playlist still open (with the
// id its file_started announced) to continue. A live node completes its own playlist.
func (a *App) continuationOf(ctx context.Context, id string, dead bool) (*record.Continuation, string, error) {
	evs, err := a.store.EventsOf(ctx, id)
	if err != nil {
		return nil, "", err
	}
	cont := &record.Continuation{NextSeq: map[recording.Format]int{}}
	completed := map[string]bool{}
	var lastHLS *recording.OutboxEvent
	for i := range evs {
		ev := &evs[i]
		switch ev.Type {
		case recording.EventFileStarted:
			cont.NextSeq[ev.Data.Format]++
			if ev.Data.Format == recording.FormatHLS {
				lastHLS = ev
			}
		case recording.EventFileCompleted:
			completed[ev.Data.FileID] = true
		}
	}
	if !dead || lastHLS == nil || completed[lastHLS.Data.FileID] || lastHLS.Data.StartTime == nil {
		return cont, "", nil
	}
	seq := cont.NextSeq[recording.FormatHLS] - 1
	stored, err := a.store.SliceList(ctx, store.SliceFilter{RecordingID: id, FileSeq: seq, HasFileSeq: true})
	if err != nil {
		return nil, "", err
	}
	p := &record.ContinuedPlaylist{Seq: seq, StartWall: *lastHLS.Data.StartTime}
	keys := make([]string, 0, len(stored))
	for _, s := range stored {
		p.Slices = append(p.Slices, hls.Slice{Seq: s.Seq, Duration: s.Duration, Bytes: s.Bytes,
			Discontinuity: s.Discontinuity})
		keys = append(keys, s.ObjectKey)
	}
	sortSlices(p.Slices, keys)
	cont.Playlist = p
	a.up.ContinuePlaylist(id, recording.FormatHLS, seq, keys, p.Slices)
	return cont, lastHLS.Data.FileID, nil
}

// sortSlices orders slices (and their keys) by sequence number: the catalogue lists them by
// start time, which a clock step could disorder.
func sortSlices(slices []hls.Slice, keys []string) {
	for i := 1; i < len(slices); i++ {
		for j := i; j > 0 && slices[j].Seq < slices[j-1].Seq; j-- {
			slices[j], slices[j-1] = slices[j-1], slices[j]
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
}

// handOverMoved hands over the paused recordings of this node that another node continues:
// their files complete and are stored here, their recording goes on there. It runs on
// every heartbeat.
func (a *App) handOverMoved(ctx context.Context) {
	type paused struct {
		key stream.Key
		r   *record.Recorder
		id  string
	}
	var found []paused
	a.liveMu.Lock()
	for k, r := range a.byKey {
		if rep, ok := r.Reporter.(*recorderReporter); ok && rep.State() == recording.RecordingPaused {
			found = append(found, paused{k, r, rep.id})
		}
	}
	a.liveMu.Unlock()
	for _, p := range found {
		nr, err := a.store.LiveRecordingOf(ctx, p.key.Domain, p.key.App, p.key.Stream)
		if err != nil || nr.Recording.ID != p.id || nr.Recording.Node == a.node.ID() {
			continue
		}
		a.log.Info("another node continues a recording paused here", "recording", p.id, "node", nr.Recording.Node)
		go func() {
			hctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
			defer cancel()
			if err := p.r.HandOver(hctx); err != nil {
				a.log.Warn("handing over a recording", "recording", p.id, "err", err)
			}
		}()
	}
}

// recoverPeerSpool stores the files a dead node left in its folder of the shared spool
// (cluster.shared_spool) for a recording this node took over, and returns that folder
// ("" when there is none). continued: this node goes on recording it, so the HLS playlist it
// continues is left to it.
func (a *App) recoverPeerSpool(ctx context.Context, rec *recording.Recording, deadNode string, continued bool,
	log *slog.Logger,
) string {
	if a.spoolRoot == "" || deadNode == "" {
		return ""
	}
	spool := filepath.Join(a.spoolRoot, deadNode)
	m, err := upload.ReadManifest(spool, rec.ID)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			log.Warn("reading a dead node's spool failed; its files wait for that node", "dir", spool, "err", err)
		}
		return ""
	}
	jobs, err := upload.RecoveryJobs(spool, m)
	if err != nil {
		log.Warn("listing a dead node's spool files failed; they wait for that node", "dir", spool, "err", err)
		return ""
	}
	if continued {
		jobs = a.withoutContinuedPlaylists(ctx, rec.ID, true, jobs, log)
	}
	log.Info("storing the files a dead node left in the shared spool", "dead_node", deadNode, "files", len(jobs))
	for _, j := range jobs {
		a.up.Enqueue(j)
	}
	return filepath.Join(spool, rec.ID)
}
