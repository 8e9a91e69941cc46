#!/bin/bash
# kernel-e2e.sh - issues #9 and #14: a real Linux 6.1 kernel built with per-object BTF and
# btfkit as its BTF step, booted in qemu; its own BTF accepted by BPF_BTF_LOAD, and real
# BPF programs, compiled against that kernel's BTF, loaded and run on it.
#
# Variants (each in its own tree under $W/<variant>/linux):
#   std      the baseline: unmodified 6.1 Kbuild (pahole -J on .tmp_vmlinux.btf)
#   btfkit   per-object BTF (pahole --btf_encode after each C object) and
#            `btfkit dedup --kernel vmlinux.o init/version-timestamp.o` as the vmlinux BTF
#            step (scripts/kernel-e2e/btfkit-kbuild.patch)
#   nodwarf  the same patch, built with BTF_STRIP_DWARF=1: every object's DWARF is
#            stripped right after its BTF is encoded; vmlinux has BTF and no DWARF
#   btfkit-mod, nodwarf-mod  (issue #15) the modules only: std's vmlinux and bzImage, the
#            modules compiled with per-object BTF (nodwarf-mod: and without DWARF) and their
#            BTF step by `btfkit dedup --kernel -B vmlinux --in-place` over std's vmlinux BTF
#            (build_modonly); a quarter of a full build, and each module's BTF compares
#            with std's over the same base
#   merge    the btfkit (or nodwarf) tree's objects relinked (merge_link) with the plain
#            `btfkit dedup` merge, without --kernel: libbpf's merge of the per-object BTF,
#            one .data..percpu DATASEC per object.  The negative control: BPF programs
#            that use per-CPU variables must fail on it as described below.
#
# Then: each kernel boots in qemu-system-x86_64 (TCG) with its own initramfs, whose /init
# (scripts/kernel-e2e/init.c, static, libbpf linked in)
#   - loads /sys/kernel/btf/vmlinux with bpf(BPF_BTF_LOAD): "BTFKIT-E2E: BTF_LOAD OK ...";
#   - (issue #15; not merge) loads the 28 modules with finit_module, checks each one's
#     /sys/kernel/btf/<module> ("BTFKIT-E2E: MODULE <name> OK ..."), runs the programs of
#     scripts/kernel-e2e/bpf/mod.bpf.c on module BTF (module per-CPU variables, fentry/fexit
#     on an ext4 function, a module type through CO-RE);
#   - loads and runs the programs of scripts/kernel-e2e/bpf/e2e.bpf.c, compiled with
#     `clang -target bpf -O2 -g` against the vmlinux.h that `btfkit dump --format c` made
#     from that kernel's BTF, one verdict line each ("BTFKIT-E2E: PROG <name> ...").
# judge() checks every line against what the variant must show (on merge: the failures);
# the script fails otherwise.  Measurements and verdicts go to $W/results.md.
#
# Runs on Debian 12 (bookworm) as root.  Usage:
#   scripts/kernel-e2e.sh
# Environment:
#   KVER=6.1          kernel version: 6.1 (default) or 6.12 (scripts/kernel-e2e/kver-6.12.sh:
#                     its work dir target/kernel-e2e-6.12, pahole 1.30 from DWARVES_SRC or PAHOLE)
#   W=dir             work dir (default: <repo>/target/kernel-e2e)
#   VARIANTS="..."    subset/order of: std btfkit nodwarf merge btfkit-mod nodwarf-mod (default:
#                     std btfkit nodwarf merge; the -mod variants need std before them;
#                     merge relinks the btfkit tree, so btfkit must come before it)
#   MERGE_FROM=btfkit the tree merge relinks: btfkit, or nodwarf (the per-object BTF of both
#                     is the same; default: btfkit if in VARIANTS, else nodwarf if in VARIANTS)
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
JOBS=${JOBS:-2}
VARIANTS=${VARIANTS:-"std btfkit nodwarf merge"}
case " $VARIANTS " in
    *" btfkit "*) MERGE_FROM=${MERGE_FROM:-btfkit} ;;
    *" nodwarf "*) MERGE_FROM=${MERGE_FROM:-nodwarf} ;;
    *) MERGE_FROM=${MERGE_FROM:-btfkit} ;;
esac
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
# boot needs on top of the fixture config (../shared/fixtures/kernel-archive/config):
#   BLK_DEV_INITRD (the initramfs; olddefconfig then adds the RD_* decompressors by default,
#   unused here: the initramfs is an uncompressed cpio)
BOOT_CONFIG="BLK_DEV_INITRD"
# what the BPF programs of /init need (docs/KERNEL-E2E.md, "Config"):
#   KALLSYMS, KALLSYMS_ALL  check_pseudo_btf_id() finds a `__ksym` variable's address with
#                           kallsyms_lookup_name(), which sees data symbols only with _ALL
#   FTRACE, UPROBE_EVENTS   the menu and one probe-event kind, the only way to BPF_EVENTS
#                           without MODULES (KPROBES depends on MODULES in 6.1); they select
#                           TRACING and TRACEPOINTS
#   BPF_EVENTS              raw tracepoints and the btf_trace_* typedefs: tp_btf programs
# BPF_PROG_TYPE_SYSCALL and BPF_PROG_TEST_RUN come with BPF_SYSCALL and NET (in the fixture).
# No BPF_JIT (it depends on MODULES in 6.1): programs run in the interpreter, which is why
# fentry (a JIT trampoline on x86) is not used, tp_btf is.
BPF_CONFIG="KALLSYMS KALLSYMS_ALL FTRACE UPROBE_EVENTS BPF_EVENTS"
# modules (issue #15; docs/KERNEL-E2E.md, "Config"):
#   MODULES, MODULE_UNLOAD  loadable modules (finit_module in /init)
#   DEBUG_INFO_BTF_MODULES  each .ko gets split BTF over vmlinux (Makefile.modfinal's BTF step)
#   BPF_JIT                 depends on MODULES in 6.1; fentry/fexit need its trampolines
#   FUNCTION_TRACER         -mfentry: every function starts with the 5-byte nop that a BPF
#   DYNAMIC_FTRACE          trampoline is attached to (through ftrace's direct calls:
#                           DYNAMIC_FTRACE_WITH_DIRECT_CALLS follows from these on x86)
MODULE_CONFIG="MODULES MODULE_UNLOAD DEBUG_INFO_BTF_MODULES BPF_JIT FUNCTION_TRACER DYNAMIC_FTRACE"
# built as modules (=m): ext4 (with what it selects: jbd2, mbcache, crc16, crypto, crypto_hash,
# crypto_algapi, crc32c_generic, libcryptoutils; its mballoc.c has a per-CPU variable,
# discard_pa_seq), drop_monitor (two per-CPU variables), and small ones of other subsystems:
# 28 modules in all
MODULES_M="EXT4_FS NET_DROP_MONITOR BLK_DEV_LOOP FUSE_FS CONFIGFS_FS ISO9660_FS MSDOS_FS VFAT_FS
    NLS NLS_CODEPAGE_437 NLS_ISO8859_1 NLS_UTF8 CRC_CCITT CRC_ITU_T CRC7 CRC8 CRC4 CRC64 LIBCRC32C"

# ---- kernel version (issue #15): KVER=6.1 (default) or 6.12.  Another version brings
# scripts/kernel-e2e/kver-$KVER.sh, which sets what differs (work dir, patch, config,
# packages, pahole) and may define kver_tools (run after apt-get).
KVER=${KVER:-6.1}
SRC_TAR=/usr/src/linux-source-$KVER.tar.xz
PATCH=$E2E/btfkit-kbuild.patch
GEN_BTF_END='^kallsymso=""$'   # (measurement) the line after gen_btf's block in link-vmlinux.sh
KVER_APT=""
# (bench_modules) the module BTF steps outside kbuild use the flags that the version's
# Makefile.modfinal gives them: pahole's (PAHOLE_FLAGS) and btfkit's (the patch)
MOD_PAHOLE_FLAGS=""
MOD_BTFKIT_FLAGS=""
kver_tools() { :; }
if [ "$KVER" != 6.1 ]; then
    [ -f "$E2E/kver-$KVER.sh" ] || { echo "kernel-e2e: ERROR: no scripts/kernel-e2e/kver-$KVER.sh" >&2; exit 1; }
    . "$E2E/kver-$KVER.sh"
fi
W=${W:-$REPO/target/kernel-e2e}
# ---- end of kernel version

log()  { echo "== $(date -u +%T) $*"; }
modonly() { case $1 in *-mod) true ;; *) false ;; esac; }
# Modules are part of a variant's run (not of merge's), unless the version's file turns them
# off (kver-6.12.sh: E2E_MODULES=0, its config has MODULES off).
with_modules() { [ "$1" != merge ] && [ "${E2E_MODULES:-1}" = 1 ]; }
nodwarf_build() { case $1 in nodwarf|nodwarf-mod) true ;; *) false ;; esac; }
die()  { echo "kernel-e2e: ERROR: $*" >&2; exit 1; }
warn() { echo "kernel-e2e: WARNING: $*" >&2; }

