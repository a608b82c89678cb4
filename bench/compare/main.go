// Command compare measures what recording costs liverec and nginx-rtmp, side by side on the same
// publishers (PRODUCT.md §14, issue 7): CPU and memory per stream of the server processes, write
// system calls, the publisher's own CPU, and whether every file liverec recorded is complete.
// It is a benchmark, not a test: run it with bench/compare.sh (see bench/README.md), as root.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	ns        []int
	runs      int
	publisher string
	small     bool
	ramp      time.Duration
	tick      time.Duration
	warmup    time.Duration
	window    time.Duration
	cooldown  time.Duration
	stopGrace time.Duration
	out       string
	repo      string
	tmpfsSize int64
	ffmpegMax int
	args      []string
}

func (o options) refDesc() string {
	if o.small {
		return "640x360 30 fps H.264 500 kbit/s (ultrafast, keyframe every 2 s) + AAC 128 kbit/s 44.1 kHz, 30 s FLV, looped"
	}
	return "1280x720 30 fps H.264 2 Mbit/s (ultrafast, keyframe every 2 s) + AAC 128 kbit/s 44.1 kHz, 30 s FLV, looped"
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "compare %s: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	n := fs.String("n", "10,100", "comma-separated numbers of concurrent streams")
	fs.IntVar(&o.runs, "runs", 3, "interleaved runs per server and N")
	fs.StringVar(&o.publisher, "publisher", "liverec", "load publisher: liverec (`liverec bench`) or ffmpeg (one process per stream)")
	fs.BoolVar(&o.small, "small", false, "publish the 640x360 500 kbit/s variant instead of 1280x720 2 Mbit/s")
	fs.DurationVar(&o.ramp, "ramp", 5*time.Second, "publishers start spread over this long")
	fs.DurationVar(&o.tick, "tick", 0, "`liverec bench --tick`: how far apart it sends a stream's due frames (0: its default)")
	fs.DurationVar(&o.warmup, "warmup", 8*time.Second, "wait after the last stream started before measuring")
	fs.DurationVar(&o.window, "window", 30*time.Second, "measurement window")
	fs.DurationVar(&o.cooldown, "cooldown", 3*time.Second, "pause between runs")
	fs.DurationVar(&o.stopGrace, "stop-grace", 2*time.Second, "pause between the publishers' end and stopping the server")
	fs.StringVar(&o.out, "out", "", "Markdown results file (default REPO/bench/results-DATE.md; \"-\": none)")
	fs.StringVar(&o.repo, "repo", ".", "liverec repository (module root)")
	size := fs.String("tmpfs-size", "auto", "size of the recordings tmpfs (e.g. 8g); auto: from N, bitrate and duration")
	fs.IntVar(&o.ffmpegMax, "ffmpeg-max", 20, "largest N the ffmpeg publisher is used for")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for i := 0; i < len(args); i++ { // the command line for the report, less the wrapper's --repo
		if args[i] == "--repo" || args[i] == "-repo" {
			i++
			continue
		}
		if !strings.HasPrefix(args[i], "--repo=") && !strings.HasPrefix(args[i], "-repo=") {
			o.args = append(o.args, args[i])
		}
	}
	for _, s := range strings.Split(*n, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < 1 {
			return o, fmt.Errorf("--n: bad number %q", s)
		}
		o.ns = append(o.ns, v)
	}
	if o.runs < 1 || o.window < 5*time.Second || o.ramp <= 0 || o.warmup < 0 {
		return o, errors.New("need --runs ≥ 1, --window ≥ 5s, --ramp > 0, --warmup ≥ 0")
	}
	if o.publisher != "liverec" && o.publisher != "ffmpeg" {
		return o, fmt.Errorf("--publisher: liverec or ffmpeg, not %q", o.publisher)
	}
	if *size != "auto" {
		v, err := parseSize(*size)
		if err != nil {
			return o, fmt.Errorf("--tmpfs-size: %w", err)
		}
		o.tmpfsSize = v
	}
	return o, nil
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch strings.ToLower(s[len(s)-1:]) {
	case "k":
		mult = 1 << 10
	case "m":
		mult = 1 << 20
	case "g":
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(v * float64(mult)), nil
}

func main() {
	opt, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	code := run(ctx, opt)
	stop()
	os.Exit(code)
}

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
	stamp := time.Now().Format("20060102-150405")
	b := &bench{opt: opt, logRoot: filepath.Join(cacheDir, "logs", stamp)}
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
	pubName := "`liverec bench`"
	switch opt.publisher {
	case "liverec":
		if !hasBenchCommand(ctx, b.bin) {
			logf("this liverec has no `bench` command yet: use --publisher ffmpeg (N ≤ %d)", opt.ffmpegMax)
			return 1
		}
		b.newPub = func() publisher { return &liverecPublisher{bin: b.bin, tick: opt.tick} }
	case "ffmpeg":
		for _, n := range opt.ns {
			if n > opt.ffmpegMax {
				logf("--publisher ffmpeg costs ~0.5%% of a core per stream: N=%d is over --ffmpeg-max %d", n, opt.ffmpegMax)
				return 1
			}
		}
		pubName = "ffmpeg `-re -stream_loop -1 -c copy` (one process per stream)"
		b.newPub = func() publisher { return &ffmpegPublisher{} }
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
	b.mnt = filepath.Join(cacheDir, "mnt-"+stamp)
	if err := mountTmpfs(b.mnt, size); err != nil {
		logf("%v", err)
		return 1
	}
	defer unmountTmpfs(b.mnt)
	defer killAll() // before the unmount: nothing may hold files on the tmpfs
	pages := "free page reporting: as the machine has it"
	if b, err := os.ReadFile(reportingOrder); err == nil {
		pages += " (page_reporting_order " + strings.TrimSpace(string(b)) + ")"
	}
	logf("recordings on a %.1f GiB tmpfs at %s; logs and configs in %s; %s", float64(size)/(1<<30), b.mnt, b.logRoot, pages)
	info := append(machineInfo(ctx, repo), pages)

	byN := map[int][]*runResult{}
	var runErr error
loop:
	for _, n := range opt.ns {
		for run := 1; run <= opt.runs; run++ {
			for _, kind := range []string{nginxName, liverecName} {
				settlePages(ctx)
				logf("N=%d run %d/%d: %s (publishers for %v)", n, run, opt.runs, kind, b.duration)
				r, err := b.runOne(ctx, kind, n, run)
				if err != nil {
					runErr = fmt.Errorf("run %d at N=%d, %s: %w", run, n, kind, err)
					break loop
				}
				logf("  CPU %.3f %%/stream, RSS %.3f MiB/stream, %.1f writes/stream/s, publisher %.3f %%/stream",
					r.CPUPct, r.RSSPerStream, r.WritesPerSec, r.PubCPUPct)
				if r.Check != nil && len(r.Check.issues) > 0 {
					logf("  file check: %d issue(s), first: %s", len(r.Check.issues), r.Check.issues[0])
				}
				byN[n] = append(byN[n], r)
				if err := sleepUntil(ctx, time.Now().Add(opt.cooldown)); err != nil {
					runErr = err
					break loop
				}
			}
		}
	}
	md, pass := report(opt, info, byN, pubName, runErr)
	fmt.Println(md)
	if runErr != nil {
		logf("ABORTED: %v (results above are partial; no results file written; logs in %s)", runErr, b.logRoot)
		return 1
	}
	if opt.out != "-" {
		out := opt.out
		if out == "" {
			out = filepath.Join(repo, "bench", "results-"+time.Now().Format("2006-01-02")+".md")
		}
		if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
			logf("write %s: %v", out, err)
			return 1
		}
		logf("results written to %s", out)
	}
	if !pass {
		return 1
	}
	return 0
}

// tmpfsSize sizes the recordings tmpfs: liverec keeps three formats plus, while finalizing, a
// second MP4 copy, so 4× the stream's bytes per stream at the largest N, plus slack. It refuses
// sizes the machine's free memory cannot back.
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
	maxN := 0
	for _, n := range opt.ns {
		maxN = max(maxN, n)
	}
	need := int64(float64(maxN)*rate*d.Seconds()*4) + 512<<20
	if float64(need) > 0.75*float64(avail) {
		return 0, fmt.Errorf("a run at N=%d for %v needs a ~%.1f GiB tmpfs, more than 3/4 of the %.1f GiB available: use --small, a smaller --n or a shorter --window (or force --tmpfs-size)",
			maxN, d, float64(need)/(1<<30), float64(avail)/(1<<30))
	}
	return need, nil
}
