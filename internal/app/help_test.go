package app

import (
	"bytes"
	"context"
	"io"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// runMain runs Main with one extra command, fake, that records its arguments.
func runMain(t *testing.T, args ...string) (stdout, stderr string, code int, fakeArgs []string) {
	t.Helper()
	fake := Command{Name: "fake", Summary: "a command from outside the package",
		Run: func(_ context.Context, args []string, stdout, _ io.Writer) int {
			fakeArgs = args
			io.WriteString(stdout, "fake ran\n")
			return 7
		}}
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, func(string) string { return "" }, &out, &errOut, fake)
	return out.String(), errOut.String(), code, fakeArgs
}

func TestMainHelpAndUnknown(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-help"}, {"help"}, {"help", "-h"}, {"help", "help"}} {
		out, errOut, code, _ := runMain(t, args...)
		require.Equal(t, 0, code, "%q", args)
		require.Empty(t, errOut, "%q", args)
		for _, name := range []string{"serve", "fake", "version", "help"} {
			require.Contains(t, out, "\n  "+name+" ", "%q lists %s", args, name)
		}
		require.Less(t, strings.Index(out, "  serve "), strings.Index(out, "  fake "), "serve comes first")
	}
	for _, args := range [][]string{nil, {"nope"}, {"help", "nope"}, {"help", "serve", "fake"}} {
		out, errOut, code, _ := runMain(t, args...)
		require.Equal(t, 2, code, "%q", args)
		require.Empty(t, out, "%q", args)
		require.NotEmpty(t, errOut, "%q", args)
	}
}

// `help NAME` is NAME's own -h, for commands from outside the package too.
func TestMainHelpRunsCommandHelp(t *testing.T) {
	out, _, code, fakeArgs := runMain(t, "help", "fake")
	require.Equal(t, 7, code)
	require.Equal(t, []string{"-h"}, fakeArgs)
	require.Equal(t, "fake ran\n", out)

	_, _, code, fakeArgs = runMain(t, "fake", "a", "b")
	require.Equal(t, 7, code)
	require.Equal(t, []string{"a", "b"}, fakeArgs)
}

func TestMainHelpServe(t *testing.T) {
	viaHelp, errOut, code, _ := runMain(t, "help", "serve")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, viaHelp, "usage: liverec serve")
	require.Contains(t, viaHelp, "--shutdown-timeout DURATION  (LIVEREC_SHUTDOWN_TIMEOUT, default 30s)")
	require.Contains(t, viaHelp, "  LIVEREC_MASTER_KEY  (default: ")
	viaFlag, _, code, _ := runMain(t, "serve", "--data", "x", "-h")
	require.Equal(t, 0, code)
	require.Equal(t, viaHelp, viaFlag)

	_, errOut, code, _ = runMain(t, "serve", "--bogus")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "flag provided but not defined: -bogus (liverec serve -h lists the flags)")
}

func TestVersionLine(t *testing.T) {
	vcs := func(kv ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261207212750-c04a0ab8ae73+dirty"}}
		for i := 0; i+1 < len(kv); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return bi
	}
	rev := "c04a0ab8ae73b9be9337ec36ee1077cea2e347f1"
	for name, tc := range map[string]struct {
		override string
		bi       *debug.BuildInfo
		want     string
	}{
		"dirty": {"dev", vcs("vcs.revision", rev, "vcs.time", "2026-12-07T21:27:50Z", "vcs.modified", "true"),
			"liverec v0.0.0-20261207212750-c04a0ab8ae73 (commit c04a0ab8ae73, 2026-12-07T21:27:50Z, dirty) go1.26.8"},
		"clean": {"dev", vcs("vcs.revision", rev, "vcs.time", "2026-12-07T21:27:50Z", "vcs.modified", "false"),
			"liverec v0.0.0-20261207212750-c04a0ab8ae73 (commit c04a0ab8ae73, 2026-12-07T21:27:50Z) go1.26.8"},
		"ldflags version wins": {"v1.4.0", vcs("vcs.revision", rev),
			"liverec v1.4.0 (commit c04a0ab8ae73) go1.26.8"},
		"no vcs": {"dev", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			"liverec dev (commit unknown) go1.26.8"},
	} {
		require.Equal(t, tc.want, versionLine(tc.override, tc.bi), name)
	}
	require.Regexp(t, `^liverec dev \(commit unknown\) go1\.`, versionLine("dev", nil), "no build info")
}