mkdir -p "$W"
exec > >(tee -a "$W/kernel-e2e.log") 2>&1
log "kernel-e2e.sh start: KVER=$KVER W=$W VARIANTS='$VARIANTS' JOBS=$JOBS"

# ------------------------------------------------------------------ 1. packages
if [ "${SKIP_APT:-0}" != 1 ]; then
    log "apt-get install"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        linux-source-$KVER $KVER_APT gcc make bc bison flex libssl-dev libelf-dev zlib1g-dev \
        dwarves cpio xz-utils binutils patch time python3 kmod \
        qemu-system-x86 libbpf-dev bpftool clang >/dev/null
fi
kver_tools
for t in gcc make pahole objcopy readelf qemu-system-x86_64 /usr/bin/time patch clang python3; do
    command -v "$t" >/dev/null || die "$t is missing (run without SKIP_APT=1)"
done
[ -f "$SRC_TAR" ] || die "$SRC_TAR is missing (apt-get install linux-source-$KVER)"

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
# Module BTF (Makefile.modfinal: `btfkit dedup --kernel -B vmlinux --in-place <module>.ko`).
# A btfkit without it still builds the btfkit/nodwarf trees: a wrapper skips the module step
# (the .ko files keep their archive), the variants are not checked or booted, and a rerun
# with a btfkit that has it relinks them (vmlinux's link, then each .ko's link and BTF step).
MOD_OK=1
if ! "$BTFKIT" dedup --help 2>/dev/null | grep -q -- '--each'; then
    MOD_OK=0
    warn "this btfkit has no 'dedup --each' (the module BTF CLI of issue #15): the btfkit/nodwarf trees are built without the module BTF step, not booted"
    printf '#!/bin/sh\n# btfkit without the module BTF step (kernel-e2e.sh: this btfkit has no dedup --each)\nfor a; do [ "$a" = --in-place ] && { echo "btfkit-nomod: module BTF step skipped" >&2; exit 0; }; done\nexec %s "$@"\n' \
        "$BTF_TOOL" > "$TOOLS/btfkit-nomod"
    chmod +x "$TOOLS/btfkit-nomod"
    BTF_TOOL=$TOOLS/btfkit-nomod
    BTF_TOOL_NAME="$BTF_TOOL_NAME (no module BTF step)"
fi
log "vmlinux BTF step tool: $BTF_TOOL_NAME"
HAVE_DIFF=0
"$BTFKIT" diff --help >/dev/null 2>&1 && HAVE_DIFF=1

# ------------------------------------------------------------------ 3. source, initramfs
# One pristine unpacked tree; each variant gets a copy (cp -a is much faster than tar xJ).
PRISTINE=$W/src/linux-source-$KVER
if [ ! -e "$W/src/.stamp-unpack" ]; then
    log "unpack $SRC_TAR"
    rm -rf "$W/src"; mkdir -p "$W/src"
    tar xf "$SRC_TAR" -C "$W/src"
    touch "$W/src/.stamp-unpack"
fi

# /init = init.c, static, with libbpf (libbpf-dev's libbpf.a), libelf and zlib linked in.
# Each variant's initramfs (made by bpf_progs below) holds it and that variant's BPF object;
# the cpio is made by the kernel's own usr/gen_init_cpio.
if [ ! -x "$TOOLS/init" ] || [ "$E2E/init.c" -nt "$TOOLS/init" ] || [ "$E2E/bpf/e2e.h" -nt "$TOOLS/init" ]; then
    log "/init (static, libbpf $(dpkg-query -W -f '${Version}' libbpf-dev 2>/dev/null))"
    gcc -static -O2 -Wall -I"$E2E" -o "$TOOLS/init.tmp" "$E2E/init.c" -lbpf -lelf -lz
    mv "$TOOLS/init.tmp" "$TOOLS/init"
fi
[ -x "$TOOLS/gen_init_cpio" ] || gcc -O2 -o "$TOOLS/gen_init_cpio" "$PRISTINE/usr/gen_init_cpio.c"

# ------------------------------------------------------------------ 4. kernels
fixture_config() {
    local c=$REPO/../shared/fixtures/kernel-archive/config
    if [ -f "$c" ]; then
        cmp -s "$c" "$E2E/config.fixture" || die "$c differs from scripts/kernel-e2e/config.fixture"
    fi
    echo "$E2E/config.fixture"
}

patch_id() { if [ "$1" = std ]; then echo none; else echo "$1 $(sha256sum < "$PATCH" | cut -c1-16)"; fi; }
patch_has_kernel() { grep -q '^+.*btfkit} dedup .*--kernel' "$PATCH"; }

prepare() {   # $1 variant
    local v=$1 d=$W/$1
    if [ "${REBUILD:-0}" = 1 ] && [ ! -e "$d/.stamp-rebuilt-$$" ]; then
        rm -rf "$d"; mkdir -p "$d"; touch "$d/.stamp-rebuilt-$$"
    fi
    mkdir -p "$d"
    if [ ! -e "$d/.stamp-unpack" ]; then
        log "$v: copy the pristine source tree"
        rm -rf "$d/linux" "$d/linux-source-$KVER"
        cp -a "$PRISTINE" "$d/linux"
        touch "$d/.stamp-unpack"
    fi
    if [ "$(cat "$d/.stamp-patch" 2>/dev/null)" != "$(patch_id "$v")" ]; then
        log "$v: patch ($(patch_id "$v"))"
        local files f
        files="scripts/link-vmlinux.sh scripts/Makefile.modfinal $(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$PATCH" | grep -v -E '^scripts/(link-vmlinux.sh|Makefile.modfinal)$')"
        rm -rf "$d/patched"
        (
            # patch copies of the pristine files (the tree may carry an older patch); the
            # tree's files are replaced below only where they differ (mtimes stay otherwise)
            for f in $files; do mkdir -p "$d/patched/$(dirname "$f")"; cp -p "$PRISTINE/$f" "$d/patched/$f"; done
            cd "$d/patched"
            if [ "$v" != std ]; then
                patch -p1 --no-backup-if-mismatch < "$PATCH"
                # measurement only (not part of the patch): time the btfkit step
                sed -i 's|^\t${BTFKIT:-btfkit} dedup |\t/usr/bin/time -v -o .btf-step.time ${BTFKIT:-btfkit} dedup |' scripts/link-vmlinux.sh
            else
                sed -i 's|^\tLLVM_OBJCOPY="${OBJCOPY}" ${PAHOLE} -J |\tLLVM_OBJCOPY="${OBJCOPY}" /usr/bin/time -v -o .btf-step.time ${PAHOLE} -J |' scripts/link-vmlinux.sh
            fi
            grep -q 'time -v -o .btf-step.time' scripts/link-vmlinux.sh || die "$v: timing sed did not apply"
            # measurement only: time each module's BTF step (<module>.ko.btf-step.time), and
            # keep the .ko as it was before it (<module>.ko.prebtf: with its .BTF archive in
            # the btfkit variants), for the batch benchmarks and for btfkit diff
            if [ "$v" != std ]; then
                # (6.12's has more flags between --kernel and -B: MOD_BTFKIT_FLAGS)
                sed -i 's|^\(\t*\)$${BTFKIT:-btfkit} dedup --kernel \([^;]*\)-B vmlinux --in-place $@;|\1cp $@ $@.prebtf; /usr/bin/time -v -o $@.btf-step.time $${BTFKIT:-btfkit} dedup --kernel \2-B vmlinux --in-place $@;|' scripts/Makefile.modfinal
            else
                # (6.12 has $(MODULE_PAHOLE_FLAGS) before --btf_base: distilled_base, for external modules only)
                sed -i 's|^\(\t*\)LLVM_OBJCOPY="$(OBJCOPY)" $(PAHOLE) -J $(PAHOLE_FLAGS) \($(MODULE_PAHOLE_FLAGS) \)\{0,1\}--btf_base vmlinux $@;|\1cp $@ $@.prebtf; LLVM_OBJCOPY="$(OBJCOPY)" /usr/bin/time -v -o $@.btf-step.time $(PAHOLE) -J $(PAHOLE_FLAGS) \2--btf_base vmlinux $@;|' scripts/Makefile.modfinal
            fi
            grep -q 'time -v -o $@.btf-step.time' scripts/Makefile.modfinal || die "$v: module timing sed did not apply"
            # measurement only: wall time of the whole gen_btf step (link + BTF + objcopy)
            sed -i 's|^\tif ! gen_btf |\tdate +%s.%N > .gen_btf.t0\n&|'"; s|$GEN_BTF_END|date +%s.%N > .gen_btf.t1\n&|" scripts/link-vmlinux.sh
            [ "$(grep -c 'gen_btf.t[01]' scripts/link-vmlinux.sh)" = 2 ] || die "$v: gen_btf timing sed did not apply"
        )
        for f in $files; do cmp -s "$d/patched/$f" "$d/linux/$f" || cp "$d/patched/$f" "$d/linux/$f"; done
        rm -rf "$d/patched"
        patch_id "$v" > "$d/.stamp-patch"
    fi
    if [ ! -e "$d/.stamp-config" ]; then
        log "$v: config"
        (
            cd "$d/linux"
            cp "$(fixture_config)" .config
            for o in $BOOT_CONFIG $BPF_CONFIG $MODULE_CONFIG; do scripts/config --enable "$o"; done
            for o in $MODULES_M; do scripts/config --module "$o"; done
            make -s olddefconfig
            for o in DEBUG_INFO_BTF BPF_SYSCALL NET TRACEPOINTS $BOOT_CONFIG $BPF_CONFIG $MODULE_CONFIG \
                    DYNAMIC_FTRACE_WITH_DIRECT_CALLS; do
                grep -q "^CONFIG_$o=y" .config || die "$v: CONFIG_$o=y lost"
            done
            for o in $MODULES_M; do grep -q "^CONFIG_$o=m" .config || die "$v: CONFIG_$o=m lost"; done
            diff <(grep '^CONFIG_' "$(fixture_config)" | sort) <(grep '^CONFIG_' .config | sort) \
                | grep '^[<>]' > ../config.added || true
        )
        touch "$d/.stamp-config"
    fi
}

