// Command liverec records live streams: `liverec serve` runs the service, `liverec version`
// prints the version.
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
	code := app.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
