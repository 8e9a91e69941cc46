# kver-6.12.sh - sourced by scripts/kernel-e2e.sh when KVER=6.12 (issue #15): what differs
# from the 6.1 e2e.  Debian's linux-source-6.12 (bookworm-security: 6.12.117-1~deb12u1).
#
# pahole: 6.12's scripts/Makefile.btf switches to --btf_features=... (kfunc DECL_TAGs from
# .BTF_ids, consistent_func, optimized_func, ...) with pahole >= 1.26; Debian 12's dwarves
# is 1.24 and Debian 13's 1.30 binary needs Debian 13's libc.  So pahole is built here
# from source into $W/tools/dwarves (not system-wide; the 6.1 e2e keeps Debian's 1.24)
# and put first on PATH for this run (the kernel's PAHOLE=pahole, its
# CONFIG_PAHOLE_VERSION, the smoke test and the results all see it):
#   DWARVES_SRC=dir  dwarves source tree with its libbpf submodule (lib/bpf) filled in,
#                    default $W/dwarves-1.30; get it with
#                      git clone --recurse-submodules --branch v1.30 https://github.com/acmel/dwarves
#                    (docs/KERNEL-E2E.md: without network access to GitHub)
#   PAHOLE=path      use this pahole (>= 1.26) instead of building one
W=${W:-$REPO/target/kernel-e2e-6.12}
PATCH=$E2E/btfkit-kbuild-6.12.patch
# 6.12's link-vmlinux.sh: gen_btf runs on .tmp_vmlinux1, which is linked anyway (kallsyms);
# the measurement's gen_btf end mark goes before the kallsyms passes.
GEN_BTF_END='^\t# kallsyms support$'
KVER_APT="cmake libdw-dev"
# Modules (issue #15): the 6.1 lists of kernel-e2e.sh (MODULE_CONFIG, MODULES_M) as they are;
# every one of those options has the same name in 6.12.
E2E_MODULES=1
# the module BTF step's flags (bench_modules, outside kbuild): 6.12's PAHOLE_FLAGS with
# pahole 1.30 (scripts/Makefile.btf; MODULE_PAHOLE_FLAGS' distilled_base is for external
# modules only), and what btfkit-kbuild-6.12.patch's Makefile.modfinal passes
MOD_PAHOLE_FLAGS="-j --btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs --lang_exclude=rust"
MOD_BTFKIT_FLAGS="--skip-inconsistent-proto --optimized-func --kfunc-tags"
# config options on top of the 6.1 ones (scripts/kernel-e2e/config-6.12.fragment)
BPF_CONFIG="$BPF_CONFIG $(sed 's/#.*//' "$E2E/config-6.12.fragment" | tr '\n' ' ')"

kver_tools() {
    local bin src=${DWARVES_SRC:-$W/dwarves-1.30} prefix=$W/tools/dwarves
    if [ -n "${PAHOLE:-}" ]; then
        bin=$(dirname "$(readlink -f "$PAHOLE")")
    else
        bin=$prefix/bin
        if [ ! -x "$bin/pahole" ] || [ ! -e "$prefix/.stamp-build" ]; then
            [ -f "$src/CMakeLists.txt" ] && [ -f "$src/lib/bpf/src/btf.h" ] \
                || die "no dwarves source with libbpf in $src: git clone --recurse-submodules --branch v1.30 https://github.com/acmel/dwarves $src (or set DWARVES_SRC or PAHOLE)"
            log "pahole: build dwarves from $src into $prefix (log: $prefix.build.log)"
            rm -rf "$src/build-e2e" "$prefix"
            mkdir -p "$src/build-e2e"
            ( cd "$src/build-e2e" &&
              cmake -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -D__LIB=lib \
                    -DCMAKE_INSTALL_RPATH="$prefix/lib" .. &&
              make -j"$JOBS" install ) > "$prefix.build.log" 2>&1 \
                || { tail -30 "$prefix.build.log"; die "building pahole from $src failed"; }
            touch "$prefix/.stamp-build"
        fi
    fi
    [ -x "$bin/pahole" ] || die "$bin/pahole is missing"
    export PATH=$bin:$PATH
    local v
    v=$(pahole --version | sed 's/^v//; s/\.//')
    [ "$v" -ge 126 ] 2>/dev/null || die "pahole $(pahole --version) ($bin) is older than 1.26: 6.12's BTF features need >= 1.26"
    log "pahole: $(command -v pahole) $(pahole --version)"
}

# BPF programs: since 6.2 x86 keeps current_task and __preempt_count in one per-CPU
# struct pcpu_hot; e2e.bpf.c uses it with -DE2E_PCPU_HOT.
PERCPU_VARS="cpu_loops_per_jiffy pcpu_hot"
BPF_CFLAGS="-DE2E_PCPU_HOT"

# resolve_btfids warns about these in the std build too (this config): kernel/bpf/verifier.c
# lists `BTF_ID(struct, bpf_crypto_ctx)`, a type of kernel/bpf/crypto.c, which is built only
# with CONFIG_CRYPTO (off in the fixture config), so no BTF has the struct
KNOWN_UNRESOLVED="bpf_crypto_ctx"
