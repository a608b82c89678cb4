// Command liverec records live streams: `liverec serve` runs the service, `liverec version`
// prints the version, `liverec bench` publishes test load (bench.go).
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/liverec/liverec/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	var code int
	if len(os.Args) > 1 && os.Args[1] == "bench" {
		code = benchMain(ctx, os.Args[2:], os.Stdout, os.Stderr)
	} else {
		setGCPercent(os.Getenv)
		code = app.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	}
	stop()
	os.Exit(code)
}

// defaultGCPercent: liverec's heap is mostly media buffers recycled through pools and the
// collector takes about half a percent of its CPU, so a heap goal of 1.5× the live heap
// instead of 2× costs little and keeps ~0.1 MiB per recorded stream off the resident set
// (docs/benchmarks.md). GOGC in the environment still decides.
const defaultGCPercent = 50

func setGCPercent(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