tool_id() {   # what produces vmlinux's BTF in variant $1 (a relink follows when it changes)
    # (the last word, compared by build(): a hash of the binary and of the link step: the
    # tree's link-vmlinux.sh, or for merge the patch it is made from)
    local how="dedup --kernel"
    { [ "$1" = merge ] || ! patch_has_kernel; } && how="dedup (plain merge)"
    if [ "$1" = std ]; then echo "pahole $(pahole --version)"
    else
        local step
        if [ "$1" = merge ]; then step=$(patch_id merge); else step=$(cat "$W/$1/linux/scripts/link-vmlinux.sh" "$W/$1/linux/scripts/Makefile.modfinal" | sha256sum); fi
        echo "$BTF_TOOL_NAME $how $( (sha256sum < "$BTF_TOOL"; echo "$step") | sha256sum | cut -c1-16)"
    fi
}

build() {   # $1 variant
    local v=$1 d=$W/$1 extra=()
    if modonly "$v"; then build_modonly "$v"; return; fi
    nodwarf_build "$v" && extra=(BTF_STRIP_DWARF=1)
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
        if with_modules "$v"; then modules "$v" relink; fi
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
    if with_modules "$v"; then modules "$v" build; fi
    rm -f "$d/relink.log" "$d/relink.secs" "$d/modules-relink.secs" "$d/modules-relink.time"
    tool_id "$v" > "$d/btf-tool"
    touch "$d/.stamp-build"
}

# Module-only variants (btfkit-mod, nodwarf-mod): phase 1 compiles the modules in the
# variant's tree (patched, same config as std) without vmlinux, so Makefile.modfinal links
# each .ko and skips its BTF step ($d/modules.time); phase 2 takes std's vmlinux, bzImage,
# vmlinux.o (modpost's input) and vmlinux.symvers and redoes each .ko's link and BTF step,
# with btfkit over std's vmlinux BTF ($d/modules-relink.time), like a relink.
# With DEBUG_INFO_BTF_MODULES, `make modules` builds vmlinux first (the top Makefile sets
# KBUILD_BUILTIN and `modules: vmlinux`); `KBUILD_BUILTIN= -o vmlinux` (MODONLY_MAKE)
# builds the modules only and takes vmlinux as it is.
MODONLY_MAKE=(KBUILD_BUILTIN= -o vmlinux)
build_modonly() {   # $1 variant
    local v=$1 d=$W/$1 k=$W/$1/linux extra=() s=$W/std/linux f
    nodwarf_build "$v" && extra=(BTF_STRIP_DWARF=1)
    if [ -e "$d/.stamp-build" ] && [ "$(awk '{print $NF}' "$d/btf-tool" 2>/dev/null)" = "$(tool_id "$v" | awk '{print $NF}')" ] \
            && [ "$d/.stamp-build" -nt "$s/vmlinux" ]; then
        log "$v: already built (rm $d/.stamp-build to rebuild)"; return
    fi
    if [ ! -e "$d/.stamp-compiled" ]; then
        [ "${SKIP_BUILD:-0}" = 1 ] && die "$v: not built and SKIP_BUILD=1"
        log "$v: make -j$JOBS modules ${extra[*]}, without vmlinux (log: $d/build.log)"
        rm -f "$k/vmlinux"
        local t0 t1
        t0=$(date +%s.%N)
        BTFKIT=$BTF_TOOL /usr/bin/time -v -o "$d/modules.time" make -C "$k" -j"$JOBS" "${extra[@]}" "${MODONLY_MAKE[@]}" modules > "$d/build.log" 2>&1 \
            || { tail -40 "$d/build.log"; die "$v: make modules failed"; }
        t1=$(date +%s.%N)
        echo "$t0 $t1" | awk '{printf "%.1f\n", $2-$1}' > "$d/modules.secs"
        touch "$d/.stamp-compiled"
    fi
    [ -e "$W/std/.stamp-build" ] || die "$v: needs std's vmlinux (VARIANTS must have std before $v)"
    cmp -s "$s/.config" "$k/.config" || die "$v: its .config differs from std's"
    log "$v: std's vmlinux, bzImage and vmlinux.symvers; each .ko's link and BTF step"
    for f in vmlinux vmlinux.o vmlinux.symvers System.map modules.builtin modules.builtin.modinfo arch/x86/boot/bzImage \
            .btf-step.time .gen_btf.t0 .gen_btf.t1; do
        cp -p "$s/$f" "$k/$f"
    done
    rm -f "$d/.stamp-boot"
    : > "$d/relink.log"
    if with_modules "$v"; then modules "$v" relink; fi
    tool_id "$v" > "$d/btf-tool"
    touch "$d/.stamp-build"
}

# The modules: `make modules` (with vmlinux built: its last step, Makefile.modfinal, links
# each .ko and makes its BTF, split over vmlinux's), then modules_install into $d/modroot
# (INSTALL_MOD_STRIP=1: strip --strip-debug, which keeps .BTF; depmod writes modules.dep).
# $2=build: compile them ($d/modules.time); $2=relink: vmlinux was relinked, so only the
# final link of each .ko and its BTF step are redone ($d/modules-relink.time).  The .ko
# files are removed first: the BTF step must see the .ko that ld -r made (with its archive
# of per-object BTF), not one that already has split BTF over an older vmlinux.
modules() {   # $1 variant, $2 build|relink
    local v=$1 d=$W/$1 extra=() log=$W/$1/build.log tf=$W/$1/modules.time
    nodwarf_build "$v" && extra=(BTF_STRIP_DWARF=1)
    modonly "$v" && extra+=("${MODONLY_MAKE[@]}")
    [ "$2" = relink ] && { log=$d/relink.log; tf=$d/modules-relink.time; }
    log "$v: make modules ($2; log: $log)"
    find "$d/linux" \( -name '*.ko' -o -name '*.ko.prebtf' -o -name '*.ko.btf-step.time' \) -delete
    local t0 t1
    t0=$(date +%s.%N)
    BTFKIT=$BTF_TOOL /usr/bin/time -v -o "$tf" make -C "$d/linux" -j"$JOBS" "${extra[@]}" modules >> "$log" 2>&1 \
        || { tail -40 "$log"; die "$v: make modules failed"; }
    t1=$(date +%s.%N)
    echo "$t0 $t1" | awk '{printf "%.1f\n", $2-$1}' > "${tf%.time}.secs"
    rm -rf "$d/modroot"
    make -C "$d/linux" "${extra[@]}" INSTALL_MOD_PATH="$d/modroot" INSTALL_MOD_STRIP=1 modules_install >> "$log" 2>&1 \
        || { tail -40 "$log"; die "$v: make modules_install failed"; }
    log "$v: $(find "$d/modroot" -name '*.ko' | wc -l) modules built and installed in $(cat "${tf%.time}.secs") s"
}

