package record

import (
	"fmt"
	"strconv"
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
	// pausedUntil is when the paused open file completes (§6 merge window); zero: not paused.
	pausedUntil time.Time
	err         error
}

type openFile struct {
	w         fileWriter
	seq       int
	tracks    media.Tracks
	startDTS  time.Duration
	startWall time.Time
}

// hls returns the open file's HLS writer, if it is one.
func (of *openFile) hls() (*hls.Writer, bool) {
	if of == nil {
		return nil, false
	}
	x, ok := of.w.(*hlsFile)
	if !ok {
		return nil, false
	}
	return x.w, true
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
	of := &openFile{seq: fs.seq, tracks: r.tracks, startDTS: start, startWall: r.epoch.Add(start)}
	var onSlice func(hls.Slice)
	if fs.cfg.Format == recording.FormatHLS {
		onSlice = func(s hls.Slice) { r.sliceDone(fs, of, s) }
	}
	w, err := openWriter(fs.cfg.Format, fs.dir, spoolName(fs.seq, of.startWall), r.tracks, fs.cfg, onSlice)
	if err != nil {
		return fmt.Errorf("open %s file %d: %w", fs.cfg.Format, fs.seq, err)
	}
	if r.wrapWriter != nil {
		w = r.wrapWriter(w)
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
	fs.pausedUntil = time.Time{}
	fs.closePrev()
	if fs.cur != nil {
		fs.complete(fs.cur)
		fs.cur = nil
	}
}

func (fs *formatState) complete(of *openFile) {
	r := fs.rec
	job, err := of.w.Close()
	if err == nil && job.sink != nil {
		// The file's last bytes go to write(2) now, not when the Finisher gets to the job:
		// a crash, or a shutdown that times out, while the job waits must not lose them (§4).
		err = job.sink.Flush()
	}
	if err != nil {
		fs.err = err
		r.Logger.Error("completing file failed, recovering what was written", "format", fs.cfg.Format, "seq", of.seq, "err", err)
		of.w.Abort()
		r.Complete(fs.recoverJob(of))
		return
	}
	job.RecordingID = r.RecordingID
	job.Format = fs.cfg.Format
	job.Seq = of.seq
	job.Start = of.startWall
	// The recording's epoch moved by the gap of any pause inside the file: the end is wall time.
	job.End = r.epoch.Add(of.startDTS + job.Stats.Duration)
	job.Config = fs.cfg
	job.Storage = r.Rule.Storage
	job.Vars = r.vars(fs.cfg.Format, of.seq, job.Start, job.End)
	r.Metrics.fileCompleted(fs.cfg.Format, job.Stats.Bytes)
	r.Complete(job)
}

// abandon closes the open files after a failure without completing them, and hands them as
// they are on disk to the Finisher, which recovers what was written (§6: nothing written is
// deleted).
func (fs *formatState) abandon() {
	for _, of := range []*openFile{fs.prev, fs.cur} {
		if of == nil {
			continue
		}
		of.w.Abort()
		fs.rec.Complete(fs.recoverJob(of))
	}
	fs.prev, fs.cur = nil, nil
	fs.leadIn = nil
	fs.pausedUntil = time.Time{}
}

// recoverJob describes an open file to recover from the spool.
func (fs *formatState) recoverJob(of *openFile) *Job {
	r := fs.rec
	return &Job{Kind: JobRecover, RecordingID: r.RecordingID, Format: fs.cfg.Format, Seq: of.seq,
		SpoolPath: of.w.Path(), Start: of.startWall, Config: fs.cfg, Storage: r.Rule.Storage,
		Vars: r.vars(fs.cfg.Format, of.seq, of.startWall, of.startWall)}
}

// resume continues the paused open file after a pause: HLS marks the seam (§4).
func (fs *formatState) resume(tracks media.Tracks) {
	fs.pausedUntil = time.Time{}
	if h, ok := fs.cur.hls(); ok {
		h.Discontinuity(tracks)
	}
}

// rebind puts track in old's place in the open files: same parameters, new publication.
func (fs *formatState) rebind(old, track *media.Track) {
	for _, of := range []*openFile{fs.prev, fs.cur} {
		if of == nil {
			continue
		}
		if of.tracks.Video == old {
			of.tracks.Video = track
		}
		if of.tracks.Audio == old {
			of.tracks.Audio = track
		}
	}
}

// spoolName names a file (HLS: a playlist directory) in the spool by its sequence number and
// start, which crash recovery reads back.
func spoolName(seq int, start time.Time) string {
	return strconv.Itoa(seq) + "_" + strconv.FormatInt(start.UnixMilli(), 10)
}
