// Command liverec records live streams: `liverec serve` runs the service, `liverec bench`
// publishes test load (bench.go), `liverec version` prints the version and `liverec help`
// lists the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/liverec/liverec/internal/app"
	"github.com/liverec/liverec/internal/conf"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	args := os.Args[1:]
	// The heap goal is the service's; bench, a load generator, keeps the runtime's.
	if len(args) == 0 || args[0] != "bench" {
		setGCPercent(os.Getenv)
	}
	code := app.Main(ctx, args, os.Getenv, os.Stdout, os.Stderr, benchCommand())
	stop()
	os.Exit(code)
}

// benchCommand is `liverec bench`, which lives here, beside the service, not in it.
func benchCommand() app.Command {
	return app.Command{
		Name:    "bench",
		Summary: "publish test streams to an RTMP server and report each one's health",
		Run:     benchMain,
	}
}

// defaultGCPercent is the service's heap goal when GOGC is not set (conf.DefaultGCPercent
// says why).
const defaultGCPercent = conf.DefaultGCPercent

func setGCPercent(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