# The merge variant: the $MERGE_FROM tree relinked with the plain merge (the patch's link
# step without --kernel), objects not rebuilt.  Its vmlinux, bzImage and timing files are
# kept in $W/merge/linux; then the tree gets its --kernel link step back and is relinked.
merge_link() {
    local d=$W/merge m=$MERGE_FROM k=$W/$MERGE_FROM/linux r0 r1 f extra=()
    [ "$m" = nodwarf ] && extra=(BTF_STRIP_DWARF=1)   # (the same make variables, or every object is rebuilt)
    [ -e "$W/$m/.stamp-build" ] || die "merge: the $m tree is not built (VARIANTS must have $m before merge)"
    if [ -e "$d/.stamp-build" ] && [ "$d/.stamp-build" -nt "$W/$m/.stamp-build" ] && [ "$(cat "$d/from")" = "$m" ] \
            && [ "$(awk '{print $NF}' "$d/btf-tool" 2>/dev/null)" = "$(tool_id merge | awk '{print $NF}')" ]; then
        log "merge: already linked ($(cat "$d/btf-tool"))"; return
    fi
    log "merge: relink the $m tree with the plain merge (log: $d/relink.log)"
    rm -rf "$d/linux" "$d/.stamp-build" "$d/.stamp-boot"
    mkdir -p "$d/linux/arch/x86/boot"
    cp -p "$k/scripts/link-vmlinux.sh" "$d/link-vmlinux.sh.btfkit"
    sed -i '/btfkit} dedup /{s/ --kernel\b//; s/ --symbols-from [^ ]*//; s/ --skip-inconsistent-proto//; s/ --optimized-func//; s/ --kfunc-tags//}' "$k/scripts/link-vmlinux.sh"
    grep -q 'btfkit} dedup ' "$k/scripts/link-vmlinux.sh" && ! grep -q -- '--kernel' "$k/scripts/link-vmlinux.sh" \
        || die "merge: could not take --kernel out of the link step"
    cp "$k/scripts/link-vmlinux.sh" "$d/link-vmlinux.sh"
    rm -f "$k/vmlinux" "$k/.btf-step.time" "$k/.gen_btf.t0" "$k/.gen_btf.t1"
    r0=$(date +%s.%N)
    BTFKIT=$BTF_TOOL make -C "$k" -j"$JOBS" "${extra[@]}" vmlinux > "$d/relink.log" 2>&1 \
        || { cp "$d/link-vmlinux.sh.btfkit" "$k/scripts/link-vmlinux.sh"; tail -40 "$d/relink.log"; die "merge: relink failed"; }
    r1=$(date +%s.%N)
    echo "$r0 $r1" | awk '{printf "%.1f\n", $2-$1}' > "$d/relink.secs"
    BTFKIT=$BTF_TOOL make -C "$k" -j"$JOBS" "${extra[@]}" bzImage >> "$d/relink.log" 2>&1 \
        || { cp "$d/link-vmlinux.sh.btfkit" "$k/scripts/link-vmlinux.sh"; tail -40 "$d/relink.log"; die "merge: bzImage failed"; }
    for f in vmlinux .btf-step.time .gen_btf.t0 .gen_btf.t1 arch/x86/boot/bzImage; do cp -p "$k/$f" "$d/linux/$f"; done
    log "merge: give the $m tree its own link step back and relink it (log: $W/$m/relink.log)"
    cp "$d/link-vmlinux.sh.btfkit" "$k/scripts/link-vmlinux.sh"
    rm -f "$k/vmlinux" "$k/.btf-step.time" "$k/.gen_btf.t0" "$k/.gen_btf.t1" "$W/$m/.stamp-boot"
    { BTFKIT=$BTF_TOOL make -C "$k" -j"$JOBS" "${extra[@]}" vmlinux && BTFKIT=$BTF_TOOL make -C "$k" -j"$JOBS" "${extra[@]}" bzImage; } \
        > "$W/$m/relink.log" 2>&1 || { tail -40 "$W/$m/relink.log"; die "$m: relink after merge failed"; }
    cp "$W/$m/config.added" "$d/"
    echo "$m" > "$d/from"
    tool_id merge > "$d/btf-tool"
    touch "$d/.stamp-build"
}

check() {   # $1 variant: properties of the built vmlinux
    local v=$1 d=$W/$1 k=$W/$1/linux
    log "$v: checks"
    objcopy --dump-section .BTF="$d/vmlinux.btf" "$k/vmlinux" "$d/junk.o" && rm -f "$d/junk.o"
    local unres linklog=$d/build.log
    [ -e "$d/relink.log" ] && linklog=$d/relink.log
    modonly "$v" && linklog=$W/std/build.log   # (std's vmlinux)
    # (KNOWN_UNRESOLVED, from kver-<version>.sh: names the unmodified kernel leaves unresolved too)
    unres=$( { grep 'unresolved symbol' "$linklog" || true; } | { grep -v -E "unresolved symbol (${KNOWN_UNRESOLVED:-^})\$" || true; } | wc -l)
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
    if [ "$v" = nodwarf ]; then   # (nodwarf-mod: std's vmlinux; its modules are checked in the results)
        [ "$(cat "$d/debug.sections")" = 0 ] || { readelf -SW "$k/vmlinux" | grep ' \.debug_'; die "nodwarf: vmlinux still has DWARF"; }
    fi
    if [ "$v" != std ]; then
        [ -s "$k/.pahole-failed" ] && warn "$v: pahole failed on $(wc -l < "$k/.pahole-failed") objects (no per-object BTF): $(tr '\n' ' ' < "$k/.pahole-failed")"
    fi
    "$BTFKIT" stat "$k/vmlinux" > "$d/stat.txt" 2>&1 || warn "$v: btfkit stat failed: $(cat "$d/stat.txt")"
    echo "---- btfkit stat $k/vmlinux"; cat "$d/stat.txt"
    if with_modules "$v"; then check_modules "$v"; fi
    return 0
}

# The modules' BTF, on the host (issue #15).  For every installed .ko ($d/modroot): its .BTF
# is exactly one BTF (split: its header's lengths cover the section), btfkit reads it as
# split BTF over vmlinux's, and, in the btfkit variants, the .ko before the BTF step
# (<module>.ko.prebtf in the tree) had an archive of per-object BTF there.  One line per
# module in $d/modules.txt: name, .BTF bytes, types, per-object BTFs before the step.
# Then the per-CPU DATASEC of the modules with per-CPU variables (ext4, drop_monitor):
# one DATASEC named .data..percpu, every VAR at its symbol's offset in the .ko's
# .data..percpu (nm), as for vmlinux.
PERCPU_MODULES="ext4 drop_monitor"
check_modules() {   # $1 variant
    local v=$1 d=$W/$1 k=$W/$1/linux ko n size types members pre
    [ -d "$d/modroot" ] || die "$v: no $d/modroot (modules not installed)"
    : > "$d/modules.txt"
    for ko in $(find "$d/modroot" -name '*.ko' | sort); do
        n=$(basename "$ko" .ko | tr - _)
        objcopy --dump-section .BTF="$d/mod.btf" "$ko" "$d/junk.o" 2>/dev/null && rm -f "$d/junk.o" \
            || die "$v: $ko has no .BTF"
        python3 - "$d/mod.btf" <<'EOF2' || die "$v: $ko: .BTF is not exactly one BTF"
import struct, sys
b = open(sys.argv[1], 'rb').read()
magic, ver, flags, hl, to, tl, so, sl = struct.unpack_from('<HBBIIIII', b)
assert magic == 0xeb9f, hex(magic)
if hl + max(to + tl, so + sl) != len(b):
    sys.exit(f"first BTF ends at {hl + max(to + tl, so + sl)}, section is {len(b)} bytes (archive?)")
EOF2
        size=$(stat -c %s "$d/mod.btf")
        types=$("$BTFKIT" stat -B "$d/vmlinux.btf" "$ko" 2>&1 | sed -n 's/^types: \([0-9]*\).*/\1/p')
        [ -n "$types" ] || die "$v: btfkit stat -B vmlinux.btf $ko: $("$BTFKIT" stat -B "$d/vmlinux.btf" "$ko" 2>&1 | head -3)"
        members=-
        pre=$(find "$k" -name "$(basename "$ko").prebtf" | head -1)
        if [ "$v" != std ]; then
            [ -n "$pre" ] || die "$v: no $(basename "$ko").prebtf in the tree"
            members=$("$BTFKIT" archive list "$pre" 2>/dev/null | sed -n 's/^total: \([0-9]*\) members.*/\1/p')
            [ "${members:-0}" -ge 1 ] || die "$v: $pre: no per-object BTF before the BTF step ($("$BTFKIT" archive list "$pre" 2>&1 | head -3))"
        fi
        echo "$n $size $types $members $ko" >> "$d/modules.txt"
    done
    rm -f "$d/mod.btf"
    log "$v: $(wc -l < "$d/modules.txt") modules, each with one split BTF over vmlinux's"
    : > "$d/modules-percpu.txt"
    for n in $PERCPU_MODULES; do
        ko=$(awk -v n="$n" '$1 == n {print $5}' "$d/modules.txt")
        [ -n "$ko" ] || die "$v: no module $n"
        # per-CPU symbols of the .ko: value = offset in its .data..percpu section
        readelf -sW "$ko" | awk -v sec="$(readelf -SW "$ko" | sed -n 's/^ *\[ *\([0-9]*\)\] \.data\.\.percpu .*/\1/p')" \
            '$7 == sec && $4 == "OBJECT" {print $2, $8}' > "$d/mod-percpu.syms"
        [ -s "$d/mod-percpu.syms" ] || die "$v: $n.ko has no per-CPU variable (no .data..percpu symbols)"
        "$BTFKIT" dump -B "$d/vmlinux.btf" "$ko" | python3 -c '
import re, sys
syms = {}
for l in open(sys.argv[1]):
    off, name = l.split()
    syms.setdefault(name, set()).add(int(off, 16))
nds, inds, ok, bad = 0, False, [], []
for l in sys.stdin:
    if l.startswith("["):
        inds = "DATASEC \x27.data..percpu\x27" in l
        nds += inds
        continue
    m = re.search(r"offset=(\d+) size=\d+ \(VAR \x27([^\x27]*)\x27\)", l)
    if inds and m:
        (ok if int(m.group(1)) in syms.get(m.group(2), ()) else bad).append(m.group(2))
print("%s: DATASECs named .data..percpu: %d; VARs at their symbol offset: %d of %d%s; per-CPU symbols: %d (%s)" % (
    sys.argv[2], nds, len(ok), len(ok) + len(bad), " (wrong: %s)" % " ".join(bad) if bad else "",
    len(syms), " ".join(sorted(syms))))
' "$d/mod-percpu.syms" "$n" >> "$d/modules-percpu.txt"
    done
    rm -f "$d/mod-percpu.syms"
    sed "s/^/$v: /" "$d/modules-percpu.txt"
}

