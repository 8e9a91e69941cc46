#!/bin/bash
# btfkit-fallback.sh - stands in for `btfkit dedup IN... --detached OUT` when the btfkit binary
# has no working `dedup` (kernel-e2e.sh says so loudly).  It concatenates the .BTF of
# every input (ELF: objcopy --dump-section; raw: as is) into one archive and merges +
# deduplicates it with libbpf (libbpf-dedup, built by kernel-e2e.sh from libbpf-dedup.c).
set -euo pipefail
[ "${1:-}" = dedup ] || { echo "btfkit-fallback: only 'dedup IN... --detached OUT' is supported" >&2; exit 2; }
shift
out= ins=()
while [ $# -gt 0 ]; do
    case $1 in -o|--output|--detached) out=$2; shift 2 ;; *) ins+=("$1"); shift ;; esac
done
[ -n "$out" ] && [ ${#ins[@]} -gt 0 ] || { echo "btfkit-fallback: usage: dedup IN... --detached OUT" >&2; exit 2; }
echo "btfkit-fallback: WARNING: libbpf (not btfkit) deduplicates ${ins[*]}" >&2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
: > "$tmp/archive.btf"
for f in "${ins[@]}"; do
    if [ "$(head -c4 "$f" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
        ${OBJCOPY:-objcopy} --dump-section .BTF="$tmp/m.btf" "$f" "$tmp/junk.o"
        cat "$tmp/m.btf" >> "$tmp/archive.btf"
    else
        cat "$f" >> "$tmp/archive.btf"
    fi
done
"${LIBBPF_DEDUP:?LIBBPF_DEDUP not set}" "$tmp/archive.btf" "$out" >&2
