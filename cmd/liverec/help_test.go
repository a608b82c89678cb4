package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liverec/liverec/internal/conf"
)

// runBinary runs the built liverec with args and returns its stdout, stderr and exit code.
func runBinary(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(buildBinary(t), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	// An exit status other than 0 is the result under test; failing to run is not.
	if exit := (*exec.ExitError)(nil); err != nil && !errors.As(err, &exit) {
		require.NoError(t, err, "run liverec %q", args)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// sameHelp runs each of argss, requires exit 0, nothing on stderr and the same stdout for all,
// and returns that stdout.
func sameHelp(t *testing.T, argss ...[]string) string {
	t.Helper()
	var first string
	for i, args := range argss {
		out, errOut, code := runBinary(t, args...)
		require.Equal(t, 0, code, "liverec %q: %s", args, errOut)
		require.Empty(t, errOut, "liverec %q", args)
		require.NotEmpty(t, out, "liverec %q", args)
		if i == 0 {
			first = out
		} else {
			require.Equal(t, first, out, "liverec %q and %q", argss[0], args)
		}
	}
	return first
}

// TestHelpCommands: help, -h and --help list every command on stdout with exit 0; no command
// or an unknown one prints the list to stderr with exit 2.
func TestHelpCommands(t *testing.T) {
	t.Parallel()
	usage := sameHelp(t, []string{"-h"}, []string{"--help"}, []string{"help"}, []string{"help", "help"})
	for _, name := range []string{"serve", "bench", "version", "help"} {
		require.Regexp(t, `(?m)^  `+name+` +\S`, usage, "a line for %s", name)
	}
	require.Contains(t, usage, "liverec help COMMAND")
	require.Contains(t, usage, "liverec COMMAND -h")

	for _, args := range [][]string{nil, {"frobnicate"}, {"--frobnicate"}, {"help", "frobnicate"}} {
		out, errOut, code := runBinary(t, args...)
		require.Equal(t, 2, code, "liverec %q", args)
		require.Empty(t, out, "liverec %q", args)
		require.Contains(t, errOut, "usage: liverec COMMAND", "liverec %q", args)
		if len(args) > 0 {
			require.Contains(t, errOut, `unknown command "`+args[len(args)-1]+`"`)
		}
	}
}

// TestHelpServe: serve's help lists every flag of the FlagSet that Load parses with, its
// variable and default, and every environment variable that the service's code names.
func TestHelpServe(t *testing.T) {
	t.Parallel()
	help := sameHelp(t, []string{"help", "serve"}, []string{"serve", "-h"}, []string{"serve", "--help"})
	n := 0
	conf.Flags(&conf.Config{}).VisitAll(func(f *flag.Flag) {
		n++
		require.Regexp(t, `(?m)^  --`+regexp.QuoteMeta(f.Name)+`\b`, help)
		require.Contains(t, help, conf.EnvName(f.Name))
		if f.DefValue != "" {
			require.Contains(t, help, "default "+f.DefValue, f.Name)
		}
	})
	require.GreaterOrEqual(t, n, 6, "serve's flags")
	for _, v := range conf.EnvOnly() {
		require.Regexp(t, `(?m)^  `+regexp.QuoteMeta(v.Name)+`\b`, help)
	}
	named := envNamesInSource(t, filepath.Join("..", "..", "internal"), ".")
	require.Contains(t, named, "LIVEREC_MASTER_KEY", "the scan must find the variables conf reads")
	for _, name := range append(named, "GOGC") {
		require.Regexp(t, `(?m)^  `+name+`\b`, help, "%s is read but not in the help", name)
	}
}

// envNamesInSource returns the "LIVEREC_…" string literals of the non-test Go files under
// dirs, leaving out the test harness (internal/testutil): a variable read with
// getenv("LIVEREC_…") anywhere in the service shows up here.
func envNamesInSource(t *testing.T, dirs ...string) []string {
	t.Helper()
	literal := regexp.MustCompile(`"(LIVEREC_[A-Z0-9_]+)"`)
	seen := map[string]bool{}
	var names []string
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testutil" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
				if !seen[m[1]] {
					seen[m[1]] = true
					names = append(names, m[1])
				}
			}
			return nil
		})
		require.NoError(t, err, "scan %s", dir)
	}
	return names
}

// TestHelpBench: bench's help lists every flag it parses with.
func TestHelpBench(t *testing.T) {
	t.Parallel()
	help := sameHelp(t, []string{"help", "bench"}, []string{"bench", "-h"}, []string{"bench", "--help"})
	n := 0
	benchFlags(&benchArgs{}).VisitAll(func(f *flag.Flag) {
		n++
		require.Regexp(t, `(?m)^  --`+regexp.QuoteMeta(f.Name)+`\b`, help)
	})
	require.GreaterOrEqual(t, n, 10, "bench's flags")
}

// TestVersionCommit: a binary built in a git checkout names its commit (the test build asks
// for -buildvcs=true); built elsewhere it says the commit is unknown.
func TestVersionCommit(t *testing.T) {
	t.Parallel()
	out, errOut, code := runBinary(t, "version")
	require.Equal(t, 0, code, errOut)
	m := regexp.MustCompile(`^liverec \S+ \(commit ([0-9a-f]{12,}|unknown)\b[^)]*\) go1\.\d+`).FindStringSubmatch(out)
	require.NotNil(t, m, "version line: %q", out)
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	top, topErr := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	switch {
	case err != nil:
		require.Equal(t, "unknown", m[1], "not a git checkout (git rev-parse: %v), so no commit", err)
	case topErr == nil && !isDir(filepath.Join(strings.TrimSpace(string(top)), ".git")):
		// A linked worktree has a .git file, and cmd/go stamps only beside a .git directory.
		require.Equal(t, "unknown", m[1], "a git worktree is not stamped by go build")
	default:
		require.True(t, strings.HasPrefix(strings.TrimSpace(string(head)), m[1]), "commit %s of HEAD %s", m[1], head)
	}

	out, _, code = runBinary(t, "version", "-h")
	require.Equal(t, 0, code)
	require.Contains(t, out, "usage: liverec version")
	_, errOut, code = runBinary(t, "version", "extra")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `unexpected argument "extra"`)
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
