package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// run does everything; every process it starts is killed and the tmpfs unmounted before it
// returns.
func run(ctx context.Context, opt options) int {
	defer killAll()
	if os.Geteuid() != 0 {
		logf("must run as root (apt, tmpfs mount)")
		return 1
	}
	repo, err := filepath.Abs(opt.repo)
	if err != nil {
		logf("%v", err)
		return 1
	}
	if b, rerr := os.ReadFile(filepath.Join(repo, "go.mod")); rerr != nil || !strings.Contains(string(b), "module github.com/liverec/liverec") {
		logf("--repo %s is not the liverec module root", repo)
		return 1
	}
	opt.repo = repo
	started := time.Now()
	b := &bench{opt: opt, logRoot: filepath.Join(cacheDir, "logs", started.Format("20060102-150405"))}
	if err = os.MkdirAll(b.logRoot, 0o755); err != nil {
		logf("%v", err)
		return 1
	}
	if b.module, err = ensureTools(ctx); err != nil {
		logf("%v", err)
		return 1
	}
	logf("building liverec")
	if b.bin, err = buildLiverec(ctx, repo, b.logRoot); err != nil {
		logf("%v", err)
		return 1
	}
	for _, p := range opt.publishers {
		if p == "liverec" && !hasBenchCommand(ctx, b.bin) {
			logf("this liverec has no `bench` command: use --publisher ffmpeg (N ≤ %d)", opt.ffmpegMax)
			return 1
		}
		if p == "ffmpeg" && slices.Max(opt.ns) > opt.ffmpegMax {
			logf("--publisher ffmpeg costs ~0.5%% of a core per stream: N=%d is over --ffmpeg-max %d", slices.Max(opt.ns), opt.ffmpegMax)
			return 1
		}
	}
	if slices.Contains(opt.servers, mediamtxName) && slices.ContainsFunc(opt.sets, func(s benchSet) bool { return s.Peer == mediamtxName }) {
		b.mediamtx = resolveMediamtx(ctx, opt.mediamtx, b.logRoot)
		if b.mediamtx.notRun != "" {
			logf("MediaMTX not run: %s", b.mediamtx.notRun)
		} else {
			logf("MediaMTX: %s (%s)", b.mediamtx.bin, b.mediamtx.version)
		}
	}
	v := refFull
	if opt.small {
		v = refSmall
	}
	if b.ref, err = ensureRef(ctx, v); err != nil {
		logf("%v", err)
		return 1
	}
	b.duration = opt.ramp + opt.warmup + opt.window + 5*time.Second

	size, err := tmpfsSize(opt, b.ref, b.duration)
	if err != nil {
		logf("%v", err)
		return 1
	}
	b.mnt = filepath.Join(cacheDir, "mnt-"+started.Format("20060102-150405"))
	if err := mountTmpfs(b.mnt, size); err != nil {
		logf("%v", err)
		return 1
	}
	defer unmountTmpfs(b.mnt)
	defer killAll() // before the unmount: nothing may hold files on the tmpfs
	info := machineFacts(ctx, repo, b.mediamtx, size)
	logf("recordings on a %.1f GiB tmpfs at %s; logs and configs in %s", float64(size)/(1<<30), b.mnt, b.logRoot)

	results, runErr := b.runAll(ctx)
	rf := resultsFile{Date: started.Format("2006-01-02 15:04"), Command: "bench/compare.sh " + strings.Join(opt.args, " "),
		Machine: info, Caption: machineCaption(info), Reference: opt.refDesc(), Runs: opt.runs,
		Window: opt.window.String(), Warmup: opt.warmup.String(), Ramp: opt.ramp.String(), Duration: b.duration.String(), Results: results}
	if runErr != nil {
		rf.Aborted = runErr.Error()
	}
	md, pass := report(opt, rf)
	fmt.Println(md)
	if runErr != nil {
		// A partial run does not replace a results file; its numbers stay with its logs.
		partial := filepath.Join(b.logRoot, "results-partial.json")
		if err := writeResults(partial, rf); err != nil {
			logf("%v", err)
		}
		logf("ABORTED: %v (results above are partial, in %s; logs in %s)", runErr, partial, b.logRoot)
		return 1
	}
	if err := writeOutputs(opt, repo, started, md, rf); err != nil {
		logf("%v", err)
		return 1
	}
	if !pass {
		return 1
	}
	return 0
}

