package rtmp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/media/flv"
	"github.com/liverec/liverec/internal/stream"
)

// errMalformed marks media that cannot be parsed; it closes the connection.
var errMalformed = errors.New("malformed media")

// audioOnlyAfter is how long media may flow without any sign of video before a stream is
// taken as audio-only (until then its audio waits, so that a video stream starts at a
// keyframe).
const audioOnlyAfter = time.Second

// minAudioLead is how much older than the first keyframe held audio may be and still be kept:
// encoders start audio a frame or so before video (ffmpeg's own files do), and that audio
// belongs to the keyframe's moment. Older audio would play over no picture.
const minAudioLead = 100 * time.Millisecond

// Extremes of raw timestamps, for open ranges.
const (
	minDTS = time.Duration(-1 << 62)
	maxDTS = time.Duration(1 << 62)
)

// Bounds on audio held back while waiting for the first video keyframe or the decision.
const (
	maxPendingAudio      = 512
	maxPendingAudioBytes = 1 << 20
	maxAudioFrame        = 64 << 10 // AAC: 6144 bits per channel, 48 channels at most
)

type videoKnown int8

const (
	videoUnknown videoKnown = iota
	videoYes
	videoNo
)

// Ignorable things that are logged once per connection.
const (
	noteVideoCodec = 1 << iota
	noteAudioCodec
	noteNoVideoConfig
	noteNoAudioConfig
	noteBadInBand
	noteMultitrack
)

// converter turns the media messages of one publication into units, in the order the
// recorder needs: video starts at a keyframe, audio of a video stream starts with it, and
// timestamps go through one Cleaner. It is used by the connection's goroutine only.
type converter struct {
	// batch holds the units of the current read round; nil until its first unit, so a
	// connection keeps no batch (and no arena) through its pauses.
	batch *stream.Batch
	// note logs an ignored feature (once per kind); metadata forwards onMetaData's bitrate.
	note     func(kind int, msg string, args ...any)
	metadata func(videoKbps float64)

	clean media.Cleaner
	video *media.Track
	audio *media.Track
	// lastVideoHeader is the last sequence header's track, so that a repeated header that
	// differs from in-band parameters does not flip tracks back and forth.
	lastVideoHeader *media.Track

	hasVideo videoKnown
	// flowing: units are being emitted; videoKeyed: a keyframe of the current video track
	// was emitted.
	flowing    bool
	videoKeyed bool
	started    bool
	firstAt    time.Duration
	firstDTS   time.Duration

	pending      []pendingAudio
	pendingArena []byte

	nVideo, nAudio int
}

type pendingAudio struct {
	track    *media.Track
	off, n   int
	dts, now time.Duration
}

// videoMessage handles the body of an RTMP video message: legacy FLV (AVC, and HEVC as codec
// 12) or Enhanced RTMP (FourCC avc1/hvc1).
func (c *converter) videoMessage(b []byte, dts, now time.Duration) error {
	h, err := flv.ParseVideoHeader(b)
	if err != nil {
		return c.headerError(err)
	}
	switch h.Kind {
	case flv.PacketConfig:
		// Some legacy encoders announce an empty header before the real one.
		if len(h.Payload) == 0 && !h.Enhanced {
			return nil
		}
		return c.videoConfig(h.Codec, h.Payload, now)
	case flv.PacketFrame:
		return c.videoAU(h.Codec, h.Payload, dts, h.CompositionTime, now)
	case flv.PacketMultitrack:
		c.note(noteMultitrack, "ignoring Enhanced RTMP multitrack/ModEx video")
	}
	return nil // end of sequence, metadata, command frames
}

// headerError sorts a failed tag header: media of an unsupported codec is skipped with one
// log line per connection, anything else is malformed.
func (c *converter) headerError(err error) error {
	var u *flv.UnsupportedCodecError
	if !errors.As(err, &u) {
		return fmt.Errorf("%w: %w", errMalformed, err)
	}
	kind, msg, key, val := noteVideoCodec, "ignoring video of an unsupported codec", "codec_id", any(u.ID)
	if u.Audio {
		kind, msg, key = noteAudioCodec, "ignoring audio of an unsupported codec", "sound_format"
	}
	if u.Enhanced {
		key, val = "fourcc", fmt.Sprintf("%q", u.FourCC[:])
	}
	c.note(kind, msg, key, val)
	return nil
}

