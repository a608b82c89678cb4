package record

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/record/hls"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/upload"
)

// formatFiles are the open files of one format, in the slots the segmenter decided.
type formatFiles struct {
	cfg       recording.FormatConfig
	cur, prev *openFile
	// err is the first file of the format that could not be completed: the format takes no
	// more media, and the recording ends with the error.
	err error
	// rel is the unit being written, on its file's timeline: kept here so that handing it to
	// the writer (which keeps no pointer to it) allocates nothing.
	rel media.Unit
}

type openFile struct {
	File
	w fileWriter
	// epochs are the wall times of recording time 0 in force over the file, by the recording
	// time they apply from: a resume moves the epoch by the pause's gap, and a slice keeps the
	// one in force when its first unit was written although it completes after the resume.
	epochs []epochMark
	// priorDur is how much of a continued playlist another node recorded.
	priorDur time.Duration
}

type epochMark struct {
	from  time.Duration
	epoch time.Time
}

// seam notes that the file continues at recording time at on epoch.
func (of *openFile) seam(at time.Duration, epoch time.Time) {
	of.epochs = append(of.epochs, epochMark{from: at, epoch: epoch})
}

// wallTime is the wall time of recording time d written into the file.
func (of *openFile) wallTime(d time.Duration) time.Time {
	e := of.StartWall.Add(-of.StartDTS)
	for _, m := range of.epochs {
		if m.from > d {
			break
		}
		e = m.epoch
	}
	return e.Add(d)
}

// dir is the recording's spool directory.
func (r *Recorder) dir() string { return filepath.Join(r.SpoolDir, r.RecordingID) }

// open opens the writer of format i's new file.
func (r *Recorder) open(i int, file File) error {
	f := &r.files[i]
	of := &openFile{File: file}
	var onSlice func(hls.Slice)
	if f.cfg.Format == recording.FormatHLS {
		cfg := f.cfg
		onSlice = func(s hls.Slice) { r.sliceDone(cfg, of, s) }
	}
	cont := r.continuedPlaylist(f.cfg.Format, file)
	if cont != nil {
		// Named by the other node's start, so its objects stay the same; the seam keeps the
		// wall times of this node's media right.
		of.StartWall = cont.StartWall
		of.seam(file.StartDTS, file.StartWall.Add(-file.StartDTS))
		for _, sl := range cont.Slices {
			of.priorDur += sl.Duration
		}
	}
	w, err := openWriter(f.cfg.Format, r.dir(), upload.SpoolName(file.Seq, file.StartWall), r.FileMode, file.Tracks,
		f.cfg, onSlice, cont)
	if err != nil {
		return fmt.Errorf("open %s file %d: %w", f.cfg.Format, file.Seq, err)
	}
	if r.wrapWriter != nil {
		w = r.wrapWriter(w)
	}
	of.w = w
	f.cur = of
	r.Logger.Debug("file started", "format", f.cfg.Format, "seq", file.Seq, "continued", cont != nil)
	if cont != nil {
		return nil // its file_started was the other node's
	}
	r.Reporter.FileStarted(FileStarted{Format: f.cfg.Format, Seq: file.Seq, Start: file.StartWall, Tracks: file.Tracks,
		Config: f.cfg, Storage: r.Rule.Storage, Vars: r.vars(f.cfg.Format, file.Seq, file.StartWall, time.Time{})})
	return nil
}

// write writes u (recording time) into the file in slot, on the file's own timeline.
func (f *formatFiles) write(slot Slot, u *media.Unit) error {
	of := f.cur
	if slot == Prev {
		of = f.prev
	}
	rel := &f.rel
	*rel = *u
	rel.DTS -= of.StartDTS
	rel.PTS -= of.StartDTS
	if rel.PTS < rel.DTS {
		rel.PTS = rel.DTS
	}
	err := of.w.WriteUnit(rel)
	*rel = media.Unit{} // holds no data between units
	if err != nil {
		return fmt.Errorf("write %s file %d: %w", f.cfg.Format, of.Seq, err)
	}
	return nil
}

