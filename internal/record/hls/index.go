package hls

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Limits of an index ReadIndex accepts. A cycle lasts at most 6 h; even 1 s slices with a pause
// before each stay far below maxIndexSlices, whose lines fit maxIndexSize. maxSliceDuration
// keeps the sum of every EXTINF within time.Duration.
const (
	maxIndexSize     = 8 << 20
	maxIndexSlices   = 100_000
	maxSliceDuration = 24 * time.Hour
	maxURILength     = 255 // a file name
)

// ReadIndex reads Dir/index.m3u8 as the Writer leaves it (appendPlaylist): the listed slices in
// order, with Seq (from the "<seq>.ts" name, else EXT-X-MEDIA-SEQUENCE plus the position), Path
// (dir joined with the URI, which must be a plain file name), Duration (EXTINF), Start (the sum
// of the previous durations) and Discontinuity; ended tells whether EXT-X-ENDLIST was present.
// Bytes and frame counts are not in the index (see ScanSlice). A missing index lists nothing.
// Unknown tags and comments are ignored (RFC 8216 §4.1); a malformed line is an error.
func ReadIndex(dir string) (slices []Slice, ended bool, err error) {
	path := filepath.Join(dir, IndexName)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("hls: read index: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxIndexSize+1))
	if err != nil {
		return nil, false, fmt.Errorf("hls: read index %s: %w", path, err)
	}
	if len(b) > maxIndexSize {
		return nil, false, fmt.Errorf("hls: read index %s: larger than %d bytes", path, maxIndexSize)
	}
	slices, ended, err = parseIndex(dir, b)
	if err != nil {
		return nil, false, fmt.Errorf("hls: read index %s: %w", path, err)
	}
	return slices, ended, nil
}

// parseIndex parses an index's bytes; paths are joined to dir.
func parseIndex(dir string, b []byte) ([]Slice, bool, error) {
	var (
		slices   []Slice
		ended    bool
		mediaSeq = -1                // EXT-X-MEDIA-SEQUENCE; -1 until given
		inf      = time.Duration(-1) // EXTINF waiting for its URI
		disc     bool
		start    time.Duration
	)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, maxIndexSize)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		bad := func(why string) error { return fmt.Errorf("line %d %q: %s", n, clip(line), why) }
		if n == 1 {
			if line != "#EXTM3U" {
				return nil, false, bad("not #EXTM3U")
			}
			continue
		}
		if line == "" {
			continue
		}
		if ended {
			return nil, false, bad("after #EXT-X-ENDLIST")
		}
		tag, value, _ := strings.Cut(line, ":")
		switch {
		case tag == "#EXTINF":
			if inf >= 0 {
				return nil, false, bad("second EXTINF without a URI")
			}
			d, _, _ := strings.Cut(value, ",") // a title may follow
			v, err := parseDecimal(d)
			if err != nil {
				return nil, false, bad(err.Error())
			}
			inf = v
		case tag == "#EXT-X-DISCONTINUITY":
			disc = true
		case tag == "#EXT-X-ENDLIST":
			ended = true
		case tag == "#EXT-X-MEDIA-SEQUENCE":
			v, err := strconv.Atoi(value)
			if err != nil || v < 0 || len(slices) > 0 || mediaSeq >= 0 || inf >= 0 {
				return nil, false, bad("bad or misplaced media sequence")
			}
			mediaSeq = v
		case tag == "#EXT-X-VERSION" || tag == "#EXT-X-TARGETDURATION":
			if v, err := strconv.Atoi(value); err != nil || v < 0 {
				return nil, false, bad("not a number")
			}
		case tag == "#EXT-X-PLAYLIST-TYPE":
			if value != "VOD" && value != "EVENT" {
				return nil, false, bad("unknown playlist type")
			}
		case strings.HasPrefix(line, "#"): // unknown tag or comment
		default:
			if inf < 0 {
				return nil, false, bad("URI without EXTINF")
			}
			if !isFileName(line) {
				return nil, false, bad("URI is not a file name in the playlist's directory")
			}
			if len(slices) == maxIndexSlices {
				return nil, false, bad(fmt.Sprintf("more than %d slices", maxIndexSlices))
			}
			seq, err := strconv.Atoi(strings.TrimSuffix(line, ".ts"))
			if err != nil || seq < 0 || !strings.HasSuffix(line, ".ts") {
				seq = max(mediaSeq, 0) + len(slices)
			}
			slices = append(slices, Slice{Seq: seq, Path: filepath.Join(dir, line), Duration: inf,
				Start: start, Discontinuity: disc})
			start += inf
			inf, disc = -1, false
		}
	}
	if err := sc.Err(); err != nil {
		return nil, false, err
	}
	if len(b) == 0 {
		return nil, false, errors.New("no #EXTM3U header")
	}
	if inf >= 0 || disc {
		return nil, false, errors.New("ends before the URI of its last slice")
	}
	return slices, ended, nil
}

// parseDecimal parses an EXTINF duration: decimal seconds, digits with an optional fraction
// (nanoseconds at most), up to maxSliceDuration. Integer arithmetic keeps it exact.
func parseDecimal(s string) (time.Duration, error) {
	ints, frac, hasDot := strings.Cut(s, ".")
	if ints == "" || len(ints) > 6 || len(frac) > 9 || (hasDot && frac == "") {
		return 0, errors.New("bad EXTINF duration")
	}
	var d time.Duration
	for _, c := range ints {
		if c < '0' || c > '9' {
			return 0, errors.New("bad EXTINF duration")
		}
		d = d*10 + time.Duration(c-'0')
	}
	d *= time.Second
	unit := time.Second
	for _, c := range frac {
		if c < '0' || c > '9' {
			return 0, errors.New("bad EXTINF duration")
		}
		unit /= 10
		d += time.Duration(c-'0') * unit
	}
	if d > maxSliceDuration {
		return 0, fmt.Errorf("EXTINF longer than %v", maxSliceDuration)
	}
	return d, nil
}

// isFileName tells whether a URI names a file inside the playlist's directory: the index
// must not make recovery touch other files.
func isFileName(s string) bool {
	return len(s) <= maxURILength && s != "." && s != ".." &&
		!strings.ContainsAny(s, "/\\\x00") && s == strings.TrimSpace(s)
}

// clip shortens a line quoted in an error.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