// runAll runs every publisher block, set, N and run, the set's servers interleaved (peer,
// liverec, peer, liverec, …). It stops at the first run that could not be measured.
func (b *bench) runAll(ctx context.Context) ([]*runResult, error) {
	var out []*runResult
	for _, pub := range b.opt.publishers {
		for _, set := range b.opt.sets {
			kinds := set.servers(b.opt.servers)
			for _, n := range b.opt.ns {
				for run := 1; run <= b.opt.runs; run++ {
					for _, kind := range kinds {
						if kind != mediamtxName || b.mediamtx.notRun == "" {
							settlePages(ctx)
							logf("%s publisher, set %s, N=%d run %d/%d: %s (publishers for %v)", pub, set.Name, n, run, b.opt.runs, kind, b.duration)
						}
						r, err := b.runOne(ctx, pub, set, kind, n, run)
						if err != nil {
							return out, fmt.Errorf("%s publisher, set %s, N=%d run %d, %s: %w", pub, set.Name, n, run, kind, err)
						}
						out = append(out, r)
						if r.NotRun != "" {
							continue
						}
						logf("  CPU %.3f %%/stream window, completion %.3f s/stream (%.1f s), all-in %.3f %%/stream; RSS %.3f MiB/stream; publisher %.3f %%/stream",
							r.CPUPct, r.CompletionCPUSec/float64(n), r.CompletionWallSec, r.AllInPct, r.RSSPerStream, r.PubCPUPct)
						if r.Check != nil && len(r.Check.Issues) > 0 {
							logf("  file check: %d issue(s), first: %s", len(r.Check.Issues), r.Check.Issues[0])
						}
						if r.Check != nil && len(r.Check.Diffs) > 0 {
							logf("  file check: %d frame difference(s) within ±%d, first: %s", len(r.Check.Diffs), peerTolerance, r.Check.Diffs[0])
						}
						if err := sleepUntil(ctx, time.Now().Add(b.opt.cooldown)); err != nil {
							return out, err
						}
					}
				}
			}
		}
	}
	return out, nil
}

// writeOutputs writes the Markdown report, the JSON results and the SVG plot (--out -: only
// an explicit --plot).
func writeOutputs(opt options, repo string, started time.Time, md string, rf resultsFile) error {
	out, plot := opt.out, opt.plot
	if out == "" {
		out = filepath.Join(repo, "bench", "results-"+started.Format("2006-01-02")+".md")
	}
	if out != "-" {
		base := strings.TrimSuffix(out, filepath.Ext(out))
		if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
			return fmt.Errorf("write results: %w", err)
		}
		if err := writeResults(base+".json", rf); err != nil {
			return err
		}
		logf("results written to %s and %s", out, base+".json")
		if plot == "" {
			plot = base + ".svg"
		}
	}
	if plot == "" {
		return nil
	}
	svg, err := plotSVG([]resultsFile{rf})
	if err != nil {
		logf("no plot: %v", err)
		return nil
	}
	if err := os.WriteFile(plot, []byte(svg), 0o644); err != nil {
		return fmt.Errorf("write plot: %w", err)
	}
	logf("plot written to %s", plot)
	return nil
}

// tmpfsSize sizes the recordings tmpfs: liverec keeps up to three formats plus, while
// finalizing, a second MP4 copy, so 4× the stream's bytes per stream at the largest N, plus
// slack. It refuses sizes the machine's free memory cannot back.
func tmpfsSize(opt options, ref string, d time.Duration) (int64, error) {
	avail, err := memAvailable()
	if err != nil {
		return 0, err
	}
	if opt.tmpfsSize > 0 {
		return opt.tmpfsSize, nil
	}
	st, err := os.Stat(ref)
	if err != nil {
		return 0, err
	}
	rate := float64(st.Size()) / refSeconds
	maxN := slices.Max(opt.ns)
	need := int64(float64(maxN)*rate*d.Seconds()*4) + 512<<20
	if float64(need) > 0.75*float64(avail) {
		return 0, fmt.Errorf("a run at N=%d for %v needs a ~%.1f GiB tmpfs, more than 3/4 of the %.1f GiB available: use --small, a smaller --n or a shorter --window (or force --tmpfs-size)",
			maxN, d, float64(need)/(1<<30), float64(avail)/(1<<30))
	}
	return need, nil
}