# Where the per-CPU variables of e2e.bpf.c sit in a BTF (`btfkit dump` raw listing on stdin):
# the verifier takes a `__ksym` variable as per-CPU only if its VAR is in the FIRST DATASEC
# named .data..percpu (find_btf_percpu_datasec() in kernel/bpf/verifier.c).
# (kver-<version>.sh may set them: 6.12 has pcpu_hot instead of the last two; the last
# name is the one judge() looks for in the one DATASEC)
PERCPU_VARS=${PERCPU_VARS:-"cpu_loops_per_jiffy __preempt_count current_task"}
percpu_report() {
    python3 -c '
import re, sys
ds, cur = [], None
for line in sys.stdin:
    if line.startswith("["):
        m = re.match(r"\[(\d+)\] (\w+) \x27([^\x27]*)\x27.*size=(\d+)", line)
        cur = None
        if m and m.group(2) == "DATASEC" and m.group(3) == ".data..percpu":
            cur = (m.group(1), int(m.group(4)), [])
            ds.append(cur)
    elif cur is not None:
        m = re.search(r"offset=(\d+) size=(\d+) \(VAR \x27([^\x27]*)\x27\)", line)
        if m:
            cur[2].append((m.group(3), int(m.group(1)), int(m.group(2))))
print("DATASECs named .data..percpu: %d, VARs in them: %d, in the first: %d" %
      (len(ds), sum(len(d[2]) for d in ds), len(ds[0][2]) if ds else 0))
for want in sys.argv[1:]:
    where = [(i + 1, o, s) for i, d in enumerate(ds) for (n, o, s) in d[2] if n == want]
    if not where:
        print("%s: in no .data..percpu DATASEC" % want)
    for i, o, s in where:
        print("%s: DATASEC #%d of %d (%s), offset %d, size %d" % (want, i, len(ds),
              "the first: per-CPU to the verifier" if i == 1 else "NOT the first: an ordinary global to the verifier", o, s))
' $PERCPU_VARS
}

bpf_progs() {   # $1 variant: its vmlinux.h, the BPF programs compiled against it, its initramfs
    local v=$1 d=$W/$1 b=$W/$1/bpf
    mkdir -p "$b"
    "$BTFKIT" dump --format c "$d/vmlinux.btf" > "$b/vmlinux.h.tmp" || die "$v: btfkit dump --format c failed"
    cmp -s "$b/vmlinux.h.tmp" "$b/vmlinux.h" && rm "$b/vmlinux.h.tmp" || mv "$b/vmlinux.h.tmp" "$b/vmlinux.h"
    if [ ! -e "$b/e2e.bpf.o" ] || [ "$b/vmlinux.h" -nt "$b/e2e.bpf.o" ] || [ "$E2E/bpf/e2e.bpf.c" -nt "$b/e2e.bpf.o" ] \
            || [ "$E2E/bpf/e2e.h" -nt "$b/e2e.bpf.o" ]; then
        log "$v: clang -target bpf e2e.bpf.c against its vmlinux.h ($(wc -l < "$b/vmlinux.h") lines, from btfkit dump --format c)"
        clang -target bpf -O2 -g -D__TARGET_ARCH_x86 ${BPF_CFLAGS:-} -Wall -I"$b" -I"$E2E/bpf" \
            -c "$E2E/bpf/e2e.bpf.c" -o "$b/e2e.bpf.o" || die "$v: the BPF programs do not compile against vmlinux.h"
    fi
    # the module programs (mod.bpf.c): same vmlinux.h; module types are declared in the file
    if with_modules "$v" && { [ ! -e "$b/mod.bpf.o" ] || [ "$b/vmlinux.h" -nt "$b/mod.bpf.o" ] \
            || [ "$E2E/bpf/mod.bpf.c" -nt "$b/mod.bpf.o" ] || [ "$E2E/bpf/e2e.h" -nt "$b/mod.bpf.o" ]; }; then
        log "$v: clang -target bpf mod.bpf.c"
        clang -target bpf -O2 -g -D__TARGET_ARCH_x86 -Wall -I"$b" -I"$E2E/bpf" \
            -c "$E2E/bpf/mod.bpf.c" -o "$b/mod.bpf.o" || die "$v: the module BPF programs do not compile against vmlinux.h"
    fi
    "$BTFKIT" dump "$d/vmlinux.btf" | percpu_report > "$d/percpu.txt"
    # every VAR of the per-CPU DATASECs against vmlinux's symbol of that name (its final
    # per-CPU offset: pahole -J's VAR offsets, what `dedup --kernel` must give)
    nm "$d/linux/vmlinux" > "$d/vmlinux.nm"
    "$BTFKIT" dump "$d/vmlinux.btf" | python3 -c '
import re, sys
syms = {}
for l in open(sys.argv[1]):
    p = l.split()
    if len(p) == 3:
        syms.setdefault(p[2], set()).add(int(p[0], 16))
inds, ok, bad, deltas = False, 0, 0, {}
for l in sys.stdin:
    if l.startswith("["):
        inds = "DATASEC \x27.data..percpu\x27" in l
        continue
    m = re.search(r"offset=(\d+) size=\d+ \(VAR \x27([^\x27]*)\x27\)", l)
    if inds and m:
        o, v = int(m.group(1)), syms.get(m.group(2), set())
        if o in v:
            ok += 1
        else:
            bad += 1
            d = "no symbol" if not v else "%+d" % (o - min(v, key=lambda x: abs(x - o)))
            deltas[d] = deltas.get(d, 0) + 1
print("VARs at their vmlinux symbol offset: %d of %d%s" % (ok, ok + bad,
      "" if not bad else " (off by: " + ", ".join("%s x%d" % kv for kv in sorted(deltas.items())) + ")"))
' "$d/vmlinux.nm" >> "$d/percpu.txt"
    sed "s/^/$v: /" "$d/percpu.txt"
    cat > "$b/initramfs.list" <<EOF
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /sys 0755 0 0
dir /proc 0755 0 0
file /init $TOOLS/init 0755 0 0
dir /bpf 0755 0 0
file /bpf/e2e.bpf.o $b/e2e.bpf.o 0644 0 0
EOF
    # the modules (not for merge: its vmlinux BTF is not the one the modules' BTF was split
    # over), /modules.list in load order: every module after the modules it depends on
    # (depmod's modules.dep)
    if with_modules "$v"; then
        echo "file /bpf/mod.bpf.o $b/mod.bpf.o 0644 0 0" >> "$b/initramfs.list"
        echo "dir /modules 0755 0 0" >> "$b/initramfs.list"
        python3 - "$(dirname "$(find "$d/modroot" -name modules.dep | head -1)")" "$b/initramfs.list" > "$b/modules.list" <<'EOF2'
import os, sys
root, cpio = sys.argv[1], open(sys.argv[2], "a")
deps = {}
for l in open(os.path.join(root, "modules.dep")):
    m, _, d = l.partition(":")
    deps[m.strip()] = d.split()
order, seen = [], set()
def visit(m):   # iterative DFS: dependencies first
    stack = [(m, iter(deps.get(m, [])))]
    while stack:
        x, it = stack[-1]
        nxt = next(it, None)
        if nxt is None:
            stack.pop()
            if x not in seen:
                seen.add(x); order.append(x)
        elif nxt not in seen:
            stack.append((nxt, iter(deps.get(nxt, []))))
for m in sorted(deps):
    visit(m)
for m in order:
    f = os.path.basename(m)
    print(f[:-3].replace("-", "_"), "/modules/" + f)
    cpio.write("file /modules/%s %s 0644 0 0\n" % (f, os.path.join(root, m)))
EOF2
        echo "file /modules.list $b/modules.list 0644 0 0" >> "$b/initramfs.list"
        [ "$(wc -l < "$b/modules.list")" = "$(wc -l < "$d/modules.txt")" ] || die "$v: modules.list and modules.txt differ"
    fi
    "$TOOLS/gen_init_cpio" "$b/initramfs.list" > "$d/initramfs.cpio.tmp"
    cmp -s "$d/initramfs.cpio.tmp" "$d/initramfs.cpio" && rm "$d/initramfs.cpio.tmp" || mv "$d/initramfs.cpio.tmp" "$d/initramfs.cpio"
}

