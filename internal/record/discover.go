package record

import (
	"sort"
	"time"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/stream"
	"github.com/liverec/liverec/internal/upload"
)

// discovery is what the recorder learns from the media it holds back before the recording is
// decided: the stream's tracks, and its video bitrate when the publisher states none.
type discovery struct {
	pending []*stream.Batch
	tracks  media.Tracks
	done    bool
}

// handle takes a batch of the attached publication: held back until the recording is
// decided, then written.
func (r *Recorder) handle(b *stream.Batch) {
	if r.failed != nil || r.skip {
		b.Release()
		return
	}
	if !r.resolved {
		r.disc.pending = append(r.disc.pending, b)
		if !r.discover() {
			return
		}
		r.decide()
		return
	}
	r.writeBatch(b)
}

// decide resolves the recording with what was held back and, if it is recorded, starts it
// with the held-back media.
func (r *Recorder) decide() {
	r.resolved = true
	if !r.resolve(StreamInfo{Tracks: r.disc.tracks, VideoKbps: r.videoKbps()}) {
		r.skip = true
		r.releasePending()
		return
	}
	r.Metrics.recordingStarted()
	if err := upload.WriteManifest(r.SpoolDir, upload.Manifest{RecordingID: r.RecordingID, Key: r.Key,
		Rule: r.Rule, Start: r.StartWall}, r.FileMode); err != nil {
		r.fail(err)
	}
	r.replayPending()
}

// resolveLate decides with what arrived when the publisher left while media was held back for
// the decision, so a short stream is recorded too.
func (r *Recorder) resolveLate() {
	if r.resolved || len(r.disc.pending) == 0 {
		return
	}
	r.discover()
	r.decide()
}

// resolve decides the rule and sets up the segmenter and the formats' files; false means
// nothing is recorded.
func (r *Recorder) resolve(info StreamInfo) bool {
	rule, err := r.Reporter.Resolve(info)
	if err != nil {
		r.Logger.Error("deciding how to record failed", "err", err)
		return false
	}
	if rule == nil {
		return false
	}
	r.Rule = *rule
	r.seg = NewSegmenter(&r.Rule, r.disc.tracks, r.StartWall, time.Now())
	r.continuing()
	resumable := false
	for _, fc := range r.Rule.Formats {
		r.files = append(r.files, formatFiles{cfg: fc})
		resumable = resumable || mergeWindow(fc) > 0
	}
	r.in.setResumable(resumable)
	return len(r.files) > 0
}

// videoKbps is the publisher's stated video bitrate, else the one of the held-back video.
func (r *Recorder) videoKbps() int {
	if k := r.metaKbps.Load(); k > 0 {
		return int(k)
	}
	var bytes int64
	var first, last time.Duration
	n := 0
	for _, b := range r.disc.pending {
		for i := range b.Units {
			u := &b.Units[i]
			if !u.Track.IsVideo() {
				continue
			}
			if n == 0 {
				first = u.DTS
			}
			last = u.DTS
			bytes += int64(len(u.Data))
			n++
		}
	}
	if n < 2 || last <= first {
		return 0
	}
	return int(bytes * 8 * int64(time.Second) / int64(last-first) / 1000)
}

func (r *Recorder) releasePending() {
	for _, b := range r.disc.pending {
		b.Release()
	}
	r.disc.pending = nil
}

// replayPending writes the units held back during discovery in DTS order, so that audio sent
// just after the first keyframe but older than it still lands in the first file. The sort is
// stable, so each track keeps its order.
func (r *Recorder) replayPending() {
	var units []*media.Unit
	for _, b := range r.disc.pending {
		for i := range b.Units {
			units = append(units, &b.Units[i])
		}
	}
	sort.SliceStable(units, func(i, j int) bool { return units[i].DTS < units[j].DTS })
	now := time.Now()
	for _, u := range units {
		r.writeUnit(u, now)
		if r.failed != nil {
			break
		}
	}
	r.releasePending()
}

// discover learns the tracks from the held-back batches: done when both a video and an audio
// track were seen, or when DiscoveryWindow of media passed.
func (r *Recorder) discover() bool {
	d := &r.disc
	var first, last time.Duration
	n := 0
	for _, b := range d.pending {
		for i := range b.Units {
			u := &b.Units[i]
			if u.Track.IsVideo() {
				if d.tracks.Video == nil {
					d.tracks.Video = u.Track
				}
			} else if d.tracks.Audio == nil {
				d.tracks.Audio = u.Track
			}
			if n == 0 {
				first = u.DTS
			}
			last = u.DTS
			n++
		}
	}
	if (d.tracks.Video != nil && d.tracks.Audio != nil) || last-first >= r.DiscoveryWindow {
		d.done = true
	}
	// Without a stated bitrate, hold video back long enough to measure it (§5 vbitrate).
	if d.done && d.tracks.Video != nil && r.metaKbps.Load() == 0 && last-first < r.BitrateWindow {
		return false
	}
	return d.done
}
