#!/usr/bin/env bash
# Cost of the kernel-level checks: `btfkit stat FILE --validate kernel` now vs. the btfkit of
# the commit before issue #13's verifier was merged (585ca19, whose kernel level had only the
# old partial checks), built once under target/bench-old/.
# Primary metric: instructions (callgrind's Ir: every thread's user-space instructions, not
# disturbed by other load on the machine); then wall time (hyperfine, interleaved runs), which
# on a loaded or 2-core machine is only indicative.
# Usage: scripts/bench-validate.sh [BTF_FILE] [OLD_COMMIT]   (default /sys/kernel/btf/vmlinux, 585ca19)
set -euo pipefail
cd "$(dirname "$0")/.."
F=${1:-/sys/kernel/btf/vmlinux}
OLD_COMMIT=${2:-585ca19}
OLD_DIR=target/bench-old/$OLD_COMMIT
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 1; }
if [ ! -x "$OLD_DIR/target/release/btfkit" ]; then
  mkdir -p "$OLD_DIR"
  git archive "$OLD_COMMIT" | tar -x -C "$OLD_DIR"
  (cd "$OLD_DIR" && CARGO_TARGET_DIR="$PWD/target" cargo build --release -q --bin btfkit)
fi
cargo build --release -q --bin btfkit
NEW=target/release/btfkit
OLD=$OLD_DIR/target/release/btfkit
# Same output first.
cmp <($OLD stat "$F" --validate kernel) <($NEW stat "$F" --validate kernel)
ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : //p'; }
o=$(ir "$OLD" stat "$F" --validate kernel)
n=$(ir "$NEW" stat "$F" --validate kernel)
d=$(ir "$NEW" stat "$F")
echo "instructions (callgrind Ir, all threads):"
echo "  old ($OLD_COMMIT) stat --validate kernel: $o"
echo "  new stat --validate kernel:            $n   ratio $(awk "BEGIN{printf \"%.3f\", $n/$o}")"
echo "  new stat (default, libbpf level):      $d   ratio $(awk "BEGIN{printf \"%.3f\", $d/$o}")"
if command -v hyperfine >/dev/null; then
  hyperfine -N -w 3 -r "${RUNS:-30}" --export-json target/bench-validate.json \
    "$OLD stat $F --validate kernel" "$NEW stat $F --validate kernel" >/dev/null
  python3 - <<'PY'
import json
r = json.load(open("target/bench-validate.json"))["results"]
o, n = r[0], r[1]
print("wall time (hyperfine, %d runs each; load average at the start: %s):" % (len(o["times"]), open("/proc/loadavg").read().split()[0]))
for name, x in (("old", o), ("new", n)):
    print("  %s: mean %.2f ms +- %.2f, median %.2f ms, min %.2f ms" % (name, x["mean"]*1e3, x["stddev"]*1e3, x["median"]*1e3, x["min"]*1e3))
print("  ratio of medians %.3f, of minimums %.3f" % (n["median"]/o["median"], n["min"]/o["min"]))
PY
fi
