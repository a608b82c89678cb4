package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/liverec/liverec/internal/record"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
)

// recoverSpool finishes what a previous run left (§6 crash recovery): every file in the spool
// is recovered, stored and reported like a completed one, and every recording still marked
// live is ended with an event that says why. It runs before publishers are accepted.
func (a *App) recoverSpool(ctx context.Context) error {
	spool := a.conf.Storage.Spool
	ms, orphans, err := record.ReadSpool(spool)
	if err != nil {
		return err
	}
	for _, dir := range orphans {
		// A recording dir without a manifest was never recorded into.
		if err := os.RemoveAll(dir); err != nil {
			a.log.Warn("removing an empty spool dir", "dir", dir, "err", err)
		}
	}
	seen := map[string]bool{}
	for _, m := range ms {
		seen[m.RecordingID] = true
		log := a.log.With("recording", m.RecordingID, "domain", m.Key.Domain, "app", m.Key.App, "stream", m.Key.Stream)
		rec, err := a.store.RecordingGet(ctx, m.Rule.Project, m.RecordingID)
		if err != nil {
			log.Error("recovering a recording the store does not know; its files are stored without events", "err", err)
		} else {
			a.events.adopt(rec, log)
		}
		jobs, err := record.RecoveryJobs(spool, m)
		if err != nil {
			log.Error("listing spool files to recover", "err", err)
			continue
		}
		log.Info("recovering recording from the spool", "files", len(jobs))
		for _, j := range jobs {
			a.fin.Enqueue(j)
		}
		a.fin.Enqueue(&record.Job{Kind: record.JobEnd, RecordingID: m.RecordingID,
			SpoolPath: filepath.Join(spool, m.RecordingID), Recovered: true})
	}
	// Recordings marked live whose files had all been stored before the crash.
	for _, st := range []recording.RecordingState{recording.RecordingActive, recording.RecordingPaused} {
		recs, _, err := a.store.RecordingList(ctx, store.RecordingFilter{State: st})
		if err != nil {
			return fmt.Errorf("list unfinished recordings: %w", err)
		}
		for i := range recs {
			rec := recs[i]
			if seen[rec.ID] {
				continue
			}
			a.events.adopt(&rec, a.log.With("recording", rec.ID))
			a.fin.Enqueue(&record.Job{Kind: record.JobEnd, RecordingID: rec.ID, Recovered: true})
		}
	}
	return nil
}
