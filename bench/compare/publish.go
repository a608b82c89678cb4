package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// pubStream is one stream as the publisher reports it (the `liverec bench --json` contract).
type pubStream struct {
	Name        string  `json:"name"`
	OK          bool    `json:"ok"`
	Error       string  `json:"error"`
	VideoFrames int64   `json:"video_frames"`
	AudioFrames int64   `json:"audio_frames"`
	Bytes       int64   `json:"bytes"`
	MaxLagMs    float64 `json:"max_lag_ms"`
}

// pubResult is what a publisher run produced.
type pubResult struct {
	Streams    []pubStream `json:"streams"`
	CPUSeconds float64     `json:"cpu_seconds"`
	err        error
}

func (r *pubResult) failed() []string {
	var out []string
	for _, s := range r.Streams {
		if !s.OK {
			out = append(out, fmt.Sprintf("%s: %s", s.Name, s.Error))
		}
	}
	return out
}

// publisher publishes the reference stream to N streams url/s0 … url/s{N-1}.
type publisher interface {
	start(ctx context.Context, url string, n int, d, ramp time.Duration, ref, logDir string) error
	pids() []int
	wait(ctx context.Context, timeout time.Duration) pubResult
	kill()
}

// newPublisher returns a publisher of kind liverec (`liverec bench` of bin) or ffmpeg.
func newPublisher(kind, bin string, tick time.Duration) publisher {
	if kind == "ffmpeg" {
		return &ffmpegPublisher{}
	}
	return &liverecPublisher{bin: bin, tick: tick}
}

// liverecPublisher runs `liverec bench`, one process for all streams.
type liverecPublisher struct {
	bin    string
	tick   time.Duration // 0: the bench's default
	p      *proc
	stdout bytes.Buffer
}

func (l *liverecPublisher) start(_ context.Context, url string, n int, d, ramp time.Duration, ref, logDir string) error {
	errf, err := os.Create(filepath.Join(logDir, "publisher.log"))
	if err != nil {
		return err
	}
	defer errf.Close()
	args := []string{"bench", "--url", url, "--streams", strconv.Itoa(n),
		"--duration", d.String(), "--file", ref, "--json", "--ramp", ramp.String()}
	if l.tick > 0 {
		args = append(args, "--tick", l.tick.String())
	}
	cmd := exec.Command(l.bin, args...)
	cmd.Stdout, cmd.Stderr = &l.stdout, errf
	l.p, err = startProc("liverec bench", cmd)
	return err
}

func (l *liverecPublisher) pids() []int { return []int{l.p.pid()} }

func (l *liverecPublisher) kill() { l.p.killGroup() }

func (l *liverecPublisher) wait(ctx context.Context, timeout time.Duration) pubResult {
	werr := l.p.wait(ctx, timeout)
	if werr != nil && (ctx.Err() != nil || errors.Is(werr, errTimeout)) {
		l.kill()
		return pubResult{err: werr}
	}
	var r pubResult
	out := l.stdout.Bytes()
	i := bytes.IndexByte(out, '{')
	if i < 0 {
		return pubResult{err: fmt.Errorf("liverec bench printed no JSON (exit: %v): %q", werr, trunc(out))} //nolint:errorlint // werr is nil after a clean exit; %w would print %!w(<nil>)
	}
	if err := json.NewDecoder(bytes.NewReader(out[i:])).Decode(&r); err != nil {
		return pubResult{err: fmt.Errorf("liverec bench JSON: %w: %q", err, trunc(out))}
	}
	if r.CPUSeconds == 0 && l.p.cmd.ProcessState != nil {
		ps := l.p.cmd.ProcessState
		r.CPUSeconds = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	if werr != nil && len(r.failed()) == 0 {
		r.err = fmt.Errorf("liverec bench: %w", werr)
	}
	return r
}

func trunc(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}

// ffmpegPublisher runs one `ffmpeg -re -stream_loop -1 -c copy` per stream (costly: for small N
// only, and for developing before `liverec bench` exists).
type ffmpegPublisher struct {
	procs []*proc
	outs  []*bytes.Buffer
	names []string
}

func (f *ffmpegPublisher) start(ctx context.Context, url string, n int, d, ramp time.Duration, ref, logDir string) error {
	errf, err := os.Create(filepath.Join(logDir, "publisher.log"))
	if err != nil {
		return err
	}
	defer errf.Close()
	t0 := time.Now()
	for i := range n {
		if err := sleepUntil(ctx, t0.Add(ramp*time.Duration(i)/time.Duration(n))); err != nil {
			return err
		}
		name := fmt.Sprintf("s%d", i)
		var out bytes.Buffer
		cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
			"-stream_loop", "-1", "-i", ref, "-c", "copy", "-t", strconv.FormatFloat(d.Seconds(), 'f', 3, 64),
			"-progress", "pipe:1", "-f", "flv", url+"/"+name)
		cmd.Stdout, cmd.Stderr = &out, errf
		p, err := startProc("ffmpeg "+name, cmd)
		if err != nil {
			return err
		}
		f.procs, f.outs, f.names = append(f.procs, p), append(f.outs, &out), append(f.names, name)
	}
	return nil
}

func (f *ffmpegPublisher) pids() []int {
	var ps []int
	for _, p := range f.procs {
		if !p.exited() {
			ps = append(ps, p.pid())
		}
	}
	return ps
}

func (f *ffmpegPublisher) kill() {
	for _, p := range f.procs {
		p.killGroup()
	}
}

func (f *ffmpegPublisher) wait(ctx context.Context, timeout time.Duration) pubResult {
	deadline := time.Now().Add(timeout)
	var r pubResult
	for i, p := range f.procs {
		err := p.wait(ctx, max(time.Until(deadline), time.Second))
		if !p.exited() {
			f.kill()
			return pubResult{err: fmt.Errorf("ffmpeg publishers: %v", err)} //nolint:errorlint // err can be nil when the context ended first; %w would print %!w(<nil>)
		}
		s := pubStream{Name: f.names[i], OK: err == nil, VideoFrames: lastProgress(f.outs[i].String(), "frame"),
			Bytes: lastProgress(f.outs[i].String(), "total_size")}
		if err != nil {
			s.Error = err.Error()
		}
		if ps := p.cmd.ProcessState; ps != nil {
			r.CPUSeconds += (ps.UserTime() + ps.SystemTime()).Seconds()
		}
		r.Streams = append(r.Streams, s)
	}
	return r
}

// lastProgress returns the last value of key in ffmpeg's -progress output.
func lastProgress(out, key string) int64 {
	var v int64
	for _, line := range strings.Split(out, "\n") {
		if k, val, ok := strings.Cut(strings.TrimSpace(line), "="); ok && k == key {
			if n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64); err == nil {
				v = n
			}
		}
	}
	return v
}
