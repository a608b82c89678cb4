package docs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timings of the walk through the README's steps. They bound waits on a loaded machine; the
// steps themselves take what the README says (a build, a 20-second publish).
const (
	stepTimeout     = 5 * time.Minute  // one step, a build included
	shutdownTimeout = 90 * time.Second // Ctrl-C until liverec has exited
)

// shBlock is one ```sh block of the README's getting-started section.
type shBlock struct {
	line int
	text string
}

// gettingStarted returns the ```sh blocks of the README's "## Getting started" section.
func gettingStarted(t *testing.T) []shBlock {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []shBlock
	in, fence := false, ""
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "## "):
			in = strings.EqualFold(strings.TrimSpace(line), "## Getting started")
		case !in:
		case fence == "" && strings.TrimSpace(line) == "```sh":
			fence, start = "sh", i+2
			cur.Reset()
		case fence != "" && strings.TrimSpace(line) == "```":
			blocks = append(blocks, shBlock{start, cur.String()})
			fence = ""
		case fence != "":
			cur.WriteString(line + "\n")
		}
	}
	if len(blocks) == 0 {
		t.Fatal(`README.md has no "## Getting started" section with ` + "```sh blocks")
	}
	return blocks
}

// terminal is a bash session, as a user has in a terminal window: its environment and
// background jobs last from one block to the next. Its output is kept whole.
type terminal struct {
	name  string
	steps string // where the steps are written to be sourced
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *syncBuffer
	done  chan struct{}
	err   error
}

func openTerminal(t *testing.T, name, dir string, wrap []string) *terminal {
	t.Helper()
	args := append(append([]string{}, wrap...), "bash", "--noprofile", "--norc")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	// Its own process group, as a terminal's: Ctrl-C signals the whole group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	term := &terminal{name: name, steps: t.TempDir(), cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = term.out, term.out
	var err error
	if term.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err = cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { term.err = cmd.Wait(); close(term.done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-term.done
		t.Logf("%s's output:\n%s", name, term.out.String())
	})
	return term
}

// run types script into the terminal and waits until it has run, returning its exit status
// and what it printed.
func (term *terminal) run(t *testing.T, script string, timeout time.Duration) (int, string) {
	t.Helper()
	marker := fmt.Sprintf("__step_done_%d__", time.Now().UnixNano())
	from := term.out.Len()
	// The step is sourced from a file with its input from /dev/null, as typed into a terminal:
	// a command that reads its input (ffmpeg does) must not eat the lines that follow.
	step := filepath.Join(term.steps, marker+".sh")
	if err := os.WriteFile(step, []byte(script+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(term.in, ". %q </dev/null\necho \"%s $?\"\n", step, marker); err != nil {
		t.Fatalf("%s: type the step: %v", term.name, err)
	}
	re := regexp.MustCompile(marker + ` (\d+)`)
	var status int
	waitFor(t, timeout, term.name+" to finish the step:\n"+script, func() bool {
		m := re.FindStringSubmatch(term.out.String()[from:])
		if m != nil {
			_, _ = fmt.Sscan(m[1], &status)
		}
		return m != nil
	}, term.done)
	out, _, _ := strings.Cut(term.out.String()[from:], marker)
	return status, out
}

// waitFor polls cond until it holds, failing the test after timeout or once dead is closed.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool, dead <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		select {
		case <-dead:
			if cond() {
				return
			}
			t.Fatalf("the shell ended while waiting for %s", what)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", timeout, what)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// copyTree copies the files a build of liverec and its examples needs into dir: the steps
// build and write ./data where they run, which must not be the checkout under test.
func copyTree(t *testing.T, dir string) {
	t.Helper()
	for _, name := range []string{"go.mod", "go.sum", "cmd", "internal", "examples"} {
		src := filepath.Join(repoRoot, name)
		out, err := exec.Command("cp", "-a", src, dir).CombinedOutput()
		if err != nil {
			t.Fatalf("copy %s: %v: %s", name, err, out)
		}
	}
}

// privateNetwork returns the command prefix that runs a shell in a network namespace of its
// own, where the README's fixed ports (1935, 8080, 9000) are free whatever runs beside the
// test. Where namespaces cannot be made, the steps run on the machine's loopback, and the
// test fails if a port they need is taken.
func privateNetwork(t *testing.T) []string {
	t.Helper()
	holder := exec.Command("unshare", "--net", "sh", "-c", "ip link set lo up && echo up && exec sleep 3600")
	holder.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out syncBuffer
	holder.Stdout, holder.Stderr = &out, &out
	if err := holder.Start(); err == nil {
		exited := make(chan struct{})
		go func() { _ = holder.Wait(); close(exited) }()
		t.Cleanup(func() { _ = holder.Process.Kill(); <-exited })
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if strings.Contains(out.String(), "up") {
				return []string{"nsenter", "--net=/proc/" + fmt.Sprint(holder.Process.Pid) + "/ns/net"}
			}
			select {
			case <-exited:
				deadline = time.Time{}
			case <-time.After(50 * time.Millisecond):
			}
		}
		t.Logf("no private network namespace (%s): the steps use this machine's ports", strings.TrimSpace(out.String()))
	}
	for _, port := range []string{"1935", "8080", "9000"} {
		l, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatalf("the README's steps need port %s, which is taken: %v", port, err)
		}
		_ = l.Close()
	}
	return nil
}

