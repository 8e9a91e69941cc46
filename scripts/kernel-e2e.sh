#!/bin/bash
# kernel-e2e.sh - issue #9: a real Linux 6.1 kernel built with per-object BTF and btfkit
# as its BTF step, booted in qemu, and its own BTF accepted by BPF_BTF_LOAD.
#
# Variants (each in its own tree under $W/<variant>/linux):
#   std      the baseline: unmodified 6.1 Kbuild (pahole -J on .tmp_vmlinux.btf)
#   btfkit   per-object BTF (pahole --btf_encode after each C object) and
#            `btfkit dedup vmlinux.o init/version-timestamp.o` as the vmlinux BTF step
#            (scripts/kernel-e2e/btfkit-kbuild.patch)
#   nodwarf  the same patch, built with BTF_STRIP_DWARF=1: every object's DWARF is
#            stripped right after its BTF is encoded; vmlinux has BTF and no DWARF
#
# Then: each kernel boots in qemu-system-x86_64 (TCG) with an initramfs whose /init
# (scripts/kernel-e2e/init.c, static) loads /sys/kernel/btf/vmlinux with
# bpf(BPF_BTF_LOAD) and prints "BTFKIT-E2E: BTF_LOAD OK ..." or "... FAILED ...".
# The script fails unless every variant prints OK.  Measurements go to $W/results.md.
#
# Runs on Debian 12 (bookworm) as root.  Usage:
#   scripts/kernel-e2e.sh
# Environment:
#   W=dir             work dir (default: <repo>/target/kernel-e2e)
#   VARIANTS="..."    subset/order of: std btfkit nodwarf (default: all three)
#   JOBS=2            make -j
#   BTFKIT=path       the btfkit binary (default: cargo build --release in the repo)
#   SKIP_APT=1        do not apt-get install
#   SKIP_BUILD=1      do not (re)build kernels; use what is already built under $W
#   REBUILD=1         wipe and rebuild every selected variant from a fresh source tree
#   BOOT_TIMEOUT=300  seconds per qemu boot
# Every stage leaves a stamp ($W/<variant>/.stamp-*) and is skipped when it is present,
# so the script is restartable: rerun it after a failure and it goes on where it stopped.
set -euo pipefail
export LC_ALL=C

REPO=$(cd "$(dirname "$0")/.." && pwd)
E2E=$REPO/scripts/kernel-e2e
W=${W:-$REPO/target/kernel-e2e}
JOBS=${JOBS:-2}
VARIANTS=${VARIANTS:-"std btfkit nodwarf"}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
SRC_TAR=/usr/src/linux-source-6.1.tar.xz
# boot needs on top of the fixture config (../shared/fixtures/kernel-archive/config):
#   BLK_DEV_INITRD (the initramfs; olddefconfig then adds the RD_* decompressors by default,
#   unused here: the initramfs is an uncompressed cpio)
BOOT_CONFIG="BLK_DEV_INITRD"

log()  { echo "== $(date -u +%T) $*"; }
die()  { echo "kernel-e2e: ERROR: $*" >&2; exit 1; }
warn() { echo "kernel-e2e: WARNING: $*" >&2; }

mkdir -p "$W"
exec > >(tee -a "$W/kernel-e2e.log") 2>&1
log "kernel-e2e.sh start: W=$W VARIANTS='$VARIANTS' JOBS=$JOBS"

# ------------------------------------------------------------------ 1. packages
if [ "${SKIP_APT:-0}" != 1 ]; then
    log "apt-get install"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        linux-source-6.1 gcc make bc bison flex libssl-dev libelf-dev zlib1g-dev \
        dwarves cpio xz-utils binutils patch time python3 \
        qemu-system-x86 libbpf-dev bpftool >/dev/null
fi
for t in gcc make pahole objcopy readelf qemu-system-x86_64 /usr/bin/time patch; do
    command -v "$t" >/dev/null || die "$t is missing (run without SKIP_APT=1)"
done
[ -f "$SRC_TAR" ] || die "$SRC_TAR is missing (apt-get install linux-source-6.1)"

# ------------------------------------------------------------------ 2. btfkit
TOOLS=$W/tools
mkdir -p "$TOOLS"
if [ -z "${BTFKIT:-}" ]; then
    command -v cargo >/dev/null || die "no cargo: install Rust >= 1.85 (https://rustup.rs) or set BTFKIT=/path/to/btfkit"
    log "cargo build --release"
    (cd "$REPO" && cargo build --release -q)
    BTFKIT=$REPO/target/release/btfkit
