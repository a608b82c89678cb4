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

// checkResult is the verdict on the files of one liverec run.
type checkResult struct {
	files  int      // files probed (HLS: playlists)
	issues []string // empty: every file is complete and ffprobe-clean
}

// probeOut is what ffprobe tells about one file.
type probeOut struct {
	video  int
	stderr string
	err    error
}

// probe runs `ffprobe -v error -count_packets -show_streams` on path and counts video packets.
func probe(ctx context.Context, path string) probeOut {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-count_packets", "-show_streams",
		"-of", "json", path)
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

// checkFormats are the formats liverec records and the file probed for each.
var checkFormats = []struct{ name, ext string }{{"flv", ".flv"}, {"mp4", ".mp4"}, {"hls", ".m3u8"}}

// checkLiverec probes every file liverec stored under data/buckets/recordings/bench/live/<stream>
// and compares, per stream and format, the video packets with the frames the publisher sent.
func checkLiverec(ctx context.Context, data string, pub pubResult, n int) checkResult {
	var res checkResult
	add := func(format string, a ...any) { res.issues = append(res.issues, fmt.Sprintf(format, a...)) }
	if pub.err != nil {
		add("publisher: %v (frame counts unknown)", pub.err)
	}
	sent := map[string]pubStream{}
	for _, s := range pub.Streams {
		sent[s.Name] = s
	}
	// Files left in the spool were not completed and stored.
	spool := filepath.Join(data, "spool")
	_ = filepath.WalkDir(spool, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			add("spool: %s left behind (not completed/stored)", p)
		}
		return nil
	})

	type job struct {
		stream, format string
		files          []string
	}
	var jobs []job
	root := filepath.Join(data, "buckets", "recordings", "bench", "live")
	for i := range n {
		name := fmt.Sprintf("s%d", i)
		ents, err := os.ReadDir(filepath.Join(root, name))
		if err != nil {
			add("%s: no recordings (%v)", name, err)
			continue
		}
		for _, f := range checkFormats {
			var files []string
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), f.ext) {
					files = append(files, filepath.Join(root, name, e.Name()))
				}
			}
			if len(files) == 0 {
				add("%s %s: no %s file in %s", name, f.name, f.ext, filepath.Join(root, name))
				continue
			}
			sort.Strings(files)
			jobs = append(jobs, job{name, f.name, files})
		}
	}

	var mu sync.Mutex
	ch := make(chan job)
	var wg sync.WaitGroup
	for range max(1, numCPU()) {
		wg.Go(func() {
			for j := range ch {
				got := 0
				var local []string
				for _, f := range j.files {
					o := probe(ctx, f)
					if o.err != nil {
						local = append(local, fmt.Sprintf("%s: %v: %s", f, o.err, firstLine(o.stderr)))
						continue
					}
					if strings.TrimSpace(o.stderr) != "" {
						local = append(local, fmt.Sprintf("%s: ffprobe reports errors: %s", f, firstLine(o.stderr)))
					}
					got += o.video
				}
				s, ok := sent[j.stream]
				switch {
				case !ok && pub.err == nil:
					local = append(local, fmt.Sprintf("%s %s: the publisher did not report this stream", j.stream, j.format))
				case ok && !s.OK:
					local = append(local, fmt.Sprintf("%s %s: the publisher reports the stream failed: %s", j.stream, j.format, s.Error))
				case ok && int64(got) != s.VideoFrames:
					local = append(local, fmt.Sprintf("%s %s: video packets expected %d (publisher), got %d in %s",
						j.stream, j.format, s.VideoFrames, got, strings.Join(baseNames(j.files), " ")))
				}
				mu.Lock()
				res.files += len(j.files)
				res.issues = append(res.issues, local...)
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
		add("check interrupted: %v", ctx.Err())
	}
	sort.Strings(res.issues)
	return res
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}

// nginxFiles counts nginx-rtmp's recordings and their bytes (informational: nginx's files are
// not checked).
func nginxFiles(dir string) (files int, bytes int64) {
	ents, _ := os.ReadDir(filepath.Join(dir, "nginx"))
	for _, e := range ents {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			files++
			bytes += info.Size()
		}
	}
	return files, bytes
}
