package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/liverec/liverec/internal/conf"
)

// Version is set at build time with -ldflags "-X github.com/liverec/liverec/internal/app.Version=...";
// left "dev", `liverec version` shows the module version of the build info.
var Version = "dev"

// Command is a subcommand of liverec.
type Command struct {
	Name string
	// Summary is its line in `liverec help`.
	Summary string
	// Run runs it with the arguments after its name and returns the exit code. -h and --help
	// print its help to stdout and return 0, as `liverec help NAME` does.
	Run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// Main runs the command line args (without the program name) and returns the process exit
// code. more are the commands that live outside this package (bench, in cmd/liverec); help
// lists them after serve.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, more ...Command) int {
	cmds := commands(getenv, more)
	if len(args) == 0 {
		writeUsage(stderr, cmds)
		return 2
	}
	if isHelpFlag(args[0]) {
		writeUsage(stdout, cmds)
		return 0
	}
	cmd, ok := findCommand(cmds, args[0])
	if !ok {
		fmt.Fprintf(stderr, "liverec: unknown command %q\n\n", args[0])
		writeUsage(stderr, cmds)
		return 2
	}
	return cmd.Run(ctx, args[1:], stdout, stderr)
}

// commands are serve, more, version and help, in the order help lists them.
func commands(getenv func(string) string, more []Command) []Command {
	cmds := []Command{{
		Name:    "serve",
		Summary: "run the recording service: RTMP ingest, recording, management APIs, console",
		Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			return serve(ctx, args, getenv, stdout, stderr)
		},
	}}
	cmds = append(cmds, more...)
	cmds = append(cmds,
		Command{Name: "version", Summary: "print the version, the commit and the Go release of this binary", Run: version},
		Command{Name: "help", Summary: "list the commands, or show the flags of one: liverec help COMMAND"})
	// help lists cmds, so it is bound once they are all there.
	cmds[len(cmds)-1].Run = func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		return help(ctx, cmds, args, stdout, stderr)
	}
	return cmds
}

func findCommand(cmds []Command, name string) (Command, bool) {
	for _, c := range cmds {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

// isHelpFlag: the spellings of -h that package flag accepts.
func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "--h", "-help", "--help":
		return true
	}
	return false
}

// serve runs `liverec serve args...`.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c, err := conf.Load(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		writeServeHelp(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "liverec serve:", err)
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

func newLogger(c *conf.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
