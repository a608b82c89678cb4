package main

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// plotPoint is one N of a series: the median all-in CPU % per stream over its runs.
type plotPoint struct {
	n, y float64
	runs int
}

// plotSeries is one server (and publisher, when the files hold several) on one set.
type plotSeries struct {
	label, server, pub string
	points             []plotPoint
}

// plotPanel is one set.
type plotPanel struct {
	set, peer string
	series    []plotSeries
}

// plotData gathers the plotted figures of every results file: per set, per server (and
// publisher), the median all-in CPU % per stream over the runs at each N. Runs of the same set,
// server, publisher and N in several files are pooled.
func plotData(rfs []resultsFile) []plotPanel {
	type key struct {
		set, server, pub string
		n                int
	}
	vals := map[key][]float64{}
	var pubs []string
	var panels []plotPanel
	for _, rf := range rfs {
		for _, r := range rf.Results {
			if r.NotRun != "" {
				continue
			}
			k := key{r.Set, r.Server, r.Publisher, r.N}
			vals[k] = append(vals[k], r.AllInPct)
			if !slices.Contains(pubs, r.Publisher) {
				pubs = append(pubs, r.Publisher)
			}
			pi := slices.IndexFunc(panels, func(p plotPanel) bool { return p.set == r.Set })
			if pi < 0 {
				panels = append(panels, plotPanel{set: r.Set, peer: setByName(r.Set).Peer})
				pi = len(panels) - 1
			}
			p := &panels[pi]
			si := slices.IndexFunc(p.series, func(s plotSeries) bool { return s.server == r.Server && s.pub == r.Publisher })
			if si < 0 {
				label := r.Server
				p.series = append(p.series, plotSeries{label: label, server: r.Server, pub: r.Publisher})
			}
		}
	}
	for pi := range panels {
		p := &panels[pi]
		for si := range p.series {
			s := &p.series[si]
			if len(pubs) > 1 {
				s.label = fmt.Sprintf("%s (%s publisher)", s.server, s.pub)
			}
			for k, v := range vals {
				if k.set == p.set && k.server == s.server && k.pub == s.pub {
					s.points = append(s.points, plotPoint{n: float64(k.n), y: median(v), runs: len(v)})
				}
			}
			slices.SortFunc(s.points, func(a, b plotPoint) int { return cmp.Compare(a.n, b.n) })
		}
		// The peer first, then liverec, as the runs go.
		slices.SortStableFunc(p.series, func(a, b plotSeries) int {
			return slices.Index(allServers, a.server) - slices.Index(allServers, b.server)
		})
	}
	return panels
}

// axis maps values onto [from, to] pixels, linearly or logarithmically.
type axis struct {
	lo, hi   float64
	from, to float64
	log      bool
}

func (a axis) px(v float64) float64 {
	f := (v - a.lo) / (a.hi - a.lo)
	if a.log {
		f = (math.Log10(v) - math.Log10(a.lo)) / (math.Log10(a.hi) - math.Log10(a.lo))
	}
	return a.from + f*(a.to-a.from)
}

// xAxis spans the Ns; it is logarithmic when they span more than a decade.
func xAxis(ns []float64, from, to float64) axis {
	lo, hi := slices.Min(ns), slices.Max(ns)
	if hi/lo > 10 {
		return axis{lo: lo / 1.6, hi: hi * 1.6, from: from, to: to, log: true}
	}
	pad := (hi - lo) * 0.1
	if pad == 0 {
		pad = max(1, lo*0.5)
	}
	return axis{lo: max(0, lo-pad), hi: hi + pad, from: from, to: to}
}

// niceStep is the 1, 2 or 5 × 10^k step that divides span into about n intervals.
func niceStep(span float64, n int) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

var seriesColors = map[string]string{liverecName: "#1f5fbf", nginxName: "#2e8b2e", mediamtxName: "#d0471c"}

func seriesStyle(s plotSeries) (color, dash string) {
	color = seriesColors[s.server]
	if color == "" {
		color = "#555555"
	}
	if s.pub == "ffmpeg" {
		dash = ` stroke-dasharray="7 4"`
	}
	return color, dash
}

