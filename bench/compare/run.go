package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// runResult is one server's measurement on one set at one N in one run.
type runResult struct {
	Publisher string `json:"publisher"`
	Set       string `json:"set"`
	N         int    `json:"n"`
	Run       int    `json:"run"`
	Server    string `json:"server"`
	NotRun    string `json:"not_run,omitempty"` // why this run did not happen (MediaMTX missing)

	CPUPct         float64 `json:"cpu_pct"`              // server CPU, % of one core per stream, over the window
	IdleMiB        float64 `json:"idle_mib"`             // server RSS before the publishers
	SteadyMiB      float64 `json:"steady_mib"`           // server RSS during the window (mean of 1 s samples)
	RSSPerStream   float64 `json:"rss_mib_per_stream"`   // (steady − idle) / N, MiB
	WritesPerSec   float64 `json:"writes_per_stream_s"`  // write-type syscalls per stream per second, over the window
	PubCPUPct      float64 `json:"pub_cpu_pct"`          // publisher CPU, % of one core per stream, over the window
	PubCPUReported float64 `json:"pub_cpu_s_per_stream"` // publisher's own CPU seconds per stream (whole run)
	MaxLagMs       float64 `json:"pub_max_lag_ms"`       // the publisher's worst lag behind real time, over all streams
	WindowSec      float64 `json:"window_s"`

	// Completion: server CPU seconds (all N streams; nginx-rtmp: with its remuxes) from the end
	// of the window until every file landed, less what recording still cost after the window
	// at the window's rate. RemuxCPUSec is the remuxes' part.
	CompletionCPUSec  float64 `json:"completion_cpu_s"`
	RemuxCPUSec       float64 `json:"remux_cpu_s,omitempty"`
	CompletionWallSec float64 `json:"completion_wall_s"` // from the publishers' end until landed
	RecordedSec       float64 `json:"recorded_s"`        // how long each stream was recorded
	AllInPct          float64 `json:"all_in_pct"`        // window % + completion spread over the recording

	StreamsFailed []string     `json:"streams_failed,omitempty"`
	PubErr        string       `json:"pub_err,omitempty"`
	Files         int          `json:"files"` // files the server left on the tmpfs
	FileBytes     int64        `json:"file_bytes"`
	Check         *checkResult `json:"check,omitempty"`
	StopErr       string       `json:"stop_err,omitempty"`
}

// allInPct spreads the completion CPU over the recording: % of a core per stream for the
// whole life of a recording of recordedSec.
func allInPct(windowPct, completionCPUSec float64, n int, recordedSec float64) float64 {
	if n <= 0 || recordedSec <= 0 {
		return windowPct
	}
	return windowPct + 100*completionCPUSec/(float64(n)*recordedSec)
}

// streamSecondsAfter is how many stream-seconds of publishing are left at t when stream i of
// n starts at start + ramp·i/n (both publishers' schedule) and publishes for d.
func streamSecondsAfter(start time.Time, ramp, d time.Duration, n int, t time.Time) float64 {
	var sum float64
	for i := range n {
		end := start.Add(time.Duration(int64(ramp)*int64(i)/int64(n)) + d)
		sum += max(0, end.Sub(t).Seconds())
	}
	return sum
}

// bench holds what every run shares.
type bench struct {
	opt      options
	bin      string // liverec binary
	module   string // ngx_rtmp_module.so
	mediamtx mediamtxBinary
	ref      string // reference FLV
	mnt      string // tmpfs mount point
	logRoot  string
	duration time.Duration // each publisher's duration
}