// videoConfig handles a decoder configuration record. Same parameters as the current track
// keep its pointer; others make a new track, which cuts the recorder's files.
func (c *converter) videoConfig(codec media.Codec, rec []byte, now time.Duration) error {
	t, err := flv.ParseDecoderConfig(codec, rec)
	if err != nil {
		return fmt.Errorf("%w: video sequence header: %w", errMalformed, err)
	}
	c.markStart(0, now)
	c.hasVideo = videoYes
	if t.SameParams(c.lastVideoHeader) {
		return nil
	}
	c.lastVideoHeader = t
	c.setVideo(t)
	return nil
}

func (c *converter) setVideo(t *media.Track) {
	if t.SameParams(c.video) {
		return
	}
	c.video = t
	c.videoKeyed = false // the new parameters need a keyframe to decode
}

func (c *converter) videoAU(codec media.Codec, au []byte, dts, cts, now time.Duration) error {
	if len(au) == 0 {
		return nil
	}
	info, err := media.ScanAVCC(codec, au)
	if err != nil {
		return fmt.Errorf("%w: %w", errMalformed, err)
	}
	c.markStart(dts, now)
	if info.Keyframe || !info.HasPicture || c.video == nil {
		c.inBandParams(codec, au)
	}
	if !info.HasPicture {
		return nil // parameter sets only: a bogus sample in MP4 (go-stack.md)
	}
	if c.video == nil || c.video.Codec != codec {
		c.note(noteNoVideoConfig, "dropping video without a matching sequence header", "codec", codec)
		return nil
	}
	if !c.videoKeyed {
		if !info.Keyframe {
			return nil
		}
		c.videoKeyed = true
		c.hasVideo = videoYes
	}
	if !c.flowing {
		// The held audio of the keyframe's moment goes first, in timestamp order.
		c.flowing = true
		c.emitPending(dts-c.audioLead(), dts)
		c.emit(c.video, dts, dts+cts, now, info.Keyframe, au)
		c.emitPending(dts, maxDTS)
		c.pending, c.pendingArena = nil, nil
		return nil
	}
	c.emit(c.video, dts, dts+cts, now, info.Keyframe, au)
	return nil
}

// inBandParams looks for parameter sets inside an access unit: a change there is a change of
// parameters just like a new sequence header, and a publisher that never sends a header
// still gets a track.
func (c *converter) inBandParams(codec media.Codec, au []byte) {
	var vps, sps, pps []byte
	for p := 0; p+4 <= len(au); {
		n := int(binary.BigEndian.Uint32(au[p:]))
		p += 4
		if n <= 0 || n > len(au)-p {
			break // ScanAVCC validated the unit
		}
		nalu := au[p : p+n]
		p += n
		if codec == media.CodecH264 {
			switch nalu[0] & 0x1f {
			case 7:
				sps = first(sps, nalu)
			case 8:
				pps = first(pps, nalu)
			}
		} else {
			switch (nalu[0] >> 1) & 0x3f {
			case 32:
				vps = first(vps, nalu)
			case 33:
				sps = first(sps, nalu)
			case 34:
				pps = first(pps, nalu)
			}
		}
	}
	if sps == nil && pps == nil && vps == nil {
		return
	}
	cur := c.video
	if cur != nil && cur.Codec == codec {
		if (sps == nil || bytes.Equal(sps, cur.SPS)) && (pps == nil || bytes.Equal(pps, cur.PPS)) &&
			(vps == nil || bytes.Equal(vps, cur.VPS)) {
			return
		}
		vps, sps, pps = orElse(vps, cur.VPS), orElse(sps, cur.SPS), orElse(pps, cur.PPS)
	}
	var t *media.Track
	var err error
	if codec == media.CodecH264 {
		t, err = media.NewH264Track(sps, pps)
	} else {
		t, err = media.NewH265Track(vps, sps, pps)
	}
	if err != nil {
		c.note(noteBadInBand, "ignoring unusable in-band parameter sets", "err", err)
		return
	}
	c.hasVideo = videoYes
	c.setVideo(t)
}

// audioMessage handles the body of an RTMP audio message: legacy AAC or Enhanced RTMP mp4a.
func (c *converter) audioMessage(b []byte, dts, now time.Duration) error {
	h, err := flv.ParseAudioHeader(b)
	if err != nil {
		return c.headerError(err)
	}
	switch h.Kind {
	case flv.PacketConfig:
		t, err := media.ParseAACConfig(h.Payload)
		if err != nil {
			return fmt.Errorf("%w: audio sequence header: %w", errMalformed, err)
		}
		if !t.SameParams(c.audio) {
			c.audio = t
		}
	case flv.PacketFrame:
		return c.audioFrame(h.Payload, dts, now)
	case flv.PacketMultitrack:
		c.note(noteMultitrack, "ignoring Enhanced RTMP multitrack/ModEx audio")
	}
	return nil
}