// marker draws a point: a filled circle for the liverec publisher, a hollow square for ffmpeg,
// so that series at the same N stay apart without their lines.
func marker(b *strings.Builder, pub string, x, y float64, color, title string) {
	if title != "" {
		title = "<title>" + esc(title) + "</title>"
	}
	if pub == "ffmpeg" {
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="8" height="8" fill="#ffffff" stroke="%s" stroke-width="2">%s</rect>`+"\n", num(x-4), num(y-4), color, title)
		return
	}
	fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="4.5" fill="%s">%s</circle>`+"\n", num(x), num(y), color, title)
}

// drawLegend names the servers by colour and, with several publishers, the publishers by line
// and marker.
func drawLegend(b *strings.Builder, panels []plotPanel) {
	var servers, pubs []string
	for _, p := range panels {
		for _, s := range p.series {
			if !slices.Contains(servers, s.server) {
				servers = append(servers, s.server)
			}
			if !slices.Contains(pubs, s.pub) {
				pubs = append(pubs, s.pub)
			}
		}
	}
	slices.SortFunc(servers, func(a, b string) int { return slices.Index(allServers, a) - slices.Index(allServers, b) })
	type item struct{ label, server, pub string }
	var items []item
	for _, s := range servers {
		items = append(items, item{s, s, pubs[0]})
	}
	if len(pubs) > 1 {
		for _, p := range pubs {
			items = append(items, item{p + " publisher", "", p})
		}
	}
	x := 40.0
	for _, it := range items {
		color, dash := seriesStyle(plotSeries{server: it.server, pub: it.pub})
		if len(pubs) > 1 && it.server != "" {
			dash = "" // colour names the server; the publisher items name the line style
		}
		fmt.Fprintf(b, `<line x1="%s" y1="66" x2="%s" y2="66" stroke="%s" stroke-width="3"%s/>`+"\n", num(x), num(x+34), color, dash)
		marker(b, it.pub, x+17, 66, color, "")
		fmt.Fprintf(b, `<text x="%s" y="71" font-size="14">%s</text>`+"\n", num(x+42), esc(it.label))
		x += 42 + 8.5*float64(len(it.label)) + 28
	}
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

const (
	plotW        = 1000
	plotHeaderH  = 86
	plotPanelH   = 270
	plotFooterH  = 34
	panelPadL    = 62
	panelPadR    = 16
	panelPadTop  = 30
	panelPadBott = 48
)

// plotSVG draws one panel per set: all-in CPU % per stream against N, a line per series.
func plotSVG(rfs []resultsFile) (string, error) {
	panels := plotData(rfs)
	if len(panels) == 0 {
		return "", errors.New("no measured run to plot")
	}
	caption := captionLines(rfs)
	cols := min(3, len(panels))
	rows := (len(panels) + cols - 1) / cols
	h := plotHeaderH + rows*plotPanelH + plotFooterH + 14*(len(caption)-1)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Arial, sans-serif">`+"\n", plotW, h, plotW, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="26" font-size="19" font-weight="bold" text-anchor="middle">%s</text>`+"\n", plotW/2,
		esc("Recording CPU per stream, all-in (steady window + completion), median over runs"))
	fmt.Fprintf(&b, `<text x="%d" y="46" font-size="12" fill="#444444" text-anchor="middle">%s</text>`+"\n", plotW/2,
		esc("all-in = window % + 100 × completion CPU s / (N × seconds recorded); lower is better"))
	drawLegend(&b, panels)
	pw := float64(plotW) / float64(cols)
	for i, p := range panels {
		ox := float64(i%cols) * pw
		oy := float64(plotHeaderH + (i/cols)*plotPanelH)
		drawPanel(&b, p, ox, oy, pw, plotPanelH)
	}
	y := plotHeaderH + rows*plotPanelH + 20
	for _, l := range caption {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#444444" text-anchor="middle">%s</text>`+"\n", plotW/2, y, esc(l))
		y += 14
	}
	b.WriteString("</svg>\n")
	return b.String(), nil
}

// captionLines are the machines the results were measured on, one a line, then their dates.
func captionLines(rfs []resultsFile) []string {
	var machines, dates []string
	for _, rf := range rfs {
		if rf.Caption != "" && !slices.Contains(machines, rf.Caption) {
			machines = append(machines, rf.Caption)
		}
		if rf.Date != "" && !slices.Contains(dates, rf.Date) {
			dates = append(dates, rf.Date)
		}
	}
	last := "bench/compare"
	if len(dates) > 0 {
		last = "runs of " + strings.Join(dates, ", ") + " · " + last
	}
	return append(machines, last)
}

