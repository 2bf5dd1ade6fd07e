#!/usr/bin/env bash
# libFuzzer on the hello parser (tests/fuzz_hello.c) and the receiver framing
# (tests/fuzz_rx.c), built with -fsanitize=fuzzer,address,undefined, each run
# for FUZZ_TIME seconds (default 10) from the seed corpus in tests/corpus/.
# New inputs go to a temporary directory, never into the repository; a crash
# leaves its input in build-fuzz/ (crash-*) and fails the test.
# lane: beside (no network, no process of the programs: files and tools only); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
command -v clang >/dev/null || skip_all "clang not installed (make deps)"
FUZZ_TIME=${FUZZ_TIME:-10}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

if ! make -s fuzz-build >"$TMP/build.log" 2>&1; then
  if grep -q 'libclang_rt.fuzzer\|cannot find.*fuzzer' "$TMP/build.log"; then
    skip_all "libFuzzer runtime missing (libclang-rt-14-dev)"
  fi
  ok 1 "fuzz harnesses build"; sed 's/^/# /' "$TMP/build.log" | sed -n 1,20p; done_testing; exit 1
fi
ok 0 "fuzz harnesses build (clang -fsanitize=fuzzer,address,undefined)"

for h in hello rx; do
  mkdir -p "$TMP/$h"
  seeds=$(find "tests/corpus/$h" -type f | wc -l)
  ok "$([ "$seeds" -gt 0 ]; echo $?)" "fuzz_$h: seed corpus tests/corpus/$h ($seeds inputs)"
  timeout $((FUZZ_TIME + 60)) "build-fuzz/fuzz_$h" -max_total_time="$FUZZ_TIME" -print_final_stats=1 \
    -artifact_prefix="build-fuzz/" -rss_limit_mb=1024 "$TMP/$h" "tests/corpus/$h" >"$TMP/$h.log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$TMP/$h.log")
  cov=$(grep -Eo 'cov: [0-9]+' "$TMP/$h.log" | tail -n 1)
  is "$rc" 0 "fuzz_$h: ${FUZZ_TIME}s without a crash or a broken invariant"
  ok "$([ "${execs:-0}" -gt 1000 ]; echo $?)" "fuzz_$h: ran (${execs:-0} executions)"
  diag "fuzz_$h: executions=${execs:-0} ${cov} new_inputs=$(find "$TMP/$h" -type f | wc -l) time_s=$FUZZ_TIME"
  [ "$rc" = 0 ] || grep -E 'invariant failed|ERROR|SUMMARY|Test unit written' "$TMP/$h.log" | sed -n 1,10p | sed 's/^/#   /'
done
done_testing
