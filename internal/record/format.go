package record

import (
	"fmt"
	"time"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/record/hls"
	"github.com/liverec/liverec/internal/recording"
)

// lateAudioWindow bounds how long a file stays open after its successor started, to take audio
// frames that belong before the cut but arrive after the keyframe that made it (publishers
// interleave audio and video loosely).
const lateAudioWindow = time.Second

// maxLeadIn bounds how much audio that precedes a file's first keyframe is kept for it, when
// there is no earlier file to hold it (the start of a recording, new parameters, a manual or
// plan start): encoders often send audio a frame or two before the first video keyframe, but
// more than that would play over no picture and unbalance the file's audio and video.
const maxLeadIn = 50 * time.Millisecond

// formatState cuts one format of a recording into files (§4): a file ends at the first video
// keyframe at or after the cycle (audio-only: the first audio frame), and the next file starts
// with that keyframe, so no frame is lost or duplicated.
type formatState struct {
	rec   *Recorder
	cfg   recording.FormatConfig
	dir   string
	cycle time.Duration
	seq   int
	cur   *openFile
	// prev is the file the last cut ended; it takes late audio older than the cut.
	prev *openFile
	// leadIn holds copies of audio units seen while no file is open, for the next file.
	leadIn []media.Unit
	err    error
}

type openFile struct {
	w         fileWriter
	seq       int
	tracks    media.Tracks
	startDTS  time.Duration
	startWall time.Time
}

// isCutPoint tells whether a file may start at u.
func isCutPoint(tracks media.Tracks, u *media.Unit) bool {
	if tracks.Video != nil {
		return u.Track == tracks.Video && u.Keyframe
	}
	return u.Track == tracks.Audio
}

func (fs *formatState) write(u *media.Unit) error {
	if fs.err != nil {
		return nil
	}
	if p := fs.prev; p != nil {
		cut := fs.cur.startDTS
		if !u.Track.IsVideo() && u.Track == p.tracks.Audio && u.DTS < cut {
			return fs.writeTo(p, u)
		}
		if !u.Track.IsVideo() || u.DTS > cut+lateAudioWindow {
			fs.closePrev()
		}
	}
	tracks := fs.rec.tracks
	cutHere := isCutPoint(tracks, u)
	switch {
	case fs.cur == nil:
		if !cutHere {
			// Waiting for a keyframe (start, or after new parameters).
			if !u.Track.IsVideo() && u.Track == tracks.Audio {
				fs.holdLeadIn(u)
			}
			return nil
		}
		if err := fs.open(u); err != nil {
			return err
		}
		if err := fs.writeLeadIn(); err != nil {
			return err
		}
	case cutHere && fs.cycle > 0 && u.DTS-fs.cur.startDTS >= fs.cycle:
		fs.closePrev()
		fs.prev = fs.cur
		fs.cur = nil
		if tracks.Audio == nil {
			fs.closePrev()
		}
		if err := fs.open(u); err != nil {
			return err
		}
	}
	if u.Track != fs.cur.tracks.Video && u.Track != fs.cur.tracks.Audio {
		return nil // a track the file was not opened with (appeared late): cut at the next keyframe
	}
	if u.DTS < fs.cur.startDTS {
		return nil // audio older than the file's first keyframe with no previous file to take it
	}
	return fs.writeTo(fs.cur, u)
}

// holdLeadIn keeps a copy of an audio unit for the next file, dropping what is older than
// maxLeadIn before it.
func (fs *formatState) holdLeadIn(u *media.Unit) {
	drop := 0
	for drop < len(fs.leadIn) && u.DTS-fs.leadIn[drop].DTS > maxLeadIn {
		drop++
	}
	fs.leadIn = append(fs.leadIn[:0], fs.leadIn[drop:]...)
	c := *u
	c.Data = append([]byte(nil), u.Data...)
	fs.leadIn = append(fs.leadIn, c)
}