fi
BTFKIT=$(readlink -f "$BTFKIT")
log "btfkit: $BTFKIT ($("$BTFKIT" --version 2>&1))"

# Smoke test of `btfkit dedup` on a two-object BTF archive made like the kernel's:
# two C objects, pahole --btf_encode on each, ld -r concatenates their .BTF.
smoke=$TOOLS/smoke
mkdir -p "$smoke"
printf 'struct s { int a; long b; };\nint f1(struct s *p) { return p->a; }\n' > "$smoke/a.c"
printf 'struct s { int a; long b; };\nstruct t { struct s *s; };\nlong f2(struct t *p) { return p->s->b; }\n' > "$smoke/b.c"
(cd "$smoke" && gcc -g -O2 -c a.c b.c && LLVM_OBJCOPY=objcopy pahole --btf_encode a.o &&
    LLVM_OBJCOPY=objcopy pahole --btf_encode b.o && ld -r -o ab.o a.o b.o)
BTF_TOOL=$BTFKIT
BTF_TOOL_NAME="btfkit $("$BTFKIT" --version 2>/dev/null | awk '{print $2}') ($(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?'))"
if ! "$BTFKIT" dedup "$smoke/ab.o" --detached "$smoke/ab.btf" > "$smoke/dedup.out" 2>&1; then
    echo "---- btfkit dedup on a 2-member archive failed:"; cat "$smoke/dedup.out"
    warn "================================================================"
    warn "FALLBACK: this btfkit has no working 'dedup' for BTF archives."
    warn "The vmlinux BTF step uses libbpf (btf__add_btf + btf__dedup) via"
    warn "scripts/kernel-e2e/btfkit-fallback.sh instead.  Results are NOT btfkit's."
    warn "================================================================"
    gcc -O2 -Wall -o "$TOOLS/libbpf-dedup" "$E2E/libbpf-dedup.c" -lbpf -lelf -lz
    export LIBBPF_DEDUP=$TOOLS/libbpf-dedup
    BTF_TOOL=$E2E/btfkit-fallback.sh
    BTF_TOOL_NAME="FALLBACK libbpf $(dpkg-query -W -f '${Version}' libbpf-dev 2>/dev/null) (btfkit dedup unavailable)"
    "$BTF_TOOL" dedup "$smoke/ab.o" --detached "$smoke/ab.btf" || die "fallback dedup failed too"
fi
log "vmlinux BTF step tool: $BTF_TOOL_NAME"
HAVE_DIFF=0
"$BTFKIT" diff --help >/dev/null 2>&1 && HAVE_DIFF=1

# ------------------------------------------------------------------ 3. source, initramfs
# One pristine unpacked tree; each variant gets a copy (cp -a is much faster than tar xJ).
PRISTINE=$W/src/linux-source-6.1
if [ ! -e "$W/src/.stamp-unpack" ]; then
    log "unpack $SRC_TAR"
    rm -rf "$W/src"; mkdir -p "$W/src"
    tar xf "$SRC_TAR" -C "$W/src"
    touch "$W/src/.stamp-unpack"
fi

# /init = init.c (static); the cpio is made by the kernel's own usr/gen_init_cpio.
INITRAMFS=$TOOLS/initramfs.cpio
if [ ! -s "$INITRAMFS" ] || [ "$E2E/init.c" -nt "$INITRAMFS" ]; then
    log "initramfs"
    gcc -static -O2 -Wall -o "$TOOLS/init" "$E2E/init.c"
    gcc -O2 -o "$TOOLS/gen_init_cpio" "$PRISTINE/usr/gen_init_cpio.c"
    cat > "$TOOLS/initramfs.list" <<EOF
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /sys 0755 0 0
dir /proc 0755 0 0
file /init $TOOLS/init 0755 0 0
EOF
    "$TOOLS/gen_init_cpio" "$TOOLS/initramfs.list" > "$INITRAMFS.tmp" && mv "$INITRAMFS.tmp" "$INITRAMFS"
fi

# ------------------------------------------------------------------ 4. kernels
fixture_config() {
    local c=$REPO/../shared/fixtures/kernel-archive/config
    if [ -f "$c" ]; then
        cmp -s "$c" "$E2E/config.fixture" || die "$c differs from scripts/kernel-e2e/config.fixture"
    fi
    echo "$E2E/config.fixture"
}