// drawPanel draws one set's axes, ticks and series in the box at (ox, oy) of size w × h.
func drawPanel(b *strings.Builder, p plotPanel, ox, oy, w, h float64) {
	left, right := ox+panelPadL, ox+w-panelPadR
	top, bottom := oy+panelPadTop, oy+h-panelPadBott
	var ns []float64
	ymax := 0.0
	for _, s := range p.series {
		for _, pt := range s.points {
			if !slices.Contains(ns, pt.n) {
				ns = append(ns, pt.n)
			}
			ymax = max(ymax, pt.y)
		}
	}
	title := p.set
	if p.peer != "" {
		title += ": " + p.peer + " vs liverec"
	}
	fmt.Fprintf(b, `<text x="%s" y="%s" font-size="13" font-weight="bold" text-anchor="middle">%s</text>`+"\n",
		num(ox+w/2), num(oy+18), esc(title))
	if len(ns) == 0 {
		return
	}
	slices.Sort(ns)
	xa := xAxis(ns, left+10, right-10)
	step := niceStep(ymax*1.15, 4)
	ya := axis{lo: 0, hi: math.Max(step, math.Ceil(ymax*1.15/step)*step), from: bottom, to: top}

	for v := 0.0; v <= ya.hi+step/2; v += step {
		y := ya.px(v)
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e3e3e3"/>`+"\n", num(left), num(y), num(right), num(y))
		fmt.Fprintf(b, `<text x="%s" y="%s" font-size="11" text-anchor="end">%s</text>`+"\n", num(left-5), num(y+4), strconv.FormatFloat(v, 'g', 4, 64))
	}
	for _, n := range ns {
		x := xa.px(n)
		fmt.Fprintf(b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#999999"/>`+"\n", num(x), num(bottom), num(x), num(bottom+5))
		fmt.Fprintf(b, `<text x="%s" y="%s" font-size="11" text-anchor="middle">%s</text>`+"\n", num(x), num(bottom+17), strconv.FormatFloat(n, 'f', -1, 64))
	}
	fmt.Fprintf(b, `<polyline points="%s,%s %s,%s %s,%s" fill="none" stroke="#333333"/>`+"\n",
		num(left), num(top), num(left), num(bottom), num(right), num(bottom))
	xlabel := "N, concurrent streams"
	if xa.log {
		xlabel += " (log scale)"
	}
	fmt.Fprintf(b, `<text x="%s" y="%s" font-size="12" text-anchor="middle">%s</text>`+"\n", num((left+right)/2), num(bottom+36), esc(xlabel))
	cy := (top + bottom) / 2
	fmt.Fprintf(b, `<text x="%s" y="%s" font-size="12" text-anchor="middle" transform="rotate(-90 %s %s)">%s</text>`+"\n",
		num(ox+16), num(cy), num(ox+16), num(cy), esc("CPU % of a core per stream"))

	type label struct {
		x, y  float64
		text  string
		color string
	}
	var labels []label
	for _, s := range p.series {
		color, dash := seriesStyle(s)
		var pts []string
		for _, pt := range s.points {
			pts = append(pts, num(xa.px(pt.n))+","+num(ya.px(pt.y)))
		}
		if len(pts) > 1 {
			fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5"%s/>`+"\n", strings.Join(pts, " "), color, dash)
		}
		for _, pt := range s.points {
			x, y := xa.px(pt.n), ya.px(pt.y)
			marker(b, s.pub, x, y, color, fmt.Sprintf("%s, N=%g: %.3f %% (median of %d run(s))", s.label, pt.n, pt.y, pt.runs))
			labels = append(labels, label{x + 8, y + 4, fmt.Sprintf("%.3f", pt.y), color})
		}
	}
	// Values beside their points, moved apart where points at one N are close.
	slices.SortFunc(labels, func(a, b label) int {
		if c := cmp.Compare(a.x, b.x); c != 0 {
			return c
		}
		return cmp.Compare(a.y, b.y)
	})
	for i := 1; i < len(labels); i++ {
		if labels[i].x == labels[i-1].x && labels[i].y-labels[i-1].y < 11 {
			labels[i].y = labels[i-1].y + 11
		}
	}
	for _, l := range labels {
		fmt.Fprintf(b, `<text x="%s" y="%s" font-size="10" fill="%s" stroke="#ffffff" stroke-width="3" paint-order="stroke">%s</text>`+"\n",
			num(l.x), num(l.y), l.color, l.text)
	}
}
