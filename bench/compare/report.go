package main

import (
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

// pick returns field f of the results of server kind.
func pick(rs []*runResult, kind string, f func(*runResult) float64) []float64 {
	var out []float64
	for _, r := range rs {
		if r.Server == kind {
			out = append(out, f(r))
		}
	}
	return out
}

// report renders every result as Markdown and says whether every liverec file check passed.
func report(opt options, info []string, byN map[int][]*runResult, pubName string, aborted error) (string, bool) {
	var b strings.Builder
	pass := true
	fmt.Fprintf(&b, "# liverec vs nginx-rtmp: recording CPU and memory per stream\n\n")
	fmt.Fprintf(&b, "Command: `bench/compare.sh %s`\n\n", strings.Join(opt.args, " "))
	fmt.Fprintf(&b, "- reference stream: %s\n", opt.refDesc())
	fmt.Fprintf(&b, "- publisher: %s, ramp %v; warm-up %v after the last stream started, window %v\n",
		pubName, opt.ramp, opt.warmup, opt.window)
	fmt.Fprintf(&b, "- nginx-rtmp: FLV (`record all`), 1 worker; liverec: FLV + MP4 + HLS (10 s slices); recordings on tmpfs\n")
	fmt.Fprintf(&b, "- runs interleaved nginx-rtmp, liverec, nginx-rtmp, …; %d run(s) per N\n", opt.runs)
	for _, s := range info {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	b.WriteString("\nCPU % is of one core, server processes only (utime+stime from /proc/PID/stat; nginx: master + worker). " +
		"RSS per stream = (mean VmRSS in the window − idle VmRSS) / N. Writes = /proc/PID/io syscw. " +
		"Publisher CPU: over the same window from /proc; `pub CPU s/stream` = the publisher's own CPU seconds per stream for its whole run (ramp to end); `pub max lag ms` = the worst lag behind real time it reports (liverec bench only).\n")

	var ns []int
	for n := range byN {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	type med struct{ n, steady float64 }
	steadyMed := map[string][]med{}
	for _, n := range ns {
		rs := byN[n]
		fmt.Fprintf(&b, "\n## N = %d\n\n", n)
		var rows [][]string
		for _, r := range rs {
			status := "ok"
			switch {
			case r.PubErr != "":
				status = "publisher: " + r.PubErr
			case len(r.StreamsFailed) > 0:
				status = fmt.Sprintf("%d stream(s) failed", len(r.StreamsFailed))
			}
			if r.Check != nil {
				status += fmt.Sprintf("; %d files probed", r.Check.files)
				if len(r.Check.issues) > 0 {
					status += fmt.Sprintf(", %d issue(s)", len(r.Check.issues))
				}
			} else {
				status += fmt.Sprintf("; %d files, %.0f MiB", r.Files, float64(r.FileBytes)/(1<<20))
			}
			rows = append(rows, []string{r.Server, fmt.Sprint(r.Run), f3(r.CPUPct), f2(r.IdleMiB), f2(r.SteadyMiB),
				f3(r.RSSPerStream), f2(r.WritesPerSec), f3(r.PubCPUPct), f3(r.PubCPUReported), fmt.Sprintf("%.0f", r.MaxLagMs), status})
		}
		b.WriteString(table([]string{"server", "run", "CPU %/stream", "idle MiB", "steady MiB", "RSS MiB/stream",
			"writes/stream/s", "pub CPU %/stream", "pub CPU s/stream", "pub max lag ms", "status"}, rows))

		b.WriteString("\nMedians over runs:\n\n")
		rows = nil
		for _, k := range []string{nginxName, liverecName} {
			cpu := pick(rs, k, func(r *runResult) float64 { return r.CPUPct })
			if len(cpu) == 0 {
				continue
			}
			steady := median(pick(rs, k, func(r *runResult) float64 { return r.SteadyMiB }))
			steadyMed[k] = append(steadyMed[k], med{float64(n), steady})
			rows = append(rows, []string{k, f3(median(cpu)),
				f3(median(pick(rs, k, func(r *runResult) float64 { return r.RSSPerStream }))),
				f2(median(pick(rs, k, func(r *runResult) float64 { return r.WritesPerSec }))),
				f3(median(pick(rs, k, func(r *runResult) float64 { return r.PubCPUPct }))), f2(steady)})
		}
		b.WriteString(table([]string{"server", "CPU %/stream", "RSS MiB/stream", "writes/stream/s", "pub CPU %/stream", "steady MiB"}, rows))

		// Ratio per interleaved pair (run i of liverec over run i of nginx-rtmp).
		var ratios []float64
		for _, lr := range rs {
			if lr.Server != liverecName {
				continue
			}
			for _, nr := range rs {
				if nr.Server == nginxName && nr.Run == lr.Run && nr.CPUPct > 0 {
					ratios = append(ratios, lr.CPUPct/nr.CPUPct)
				}
			}
		}
		if len(ratios) > 0 {
			fmt.Fprintf(&b, "\n**CPU per stream, liverec / nginx-rtmp: median %.2f (min %.2f – max %.2f over %d run pair(s))**\n",
				median(ratios), slices.Min(ratios), slices.Max(ratios), len(ratios))
		}

		var issues []string
		checked := 0
		for _, r := range rs {
			if r.Check != nil {
				checked++
				for _, is := range r.Check.issues {
					issues = append(issues, fmt.Sprintf("run %d: %s", r.Run, is))
				}
			}
			if r.PubErr != "" || len(r.StreamsFailed) > 0 {
				issues = append(issues, fmt.Sprintf("run %d %s: publisher: %s %s", r.Run, r.Server, r.PubErr, strings.Join(r.StreamsFailed, "; ")))
			}
		}
		if checked == 0 {
			issues = append(issues, "no liverec run was checked")
		}
		if len(issues) == 0 {
			fmt.Fprintf(&b, "\nFile check (N=%d): PASS — every FLV, MP4 and HLS file of every stream ffprobe-clean, video packets = frames sent\n", n)
		} else {
			pass = false
			fmt.Fprintf(&b, "\nFile check (N=%d): FAIL — %d issue(s):\n\n", n, len(issues))
			for i, is := range issues {
				if i == 40 {
					fmt.Fprintf(&b, "- … and %d more (see the logs)\n", len(issues)-40)
					break
				}
				fmt.Fprintf(&b, "- %s\n", is)
			}
		}
	}

	b.WriteString("\n## Memory per additional stream\n\n")
	var rows [][]string
	for _, k := range []string{nginxName, liverecName} {
		ms := steadyMed[k]
		for i := range ms {
			per := "–"
			if i > 0 && ms[i].n > ms[i-1].n {
				per = f3((ms[i].steady - ms[i-1].steady) / (ms[i].n - ms[i-1].n))
			}
			rssPer := median(pick(byN[int(ms[i].n)], k, func(r *runResult) float64 { return r.RSSPerStream }))
			rows = append(rows, []string{k, fmt.Sprint(int(ms[i].n)), f2(ms[i].steady), f3(rssPer), per})
		}
	}
	b.WriteString(table([]string{"server", "N", "median steady MiB", "(steady − idle)/N MiB", "slope from previous N, MiB/stream"}, rows))

	if aborted != nil {
		fmt.Fprintf(&b, "\nFAIL: aborted (%v); the results above are partial\n", aborted)
		return b.String(), false
	}
	verdict := "PASS"
	if !pass || len(ns) == 0 {
		pass, verdict = false, "FAIL"
	}
	fmt.Fprintf(&b, "\n%s: liverec file check (every stream's FLV, MP4 and HLS complete, ffprobe-clean, video packets = frames sent)\n", verdict)
	return b.String(), pass
}