prepare() {   # $1 variant
    local v=$1 d=$W/$1
    if [ "${REBUILD:-0}" = 1 ] && [ ! -e "$d/.stamp-rebuilt-$$" ]; then
        rm -rf "$d"; mkdir -p "$d"; touch "$d/.stamp-rebuilt-$$"
    fi
    mkdir -p "$d"
    if [ ! -e "$d/.stamp-unpack" ]; then
        log "$v: copy the pristine source tree"
        rm -rf "$d/linux" "$d/linux-source-6.1"
        cp -a "$PRISTINE" "$d/linux"
        touch "$d/.stamp-unpack"
    fi
    if [ ! -e "$d/.stamp-patch" ]; then
        log "$v: patch"
        (
            cd "$d/linux"
            if [ "$v" != std ]; then
                patch -p1 --no-backup-if-mismatch < "$E2E/btfkit-kbuild.patch"
                # measurement only (not part of the patch): time the btfkit step
                sed -i 's|^\t${BTFKIT:-btfkit} dedup |\t/usr/bin/time -v -o .btf-step.time ${BTFKIT:-btfkit} dedup |' scripts/link-vmlinux.sh
            else
                sed -i 's|^\tLLVM_OBJCOPY="${OBJCOPY}" ${PAHOLE} -J |\tLLVM_OBJCOPY="${OBJCOPY}" /usr/bin/time -v -o .btf-step.time ${PAHOLE} -J |' scripts/link-vmlinux.sh
            fi
            grep -q 'time -v -o .btf-step.time' scripts/link-vmlinux.sh || die "$v: timing sed did not apply"
            # measurement only: wall time of the whole gen_btf step (link + BTF + objcopy)
            sed -i 's|^\tif ! gen_btf |\tdate +%s.%N > .gen_btf.t0\n&|; s|^kallsymso=""$|date +%s.%N > .gen_btf.t1\n&|' scripts/link-vmlinux.sh
            [ "$(grep -c 'gen_btf.t[01]' scripts/link-vmlinux.sh)" = 2 ] || die "$v: gen_btf timing sed did not apply"
        )
        touch "$d/.stamp-patch"
    fi
    if [ ! -e "$d/.stamp-config" ]; then
        log "$v: config"
        (
            cd "$d/linux"
            cp "$(fixture_config)" .config
            for o in $BOOT_CONFIG; do scripts/config --enable "$o"; done
            make -s olddefconfig
            for o in DEBUG_INFO_BTF BPF_SYSCALL $BOOT_CONFIG; do
                grep -q "^CONFIG_$o=y" .config || die "$v: CONFIG_$o=y lost"
            done
            diff <(grep '^CONFIG_' "$(fixture_config)" | sort) <(grep '^CONFIG_' .config | sort) \
                | grep '^[<>]' > ../config.added || true
        )
        touch "$d/.stamp-config"
    fi
}

tool_id() {   # what produces vmlinux's BTF in variant $1 (a relink follows when it changes)
    if [ "$1" = std ]; then echo "pahole $(pahole --version)"; else echo "$BTF_TOOL_NAME $(sha256sum < "$BTF_TOOL" | cut -c1-16)"; fi
}

