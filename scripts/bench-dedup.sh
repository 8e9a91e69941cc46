#!/usr/bin/env bash
# Whole-process comparison of `btfkit dedup` and libbpf 1.7's add_btf+dedup
# (examples/libbpf_dedup.rs through libbpf-sys), side by side in one run:
# same bytes first, then wall time (hyperfine) and peak RSS (/usr/bin/time).
# Usage: scripts/bench-dedup.sh            (host vmlinux x4, and the kernel archive when ../shared exists)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)"; exit 1; }
cargo build --release -q
cargo build --release -q --example libbpf_dedup
B=target/release/btfkit
L=target/release/examples/libbpf_dedup
T=target/bench-dedup; mkdir -p "$T"
V=/sys/kernel/btf/vmlinux
cases=("vmlinux-x4:$V $V $V $V")
if [ -f ../shared/fixtures/kernel-archive/archive.btf.xz ]; then
  A=target/fixtures/kernel-archive/archive.btf
  [ -f "$A" ] || { mkdir -p "$(dirname "$A")"; xz -dc ../shared/fixtures/kernel-archive/archive.btf.xz > "$A"; }
  cases+=("kernel-archive:$A")
fi
for c in "${cases[@]}"; do
  name=${c%%:*}; ins=${c#*:}
  echo "== $name"
  $B dedup $ins -o "$T/$name.btfkit" 2>/dev/null
  $L "$T/$name.libbpf" $ins
  cmp "$T/$name.btfkit" "$T/$name.libbpf" && echo "same bytes ($(stat -c %s "$T/$name.btfkit") bytes)"
  for t in 1 2; do
    /usr/bin/time -f "btfkit (RAYON_NUM_THREADS=$t): %e s, %M KB max RSS" env RAYON_NUM_THREADS=$t $B dedup $ins -o "$T/x" 2>&1 | grep max
  done
  /usr/bin/time -f "libbpf 1.7: %e s, %M KB max RSS" $L "$T/y" $ins 2>&1 | grep max
  hyperfine -N -w 1 -r 10 "env RAYON_NUM_THREADS=1 $B dedup $ins -o $T/x" "$B dedup $ins -o $T/x" "$L $T/y $ins" 2>&1 | grep -E "Benchmark|Time|±|faster"
done
