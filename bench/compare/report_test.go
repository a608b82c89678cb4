package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestAllInPct(t *testing.T) {
	// 0.2 % per stream in the window; 10 streams spent 3 CPU s completing 60 s recordings:
	// 3 / (10 × 60) = 0.5 % more.
	if got := allInPct(0.2, 3, 10, 60); !near(got, 0.7) {
		t.Errorf("all-in %v, want 0.7", got)
	}
	if got := allInPct(0.2, 3, 0, 60); got != 0.2 {
		t.Errorf("all-in without streams %v, want the window figure", got)
	}
}

func TestStreamSecondsAfter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	// 4 streams start at 0, 1, 2, 3 s and publish 10 s: they end at 10, 11, 12, 13 s.
	if got := streamSecondsAfter(t0, 4*time.Second, 10*time.Second, 4, t0.Add(11*time.Second)); !near(got, 0+0+1+2) {
		t.Errorf("stream-seconds after 11 s: %v, want 3", got)
	}
	if got := streamSecondsAfter(t0, 4*time.Second, 10*time.Second, 4, t0.Add(20*time.Second)); got != 0 {
		t.Errorf("after every end: %v, want 0", got)
	}
}

func TestMedianAndRatios(t *testing.T) {
	if median([]float64{3, 1, 2}) != 2 || median([]float64{4, 1, 2, 3}) != 2.5 || median(nil) != 0 {
		t.Error("median")
	}
	rs := []*runResult{
		{Server: nginxName, Run: 1, CPUPct: 0.2, AllInPct: 0.4},
		{Server: liverecName, Run: 1, CPUPct: 0.1, AllInPct: 0.1},
		{Server: nginxName, Run: 2, CPUPct: 0.4, AllInPct: 0.8},
		{Server: liverecName, Run: 2, CPUPct: 0.1, AllInPct: 0.4},
		{Server: liverecName, Run: 3, CPUPct: 0.1}, // no peer run 3: no pair
	}
	w := pairRatios(rs, nginxName, windowPct)
	if len(w) != 2 || !near(w[0], 0.5) || !near(w[1], 0.25) {
		t.Errorf("window ratios %v, want [0.5 0.25]", w)
	}
	if got := ratioText(pairRatios(rs, nginxName, allIn)); got != "0.38 (0.25–0.50, 2)" {
		t.Errorf("all-in ratio text %q", got)
	}
	if ratioText(nil) != "–" {
		t.Error("ratioText(nil)")
	}
}

func testOptions(sets string) options {
	s, _ := parseSets(sets)
	return options{publishers: []string{"liverec"}, sets: s, servers: allServers}
}

func TestReportPassAndRatios(t *testing.T) {
	rf := resultsFile{Command: "bench/compare.sh --n 5", Runs: 1, Results: []*runResult{
		{Publisher: "liverec", Set: "flv", N: 5, Run: 1, Server: nginxName, CPUPct: 0.2, AllInPct: 0.25, CompletionCPUSec: 0.5, Check: &checkResult{Inputs: 5}},
		{Publisher: "liverec", Set: "flv", N: 5, Run: 1, Server: liverecName, CPUPct: 0.1, AllInPct: 0.2, CompletionCPUSec: 1, Check: &checkResult{Inputs: 5}},
	}}
	md, pass := report(testOptions("flv"), rf)
	if !pass {
		t.Fatalf("report failed:\n%s", md)
	}
	for _, want := range []string{
		"| liverec   | flv | 5 | nginx-rtmp | 0.200       | 0.250       | 0.100          | 0.200          | 0.50 (0.50–0.50, 1) | 0.80 (0.80–0.80, 1) |",
		"window 0.50 (0.50–0.50, 1); all-in 0.80 (0.80–0.80, 1)",
		"| nginx-rtmp | 1   | 0.200               | 0.100                   |", // completion 0.5 s over 5 streams
		"PASS: nginx-rtmp PASS (1 run(s)); liverec PASS (1 run(s))",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

func TestReportNotRunDiffsAndIssues(t *testing.T) {
	rf := resultsFile{Runs: 1, Results: []*runResult{
		{Publisher: "liverec", Set: "mp4", N: 5, Run: 1, Server: mediamtxName, NotRun: "no binary"},
		{Publisher: "liverec", Set: "mp4", N: 5, Run: 1, Server: liverecName, CPUPct: 0.1, AllInPct: 0.2, Check: &checkResult{Inputs: 5}},
		{Publisher: "liverec", Set: "flv", N: 5, Run: 1, Server: nginxName, CPUPct: 0.2, AllInPct: 0.2,
			Check: &checkResult{Inputs: 5, Diffs: []string{"s0 flv: video packets 659, frames sent 660 (-1) in s0-1.flv"}}},
		{Publisher: "liverec", Set: "flv", N: 5, Run: 1, Server: liverecName, CPUPct: 0.1, AllInPct: 0.1,
			Check: &checkResult{Inputs: 5, Issues: []string{"s3 flv: video packets 600, frames sent 660 (-60) in x.flv"}}},
	}}
	md, pass := report(testOptions("flv,mp4"), rf)
	if pass {
		t.Fatalf("report passed with a MediaMTX not run and a liverec issue:\n%s", md)
	}
	for _, want := range []string{
		"| liverec   | mp4 | 5 | mediamtx   | not run     | not run     | 0.100 ",
		"not run: no binary",
		"- mediamtx FAIL (not run: no binary)",
		"- nginx-rtmp PASS (1 run(s); 1 file(s) off by at most 2 frames) — every file ffprobe-clean, video packets = frames sent but for the differences listed",
		"frames sent 660 (-1)",
		"- liverec FAIL (1 issue(s) in 2 run(s))",
		"liverec publisher, flv N=5 run 1: s3 flv: video packets 600",
		"FAIL: nginx-rtmp PASS (1 run(s); 1 file(s) off by at most 2 frames); mediamtx FAIL (not run: no binary); liverec FAIL (1 issue(s) in 2 run(s))",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

func TestMemoryTableSlope(t *testing.T) {
	gs := groups([]*runResult{
		{Publisher: "liverec", Set: "flv", N: 10, Run: 1, Server: liverecName, SteadyMiB: 30},
		{Publisher: "liverec", Set: "flv", N: 100, Run: 1, Server: liverecName, SteadyMiB: 120},
	})
	if got := memoryTable(gs); !strings.Contains(got, "| 100 | 120.00            | 1.000 ") {
		t.Errorf("slope (120−30)/(100−10) = 1 missing:\n%s", got)
	}
}

func TestMachineHelpers(t *testing.T) {
	model, hv := cpuModel("processor: 0\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse hypervisor avx\n\nprocessor: 1\nmodel name: other\n")
	if model != "AMD EPYC 7B13" || !hv {
		t.Errorf("cpuModel: %q %v", model, hv)
	}
	if got := strings.Join(virtHints("BOOT_IMAGE=/vmlinuz ro kvm-intel.nested=1 clocksource=kvm-clock quiet"), " "); got != "kvm-intel.nested=1 clocksource=kvm-clock" {
		t.Errorf("virtHints: %q", got)
	}
	if bracketed("always [madvise] never\n") != "madvise" {
		t.Error("bracketed")
	}
	if got := oneLine("go: a@latest: 403\n\tserver response: gone\n", 24); got != "go: a@latest: 403 server…" {
		t.Errorf("oneLine: %q", got)
	}
}
