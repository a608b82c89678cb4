#!/usr/bin/env bash
# Benchmark of liverec against nginx-rtmp and MediaMTX on equal work (bench/README.md). Runs as
# root: it installs nginx, libnginx-mod-rtmp and ffmpeg with apt when missing and mounts a tmpfs.
# Examples: bench/compare.sh --n 10,100 --runs 3
#           bench/compare.sh --plot-from a.json,b.json --plot all.svg
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p /tmp/liverec-bench
(cd "$repo" && go build -o /tmp/liverec-bench/compare ./bench/compare)
exec /tmp/liverec-bench/compare --repo "$repo" "$@"
