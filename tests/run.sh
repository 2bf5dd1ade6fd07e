#!/usr/bin/env bash
# Runs every test program: tests/bin/unit_* (C) and tests/t_*.sh (bash).
# Each prints TAP; this tallies ok / not ok lines across all of them and ends
# with one line CI reads: "N passed, N failed, N skipped".
set -uo pipefail
# CB_TESTS_ROOT: run another tree's tests (the runner's own test uses it).
cd "${CB_TESTS_ROOT:-$(dirname "$0")/..}" || exit 1
only=${1:-}
passed=0 failed=0 skipped=0 broken=()
per_test_timeout=${TEST_TIMEOUT:-300}
for t in tests/bin/unit_* tests/t_*.sh; do
  [ -e "$t" ] || continue
  [ -n "$only" ] && [[ "$t" != *"$only"* ]] && continue
  echo "### $t"
  start=$(date +%s)
  if [[ "$t" == *.sh ]]; then cmd=(bash "$t"); else cmd=("$t"); fi
  limit=$per_test_timeout
  # The sanitizer re-runs are five test files twice over: ~100 s here, several times that on
  # a loaded machine.
  [[ "$t" == */t_sanitize.sh ]] && limit=$((per_test_timeout * 3))
  out=$(timeout --kill-after=10 "$limit" "${cmd[@]}" 2>&1); rc=$?
  printf '%s\n' "$out"
  p=$(grep -cE '^ok [0-9]+' <<<"$out" || true)
  f=$(grep -cE '^not ok [0-9]+' <<<"$out" || true)
  s=$(grep -cE '^ok [0-9]+.*# SKIP' <<<"$out" || true)      # counted in p too
  s_all=$(grep -cE '^1\.\.0 # SKIP' <<<"$out" || true)      # a whole file skipped: no "ok" line
  passed=$((passed + p - s)) failed=$((failed + f)) skipped=$((skipped + s + s_all))
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
    # A test that dies (crash, timeout) without a failing line still fails.
    failed=$((failed + 1)); echo "not ok - $t exited $rc"
  fi
  [ "$rc" != 0 ] && broken+=("$t")
  echo "### $t: $(( $(date +%s) - start ))s"
done
[ "${#broken[@]}" -gt 0 ] && echo "# failing: ${broken[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