# What each variant must show.  std and the --kernel variants: every per-CPU program loads
# and reads sane values, the tp_btf program sees the rename, the direct read is refused.
# merge (expected to fail, which passes the script): the per-CPU programs whose variable
# is outside the first DATASEC are refused with the verifier's type error, and the direct
# read of such a variable is accepted and, run, crashes the kernel.
judge() {   # $1 variant
    local v=$1 t=$W/$1/boot.txt fail=0
    tr -d '\r' < "$W/$v/boot.log" > "$t"
    must()    { if grep -a -q -E "$2" "$t"; then echo "  ok:   $1"; else echo "  FAIL: $1 (no line matches /$2/)"; fail=1; fi; }
    mustnot() { if grep -a -q -E "$2" "$t"; then echo "  FAIL: $1 ($(grep -a -m1 -E "$2" "$t"))"; fail=1; else echo "  ok:   $1"; fi; }
    pc()      { if grep -q -E "$2" "$W/$v/percpu.txt"; then echo "  ok:   $1"; else echo "  FAIL: $1 (percpu.txt: no /$2/)"; fail=1; fi; }
    local P='BTFKIT-E2E: PROG'
    log "$v: verdicts"
    must "BTF_LOAD OK" 'BTFKIT-E2E: BTF_LOAD OK'
    must "percpu_first: bpf_this_cpu_ptr(&cpu_loops_per_jiffy), first DATASEC, loads and reads > 0" "$P percpu_first OK "
    must "on_task_rename: tp_btf program sees its typed arguments" "$P on_task_rename OK "
    if [ "$v" = merge ]; then
        pc "BTF: cpu_loops_per_jiffy is in the first .data..percpu DATASEC" '^cpu_loops_per_jiffy: DATASEC #1 of'
        pc "BTF: __preempt_count is outside the first .data..percpu DATASEC" '^__preempt_count: .*NOT the first'
        pc "BTF: current_task is outside the first .data..percpu DATASEC" '^current_task: .*NOT the first'
        must "percpu_preempt_count REFUSED: this_cpu_ptr of a non-per-CPU pointer" "$P percpu_preempt_count REFUSED .*expected=percpu_ptr_"
        must "percpu_current_task REFUSED: this_cpu_ptr of a non-per-CPU pointer" "$P percpu_current_task REFUSED .*expected=percpu_ptr_"
        must "direct_preempt_count ACCEPTED by the verifier" "$P direct_preempt_count ACCEPTED"
        must "... and running it oopses: the per-CPU offset read as an address" 'BUG: unable to handle page fault for address'
        mustnot "direct_preempt_count did not run to completion" "$P direct_preempt_count RAN"
    else
        pc "BTF: one DATASEC named .data..percpu" '^DATASECs named .data..percpu: 1,'
        pc "BTF: ${PERCPU_VARS#* } in it" "^${PERCPU_VARS##* }: DATASEC #1 of 1 "
        pc "BTF: every per-CPU VAR at its vmlinux symbol's offset" '^VARs at their vmlinux symbol offset: ([0-9]+) of \1$'
        must "percpu_preempt_count: bpf_this_cpu_ptr(&__preempt_count) loads, count bits 0" "$P percpu_preempt_count OK "
        must "percpu_current_task: bpf_this_cpu_ptr(&current_task) is /init" "$P percpu_current_task OK "
        must "direct_preempt_count REFUSED by the verifier" "$P direct_preempt_count REFUSED "
        must "all programs ran, /init reached the end" 'BTFKIT-E2E: DONE'
        mustnot "no oops, no panic" 'BUG: |Oops|Kernel panic'
    fi
    mustnot "no PROG ... BAD or ERROR line" "$P [a-z_]+ (BAD|ERROR) "
    if with_modules "$v"; then
        # the modules (issue #15): each loaded, its BTF registered, the size /init read from
        # /sys/kernel/btf/<name> = the .ko's .BTF on the host, read back by libbpf as split BTF
        local n size nmod
        nmod=$(wc -l < "$W/$v/modules.txt")
        must "all $nmod modules loaded (finit_module)" "BTFKIT-E2E: MODULES loaded $nmod of $nmod\$"
        while read -r n size _; do
            must "module $n: /sys/kernel/btf/$n = its .ko's .BTF ($size bytes), split BTF over vmlinux" \
                "BTFKIT-E2E: MODULE $n OK btf_size=$size id=[0-9]+ types=[1-9]"
        done < "$W/$v/modules.txt"
        mustnot "no module LOAD_FAILED, NO_BTF or BAD" 'BTFKIT-E2E: MODULE [^ ]+ (LOAD_FAILED|NO_BTF|BAD)'
        for n in $PERCPU_MODULES; do
            if grep -q -E "^$n: DATASECs named .data..percpu: 1; VARs at their symbol offset: ([1-9][0-9]*) of \1;" "$W/$v/modules-percpu.txt"; then
                echo "  ok:   $n.ko: one .data..percpu DATASEC, every VAR at its symbol's offset"
            else
                echo "  FAIL: $n.ko: $(grep "^$n:" "$W/$v/modules-percpu.txt")"; fail=1
            fi
        done
        must "mod_percpu_ext4: bpf_this_cpu_ptr(&discard_pa_seq) of ext4.ko loads and runs" "$P mod_percpu_ext4 OK "
        must "mod_percpu_drop_monitor: this CPU's dm_cpu_data.drop_queue, by the module's BTF, is empty and self-linked" "$P mod_percpu_drop_monitor OK "
        must "mod_fentry: fentry+fexit on ext4_get_tree, fc->source and ext4_fs_context->s_stripe right" "$P mod_fentry OK "
        must "mod_direct_ext4 REFUSED by the verifier" "$P mod_direct_ext4 REFUSED "
    fi
    # no BTF complaint from the kernel (e.g. "failed to validate module [x] BTF: -22", which
    # also fails the module's load): the kernel's lines on the console, and /init's DMESG
    # lines (the kernel log's lines that mention BTF); not /init's own lines (libbpf's
    # messages about refused programs are judged above)
    local kre='failed to validate module|btf_vmlinux is malformed|btf.*(error|invalid|fail|bad|mismatch)'
    if grep -a -v -E 'BTFKIT-E2E: ' "$t" | grep -a -i -q -E "$kre" \
            || grep -a 'BTFKIT-E2E: DMESG ' "$t" | grep -a -v 'BTFKIT-E2E: DMESG [0-9]* lines' | grep -a -i -q -E "$kre"; then
        echo "  FAIL: a BTF error in the boot log: $( { grep -a -v -E 'BTFKIT-E2E: ' "$t"; grep -a 'BTFKIT-E2E: DMESG ' "$t"; } \
            | grep -a -i -m1 -E "$kre")"
        fail=1
    else
        echo "  ok:   no BTF error in the boot log (console and dmesg)"
    fi
    [ "$fail" = 0 ] || die "$v: the BPF programs did not behave as a $v kernel must (boot log: $W/$v/boot.log)"
}

