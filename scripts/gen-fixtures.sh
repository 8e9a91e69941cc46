#!/usr/bin/env bash
# Regenerate the small BTF fixtures in tests/fixtures/gen/ from tests/fixtures/src/.
#
#   scripts/gen-fixtures.sh            regenerate tests/fixtures/gen/
#   scripts/gen-fixtures.sh --check    regenerate into a temp dir and compare with
#                                      the committed files (exit 1 on any difference)
#
# Needs: clang (BPF target), llvm-objcopy, gcc + pahole (DWARF -> BTF), xz, zstd.
# Tested with Debian 12: clang 14.0.6, gcc 12.2.0, pahole 1.24, xz 5.4.1, zstd 1.5.4.
#
# Outputs (all small; the raw .btf files are the .BTF sections, byte for byte):
#   kinds.bpf.o        clang -target bpfel -g -O2: every kind clang 14 emits (INT, PTR,
#                      ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST,
#                      RESTRICT, FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG)
#   kinds.btf          its .BTF section
#   kinds.bpfeb.btf    the .BTF section of the same source built with -target bpfeb
#                      (big-endian BTF)
#   kinds.gcc.o        gcc -gbtf -O2 (x86-64 ELF with a .BTF section), if gcc supports -gbtf
#   kinds.gcc.btf      its .BTF section. NB: gcc 12 encodes `signed char` as INT with
#                      encoding SIGNED|CHAR (3), which the kernel rejects; bpftool prints
#                      it as UNKN and btfkit rejects it (see tests/dump_oracle.rs).
#   enums.btf          pahole --btf_encode_detached from gcc -g DWARF: signed ENUMs and
#                      ENUM64 (clang 14 emits neither)
#   split.btf          pahole --btf_base=enums.btf: split BTF over enums.btf
#   kinds.bpf.o.xz     xz -9 copy of kinds.bpf.o
#   kinds.bpf.o.zst    zstd -19 copy of kinds.bpf.o
#
# Determinism: clang and gcc -g run inside tests/fixtures/ on relative paths with
# -fdebug-prefix-map, so no absolute path reaches the outputs; gcc -gbtf compiles
# in the fixed directory /tmp/btfkit-gen-fixtures.gcc (see below) and with one
# global variable, since gcc 12 orders VARs by pointer hash; --check compares
# the compressed files by their decompressed contents (compressor versions may
# differ in their framing) and every other file byte for byte.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
FIX="$HERE/tests/fixtures"

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

for tool in clang llvm-objcopy gcc pahole xz zstd; do
  command -v "$tool" >/dev/null || { echo "gen-fixtures: $tool not found" >&2; exit 2; }
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if [ $check = 1 ]; then OUT="$TMP/gen"; else OUT="$FIX/gen"; fi
mkdir -p "$OUT"

cd "$FIX"
# Map the fixture directory to "." in DWARF (comp_dir, file names).
MAP="-fdebug-prefix-map=$FIX=."

dump_btf() { # ELF OUT.btf
  llvm-objcopy --dump-section ".BTF=$2" "$1" "$TMP/scratch.o"
  rm -f "$TMP/scratch.o"
}

# 1. clang, little- and big-endian BPF.
clang -target bpfel -g -O2 "$MAP" -c src/kinds.c -o "$OUT/kinds.bpf.o"
dump_btf "$OUT/kinds.bpf.o" "$OUT/kinds.btf"
clang -target bpfeb -g -O2 "$MAP" -c src/kinds.c -o "$TMP/kinds.bpfeb.o"
dump_btf "$TMP/kinds.bpfeb.o" "$OUT/kinds.bpfeb.btf"

# 2. gcc -gbtf (GCC >= 12 on x86-64).
# gcc writes the absolute path of the source into the .BTF strings (no prefix map
# applies), so it compiles a copy in a fixed directory.
GCCDIR=/tmp/btfkit-gen-fixtures.gcc
if echo 'int x;' | gcc -gbtf -x c -c - -o "$TMP/probe.o" 2>/dev/null; then
  rm -rf "$GCCDIR" && mkdir -p "$GCCDIR" && cp src/kinds.c "$GCCDIR/"
  (cd "$GCCDIR" && gcc -gbtf -O2 -Wno-attributes -DONE_GLOBAL -fno-eliminate-unused-debug-types \
    -c kinds.c -o "$OUT/kinds.gcc.o")
  rm -rf "$GCCDIR"
  dump_btf "$OUT/kinds.gcc.o" "$OUT/kinds.gcc.btf"
else
  echo "gen-fixtures: this gcc does not support -gbtf; skipping kinds.gcc.*" >&2
fi

# 3. pahole from DWARF: signed enums, ENUM64, and a split BTF over it.
gcc -g -O0 "$MAP" -c src/enums.c -o "$TMP/enums.o"
pahole --btf_gen_floats --btf_encode_detached="$OUT/enums.btf" "$TMP/enums.o"
gcc -g -O0 "$MAP" -c src/split.c -o "$TMP/split.o"
pahole --btf_gen_floats --btf_base="$OUT/enums.btf" --btf_encode_detached="$OUT/split.btf" "$TMP/split.o"

# 4. Compressed copies of an ELF fixture.
xz -9 -T1 -c "$OUT/kinds.bpf.o" >"$OUT/kinds.bpf.o.xz"
zstd -19 -q -c "$OUT/kinds.bpf.o" >"$OUT/kinds.bpf.o.zst"

if [ $check = 0 ]; then
  echo "gen-fixtures: wrote $(ls "$OUT" | wc -l) files to $OUT ($(du -sb "$OUT" | cut -f1) bytes)"
  exit 0
fi

# --check: compare with the committed files.
status=0
for f in "$OUT"/*; do
  name=$(basename "$f")
  committed="$FIX/gen/$name"
  if [ ! -e "$committed" ]; then
    echo "gen-fixtures --check: $name is generated but not committed" >&2; status=1; continue
  fi
  case "$name" in
    *.xz)  cmp -s <(xz -dc "$f") <(xz -dc "$committed") ;;
    *.zst) cmp -s <(zstd -dc "$f") <(zstd -dc "$committed") ;;
    *)     cmp -s "$f" "$committed" ;;
  esac || { echo "gen-fixtures --check: $name differs from the committed file" >&2; status=1; }
done
for f in "$FIX"/gen/*; do
  name=$(basename "$f")
  [ -e "$OUT/$name" ] || { echo "gen-fixtures --check: $name is committed but no longer generated" >&2; status=1; }
done
[ $status = 0 ] && echo "gen-fixtures --check: all $(ls "$OUT" | wc -l) fixtures match"
exit $status
