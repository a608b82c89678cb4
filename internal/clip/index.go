package clip

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liverec/liverec/internal/recording"
)

// DefaultMaxIndexSlices bounds an index: 4 days (Alibaba's longest range) of 1 s slices, each
// after a discontinuity, stays below it.
const DefaultMaxIndexSlices = 400_000

// gapTolerance is how far a slice may start from the previous one's end (wall times are
// measured, durations estimated) before the two are treated as a break in the timeline.
const gapTolerance = 500 * time.Millisecond

// ErrNoSlices is returned when there is nothing to build from.
var ErrNoSlices = errors.New("clip: no slices")

// IndexOptions tunes Index.
type IndexOptions struct {
	// MediaSequence is EXT-X-MEDIA-SEQUENCE. An index spans playlists whose slice numbers do
	// not form one sequence, so it is 0 unless the caller has a reason.
	MediaSequence int
	// Event renders a playlist that may grow (PLAYLIST-TYPE:EVENT, no ENDLIST), for a
	// recording in progress; the default is a VOD playlist.
	Event bool
	// MaxSlices bounds the slices indexed; 0 means DefaultMaxIndexSlices.
	MaxSlices int
}

// Index renders an HLS media playlist (RFC 8216 §4.3) over slices, in the order given. uri
// gives the URI of each slice (relative to the playlist or absolute: the caller decides, see
// RelativeURI). A slice that follows a break in the timeline (a pause, a gap, another
// recording or playlist) gets EXT-X-DISCONTINUITY (§4.3.2.3), since its timestamps do not
// continue the previous slice's; the first slice and each one after a discontinuity carry
// EXT-X-PROGRAM-DATE-TIME (§4.3.2.6) with its wall start, so players can map the playlist to
// wall time.
func Index(slices []recording.Slice, uri func(recording.Slice) (string, error), opts IndexOptions) ([]byte, error) {
	maxSlices := opts.MaxSlices
	if maxSlices <= 0 {
		maxSlices = DefaultMaxIndexSlices
	}
	if len(slices) == 0 {
		return nil, ErrNoSlices
	}
	if len(slices) > maxSlices {
		return nil, fmt.Errorf("clip: index of %d slices exceeds the limit of %d", len(slices), maxSlices)
	}
	if uri == nil {
		return nil, errors.New("clip: index without a slice uri function")
	}
	if opts.MediaSequence < 0 {
		return nil, fmt.Errorf("clip: negative media sequence %d", opts.MediaSequence)
	}
	target := int64(1) // a zero target duration is invalid for players
	for i := range slices {
		s := &slices[i]
		if err := checkSlice(s); err != nil {
			return nil, err
		}
		target = max(target, (millis(s.Duration)+999)/1000)
	}

	// About 40 bytes of tags per slice plus its URI, which is most of it.
	b := make([]byte, 0, 128+len(slices)*96)
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:"...)
	b = strconv.AppendInt(b, target, 10)
	b = append(b, "\n#EXT-X-MEDIA-SEQUENCE:"...)
	b = strconv.AppendInt(b, int64(opts.MediaSequence), 10)
	if opts.Event {
		b = append(b, "\n#EXT-X-PLAYLIST-TYPE:EVENT\n"...)
	} else {
		b = append(b, "\n#EXT-X-PLAYLIST-TYPE:VOD\n"...)
	}
	for i := range slices {
		s := &slices[i]
		u, err := uri(*s)
		if err != nil {
			return nil, fmt.Errorf("clip: uri of slice %s: %w", s.ObjectKey, err)
		}
		if u == "" || strings.ContainsAny(u, "\r\n") {
			return nil, fmt.Errorf("clip: uri %q of slice %s is not a playlist line", u, s.ObjectKey)
		}
		disc := i > 0 && breaks(&slices[i-1], s)
		if disc {
			b = append(b, "#EXT-X-DISCONTINUITY\n"...)
		}
		if i == 0 || disc {
			b = append(b, "#EXT-X-PROGRAM-DATE-TIME:"...)
			b = s.StartedAt.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
			b = append(b, '\n')
		}
		ms := millis(s.Duration)
		b = append(b, "#EXTINF:"...)
		b = strconv.AppendInt(b, ms/1000, 10)
		b = append(b, '.', byte('0'+ms/100%10), byte('0'+ms/10%10), byte('0'+ms%10), ',', '\n')
		b = append(b, u...)
		b = append(b, '\n')
	}
	if !opts.Event {
		b = append(b, "#EXT-X-ENDLIST\n"...)
	}
	return b, nil
}

// checkSlice refuses what cannot be played: a slice with no duration or whose object is gone.
func checkSlice(s *recording.Slice) error {
	switch {
	case s.Deleted:
		return fmt.Errorf("clip: slice %s was deleted", s.ObjectKey)
	case s.Duration <= 0:
		return fmt.Errorf("clip: slice %s has duration %v", s.ObjectKey, s.Duration)
	case s.StartedAt.IsZero():
		return fmt.Errorf("clip: slice %s has no start time", s.ObjectKey)
	}
	return nil
}

