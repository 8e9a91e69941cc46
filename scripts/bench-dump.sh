#!/usr/bin/env bash
# Whole-process comparison of btfkit and bpftool dumping the same BTF, side by side in one run.
# Usage: scripts/bench-dump.sh [BTF_FILE]   (default /sys/kernel/btf/vmlinux)
set -euo pipefail
cd "$(dirname "$0")/.."
F=${1:-/sys/kernel/btf/vmlinux}
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)"; exit 1; }
cargo build --release -q
B=target/release/btfkit
# Same bytes first: a benchmark of different outputs means nothing.
cmp <($B dump "$F") <(bpftool btf dump file "$F")
cmp <($B dump "$F" --format json) <(bpftool -j btf dump file "$F")
hyperfine -N -w 3 -r 20 \
  "$B dump $F" "bpftool btf dump file $F" \
  "$B dump $F --format json" "bpftool -j btf dump file $F"