func (fs *formatState) writeLeadIn() error {
	for i := range fs.leadIn {
		u := &fs.leadIn[i]
		if u.DTS >= fs.cur.startDTS && u.Track == fs.cur.tracks.Audio {
			if err := fs.writeTo(fs.cur, u); err != nil {
				return err
			}
		}
	}
	fs.leadIn = fs.leadIn[:0]
	return nil
}

func (fs *formatState) writeTo(of *openFile, u *media.Unit) error {
	rel := *u
	rel.DTS -= of.startDTS
	rel.PTS -= of.startDTS
	if rel.PTS < rel.DTS {
		rel.PTS = rel.DTS
	}
	if err := of.w.WriteUnit(&rel); err != nil {
		return fmt.Errorf("write %s file %d: %w", fs.cfg.Format, of.seq, err)
	}
	return nil
}

func (fs *formatState) open(u *media.Unit) error {
	r := fs.rec
	start := u.DTS
	if len(fs.leadIn) > 0 && u.DTS-fs.leadIn[0].DTS <= maxLeadIn && fs.leadIn[0].DTS < start {
		start = fs.leadIn[0].DTS
	}
	of := &openFile{seq: fs.seq, tracks: r.tracks, startDTS: start, startWall: r.StartWall.Add(start)}
	var onSlice func(hls.Slice)
	if fs.cfg.Format == recording.FormatHLS {
		onSlice = func(s hls.Slice) { r.sliceDone(fs, of, s) }
	}
	w, err := openWriter(fs.cfg.Format, fs.dir, fs.seq, r.tracks, fs.cfg, onSlice)
	if err != nil {
		return fmt.Errorf("open %s file %d: %w", fs.cfg.Format, fs.seq, err)
	}
	of.w = w
	fs.cur = of
	fs.seq++
	r.Logger.Debug("file started", "format", fs.cfg.Format, "seq", of.seq)
	if r.OnFileStarted != nil {
		r.OnFileStarted(FileStarted{Format: fs.cfg.Format, Seq: of.seq, Start: of.startWall, Tracks: of.tracks})
	}
	return nil
}

func (fs *formatState) flush() error {
	for _, of := range []*openFile{fs.prev, fs.cur} {
		if of != nil {
			if err := of.w.Flush(); err != nil {
				return fmt.Errorf("flush %s file %d: %w", fs.cfg.Format, of.seq, err)
			}
		}
	}
	return nil
}

func (fs *formatState) closePrev() {
	if fs.prev != nil {
		fs.complete(fs.prev)
		fs.prev = nil
	}
}

// closeAll completes every open file of the format.
func (fs *formatState) closeAll() {
	fs.closePrev()
	if fs.cur != nil {
		fs.complete(fs.cur)
		fs.cur = nil
	}
}

func (fs *formatState) complete(of *openFile) {
	job, err := of.w.Close()
	if err != nil {
		fs.err = err
		fs.rec.Logger.Error("completing file failed", "format", fs.cfg.Format, "seq", of.seq, "err", err)
		return
	}
	r := fs.rec
	job.RecordingID = r.RecordingID
	job.Format = fs.cfg.Format
	job.Seq = of.seq
	job.Start = of.startWall
	job.End = of.startWall.Add(job.Stats.Duration)
	job.Config = fs.cfg
	job.Storage = r.Rule.Storage
	job.Vars = r.vars(fs.cfg.Format, of.seq, job.Start, job.End)
	r.Metrics.fileCompleted(fs.cfg.Format, job.Stats.Bytes)
	r.Complete(job)
}

// abandon closes the open files after a failure without completing them: their spool content
// stays where it is, for recovery (§6: nothing written is deleted).
func (fs *formatState) abandon() {
	for _, of := range []*openFile{fs.prev, fs.cur} {
		if of == nil {
			continue
		}
		if job, err := of.w.Close(); err == nil && job.sink != nil {
			job.sink.Close()
		}
	}
	fs.prev, fs.cur = nil, nil
	fs.leadIn = nil
}
