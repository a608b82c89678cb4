package media

import "time"

// ToTimescale converts a duration to ticks of a clock with the given rate (ticks per second),
// rounding to the nearest tick. It is the only place where clock-rate math is done.
func ToTimescale(d time.Duration, rate int64) int64 {
	// Split to avoid overflow for long recordings at 90 kHz: d up to ~292 years.
	sec := int64(d / time.Second)
	rem := int64(d % time.Second)
	return sec*rate + (rem*rate+int64(time.Second)/2)/int64(time.Second)
}

// FromTimescale converts ticks of a clock with the given rate to a duration.
func FromTimescale(ticks int64, rate int64) time.Duration {
	sec := ticks / rate
	rem := ticks % rate
	return time.Duration(sec)*time.Second + time.Duration(rem*int64(time.Second)/rate)
}

// Cleaner turns the timestamps a publisher sends into a timeline the muxers can trust: it
// starts at zero, survives jumps forward and backward and 32-bit wraps, and keeps each track's
// DTS strictly increasing. One Cleaner serves one publishing session; it is not safe for
// concurrent use.
//
// A jump is a timestamp that moves away from the stream's newest timestamp by more than the
// media could have advanced: backwards beyond MaxBackStep, or forwards beyond the wall-clock
// time that passed plus MaxForwardSlack. After a jump the timeline continues from the newest
// output timestamp plus one nominal frame step, so a pause in the publisher's clock does not
// become a gap in the file.
type Cleaner struct {
	// MaxBackStep is how far a timestamp may lag the newest one before it is a jump back
	// (interleaving of audio and video makes small steps back normal). Default 1 s.
	MaxBackStep time.Duration
	// MaxForwardSlack is how far the media clock may run ahead of the wall clock before a step
	// forward is a jump. Default 2 s.
	MaxForwardSlack time.Duration

	started  bool
	offset   time.Duration // output = raw + offset
	newestIn time.Duration // newest raw timestamp seen (after offset changes, in raw terms)
	newestAt time.Duration // wall clock of newestIn
	lastDTS  [2]time.Duration
	haveLast [2]bool
}

// nominalStep is the advance used across a discontinuity: one frame at 30 fps is a good
// compromise between audio (21–23 ms) and video (33–40 ms) frame durations.
const nominalStep = 33 * time.Millisecond

// minStep is the smallest DTS step kept between two units of a track.
const minStep = time.Millisecond

// Clean converts a raw DTS and PTS, seen at wall-clock time now (any monotonic clock), into
// clean ones for a unit of a video or audio track.
func (c *Cleaner) Clean(video bool, rawDTS, rawPTS, now time.Duration) (dts, pts time.Duration) {
	if c.MaxBackStep <= 0 {
		c.MaxBackStep = time.Second
	}
	if c.MaxForwardSlack <= 0 {
		c.MaxForwardSlack = 2 * time.Second
	}
	cto := rawPTS - rawDTS
	if cto < 0 || cto > 10*time.Second {
		cto = 0
	}

	switch {
	case !c.started:
		c.started = true
		c.offset = -rawDTS
		c.newestIn, c.newestAt = rawDTS, now
	case rawDTS < c.newestIn-c.MaxBackStep ||
		rawDTS-c.newestIn > (now-c.newestAt)+c.MaxForwardSlack:
		// Discontinuity: continue right after the newest output timestamp.
		c.offset = c.newestIn + c.offset + nominalStep - rawDTS
		c.newestIn, c.newestAt = rawDTS, now
	case rawDTS > c.newestIn:
		c.newestIn, c.newestAt = rawDTS, now
	}

	dts = rawDTS + c.offset
	idx := 0
	if video {
		idx = 1
	}
	if c.haveLast[idx] && dts < c.lastDTS[idx]+minStep {
		dts = c.lastDTS[idx] + minStep
	}
	if dts < 0 {
		dts = 0
	}
	c.lastDTS[idx], c.haveLast[idx] = dts, true
	return dts, dts + cto
}
