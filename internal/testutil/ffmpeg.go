// Package testutil holds helpers shared by tests: the reference stream made with ffmpeg,
// ffprobe checks and a small FLV reader that turns a file into media units.
package testutil

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// RefOptions describes a variant of the §14 reference stream.
type RefOptions struct {
	Seconds   int    // default 25
	Width     int    // default 1280
	Height    int    // default 720
	FPS       int    // default 30
	GOP       int    // keyframe interval in frames; default 2*FPS
	Bitrate   string // video bitrate; default 2M
	Codec     string // libx264 (default) or libx265
	NoAudio   bool
	NoVideo   bool
	SampleHz  int // default 44100
	BFrames   int // default 0
	Container string
}

func (o *RefOptions) defaults() {
	if o.Seconds == 0 {
		o.Seconds = 25
	}
	if o.Width == 0 {
		o.Width, o.Height = 1280, 720
	}
	if o.FPS == 0 {
		o.FPS = 30
	}
	if o.GOP == 0 {
		o.GOP = 2 * o.FPS
	}
	if o.Bitrate == "" {
		o.Bitrate = "2M"
	}
	if o.Codec == "" {
		o.Codec = "libx264"
	}
	if o.SampleHz == 0 {
		o.SampleHz = 44100
	}
	if o.Container == "" {
		o.Container = "flv"
	}
}

// RequireTool fails the test loudly when a command is missing: the test command installs the
// tools, so a missing one is a broken setup, never a reason to skip.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required and was not found in PATH (the README's test command installs it): %v", name, err)
	}
	return p
}

// RefStream writes the reference stream (or a variant) with ffmpeg into dir and returns its
// path. Files are cached per variant inside dir.
func RefStream(t testing.TB, dir string, o RefOptions) string {
	t.Helper()
	o.defaults()
	RequireTool(t, "ffmpeg")
	name := fmt.Sprintf("ref_%s_%dx%d_%d_%ds_g%d_b%d_a%v_v%v.%s", o.Codec, o.Width, o.Height, o.FPS,
		o.Seconds, o.GOP, o.BFrames, !o.NoAudio, !o.NoVideo, o.Container)
	if o.Bitrate != "2M" { // the default keeps its old name, so existing caches stay valid
		name = "r" + o.Bitrate + "_" + name
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if _, err := os.Stat(out); err == nil {
		return out
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-y"}
	if !o.NoVideo {
		args = append(args, "-f", "lavfi", "-i",
			fmt.Sprintf("testsrc2=size=%dx%d:rate=%d:duration=%d", o.Width, o.Height, o.FPS, o.Seconds))
	}
	if !o.NoAudio {
		args = append(args, "-f", "lavfi", "-i",
			fmt.Sprintf("sine=frequency=440:sample_rate=%d:duration=%d", o.SampleHz, o.Seconds))
	}
	if !o.NoVideo {
		args = append(args, "-c:v", o.Codec, "-preset", "ultrafast", "-b:v", o.Bitrate,
			"-g", strconv.Itoa(o.GOP), "-keyint_min", strconv.Itoa(o.GOP), "-bf", strconv.Itoa(o.BFrames),
			"-pix_fmt", "yuv420p")
		if o.Codec == "libx264" {
			args = append(args, "-sc_threshold", "0", "-profile:v", "high")
		} else {
			args = append(args, "-x265-params", fmt.Sprintf("keyint=%d:min-keyint=%d:scenecut=0:bframes=%d:log-level=error", o.GOP, o.GOP, o.BFrames), "-tag:v", "hvc1")
		}
	}
	if !o.NoAudio {
		args = append(args, "-c:a", "aac", "-b:a", "128k")
	}
	// A name of its own: parallel tests of one process may make the same fixture at once.
	tf, err := os.CreateTemp(dir, name+".*.tmp")
	if err != nil {
		t.Fatal(err)
	}
	tmp := tf.Name()
	tf.Close()
	defer os.Remove(tmp) // left only when ffmpeg or the rename failed
	args = append(args, "-f", o.Container, tmp)
	cmd := exec.Command("ffmpeg", args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg reference stream: %v\n%s", err, b)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// ProbeStream is one stream of an ffprobe report.
type ProbeStream struct {
	Index     int    `json:"index"`
	CodecName string `json:"codec_name"`
	CodecType string `json:"codec_type"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Duration  string `json:"duration"`
	NbPackets string `json:"nb_read_packets"`
}

// Packets returns the counted packets of the stream.
func (s ProbeStream) Packets() int { n, _ := strconv.Atoi(s.NbPackets); return n }

// DurationSec returns the stream's duration in seconds (0 when unknown).
func (s ProbeStream) DurationSec() float64 { d, _ := strconv.ParseFloat(s.Duration, 64); return d }

// ProbeResult is ffprobe's view of a file.
type ProbeResult struct {
	Streams []ProbeStream `json:"streams"`
	Format  struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
	// Stderr holds what ffprobe printed at log level error; a clean file prints nothing.
	Stderr string
}

// Video returns the first video stream, or nil.
func (p *ProbeResult) Video() *ProbeStream {
	for i := range p.Streams {
		if p.Streams[i].CodecType == "video" {
			return &p.Streams[i]
		}
	}
	return nil
}

// Audio returns the first audio stream, or nil.
func (p *ProbeResult) Audio() *ProbeStream {
	for i := range p.Streams {
		if p.Streams[i].CodecType == "audio" {
			return &p.Streams[i]
		}
	}
	return nil
}

// Probe runs ffprobe with packet counting and returns its report. It fails the test when
// ffprobe cannot read the file at all.
func Probe(t testing.TB, path string) *ProbeResult {
	t.Helper()
	RequireTool(t, "ffprobe")
	cmd := exec.Command("ffprobe", "-v", "error", "-count_packets", "-show_streams", "-show_format",
		"-of", "json", path)
	var stderr SyncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, stderr.String())
	}
	var r ProbeResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("ffprobe %s: parse report: %v", path, err)
	}
	r.Stderr = stderr.String()
	return &r
}

// FrameTimes returns the DTS (seconds) of every packet of the file's first stream of a kind
// ("v" or "a"), in file order, from ffprobe -show_packets.
func FrameTimes(t testing.TB, path, kind string) []float64 {
	t.Helper()
	cmd := exec.Command("ffprobe", "-v", "error", "-select_streams", kind, "-show_entries",
		"packet=dts_time", "-of", "json", path)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe packets %s: %v", path, err)
	}
	var r struct {
		Packets []struct {
			DTS string `json:"dts_time"`
		} `json:"packets"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("ffprobe packets %s: %v", path, err)
	}
	ts := make([]float64, 0, len(r.Packets))
	for _, p := range r.Packets {
		v, _ := strconv.ParseFloat(p.DTS, 64)
		ts = append(ts, v)
	}
	return ts
}

// KeyframeFirst reports whether the first video packet of the file is a keyframe.
func KeyframeFirst(t testing.TB, path string) bool {
	t.Helper()
	cmd := exec.Command("ffprobe", "-v", "error", "-select_streams", "v", "-read_intervals", "%+#1",
		"-show_entries", "packet=flags", "-of", "csv=p=0", path)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe first packet %s: %v", path, err)
	}
	return len(out) > 0 && out[0] == 'K'
}
