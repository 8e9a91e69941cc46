#!/bin/bash
# derive-from-std.sh VARIANT - make the btfkit or nodwarf tree of the kernel e2e from the
# built std tree instead of compiling the kernel again (issue #15, used for the 6.12 run
# on a machine too loaded for three kernel builds before a deadline).
#
# The patched build (btfkit-kbuild[-6.12].patch) differs from std's only in what
# cmd_cc_o_c does after each compile: `pahole --btf_encode` on the C object (and, for
# nodwarf, `objcopy --strip-debug`, also after each asm object).  This script runs the
# same commands, with the same flags, on std's objects as one batch after the build:
#   - C objects: every object whose .cmd says it was compiled from a .c by the kernel's
#     cmd_cc_o_c (-nostdinc -D__KERNEL__ ... -c -o X.o X.c); failures go to .pahole-failed
#     as in the patch;
#   - nodwarf: then objcopy --strip-debug on those and on the asm objects (cmd_as_o_S).
# One difference: in the patch, pahole runs before objtool, here after it (objtool adds
# ORC and other sections, no symbols pahole's function set uses in this config).
# Then the tree is marked built with a BTF tool that does not match, so kernel-e2e.sh
# relinks it with the patched link step (run it with KBUILD_NOCMDDEP=1 so that make does
# not recompile every object because cmd_cc_o_c's text changed).
#
# FROM=btfkit (nodwarf only): start from the built btfkit tree instead, whose objects the
# patched make already gave their per-object BTF (pahole before objtool, as in a nodwarf
# build); only the strip runs: objcopy --strip-debug on the C and asm objects, the
# <module>.mod.o files and each module's ld -r object (<module>.o, listed in modules.order).
# The per-object flags: 6.12 prints them from scripts/Makefile.btf (PAHOLE_FLAGS without -j,
# plus --btf_features=global_var, as its patch does); 6.1 takes scripts/pahole-flags.sh's
# output unchanged, as its patch passes $(PAHOLE_FLAGS).
#
# Usage: KVER=6.12 scripts/kernel-e2e/derive-from-std.sh btfkit|nodwarf
#        then: KBUILD_NOCMDDEP=1 KVER=6.12 VARIANTS=btfkit SKIP_APT=1 scripts/kernel-e2e.sh
#        FROM=btfkit scripts/kernel-e2e/derive-from-std.sh nodwarf   (6.1, after btfkit is built)
set -euo pipefail
export LC_ALL=C
REPO=$(cd "$(dirname "$0")/../.." && pwd)
KVER=${KVER:-6.1}
v=${1:?usage: derive-from-std.sh btfkit|nodwarf}
case $v in btfkit|nodwarf) ;; *) echo "derive-from-std.sh: btfkit or nodwarf" >&2; exit 1 ;; esac
if [ "$KVER" = 6.1 ]; then W=${W:-$REPO/target/kernel-e2e}; else W=${W:-$REPO/target/kernel-e2e-$KVER}; fi
JOBS=${JOBS:-2}
[ -n "${PAHOLE:-}" ] && export PATH=$(dirname "$(readlink -f "$PAHOLE")"):$PATH
[ -x "$W/tools/dwarves/bin/pahole" ] && [ "$KVER" != 6.1 ] && export PATH=$W/tools/dwarves/bin:$PATH
FROM=${FROM:-std}
case $FROM/$v in std/*|btfkit/nodwarf) ;; *) echo "derive-from-std.sh: FROM=btfkit makes nodwarf only" >&2; exit 1 ;; esac
s=$W/$FROM d=$W/$v
[ -e "$s/.stamp-build" ] || { echo "derive-from-std.sh: $s is not built" >&2; exit 1; }
echo "== $(date -u +%T) $v: copy the $FROM tree ($(pahole --version))"
# (rsync: a tree copied earlier, e.g. while std was still building, is only brought up to date)
rm -f "$d"/.stamp-* "$d/btf-tool" "$d/build.secs" "$d/build.time" "$d/relink.secs" "$d/relink.log" "$d/encode.time" "$d/strip.time"
mkdir -p "$d/linux"
rsync -a --delete "$s/linux/" "$d/linux/"
cp "$s/config.added" "$d/"
k=$d/linux
cd "$k"
rm -f vmlinux .btf-step.time .gen_btf.t0 .gen_btf.t1
[ "$FROM" = std ] && rm -f .pahole-failed
# std's module objects made by ld -r (<module>.o of a multi-object module, 6.1) hold no
# per-object BTF: remove them, so that the relink makes them again from the encoded objects
if [ "$FROM" = std ] && [ -f modules.order ]; then
    sed -n 's/\.ko$/.o/p' modules.order | while read -r o; do
        c=$(dirname "$o")/.$(basename "$o").cmd
        if [ -f "$c" ] && head -1 "$c" | grep -q ' -r -o '; then rm -f "$o"; fi
    done
fi
# The per-object flags of the patch.  6.12: $(filter-out -j,$(PAHOLE_FLAGS))
# --btf_features=global_var, PAHOLE_FLAGS as scripts/Makefile.btf makes them for this pahole
# (printed by make).  6.1: $(PAHOLE_FLAGS), scripts/pahole-flags.sh's output.
if [ -f scripts/Makefile.btf ]; then
flags="$(make -s --no-print-directory -f - <<'EOF'
include include/config/auto.conf
include scripts/Kbuild.include
include scripts/Makefile.compiler
srctree := .
include scripts/Makefile.btf
all: ; @echo '$(filter-out -j,$(PAHOLE_FLAGS))'
EOF
) --btf_features=global_var"
else
    flags=$(PAHOLE=pahole sh scripts/pahole-flags.sh)
fi
echo "per-object flags: $flags"
# objects of cmd_cc_o_c / cmd_as_o_S: the first word after -c -o in savedcmd, and its source
# (6.1's .cmd files say cmd_<target>, 6.12's savedcmd_<target>)
find . -name '.*.o.cmd' -print0 | xargs -0 awk 'FNR == 1 && /^(saved)?cmd_/ && / -nostdinc / && / -D__KERNEL__ / {
    if (match($0, / -c -o [^ ]+ [^ ]+\.(c|S)( |$)/)) {
        split(substr($0, RSTART, RLENGTH), w, " ")
        print w[3], w[4]
    }
}' > "$d/objects.txt"
# (modules, issue #15: their objects are compiled by the same cmd_cc_o_c and get their
# per-object BTF too; <module>.mod.o and .module-common.o are compiled by
# Makefile.modfinal's own cmd_cc_o_c, which has no pahole: no BTF, only the nodwarf strip)
grep '\.c$' "$d/objects.txt" | awk '{print $1}' | while read -r o; do [ -f "$o" ] && echo "$o"; done > "$d/cc-objects.txt"
grep -v -E '(\.mod|(^|/)\.module-common)\.o$' "$d/cc-objects.txt" > "$d/c-objects.txt" || true
grep -E '(\.mod|(^|/)\.module-common)\.o$' "$d/cc-objects.txt" > "$d/modfinal-objects.txt" || true
grep '\.S$' "$d/objects.txt" | awk '{print $1}' | while read -r o; do [ -f "$o" ] && echo "$o"; done > "$d/asm-objects.txt"
echo "$(wc -l < "$d/c-objects.txt") C objects ($(grep -c -F -x -f modules.order "$d/c-objects.txt" || true) of them modules themselves), $(wc -l < "$d/asm-objects.txt") asm objects, $(wc -l < "$d/modfinal-objects.txt") Makefile.modfinal objects"
export flags
t0=$(date +%s.%N)
# shellcheck disable=SC2016
# (<module>.mod.o is compiled by Makefile.modfinal's cmd_cc_o_c, which has no pahole step)
if [ "$FROM" = std ]; then
    grep -v '\.mod\.o$' "$d/c-objects.txt" | /usr/bin/time -v -o "$d/encode.time" xargs -P "$JOBS" -n 16 sh -c '
        for o; do
            LLVM_OBJCOPY=objcopy pahole --btf_encode $flags "$o" > /dev/null 2>&1 \
                || echo "$o" >> .pahole-failed
        done' sh
fi
if [ "$v" = nodwarf ]; then
    # (and each module's ld -r object, which a nodwarf build links from stripped objects;
    # 6.1's modules.order lists .ko files, 6.12's .o)
    { cat "$d/c-objects.txt" "$d/asm-objects.txt" "$d/modfinal-objects.txt"
      if [ -f modules.order ]; then
          sed 's/\.ko$//; s/\.o$//; s/$/.o/' modules.order | while read -r o; do [ -f "$o" ] && echo "$o"; done
      fi
    } | sort -u | /usr/bin/time -v -o "$d/strip.time" xargs -P "$JOBS" -n 1 objcopy --strip-debug
fi
t1=$(date +%s.%N)
echo "$t0 $t1" | awk '{printf "%.1f\n", $2-$1}' > "$d/encode.secs"
cpu() { if [ -f "$1" ]; then awk -F': ' '/User time|System time/ {s+=$2} END {printf "%.1f", s}' "$1"; else echo -; fi; }
echo "== $(date -u +%T) $v: per-object step in $(cat "$d/encode.secs") s wall; CPU: pahole $(cpu "$d/encode.time") s, strip $(cpu "$d/strip.time") s; pahole failed on $(wc -l < .pahole-failed 2>/dev/null || echo 0)"
# The host tools (objtool, resolve_btfids, ...) record absolute paths, so make rebuilds
# them in the copy, and every object depends on objtool: build them now and then give
# the objects a newer mtime, so that make only relinks (objects unchanged in content).
make -C "$k" -j"$JOBS" KBUILD_NOCMDDEP=1 prepare > "$d/derive-prepare.log" 2>&1 \
    || { tail -20 "$d/derive-prepare.log"; echo "derive-from-std.sh: make prepare failed" >&2; exit 1; }
find "$k" -name '*.o' ! -path "$k/tools/*" -exec touch {} +
# A module of several objects (<module>.o = ld -r of them, e.g. fs/ext4/ext4.o) must be
# linked again from its objects, now with their .BTF: remove it (the touch above gives no
# order among the objects).  A module of one object is that object (it got its BTF above).
if [ -s modules.order ]; then
    while read -r m; do
        m=${m%.ko}; m=${m%.o}.o   # (6.1's modules.order lists .ko files, 6.12's .o)
        [ -f "$m" ] && [ -f "$(dirname "$m")/.$(basename "$m").cmd" ] || continue
        head -1 "$(dirname "$m")/.$(basename "$m").cmd" | grep -q -e ' -c -o ' || rm -f "$m"
    done < modules.order
    rm -f $(find . -name '*.ko' ! -path './tools/*')
fi
# marked as built by another tool: kernel-e2e.sh patches the tree and relinks it
cp "$s/build.secs" "$d/build.secs"; cp "$s/build.time" "$d/build.time"
if [ -f "$s/modules.time" ]; then cp "$s/modules.time" "$d/modules.time"; cp "$s/modules.secs" "$d/modules.secs"; fi
echo "derived from $FROM $(date -u +%FT%TZ) 0" > "$d/btf-tool"
touch "$d/.stamp-unpack" "$d/.stamp-config" "$d/.stamp-build"
echo "== $(date -u +%T) $v: ready; now KBUILD_NOCMDDEP=1 KVER=$KVER VARIANTS=$v scripts/kernel-e2e.sh"