var (
	keyLine    = regexp.MustCompile(`(?m)^\s*(LIVEREC_ACCESS_KEY_ID=\S+)\s*$`)
	secretLine = regexp.MustCompile(`(?m)^\s*(LIVEREC_ACCESS_KEY_SECRET=\S+)\s*$`)
)

// TestGettingStarted runs the README's getting-started steps as a user does, in two terminals:
// the first builds and runs liverec, the second types every other block as written. Only the
// block that exports the printed access key is filled in with what liverec printed. Then it
// stops liverec with Ctrl-C and checks what the steps promise: the callback receiver verified
// signed events, the recording is listed, and its files are in the bucket, each read whole by
// ffprobe.
func TestGettingStarted(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"go", "ffmpeg", "ffprobe", "curl", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's steps need %s (scripts/test installs it): %v", tool, err)
		}
	}
	blocks := gettingStarted(t)
	dir := t.TempDir()
	copyTree(t, dir)
	wrap := privateNetwork(t)

	var serveBlock, lsBlock *shBlock
	var steps []shBlock
	for i := range blocks {
		switch b := &blocks[i]; {
		case strings.Contains(b.text, "./liverec serve"):
			serveBlock = b
		case strings.HasPrefix(strings.TrimSpace(b.text), "ls "):
			lsBlock = b
		default:
			steps = append(steps, *b)
		}
	}
	if serveBlock == nil || lsBlock == nil {
		t.Fatalf("the getting-started blocks must include one running ./liverec serve and a final ls: %+v", blocks)
	}

	first := openTerminal(t, "terminal 1 (liverec)", dir, wrap)
	second := openTerminal(t, "terminal 2", dir, wrap)
	if _, err := io.WriteString(first.in, serveBlock.text); err != nil {
		t.Fatal(err)
	}
	waitFor(t, stepTimeout, "liverec to print its admin key (README.md:"+fmt.Sprint(serveBlock.line)+")", func() bool {
		return secretLine.MatchString(first.out.String())
	}, first.done)
	if status, out := second.run(t, "until curl -sf localhost:8080/healthz >/dev/null; do sleep 0.2; done", stepTimeout); status != 0 {
		t.Fatalf("liverec never answered /healthz: %s", out)
	}

	var listed string
	for _, step := range steps {
		script := step.text
		if strings.HasPrefix(strings.TrimSpace(script), "export LIVEREC_ACCESS_KEY_ID=") {
			printed := first.out.String()
			script = "export " + keyLine.FindStringSubmatch(printed)[1] + " " + secretLine.FindStringSubmatch(printed)[1]
		}
		status, out := second.run(t, script, stepTimeout)
		t.Logf("README.md:%d:\n%s→ exit %d\n%s", step.line, step.text, status, out)
		if status != 0 {
			t.Fatalf("README.md:%d: the step exits %d:\n%s\n%s", step.line, status, step.text, out)
		}
		if strings.Contains(script, "/api/v1/recordings") {
			listed = out
		}
	}
	if !strings.Contains(listed, `"stream":"test"`) && !strings.Contains(listed, `"stream": "test"`) {
		t.Errorf("the recordings step did not list stream test:\n%s", listed)
	}
	waitFor(t, time.Minute, "the callback receiver to verify a record_started event", func() bool {
		return regexp.MustCompile(`\bverified \S*record_started `).MatchString(second.out.String())
	}, second.done)

	// Ctrl-C in terminal 1: SIGINT to its foreground process group.
	if err := syscall.Kill(-first.cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(first.in, "exit $?\n"); err != nil && !errors.Is(err, syscall.EPIPE) {
		t.Logf("close terminal 1: %v", err)
	}
	select {
	case <-first.done:
	case <-time.After(shutdownTimeout):
		t.Fatalf("liverec did not stop within %v of Ctrl-C", shutdownTimeout)
	}
	if first.err != nil {
		t.Errorf("liverec's terminal ended with %v after Ctrl-C; want a clean exit", first.err)
	}
	if !strings.Contains(first.out.String(), "stopped") {
		t.Errorf("liverec did not log its clean stop")
	}
	if rejected := regexp.MustCompile(`\brejected: .*`).FindAllString(second.out.String(), -1); len(rejected) > 0 {
		t.Errorf("the callback receiver rejected deliveries: %q", rejected)
	}

	status, out := second.run(t, lsBlock.text, stepTimeout)
	if status != 0 {
		t.Fatalf("README.md:%d: %s exits %d: %s", lsBlock.line, lsBlock.text, status, out)
	}
	folder := filepath.Join(dir, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lsBlock.text), "ls ")))
	names := strings.Fields(out)
	for _, ext := range []string{".flv", ".mp4", ".m3u8", ".ts"} {
		found := false
		for _, n := range names {
			if !strings.HasSuffix(n, ext) {
				continue
			}
			found = true
			if ext != ".ts" { // a playlist's probe reads its slices
				probe(t, filepath.Join(folder, n))
			}
		}
		if !found {
			t.Errorf("no %s file listed in %s: %q", ext, folder, names)
		}
	}
}

// probe checks that ffprobe reads a recorded file whole, with video and audio and no error.
func probe(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_type",
		"-of", "csv=p=0", path).CombinedOutput()
	if err != nil || strings.Contains(string(out), "rror") {
		t.Errorf("ffprobe %s: %v\n%s", path, err, out)
		return
	}
	if !strings.Contains(string(out), "video") || !strings.Contains(string(out), "audio") {
		t.Errorf("ffprobe %s: want video and audio streams, got %q", path, out)
	}
}
