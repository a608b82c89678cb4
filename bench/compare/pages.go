package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// reportingOrder is the virtio-balloon free page reporting knob of the guest kernel: free
// blocks of at least 2^order pages are handed back to the hypervisor, and the next touch of
// such a page faults on the host. On the VMs this was measured on, that made every new tmpfs
// page cost ~2.5 µs (dd into a new tmpfs: 370 MB/s; into pages freed a moment earlier with
// reporting off: 1.9 GB/s), which weighs on a server in proportion to the bytes it records.
const reportingOrder = "/sys/module/page_reporting/parameters/page_reporting_order"

// reportedKiB counts what the guest has reported so far.
const reportedKiB = "/sys/module/page_reporting/parameters/reported_kib"

// settlePages waits until the guest has reported the memory the previous run freed (the
// counter stood still for 5 s; at most 2 minutes). Reporting drains ~70 MiB/s here, so
// without this the server that runs right after a larger one could write to freed pages not
// yet reported, which are cheap: nginx-rtmp always follows liverec, which frees three times
// its bytes. Measured at N = 100 it changed little (nginx-rtmp 0.121 → 0.118 % per stream),
// but it keeps the runs independent of their order.
func settlePages(ctx context.Context) {
	read := func() string {
		b, _ := os.ReadFile(reportedKiB)
		return strings.TrimSpace(string(b))
	}
	if read() == "" {
		return
	}
	began, last, still := time.Now(), read(), 0
	for still < 5 && time.Since(began) < 2*time.Minute && ctx.Err() == nil {
		time.Sleep(time.Second)
		if v := read(); v == last {
			still++
		} else {
			last, still = v, 0
		}
	}
	logf("free page reporting settled after %v", time.Since(began).Round(time.Second))
}

// noReporting is above the buddy allocator's largest order: no free block qualifies.
const noReporting = "11"

// pinPages pauses free page reporting and touches size bytes of the tmpfs at dir once, so
// that the recordings of every run land on pages the guest already owns: the comparison then
// measures the servers rather than the hypervisor's page faults. It returns how to restore
// the knob, and a line for the report.
func pinPages(dir string, size int64) (restore func(), desc string, err error) {
	old, err := os.ReadFile(reportingOrder)
	if errors.Is(err, fs.ErrNotExist) {
		return func() {}, "free page reporting: not present on this kernel (nothing to pin)", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("--pin-pages: %w", err)
	}
	prev := strings.TrimSpace(string(old))
	if err := os.WriteFile(reportingOrder, []byte(noReporting), 0o644); err != nil {
		return nil, "", fmt.Errorf("--pin-pages: pause free page reporting: %w", err)
	}
	restore = func() {
		if err := os.WriteFile(reportingOrder, []byte(prev), 0o644); err != nil {
			logf("could not restore %s to %s: %v", reportingOrder, prev, err)
		}
	}
	if err := touch(filepath.Join(dir, "pretouch"), size*9/10); err != nil {
		restore()
		return nil, "", fmt.Errorf("--pin-pages: pre-touch the tmpfs: %w", err)
	}
	return restore, fmt.Sprintf("free page reporting paused during the runs (page_reporting_order %s → %s, restored after) and %.1f GiB of the tmpfs touched once before them (--pin-pages)",
		prev, noReporting, float64(size*9/10)/(1<<30)), nil
}

// touch writes n bytes to a new file at path and removes it.
func touch(path string, n int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	defer f.Close()
	buf := make([]byte, 1<<20)
	for left := n; left > 0; left -= int64(len(buf)) {
		if _, err := f.Write(buf[:min(int64(len(buf)), left)]); err != nil {
			return err
		}
	}
	return f.Close()
}
