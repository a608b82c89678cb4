package record

import (
	"time"

	"github.com/liverec/liverec/internal/media"
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

// cutter is the Segmenter's state of one format: a file ends at the first video keyframe
// at or after the cycle (audio-only: the first audio frame), and the next file starts with that
// keyframe, so no frame is lost or duplicated.
type cutter struct {
	cycle  time.Duration
	window time.Duration // merge window
	seq    int
	cur    *File
	// prev is the file the last cut ended; it takes late audio older than the cut.
	prev *File
	// leadIn holds copies of audio units seen while no file is open, for the next file.
	leadIn []media.Unit
	// pausedUntil is when the paused open file completes (§6 merge window); zero: not paused.
	pausedUntil time.Time
	halted      bool
}

// isCutPoint tells whether a file may start at u.
func isCutPoint(tracks media.Tracks, u *media.Unit) bool {
	if tracks.Video != nil {
		return u.Track == tracks.Video && u.Keyframe
	}
	return u.Track == tracks.Audio
}

// cut decides where u goes in format i.
func (s *Segmenter) cut(i int, u *media.Unit) {
	c := &s.formats[i]
	if c.halted {
		return
	}
	if p := c.prev; p != nil {
		cut := c.cur.StartDTS
		if !u.Track.IsVideo() && u.Track == p.Tracks.Audio && u.DTS < cut {
			s.emit(Op{Kind: OpWrite, Format: i, Slot: Prev, Unit: u})
			return
		}
		if !u.Track.IsVideo() || u.DTS > cut+lateAudioWindow {
			s.closePrev(i)
		}
	}
	cutHere := isCutPoint(s.tracks, u)
	switch {
	case c.cur == nil:
		if !cutHere {
			// Waiting for a keyframe (start, or after new parameters).
			if !u.Track.IsVideo() && u.Track == s.tracks.Audio {
				c.holdLeadIn(u)
			}
			return
		}
		s.open(i, u)
		s.writeLeadIn(i)
	case cutHere && c.cycle > 0 && u.DTS-c.cur.StartDTS >= c.cycle:
		s.closePrev(i)
		c.prev, c.cur = c.cur, nil
		s.emit(Op{Kind: OpShift, Format: i})
		if s.tracks.Audio == nil {
			s.closePrev(i)
		}
		s.open(i, u)
	}
	if u.Track != c.cur.Tracks.Video && u.Track != c.cur.Tracks.Audio {
		return // a track the file was not opened with (appeared late): cut at the next keyframe
	}
	if u.DTS < c.cur.StartDTS {
		return // audio older than the file's first keyframe with no previous file to take it
	}
	s.emit(Op{Kind: OpWrite, Format: i, Slot: Cur, Unit: u})
}

// open starts format i's next file at u, or at the lead-in audio just before it.
func (s *Segmenter) open(i int, u *media.Unit) {
	c := &s.formats[i]
	start := u.DTS
	if len(c.leadIn) > 0 && u.DTS-c.leadIn[0].DTS <= maxLeadIn && c.leadIn[0].DTS < start {
		start = c.leadIn[0].DTS
	}
	c.cur = &File{Seq: c.seq, Tracks: s.tracks, StartDTS: start, StartWall: s.epoch.Add(start)}
	c.seq++
	s.emit(Op{Kind: OpOpen, Format: i, Slot: Cur, File: *c.cur})
}

// holdLeadIn keeps a copy of an audio unit for the next file, dropping what is older than
// maxLeadIn before it.
func (c *cutter) holdLeadIn(u *media.Unit) {
	drop := 0
	for drop < len(c.leadIn) && u.DTS-c.leadIn[drop].DTS > maxLeadIn {
		drop++
	}
	c.leadIn = append(c.leadIn[:0], c.leadIn[drop:]...)
	cp := *u
	cp.Data = append([]byte(nil), u.Data...)
	c.leadIn = append(c.leadIn, cp)
}

// writeLeadIn writes the held lead-in audio into format i's new file. The decisions point into
// the lead-in, which is not touched again before they are applied.
func (s *Segmenter) writeLeadIn(i int) {
	c := &s.formats[i]
	for j := range c.leadIn {
		u := &c.leadIn[j]
		if u.DTS >= c.cur.StartDTS && u.Track == c.cur.Tracks.Audio {
			s.emit(Op{Kind: OpWrite, Format: i, Slot: Cur, Unit: u})
		}
	}
	c.leadIn = c.leadIn[:0]
}

func (s *Segmenter) closePrev(i int) {
	c := &s.formats[i]
	if c.prev != nil {
		s.emit(Op{Kind: OpComplete, Format: i, Slot: Prev})
		c.prev = nil
	}
}

// closeAll completes every open file of format i.
func (s *Segmenter) closeAll(i int) {
	c := &s.formats[i]
	c.pausedUntil = time.Time{}
	s.closePrev(i)
	if c.cur != nil {
		s.emit(Op{Kind: OpComplete, Format: i, Slot: Cur})
		c.cur = nil
	}
}

func (c *cutter) abandon() {
	c.prev, c.cur = nil, nil
	c.leadIn = nil
	c.pausedUntil = time.Time{}
}

// rebind puts track in old's place in the open files: same parameters, new publication.
func (c *cutter) rebind(old, track *media.Track) {
	for _, f := range []*File{c.prev, c.cur} {
		if f == nil {
			continue
		}
		if f.Tracks.Video == old {
			f.Tracks.Video = track
		}
		if f.Tracks.Audio == old {
			f.Tracks.Audio = track
		}
	}
}
