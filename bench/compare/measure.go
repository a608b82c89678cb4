package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// clkTck is the kernel's USER_HZ, the unit of utime and stime in /proc/PID/stat. It is 100 on
// every Linux architecture Go supports except alpha and ia64.
var clkTck = 100.0

func numCPU() int { return runtime.NumCPU() }

// procSample is the sum over a set of processes of what /proc tells about them.
type procSample struct {
	ticks  uint64 // utime + stime, in clock ticks
	syscw  uint64 // write-type system calls (write, pwrite, writev, …)
	rssKiB uint64 // VmRSS
	n      int    // processes read
}

// sampleProcs reads /proc for every pid; a process that vanished is skipped.
func sampleProcs(pids []int) (procSample, error) {
	var s procSample
	var firstErr error
	for _, pid := range pids {
		t, err := procTicks(pid)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		w, err := procSyscw(pid)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		r, err := procRSS(pid)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		s.ticks += t
		s.syscw += w
		s.rssKiB += r
		s.n++
	}
	if s.n == 0 {
		return s, fmt.Errorf("no process readable in %v: %v", pids, firstErr) //nolint:errorlint // firstErr is nil when pids is empty; %w would print %!w(<nil>)
	}
	return s, nil
}

// procTicks returns utime+stime of the process (all its threads) from /proc/PID/stat.
func procTicks(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no ')'", pid)
	}
	// After the comm: state(3) ppid(4) … utime(14) stime(15); fields[0] is field 3.
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return u + st, nil
}

// procPPid returns the parent pid from /proc/PID/stat.
func procPPid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	p, _ := strconv.Atoi(f[1])
	return p
}

// childPids returns the pids whose parent is pid (nginx's workers).
func childPids(pid int) []int {
	ents, _ := filepath.Glob("/proc/[0-9]*")
	var out []int
	for _, e := range ents {
		c, err := strconv.Atoi(filepath.Base(e))
		if err != nil || c == pid {
			continue
		}
		if procPPid(c) == pid {
			out = append(out, c)
		}
	}
	return out
}

// procField returns the first number after "key:" in a /proc file of key: value lines.
func procField(path, key string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, key+":") {
			fs := strings.Fields(line[len(key)+1:])
			if len(fs) == 0 {
				break
			}
			return strconv.ParseUint(fs[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, key)
}

func procRSS(pid int) (uint64, error) {
	return procField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS")
}

func procSyscw(pid int) (uint64, error) {
	return procField(fmt.Sprintf("/proc/%d/io", pid), "syscw")
}
