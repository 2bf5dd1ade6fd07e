#!/usr/bin/env bash
# tests/run.sh itself: its summary line is what CI reads, so it must count right. Runs the
# runner over a scratch tree of fake tests: passes, a failure, a skipped check, a file that
# skips entirely, a file that dies without a "not ok" line; the failure summary before the tally;
# and .ci/run keeping its log outside the clone.
# lane: beside (no network, no process of the programs: files and tools only); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
scratch_dir
mkdir -p "$TMP/tests"
printf '#!/bin/sh\necho "ok 1 - a"\necho "ok 2 - b"\necho "ok 3 - c # SKIP no thing"\necho "1..3"\n' >"$TMP/tests/t_a.sh"
printf '#!/bin/sh\necho "1..0 # SKIP needs root"\n' >"$TMP/tests/t_b.sh"
printf '#!/bin/sh\necho "ok 1 - d"\necho "not ok 2 - e"\necho "1..2"\nexit 1\n' >"$TMP/tests/t_c.sh"
printf '#!/bin/sh\necho "ok 1 - f"\nexit 3\n' >"$TMP/tests/t_d.sh"
out=$(CB_TESTS_ROOT=$TMP bash "$ROOT/tests/run.sh" 2>&1); rc=$?
is "$(tail -n 1 <<<"$out")" "4 passed, 2 failed, 2 skipped" \
  "summary: 4 ok, 1 not ok + 1 file dying without one, 1 skipped check + 1 skipped file"
is "$rc" 1 "the runner exits 1 when anything failed"
like "$out" "failing: tests/t_c.sh tests/t_d.sh" "and names the failing files"
# The summary before the tally: each failing check with its diagnostics, a dead file's last lines.
printf '#!/bin/sh\necho "ok 1 - d"\necho "not ok 2 - e"\necho "#   got: 3"\necho "#  want: 4"\necho "1..2"\nexit 1\n' >"$TMP/tests/t_c.sh"
printf '#!/bin/sh\necho "ok 1 - f"\necho "segfault here"\nexit 3\n' >"$TMP/tests/t_d.sh"
out=$(CB_TESTS_ROOT=$TMP bash "$ROOT/tests/run.sh" 2>&1)
summary=$(sed -n '/^# ---- what failed/,$p' <<<"$out")
want=$'#   not ok 2 - e\n#     #   got: 3\n#     #  want: 4'
check "summary: the failing check with the diagnostics after it" [ "${summary/"$want"/}" != "$summary" ]
like "$summary" "tests/t_d.sh \\(exit 3\\):" "summary: a file that died without a failing check, and its status"
like "$summary" "segfault here" "summary: and its last lines"
rm "$TMP/tests/t_c.sh" "$TMP/tests/t_d.sh"

# Scratch: what a file makes with a bare mktemp (a server's log, say) is gone with the suite.
printf '#!/bin/sh\nf=$(mktemp)\necho "ok 1 - made $f"\n' >"$TMP/tests/t_m.sh"
out=$(CB_TESTS_ROOT=$TMP bash "$ROOT/tests/run.sh" 2>&1)
made=$(sed -n 's/^ok 1 - made //p' <<<"$out")
check "scratch: a bare mktemp of a test file is made ($made)" [ -n "$made" ]
check "scratch: and gone once the suite is done" [ ! -e "${made:-/}" ]
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
  printf '#!/bin/sh\nf=$(su nobody -s /bin/sh -c mktemp) && echo "ok 1 - made $f"\n' >"$TMP/tests/t_n.sh"
  out2=$(CB_TESTS_ROOT=$TMP bash "$ROOT/tests/run.sh" t_n 2>&1)
  like "$out2" "^ok 1 - made /" "scratch: another user (nobody) can make a temporary file there too, as in /tmp"
  rm "$TMP/tests/t_n.sh"
else
  ok 0 "scratch: another user can make a temporary file there too # SKIP needs root and a user nobody"
fi
like "$out" "### tests/t_m.sh: [0-9]+s \\(cpu [0-9]+s\\)" "each file's line: its wall and CPU seconds"
like "$out" "### all: [0-9]+s \\(cpu [0-9]+s\\)" "the suite's line: its wall and CPU seconds"
rm "$TMP/tests/t_m.sh"

