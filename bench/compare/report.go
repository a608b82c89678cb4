package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// table renders rows as a Markdown table with aligned columns (readable as plain text too).
func table(head []string, rows [][]string) string {
	w := make([]int, len(head))
	for i, h := range head {
		w[i] = len([]rune(h))
	}
	for _, r := range rows {
		for i, c := range r {
			w[i] = max(w[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i, c := range cells {
			fmt.Fprintf(&b, " %-*s |", w[i], c)
		}
		b.WriteString("\n")
	}
	line(head)
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = strings.Repeat("-", w[i])
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
	return b.String()
}

func f2(v float64) string { return fmt.Sprintf("%.2f", v) }
func f3(v float64) string { return fmt.Sprintf("%.3f", v) }

// measured returns the runs of server kind that ran.
func measured(rs []*runResult, kind string) []*runResult {
	var out []*runResult
	for _, r := range rs {
		if r.Server == kind && r.NotRun == "" {
			out = append(out, r)
		}
	}
	return out
}

// pick returns field f of the runs of server kind that ran.
func pick(rs []*runResult, kind string, f func(*runResult) float64) []float64 {
	var out []float64
	for _, r := range measured(rs, kind) {
		out = append(out, f(r))
	}
	return out
}

func windowPct(r *runResult) float64           { return r.CPUPct }
func allIn(r *runResult) float64               { return r.AllInPct }
func completionPerStream(r *runResult) float64 { return r.CompletionCPUSec / float64(r.N) }

// pairRatios is liverec / peer of f for each run number both ran (runs are interleaved in
// pairs: run i of the peer, then run i of liverec).
func pairRatios(rs []*runResult, peer string, f func(*runResult) float64) []float64 {
	var out []float64
	for _, lr := range measured(rs, liverecName) {
		for _, pr := range measured(rs, peer) {
			if pr.Run == lr.Run && f(pr) > 0 {
				out = append(out, f(lr)/f(pr))
			}
		}
	}
	return out
}

// ratioText renders ratios as "median (min–max, k pairs)".
func ratioText(rs []float64) string {
	if len(rs) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f, %d)", median(rs), slices.Min(rs), slices.Max(rs), len(rs))
}

// group is the runs of one publisher block, set and N.
type group struct {
	pub, set string
	n        int
	rs       []*runResult
}

// groups splits results in their run order into groups.
func groups(results []*runResult) []group {
	var out []group
	for _, r := range results {
		i := slices.IndexFunc(out, func(g group) bool { return g.pub == r.Publisher && g.set == r.Set && g.n == r.N })
		if i < 0 {
			out = append(out, group{pub: r.Publisher, set: r.Set, n: r.N})
			i = len(out) - 1
		}
		out[i].rs = append(out[i].rs, r)
	}
	return out
}

func setByName(name string) benchSet {
	i := slices.IndexFunc(allSets, func(s benchSet) bool { return s.Name == name })
	if i < 0 {
		return benchSet{Name: name}
	}
	return allSets[i]
}

// serverVerdict gathers one server's file check over runs.
type serverVerdict struct {
	checked, notRun int
	notRunWhy       string
	issues, diffs   []string
}

// report renders the results as Markdown and says whether every server that was asked for
// ran and passed its file check.
func report(opt options, rf resultsFile) (string, bool) {
	var b strings.Builder
	fmt.Fprintf(&b, "# liverec vs nginx-rtmp and MediaMTX: recording CPU and memory per stream, equal work\n\n")
	fmt.Fprintf(&b, "Command: `%s` (%s)\n\n", strings.TrimSpace(rf.Command), rf.Date)
	fmt.Fprintf(&b, "- reference stream: %s\n", rf.Reference)
	var pubs []string
	for _, p := range opt.publishers {
		pubs = append(pubs, pubDesc(p))
	}
	fmt.Fprintf(&b, "- publishers, a block each: %s; ramp %s; warm-up %s after the last stream started, window %s; each stream publishes (and is recorded) for %s\n",
		strings.Join(pubs, "; "), rf.Ramp, rf.Warmup, rf.Window, rf.Duration)
	fmt.Fprintf(&b, "- one file per stream and format for the whole run (liverec: cycle 12 h; MediaMTX: 1 h segments); recordings on a tmpfs\n")
	fmt.Fprintf(&b, "- runs interleaved peer, liverec, peer, liverec, …; %d run(s) per set and N\n", rf.Runs)
	for _, s := range rf.Machine {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	b.WriteString("\n**Window** CPU: % of one core per stream over the window, server processes only " +
		"(utime+stime from /proc/PID/stat; nginx-rtmp: master + worker). " +
		"**Completion** CPU s/stream: the server's CPU from the window's end until it has landed every file " +
		"(liverec, MediaMTX: until their graceful exit after SIGTERM; nginx-rtmp: until every `exec_record_done` remux has reported, " +
		"the remuxing ffmpeg's CPU included), less what recording still cost after the window at the window's rate, per stream. " +
		"**All-in** = window % + 100 × completion CPU s / (N × seconds each stream was recorded): the cost over a recording's whole life. " +
		"Ratios are liverec / peer per interleaved run pair: median (min–max, pairs). " +
		"RSS per stream = (mean VmRSS in the window − idle VmRSS) / N. Writes = /proc/PID/io syscw. " +
		"Publisher CPU: over the window from /proc; `pub CPU s/stream` = its own CPU seconds per stream for its whole run.\n")

	b.WriteString("\n## Sets\n\n")
	var rows [][]string
	for _, s := range opt.sets {
		rows = append(rows, []string{s.Name, s.Peer, s.describe(s.Peer), s.describe(liverecName)})
	}
	b.WriteString(table([]string{"set", "peer", "peer records", "liverec records"}, rows))
	if slices.ContainsFunc(opt.sets, func(s benchSet) bool { return s.Name == "ts" }) {
		b.WriteString("\nIn `ts`, liverec also writes an HLS playlist over its MPEG-TS slices; MediaMTX writes one MPEG-TS file.\n")
	}

	gs := groups(rf.Results)
	b.WriteString("\n## Summary: CPU % of a core per stream (medians over runs)\n\n")
	rows = nil
	for _, g := range gs {
		peer := setByName(g.set).Peer
		peerCell := func(f func(*runResult) float64) string {
			if v := pick(g.rs, peer, f); len(v) > 0 {
				return f3(median(v))
			}
			return notRunCell(g.rs, peer)
		}
		lrCell := func(f func(*runResult) float64) string {
			if v := pick(g.rs, liverecName, f); len(v) > 0 {
				return f3(median(v))
			}
			return notRunCell(g.rs, liverecName)
		}
		rows = append(rows, []string{g.pub, g.set, fmt.Sprint(g.n), peer, peerCell(windowPct), peerCell(allIn),
			lrCell(windowPct), lrCell(allIn), ratioText(pairRatios(g.rs, peer, windowPct)), ratioText(pairRatios(g.rs, peer, allIn))})
	}
	b.WriteString(table([]string{"publisher", "set", "N", "peer", "peer window", "peer all-in", "liverec window", "liverec all-in",
		"liverec/peer window", "liverec/peer all-in"}, rows))

	verdicts := map[string]*serverVerdict{}
	lastPub, lastSet := "", ""
	for _, g := range gs {
		if g.pub != lastPub {
			fmt.Fprintf(&b, "\n## Publisher: %s\n", pubDesc(g.pub))
			lastPub, lastSet = g.pub, ""
		}
		set := setByName(g.set)
		if g.set != lastSet {
			fmt.Fprintf(&b, "\n### Set %s: %s vs liverec\n", g.set, set.Peer)
			lastSet = g.set
		}
		writeGroup(&b, g, set, verdicts)
	}

	b.WriteString("\n## Memory per additional stream\n\n")
	b.WriteString(memoryTable(gs))

	b.WriteString("\n## File check\n\n")
	pass := len(gs) > 0 && rf.Aborted == ""
	for _, k := range allServers {
		v := verdicts[k]
		if v == nil {
			continue
		}
		line, ok := verdictLine(k, v)
		pass = pass && ok
		fmt.Fprintf(&b, "- %s\n", line)
	}
	if rf.Aborted != "" {
		fmt.Fprintf(&b, "\nFAIL: aborted (%s); the results above are partial\n", rf.Aborted)
		return b.String(), false
	}
	var status []string
	for _, k := range allServers {
		if v := verdicts[k]; v != nil {
			s, _ := verdictLine(k, v)
			s, _, _ = strings.Cut(s, "\n")
			s, _, _ = strings.Cut(s, " — ")
			status = append(status, s)
		}
	}
	verdict := "PASS"
	if !pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "\n%s: %s\n", verdict, strings.Join(status, "; "))
	return b.String(), pass
}

func notRunCell(rs []*runResult, kind string) string {
	for _, r := range rs {
		if r.Server == kind && r.NotRun != "" {
			return "not run"
		}
	}
	return "–"
}

// writeGroup writes one publisher block's set at one N: every run, the medians, the ratios and
// the file check, and adds the check to verdicts.
func writeGroup(b *strings.Builder, g group, set benchSet, verdicts map[string]*serverVerdict) {
	fmt.Fprintf(b, "\n#### %s, N = %d\n\n", g.set, g.n)
	var rows [][]string
	for _, r := range g.rs {
		v := verdicts[r.Server]
		if v == nil {
			v = &serverVerdict{}
			verdicts[r.Server] = v
		}
		if r.NotRun != "" {
			v.notRun++
			v.notRunWhy = r.NotRun
			rows = append(rows, []string{r.Server, fmt.Sprint(r.Run), "–", "–", "–", "–", "–", "–", "–", "–", "–", "–", "–", "not run: " + r.NotRun})
			continue
		}
		v.checked++
		status := "ok"
		switch {
		case r.PubErr != "":
			status = "publisher: " + r.PubErr
			v.issues = append(v.issues, fmt.Sprintf("%s publisher, %s N=%d run %d: publisher: %s", g.pub, g.set, g.n, r.Run, r.PubErr))
		case len(r.StreamsFailed) > 0:
			status = fmt.Sprintf("%d stream(s) failed", len(r.StreamsFailed))
			v.issues = append(v.issues, fmt.Sprintf("%s publisher, %s N=%d run %d: publisher: %s", g.pub, g.set, g.n, r.Run, strings.Join(r.StreamsFailed, "; ")))
		}
		status += fmt.Sprintf("; %d files, %.0f MiB", r.Files, float64(r.FileBytes)/(1<<20))
		if c := r.Check; c != nil {
			status += fmt.Sprintf("; %d probed", c.Inputs)
			if len(c.Issues) > 0 {
				status += fmt.Sprintf(", %d issue(s)", len(c.Issues))
			}
			if len(c.Diffs) > 0 {
				status += fmt.Sprintf(", %d frame diff(s)", len(c.Diffs))
			}
			for _, is := range c.Issues {
				v.issues = append(v.issues, fmt.Sprintf("%s publisher, %s N=%d run %d: %s", g.pub, g.set, g.n, r.Run, is))
			}
			for _, d := range c.Diffs {
				v.diffs = append(v.diffs, fmt.Sprintf("%s publisher, %s N=%d run %d: %s", g.pub, g.set, g.n, r.Run, d))
			}
		}
		rows = append(rows, []string{r.Server, fmt.Sprint(r.Run), f3(r.CPUPct), f3(completionPerStream(r)), fmt.Sprintf("%.1f", r.CompletionWallSec),
			f3(r.AllInPct), f2(r.IdleMiB), f2(r.SteadyMiB), f3(r.RSSPerStream), f2(r.WritesPerSec), f3(r.PubCPUPct), f3(r.PubCPUReported),
			fmt.Sprintf("%.0f", r.MaxLagMs), status})
	}
	b.WriteString(table([]string{"server", "run", "window CPU %/stream", "completion CPU s/stream", "completion s", "all-in CPU %/stream",
		"idle MiB", "steady MiB", "RSS MiB/stream", "writes/stream/s", "pub CPU %/stream", "pub CPU s/stream", "pub max lag ms", "status"}, rows))

	b.WriteString("\nMedians over runs:\n\n")
	rows = nil
	for _, k := range []string{set.Peer, liverecName} {
		if len(measured(g.rs, k)) == 0 {
			continue
		}
		med := func(f func(*runResult) float64) float64 { return median(pick(g.rs, k, f)) }
		rows = append(rows, []string{k, f3(med(windowPct)), f3(med(completionPerStream)), f3(med(allIn)),
			f3(med(func(r *runResult) float64 { return r.RSSPerStream })), f2(med(func(r *runResult) float64 { return r.WritesPerSec })),
			f3(med(func(r *runResult) float64 { return r.PubCPUPct })), f2(med(func(r *runResult) float64 { return r.SteadyMiB }))})
	}
	if len(rows) > 0 {
		b.WriteString(table([]string{"server", "window CPU %/stream", "completion CPU s/stream", "all-in CPU %/stream",
			"RSS MiB/stream", "writes/stream/s", "pub CPU %/stream", "steady MiB"}, rows))
	}
	if w := pairRatios(g.rs, set.Peer, windowPct); len(w) > 0 {
		fmt.Fprintf(b, "\n**CPU per stream, liverec / %s: window %s; all-in %s** (median (min–max, run pairs))\n",
			set.Peer, ratioText(w), ratioText(pairRatios(g.rs, set.Peer, allIn)))
	}
}

// verdictLine renders one server's file check: PASS, or FAIL with its first reasons; a peer's
// frame differences within ±peerTolerance are counted and shown.
func verdictLine(kind string, v *serverVerdict) (string, bool) {
	var b strings.Builder
	ok := len(v.issues) == 0 && v.notRun == 0
	switch {
	case v.checked == 0 && v.notRun > 0:
		fmt.Fprintf(&b, "%s FAIL (not run: %s)", kind, v.notRunWhy)
	case ok:
		fmt.Fprintf(&b, "%s PASS (%d run(s)", kind, v.checked)
		if len(v.diffs) > 0 {
			fmt.Fprintf(&b, "; %d file(s) off by at most %d frames", len(v.diffs), peerTolerance)
		}
		b.WriteString(") — every file ffprobe-clean, video packets = frames sent")
		if len(v.diffs) > 0 {
			b.WriteString(" but for the differences listed")
		}
	default:
		fmt.Fprintf(&b, "%s FAIL (%d issue(s) in %d run(s)", kind, len(v.issues), v.checked)
		if v.notRun > 0 {
			fmt.Fprintf(&b, "; %d run(s) not run: %s", v.notRun, v.notRunWhy)
		}
		b.WriteString(")")
	}
	list := func(title string, xs []string) {
		if len(xs) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n  - %s:", title)
		for i, s := range xs {
			if i == 20 {
				fmt.Fprintf(&b, "\n    - … and %d more (see the JSON results and the logs)", len(xs)-20)
				break
			}
			fmt.Fprintf(&b, "\n    - %s", s)
		}
	}
	list("issues", v.issues)
	list(fmt.Sprintf("frame differences within ±%d (not failed)", peerTolerance), v.diffs)
	return b.String(), ok
}

// memoryTable lists per publisher, set and server the median steady RSS at each N and the
// slope between successive N, the better "per additional stream" figure.
func memoryTable(gs []group) string {
	var rows [][]string
	type key struct{ pub, set, server string }
	type point struct{ n, steady float64 }
	series := map[key][]point{}
	var order []key
	for _, g := range gs {
		for _, k := range []string{setByName(g.set).Peer, liverecName} {
			v := pick(g.rs, k, func(r *runResult) float64 { return r.SteadyMiB })
			if len(v) == 0 {
				continue
			}
			kk := key{g.pub, g.set, k}
			if _, ok := series[kk]; !ok {
				order = append(order, kk)
			}
			series[kk] = append(series[kk], point{float64(g.n), median(v)})
		}
	}
	for _, k := range order {
		ps := series[k]
		slices.SortFunc(ps, func(a, b point) int { return cmp.Compare(a.n, b.n) })
		for i, p := range ps {
			slope := "–"
			if i > 0 && p.n > ps[i-1].n {
				slope = f3((p.steady - ps[i-1].steady) / (p.n - ps[i-1].n))
			}
			rows = append(rows, []string{k.pub, k.set, k.server, fmt.Sprint(int(p.n)), f2(p.steady), slope})
		}
	}
	return table([]string{"publisher", "set", "server", "N", "median steady MiB", "slope from previous N, MiB/stream"}, rows)
}
