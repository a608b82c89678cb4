package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/liverec/liverec/internal/events"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/store"
	"github.com/liverec/liverec/internal/upload"
)

// recoverSpool finishes what a previous run left (§6 crash recovery): every file in the spool
// is recovered, stored and reported like a completed one, and every recording still marked
// live is ended with an event that says why. It runs before publishers are accepted. It
// deletes only empty recording directories; what it cannot read goes to quarantine, and the
// recording it belonged to ends failed.
func (a *App) recoverSpool(ctx context.Context) error {
	spool := a.conf.Storage.Spool
	sc, err := upload.ReadSpool(spool)
	if err != nil {
		return err
	}
	for _, dir := range sc.Empty {
		if err := removeEmptyDir(dir); err != nil {
			a.log.Warn("removing an empty spool dir", "dir", dir, "err", err)
		}
	}
	if len(sc.Foreign) > 0 {
		a.log.Warn("the spool holds entries liverec did not write; they are left alone",
			"spool", spool, "count", len(sc.Foreign), "first", sc.Foreign[0])
	}
	quarantined := map[string]error{}
	for _, dir := range sc.Unreadable {
		dst, err := upload.Quarantine(spool, dir, time.Now())
		if err != nil {
			a.log.Error("moving an unreadable spool dir to quarantine failed; it stays where it is", "dir", dir, "err", err)
			continue
		}
		a.upMet.Quarantined()
		a.log.Error("a spool dir has no readable manifest: its media cannot be recovered and were moved to quarantine",
			"dir", dir, "quarantine", dst)
		quarantined[filepath.Base(dir)] = fmt.Errorf("its spool could not be read (no readable manifest): "+
			"the media were not recovered and were moved to %s", dst)
	}
	seen := map[string]bool{}
	for _, m := range sc.Manifests {
		seen[m.RecordingID] = true
		log := a.log.With("recording", m.RecordingID, "domain", m.Key.Domain, "app", m.Key.App, "stream", m.Key.Stream)
		rec, err := a.store.RecordingGet(ctx, m.Rule.Project, m.RecordingID)
		// Another node continued it after this one stopped, or ended it.
		elsewhere := err == nil && !a.ownRecording(rec)
		switch {
		case err != nil:
			log.Error("recovering a recording the store does not know; its files are stored without events", "err", err)
		case elsewhere && a.spoolRoot != "":
			// The node that took it over stores its files from the shared spool.
			log.Info("another node took this recording over and stores its files from the shared spool")
			continue
		case elsewhere:
			// Another node continued it after this one stopped: this node stores its own
			// files, that node ends the recording.
			a.events.AdoptFiles(rec, log)
		default:
			a.events.Adopt(rec, log)
		}
		jobs, err := upload.RecoveryJobs(spool, m)
		if err != nil {
			log.Error("listing spool files to recover", "err", err)
			continue
		}
		if elsewhere {
			live := rec.State == recording.RecordingActive || rec.State == recording.RecordingPaused
			jobs = a.withoutContinuedPlaylists(ctx, rec.ID, live, jobs, log)
		}
		log.Info("recovering recording from the spool", "files", len(jobs))
		for _, j := range jobs {
			a.up.Enqueue(j)
		}
		a.up.Enqueue(&upload.Job{Kind: upload.JobEnd, RecordingID: m.RecordingID,
			SpoolPath: filepath.Join(spool, m.RecordingID), EndReason: events.RecoveredReason})
	}
	// Recordings marked live whose files had all been stored before the crash, or whose spool
	// went to quarantine.
	for _, st := range []recording.State{recording.RecordingActive, recording.RecordingPaused} {
		recs, _, err := a.store.RecordingList(ctx, store.RecordingFilter{State: st})
		if err != nil {
			return fmt.Errorf("list unfinished recordings: %w", err)
		}
		for i := range recs {
			rec := recs[i]
			if seen[rec.ID] || !a.ownRecording(&rec) {
				continue // recovered above, or another node's
			}
			a.events.Adopt(&rec, a.log.With("recording", rec.ID))
			a.up.Enqueue(&upload.Job{Kind: upload.JobEnd, RecordingID: rec.ID, EndReason: events.RecoveredReason,
				Err: quarantined[rec.ID]})
		}
	}
	return nil
}

// removeEmptyDir removes a directory tree that holds no file, refusing if one appeared.
func removeEmptyDir(dir string) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return errors.New("it holds a file")
		}
		dirs = append(dirs, p)
		return nil
	})
	if err != nil {
		return err
	}
	// Deepest first; os.Remove refuses a directory that is not empty.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Remove(dirs[i]); err != nil {
			return err
		}
	}
	return nil
}

// withoutContinuedPlaylists leaves out the HLS playlists of a recording that another node
// continued (its playlist lists the slices this node had stored), so this node does not
// store a second one: those stored already, and the last one while the recording is live (the
// other node stores it when it ends). Their spool directories stay, and are logged.
func (a *App) withoutContinuedPlaylists(ctx context.Context, id string, live bool, jobs []*upload.Job,
	log *slog.Logger,
) []*upload.Job {
	stored, _, err := a.store.FileList(ctx, store.FileFilter{RecordingID: id, Format: recording.FormatHLS})
	if err != nil {
		log.Warn("listing the stored playlists of a recording another node has; recovering them all", "err", err)
		return jobs
	}
	done := map[int]bool{}
	for _, f := range stored {
		done[f.Seq] = true
	}
	if live {
		last := -1
		for _, j := range jobs {
			if j.Format == recording.FormatHLS {
				last = max(last, j.Seq)
			}
		}
		done[last] = true
	}
	kept := jobs[:0]
	for _, j := range jobs {
		if j.Format == recording.FormatHLS && done[j.Seq] {
			log.Warn("another node continued and stored this HLS playlist; the slices it did not get stay in the spool",
				"dir", j.SpoolPath)
			continue
		}
		kept = append(kept, j)
	}
	return kept
}
