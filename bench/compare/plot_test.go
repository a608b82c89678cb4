package main

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestXAxis(t *testing.T) {
	lin := xAxis([]float64{10, 50, 100}, 0, 100)
	if lin.log {
		t.Error("10…100 is one decade: want a linear axis")
	}
	if a, b := lin.px(10), lin.px(100); a <= 0 || b >= 100 || lin.px(55)-a <= 0 {
		t.Errorf("linear axis maps 10→%v 100→%v outside its span or not increasing", a, b)
	}
	lg := xAxis([]float64{10, 100, 1000}, 0, 300)
	if !lg.log {
		t.Fatal("10…1000 spans two decades: want a log axis")
	}
	d1, d2 := lg.px(100)-lg.px(10), lg.px(1000)-lg.px(100)
	if d1 <= 0 || !near(d1, d2) {
		t.Errorf("log axis: decades %v and %v px apart, want equal and positive", d1, d2)
	}
	one := xAxis([]float64{5}, 0, 100)
	if one.lo >= 5 || one.hi <= 5 {
		t.Errorf("a single N must sit inside the axis: %+v", one)
	}
}

func TestNiceStep(t *testing.T) {
	for _, c := range []struct{ span, want float64 }{{1.2, 0.5}, {0.8, 0.2}, {10, 5}, {0.03, 0.01}} {
		if got := niceStep(c.span, 4); !near(got, c.want) {
			t.Errorf("niceStep(%v) = %v, want %v", c.span, got, c.want)
		}
	}
}

func plotResults(date string, rs ...*runResult) resultsFile {
	return resultsFile{Date: date, Caption: "CPU: test, cores: 2", Results: rs}
}

func TestPlotDataPoolsFilesAndSkipsNotRun(t *testing.T) {
	a := plotResults("2026-01-01",
		&runResult{Publisher: "liverec", Set: "flv", N: 10, Run: 1, Server: nginxName, AllInPct: 0.3},
		&runResult{Publisher: "liverec", Set: "flv", N: 10, Run: 1, Server: liverecName, AllInPct: 0.1},
		&runResult{Publisher: "liverec", Set: "flv", N: 10, Run: 2, Server: liverecName, AllInPct: 0.3},
		&runResult{Publisher: "liverec", Set: "mp4", N: 10, Run: 1, Server: mediamtxName, NotRun: "no binary"})
	b := plotResults("2026-01-02",
		&runResult{Publisher: "liverec", Set: "flv", N: 1000, Run: 1, Server: liverecName, AllInPct: 0.05})
	panels := plotData([]resultsFile{a, b})
	if len(panels) != 1 || panels[0].set != "flv" {
		t.Fatalf("panels %+v: want flv only (mp4 has no measured run)", panels)
	}
	s := panels[0].series
	if len(s) != 2 || s[0].server != nginxName || s[1].server != liverecName {
		t.Fatalf("series %+v: want nginx-rtmp then liverec", s)
	}
	lr := s[1].points
	if len(lr) != 2 || lr[0].n != 10 || !near(lr[0].y, 0.2) || lr[0].runs != 2 || lr[1].n != 1000 || !near(lr[1].y, 0.05) {
		t.Errorf("liverec points %+v: want N=10 median 0.2 of 2 runs, N=1000 0.05", lr)
	}
	if s[1].label != liverecName {
		t.Errorf("one publisher: label %q, want the server alone", s[1].label)
	}
}

func TestPlotSVG(t *testing.T) {
	rf := plotResults("2026-01-01 10:00",
		&runResult{Publisher: "liverec", Set: "flv+hls", N: 10, Run: 1, Server: nginxName, AllInPct: 0.3},
		&runResult{Publisher: "liverec", Set: "flv+hls", N: 10, Run: 1, Server: liverecName, AllInPct: 0.1},
		&runResult{Publisher: "ffmpeg", Set: "flv+hls", N: 1000, Run: 1, Server: liverecName, AllInPct: 0.08},
		&runResult{Publisher: "liverec", Set: "ts", N: 10, Run: 1, Server: mediamtxName, AllInPct: 0.9})
	svg, err := plotSVG([]resultsFile{rf})
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(strings.NewReader(svg))
	var texts []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, svg)
		}
		if cd, ok := tok.(xml.CharData); ok && strings.TrimSpace(string(cd)) != "" {
			texts = append(texts, strings.TrimSpace(string(cd)))
		}
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{
		"flv+hls: nginx-rtmp vs liverec", "ts: mediamtx vs liverec",
		"N, concurrent streams (log scale)", // flv+hls spans 10…1000
		"N, concurrent streams\n",           // ts has one N: linear
		"CPU % of a core per stream",
		// the legend: servers by colour, publishers by line and marker
		"nginx-rtmp\nmediamtx\nliverec\nliverec publisher\nffmpeg publisher\n",
		"liverec (ffmpeg publisher), N=1000: 0.080 % (median of 1 run(s))", // a point's tooltip
		"CPU: test, cores: 2\nruns of 2026-01-01 10:00 · bench/compare",
		"0.080",
	} {
		if !strings.Contains(all+"\n", want) {
			t.Errorf("SVG text lacks %q; texts:\n%s", want, all)
		}
	}
	if !strings.Contains(svg, `stroke-dasharray`) || !strings.Contains(svg, `<rect x=`) {
		t.Error("the ffmpeg publisher has neither dashes nor square markers")
	}
	if _, err := plotSVG(nil); err == nil {
		t.Error("plotSVG of nothing: no error")
	}
}

func TestPlotFromFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	if err := writeResults(a, plotResults("d1", &runResult{Publisher: "liverec", Set: "flv", N: 10, Run: 1, Server: liverecName, AllInPct: 0.1})); err != nil {
		t.Fatal(err)
	}
	if err := writeResults(b, plotResults("d2", &runResult{Publisher: "liverec", Set: "flv", N: 100, Run: 1, Server: liverecName, AllInPct: 0.07})); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "p.svg")
	if err := plotFromFiles([]string{a, b}, out); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{">0.100<", ">0.070<", ">CPU: test, cores: 2<", ">runs of d1, d2 · bench/compare<"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("combined plot lacks %q", want)
		}
	}
	if err := plotFromFiles([]string{filepath.Join(dir, "missing.json")}, out); err == nil {
		t.Error("a missing results file: no error")
	}
}
