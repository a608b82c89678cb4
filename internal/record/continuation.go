package record

import (
	"time"

	"github.com/liverec/liverec/internal/record/hls"
	"github.com/liverec/liverec/internal/recording"
)

// Continuation is what a node carries on from when it continues a recording another node
// started: the recording keeps its id and events, and this node's files follow the
// other node's.
type Continuation struct {
	// NextSeq is the number of each format's first file here: after the files the other node
	// started.
	NextSeq map[recording.Format]int
	// Playlist, when set, is the HLS file this node continues instead of starting one: the
	// playlist object stays the same, its sequence numbers go on, and a discontinuity marks
	// the switch.
	Playlist *ContinuedPlaylist
}

// ContinuedPlaylist is an HLS file of another node continued here.
type ContinuedPlaylist struct {
	// Seq and StartWall are the file's number and start: they name its objects.
	Seq       int
	StartWall time.Time
	// Slices are its stored slices, in order; the playlist lists them before this node's.
	Slices []hls.Slice
}

// nextSlice is the sequence number of the first slice this node writes into the playlist.
func (p *ContinuedPlaylist) nextSlice() int {
	if n := len(p.Slices); n > 0 {
		return p.Slices[n-1].Seq + 1
	}
	return 0
}

// continuing applies the continuation to a new Segmenter: the files' numbers go on from the
// other node's, the continued playlist's first.
func (r *Recorder) continuing() {
	c := r.Continue
	if c == nil {
		return
	}
	for i, fc := range r.Rule.Formats {
		seq := c.NextSeq[fc.Format]
		if fc.Format == recording.FormatHLS && c.Playlist != nil {
			seq = c.Playlist.Seq
		}
		r.seg.formats[i].seq = seq
	}
}

// continuedPlaylist returns the continued playlist when file is it (the first HLS file here),
// and consumes it: later HLS files are this node's own.
func (r *Recorder) continuedPlaylist(format recording.Format, file File) *ContinuedPlaylist {
	c := r.Continue
	if c == nil || c.Playlist == nil || format != recording.FormatHLS || file.Seq != c.Playlist.Seq {
		return nil
	}
	p := c.Playlist
	c.Playlist = nil
	return p
}

// priorStats adds the continued slices to a playlist's stats, so the stored file describes the
// whole playlist.
func priorStats(prior []hls.Slice, st *hls.Stats) {
	if len(prior) == 0 {
		return
	}
	all := make([]hls.Slice, 0, len(prior)+len(st.Slices))
	all = append(append(all, prior...), st.Slices...)
	st.Slices = all
	for _, s := range prior {
		st.Duration += s.Duration
		st.VideoFrames += s.VideoFrames
		st.AudioFrames += s.AudioFrames
		st.Bytes += s.Bytes
	}
}
