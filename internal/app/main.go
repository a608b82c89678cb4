package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"

	"github.com/liverec/liverec/internal/conf"
)

// Version is set at build time with -ldflags "-X github.com/liverec/liverec/internal/app.Version=...".
var Version = "dev"

// Main runs the command line: it returns the process exit code.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: liverec serve [flags] | liverec bench [flags] | liverec version")
		return 2
	}
	switch args[0] {
	case "version":
		v := Version
		if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		fmt.Fprintln(stdout, "liverec", v)
		return 0
	case "serve":
		c, err := conf.Load(args[1:], getenv)
		if err != nil {
			fmt.Fprintln(stderr, "liverec:", err)
			return 2
		}
		log := newLogger(c, stderr)
		a, err := New(ctx, c, log, stdout)
		if err != nil {
			log.Error("start failed", "err", err)
			return 1
		}
		if err := a.Run(ctx); err != nil {
			log.Error("stopped with error", "err", err)
			return 1
		}
		log.Info("stopped")
		return 0
	}
	fmt.Fprintf(stderr, "liverec: unknown command %q\n", args[0])
	return 2
}

func newLogger(c *conf.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