func (c *converter) audioFrame(p []byte, dts, now time.Duration) error {
	if len(p) == 0 {
		return nil
	}
	if len(p) > maxAudioFrame {
		return fmt.Errorf("%w: AAC frame of %d bytes", errMalformed, len(p))
	}
	if c.audio == nil {
		c.note(noteNoAudioConfig, "dropping audio before its sequence header")
		return nil
	}
	c.markStart(dts, now)
	if c.flowing {
		c.emit(c.audio, dts, dts, now, true, p)
		return nil
	}
	c.hold(p, dts, now)
	if c.hasVideo == videoUnknown && (now-c.firstAt >= audioOnlyAfter || dts-c.firstDTS >= audioOnlyAfter) {
		c.hasVideo = videoNo
	}
	if c.hasVideo == videoNo {
		c.flowing = true
		c.flushPending()
	}
	return nil
}

// end emits the audio of a stream that ended before it was known to have video: it was an
// audio-only stream shorter than the wait.
func (c *converter) end() {
	if !c.flowing && c.hasVideo != videoYes && len(c.pending) > 0 {
		c.flowing = true
		c.flushPending()
	}
}

// onMetaData reads what matters from the publisher's metadata object: whether the stream
// has video (so audio knows whether to wait for a keyframe) and the video bitrate.
func (c *converter) onMetaData(get func(key string) (any, bool)) {
	if c.hasVideo == videoUnknown {
		if v, ok := get("hasVideo"); ok {
			if b, ok := v.(bool); ok && b {
				c.hasVideo = videoYes
			} else if ok {
				c.hasVideo = videoNo
			}
		}
	}
	if c.hasVideo == videoUnknown {
		if v, ok := get("videocodecid"); ok {
			switch id := v.(type) {
			case float64:
				if id != 0 {
					c.hasVideo = videoYes
				}
			case string:
				if id != "" {
					c.hasVideo = videoYes
				}
			}
		}
	}
	if v, ok := get("videodatarate"); ok {
		if kbps, ok := v.(float64); ok && kbps >= 0 && kbps < 1e7 && c.metadata != nil {
			c.metadata(kbps)
		}
	}
}

func (c *converter) markStart(dts, now time.Duration) {
	if !c.started {
		c.started, c.firstAt, c.firstDTS = true, now, dts
	}
}

func (c *converter) emit(t *media.Track, dts, pts, now time.Duration, key bool, data []byte) {
	u := media.Unit{Track: t, Keyframe: key, Data: data}
	u.DTS, u.PTS = c.clean.Clean(t.IsVideo(), dts, pts, now)
	if c.batch == nil {
		c.batch = stream.NewBatch()
	}
	c.batch.Add(&u)
	if t.IsVideo() {
		c.nVideo++
	} else {
		c.nAudio++
	}
}

// hold keeps an audio frame until the stream's start is known, within bounds.
func (c *converter) hold(p []byte, dts, now time.Duration) {
	if len(c.pending) >= maxPendingAudio || len(c.pendingArena)+len(p) > maxPendingAudioBytes {
		c.pending, c.pendingArena = c.pending[:0], c.pendingArena[:0]
	}
	c.pending = append(c.pending, pendingAudio{track: c.audio, off: len(c.pendingArena), n: len(p), dts: dts, now: now})
	c.pendingArena = append(c.pendingArena, p...)
}

// audioLead is minAudioLead, or one audio frame when frames are longer (low sample rates).
func (c *converter) audioLead() time.Duration {
	lead := minAudioLead
	if c.audio != nil && c.audio.SampleRate > 0 {
		lead = max(lead, 1024*time.Second/time.Duration(c.audio.SampleRate))
	}
	return lead
}

// emitPending emits the held audio with from <= DTS < to.
func (c *converter) emitPending(from, to time.Duration) {
	for _, a := range c.pending {
		if a.dts >= from && a.dts < to {
			c.emit(a.track, a.dts, a.dts, a.now, true, c.pendingArena[a.off:a.off+a.n])
		}
	}
}

// flushPending emits all held audio.
func (c *converter) flushPending() {
	c.emitPending(minDTS, maxDTS)
	c.pending, c.pendingArena = nil, nil
}

func first(have, b []byte) []byte {
	if have != nil {
		return have
	}
	return b
}

func orElse(b, def []byte) []byte {
	if b != nil {
		return b
	}
	return def
}
