package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// remuxReport sums what nginx-rtmp's remux wrappers (remuxWrapper) reported.
type remuxReport struct {
	done   int      // wrappers that reported
	failed []string // FLV files whose ffmpeg exited non-zero
	cpuSec float64  // their ffmpeg's user + system seconds
}

// readRemuxTimes reads every report in dir: "rc N", then the two lines of bash's `times` (the
// shell's own times, then its children's: the ffmpeg).
func readRemuxTimes(dir string) (remuxReport, error) {
	var r remuxReport
	ents, err := os.ReadDir(dir)
	if err != nil {
		return r, fmt.Errorf("read remux reports: %w", err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") || !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return r, fmt.Errorf("read remux report: %w", err)
		}
		rc, cpu, err := parseRemuxReport(string(b))
		if err != nil {
			return r, fmt.Errorf("remux report %s: %w", e.Name(), err)
		}
		r.done++
		r.cpuSec += cpu
		if rc != 0 {
			r.failed = append(r.failed, fmt.Sprintf("%s.flv: ffmpeg exit status %d", e.Name(), rc))
		}
	}
	return r, nil
}

// parseRemuxReport parses one wrapper's report into ffmpeg's exit status and CPU seconds.
func parseRemuxReport(s string) (rc int, cpuSec float64, err error) {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "rc ") {
		return 0, 0, fmt.Errorf("want \"rc N\" and two lines of times, got %q", s)
	}
	if rc, err = strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(lines[0], "rc "))); err != nil {
		return 0, 0, fmt.Errorf("exit status: %w", err)
	}
	f := strings.Fields(lines[2])
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("children's times %q: want user and system", lines[2])
	}
	for _, v := range f {
		sec, err := parseBashTime(v)
		if err != nil {
			return 0, 0, err
		}
		cpuSec += sec
	}
	return rc, cpuSec, nil
}

// parseBashTime parses bash's `times` format, e.g. 1m2.345s (a comma as the decimal mark in
// some locales).
func parseBashTime(s string) (float64, error) {
	m, rest, ok := strings.Cut(s, "m")
	if !ok || !strings.HasSuffix(rest, "s") {
		return 0, fmt.Errorf("bad time %q", s)
	}
	mins, err1 := strconv.ParseFloat(m, 64)
	secs, err2 := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSuffix(rest, "s"), ",", "."), 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return mins*60 + secs, nil
}

// waitRemux waits, at most timeout, until want wrappers have reported.
func waitRemux(ctx context.Context, dir string, want int, timeout time.Duration) (remuxReport, error) {
	deadline := time.Now().Add(timeout)
	for {
		r, err := readRemuxTimes(dir)
		if err != nil || r.done >= want {
			return r, err
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("%d of %d remuxes reported within %v", r.done, want, timeout)
		}
		if err := sleepUntil(ctx, time.Now().Add(100*time.Millisecond)); err != nil {
			return r, err
		}
	}
}
