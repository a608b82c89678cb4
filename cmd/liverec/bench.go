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

	"github.com/liverec/liverec/internal/loadgen"
)

const benchUsage = `usage: liverec bench --url rtmp://HOST[:PORT]/APP --streams N --duration D --file FILE.flv
                     [--prefix s] [--ramp 2s] [--json] [--tick 10ms] [--workers N] [--connect-timeout 10s]

Publishes N streams named <prefix>0 ... <prefix>N-1 to URL/<name>, replaying FILE.flv (H.264/AAC)
in a loop paced in real time, for D each, and reports per-stream publish health. Each frame is
sent within --tick of its time, one or two frames per write, as a live encoder sends them; a
larger tick batches frames, which makes servers that wake up per read cheaper than they are
with real publishers. The exit status
is 1 when a stream failed, 2 for invalid flags.`

// benchMain runs `liverec bench args...` and returns the exit code.
func benchMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		cfg      loadgen.Config
		file     string
		asJSON   bool
		duration = fs.Duration("duration", 60*time.Second, "how long each stream publishes")
	)
	fs.StringVar(&cfg.URL, "url", "", "RTMP application URL, rtmp://host[:port]/app")
	fs.IntVar(&cfg.Streams, "streams", 1, "number of concurrent streams")
	fs.StringVar(&file, "file", "", "FLV file to replay (read once, looped)")
	fs.StringVar(&cfg.Prefix, "prefix", "s", "stream name prefix")
	fs.DurationVar(&cfg.Ramp, "ramp", 2*time.Second, "time over which the connections are opened")
	fs.BoolVar(&asJSON, "json", false, "print a JSON report instead of a table")
	fs.DurationVar(&cfg.Tick, "tick", loadgen.DefaultTick, "scheduler period: what is due is sent every tick")
	fs.IntVar(&cfg.Workers, "workers", 0, "scheduler goroutines (default one per two cores)")
	fs.DurationVar(&cfg.ConnectTimeout, "connect-timeout", 10*time.Second, "bound on each stream's connect and publish")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, benchUsage)
			return 0
		}
		fmt.Fprintf(stderr, "liverec bench: %v\n%s\n", err, benchUsage)
		return 2
	}
	cfg.Duration = *duration
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "liverec bench: unexpected argument %q\n%s\n", fs.Arg(0), benchUsage)
		return 2
	}
	if _, err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "liverec bench: %v\n", err)
		return 2
	}
	if file == "" {
		fmt.Fprintln(stderr, "liverec bench: --file is required (an FLV file with H.264 and/or AAC)")
		return 2
	}
	clip, err := loadgen.LoadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "liverec bench: --file: %v\n", err)
		return 2
	}
	rep, err := loadgen.Run(ctx, clip, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "liverec bench: %v\n", err)
		return 2
	}
	rep.CPUSeconds = loadgen.CPUSeconds()
	if asJSON {
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
