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

# Two lanes (TEST_LANES=1 for one): a file whose header says "# lane: beside" shares no name
# with any other test (no named namespace, no fixed port, no build directory another file
# writes) and runs in a second lane beside the others; its output is printed, in order, once
# the first lane is done. The suite's wall time on 2 cores is what this buys; every test is
# written to pass beside a loaded CPU anyway.
lanes=${TEST_LANES:-2}
LANE=$(mktemp -d)
# Every file's scratch (mktemp without a directory, server logs included) goes under the
# suite's own directory and is gone with it, not left in /tmp run after run. Open to all as /tmp
# is (sticky): a test that runs a sweep as another user (nobody) makes its scratch there too.
export TMPDIR=$LANE/tmp
mkdir -p "$TMPDIR" && chmod 755 "$LANE" && chmod 1777 "$TMPDIR"
lane_pid=""
cleanup() {
  if [ -n "$lane_pid" ] && kill -0 "$lane_pid" 2>/dev/null; then
    pkill -TERM -P "$lane_pid" 2>/dev/null; kill "$lane_pid" 2>/dev/null; wait "$lane_pid" 2>/dev/null
  fi
  rm -rf "$LANE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run_one FILE: runs one test file under its time limit; its output to $LANE/N.out, then
# "STATUS SECONDS LIMIT CPU" to $LANE/N.rc (N: the file's name with / as _; CPU: user + system
# seconds of the processes it waited for, what the suite's time on 2 cores is made of).
run_one() {
  local t=$1 key=${1//\//_} start limit rc
  local cmd=("$t")
  [[ "$t" == *.sh ]] && cmd=(bash "$t")
  limit=$per_test_timeout
  # The sanitizer re-runs: five test files under sanitizers, ~4 minutes beside the other lane,
  # several times that on a loaded machine.
  [[ "$t" == */t_sanitize.sh ]] && limit=$((per_test_timeout * 3))
  start=$(date +%s)
  local TIMEFORMAT='%U %S' cpu
  cpu=$( { time timeout --kill-after=10 "$limit" "${cmd[@]}" >"$LANE/$key.out" 2>&1; } 2>&1; exit $?); rc=$?
  echo "$rc $(( $(date +%s) - start )) $limit $(awk '{ printf "%.0f", $1 + $2 }' <<<"$cpu")" >"$LANE/$key.rc"
}

# report_one FILE: prints a finished file's output and its time, and tallies it.
report_one() {
  local t=$1 key=${1//\//_} out rc secs limit cpu p f s s_all
  out=$(cat "$LANE/$key.out" 2>/dev/null)
  read -r rc secs limit cpu <"$LANE/$key.rc" 2>/dev/null || { rc=125 secs=0 limit=$per_test_timeout cpu=; }
  echo "### $t"
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
  echo "### $t: ${secs}s${cpu:+ (cpu ${cpu}s)}"
}

first=() beside=()
for t in tests/bin/unit_* tests/t_*.sh; do
  [ -e "$t" ] || continue
  [ -n "$only" ] && [[ "$t" != *"$only"* ]] && continue
  if [ "$lanes" -ge 2 ] && [[ "$t" == *.sh ]] && grep -qm1 '^# lane: beside' "$t"; then
    beside+=("$t")
  else
    first+=("$t")
  fi
done
if [ "${#beside[@]}" -gt 0 ]; then
  ( for t in "${beside[@]}"; do run_one "$t"; done ) &
  lane_pid=$!
fi
for t in "${first[@]}"; do
  run_one "$t"; report_one "$t"
done
if [ -n "$lane_pid" ]; then
  wait "$lane_pid"; lane_pid=""
  echo "### the second lane (files that ran beside the others):"
  for t in "${beside[@]}"; do report_one "$t"; done
fi
echo "### all: $(( $(date +%s) - suite_start ))s (cpu $(cat "$LANE"/*.rc 2>/dev/null | awk '{ c += $4 } END { print c + 0 }')s)"
if [ "${#broken[@]}" -gt 0 ]; then
  echo "# failing: ${broken[*]}"
  echo "# ---- what failed, with its diagnostics ----"
  printf '%s' "$summary" | sed 's/^/# /'
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