// complete completes the file in slot of format i and hands it to Jobs. A file that cannot be
// completed is handed over for recovery instead, and the format takes no more media.
func (r *Recorder) complete(i int, slot Slot) {
	f := &r.files[i]
	of := f.cur
	if slot == Prev {
		of = f.prev
	}
	job, err := of.w.Close()
	if slot == Prev {
		f.prev = nil
	} else {
		f.cur = nil
	}
	if err != nil {
		f.err = err
		r.seg.Halt(i)
		r.Logger.Error("completing file failed, recovering what was written", "format", f.cfg.Format, "seq", of.Seq, "err", err)
		of.w.Abort()
		r.Jobs.Enqueue(r.recoverJob(f.cfg, of))
		return
	}
	job.RecordingID = r.RecordingID
	job.Format = f.cfg.Format
	job.Seq = of.Seq
	job.Start = of.StartWall
	// The recording's epoch moved by the gap of any pause inside the file: the end is wall time.
	job.End = r.seg.Epoch().Add(of.StartDTS + job.Stats.Duration - of.priorDur)
	job.Config = f.cfg
	job.Storage = r.Rule.Storage
	job.Vars = r.vars(f.cfg.Format, of.Seq, job.Start, job.End)
	r.Metrics.fileCompleted(f.cfg.Format, job.Stats.Bytes)
	r.Jobs.Enqueue(job)
}

// abandon closes format i's open files after a failure without completing them, and hands
// them as they are on disk to Jobs, which recovers what was written (nothing written is
// deleted).
func (r *Recorder) abandon(i int) {
	f := &r.files[i]
	for _, of := range []*openFile{f.prev, f.cur} {
		if of == nil {
			continue
		}
		of.w.Abort()
		r.Jobs.Enqueue(r.recoverJob(f.cfg, of))
	}
	f.prev, f.cur = nil, nil
}

// recoverJob describes an open file to recover from the spool.
func (r *Recorder) recoverJob(cfg recording.FormatConfig, of *openFile) *upload.Job {
	return &upload.Job{Kind: upload.JobRecover, RecordingID: r.RecordingID, Format: cfg.Format, Seq: of.Seq,
		SpoolPath: of.w.Path(), Start: of.StartWall, Config: cfg, Storage: r.Rule.Storage,
		Vars: r.vars(cfg.Format, of.Seq, of.StartWall, of.StartWall)}
}

// sliceDone is the HLS writer's callback for a completed slice of playlist of.
func (r *Recorder) sliceDone(cfg recording.FormatConfig, of *openFile, s hls.Slice) {
	// The wall time of its first frame: a slice a resume completes began before the pause.
	start := of.wallTime(of.StartDTS + s.Start)
	r.Jobs.Enqueue(&upload.Job{
		Kind: upload.JobSlice, RecordingID: r.RecordingID, Format: cfg.Format, Seq: s.Seq, PlaylistSeq: of.Seq,
		SpoolPath: s.Path, Start: start, End: start.Add(s.Duration), Config: cfg, Storage: r.Rule.Storage,
		Stats: upload.FileStats{Duration: s.Duration, VideoFrames: s.VideoFrames, AudioFrames: s.AudioFrames, Bytes: s.Bytes},
		Vars:  r.vars(cfg.Format, s.Seq, start, start.Add(s.Duration)), Slice: s,
		PlaylistVars: r.vars(cfg.Format, of.Seq, of.StartWall, time.Time{}),
	})
}

func (r *Recorder) vars(f recording.Format, seq int, start, end time.Time) upload.NameVars {
	return upload.NameVars{Domain: r.Key.Domain, App: r.Key.App, Stream: r.Key.Stream, Format: string(f),
		RecordType: upload.RecordType(r.Rule.Mode), Sequence: seq, Start: start, End: end}
}