build() {   # $1 variant
    local v=$1 d=$W/$1 extra=()
    [ "$v" = nodwarf ] && extra=(BTF_STRIP_DWARF=1)
    # (compare the last word: the binary's hash, or pahole's version)
    if [ -e "$d/.stamp-build" ] && [ "$(awk '{print $NF}' "$d/btf-tool" 2>/dev/null)" != "$(tool_id "$v" | awk '{print $NF}')" ]; then
        # Built, but its BTF came from another tool (e.g. the libbpf fallback before
        # `btfkit dedup` existed): redo only the link (link-vmlinux.sh), not the objects.
        log "$v: BTF tool changed ($(cat "$d/btf-tool" 2>/dev/null) -> $(tool_id "$v")): relink (log: $d/relink.log)"
        rm -f "$d/linux/vmlinux" "$d/linux/.btf-step.time" "$d/linux/.gen_btf.t0" "$d/linux/.gen_btf.t1" "$d/.stamp-boot"
        local r0 r1
        r0=$(date +%s.%N)
        BTFKIT=$BTF_TOOL make -C "$d/linux" -j"$JOBS" "${extra[@]}" vmlinux > "$d/relink.log" 2>&1 \
            || { tail -40 "$d/relink.log"; die "$v: relink failed"; }
        r1=$(date +%s.%N)
        echo "$r0 $r1" | awk '{printf "%.1f\n", $2-$1}' > "$d/relink.secs"
        BTFKIT=$BTF_TOOL make -C "$d/linux" -j"$JOBS" "${extra[@]}" bzImage >> "$d/relink.log" 2>&1 \
            || { tail -40 "$d/relink.log"; die "$v: bzImage failed"; }
        tool_id "$v" > "$d/btf-tool"
        return
    fi
    if [ -e "$d/.stamp-build" ]; then log "$v: already built (rm $d/.stamp-build to rebuild)"; return; fi
    [ "${SKIP_BUILD:-0}" = 1 ] && die "$v: not built and SKIP_BUILD=1"
    log "$v: make -j$JOBS vmlinux ${extra[*]} (log: $d/build.log)"
    rm -f "$d/linux/.pahole-failed" "$d/linux/.btf-step.time" "$d/linux/.gen_btf.t0" "$d/linux/.gen_btf.t1"
    local t0 t1
    t0=$(date +%s.%N)
    if ! BTFKIT=$BTF_TOOL /usr/bin/time -v -o "$d/build.time" \
            make -C "$d/linux" -j"$JOBS" "${extra[@]}" vmlinux > "$d/build.log" 2>&1; then
        tail -40 "$d/build.log"; die "$v: kernel build failed"
    fi
    t1=$(date +%s.%N)
    echo "$t0 $t1" | awk '{printf "%.1f\n", $2-$1}' > "$d/build.secs"
    log "$v: vmlinux built in $(cat "$d/build.secs") s; make bzImage"
    BTFKIT=$BTF_TOOL make -C "$d/linux" -j"$JOBS" "${extra[@]}" bzImage >> "$d/build.log" 2>&1 \
        || { tail -40 "$d/build.log"; die "$v: bzImage failed"; }
    rm -f "$d/relink.log" "$d/relink.secs"
    tool_id "$v" > "$d/btf-tool"
    touch "$d/.stamp-build"
}

check() {   # $1 variant: properties of the built vmlinux
    local v=$1 d=$W/$1 k=$W/$1/linux
    log "$v: checks"
    objcopy --dump-section .BTF="$d/vmlinux.btf" "$k/vmlinux" "$d/junk.o" && rm -f "$d/junk.o"
    local unres linklog=$d/build.log
    [ -e "$d/relink.log" ] && linklog=$d/relink.log
    unres=$(grep -c 'unresolved symbol' "$linklog" || true)
    echo "$unres" > "$d/unresolved"
    [ "$unres" = 0 ] || { grep 'unresolved symbol' "$linklog" | head; die "$v: resolve_btfids: $unres unresolved symbol warnings"; }
    grep -q 'BTFIDS  *vmlinux' "$linklog" || die "$v: resolve_btfids did not run"
    # one BTF, not an archive: the header's lengths cover the whole section
    python3 - "$d/vmlinux.btf" <<'EOF' || die "$v: vmlinux .BTF is not exactly one BTF"
import struct, sys
b = open(sys.argv[1], 'rb').read()
magic, ver, flags, hl, to, tl, so, sl = struct.unpack_from('<HBBIIIII', b)
end = hl + max(to + tl, so + sl)
assert magic == 0xeb9f, hex(magic)
if end != len(b):
    sys.exit(f"{sys.argv[1]}: first BTF ends at {end}, section is {len(b)} bytes (archive?)")
EOF
    readelf -SW "$k/vmlinux" | grep -E ' \.BTF ' | sed 's/^ *//' > "$d/btf.shdr"
    readelf -SW "$k/vmlinux" | grep -c ' \.debug_' > "$d/debug.sections" || true
    if [ "$v" = nodwarf ]; then
        [ "$(cat "$d/debug.sections")" = 0 ] || { readelf -SW "$k/vmlinux" | grep ' \.debug_'; die "nodwarf: vmlinux still has DWARF"; }
    fi
    if [ "$v" != std ]; then
        [ -s "$k/.pahole-failed" ] && warn "$v: pahole failed on $(wc -l < "$k/.pahole-failed") objects (no per-object BTF): $(tr '\n' ' ' < "$k/.pahole-failed")"
    fi
    "$BTFKIT" stat "$k/vmlinux" > "$d/stat.txt" 2>&1 || warn "$v: btfkit stat failed: $(cat "$d/stat.txt")"
    echo "---- btfkit stat $k/vmlinux"; cat "$d/stat.txt"
}

