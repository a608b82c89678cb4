// Command liverec records live streams: `liverec serve` runs the service, `liverec version`
// prints the version, `liverec bench` publishes test load (bench.go).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/liverec/liverec/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	var code int
	if len(os.Args) > 1 && os.Args[1] == "bench" {
		code = benchMain(ctx, os.Args[2:], os.Stdout, os.Stderr)
	} else {
		code = app.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	}
	stop()
	os.Exit(code)
}