boot() {   # $1 variant
    local v=$1 d=$W/$1
    if [ -e "$d/.stamp-boot" ] && [ "$d/.stamp-boot" -nt "$d/linux/arch/x86/boot/bzImage" ] \
            && [ "$d/.stamp-boot" -nt "$d/initramfs.cpio" ]; then
        log "$v: already booted: $(grep -a 'BTFKIT-E2E: BTF_LOAD' "$d/boot.log" | tr -d '\r')"; return
    fi
    log "$v: boot in qemu (TCG, timeout ${BOOT_TIMEOUT}s)"
    local rc=0 b0 b1
    b0=$(date +%s.%N)
    timeout "$BOOT_TIMEOUT" qemu-system-x86_64 -machine pc,accel=tcg -cpu max -m 512 -smp 1 \
        -nographic -monitor none -serial stdio -no-reboot \
        -kernel "$d/linux/arch/x86/boot/bzImage" -initrd "$d/initramfs.cpio" \
        -append "console=ttyS0 panic=-1 oops=panic" < /dev/null > "$d/boot.log" 2>&1 || rc=$?
    b1=$(date +%s.%N)
    echo "$b0 $b1" | awk '{printf "%.1f\n", $2-$1}' > "$d/boot.secs"
    tr -d '\r' < "$d/boot.log" | grep -a -E 'BTFKIT-E2E|Linux version|BTF|Kernel panic|BUG:' || true
    [ "$rc" = 124 ] && warn "$v: qemu timed out after ${BOOT_TIMEOUT}s"
    grep -a -q 'BTFKIT-E2E: BTF_LOAD OK' "$d/boot.log" || { tail -30 "$d/boot.log"; die "$v: the kernel did not accept its own BTF"; }
    # /sys/kernel/btf/vmlinux is vmlinux's .BTF (what `btfkit stat` above read on the host)
    local booted
    booted=$(tr -d '\r' < "$d/boot.log" | sed -n 's/.*BTF_LOAD OK fd=[0-9]* size=\([0-9]*\).*/\1/p' | head -1)
    [ "$booted" = "$(stat -c %s "$d/vmlinux.btf")" ] || die "$v: booted BTF is $booted bytes, vmlinux's .BTF $(stat -c %s "$d/vmlinux.btf")"
    touch "$d/.stamp-boot"
}

for v in $VARIANTS; do
    case $v in std|btfkit|nodwarf|merge|btfkit-mod|nodwarf-mod) ;; *) die "unknown variant $v" ;; esac
    if [ "$v" = merge ]; then
        merge_link
    else
        prepare "$v"
        build "$v"
        if [ "$v" != std ] && [ "$MOD_OK" = 0 ]; then
            warn "$v: built, but its modules have no BTF yet (no btfkit dedup --each): not checked, not booted"
            continue
        fi
        # (before $MERGE_FROM boots: merge_link relinks its tree)
        if [ "$v" = "$MERGE_FROM" ] && [[ " $VARIANTS " == *" merge "* ]]; then merge_link; fi
    fi
    check "$v"
    bpf_progs "$v"
    boot "$v"
    judge "$v"
done

