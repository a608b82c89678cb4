package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/liverec/liverec/internal/app"
	"github.com/liverec/liverec/internal/loadgen"
)

const benchIntro = `usage: liverec bench --url rtmp://HOST[:PORT]/APP --file FILE.flv [flags]

Publishes --streams N streams named PREFIX0 ... PREFIX(N-1) to URL/NAME, replaying FILE.flv
(H.264/AAC) in a loop paced in real time, for --duration each, and reports per-stream publish
health. Each frame is sent within --tick of its time, one or two frames per write, as a live
encoder sends them; a larger tick batches frames, which makes servers that wake up per read
cheaper than they are with real publishers. The exit status is 1 when a stream failed, 2 for
invalid flags.

flags:
`

// benchArgs are what bench's flags set.
type benchArgs struct {
	cfg    loadgen.Config
	file   string
	asJSON bool
}

// benchFlags is the one definition of bench's flags: benchMain parses with it and its help
// lists it.
func benchFlags(a *benchArgs) *flag.FlagSet {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&a.cfg.URL, "url", "", "RTMP application `URL`, rtmp://host[:port]/app (required)")
	fs.IntVar(&a.cfg.Streams, "streams", 1, "`N` concurrent streams")
	fs.DurationVar(&a.cfg.Duration, "duration", 60*time.Second, "how long each stream publishes, a Go `DURATION`")
	fs.StringVar(&a.file, "file", "", "FLV `FILE` to replay, read once and looped (required)")
	fs.StringVar(&a.cfg.Prefix, "prefix", "s", "stream name `PREFIX`")
	fs.DurationVar(&a.cfg.Ramp, "ramp", 2*time.Second, "`DURATION` over which the connections are opened")
	fs.BoolVar(&a.asJSON, "json", false, "print a JSON report instead of a table")
	fs.DurationVar(&a.cfg.Tick, "tick", loadgen.DefaultTick, "scheduler period, a `DURATION`: what is due is sent every tick")
	fs.IntVar(&a.cfg.Workers, "workers", 0, "`N` scheduler goroutines (default: one per two cores)")
	fs.DurationVar(&a.cfg.ConnectTimeout, "connect-timeout", 10*time.Second, "bound on each stream's connect and publish, a `DURATION`")
	return fs
}

// benchMain runs `liverec bench args...` and returns the exit code.
func benchMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var a benchArgs
	fs := benchFlags(&a)
	// A mistake gets this hint rather than the whole help, which -h prints to stdout.
	const hint = "(liverec bench -h lists the flags)"
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, benchIntro)
			app.WriteFlags(stdout, fs, nil)
			return 0
		}
		fmt.Fprintf(stderr, "liverec bench: %v %s\n", err, hint)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "liverec bench: unexpected argument %q %s\n", fs.Arg(0), hint)
		return 2
	}
	if _, err := a.cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "liverec bench: %v\n", err)
		return 2
	}
	if a.file == "" {
		fmt.Fprintln(stderr, "liverec bench: --file is required (an FLV file with H.264 and/or AAC)")
		return 2
	}
	clip, err := loadgen.LoadFile(a.file)
	if err != nil {
		fmt.Fprintf(stderr, "liverec bench: --file: %v\n", err)
		return 2
	}
	rep, err := loadgen.Run(ctx, clip, a.cfg)
	if err != nil {
		fmt.Fprintf(stderr, "liverec bench: %v\n", err)
		return 2
	}
	rep.CPUSeconds = loadgen.CPUSeconds()
	if a.asJSON {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "liverec bench: %v\n", err)
			return 1
		}
	} else {
		printTable(stdout, rep)
	}
	if rep.Total.Failed > 0 {
		fmt.Fprintf(stderr, "liverec bench: %d of %d streams failed\n", rep.Total.Failed, rep.Total.Streams)
		return 1
	}
	return 0
}

func printTable(w io.Writer, r *loadgen.Report) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tOK\tVIDEO\tAUDIO\tBYTES\tMAX LAG ms\tSTARTED\tENDED\tERROR")
	for _, s := range r.Streams {
		fmt.Fprintf(tw, "%s\t%v\t%d\t%d\t%d\t%.1f\t%s\t%s\t%s\n", s.Name, s.OK, s.VideoFrames, s.AudioFrames,
			s.Bytes, s.MaxLagMS, s.Started, s.Ended, s.Error)
	}
	t := r.Total
	fmt.Fprintf(tw, "TOTAL\t%d/%d\t%d\t%d\t%d\t%.1f\t\t\t%d failed\n", t.OK, t.Streams, t.VideoFrames, t.AudioFrames,
		t.Bytes, t.MaxLagMS, t.Failed)
	tw.Flush()
	perStream := 0.0
	if t.PublishSeconds > 0 {
		perStream = r.CPUSeconds / t.PublishSeconds * 100
	}
	fmt.Fprintf(w, "cpu %.2f s over %.1f s wall, %.1f stream-seconds published: %.4f %% of a core per stream\n",
		r.CPUSeconds, r.WallSeconds, t.PublishSeconds, perStream)
}
