// Package loadgen is a cheap RTMP load publisher: it reads an FLV file once and replays it,
// looping with continuous timestamps, to many concurrent RTMP streams paced in real time.
//
// It is built to cost far less CPU per stream than one ffmpeg process per stream: a few
// scheduler goroutines wake on a tick and write, for each stream, every message due by then
// as hand-made RTMP chunks in one Write; buffers are reused, so steady state allocates nothing.
package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/liverec/liverec/internal/media/flv"
)

// maxTags bounds how many tags a clip may hold (about 50 hours of 30 fps video with audio).
const maxTags = 10_000_000

// maxOverrun is how far past the requested duration a stream keeps publishing to stop just
// before a keyframe; a clip whose keyframes are further apart stops at the first message due
// at or after the duration instead.
const maxOverrun = 10 * time.Second

// Msg is one RTMP message of a clip: the body of an FLV tag, sent as is.
type Msg struct {
	Type uint8 // flv.TagAudio, flv.TagVideo or flv.TagScript
	// TS is the message's time in milliseconds: relative to the body's first message for the
	// body, 0 for the headers.
	TS    uint32
	Data  []byte
	Video bool // a coded video frame
	Audio bool // a coded audio frame
	Key   bool // a video keyframe
}

// Clip is an FLV file prepared for looping: the headers (onMetaData and the sequence headers)
// are sent once when a stream starts; the body, from the file's first keyframe to its end, is
// sent over and over, loop k shifted by k*Period.
type Clip struct {
	Headers []Msg
	Body    []Msg
	// Period is the time from one loop's first message to the next loop's, in milliseconds:
	// the body's last timestamp plus one frame step (Step).
	Period uint32
	Step   uint32
	// Frames per loop.
	VideoPerLoop, AudioPerLoop int
	// Skipped counts the frames before the first keyframe, which are never sent.
	Skipped int

	// videoBefore[i] and audioBefore[i] count the frames in Body[:i].
	videoBefore, audioBefore []int
}

