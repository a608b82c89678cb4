package e2e

import (
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/liverec/liverec/internal/testutil"
)

// publisher is an ffmpeg process publishing a live test picture and tone over RTMP.
type publisher struct {
	cmd  *exec.Cmd
	out  testutil.SyncBuffer
	done chan struct{} // closed when ffmpeg has exited; err is set then
	err  error
}

// publishOptions tune startPublisher; the zero value is 1280x720 at 30 fps until stopped.
type publishOptions struct {
	Seconds int    // stop after this many seconds of media; 0: until stopped or kicked
	Size    string // WxH, default 1280x720
}

// startPublisher publishes, in real time, a lavfi testsrc2 picture (H.264, a keyframe every
// 30 frames) and a 440 Hz sine (AAC) to url, e.g. srv.RTMPURL("live/cam"). The process is
// killed, if still running, and waited for when the test ends.
func startPublisher(t *testing.T, url string, o publishOptions) *publisher {
	t.Helper()
	testutil.RequireTool(t, "ffmpeg")
	if o.Size == "" {
		o.Size = "1280x720"
	}
	video := "testsrc2=size=" + o.Size + ":rate=30"
	audio := "sine=frequency=440:sample_rate=44100"
	if o.Seconds > 0 {
		video += fmt.Sprintf(":duration=%d", o.Seconds)
		audio += fmt.Sprintf(":duration=%d", o.Seconds)
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin",
		"-re", "-f", "lavfi", "-i", video,
		"-re", "-f", "lavfi", "-i", audio,
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-bf", "0", "-b:v", "1500k",
		"-c:a", "aac", "-b:a", "128k", "-ar", "44100",
		"-f", "flv", url}
	p := &publisher{cmd: exec.Command("ffmpeg", args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start ffmpeg publisher to %s: %v", url, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if out := p.out.String(); out != "" {
			t.Logf("ffmpeg publisher to %s said: %s", url, out)
		}
	})
	return p
}

// exited returns a channel that is closed when ffmpeg has exited (kicked, done or killed).
func (p *publisher) exited() <-chan struct{} { return p.done }

// waitExit waits up to actionTimeout for ffmpeg to exit by itself (a kick ends its
// connection) and returns its exit error; still running then fails the test.
func (p *publisher) waitExit(t *testing.T) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(actionTimeout):
		t.Fatalf("ffmpeg publisher still running after %s; output: %s", actionTimeout, p.out.String())
		return nil
	}
}

// stop kills ffmpeg if it is still running and waits for it.
func (p *publisher) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill() // it may exit between the check and the kill; the wait settles it
	<-p.done
}

// output returns what ffmpeg printed (errors only).
func (p *publisher) output() string { return p.out.String() }
