#!/usr/bin/env bash
# Module BTF: `pahole -J --btf_base vmlinux` per module (what kbuild's
# scripts/Makefile.modfinal runs) against btfkit, side by side on copies of the
# same modules.
#
# Usage: scripts/bench-modules.sh MODULE_DIR VMLINUX
#   MODULE_DIR: a built tree whose .ko files still have DWARF and the per-object
#     BTF archive in .BTF (a `<m>.ko.prebtf` next to a .ko is taken instead of
#     it: the module as it was before the BTF step).
#   VMLINUX: the base (ELF with .BTF, or raw BTF).
#   Environment: PAHOLE (default pahole), PAHOLE_FLAGS (e.g. "--btf_gen_floats
#     --lang_exclude=rust"), BTFKIT (default target/release/btfkit), BTFKIT_FLAGS
#     (e.g. --kfunc-tags), JOBS (default nproc), RUNS (default 1), OUT (default
#     target/bench-modules).
#
# Variants, each on a fresh copy of the modules:
#   pahole-seq     one pahole per module, one after the other (kbuild at -j1)
#   pahole-P       the same through xargs -P JOBS (kbuild at -jJOBS)
#   btfkit-seq     one btfkit per module, one after the other
#   btfkit-P       one btfkit per module through xargs -P JOBS
#   btfkit-each    ONE btfkit run over all modules (--each -j JOBS)
# Wall time, CPU time (user+sys) and the peak RSS of the largest single process
# (/usr/bin/time -v). Then every btfkit module is compared with pahole's by
# `btfkit diff -B` and checked by `btfkit verify -B`.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,25p' "$0"; exit 2; }
MODDIR=$1
VMLINUX=$(realpath "$2")
cd "$(dirname "$0")/.."
PAHOLE=${PAHOLE:-pahole}
PAHOLE_FLAGS=${PAHOLE_FLAGS:-}
BTFKIT=$(realpath "${BTFKIT:-target/release/btfkit}")
BTFKIT_FLAGS=${BTFKIT_FLAGS:-}
JOBS=${JOBS:-$(nproc)}
RUNS=${RUNS:-1}
OUT=${OUT:-target/bench-modules}
[ -x "$BTFKIT" ] || cargo build --release -q
rm -rf "$OUT"
mkdir -p "$OUT/src"
OUT=$(realpath "$OUT")

# The modules, flattened into one folder (names made unique by their path).
n=0
while IFS= read -r ko; do
  src=$ko
  [ -f "$ko.prebtf" ] && src=$ko.prebtf
  rel=${ko#"$MODDIR"/}
  cp "$src" "$OUT/src/${rel//\//__}"
  n=$((n + 1))
done < <(find "$MODDIR" -name '*.ko' | sort)
[ $n -gt 0 ] || { echo "no .ko files under $MODDIR" >&2; exit 2; }
total=$(du -sb "$OUT/src" | cut -f1)
echo "modules: $n ($((total / 1024)) KiB) from $MODDIR; base $VMLINUX; JOBS=$JOBS; $($PAHOLE --version); btfkit $($BTFKIT --version | cut -d' ' -f2)"

export PAHOLE PAHOLE_FLAGS BTFKIT BTFKIT_FLAGS VMLINUX LLVM_OBJCOPY=${LLVM_OBJCOPY:-objcopy}
one_pahole='$PAHOLE -J $PAHOLE_FLAGS --btf_base "$VMLINUX" "$0" >/dev/null'
one_btfkit='$BTFKIT dedup --kernel $BTFKIT_FLAGS -B "$VMLINUX" --in-place "$0" 2>/dev/null'
declare -A cmd=(
  [pahole-seq]="for f in *.ko; do sh -c '$one_pahole' \"\$f\"; done"
  [pahole-P]="ls *.ko | xargs -P $JOBS -n 1 sh -c '$one_pahole'"
  [btfkit-seq]="for f in *.ko; do sh -c '$one_btfkit' \"\$f\"; done"
  [btfkit-P]="ls *.ko | xargs -P $JOBS -n 1 sh -c '$one_btfkit'"
  [btfkit-each]="\$BTFKIT dedup --kernel \$BTFKIT_FLAGS -B \"\$VMLINUX\" --in-place --each -j $JOBS *.ko 2>\"$OUT/each.log\""
)
order=(pahole-seq pahole-P btfkit-seq btfkit-P btfkit-each)
printf '\n| variant | wall s | CPU s (user+sys) | peak RSS MiB (largest process) |\n|---|---|---|---|\n'
for run in $(seq "$RUNS"); do
  for v in "${order[@]}"; do
    rm -rf "$OUT/$v"
    cp -r "$OUT/src" "$OUT/$v"
    sync
    (cd "$OUT/$v" && /usr/bin/time -v -o "$OUT/$v.time" bash -c "${cmd[$v]}") || echo "$v: failed (see $OUT/$v.time)" >&2
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s}' "$OUT/$v.time")
    cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.2f", u + s}' "$OUT/$v.time")
    rss=$(awk -F': ' '/Maximum resident/ {printf "%.1f", $2 / 1024}' "$OUT/$v.time")
    echo "| $v (run $run) | $wall | $cpu | $rss |"
  done
done

# Same BTF by structure as pahole's, and accepted by the kernel's rules.
same=0 differ=0 accepted=0 rejected=0
for f in "$OUT/src"/*.ko; do
  m=$(basename "$f")
  if "$BTFKIT" diff -B "$VMLINUX" "$OUT/btfkit-each/$m" "$OUT/pahole-seq/$m" >"$OUT/diff.$m.txt" 2>&1; then
    same=$((same + 1))
  else
    differ=$((differ + 1))
  fi
  if "$BTFKIT" verify -B "$VMLINUX" "$OUT/btfkit-each/$m" >/dev/null 2>&1; then
    accepted=$((accepted + 1))
  else
    rejected=$((rejected + 1))
  fi
done
echo
echo "btfkit vs pahole (btfkit diff -B): $same equivalent, $differ different (details: $OUT/diff.<module>.txt)"
echo "btfkit verify -B (kernel's rules): $accepted accepted, $rejected rejected"
for v in btfkit-seq btfkit-P; do
  if diff -rq "$OUT/btfkit-each" "$OUT/$v" >/dev/null; then
    echo "$v: same bytes as btfkit-each"
  else
    echo "$v: DIFFERENT bytes from btfkit-each"
  fi
done