// runOne starts one server, publishes N streams to it, measures the window, lets it land every
// file while measuring that too, and checks its files.
func (b *bench) runOne(ctx context.Context, pubKind string, set benchSet, kind string, n, run int) (*runResult, error) {
	res := &runResult{Publisher: pubKind, Set: set.Name, N: n, Run: run, Server: kind, RecordedSec: b.duration.Seconds()}
	if kind == mediamtxName && b.mediamtx.notRun != "" {
		res.NotRun = b.mediamtx.notRun
		return res, nil
	}
	id := fmt.Sprintf("%s-%s-n%d-run%d-%s", pubKind, strings.ReplaceAll(set.Name, "+", "_"), n, run, kind)
	dir := filepath.Join(b.mnt, id)
	logDir := filepath.Join(b.logRoot, id)
	for _, d := range []string{dir, logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("run dirs: %w", err)
		}
	}
	defer os.RemoveAll(dir) // the tmpfs holds one run at a time
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	srv, err := b.startServer(kind, set, dir, logDir, port, n)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", kind, err)
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.p.killGroup()
		}
	}()
	if err = srv.waitReady(ctx, 30*time.Second); err != nil {
		return nil, err
	}
	if err = sleepUntil(ctx, time.Now().Add(2*time.Second)); err != nil {
		return nil, err
	}
	idle, err := sampleProcs(srv.pids())
	if err != nil {
		return nil, err
	}
	res.IdleMiB = kib2mib(idle.rssKiB)

	pub := newPublisher(pubKind, b.bin, b.opt.tick)
	pubStart := time.Now()
	url := fmt.Sprintf("rtmp://127.0.0.1:%d/live", port)
	defer pub.kill()
	if err = pub.start(ctx, url, n, b.duration, b.opt.ramp, b.ref, logDir); err != nil {
		return nil, fmt.Errorf("publishers: %w", err)
	}
	if err = sleepUntil(ctx, pubStart.Add(b.opt.ramp+b.opt.warmup)); err != nil {
		return nil, err
	}
	s1, err := b.window(ctx, srv, pub, res)
	if err != nil {
		return nil, err
	}
	winEnd := time.Now()

	pr := pub.wait(ctx, b.duration+b.opt.ramp+2*time.Minute)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	pubEnd := time.Now()
	if pr.err != nil {
		res.PubErr = pr.err.Error()
	}
	res.StreamsFailed = pr.failed()
	for _, s := range pr.Streams {
		res.MaxLagMs = max(res.MaxLagMs, s.MaxLagMs)
	}
	if len(pr.Streams) > 0 {
		res.PubCPUReported = pr.CPUSeconds / float64(n)
	}

	// Let the server take in what the last publishers had in flight, then let it land every
	// file, counting its CPU until then.
	if err := sleepUntil(ctx, time.Now().Add(b.opt.stopGrace)); err != nil {
		return nil, err
	}
	c := &checkResult{}
	var cpuAfter float64 // server CPU seconds from the window's end until every file landed
	var landed time.Time
	if kind == nginxName {
		if srv.remuxTimes != "" {
			want := max(n, len(filesWithExt(filepath.Join(dir, "nginx"), ".flv")))
			rep, werr := waitRemux(ctx, srv.remuxTimes, want, time.Minute+time.Duration(n)*time.Second)
			if werr != nil {
				c.add("nginx-rtmp remux: %v", werr)
			}
			c.Issues = append(c.Issues, rep.failed...)
			res.RemuxCPUSec = rep.cpuSec
		}
		s2, serr := sampleProcs(srv.pids())
		if serr != nil || s2.ticks < s1.ticks {
			return nil, fmt.Errorf("nginx-rtmp after its files landed: %d processes, ticks %d after %d at the window's end: %v", s2.n, s2.ticks, s1.ticks, serr) //nolint:errorlint // serr is nil when only the ticks went back; %w would print %!w(<nil>)
		}
		cpuAfter = float64(s2.ticks-s1.ticks)/clkTck + res.RemuxCPUSec
		landed = time.Now()
	}
	stopped = true
	if err := srv.shutdown(); err != nil {
		res.StopErr = err.Error()
		c.add("%s stop: %v", kind, err)
	}
	if kind != nginxName { // it has landed every file once it has exited
		cpuAfter = srv.p.cpuSeconds() - float64(s1.ticks)/clkTck
		landed = time.Now()
	}
	res.CompletionWallSec = landed.Sub(pubEnd).Seconds()
	res.CompletionCPUSec = cpuAfter - res.CPUPct/100*streamSecondsAfter(pubStart, b.opt.ramp, b.duration, n, winEnd)
	res.AllInPct = allInPct(res.CPUPct, res.CompletionCPUSec, n, res.RecordedSec)

	res.Files, res.FileBytes = dirBytes(dir)
	var jobs []checkJob
	switch kind {
	case liverecName:
		jobs = liverecJobs(filepath.Join(dir, "data"), set.LiverecFormats, n, c)
	case nginxName:
		jobs = nginxJobs(filepath.Join(dir, "nginx"), filepath.Join(dir, "nginx-hls"), set.formats(nginxName), n, c)
	case mediamtxName:
		jobs = mediamtxJobs(filepath.Join(dir, "mediamtx"), set.MediamtxFormat, n, c)
	}
	tolerance := peerTolerance
	if kind == liverecName {
		tolerance = 0
	}
	probeJobs(ctx, jobs, pr, tolerance, c)
	res.Check = c
	return res, nil
}

// window measures the window: CPU and write syscalls from its two ends, RSS as the mean of 1 s
// samples. It returns the sample at its end.
func (b *bench) window(ctx context.Context, srv *server, pub publisher, res *runResult) (procSample, error) {
	s0, err := sampleProcs(srv.pids())
	if err != nil {
		return s0, fmt.Errorf("%s at window start: %w", srv.kind, err)
	}
	p0, _ := sampleProcs(pub.pids())
	t0 := time.Now()
	var rssSum float64
	var rssN int
	for t := t0.Add(time.Second); !t.After(t0.Add(b.opt.window)); t = t.Add(time.Second) {
		if err = sleepUntil(ctx, t); err != nil {
			return s0, err
		}
		if srv.p.exited() {
			return s0, fmt.Errorf("%s exited during the window (%v); see %s", srv.kind, srv.p.err, srv.logDir) //nolint:errorlint // p.err is nil after a clean exit; %w would print %!w(<nil>)
		}
		if s, serr := sampleProcs(srv.pids()); serr == nil {
			rssSum += kib2mib(s.rssKiB)
			rssN++
		}
	}
	s1, err := sampleProcs(srv.pids())
	if err != nil {
		return s1, fmt.Errorf("%s at window end: %w", srv.kind, err)
	}
	p1, _ := sampleProcs(pub.pids())
	win := time.Since(t0).Seconds()
	fn := float64(res.N)
	res.WindowSec = win
	res.CPUPct = float64(s1.ticks-s0.ticks) / clkTck / win * 100 / fn
	res.WritesPerSec = float64(s1.syscw-s0.syscw) / win / fn
	if rssN > 0 {
		res.SteadyMiB = rssSum / float64(rssN)
	}
	res.RSSPerStream = (res.SteadyMiB - res.IdleMiB) / fn
	if p1.ticks >= p0.ticks && p0.n > 0 && p1.n == p0.n {
		res.PubCPUPct = float64(p1.ticks-p0.ticks) / clkTck / win * 100 / fn
	}
	return s1, nil
}

func kib2mib(k uint64) float64 { return float64(k) / 1024 }
