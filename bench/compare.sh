#!/usr/bin/env bash
# Side-by-side benchmark liverec vs nginx-rtmp (bench/README.md). Runs as root: it installs
# nginx, libnginx-mod-rtmp and ffmpeg with apt when missing and mounts a tmpfs.
# Example: bench/compare.sh --n 10,100 --runs 3
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p /tmp/liverec-bench
(cd "$repo" && go build -o /tmp/liverec-bench/compare ./bench/compare)
exec /tmp/liverec-bench/compare --repo "$repo" "$@"