# The second lane: a file headed "# lane: beside" runs beside the others; its output comes after
# theirs, whole, and it counts (and fails) like any other. TEST_LANES=1: one lane, in name order.
printf '#!/bin/sh\n# lane: beside\nsleep 1; echo "ok 1 - g"\necho "not ok 2 - h"\necho "#   why: h"\nexit 1\n' >"$TMP/tests/t_e.sh"
printf '#!/bin/sh\nsleep 1; echo "ok 1 - i"\n' >"$TMP/tests/t_f.sh"
t0=$(date +%s%N)
out=$(CB_TESTS_ROOT=$TMP bash "$ROOT/tests/run.sh" 2>&1); rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$(tail -n 1 <<<"$out") $rc" "4 passed, 1 failed, 2 skipped 1" "two lanes: every file counted, the beside file's failure too"
order=$(grep -oE '^### tests/t_[a-z]\.sh$' <<<"$out" | tr '\n' ' ')
is "$order" "### tests/t_a.sh ### tests/t_b.sh ### tests/t_f.sh ### tests/t_e.sh " "two lanes: the beside file's output after the others'"
is "$(sed -n '/^### tests\/t_e.sh$/,/^### tests\/t_e.sh: /p' <<<"$out" | sed -n 2,4p)" $'ok 1 - g\nnot ok 2 - h\n#   why: h' \
  "two lanes: its output whole, in one piece"
like "$out" "failing: tests/t_e.sh" "two lanes: the beside file named among the failing"
diag "two lanes, two files of 1 s each: ${ms} ms"
out=$(TEST_LANES=1 CB_TESTS_ROOT=$TMP bash "$ROOT/tests/run.sh" 2>&1); rc=$?
order=$(grep -oE '^### tests/t_[a-z]\.sh$' <<<"$out" | tr '\n' ' ')
is "$order" "### tests/t_a.sh ### tests/t_b.sh ### tests/t_e.sh ### tests/t_f.sh " "TEST_LANES=1: one lane, in name order"
is "$(tail -n 1 <<<"$out") $rc" "4 passed, 1 failed, 2 skipped 1" "TEST_LANES=1: the same tally"
rm "$TMP/tests/t_e.sh" "$TMP/tests/t_f.sh"

# .ci/run keeps every run's log outside the clone, the newest as last.log, and passes on the status.
mkdir -p "$TMP/ci/.ci" "$TMP/ci/tests"
cp "$ROOT/.ci/run" "$TMP/ci/.ci/run"
printf 'echo "install_deps: everything is installed"\n' >"$TMP/ci/tests/install_deps.sh"
printf 'test:\n\t@echo "not ok 7 - the cause"; echo "3 passed, 1 failed, 0 skipped"; exit 1\n' >"$TMP/ci/Makefile"
out=$(CB_CI_LOG_DIR=$TMP/logs bash "$TMP/ci/.ci/run" 2>&1); rc=$?
is "$rc" 2 "CI: make's failure is the run's status"
log=$(readlink -f "$TMP/logs/last.log")
check "CI: last.log points at a log file" [ -f "$log" ]
like "$(cat "$log" 2>/dev/null)" "not ok 7 - the cause" "CI log: the test output"
like "$(cat "$log" 2>/dev/null)" "ci: exit 2 after [0-9]+ s" "CI log: ends with the status and the time"
like "$(cat "$log" 2>/dev/null)" "^ci: .* commit " "CI log: starts with when and which commit"
for i in $(seq 1 31); do touch -d "@$((1000000 + i))" "$TMP/logs/old$i.log"; done
CB_CI_LOG_DIR=$TMP/logs bash "$TMP/ci/.ci/run" >/dev/null 2>&1
is "$(find "$TMP/logs" -name '*.log' -type f | wc -l)" 30 "CI: the 30 newest logs are kept"
out=$(CB_TESTS_ROOT=$TMP bash "$ROOT/tests/run.sh" 2>&1); rc=$?
is "$(tail -n 1 <<<"$out") $rc" "2 passed, 0 failed, 2 skipped 0" "a file skipped whole takes nothing from 'passed'; exit 0"
done_testing
