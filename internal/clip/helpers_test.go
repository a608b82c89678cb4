package clip

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/media"
	"github.com/liverec/liverec/internal/record/hls"
	"github.com/liverec/liverec/internal/recording"
	"github.com/liverec/liverec/internal/testutil"
)

// wall0 is the wall time the first test recording starts at.
var wall0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// srcUnit is a recorded unit with the wall time it was recorded at.
type srcUnit struct {
	video, key bool
	wall       time.Time
}

// rec is a recording made of real HLS slices: the slices as the store would describe them
// (ObjectKey relative to root) and every unit written, with its wall time.
type rec struct {
	slices []recording.Slice
	hls    []hls.Slice
	units  []srcUnit
}

// refUnits is the test stream: 320x240, 25 fps, a keyframe every 2 s, AAC 44.1 kHz.
func refUnits(t testing.TB, seconds int) (media.Tracks, []media.Unit) {
	t.Helper()
	tracks, units := testutil.LoadFLV(t, testutil.RefStream(t, t.TempDir(), testutil.RefOptions{
		Seconds: seconds, Width: 320, Height: 240, FPS: 25, GOP: 50, Bitrate: "300k",
	}))
	require.NotEmpty(t, units)
	require.Zero(t, units[0].DTS)
	return tracks, units
}

// record writes units through the recorder's HLS writer (2 s slices) into root/<id>/ and
// describes the slices as recording id, starting at wall start. discAt > 0 calls
// Discontinuity before that unit (a pause, timestamps continuing).
func record(t testing.TB, root, id string, start time.Time, tracks media.Tracks, units []media.Unit, discAt int) rec {
	t.Helper()
	w, err := hls.NewWriter(hls.Config{Dir: filepath.Join(root, id), SliceDuration: 2 * time.Second}, tracks)
	require.NoError(t, err)
	var r rec
	for i := range units {
		if i == discAt && discAt > 0 {
			w.Discontinuity(tracks)
		}
		require.NoError(t, w.WriteUnit(&units[i]), "unit %d", i)
		r.units = append(r.units, srcUnit{video: units[i].Track.IsVideo(), key: units[i].Keyframe,
			wall: start.Add(units[i].DTS)})
	}
	st, err := w.Close()
	require.NoError(t, err)
	r.hls = st.Slices
	for _, s := range st.Slices {
		key, err := filepath.Rel(root, s.Path)
		require.NoError(t, err)
		r.slices = append(r.slices, recording.Slice{
			RecordingID: id, FileSeq: 1, Seq: s.Seq, ObjectKey: filepath.ToSlash(key),
			StartedAt: start.Add(s.Start), Duration: s.Duration, Bytes: s.Bytes,
			Discontinuity: s.Discontinuity,
		})
	}
	return r
}

// dirOpener opens slices as files under a root, counting opens.
type dirOpener struct {
	root string
	mu   sync.Mutex
	n    int
}

func (o *dirOpener) Open(_ context.Context, s recording.Slice) (io.ReadCloser, error) {
	o.mu.Lock()
	o.n++
	o.mu.Unlock()
	return os.Open(filepath.Join(o.root, filepath.FromSlash(s.ObjectKey)))
}

func (o *dirOpener) opens() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n
}

// counted is ffprobe's decoded frame counts of a file.
type counted struct {
	video, audio int
	videoDur     float64 // seconds
	format       string
	duration     float64
	width        int
	height       int
	stderr       string
}

// countFrames decodes a file with ffprobe -count_frames; a clean file prints nothing at level
// error.
func countFrames(t testing.TB, path string) counted {
	t.Helper()
	testutil.RequireTool(t, "ffprobe")
	cmd := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_streams", "-show_format",
		"-of", "json", path)
	var stderr testutil.SyncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "ffprobe %s: %s", path, stderr.String())
	var r struct {
		Streams []struct {
			CodecType string `json:"codec_type"`
			Frames    string `json:"nb_read_frames"`
			Duration  string `json:"duration"`
			Width     int    `json:"width"`
			Height    int    `json:"height"`
		} `json:"streams"`
		Format struct {
			Name     string `json:"format_name"`
			Duration string `json:"duration"`
		} `json:"format"`
	}
	require.NoError(t, json.Unmarshal(out, &r))
	c := counted{format: r.Format.Name, stderr: stderr.String()}
	c.duration, _ = strconv.ParseFloat(r.Format.Duration, 64)
	for _, s := range r.Streams {
		n, err := strconv.Atoi(s.Frames)
		require.NoError(t, err, "frames of %s", s.CodecType)
		switch s.CodecType {
		case "video":
			c.video, c.width, c.height = n, s.Width, s.Height
			c.videoDur, _ = strconv.ParseFloat(s.Duration, 64)
		case "audio":
			c.audio = n
		}
	}
	return c
}

// topBoxes lists the top-level box types of an MP4 file.
func topBoxes(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var types []string
	for p := 0; p < len(b); {
		require.GreaterOrEqual(t, len(b)-p, 8, "truncated box header at %d", p)
		size := int(binary.BigEndian.Uint32(b[p:]))
		typ := string(b[p+4 : p+8])
		if size == 1 {
			size = int(binary.BigEndian.Uint64(b[p+8:]))
		}
		require.GreaterOrEqual(t, size, 8, "box %s at %d", typ, p)
		types = append(types, typ)
		p += size
	}
	return types
}

// expectRange is what a clip of [from, to) must hold: from the last video keyframe at or
// before from to the first one at or after to (exclusive), with the walls of both ends.
func expectRange(units []srcUnit, from, to time.Time) (video, audio int, start, end time.Time) {
	for _, u := range units {
		if u.video && u.key && (start.IsZero() || !u.wall.After(from)) {
			start = u.wall // the last keyframe at or before from, else the first one
		}
	}
	for _, u := range units {
		if u.video && u.key && !u.wall.Before(to) {
			end = u.wall
			break
		}
	}
	for _, u := range units {
		if u.wall.Before(start) || (!end.IsZero() && !u.wall.Before(end)) {
			continue
		}
		if u.video {
			video++
		} else {
			audio++
		}
	}
	return video, audio, start, end
}

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func keysOf(ss []recording.Slice) []string {
	var k []string
	for _, s := range ss {
		k = append(k, fmt.Sprintf("%s#%d", s.RecordingID, s.Seq))
	}
	return k
}
