package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

const (
	nginxName    = "nginx-rtmp"
	liverecName  = "liverec"
	mediamtxName = "mediamtx"
)

// allServers in the order a run pair runs them: the peer first, then liverec.
var allServers = []string{nginxName, mediamtxName, liverecName}

// benchSet is a unit of equal work: the files every server of the set records per stream.
type benchSet struct {
	Name string
	// Peer is the server liverec is compared with on this work.
	Peer string
	// LiverecFormats are the formats of liverec's rule (flv, mp4, hls).
	LiverecFormats []string
	// nginx-rtmp: FLV always (`record all`); HLS through its hls module; MP4 the way its users
	// make it, by remuxing the finished FLV with ffmpeg from exec_record_done.
	NginxHLS, NginxMP4 bool
	// MediamtxFormat is MediaMTX's recordFormat (fmp4 or mpegts).
	MediamtxFormat string
}

var allSets = []benchSet{
	{Name: "flv", Peer: nginxName, LiverecFormats: []string{"flv"}},
	{Name: "flv+hls", Peer: nginxName, LiverecFormats: []string{"flv", "hls"}, NginxHLS: true},
	{Name: "flv+mp4+hls", Peer: nginxName, LiverecFormats: []string{"flv", "mp4", "hls"}, NginxHLS: true, NginxMP4: true},
	{Name: "mp4", Peer: mediamtxName, LiverecFormats: []string{"mp4"}, MediamtxFormat: "fmp4"},
	{Name: "ts", Peer: mediamtxName, LiverecFormats: []string{"hls"}, MediamtxFormat: "mpegts"},
}

const defaultSets = "flv,flv+hls,flv+mp4+hls,mp4,ts"

// parseSets resolves --sets.
func parseSets(s string) ([]benchSet, error) {
	var out []benchSet
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(allSets, func(b benchSet) bool { return b.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("--sets: unknown set %q (known: %s)", name, defaultSets)
		}
		if slices.ContainsFunc(out, func(b benchSet) bool { return b.Name == name }) {
			return nil, fmt.Errorf("--sets: %q twice", name)
		}
		out = append(out, allSets[i])
	}
	return out, nil
}

