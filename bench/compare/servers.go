package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// server is one running server under test.
type server struct {
	kind   string
	p      *proc
	dir    string // the run's directory on the tmpfs (recordings, liverec's data dir)
	logDir string // configs and logs, on disk, kept after the run
	port   int    // RTMP port
	// stopTimeout bounds the graceful stop.
	stopTimeout time.Duration
	// remuxTimes is where nginx-rtmp's remux wrappers report ("": no remux in this set).
	remuxTimes string
}

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func logFile(dir, name string) (*os.File, error) {
	return os.Create(filepath.Join(dir, name))
}

// startServer starts kind for set s with its recordings under dir and its configs and logs in
// logDir.
func (b *bench) startServer(kind string, s benchSet, dir, logDir string, port, n int) (*server, error) {
	switch kind {
	case nginxName:
		return startNginx(b.module, s, dir, logDir, port, n, b.duration)
	case mediamtxName:
		return startMediamtx(b.mediamtx.bin, s, dir, logDir, port, n)
	}
	return startLiverec(b.bin, s, dir, logDir, port, n)
}

// startNginx writes nginx.conf into logDir and starts nginx in the foreground with one worker,
// recording every stream of app "live" into dir/nginx (HLS into dir/nginx-hls).
func startNginx(module string, s benchSet, dir, logDir string, port, n int, d time.Duration) (*server, error) {
	srv := &server{kind: nginxName, dir: dir, logDir: logDir, port: port, stopTimeout: 30 * time.Second}
	p := nginxParams{module: module, pidFile: filepath.Join(logDir, "nginx.pid"), errorLog: filepath.Join(logDir, "error.log"),
		port: port, conns: max(1024, 2*n+64), recDir: filepath.Join(dir, "nginx")}
	mkdirs := []string{p.recDir}
	if s.NginxHLS {
		p.hlsDir, p.playlist = filepath.Join(dir, "nginx-hls"), hlsPlaylistLength(d)
		mkdirs = append(mkdirs, p.hlsDir)
	}
	if s.NginxMP4 {
		ffmpeg, err := exec.LookPath("ffmpeg") // nginx clears PATH for what it runs
		if err != nil {
			return nil, fmt.Errorf("nginx-rtmp's remux: %w", err)
		}
		srv.remuxTimes = filepath.Join(logDir, "remux-times")
		mkdirs = append(mkdirs, srv.remuxTimes)
		errLog := filepath.Join(logDir, "remux.log")
		if err := os.WriteFile(errLog, nil, 0o666); err != nil {
			return nil, err
		}
		if err := os.Chmod(errLog, 0o666); err != nil { // written by the worker's user
			return nil, err
		}
		wrapper := filepath.Join(logDir, "remux.sh")
		if err := os.WriteFile(wrapper, []byte(remuxWrapper(ffmpeg, srv.remuxTimes, errLog)), 0o755); err != nil {
			return nil, err
		}
		p.recordDone = "/bin/bash " + wrapper + " $path $dirname $basename"
	}
	for _, m := range mkdirs {
		if err := os.MkdirAll(m, 0o777); err != nil {
			return nil, err
		}
		if err := os.Chmod(m, 0o777); err != nil { // the worker runs as www-data
			return nil, err
		}
	}
	confPath := filepath.Join(logDir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(nginxConf(p)), 0o644); err != nil {
		return nil, err
	}
	out, err := logFile(logDir, "nginx.out")
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command("nginx", "-c", confPath, "-p", logDir+"/", "-e", p.errorLog)
	cmd.Stdout, cmd.Stderr = out, out
	if srv.p, err = startProc("nginx", cmd); err != nil {
		return nil, err
	}
	return srv, nil
}

// liverecAccessKey is set through the environment so that liverec does not print a generated
// key on its fresh data dir.
const (
	liverecAccessKeyID     = "LRBENCHCOMPARE01"
	liverecAccessKeySecret = "bench-compare-secret-0123456789"
)

