package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// proc is a child process in its own process group, registered so that every child is killed
// when the program exits, whatever the way out (error, Ctrl-C, SIGTERM).
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // set before done is closed
}

var (
	procsMu sync.Mutex
	procs   = map[*proc]bool{}
)

// startProc starts cmd in a new process group that dies with this program's thread (Pdeathsig)
// and registers it.
func startProc(name string, cmd *exec.Cmd) (*proc, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	procsMu.Lock()
	procs[p] = true
	procsMu.Unlock()
	go func() {
		p.err = cmd.Wait()
		procsMu.Lock()
		delete(procs, p)
		procsMu.Unlock()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// cpuSeconds is the user + system time of the exited process, its reaped children included
// (wait4's rusage); 0 while it runs.
func (p *proc) cpuSeconds() float64 {
	if !p.exited() || p.cmd.ProcessState == nil {
		return 0
	}
	ps := p.cmd.ProcessState
	return (ps.UserTime() + ps.SystemTime()).Seconds()
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the process only (not its group).
func (p *proc) signal(sig syscall.Signal) {
	if !p.exited() {
		_ = syscall.Kill(p.pid(), sig)
	}
}

// killGroup sends SIGKILL to the whole process group (nginx workers, ffmpeg helpers).
func (p *proc) killGroup() {
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
}

var errTimeout = errors.New("timed out")

// wait waits for the process to exit, at most timeout; it returns the exit error, errTimeout or
// the context's error.
func (p *proc) wait(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return p.err
	case <-t.C:
		return fmt.Errorf("%s: %w after %v", p.name, errTimeout, timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop sends sig, waits up to timeout, then kills the group. It returns the exit error of a
// graceful exit, or an error saying it had to be killed.
func (p *proc) stop(sig syscall.Signal, timeout time.Duration) error {
	p.signal(sig)
	err := p.wait(context.Background(), timeout)
	if errors.Is(err, errTimeout) {
		p.killGroup()
		<-p.done
		return fmt.Errorf("%s did not exit within %v of %v; killed", p.name, timeout, sig)
	}
	p.killGroup() // leftovers of the group, if any
	return err
}

// killAll kills every registered process group and waits (bounded) for them to be reaped.
func killAll() {
	procsMu.Lock()
	list := make([]*proc, 0, len(procs))
	for p := range procs {
		list = append(list, p)
	}
	procsMu.Unlock()
	for _, p := range list {
		p.killGroup()
	}
	for _, p := range list {
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			fmt.Fprintf(os.Stderr, "compare: %s (pid %d) did not go away after SIGKILL\n", p.name, p.pid())
		}
	}
}

// runCmd runs a command to completion with a timeout and returns its combined output.
func runCmd(ctx context.Context, timeout time.Duration, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if ctx.Err() == context.DeadlineExceeded {
		return out, fmt.Errorf("%s: %w after %v", name, errTimeout, timeout)
	}
	return out, err
}

// sleepUntil sleeps until t or until ctx is done.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
