package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPlaylistSegments(t *testing.T) {
	got := playlistSegments("#EXTM3U\n#EXT-X-TARGETDURATION:10\n\n#EXTINF:10.0,\ns0-0.ts\n#EXTINF:4.2,\r\ns0-1.ts\n")
	if strings.Join(got, ",") != "s0-0.ts,s0-1.ts" {
		t.Errorf("segments %v", got)
	}
}

func TestNginxJobs(t *testing.T) {
	dir := t.TempDir()
	rec, hls := filepath.Join(dir, "nginx"), filepath.Join(dir, "hls")
	writeFiles(t, dir, map[string]string{
		"nginx/s1-1700000000.flv": "", "nginx/s10-1700000001.flv": "", "nginx/s1-1700000000.mp4": "",
		"hls/s1.m3u8": "#EXTM3U\n#EXTINF:10,\ns1-0.ts\n#EXTINF:10,\ns1-1.ts\n", "hls/s1-0.ts": "", "hls/s1-1.ts": "",
		"hls/s1-2.ts":  "", // on disk, not in the playlist
		"hls/s10.m3u8": "#EXTM3U\n#EXTINF:10,\ns10-0.ts\n",
	})
	var c checkResult
	jobs := nginxJobs(rec, hls, []string{"flv", "mp4", "hls"}, 2, &c) // streams s0, s1
	got := map[string][]string{}
	for _, j := range jobs {
		got[j.stream+" "+j.format] = j.inputs
	}
	if in := got["s1 flv"]; len(in) != 1 || filepath.Base(in[0]) != "s1-1700000000.flv" {
		t.Errorf("s1 flv inputs %v: want s1's file only, not s10's", in)
	}
	if in := got["s1 hls"]; len(in) != 1 || in[0] != "concat:"+filepath.Join(hls, "s1-0.ts")+"|"+filepath.Join(hls, "s1-1.ts") {
		t.Errorf("s1 hls input %v", in)
	}
	issues := strings.Join(c.Issues, "\n")
	for _, want := range []string{"s0 flv: no s0-*.flv", "s0 mp4: no s0-*.mp4", "s0 hls: no playlist", "s1 hls: fragment s1-2.ts is not in the playlist"} {
		if !strings.Contains(issues, want) {
			t.Errorf("issues lack %q:\n%s", want, issues)
		}
	}
	if strings.Contains(issues, "s10") {
		t.Errorf("s10 is not among the 2 streams checked:\n%s", issues)
	}
}

func TestMediamtxAndLiverecJobs(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"mediamtx/live/s0/2026-01-01_00-00-00-000001.ts": "",
		"data/buckets/recordings/bench/live/s0/a.flv":    "", "data/buckets/recordings/bench/live/s0/a.m3u8": "",
		"data/spool/x/part": "",
	})
	var c checkResult
	if jobs := mediamtxJobs(filepath.Join(dir, "mediamtx"), "mpegts", 1, &c); len(jobs) != 1 || len(c.Issues) != 0 {
		t.Errorf("mediamtx jobs %v issues %v", jobs, c.Issues)
	}
	if mediamtxJobs(filepath.Join(dir, "mediamtx"), "fmp4", 1, &c); len(c.Issues) != 1 {
		t.Errorf("no .mp4: want one issue, got %v", c.Issues)
	}
	c = checkResult{}
	jobs := liverecJobs(filepath.Join(dir, "data"), []string{"flv", "mp4", "hls"}, 1, &c)
	if len(jobs) != 2 {
		t.Errorf("liverec jobs %v: want flv and hls", jobs)
	}
	issues := strings.Join(c.Issues, "\n")
	if !strings.Contains(issues, "spool:") || !strings.Contains(issues, "s0 mp4: no .mp4 file") {
		t.Errorf("issues:\n%s", issues)
	}
}

func TestShortInput(t *testing.T) {
	if got := shortInput("concat:/a/s0-0.ts|/a/s0-1.ts|/a/s0-2.ts"); got != "s0-0.ts…s0-2.ts (3 fragments)" {
		t.Errorf("shortInput: %q", got)
	}
	if got := shortInput("/a/b/x.flv"); got != "x.flv" {
		t.Errorf("shortInput: %q", got)
	}
}