// breaks tells whether cur does not continue prev's timestamps: it follows a pause, belongs to
// another recording or playlist, is not the next slice of its playlist (one is missing), or
// does not start where prev ends in wall time.
func breaks(prev, cur *recording.Slice) bool {
	if cur.Discontinuity || cur.RecordingID != prev.RecordingID || cur.FileSeq != prev.FileSeq ||
		cur.Seq != prev.Seq+1 {
		return true
	}
	gap := cur.StartedAt.Sub(prev.End())
	return gap > gapTolerance || gap < -gapTolerance
}

// millis rounds a non-negative duration to whole milliseconds, the precision of EXTINF here
// (as internal/record/hls renders it).
func millis(d time.Duration) int64 {
	if d < 0 {
		return 0
	}
	ms := int64(d / time.Millisecond)
	if d%time.Millisecond >= time.Millisecond/2 {
		ms++
	}
	return ms
}

// Select returns the slices that overlap [from, to), sorted by StartedAt. Slices are never
// trimmed, so a range shorter than a slice still gets the slices it touches (as both clouds
// do), and from == to gets the slice holding that instant. endIncluded adds the first slice
// that starts at or after to, when there is one (Alibaba EndTimeIncluded). Deleted slices are
// left out, and so is a slice of another recording that starts inside one already selected
// (two HLS configurations recording one stream): an index plays one timeline.
//
// A slice that overlaps the range by less than edgeTolerance at either end is left out (its
// wall time is measured, its last frame's duration estimated): a range that starts at a slice's
// boundary gets that slice, not the one before it, unless nothing else overlaps.
func Select(all []recording.Slice, from, to time.Time, endIncluded bool) []recording.Slice {
	if to.Sub(from) > 2*edgeTolerance {
		if out := selectExact(all, from.Add(edgeTolerance), to.Add(-edgeTolerance), endIncluded); len(out) > 0 {
			return out
		}
	}
	return selectExact(all, from, to, endIncluded)
}

// edgeTolerance is the overlap at an end of a range below which Select leaves a slice out:
// about three frames at 30 fps.
const edgeTolerance = 100 * time.Millisecond

func selectExact(all []recording.Slice, from, to time.Time, endIncluded bool) []recording.Slice {
	if to.Before(from) {
		return nil
	}
	sorted := all
	if !slices.IsSortedFunc(all, byStart) {
		sorted = slices.Clone(all)
		slices.SortStableFunc(sorted, byStart)
	}
	// A slice starting before from minus the longest slice ends before from: skip those.
	var longest time.Duration
	for i := range sorted {
		longest = max(longest, sorted[i].Duration)
	}
	cmp := func(s recording.Slice, t time.Time) int { return s.StartedAt.Compare(t) }
	lo, _ := slices.BinarySearchFunc(sorted, from.Add(-longest), cmp)
	hi, _ := slices.BinarySearchFunc(sorted, to, cmp)
	point := from.Equal(to)
	out := make([]recording.Slice, 0, max(hi-lo, 0)+1)
	var last *recording.Slice
	for i := lo; i < len(sorted); i++ {
		s := &sorted[i]
		if s.Deleted || !s.End().After(from) {
			continue
		}
		after := !s.StartedAt.Before(to)
		if point {
			after = s.StartedAt.After(from)
		}
		if last != nil && duplicate(last, s) {
			continue
		}
		if after {
			if endIncluded {
				out = append(out, *s)
			}
			break
		}
		out = append(out, *s)
		last = &out[len(out)-1]
	}
	return out
}

// duplicate tells whether s, of another recording, starts inside last.
func duplicate(last, s *recording.Slice) bool {
	return s.RecordingID != last.RecordingID && s.StartedAt.Before(last.End().Add(-gapTolerance))
}

func byStart(a, b recording.Slice) int { return a.StartedAt.Compare(b.StartedAt) }

// RelativeURI gives the URI of the object sliceKey relative to a playlist stored at indexKey
// in the same bucket, escaped so that any key is one valid URI line. It follows what
// internal/upload does for the playlists it stores (relativeURIs), plus the escaping an index
// over arbitrary keys needs.
func RelativeURI(indexKey, sliceKey string) (string, error) {
	if indexKey == "" || sliceKey == "" {
		return "", fmt.Errorf("clip: relative uri of %q from %q: empty key", sliceKey, indexKey)
	}
	rel, err := filepath.Rel(path.Dir(indexKey), sliceKey)
	if err != nil {
		return "", fmt.Errorf("clip: relative uri of %q from %q: %w", sliceKey, indexKey, err)
	}
	// url.URL escapes what a URI path may not hold and prefixes "./" when the first segment
	// would read as a scheme.
	return (&url.URL{Path: filepath.ToSlash(rel)}).String(), nil
}
