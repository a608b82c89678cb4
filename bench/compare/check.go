package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// peerTolerance is how many video packets a peer's file may differ from the frames sent and
// still pass: a frame at either end of a recording, which the report counts and shows.
const peerTolerance = 2

// checkResult is the verdict on the files of one run.
type checkResult struct {
	Inputs int      `json:"inputs"`           // ffprobe inputs (a file, or an HLS recording)
	Issues []string `json:"issues,omitempty"` // empty: every file complete and ffprobe-clean
	// Diffs are a peer's files whose video packets differ from the frames sent by at most
	// peerTolerance: shown, not failed.
	Diffs []string `json:"diffs,omitempty"`
}

func (c *checkResult) add(format string, a ...any) {
	c.Issues = append(c.Issues, fmt.Sprintf(format, a...))
}

// checkJob is one stream's recording in one format: the ffprobe inputs whose video packets add
// up to the frames the publisher sent.
type checkJob struct {
	stream, format string
	inputs         []string
}

// probeOut is what ffprobe tells about one input.
type probeOut struct {
	video  int
	stderr string
	err    error
}

// probe runs `ffprobe -v error -count_packets -show_streams` on input and counts video packets.
func probe(ctx context.Context, input string) probeOut {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-count_packets", "-show_streams",
		"-of", "json", input)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return probeOut{stderr: stderr.String(), err: fmt.Errorf("ffprobe: %w", err)}
	}
	var r struct {
		Streams []struct {
			CodecType string `json:"codec_type"`
			Packets   string `json:"nb_read_packets"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return probeOut{stderr: stderr.String(), err: fmt.Errorf("ffprobe JSON: %w", err)}
	}
	o := probeOut{stderr: stderr.String()}
	seen := false
	for _, s := range r.Streams {
		if s.CodecType == "video" && !seen { // the first video stream (HLS may list programs)
			o.video, _ = strconv.Atoi(s.Packets)
			seen = true
		}
	}
	if !seen {
		o.err = fmt.Errorf("no video stream")
	}
	return o
}

// streamNames are the publisher's stream names for n streams.
func streamNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("s%d", i)
	}
	return out
}

// liverecExt is the file probed for each liverec format.
var liverecExt = map[string]string{"flv": ".flv", "mp4": ".mp4", "hls": ".m3u8"}

// liverecJobs lists liverec's files under data/buckets/recordings/bench/live/<stream>; files
// left in the spool were not completed and stored.
func liverecJobs(data string, formats []string, n int, c *checkResult) []checkJob {
	_ = filepath.WalkDir(filepath.Join(data, "spool"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			c.add("spool: %s left behind (not completed/stored)", p)
		}
		return nil
	})
	var jobs []checkJob
	root := filepath.Join(data, "buckets", "recordings", "bench", "live")
	for _, name := range streamNames(n) {
		dir := filepath.Join(root, name)
		for _, f := range formats {
			files := filesWithExt(dir, liverecExt[f])
			if len(files) == 0 {
				c.add("%s %s: no %s file in %s", name, f, liverecExt[f], dir)
				continue
			}
			jobs = append(jobs, checkJob{name, f, files})
		}
	}
	return jobs
}

// nginxJobs lists nginx-rtmp's files: rec/<stream>-<time>.flv (and .mp4, its remux) and the
// HLS playlist hls/<stream>.m3u8, probed as the concatenation of the fragments it lists.
func nginxJobs(rec, hls string, formats []string, n int, c *checkResult) []checkJob {
	var jobs []checkJob
	for _, name := range streamNames(n) {
		for _, f := range formats {
			if f == "hls" {
				if j, ok := nginxHLSJob(hls, name, c); ok {
					jobs = append(jobs, j)
				}
				continue
			}
			var files []string
			for _, p := range filesWithExt(rec, "."+f) {
				if base := strings.TrimSuffix(filepath.Base(p), "."+f); base[:max(0, strings.LastIndexByte(base, '-'))] == name {
					files = append(files, p)
				}
			}
			if len(files) == 0 {
				c.add("%s %s: no %s-*.%s in %s", name, f, name, f, rec)
				continue
			}
			jobs = append(jobs, checkJob{name, f, files})
		}
	}
	return jobs
}

// nginxHLSJob checks that the stream's playlist lists every fragment on disk and that each
// exists, and returns them as one concat: input.
func nginxHLSJob(dir, name string, c *checkResult) (checkJob, bool) {
	pl := filepath.Join(dir, name+".m3u8")
	b, err := os.ReadFile(pl)
	if err != nil {
		c.add("%s hls: no playlist: %v", name, err)
		return checkJob{}, false
	}
	segs := playlistSegments(string(b))
	listed := map[string]bool{}
	var paths []string
	for _, s := range segs {
		p := filepath.Join(dir, s)
		listed[filepath.Base(p)] = true
		if _, err := os.Stat(p); err != nil {
			c.add("%s hls: %s lists %s, which is missing", name, filepath.Base(pl), s)
			continue
		}
		paths = append(paths, p)
	}
	for _, p := range filesWithExt(dir, ".ts") {
		if base := filepath.Base(p); strings.HasPrefix(base, name+"-") && !listed[base] {
			c.add("%s hls: fragment %s is not in the playlist", name, base)
		}
	}
	if len(paths) == 0 {
		c.add("%s hls: playlist %s lists no fragment", name, pl)
		return checkJob{}, false
	}
	return checkJob{name, "hls", []string{"concat:" + strings.Join(paths, "|")}}, true
}

// playlistSegments returns the URIs of a media playlist, in order.
func playlistSegments(m3u8 string) []string {
	var out []string
	for _, l := range strings.Split(m3u8, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// mediamtxJobs lists MediaMTX's segments rec/live/<stream>/*.mp4 (fmp4) or *.ts (mpegts).
func mediamtxJobs(rec, format string, n int, c *checkResult) []checkJob {
	ext := map[string]string{"fmp4": ".mp4", "mpegts": ".ts"}[format]
	var jobs []checkJob
	for _, name := range streamNames(n) {
		dir := filepath.Join(rec, "live", name)
		files := filesWithExt(dir, ext)
		if len(files) == 0 {
			c.add("%s %s: no %s file in %s", name, format, ext, dir)
			continue
		}
		jobs = append(jobs, checkJob{name, format, files})
	}
	return jobs
}

// filesWithExt returns dir's regular files ending in ext, sorted.
func filesWithExt(dir, ext string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ext) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

// probeJobs probes every job (one worker per core) and compares, per stream and format, the
// video packets with the frames the publisher sent: exactly, or within tolerance, which
// lands in Diffs.
func probeJobs(ctx context.Context, jobs []checkJob, pub pubResult, tolerance int, res *checkResult) {
	if pub.err != nil {
		res.add("publisher: %v (frame counts unknown)", pub.err)
	}
	sent := map[string]pubStream{}
	for _, s := range pub.Streams {
		sent[s.Name] = s
	}
	var mu sync.Mutex
	ch := make(chan checkJob)
	var wg sync.WaitGroup
	for range max(1, numCPU()) {
		wg.Go(func() {
			for j := range ch {
				issues, diffs := probeJob(ctx, j, sent, pub.err == nil, tolerance)
				mu.Lock()
				res.Inputs += len(j.inputs)
				res.Issues = append(res.Issues, issues...)
				res.Diffs = append(res.Diffs, diffs...)
				mu.Unlock()
			}
		})
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		ch <- j
	}
	close(ch)
	wg.Wait()
	if ctx.Err() != nil {
		res.add("check interrupted: %v", ctx.Err())
	}
	sort.Strings(res.Issues)
	sort.Strings(res.Diffs)
}

func probeJob(ctx context.Context, j checkJob, sent map[string]pubStream, pubOK bool, tolerance int) (issues, diffs []string) {
	got := 0
	for _, in := range j.inputs {
		o := probe(ctx, in)
		if o.err != nil {
			issues = append(issues, fmt.Sprintf("%s: %v: %s", shortInput(in), o.err, firstLine(o.stderr)))
			continue
		}
		if strings.TrimSpace(o.stderr) != "" {
			issues = append(issues, fmt.Sprintf("%s: ffprobe reports errors: %s", shortInput(in), firstLine(o.stderr)))
		}
		got += o.video
	}
	s, ok := sent[j.stream]
	switch {
	case !ok && pubOK:
		issues = append(issues, fmt.Sprintf("%s %s: the publisher did not report this stream", j.stream, j.format))
	case ok && !s.OK:
		issues = append(issues, fmt.Sprintf("%s %s: the publisher reports the stream failed: %s", j.stream, j.format, s.Error))
	case ok && int64(got) != s.VideoFrames:
		msg := fmt.Sprintf("%s %s: video packets %d, frames sent %d (%+d) in %s",
			j.stream, j.format, got, s.VideoFrames, int64(got)-s.VideoFrames, shortInputs(j.inputs))
		if d := int64(got) - s.VideoFrames; d >= -int64(tolerance) && d <= int64(tolerance) {
			diffs = append(diffs, msg)
		} else {
			issues = append(issues, msg)
		}
	}
	return issues, diffs
}

// shortInput names an input by its file names (a concat: input by its first and last).
func shortInput(in string) string {
	if rest, ok := strings.CutPrefix(in, "concat:"); ok {
		parts := strings.Split(rest, "|")
		if len(parts) == 1 {
			return filepath.Base(parts[0])
		}
		return fmt.Sprintf("%s…%s (%d fragments)", filepath.Base(parts[0]), filepath.Base(parts[len(parts)-1]), len(parts))
	}
	return filepath.Base(in)
}

func shortInputs(ins []string) string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = shortInput(in)
	}
	return strings.Join(out, " ")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// dirBytes counts the regular files under dir and their bytes.
func dirBytes(dir string) (files int, bytes int64) {
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, ierr := d.Info(); ierr == nil {
				files++
				bytes += info.Size()
			}
		}
		return nil
	})
	return files, bytes
}
