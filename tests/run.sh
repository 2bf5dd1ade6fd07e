#!/usr/bin/env bash
# Runs every test program: tests/bin/unit_* (C) and tests/t_*.sh (bash).
# Each prints TAP; this tallies ok / not ok lines across all of them and ends
# with one line CI reads: "N passed, N failed, N skipped". Just before it, when
# anything failed, a summary: each failing check with the diagnostic lines that
# follow it (or, for a file that died without one, its last lines), so the
# cause is on the last screen of a CI log.
set -uo pipefail
# CB_TESTS_ROOT: run another tree's tests (the runner's own test uses it).
cd "${CB_TESTS_ROOT:-$(dirname "$0")/..}" || exit 1
only=${1:-}
passed=0 failed=0 skipped=0 broken=() summary=""
per_test_timeout=${TEST_TIMEOUT:-300}
suite_start=$(date +%s)

# failures FILE OUTPUT RC: the summary's part for one failing file, headed by its exit status:
# every "not ok" line with up to 6 "#" lines after it; without one, its last 12 lines.
failures() {
  local part
  part=$(awk '/^not ok [0-9]+/ { print "  " $0; n = 6; next }
              n > 0 && /^#/ { print "    " $0; n--; next }
              { n = 0 }' <<<"$2")
  if [ -z "$part" ]; then
    part="  no failing check; its last lines:"$'\n'$(tail -n 12 <<<"$2" | sed 's/^/    /')
  fi
  printf '%s (exit %s):\n%s\n' "$1" "$3" "$part"
}

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
    [ "$rc" = 124 ] || [ "$rc" = 137 ] && out+="${out:+$'\n'}# (killed by the runner's ${limit} s timeout)"
  fi
  if [ "$rc" != 0 ] || [ "$f" != 0 ]; then
    broken+=("$t")
    summary+=$(failures "$t" "$out" "$rc")$'\n'
  fi
  echo "### $t: $(( $(date +%s) - start ))s"
done
echo "### all: $(( $(date +%s) - suite_start ))s"
if [ "${#broken[@]}" -gt 0 ]; then
  echo "# failing: ${broken[*]}"
  echo "# ---- what failed, with its diagnostics ----"
  printf '%s' "$summary" | sed 's/^/# /'
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
