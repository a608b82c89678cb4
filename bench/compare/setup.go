package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cacheDir holds the reference streams, the built binaries and the logs of every run.
const cacheDir = "/tmp/liverec-bench"

// rtmpModuleCandidates are where Debian's libnginx-mod-rtmp puts the module.
var rtmpModuleCandidates = []string{
	"/usr/lib/nginx/modules/ngx_rtmp_module.so",
	"/usr/share/nginx/modules/ngx_rtmp_module.so",
}

// findRTMPModule returns the path of the nginx-rtmp dynamic module, or "".
func findRTMPModule() string {
	for _, p := range rtmpModuleCandidates {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	// The package's snippet names the module: "load_module modules/ngx_rtmp_module.so;".
	b, err := os.ReadFile("/usr/share/nginx/modules-available/mod-rtmp.conf")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimSuffix(strings.TrimSpace(line), ";"))
		if len(f) == 2 && f[0] == "load_module" {
			p := f[1]
			if !filepath.IsAbs(p) {
				p = filepath.Join("/usr/share/nginx", p)
			}
			if q, err := filepath.EvalSymlinks(p); err == nil {
				return q
			}
		}
	}
	return ""
}

// ensureTools installs nginx, the RTMP module and ffmpeg with apt when one is missing, and
// fails when they cannot be had.
func ensureTools(ctx context.Context) (rtmpModule string, err error) {
	missing := []string{}
	if _, err := exec.LookPath("nginx"); err != nil {
		missing = append(missing, "nginx")
	}
	if findRTMPModule() == "" {
		missing = append(missing, "libnginx-mod-rtmp")
	}
	for _, t := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, "ffmpeg")
			break
		}
	}
	if len(missing) > 0 {
		logf("installing %s with apt-get", strings.Join(missing, " "))
		if os.Geteuid() != 0 {
			return "", fmt.Errorf("%s missing and not root: apt-get install %s", strings.Join(missing, ", "), strings.Join(missing, " "))
		}
		if out, err := runCmd(ctx, 5*time.Minute, "apt-get", "update", "-qq"); err != nil {
			return "", fmt.Errorf("apt-get update: %w\n%s", err, out)
		}
		args := append([]string{"install", "-y", "-qq", "--no-install-recommends"}, missing...)
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get install %s: %w\n%s", strings.Join(missing, " "), err, out)
		}
	}
	for _, t := range []string{"nginx", "ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(t); err != nil {
			return "", fmt.Errorf("%s still missing after apt-get install", t)
		}
	}
	m := findRTMPModule()
	if m == "" {
		return "", fmt.Errorf("ngx_rtmp_module.so not found in %v after installing libnginx-mod-rtmp", rtmpModuleCandidates)
	}
	return m, nil
}

// buildLiverec builds the liverec binary of the repository into dir.
func buildLiverec(ctx context.Context, repo, dir string) (string, error) {
	bin := filepath.Join(dir, "liverec")
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/liverec")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/liverec: %w\n%s", err, out)
	}
	return bin, nil
}

// hasBenchCommand reports whether the built liverec has the `bench` load publisher.
func hasBenchCommand(ctx context.Context, bin string) bool {
	out, _ := runCmd(ctx, 20*time.Second, bin, "bench", "--help")
	s := string(out)
	return !strings.Contains(s, "unknown command") && strings.Contains(s, "streams")
}

// refVariant is one reference stream of §14.
type refVariant struct {
	name             string
	width, height    int
	videoBitrate     string
	bytesPerSecGuess float64 // for sizing the tmpfs before the file exists
}

var (
	refFull  = refVariant{"ref_1280x720_30fps_2M", 1280, 720, "2M", 290e3}
	refSmall = refVariant{"ref_640x360_30fps_500k", 640, 360, "500k", 85e3}
)

const refSeconds = 30

// ensureRef makes the reference stream once (cached in cacheDir) and returns its path.
func ensureRef(ctx context.Context, v refVariant) (string, error) {
	out := filepath.Join(cacheDir, v.name+".flv")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	logf("making reference stream %s", out)
	tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
	args := []string{"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=30:duration=%d", v.width, v.height, refSeconds),
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=44100:duration=%d", refSeconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-b:v", v.videoBitrate,
		"-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "0", "-pix_fmt", "yuv420p", "-profile:v", "high",
		"-c:a", "aac", "-b:a", "128k", "-ar", "44100", "-f", "flv", tmp}
	if b, err := runCmd(ctx, 10*time.Minute, "ffmpeg", args...); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("ffmpeg reference stream: %w\n%s", err, b)
	}
	return out, os.Rename(tmp, out)
}

// memAvailable returns MemAvailable from /proc/meminfo in bytes.
func memAvailable() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 2 && fs[0] == "MemAvailable:" {
			kb, err := strconv.ParseInt(fs[1], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no MemAvailable in /proc/meminfo")
}

// mountTmpfs mounts a tmpfs of size bytes at dir.
func mountTmpfs(dir string, size int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	opts := fmt.Sprintf("size=%d,mode=0777", size)
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		return fmt.Errorf("mount tmpfs on %s (%s): %w (run as root)", dir, opts, err)
	}
	return nil
}

// unmountTmpfs unmounts dir (lazily if it is still busy) and removes the mount point.
func unmountTmpfs(dir string) {
	if err := syscall.Unmount(dir, 0); err != nil {
		logf("unmount %s: %v; detaching lazily", dir, err)
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			logf("unmount -l %s: %v", dir, err)
			return
		}
	}
	os.Remove(dir)
}
