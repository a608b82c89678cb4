package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// machineFacts describes the machine and the software for the report's header. It only reads:
// the benchmark never changes kernel settings.
func machineFacts(ctx context.Context, repo string, mtx mediamtxBinary, tmpfsBytes int64) []string {
	var info []string
	cpuinfo, _ := os.ReadFile("/proc/cpuinfo")
	model, hypervisor := cpuModel(string(cpuinfo))
	info = append(info, "CPU: "+model, fmt.Sprintf("cores: %d", numCPU()))
	if total, err := procField("/proc/meminfo", "MemTotal"); err == nil {
		info = append(info, fmt.Sprintf("memory: %.1f GiB", float64(total)/(1<<20)))
	}
	if n, err := memAvailable(); err == nil {
		info = append(info, fmt.Sprintf("memory available at start: %.1f GiB", float64(n)/(1<<30)))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		info = append(info, "kernel: "+strings.TrimSpace(string(b)))
	}
	virt := "no hypervisor flag in /proc/cpuinfo"
	if hypervisor {
		virt = "hypervisor flag in /proc/cpuinfo (a VM)"
	}
	if b, err := os.ReadFile("/sys/hypervisor/type"); err == nil {
		virt += ", /sys/hypervisor/type " + strings.TrimSpace(string(b))
	}
	cmdline, _ := os.ReadFile("/proc/cmdline")
	if hints := virtHints(string(cmdline)); len(hints) > 0 {
		virt += "; kernel command line: " + strings.Join(hints, " ")
	}
	info = append(info, "virtualization: "+virt)
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err == nil {
		info = append(info, "transparent hugepages: "+bracketed(string(b)))
	}
	pages := "free page reporting: not in this kernel"
	if b, err := os.ReadFile(reportingOrder); err == nil {
		pages = "free page reporting: page_reporting_order " + strings.TrimSpace(string(b)) + " (read only, as the machine has it)"
	}
	info = append(info, pages, fmt.Sprintf("recordings tmpfs: %.1f GiB", float64(tmpfsBytes)/(1<<30)))
	if b, err := runCmd(ctx, 10*time.Second, "go", "version"); err == nil { // the toolchain that built liverec
		info = append(info, strings.TrimSpace(string(b)))
	}
	if b, err := runCmd(ctx, 10*time.Second, "ffmpeg", "-version"); err == nil {
		info = append(info, strings.SplitN(string(b), "\n", 2)[0])
	}
	if b, err := runCmd(ctx, 10*time.Second, "nginx", "-v"); err == nil {
		info = append(info, strings.TrimSpace(string(b)))
	}
	if b, err := runCmd(ctx, 10*time.Second, "dpkg-query", "-W", "-f", "${Version}", "libnginx-mod-rtmp"); err == nil {
		info = append(info, "libnginx-mod-rtmp: "+strings.TrimSpace(string(b)))
	}
	switch {
	case mtx.bin != "":
		info = append(info, fmt.Sprintf("MediaMTX: %s (%s)", mtx.version, mtx.bin))
	case mtx.notRun != "":
		info = append(info, "MediaMTX: not run: "+mtx.notRun)
	}
	if b, err := runCmd(ctx, 10*time.Second, "git", "-C", repo, "describe", "--always", "--dirty"); err == nil {
		info = append(info, "liverec commit: "+strings.TrimSpace(string(b)))
	}
	return info
}

// cpuModel returns the first model name in /proc/cpuinfo and whether the CPU flags say a
// hypervisor runs the machine.
func cpuModel(cpuinfo string) (model string, hypervisor bool) {
	model = "unknown"
	for _, l := range strings.Split(cpuinfo, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "model name":
			if model == "unknown" {
				model = strings.TrimSpace(v)
			}
		case "flags":
			for _, f := range strings.Fields(v) {
				hypervisor = hypervisor || f == "hypervisor"
			}
		}
	}
	return model, hypervisor
}

// virtHints picks the kernel command line's words about virtualization (nested, kvm, …).
func virtHints(cmdline string) []string {
	var out []string
	for _, w := range strings.Fields(cmdline) {
		lw := strings.ToLower(w)
		for _, k := range []string{"nested", "kvm", "virt", "xen", "hyperv", "balloon"} {
			if strings.Contains(lw, k) {
				out = append(out, w)
				break
			}
		}
	}
	return out
}

// bracketed returns the [selected] word of a sysfs choice list ("always [madvise] never").
func bracketed(s string) string {
	if i := strings.IndexByte(s, '['); i >= 0 {
		if j := strings.IndexByte(s[i:], ']'); j > 0 {
			return s[i+1 : i+j]
		}
	}
	return strings.TrimSpace(s)
}

// machineCaption is the plot's caption: the CPU, cores and kernel.
func machineCaption(info []string) string {
	var parts []string
	for _, s := range info {
		if strings.HasPrefix(s, "CPU: ") || strings.HasPrefix(s, "cores: ") || strings.HasPrefix(s, "kernel: ") {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}