// startLiverec writes the set's config and starts `liverec serve` with its data dir on the
// tmpfs.
func startLiverec(bin string, s benchSet, dir, logDir string, port, n int) (*server, error) {
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err = os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	confPath := filepath.Join(logDir, "liverec.yaml")
	if err = os.WriteFile(confPath, []byte(liverecConf(n, s.LiverecFormats)), 0o644); err != nil {
		return nil, err
	}
	out, err := logFile(logDir, "liverec.log")
	if err != nil {
		return nil, err
	}
	defer out.Close()
	// Completing every file of N streams at once (MP4 finalization) takes a while at large N.
	shutdown := 60*time.Second + time.Duration(n)*200*time.Millisecond
	cmd := exec.Command(bin, "serve", "--data", data,
		"--http", fmt.Sprintf("127.0.0.1:%d", httpPort), "--rtmp", fmt.Sprintf("127.0.0.1:%d", port),
		"--config", confPath, "--shutdown-timeout", shutdown.String())
	cmd.Env = append(os.Environ(),
		"LIVEREC_ACCESS_KEY_ID="+liverecAccessKeyID, "LIVEREC_ACCESS_KEY_SECRET="+liverecAccessKeySecret)
	cmd.Stdout, cmd.Stderr = out, out
	p, err := startProc("liverec serve", cmd)
	if err != nil {
		return nil, err
	}
	return &server{kind: liverecName, p: p, dir: dir, logDir: logDir, port: port,
		stopTimeout: shutdown + 30*time.Second}, nil
}

// startMediamtx writes mediamtx.yml into logDir and starts MediaMTX recording into
// dir/mediamtx.
func startMediamtx(bin string, s benchSet, dir, logDir string, port, n int) (*server, error) {
	rec := filepath.Join(dir, "mediamtx")
	if err := os.MkdirAll(rec, 0o755); err != nil {
		return nil, err
	}
	confPath := filepath.Join(logDir, "mediamtx.yml")
	if err := os.WriteFile(confPath, []byte(mediamtxConf(port, rec, s.MediamtxFormat)), 0o644); err != nil {
		return nil, err
	}
	out, err := logFile(logDir, "mediamtx.log")
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(bin, confPath)
	cmd.Dir = logDir
	cmd.Stdout, cmd.Stderr = out, out
	p, err := startProc("mediamtx", cmd)
	if err != nil {
		return nil, err
	}
	return &server{kind: mediamtxName, p: p, dir: dir, logDir: logDir, port: port,
		stopTimeout: 60*time.Second + time.Duration(n)*100*time.Millisecond}, nil
}

// pids returns the server's processes: liverec's one, or nginx's master and its workers.
func (s *server) pids() []int {
	ps := []int{s.p.pid()}
	if s.kind == nginxName {
		ps = append(ps, childPids(s.p.pid())...)
	}
	return ps
}

// waitReady waits until the RTMP port accepts connections (and, for nginx, a worker exists).
func (s *server) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	addr := fmt.Sprintf("127.0.0.1:%d", s.port)
	for {
		if s.p.exited() {
			return fmt.Errorf("%s exited at start (%v); see %s", s.kind, s.p.err, s.logDir) //nolint:errorlint // p.err is nil after a clean exit; %w would print %!w(<nil>)
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			if s.kind != nginxName || len(childPids(s.p.pid())) > 0 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not accepting on %s within %v (last error %v); see %s", s.kind, addr, timeout, err, s.logDir) //nolint:errorlint // err is nil when nginx accepted before its workers started; %w would print %!w(<nil>)
		}
		if err := sleepUntil(ctx, time.Now().Add(200*time.Millisecond)); err != nil {
			return err
		}
	}
}

// shutdown stops the server gracefully: SIGTERM for liverec and MediaMTX (they complete their
// files), SIGQUIT for nginx (graceful; its publishers are gone by then).
func (s *server) shutdown() error {
	sig := syscall.SIGTERM
	if s.kind == nginxName {
		sig = syscall.SIGQUIT
	}
	return s.p.stop(sig, s.stopTimeout)
}
