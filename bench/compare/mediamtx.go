package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const (
	// mediamtxDefault is where a MediaMTX binary built beforehand is looked for first.
	mediamtxDefault = cacheDir + "/mediamtx-bin/mediamtx"
	// mediamtxGobin is where `go install` puts it when there is none.
	mediamtxGobin  = cacheDir + "/gobin"
	mediamtxModule = "github.com/bluenviron/mediamtx@latest"
)

// mediamtxBinary is the MediaMTX the runs use, or why there is none.
type mediamtxBinary struct {
	bin, version string
	notRun       string // non-empty: MediaMTX's runs are not run, for this reason
}

// resolveMediamtx finds MediaMTX: --mediamtx, else the prebuilt default, else one `go install`
// of the latest release into mediamtxGobin (logged in logDir). It never fails the benchmark:
// without a binary, MediaMTX's rows say why they were not run.
func resolveMediamtx(ctx context.Context, flagBin, logDir string) mediamtxBinary {
	bin := flagBin
	switch {
	case bin != "":
		if _, err := os.Stat(bin); err != nil {
			return mediamtxBinary{notRun: fmt.Sprintf("--mediamtx %s: %v", bin, err)}
		}
	case isExecutable(mediamtxDefault):
		bin = mediamtxDefault
	case isExecutable(filepath.Join(mediamtxGobin, "mediamtx")):
		bin = filepath.Join(mediamtxGobin, "mediamtx")
	default:
		logf("no MediaMTX at %s: go install %s (once)", mediamtxDefault, mediamtxModule)
		ictx, cancel := context.WithTimeout(ctx, 20*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ictx, "go", "install", mediamtxModule)
		cmd.Env = append(os.Environ(), "GOBIN="+mediamtxGobin)
		out, err := cmd.CombinedOutput()
		_ = os.WriteFile(filepath.Join(logDir, "mediamtx-install.log"), out, 0o644)
		if err != nil {
			return mediamtxBinary{notRun: fmt.Sprintf("no binary at %s and `go install %s` failed (%v): %s",
				mediamtxDefault, mediamtxModule, err, oneLine(string(out), 300))}
		}
		bin = filepath.Join(mediamtxGobin, "mediamtx")
	}
	m := mediamtxBinary{bin: bin}
	if out, err := runCmd(ctx, 10*time.Second, bin, "--version"); err == nil {
		m.version = strings.TrimSpace(lastLine(string(out)))
	}
	return m
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// oneLine joins a command's output into one line of at most n bytes, for a report's cell.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