boot() {   # $1 variant
    local v=$1 d=$W/$1
    if [ -e "$d/.stamp-boot" ] && [ "$d/.stamp-boot" -nt "$d/linux/arch/x86/boot/bzImage" ]; then
        log "$v: already booted: $(grep -a 'BTFKIT-E2E: BTF_LOAD' "$d/boot.log" | tr -d '\r')"; return
    fi
    log "$v: boot in qemu (TCG, timeout ${BOOT_TIMEOUT}s)"
    local rc=0
    timeout "$BOOT_TIMEOUT" qemu-system-x86_64 -machine pc,accel=tcg -cpu max -m 512 -smp 1 \
        -nographic -monitor none -serial stdio -no-reboot \
        -kernel "$d/linux/arch/x86/boot/bzImage" -initrd "$INITRAMFS" \
        -append "console=ttyS0 panic=-1 oops=panic" < /dev/null > "$d/boot.log" 2>&1 || rc=$?
    tr -d '\r' < "$d/boot.log" | grep -a -E 'BTFKIT-E2E|Linux version|BTF|Kernel panic' || true
    [ "$rc" = 124 ] && warn "$v: qemu timed out after ${BOOT_TIMEOUT}s"
    grep -a -q 'BTFKIT-E2E: BTF_LOAD OK' "$d/boot.log" || { tail -30 "$d/boot.log"; die "$v: the kernel did not accept its own BTF"; }
    # /sys/kernel/btf/vmlinux is vmlinux's .BTF (what `btfkit stat` above read on the host)
    local booted
    booted=$(tr -d '\r' < "$d/boot.log" | sed -n 's/.*BTF_LOAD OK fd=[0-9]* size=\([0-9]*\).*/\1/p' | head -1)
    [ "$booted" = "$(stat -c %s "$d/vmlinux.btf")" ] || die "$v: booted BTF is $booted bytes, vmlinux's .BTF $(stat -c %s "$d/vmlinux.btf")"
    touch "$d/.stamp-boot"
}

for v in $VARIANTS; do
    case $v in std|btfkit|nodwarf) ;; *) die "unknown variant $v" ;; esac
    prepare "$v"
    build "$v"
    check "$v"
    boot "$v"
done

