#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 30) and fails on any crash.
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 enables them on the stable toolchain, here only.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}; shift || true
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cd fuzz && cargo fuzz list)
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t
  mkdir -p "$corpus"
  # Seed every corpus from the committed fixtures.
  for f in fuzz/seeds/* tests/fixtures/gen/*; do
    [ -f "$f" ] && cp -n "$f" "$corpus/" 2>/dev/null || true
  done
  echo "== fuzz $t for ${secs}s"
  status=0
  (cd fuzz && cargo fuzz run "$t" "../$corpus" -- -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1) \
    > "fuzz/last-$t.log" 2>&1 || status=$?
  grep -E "^(stat::number_of_executed_units|==|SUMMARY|thread .* panicked|Done)" "fuzz/last-$t.log" || true
  # Any crash, timeout or OOM input left by libFuzzer, or a failing run, fails the script.
  found=$(find "fuzz/artifacts/$t" -maxdepth 1 \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) 2>/dev/null | head -5)
  if [ -n "$found" ] || [ "$status" -ne 0 ]; then
    echo "fuzz target $t failed (exit $status): ${found:-see fuzz/last-$t.log}"; exit 1
  fi
done
echo "fuzz: all targets ran ${secs}s with no crash"
