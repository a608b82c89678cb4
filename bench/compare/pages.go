package main

import (
	"context"
	"os"
	"strings"
	"time"
)

// reportingOrder (read only: the benchmark measures the machine as it is and never writes
// kernel settings) is the virtio-balloon free page reporting knob of the guest kernel: free
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