# ------------------------------------------------------------------ 5. measurements
log "measurements"
tv() { awk -F': ' -v k="$2" '$1 ~ k {print $2}' "$1" | head -1 | sed 's/^ *//'; }   # /usr/bin/time -v field
wall_s() { tv "$1" 'Elapsed \\(wall clock\\)' | awk -F: '{ s=0; for (i=1;i<=NF;i++) s=s*60+$i; printf "%.1f", s }'; }
R=$W/results.md
{
    echo "Run: \`scripts/kernel-e2e.sh\` ($(date -u +%FT%TZ), VARIANTS='$VARIANTS', make -j$JOBS, $(nproc) CPUs)"
    echo
    echo "Toolchain: $(dpkg-query -W -f '${Package} ${Version}; ' linux-source-6.1 dwarves gcc-12 binutils qemu-system-x86 2>/dev/null)pahole $(pahole --version)."
    echo "vmlinux BTF step of btfkit/nodwarf: $BTF_TOOL_NAME."
    echo
    echo "Boot verdicts (serial console of qemu-system-x86_64, TCG):"
    echo
    echo '```'
    for v in $VARIANTS; do
        printf '%-8s %s\n' "$v:" "$(tr -d '\r' < "$W/$v/boot.log" | grep -a 'BTFKIT-E2E: BTF_LOAD' | head -1)"
    done
    echo '```'
    echo
    echo "| | $(for v in $VARIANTS; do printf '%s | ' "$v"; done)"
    echo "|---|$(for v in $VARIANTS; do printf -- '---|'; done)"
    row() { printf '| %s | ' "$1"; shift; for v in $VARIANTS; do printf '%s | ' "$("$@" "$v")"; done; echo; }
    f_build()  { cat "$W/$1/build.secs"; }
    f_step()   { wall_s "$W/$1/linux/.btf-step.time"; }
    f_gen()    { awk '{printf "%.1f", $1}' <(paste "$W/$1/linux/.gen_btf.t1" "$W/$1/linux/.gen_btf.t0" | awk '{print $1-$2}'); }
    f_rss()    { echo "$(( $(tv "$W/$1/linux/.btf-step.time" 'Maximum resident set size') / 1024 )) MiB"; }
    f_steptool() { if [ "$1" = std ]; then echo "pahole -J"; else echo "btfkit dedup"; fi; }
    f_objs()   { find "$W/$1/linux" -name '*.o' ! -name vmlinux.o -printf '%s\n' | awk '{s+=$1} END {printf "%\047d", s}'; }
    f_nobjs()  { find "$W/$1/linux" -name '*.o' ! -name vmlinux.o | wc -l; }
    f_vmo()    { stat -c %s "$W/$1/linux/vmlinux.o" | xargs printf "%'d"; }
    f_vml()    { stat -c %s "$W/$1/linux/vmlinux" | xargs printf "%'d"; }
    f_bzi()    { stat -c %s "$W/$1/linux/arch/x86/boot/bzImage" | xargs printf "%'d"; }
    f_btf()    { stat -c %s "$W/$1/vmlinux.btf" | xargs printf "%'d"; }
    f_dbg()    { cat "$W/$1/debug.sections"; }
    f_unres()  { cat "$W/$1/unresolved"; }
    f_tool()   { cat "$W/$1/btf-tool" 2>/dev/null | sed 's/ [0-9a-f]\{16\}$//'; }
    f_relink() { cat "$W/$1/relink.secs" 2>/dev/null || echo -; }
    f_cpu()    { awk -F': ' '/User time|System time/ {s+=$2} END {printf "%.1f", s}' "$1"; }
    f_bcpu()   { f_cpu "$W/$1/build.time"; }
    f_scpu()   { f_cpu "$W/$1/linux/.btf-step.time"; }
    row "vmlinux BTF made by" f_tool
    row "build of vmlinux, wall (s)" f_build
    row "build of vmlinux, CPU user+sys (s)" f_bcpu
    row "relink only (BTF tool changed), wall (s)" f_relink
    row "BTF step tool" f_steptool
    row "BTF step alone, wall (s)" f_step
    row "BTF step alone, CPU user+sys (s)" f_scpu
    row "BTF step peak RSS" f_rss
    row "gen_btf in link-vmlinux.sh, wall (s) (std: incl. .tmp_vmlinux.btf link)" f_gen
    row "object files (*.o but vmlinux.o)" f_nobjs
    row "bytes of those *.o" f_objs
    row "bytes of vmlinux.o" f_vmo
    row "bytes of vmlinux" f_vml
    row "bytes of bzImage" f_bzi
    row "bytes of vmlinux .BTF" f_btf
    row ".debug_* sections in vmlinux" f_dbg
    row "resolve_btfids unresolved symbols" f_unres
    echo
    echo "Configuration added to the fixture config (for booting; \`< fixture\`, \`> used\`):"
    echo
    echo '```'
    cat "$W/$(echo $VARIANTS | awk '{print $1}')/config.added"
    echo '```'
    for v in $VARIANTS; do
        echo
        echo "\`btfkit stat\` of $v's vmlinux:"
        echo
        echo '```'
        cat "$W/$v/stat.txt"
        echo '```'
    done
    case " $VARIANTS " in *" std "*)
        for v in $VARIANTS; do
            [ "$v" = std ] && continue
            echo
            if [ "$HAVE_DIFF" = 1 ]; then
                echo "\`btfkit diff\` std/vmlinux.btf $v/vmlinux.btf:"
                echo
                echo '```'
                "$BTFKIT" diff "$W/std/vmlinux.btf" "$W/$v/vmlinux.btf" > "$W/diff-std-$v.txt" 2>&1 || true
                head -c 20000 "$W/diff-std-$v.txt"
                echo '```'
            fi
            if command -v bpftool >/dev/null; then
                echo "Types per kind (bpftool btf dump file), std vs $v:"
                echo
                echo '```'
                for x in std $v; do
                    bpftool btf dump file "$W/$x/vmlinux.btf" > "$W/$x/bpftool.raw.txt"
                    echo "$x: $(grep -o '^\[[0-9]*\] [A-Z_0-9]*' "$W/$x/bpftool.raw.txt" | awk '{print $2}' | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')"
                done
                echo '```'
            fi
        done ;;
    esac
} > "$R"
cat "$R"
log "done: all of '$VARIANTS' booted and accepted their own BTF; results in $R"