# The module BTF step side by side, outside kbuild (issue #15), on copies of the .ko files
# as they were before the step (<module>.ko.prebtf): std's with pahole, one process per
# module and one after the other (what kbuild's Makefile.modfinal does, without make -j),
# and each btfkit variant's with one `btfkit dedup --kernel --each` over all of them
# (threads = cores).  Printed into results.md.
bench_modules() {
    local v b n
    "$BTFKIT" dedup --help 2>/dev/null | grep -q -- '--each' || { echo; echo "(no batch benchmark: this btfkit has no dedup --each)"; return 0; }
    echo
    echo "Module BTF steps outside kbuild, all modules at once (\`/usr/bin/time -v\`; copies of the .ko files before the step):"
    echo
    echo "| variant | command | modules | wall (s) | CPU user+sys (s) | peak RSS |"
    echo "|---|---|---|---|---|---|"
    for v in $VARIANTS; do
        [ "$v" = merge ] && continue
        mods "$v" || continue
        b=$W/bench/$v
        rm -rf "$b"; mkdir -p "$b"
        for f in $(find "$W/$v/linux" -name '*.ko.prebtf'); do cp "$f" "$b/$(basename "$f" .prebtf)"; done
        n=$(ls "$b" | wc -l)
        if [ "$v" = std ]; then
            /usr/bin/time -v -o "$b.time" bash -c 'for k in "$1"/*.ko; do LLVM_OBJCOPY=objcopy pahole -J $3 --btf_base "$2" "$k" || exit 1; done' \
                - "$b" "$W/$v/linux/vmlinux" "$MOD_PAHOLE_FLAGS" > "$b.log" 2>&1 || { echo "| $v | pahole failed: $(tail -1 "$b.log") | | | | |"; continue; }
            echo "| $v | \`pahole -J${MOD_PAHOLE_FLAGS:+ $MOD_PAHOLE_FLAGS} --btf_base vmlinux\` per module, sequential | $n | $(wall_s "$b.time") | $(f_cpu "$b.time") | $(( $(tv "$b.time" 'Maximum resident set size') / 1024 )) MiB |"
        else
            /usr/bin/time -v -o "$b.time" "$BTFKIT" dedup --kernel $MOD_BTFKIT_FLAGS -B "$W/$v/linux/vmlinux" --in-place --each "$b"/*.ko > "$b.log" 2>&1 \
                || { echo "| $v | btfkit --each failed: $(tail -1 "$b.log") | | | | |"; continue; }
            echo "| $v | \`btfkit dedup --kernel${MOD_BTFKIT_FLAGS:+ $MOD_BTFKIT_FLAGS} -B vmlinux --in-place --each\` ($(nproc) threads) | $n | $(wall_s "$b.time") | $(f_cpu "$b.time") | $(( $(tv "$b.time" 'Maximum resident set size') / 1024 )) MiB |"
            # the same bytes as kbuild's per-module steps?
            local same=0 k
            for k in "$b"/*.ko; do
                objcopy --dump-section .BTF="$b.1" "$k" "$b.junk" 2>/dev/null
                objcopy --dump-section .BTF="$b.2" "$(find "$W/$v/linux" -name "$(basename "$k")" | head -1)" "$b.junk" 2>/dev/null
                cmp -s "$b.1" "$b.2" && same=$((same + 1))
                rm -f "$b.1" "$b.2" "$b.junk"
            done
            echo "| | (.BTF equal to the per-module kbuild step's: $same of $n) | | | | |"
        fi
    done
}

# ------------------------------------------------------------------ 5. measurements
log "measurements"
tv() { awk -F': ' -v k="$2" '$1 ~ k {print $2}' "$1" | head -1 | sed 's/^ *//'; }   # /usr/bin/time -v field
wall_s() { tv "$1" 'Elapsed \\(wall clock\\)' | awk -F: '{ s=0; for (i=1;i<=NF;i++) s=s*60+$i; printf "%.1f", s }'; }
R=$W/results.md
{
    echo "Run: \`scripts/kernel-e2e.sh\` ($(date -u +%FT%TZ), VARIANTS='$VARIANTS', make -j$JOBS, $(nproc) CPUs)"
    echo
    echo "Toolchain: $(dpkg-query -W -f '${Package} ${Version}; ' linux-source-$KVER dwarves gcc-12 binutils qemu-system-x86 2>/dev/null)pahole $(pahole --version)."
    echo "vmlinux BTF step of btfkit/nodwarf/merge: $BTF_TOOL_NAME."
    echo "BPF programs: clang $(clang --version | sed -n 's/.*clang version \([^ ]*\).*/\1/p;q'), libbpf $(dpkg-query -W -f '${Version}' libbpf-dev 2>/dev/null) (static, in /init)."
    echo
    echo "Boot verdicts (serial console of qemu-system-x86_64, TCG; judged by the script: all as expected):"
    for v in $VARIANTS; do
        echo
        echo "$v ($(cat "$W/$v/btf-tool" | sed 's/ [0-9a-f]\{16\}$//'); boot + programs $(cat "$W/$v/boot.secs" 2>/dev/null || echo '?') s):"
        echo
        echo '```'
        grep -a -E 'BTFKIT-E2E: (BTF_LOAD|PROG|DONE)|BUG: |RIP: |Kernel panic' "$W/$v/boot.txt" \
            | sed 's/^\[ *[0-9.]*\] //' | cut -c1-220
        echo '```'
    done
    echo
    echo "Where the programs' per-CPU variables are in each BTF (\`btfkit dump\`):"
    echo
    echo '```'
    for v in $VARIANTS; do sed "s/^/$v: /" "$W/$v/percpu.txt"; done
    echo '```'
    echo
    echo "| | $(for v in $VARIANTS; do printf '%s | ' "$v"; done)"
    echo "|---|$(for v in $VARIANTS; do printf -- '---|'; done)"
    row() { printf '| %s | ' "$1"; shift; for v in $VARIANTS; do printf '%s | ' "$("$@" "$v")"; done; echo; }
    from()     { if modonly "$1"; then echo std; else cat "$W/merge/from"; fi; }
    f_build()  { cat "$W/$1/build.secs" 2>/dev/null || echo "($(from "$1")'s)"; }
    f_step()   { wall_s "$W/$1/linux/.btf-step.time"; }
    f_gen()    { awk '{printf "%.1f", $1}' <(paste "$W/$1/linux/.gen_btf.t1" "$W/$1/linux/.gen_btf.t0" | awk '{print $1-$2}'); }
    f_rss()    { echo "$(( $(tv "$W/$1/linux/.btf-step.time" 'Maximum resident set size') / 1024 )) MiB"; }
    f_steptool() { if [ "$1" = std ] || modonly "$1"; then echo "pahole -J"; else sed -n 's/.* \(dedup.*\) [0-9a-f]\{16\}$/btfkit \1/p' "$W/$1/btf-tool"; fi; }
    tree()     { if [ "$1" = merge ]; then echo "$W/$(cat "$W/merge/from")/linux"; else echo "$W/$1/linux"; fi; }   # objects
    f_objs()   { find "$(tree "$1")" -name '*.o' ! -name vmlinux.o -printf '%s\n' | awk '{s+=$1} END {printf "%\047d", s}'; }
    f_nobjs()  { find "$(tree "$1")" -name '*.o' ! -name vmlinux.o | wc -l; }
    f_vmo()    { stat -c %s "$(tree "$1")/vmlinux.o" | xargs printf "%'d"; }
    f_vml()    { stat -c %s "$W/$1/linux/vmlinux" | xargs printf "%'d"; }
    f_bzi()    { stat -c %s "$W/$1/linux/arch/x86/boot/bzImage" | xargs printf "%'d"; }
    f_btf()    { stat -c %s "$W/$1/vmlinux.btf" | xargs printf "%'d"; }
    f_dbg()    { cat "$W/$1/debug.sections"; }
    f_unres()  { cat "$W/$1/unresolved"; }
    f_tool()   { if modonly "$1"; then echo "std's: $(cat "$W/std/btf-tool")"; else cat "$W/$1/btf-tool" 2>/dev/null | sed 's/ [0-9a-f]\{16\}$//'; fi; }
    f_relink() { cat "$W/$1/relink.secs" 2>/dev/null || echo -; }
    f_cpu()    { awk -F': ' '/User time|System time/ {s+=$2} END {printf "%.1f", s}' "$1"; }
    f_bcpu()   { if [ -e "$W/$1/build.time" ]; then f_cpu "$W/$1/build.time"; else echo "($(from "$1")'s)"; fi; }
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
    f_boot()   { cat "$W/$1/boot.secs" 2>/dev/null || echo -; }
    row "boot + BPF programs in qemu (TCG), wall (s)" f_boot
    # the modules (issue #15); merge: none (its vmlinux is relinked, the modules are not)
    mods()     { with_modules "$1" && [ -s "$W/$1/modules.txt" ]; }
    msteps()   { find "$W/$1/linux" -name '*.ko.btf-step.time'; }   # one /usr/bin/time -v per module
    f_nmod()   { if mods "$1"; then wc -l < "$W/$1/modules.txt"; else echo -; fi; }
    f_mbuild() { if mods "$1"; then cat "$W/$1/modules.secs"; else echo -; fi; }
    f_mcpu()   { if mods "$1"; then f_cpu "$W/$1/modules.time"; else echo -; fi; }
    f_allcpu() { if mods "$1" && [ -e "$W/$1/build.time" ]; then cat "$W/$1/build.time" "$W/$1/modules.time" > "$W/$1/all.time"; f_cpu "$W/$1/all.time"; else echo -; fi; }
    f_mrelink() { if mods "$1" && [ -e "$W/$1/modules-relink.secs" ]; then cat "$W/$1/modules-relink.secs"; else echo -; fi; }
    f_mtool()  { if ! mods "$1"; then echo -; elif [ "$1" = std ]; then echo "pahole -J --btf_base vmlinux, per .ko"; else echo "btfkit dedup --kernel${MOD_BTFKIT_FLAGS:+ $MOD_BTFKIT_FLAGS} -B vmlinux --in-place, per .ko"; fi; }
    f_mwall()  { mods "$1" || { echo -; return; }; for f in $(msteps "$1"); do wall_s "$f"; echo; done | awk '{s+=$1} END {printf "%.1f", s}'; }
    f_mscpu()  { mods "$1" || { echo -; return; }; for f in $(msteps "$1"); do f_cpu "$f"; echo; done | awk '{s+=$1} END {printf "%.1f", s}'; }
    f_mrss()   { mods "$1" || { echo -; return; }; for f in $(msteps "$1"); do tv "$f" 'Maximum resident set size'; done | sort -n | tail -1 | awk '{printf "%d MiB", $1/1024}'; }
    f_mrssx()  { mods "$1" || { echo -; return; }; for f in $(msteps "$1"); do echo "$(tv "$f" 'Maximum resident set size') $f"; done | sort -n | tail -1 | sed 's|.*/||; s|\.ko\.btf-step\.time||'; }
    f_kobytes() { mods "$1" || { echo -; return; }; find "$W/$1/linux" -name '*.ko' -printf '%s\n' | awk '{s+=$1} END {printf "%\047d", s}'; }
    f_kodbg()  { mods "$1" || { echo -; return; }; for k in $(find "$W/$1/linux" -name '*.ko'); do readelf -SW "$k" | grep -c ' \.debug_' || true; done | awk '{s+=$1} END {print s}'; }
    f_kinst()  { mods "$1" || { echo -; return; }; find "$W/$1/modroot" -name '*.ko' -printf '%s\n' | awk '{s+=$1} END {printf "%\047d", s}'; }
    f_mbtf()   { mods "$1" || { echo -; return; }; awk '{s+=$2} END {printf "%\047d", s}' "$W/$1/modules.txt"; }
    f_mtypes() { mods "$1" || { echo -; return; }; awk '{s+=$3} END {printf "%\047d", s}' "$W/$1/modules.txt"; }
    f_mmemb()  { mods "$1" && [ "$1" != std ] || { echo -; return; }; awk '{s+=$4} END {printf "%\047d", s}' "$W/$1/modules.txt"; }
    f_mok()    { mods "$1" || { echo -; return; }; echo "$(grep -a -c 'BTFKIT-E2E: MODULE [^ ]* OK ' "$W/$1/boot.txt") of $(wc -l < "$W/$1/modules.txt") OK"; }
    row "build of vmlinux + modules, CPU user+sys (s)" f_allcpu
    row "modules (=m)" f_nmod
    row "make modules, wall (s)" f_mbuild
    row "make modules, CPU user+sys (s)" f_mcpu
    row "relink: .ko link + BTF step only, wall (s)" f_mrelink
    row "module BTF step" f_mtool
    row "module BTF steps, sum of wall (s)" f_mwall
    row "module BTF steps, sum of CPU user+sys (s)" f_mscpu
    row "module BTF steps, peak RSS (largest)" f_mrss
    row "... of module" f_mrssx
    row "per-object BTFs in the .ko files before the step" f_mmemb
    row "bytes of *.ko in the tree" f_kobytes
    row ".debug_* sections in those *.ko" f_kodbg
    row "bytes of installed *.ko (INSTALL_MOD_STRIP=1)" f_kinst
    row "bytes of module .BTF (sum)" f_mbtf
    row "module BTF types (sum)" f_mtypes
    row "module BTF verdicts at boot" f_mok
    echo
    echo "Configuration added to the fixture config (for booting and the BPF programs; \`< fixture\`, \`> used\`):"
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
        done
        # every module's BTF against std's same module (each split over its own vmlinux)
        if [ "$HAVE_DIFF" = 1 ]; then
            for v in $VARIANTS; do
                { [ "$v" = std ] || [ "$v" = merge ]; } && continue
                mods "$v" && mods std || continue
                : > "$W/diff-modules-std-$v.txt"
                while read -r n _ _ _ ko; do
                    ko0=$(awk -v n="$n" '$1 == n {print $5}' "$W/std/modules.txt")
                    [ -n "$ko0" ] || continue
                    echo "== $n" >> "$W/diff-modules-std-$v.txt"
                    "$BTFKIT" diff --base-a "$W/std/vmlinux.btf" --base-b "$W/$v/vmlinux.btf" "$ko0" "$ko" \
                        >> "$W/diff-modules-std-$v.txt" 2>&1 || true
                done < "$W/$v/modules.txt"
                echo
                echo "\`btfkit diff\` of each module's BTF, std vs $v (each split over its own vmlinux; full report: diff-modules-std-$v.txt):"
                echo
                echo '```'
                awk '/^== / {n=$2} /^summary:/ {sub(/^summary: /, ""); print n ": " $0}' "$W/diff-modules-std-$v.txt"
                echo '```'
            done
        fi ;;
    esac
    bench_modules
} > "$R"
cat "$R"
log "done: all of '$VARIANTS' booted, accepted their own BTF and ran the BPF programs as expected; results in $R"
