#!/usr/bin/env bash
# Whole-process comparison of `btfkit dedup` and libbpf 1.7's add_btf+dedup
# (examples/libbpf_dedup.rs through libbpf-sys), side by side in one run.
# For every input: same bytes first, then RUNS rounds of [btfkit with 1
# thread, btfkit with 2 threads, libbpf], interleaved so that other load on
# the machine hits all three alike; median wall time and max peak RSS
# (/usr/bin/time) go into a markdown table.
#
# Inputs: the kernel archive x1, x4 and x16 (the archive file repeated,
# written under target/bench-dedup/) when ../shared exists, and the host
# vmlinux given 4 times.
#
# Usage: scripts/bench-dedup.sh [--quick]     (--quick: x1 and vmlinux x4 only)
#   RUNS=N (default 3) rounds per input; THREADS="1 2" thread counts for btfkit
#   (RAYON_NUM_THREADS); libbpf is single-threaded.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = --quick ] && quick=1
RUNS=${RUNS:-3}
THREADS=${THREADS:-"1 2"}
cargo build --release -q
cargo build --release -q --example libbpf_dedup
B=target/release/btfkit
L=target/release/examples/libbpf_dedup
T=target/bench-dedup; mkdir -p "$T"
V=/sys/kernel/btf/vmlinux
cases=()
if [ -f ../shared/fixtures/kernel-archive/archive.btf.xz ]; then
  A=target/fixtures/kernel-archive/archive.btf
  [ -f "$A" ] || { mkdir -p "$(dirname "$A")"; xz -dc ../shared/fixtures/kernel-archive/archive.btf.xz > "$A"; }
  cases+=("archive x1:$A")
  if [ $quick = 0 ]; then
    for n in 4 16; do
      f=$T/archive-x$n.btf
      if [ ! -f "$f" ] || [ "$(stat -c %s "$f")" != $(( $(stat -c %s "$A") * n )) ]; then
        for _ in $(seq $n); do cat "$A"; done > "$f"
      fi
      cases+=("archive x$n:$f")
    done
  fi
fi
cases+=("vmlinux x4:$V $V $V $V")

# run NAME CMD... -> appends "wall_s rss_kb" to $T/NAME.times
run() {
  local name=$1; shift
  /usr/bin/time -o "$T/time.tmp" -f "%e %M" "$@" >/dev/null 2>"$T/stderr.tmp" || { cat "$T/stderr.tmp"; exit 1; }
  cat "$T/time.tmp" >> "$T/$name.times"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
maxcol() { awk -v c="$1" 'BEGIN{m=0} {if ($c>m) m=$c} END {print m}'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
rows=()
for c in "${cases[@]}"; do
  name=${c%%:*}; ins=${c#*:}; key=${name// /_}
  $B dedup $ins -o "$T/$key.btfkit" 2>"$T/stderr.tmp" || { cat "$T/stderr.tmp"; exit 1; }
  counts=$(grep -o 'types [0-9]* -> [0-9]*' "$T/stderr.tmp" | sed 's/types //; s/->/→/')
  $L "$T/$key.libbpf" $ins
  cmp "$T/$key.btfkit" "$T/$key.libbpf" || { echo "$name: btfkit and libbpf differ"; exit 1; }
  echo "== $name: $counts types, same bytes as libbpf ($(stat -c %s "$T/$key.btfkit") bytes)"
  rm -f "$T/$key".*.times
  for _ in $(seq "$RUNS"); do
    for t in $THREADS; do run "$key.t$t" env RAYON_NUM_THREADS=$t $B dedup $ins -o "$T/x"; done
    run "$key.libbpf" $L "$T/y" $ins
  done
  lt=$(cut -d' ' -f1 "$T/$key.libbpf.times" | median); lm=$(maxcol 2 < "$T/$key.libbpf.times")
  cells=""
  for t in $THREADS; do
    bt=$(cut -d' ' -f1 "$T/$key.t$t.times" | median); bm=$(maxcol 2 < "$T/$key.t$t.times")
    cells+=$(awk -v bt="$bt" -v lt="$lt" -v bm="$bm" 'BEGIN{printf "%.2f s (%.2fx), %d MiB | ", bt, lt/bt, bm/1024}')
    echo "$name btfkit $t thread(s): $(tr '\n' ' ' < "$T/$key.t$t.times")(wall s, RSS KB per run)"
  done
  echo "$name libbpf: $(tr '\n' ' ' < "$T/$key.libbpf.times")"
  rows+=("| $name | $counts | $cells$(awk -v lt="$lt" -v lm="$lm" 'BEGIN{printf "%.2f s, %d MiB", lt, lm/1024}') |")
done
echo
hdr="| input | types in → out |"; sep="|---|---|"
for t in $THREADS; do hdr+=" btfkit, $t thread(s) |"; sep+="---|"; done
echo "$hdr libbpf 1.7 (1 thread) |"
echo "$sep---|"
printf '%s\n' "${rows[@]}"
echo
echo "median wall time of $RUNS interleaved runs (ratio: libbpf time / btfkit time), max peak RSS; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
