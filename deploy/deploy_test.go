package deploy

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liverec/liverec/internal/conf"
)

const (
	unitFile = "liverec.service"
	envFile  = "liverec.env"
	// binary is where deploy/README.md installs liverec and the unit runs it from.
	binary = "/usr/local/bin/liverec"
	// dataDir is the unit's StateDirectory=liverec.
	dataDir = "/var/lib/liverec"
)

// analyzeInstall says how to get systemd-analyze when it is missing.
const analyzeInstall = "systemd-analyze is required to check deploy/liverec.service and was not found in PATH: " +
	"apt-get install systemd (Debian), or run scripts/test, which installs it"

// TestUnitVerifies runs systemd-analyze verify on the unit, with its program stood in for by
// an executable stub (verify checks that ExecStart's program exists), and fails on anything it
// prints: verify exits 0 after warnings such as an unknown key.
func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("%s: %v", analyzeInstall, err)
	}
	unit := readFile(t, unitFile)
	if !strings.Contains(unit, "\nExecStart="+binary+" ") {
		t.Fatalf("%s does not run %s", unitFile, binary)
	}
	dir := t.TempDir()
	stub := filepath.Join(dir, "liverec")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit = strings.ReplaceAll(unit, "ExecStart="+binary, "ExecStart="+stub)

	if out, err := verify(t, analyze, dir, unit); err != nil || out != "" {
		t.Fatalf("systemd-analyze verify %s: %v\n%s", unitFile, err, out)
	}
	// The same check must catch a mistake, or a quiet verify proves nothing.
	broken := strings.Replace(unit, "[Service]\n", "[Service]\nProtectSystm=strict\n", 1)
	if out, err := verify(t, analyze, dir, broken); err == nil && !strings.Contains(out, "ProtectSystm") {
		t.Fatalf("systemd-analyze verify passes a unit with an unknown key: %q", out)
	}
}

// verify writes unit into dir as liverec.service and returns what systemd-analyze verify
// printed on stdout and stderr.
func verify(t *testing.T, analyze, dir, unit string) (string, error) {
	t.Helper()
	path := filepath.Join(dir, unitFile)
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(analyze, "verify", "--man=no", path)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// TestUnitCommandLine checks the unit against liverec itself: its command line and the example
// environment file load as a configuration, the stop timeout outlasts liverec's graceful
// shutdown, and the data dir is the one systemd creates and lets liverec write.
func TestUnitCommandLine(t *testing.T) {
	unit := parseUnit(t, readFile(t, unitFile))
	cmdline := strings.Fields(unit.one(t, "ExecStart"))
	if len(cmdline) < 2 || cmdline[0] != binary || cmdline[1] != "serve" {
		t.Fatalf("ExecStart=%s: want %s serve …", strings.Join(cmdline, " "), binary)
	}
	examples, named := envExamples(t, readFile(t, envFile))
	var asked []string
	getenv := func(name string) string {
		asked = append(asked, name)
		return examples[name]
	}
	c, err := conf.Load(cmdline[2:], getenv)
	if err != nil {
		t.Fatalf("liverec refuses the unit's command line with %s's examples: %v", envFile, err)
	}
	// GOGC is read by the Go runtime and cmd/liverec, not by conf.
	asked = append(asked, "GOGC")
	for _, name := range named {
		if !slices.Contains(asked, name) {
			t.Errorf("%s names %s, which liverec does not read", envFile, name)
		}
	}

	stop, err := time.ParseDuration(unit.one(t, "TimeoutStopSec"))
	if err != nil {
		t.Fatalf("TimeoutStopSec: %v (write it as a Go duration, e.g. 45s)", err)
	}
	if stop <= c.ShutdownTimeout {
		t.Errorf("TimeoutStopSec=%s does not outlast --shutdown-timeout %s: systemd would kill a graceful stop",
			stop, c.ShutdownTimeout)
	}
	if c.Data != dataDir {
		t.Errorf("--data is %q, want the state directory %s", c.Data, dataDir)
	}
	if got := unit.one(t, "StateDirectory"); "/var/lib/"+got != dataDir {
		t.Errorf("StateDirectory=%s, want the data dir %s", got, dataDir)
	}
	if !slices.Contains(strings.Fields(unit.one(t, "ReadWritePaths")), dataDir) {
		t.Errorf("ReadWritePaths does not let liverec write its data dir %s", dataDir)
	}
	if got := unit.one(t, "WorkingDirectory"); got != dataDir {
		t.Errorf("WorkingDirectory=%s, want the data dir %s", got, dataDir)
	}
	if got := unit.one(t, "KillSignal"); got != "SIGTERM" {
		t.Errorf("KillSignal=%s: liverec stops gracefully on SIGTERM or SIGINT", got)
	}
}

// unitKeys are a unit file's settings: each key's values in order, all sections together.
type unitKeys map[string][]string

func parseUnit(t *testing.T, text string) unitKeys {
	t.Helper()
	keys := unitKeys{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: not a setting: %q", unitFile, line)
		}
		keys[k] = append(keys[k], v)
	}
	return keys
}

// one returns key's only value.
func (u unitKeys) one(t *testing.T, key string) string {
	t.Helper()
	if len(u[key]) != 1 {
		t.Fatalf("%s: want one %s=, have %q", unitFile, key, u[key])
	}
	return u[key][0]
}

// envExamples reads the example environment file, whose settings are all commented out: the
// values it suggests (but LIVEREC_CONFIG, a file this machine lacks) and every name it shows.
func envExamples(t *testing.T, text string) (values map[string]string, names []string) {
	t.Helper()
	values = map[string]string{}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line != "" && line[0] != '#' {
			t.Errorf("%s sets %q: every setting there is an example, commented out", envFile, line)
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "#"), "=")
		if !ok || strings.ContainsAny(k, " \t") || k == "" {
			continue // prose
		}
		names = append(names, k)
		if k != "LIVEREC_CONFIG" {
			values[k] = v
		}
	}
	if len(names) == 0 {
		t.Fatalf("%s shows no settings", envFile)
	}
	return values, names
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
