package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseSets(t *testing.T) {
	sets, err := parseSets(defaultSets)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range sets {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != defaultSets {
		t.Errorf("sets %q, want %q", got, defaultSets)
	}
	for _, bad := range []string{"flv,webm", "flv,flv", ""} {
		if _, err := parseSets(bad); err == nil {
			t.Errorf("parseSets(%q): no error", bad)
		}
	}
}

func TestSetServersAndFormats(t *testing.T) {
	ts, _ := parseSets("ts")
	if got := ts[0].servers([]string{liverecName}); len(got) != 1 || got[0] != liverecName {
		t.Errorf("ts with --servers liverec runs %v", got)
	}
	if got := ts[0].servers(allServers); strings.Join(got, ",") != "mediamtx,liverec" {
		t.Errorf("ts runs %v, want the peer first", got)
	}
	if got := ts[0].formats(liverecName); strings.Join(got, ",") != "hls" {
		t.Errorf("liverec's ts formats %v", got)
	}
	full, _ := parseSets("flv+mp4+hls")
	if got := full[0].formats(nginxName); strings.Join(got, ",") != "flv,mp4,hls" {
		t.Errorf("nginx-rtmp's flv+mp4+hls formats %v", got)
	}
	if _, err := parseServers("liverec,wowza"); err == nil {
		t.Error("parseServers accepted wowza")
	}
}

func TestNginxConf(t *testing.T) {
	base := nginxParams{module: "/m.so", pidFile: "/l/nginx.pid", errorLog: "/l/error.log", port: 1935, conns: 1024, recDir: "/r/nginx"}
	flv := nginxConf(base)
	for _, want := range []string{"load_module /m.so;", "worker_processes 1;", "listen 127.0.0.1:1935;", "record all;", "record_path /r/nginx;"} {
		if !strings.Contains(flv, want) {
			t.Errorf("flv conf lacks %q:\n%s", want, flv)
		}
	}
	for _, absent := range []string{"hls on", "exec_record_done"} {
		if strings.Contains(flv, absent) {
			t.Errorf("flv conf has %q", absent)
		}
	}
	p := base
	p.hlsDir, p.playlist = "/r/hls", hlsPlaylistLength(46*time.Second)
	p.recordDone = "/bin/bash /l/remux.sh $path $dirname $basename"
	all := nginxConf(p)
	for _, want := range []string{"hls on;", "hls_path /r/hls;", "hls_fragment 10s;", "hls_playlist_length 152s;", "hls_cleanup off;",
		"exec_record_done /bin/bash /l/remux.sh $path $dirname $basename;"} {
		if !strings.Contains(all, want) {
			t.Errorf("flv+mp4+hls conf lacks %q:\n%s", want, all)
		}
	}
}

func TestRemuxWrapper(t *testing.T) {
	w := remuxWrapper("/usr/bin/ffmpeg", "/l/remux-times", "/l/remux.log")
	for _, want := range []string{
		`'/usr/bin/ffmpeg' -nostdin -loglevel error -y -i "$1" -c copy "$2/$3.mp4"`,
		"\ntimes >>", // the builtin in this shell, not in a subshell, whose children would be 0
		`mv "$out.tmp" "$out"`,
	} {
		if !strings.Contains(w, want) {
			t.Errorf("wrapper lacks %q:\n%s", want, w)
		}
	}
	if shellQuote("a'b") != `'a'\''b'` {
		t.Errorf("shellQuote: %s", shellQuote("a'b"))
	}
}

func TestParseRemuxReport(t *testing.T) {
	rc, cpu, err := parseRemuxReport("rc 0\n0m0.004s 0m0.002s\n0m0.155s 1m0.066s\n")
	if err != nil || rc != 0 || cpu < 60.2209 || cpu > 60.2211 {
		t.Errorf("got rc %d cpu %v err %v; want 0, 60.221 (children only)", rc, cpu, err)
	}
	if rc, _, err = parseRemuxReport("rc 1\n0m0,004s 0m0,002s\n0m0,100s 0m0,050s\n"); err != nil || rc != 1 {
		t.Errorf("comma decimals: rc %d err %v", rc, err)
	}
	for _, bad := range []string{"", "rc 0\n0m0.1s 0m0.1s", "rc x\na b\nc d", "rc 0\n0m0.1s 0m0.1s\n0.1 0.2"} {
		if _, _, err := parseRemuxReport(bad); err == nil {
			t.Errorf("parseRemuxReport(%q): no error", bad)
		}
	}
}

func TestLiverecConf(t *testing.T) {
	c := liverecConf(5, []string{"flv", "hls"})
	if !strings.Contains(c, "max_conns: 105") || !strings.Contains(c, "{format: flv, cycle_s: 43200, merge_window_s: 0") ||
		!strings.Contains(c, "{format: hls, cycle_s: 43200, slice_s: 10, merge_window_s: 0") {
		t.Errorf("conf:\n%s", c)
	}
	if strings.Contains(c, "format: mp4") {
		t.Errorf("flv+hls conf records MP4:\n%s", c)
	}
}

func TestMediamtxConf(t *testing.T) {
	c := mediamtxConf(19350, "/r/mediamtx", "mpegts")
	for _, want := range []string{"rtmp: true", "rtmpAddress: 127.0.0.1:19350", `rtmpEncryption: "no"`, "logLevel: warn",
		"recordPath: /r/mediamtx/%path/%Y-%m-%d_%H-%M-%S-%f", "recordFormat: mpegts", "recordSegmentDuration: 1h",
		"recordDeleteAfter: 0s", "all_others:"} {
		if !strings.Contains(c, want) {
			t.Errorf("conf lacks %q:\n%s", want, c)
		}
	}
	for _, off := range []string{"api", "metrics", "pprof", "playback", "rtsp", "hls", "webrtc", "srt", "moq"} {
		if !strings.Contains(c, "\n"+off+": false\n") {
			t.Errorf("conf does not turn %s off:\n%s", off, c)
		}
	}
}