// parseServers resolves --servers.
func parseServers(s string) ([]string, error) {
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(allServers, name) {
			return nil, fmt.Errorf("--servers: unknown server %q (known: %s)", name, strings.Join(allServers, ","))
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// servers returns the servers of the set that --servers keeps, peer first.
func (s benchSet) servers(keep []string) []string {
	var out []string
	for _, k := range []string{s.Peer, liverecName} {
		if slices.Contains(keep, k) {
			out = append(out, k)
		}
	}
	return out
}

// formats returns what server records in this set, as the file check names them.
func (s benchSet) formats(server string) []string {
	switch server {
	case liverecName:
		return s.LiverecFormats
	case nginxName:
		f := []string{"flv"}
		if s.NginxMP4 {
			f = append(f, "mp4")
		}
		if s.NginxHLS {
			f = append(f, "hls")
		}
		return f
	case mediamtxName:
		return []string{s.MediamtxFormat}
	}
	return nil
}

// describe says in a few words what server does in this set, for the report.
func (s benchSet) describe(server string) string {
	switch server {
	case liverecName:
		var parts []string
		for _, f := range s.LiverecFormats {
			switch f {
			case "hls":
				parts = append(parts, "HLS (10 s MPEG-TS slices + playlist)")
			default:
				parts = append(parts, strings.ToUpper(f))
			}
		}
		return "one rule: " + strings.Join(parts, " + ")
	case nginxName:
		d := "FLV (`record all`)"
		if s.NginxMP4 {
			d += " + MP4 (`exec_record_done` → `ffmpeg -c copy`)"
		}
		if s.NginxHLS {
			d += " + HLS (`hls on`, 10 s fragments, `hls_cleanup off`)"
		}
		return d
	case mediamtxName:
		if s.MediamtxFormat == "mpegts" {
			return "MPEG-TS (`recordFormat: mpegts`)"
		}
		return "fragmented MP4 (`recordFormat: fmp4`)"
	}
	return ""
}

// nginxParams is what an nginx.conf of a run needs.
type nginxParams struct {
	module, pidFile, errorLog string
	port, conns               int
	recDir                    string
	hlsDir                    string        // "": no HLS
	playlist                  time.Duration // hls_playlist_length
	recordDone                string        // "": no exec_record_done; else the command and its arguments
}

// nginxConf renders nginx.conf: one worker (the RTMP module is built for one: with several, a
// stream's publisher and its recorder may land on different workers), app "live".
func nginxConf(p nginxParams) string {
	var app strings.Builder
	fmt.Fprintf(&app, "            live on;\n            record all;\n            record_path %s;\n            record_unique on;\n", p.recDir)
	if p.hlsDir != "" {
		fmt.Fprintf(&app, "            hls on;\n            hls_path %s;\n            hls_fragment 10s;\n"+
			"            hls_playlist_length %ds;\n            hls_cleanup off;\n", p.hlsDir, int(math.Ceil(p.playlist.Seconds())))
	}
	if p.recordDone != "" {
		fmt.Fprintf(&app, "            exec_record_done %s;\n", p.recordDone)
	}
	return fmt.Sprintf(`# generated by bench/compare
load_module %s;
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile %d;
pid %s;
error_log %s warn;
events { worker_connections %d; }
rtmp {
    server {
        listen 127.0.0.1:%d;
        chunk_size 4096;
        application live {
%s        }
    }
}
`, p.module, 4*p.conns, p.pidFile, p.errorLog, p.conns, p.port, app.String())
}

// hlsPlaylistLength keeps every fragment of a recording of d in nginx-rtmp's playlist (its
// fragments stretch to the next keyframe, hence the margin).
func hlsPlaylistLength(d time.Duration) time.Duration {
	return d*2 + time.Minute
}

// remuxWrapper is the bash script nginx-rtmp's exec_record_done runs: the remux its users
// configure (`ffmpeg -y -i $path -c copy $dirname/$basename.mp4`), then bash's `times` (a
// builtin: it runs in this shell, whose children are the ffmpeg) into timesDir/BASENAME, which
// the benchmark sums. The file appears by rename, so a reader never sees half of it.
func remuxWrapper(ffmpeg, timesDir, errLog string) string {
	return fmt.Sprintf(`#!/bin/bash
# generated by bench/compare; arguments: $path $dirname $basename of the finished FLV
%s -nostdin -loglevel error -y -i "$1" -c copy "$2/$3.mp4" 2>>%s
rc=$?
out=%s/"$3"
echo "rc $rc" >"$out.tmp"
times >>"$out.tmp"
mv "$out.tmp" "$out"
`, shellQuote(ffmpeg), shellQuote(errLog), shellQuote(timesDir))
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// liverecConf renders liverec's config: one rule for app "live" recording formats, each one
// file per stream for the whole run (cycle 12 h), no merge window, 10 s HLS slices.
func liverecConf(n int, formats []string) string {
	const tmpl = "bench/{AppName}/{StreamName}/{EscapedStartTime}"
	const slice = "bench/{AppName}/{StreamName}/{UnixTimestamp}_{Sequence}"
	var fs strings.Builder
	for _, f := range formats {
		if f == "hls" {
			fmt.Fprintf(&fs, "      - {format: hls, cycle_s: 43200, slice_s: 10, merge_window_s: 0, object_template: %q, slice_template: %q}\n", tmpl, slice)
			continue
		}
		fmt.Fprintf(&fs, "      - {format: %s, cycle_s: 43200, merge_window_s: 0, object_template: %q}\n", f, tmpl)
	}
	return fmt.Sprintf(`# generated by bench/compare
log:
  level: warn
ingest:
  max_conns: %d
rules:
  - domain: 127.0.0.1
    app: live
    stream: "*"
    mode: auto
    formats:
%s    storage: {endpoint: local, bucket: recordings}
`, n+100, fs.String())
}

// mediamtxConf renders MediaMTX's config (keys of v1.20): RTMP on 127.0.0.1:port and no other
// listener, anyone may publish, every path recorded in format (fmp4 or mpegts) under recDir,
// one segment per stream for the run.
func mediamtxConf(port int, recDir, format string) string {
	return fmt.Sprintf(`# generated by bench/compare
logLevel: warn
logDestinations: [stdout]
authMethod: internal
authInternalUsers:
  - user: any
    pass:
    ips: []
    permissions:
      - action: publish
        path:
api: false
metrics: false
pprof: false
playback: false
rtsp: false
rtmp: true
rtmpEncryption: "no"
rtmpAddress: 127.0.0.1:%d
hls: false
webrtc: false
srt: false
moq: false
pathDefaults:
  record: true
  recordPath: %s/%%path/%%Y-%%m-%%d_%%H-%%M-%%S-%%f
  recordFormat: %s
  recordPartDuration: 1s
  recordSegmentDuration: 1h
  recordDeleteAfter: 0s
paths:
  all_others:
`, port, recDir, format)
}
