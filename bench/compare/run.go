package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// runResult is one server's measurement at one N in one run.
type runResult struct {
	N, Run int
	Server string

	CPUPct         float64 // server CPU, % of one core per stream, over the window
	IdleMiB        float64 // server RSS before the publishers
	SteadyMiB      float64 // server RSS during the window (mean of 1 s samples)
	RSSPerStream   float64 // (steady − idle) / N, MiB
	WritesPerSec   float64 // write-type syscalls per stream per second, over the window
	PubCPUPct      float64 // publisher CPU, % of one core per stream, over the window
	PubCPUReported float64 // publisher's own cpu_seconds per stream (whole run)
	MaxLagMs       float64 // the publisher's worst lag behind real time, over all streams
	WindowSec      float64

	StreamsFailed []string
	PubErr        string
	Files         int // nginx: files recorded; liverec: files probed
	FileBytes     int64
	Check         *checkResult // liverec only
	StopErr       string
}

// bench holds what every run shares.
type bench struct {
	opt      options
	bin      string // liverec binary
	module   string // ngx_rtmp_module.so
	ref      string // reference FLV
	mnt      string // tmpfs mount point
	logRoot  string
	newPub   func() publisher
	duration time.Duration // each publisher's duration
}

// runOne starts one server, publishes N streams to it, measures, stops it and (liverec) checks
// its files.
func (b *bench) runOne(ctx context.Context, kind string, n, run int) (*runResult, error) {
	id := fmt.Sprintf("n%d-run%d-%s", n, run, kind)
	dir := filepath.Join(b.mnt, id)
	logDir := filepath.Join(b.logRoot, id)
	for _, d := range []string{dir, logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	defer os.RemoveAll(dir) // the tmpfs holds one run at a time
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	var srv *server
	if kind == nginxName {
		srv, err = startNginx(b.module, dir, logDir, port, n)
	} else {
		srv, err = startLiverec(b.bin, dir, logDir, port, n)
	}
	if err != nil {
		return nil, err
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

	res := &runResult{N: n, Run: run, Server: kind, IdleMiB: kib2mib(idle.rssKiB)}
	pub := b.newPub()
	pubStart := time.Now()
	url := fmt.Sprintf("rtmp://127.0.0.1:%d/live", port)
	defer pub.kill()
	if err = pub.start(ctx, url, n, b.duration, b.opt.ramp, b.ref, logDir); err != nil {
		return nil, fmt.Errorf("publishers: %w", err)
	}
	if err = sleepUntil(ctx, pubStart.Add(b.opt.ramp+b.opt.warmup)); err != nil {
		return nil, err
	}

	// The window: CPU and write syscalls from its two ends, RSS as the mean of 1 s samples.
	s0, err := sampleProcs(srv.pids())
	if err != nil {
		return nil, fmt.Errorf("%s at window start: %w", kind, err)
	}
	p0, _ := sampleProcs(pub.pids())
	t0 := time.Now()
	var rssSum float64
	var rssN int
	for t := t0.Add(time.Second); !t.After(t0.Add(b.opt.window)); t = t.Add(time.Second) {
		if err = sleepUntil(ctx, t); err != nil {
			return nil, err
		}
		if srv.p.exited() {
			return nil, fmt.Errorf("%s exited during the window (%v); see %s", kind, srv.p.err, logDir) //nolint:errorlint // p.err is nil after a clean exit; %w would print %!w(<nil>)
		}
		if s, serr := sampleProcs(srv.pids()); serr == nil {
			rssSum += kib2mib(s.rssKiB)
			rssN++
		}
	}
	s1, err := sampleProcs(srv.pids())
	if err != nil {
		return nil, fmt.Errorf("%s at window end: %w", kind, err)
	}
	p1, _ := sampleProcs(pub.pids())
	win := time.Since(t0).Seconds()
	fn := float64(n)
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

	pr := pub.wait(ctx, b.duration+b.opt.ramp+2*time.Minute)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if pr.err != nil {
		res.PubErr = pr.err.Error()
	}
	res.StreamsFailed = pr.failed()
	for _, s := range pr.Streams {
		res.MaxLagMs = max(res.MaxLagMs, s.MaxLagMs)
	}
	if len(pr.Streams) > 0 {
		res.PubCPUReported = pr.CPUSeconds / fn
	}

	// Let the server take in what the last publishers had in flight before it is told to stop.
	if err := sleepUntil(ctx, time.Now().Add(b.opt.stopGrace)); err != nil {
		return nil, err
	}
	stopped = true
	if err := srv.shutdown(); err != nil {
		res.StopErr = err.Error()
	}
	if kind == nginxName {
		res.Files, res.FileBytes = nginxFiles(dir)
	} else {
		c := checkLiverec(ctx, filepath.Join(dir, "data"), pr, n)
		if res.StopErr != "" {
			c.issues = append(c.issues, "liverec stop: "+res.StopErr)
		}
		res.Check, res.Files = &c, c.files
	}
	return res, nil
}

func kib2mib(k uint64) float64 { return float64(k) / 1024 }