// LoadFile reads and prepares an FLV file.
func LoadFile(path string) (*Clip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := ParseClip(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseClip reads an FLV stream and prepares it for looping. The first onMetaData and the
// first video and audio sequence headers become the headers; coded frames from the first
// video keyframe on (from the first frame for a file without video) become the body. End of
// sequence tags and other non-frame packets are dropped. Timestamps are made strictly
// increasing per track (a repeated or backward timestamp becomes the previous one plus 1 ms).
func ParseClip(r io.Reader) (*Clip, error) {
	fr, err := flv.NewReader(r)
	if err != nil {
		return nil, err
	}
	var (
		c                Clip
		meta, vcfg, acfg []byte
		frames           []Msg
		hasVideo         bool
		lastV, lastA     int64 = -1, -1
	)
	for n := 0; ; n++ {
		if n >= maxTags {
			return nil, fmt.Errorf("more than %d tags", maxTags)
		}
		tag, err := fr.ReadTag()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break // a file cut while recording: keep what is whole
		}
		if err != nil {
			return nil, fmt.Errorf("tag %d: %w", n, err)
		}
		switch tag.Type {
		case flv.TagScript:
			if meta == nil && isOnMetaData(tag.Data) {
				meta = setDataFrame(tag.Data)
			}
		case flv.TagVideo:
			h, err := flv.ParseVideoHeader(tag.Data)
			if err != nil {
				return nil, fmt.Errorf("video tag %d at %d ms: %w", n, tag.Timestamp, err)
			}
			switch h.Kind {
			case flv.PacketConfig:
				if err := sameOrFirst(&vcfg, tag.Data); err != nil {
					return nil, fmt.Errorf("video tag %d at %d ms: %w", n, tag.Timestamp, err)
				}
			case flv.PacketFrame:
				if vcfg == nil {
					return nil, fmt.Errorf("video tag %d at %d ms: frame before the sequence header", n, tag.Timestamp)
				}
				ts := max(int64(tag.Timestamp), lastV+1)
				lastV = ts
				hasVideo = true
				frames = append(frames, Msg{Type: flv.TagVideo, TS: uint32(ts), Data: tag.Data, Video: true, Key: h.FrameType == 1})
			}
		case flv.TagAudio:
			h, err := flv.ParseAudioHeader(tag.Data)
			if err != nil {
				return nil, fmt.Errorf("audio tag %d at %d ms: %w", n, tag.Timestamp, err)
			}
			switch h.Kind {
			case flv.PacketConfig:
				if err := sameOrFirst(&acfg, tag.Data); err != nil {
					return nil, fmt.Errorf("audio tag %d at %d ms: %w", n, tag.Timestamp, err)
				}
			case flv.PacketFrame:
				if acfg == nil {
					return nil, fmt.Errorf("audio tag %d at %d ms: frame before the sequence header", n, tag.Timestamp)
				}
				ts := max(int64(tag.Timestamp), lastA+1)
				lastA = ts
				frames = append(frames, Msg{Type: flv.TagAudio, TS: uint32(ts), Data: tag.Data, Audio: true})
			}
		}
	}

	// The body starts at the first keyframe.
	start := 0
	if hasVideo {
		start = -1
		for i := range frames {
			if frames[i].Key {
				start = i
				break
			}
		}
		if start < 0 {
			return nil, errors.New("no video keyframe")
		}
	}
	if len(frames) == 0 {
		return nil, errors.New("no audio or video frames")
	}
	c.Skipped = start
	body := frames[start:]
	base := body[0].TS
	var maxTS uint32
	for i := range body {
		base = min(base, body[i].TS)
	}
	for i := range body {
		body[i].TS -= base
		maxTS = max(maxTS, body[i].TS)
	}
	c.Body = body
	c.Step = frameStep(body, hasVideo)
	if uint64(maxTS)+uint64(c.Step) > 1<<31 {
		return nil, fmt.Errorf("clip lasts %d ms: too long", maxTS)
	}
	c.Period = maxTS + c.Step

	for _, h := range []Msg{{Type: flv.TagScript, Data: meta}, {Type: flv.TagVideo, Data: vcfg}, {Type: flv.TagAudio, Data: acfg}} {
		if h.Data != nil {
			c.Headers = append(c.Headers, h)
		}
	}

	c.videoBefore = make([]int, len(body)+1)
	c.audioBefore = make([]int, len(body)+1)
	for i := range body {
		c.videoBefore[i+1], c.audioBefore[i+1] = c.videoBefore[i], c.audioBefore[i]
		if body[i].Video {
			c.videoBefore[i+1]++
		} else {
			c.audioBefore[i+1]++
		}
	}
	c.VideoPerLoop, c.AudioPerLoop = c.videoBefore[len(body)], c.audioBefore[len(body)]
	return &c, nil
}

// frameStep is the typical time between frames of the video track (of the audio track without
// video), rounded to milliseconds: the gap the seam between two loops gets.
func frameStep(body []Msg, video bool) uint32 {
	var first, last uint32
	n := 0
	for i := range body {
		if body[i].Video == video {
			if n == 0 {
				first = body[i].TS
			}
			last = body[i].TS
			n++
		}
	}
	if n < 2 {
		return 40
	}
	step := (uint64(last-first) + uint64(n-1)/2) / uint64(n-1)
	return uint32(max(step, 1))
}

// isOnMetaData tells whether a script tag body starts with the AMF0 string "onMetaData".
func isOnMetaData(b []byte) bool {
	const name = "onMetaData"
	return len(b) >= 3+len(name) && b[0] == 0x02 && int(b[1])<<8|int(b[2]) == len(name) &&
		string(b[3:3+len(name)]) == name
}

// setDataFrame prefixes a script tag body with the AMF0 string "@setDataFrame", as RTMP
// publishers send metadata.
func setDataFrame(b []byte) []byte {
	const name = "@setDataFrame"
	out := make([]byte, 0, 3+len(name)+len(b))
	out = append(out, 0x02, 0, byte(len(name)))
	out = append(out, name...)
	return append(out, b...)
}

// Pos is a position in the endless sequence of body messages: loop Pos/len(Body), message
// Pos%len(Body).
type Pos int64

// Timestamp returns the timestamp (ms) of the message at p.
func (c *Clip) Timestamp(p Pos) int64 {
	n := int64(len(c.Body))
	return int64(p)/n*int64(c.Period) + int64(c.Body[int64(p)%n].TS)
}

// StopAt returns the position a stream publishing for d stops before: the first video
// keyframe due at or after d (so recorders get whole GOPs), or, for a clip without video or
// keyframes further apart than maxOverrun, the first message due at or after d. Every message
// before it is sent, so a stream always ends after a complete frame.
func (c *Clip) StopAt(d time.Duration) Pos {
	dms := int64((d + time.Millisecond - 1) / time.Millisecond)
	n := int64(len(c.Body))
	hasVideo := c.VideoPerLoop > 0
	// Every loop starts with a keyframe when there is video, so the answer lies within a loop
	// and maxOverrun after d; the scan starts one loop before d.
	loop := max(dms/int64(c.Period)-1, 0)
	first := Pos(-1)
	limit := Pos((loop + 3 + int64(maxOverrun/time.Millisecond)/int64(c.Period)) * n)
	for p := Pos(loop * n); p < limit; p++ {
		ts := c.Timestamp(p)
		if ts < dms {
			continue
		}
		if first < 0 {
			first = p
			if !hasVideo {
				return p
			}
		}
		if ts > dms+int64(maxOverrun/time.Millisecond) {
			break
		}
		if c.Body[int64(p)%n].Key {
			return p
		}
	}
	return first
}

// Frames returns how many video and audio frames the messages before p hold.
func (c *Clip) Frames(p Pos) (video, audio int) {
	n := int64(len(c.Body))
	loops, i := int64(p)/n, int64(p)%n
	return int(loops)*c.VideoPerLoop + c.videoBefore[i], int(loops)*c.AudioPerLoop + c.audioBefore[i]
}

var errParamChange = errors.New("sequence header changes mid-file: looping it is not supported")

// sameOrFirst keeps the first sequence header of a track; a later identical one is dropped and
// a different one refused (a loop would start with the wrong decoder configuration).
func sameOrFirst(have *[]byte, b []byte) error {
	switch {
	case *have == nil:
		*have = b
	case !bytes.Equal(*have, b):
		return errParamChange
	}
	return nil
}
