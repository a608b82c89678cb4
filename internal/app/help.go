package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/liverec/liverec/internal/conf"
)

// writeUsage lists the commands, one line each.
func writeUsage(w io.Writer, cmds []Command) {
	fmt.Fprint(w, "liverec records live streams: RTMP in, FLV, MP4 and HLS files out to local disk or S3.\n\n"+
		"usage: liverec COMMAND [flags]\n\ncommands:\n")
	width := 0
	for _, c := range cmds {
		width = max(width, len(c.Name))
	}
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.Name, c.Summary)
	}
	fmt.Fprint(w, "\nFor the flags of a command: liverec help COMMAND, or liverec COMMAND -h.\n")
}

// help runs `liverec help [COMMAND]`: a command's help is what its -h prints.
func help(ctx context.Context, cmds []Command, args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0 || len(args) == 1 && isHelpFlag(args[0]):
		writeUsage(stdout, cmds)
		return 0
	case len(args) > 1:
		fmt.Fprintf(stderr, "liverec help: one command at most, not %q\n", args)
		return 2
	}
	cmd, ok := findCommand(cmds, args[0])
	if !ok {
		fmt.Fprintf(stderr, "liverec help: unknown command %q\n\n", args[0])
		writeUsage(stderr, cmds)
		return 2
	}
	if cmd.Name == "help" {
		writeUsage(stdout, cmds)
		return 0
	}
	return cmd.Run(ctx, []string{"-h"}, stdout, stderr)
}

// writeServeHelp is the help of `liverec serve`, listed from conf's own flag and variable
// definitions so that none can be missing.
func writeServeHelp(w io.Writer) {
	fmt.Fprint(w, `usage: liverec serve [flags]

Runs the recording service until SIGINT or SIGTERM, then stops gracefully. A flag that is not
given is read from its environment variable; a flag given wins. Storage endpoints, limits,
timeouts and recording rules are set in the YAML file of --config (docs/config.md).

flags:
`)
	WriteFlags(w, conf.Flags(&conf.Config{}), conf.EnvName)
	fmt.Fprint(w, "\nenvironment variables without a flag:\n")
	for _, v := range conf.EnvOnly() {
		fmt.Fprintf(w, "  %s  (default: %s)\n      %s\n", v.Name, v.Default, v.Usage)
	}
}

// WriteFlags lists the flags of fs in name order, each as "--name VALUE  (ENV, default D)"
// and its usage below. env names a flag's environment variable; nil when there are none. A
// zero default is left out: the usage says what an empty value means.
func WriteFlags(w io.Writer, fs *flag.FlagSet, env func(flagName string) string) {
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		head := "--" + f.Name
		if arg != "" {
			head += " " + arg
		}
		var notes []string
		if env != nil {
			notes = append(notes, env(f.Name))
		}
		switch f.DefValue {
		case "", "0", "0s", "false":
		default:
			notes = append(notes, "default "+f.DefValue)
		}
		if len(notes) > 0 {
			head += "  (" + strings.Join(notes, ", ") + ")"
		}
		fmt.Fprintf(w, "  %s\n      %s\n", head, usage)
	})
}

// version runs `liverec version`.
func version(_ context.Context, args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 1 && isHelpFlag(args[0]):
		fmt.Fprint(stdout, "usage: liverec version\n\n"+
			"Prints the version of liverec, the commit it was built from (its time, and \"dirty\" when\n"+
			"the working tree had changes) and the Go release that built it.\n")
		return 0
	case len(args) > 0:
		fmt.Fprintf(stderr, "liverec version: unexpected argument %q\n", args[0])
		return 2
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(Version, bi))
	return 0
}

// versionLine describes a build: "liverec VERSION (commit REV12, TIME[, dirty]) GO". The
// version is override when it was set at link time (not "dev"), else the module version of
// the build info. The commit comes from the build info's vcs settings, which go build stamps
// in a git checkout unless -buildvcs=false; without them the commit is "unknown".
func versionLine(override string, bi *debug.BuildInfo) string {
	v, goVersion := override, runtime.Version()
	settings := map[string]string{}
	if bi != nil {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			// The parentheses say dirty; Go's "+dirty" suffix would say it twice.
			v = strings.TrimSuffix(bi.Main.Version, "+dirty")
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
	}
	commit := "commit unknown"
	if rev := settings["vcs.revision"]; rev != "" {
		commit = "commit " + rev[:min(12, len(rev))]
		if t := settings["vcs.time"]; t != "" {
			commit += ", " + t
		}
		if settings["vcs.modified"] == "true" {
			commit += ", dirty"
		}
	}
	return fmt.Sprintf("liverec %s (%s) %s", v, commit, goVersion)
}

// buildVersion is this binary's versionLine without the name: what a node tells its peers.
func buildVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return strings.TrimPrefix(versionLine(Version, bi), "liverec ")
}
