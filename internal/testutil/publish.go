package testutil

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"

	"github.com/liverec/liverec/internal/media"
)

// Segment is a run of units that share tracks; a publisher sends new sequence headers when a
// segment's tracks differ from the previous one (a mid-stream parameter change).
type Segment struct {
	Tracks media.Tracks
	Units  []media.Unit
}

// PublishOptions tune Publish.
type PublishOptions struct {
	// Realtime paces units by their DTS (like ffmpeg -re).
	Realtime bool
	// Timestamp, when set, rewrites the DTS sent for unit i (PTS keeps its offset to DTS); it
	// lets tests send jumps, steps back and wraps.
	Timestamp func(i int, dts time.Duration) time.Duration
	// HoldOpen keeps the connection open, sending nothing, after the last unit until ctx ends
	// (a publisher that hung).
	HoldOpen bool
}

// Publish sends segments to an RTMP URL with gortmplib's client (which speaks Enhanced RTMP, so
// H.265 works; ffmpeg 5.1 cannot publish it).
func Publish(ctx context.Context, rawURL string, segs []Segment, o PublishOptions) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	if u.Fragment == "" { // gortmplib takes the stream name from the fragment
		if i := strings.LastIndexByte(u.Path, '/'); i > 0 {
			u.Path, u.Fragment = u.Path[:i], u.Path[i+1:]
		}
	}
	c := &gortmplib.Client{URL: u, Publish: true}
	if err = c.Initialize(ctx); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer c.Close()
	start := time.Now()
	var nalus [][]byte
	i := 0
	var base time.Duration
	for si, seg := range segs {
		vt, at := toTrack(seg.Tracks.Video), toTrack(seg.Tracks.Audio)
		var tracks []*gortmplib.Track
		for _, t := range []*gortmplib.Track{vt, at} {
			if t != nil {
				tracks = append(tracks, t)
			}
		}
		w := &gortmplib.Writer{Conn: c, Tracks: tracks}
		if err = w.Initialize(); err != nil {
			return fmt.Errorf("write tracks of segment %d: %w", si, err)
		}
		var last time.Duration
		for _, un := range seg.Units {
			dts := base + un.DTS
			last = dts
			if o.Realtime {
				if d := time.Until(start.Add(dts)); d > 0 {
					select {
					case <-time.After(d):
					case <-ctx.Done():
						return ctx.Err()
					}
				}
			}
			sent := dts
			if o.Timestamp != nil {
				sent = o.Timestamp(i, dts)
			}
			pts := sent + (un.PTS - un.DTS)
			i++
			if un.Track.IsVideo() {
				nalus, err = media.SplitAVCC(nalus[:0], un.Data)
				if err != nil {
					return err
				}
				if un.Track.Codec == media.CodecH265 {
					err = w.WriteH265(vt, pts, sent, nalus)
				} else {
					err = w.WriteH264(vt, pts, sent, nalus)
				}
			} else {
				err = w.WriteMPEG4Audio(at, sent, un.Data)
			}
			if err != nil {
				return fmt.Errorf("write unit %d: %w", i, err)
			}
		}
		base = last + 33*time.Millisecond
	}
	if o.HoldOpen {
		<-ctx.Done()
	}
	return nil
}

func toTrack(t *media.Track) *gortmplib.Track {
	if t == nil {
		return nil
	}
	switch t.Codec {
	case media.CodecH264:
		return &gortmplib.Track{Codec: &codecs.H264{SPS: t.SPS, PPS: t.PPS}}
	case media.CodecH265:
		return &gortmplib.Track{Codec: &codecs.H265{VPS: t.VPS, SPS: t.SPS, PPS: t.PPS}}
	case media.CodecAAC:
		conf, err := t.AACConfig()
		if err != nil {
			return nil
		}
		return &gortmplib.Track{Codec: &codecs.MPEG4Audio{Config: conf}}
	}
	return nil
}
