// Command compare measures what recording costs liverec and its peers, nginx-rtmp and MediaMTX,
// doing equal work on the same publishers (issues 7 and 20): CPU per stream over a steady window
// and for completing the files, memory per stream, write system calls, the publisher's own CPU,
// and whether every file each server recorded is complete. It is a benchmark, not a test: run it
// with bench/compare.sh (see bench/README.md), as root.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	ns         []int
	runs       int
	publishers []string
	sets       []benchSet
	servers    []string
	mediamtx   string
	small      bool
	ramp       time.Duration
	tick       time.Duration
	warmup     time.Duration
	window     time.Duration
	cooldown   time.Duration
	stopGrace  time.Duration
	out        string
	plot       string
	plotFrom   []string
	repo       string
	tmpfsSize  int64
	ffmpegMax  int
	args       []string
}

func (o options) refDesc() string {
	if o.small {
		return "640x360 30 fps H.264 500 kbit/s (ultrafast, keyframe every 2 s) + AAC 128 kbit/s 44.1 kHz, 30 s FLV, looped"
	}
	return "1280x720 30 fps H.264 2 Mbit/s (ultrafast, keyframe every 2 s) + AAC 128 kbit/s 44.1 kHz, 30 s FLV, looped"
}

// pubDesc describes a publisher kind for the report.
func pubDesc(kind string) string {
	if kind == "ffmpeg" {
		return "ffmpeg `-re -stream_loop -1 -c copy` (one process per stream)"
	}
	return "`liverec bench`"
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "compare %s: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	n := fs.String("n", "10,100", "comma-separated numbers of concurrent streams")
	fs.IntVar(&o.runs, "runs", 3, "interleaved runs per server, set and N")
	pubs := fs.String("publisher", "liverec", "comma-separated load publishers, each a block of its own: liverec (`liverec bench`), ffmpeg (one process per stream)")
	sets := fs.String("sets", defaultSets, "comma-separated sets of equal work (bench/README.md)")
	servers := fs.String("servers", strings.Join(allServers, ","), "comma-separated servers to run (the others' rows are left out)")
	fs.StringVar(&o.mediamtx, "mediamtx", "", "MediaMTX binary (default: "+mediamtxDefault+", else one `go install` into "+mediamtxGobin+")")
	fs.BoolVar(&o.small, "small", false, "publish the 640x360 500 kbit/s variant instead of 1280x720 2 Mbit/s")
	fs.DurationVar(&o.ramp, "ramp", 5*time.Second, "publishers start spread over this long")
	fs.DurationVar(&o.tick, "tick", 0, "`liverec bench --tick`: how far apart it sends a stream's due frames (0: its default)")
	fs.DurationVar(&o.warmup, "warmup", 8*time.Second, "wait after the last stream started before measuring")
	fs.DurationVar(&o.window, "window", 30*time.Second, "measurement window")
	fs.DurationVar(&o.cooldown, "cooldown", 3*time.Second, "pause between runs")
	fs.DurationVar(&o.stopGrace, "stop-grace", 2*time.Second, "pause between the publishers' end and the servers' completion")
	fs.StringVar(&o.out, "out", "", "Markdown results file (default REPO/bench/results-DATE.md, with .json and .svg beside it; \"-\": none)")
	fs.StringVar(&o.plot, "plot", "", "SVG plot file (default: the results file's name with .svg)")
	plotFrom := fs.String("plot-from", "", "comma-separated results .json files: only rebuild --plot from them, no runs")
	fs.StringVar(&o.repo, "repo", ".", "liverec repository (module root)")
	size := fs.String("tmpfs-size", "auto", "size of the recordings tmpfs (e.g. 8g); auto: from N, bitrate and duration")
	fs.IntVar(&o.ffmpegMax, "ffmpeg-max", 120, "largest N the ffmpeg publisher is used for")
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
	if *plotFrom != "" {
		o.plotFrom = splitList(*plotFrom)
		if o.plot == "" {
			return o, errors.New("--plot-from needs --plot OUT.svg")
		}
		return o, nil
	}
	for _, s := range splitList(*n) {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			return o, fmt.Errorf("--n: bad number %q", s)
		}
		o.ns = append(o.ns, v)
	}
	if o.runs < 1 || o.window < 5*time.Second || o.ramp <= 0 || o.warmup < 0 {
		return o, errors.New("need --runs ≥ 1, --window ≥ 5s, --ramp > 0, --warmup ≥ 0")
	}
	for _, p := range splitList(*pubs) {
		if p != "liverec" && p != "ffmpeg" {
			return o, fmt.Errorf("--publisher: liverec or ffmpeg, not %q", p)
		}
		if !slices.Contains(o.publishers, p) {
			o.publishers = append(o.publishers, p)
		}
	}
	var err error
	if o.sets, err = parseSets(*sets); err != nil {
		return o, err
	}
	if o.servers, err = parseServers(*servers); err != nil {
		return o, err
	}
	if !slices.ContainsFunc(o.sets, func(s benchSet) bool { return len(s.servers(o.servers)) > 0 }) {
		return o, errors.New("--sets and --servers leave nothing to run")
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

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
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
	if len(opt.plotFrom) > 0 {
		if err := plotFromFiles(opt.plotFrom, opt.plot); err != nil {
			fmt.Fprintln(os.Stderr, "compare:", err)
			os.Exit(1)
		}
		logf("plot written to %s", opt.plot)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	code := run(ctx, opt)
	stop()
	os.Exit(code)
}
