#!/usr/bin/env bash
# tests/run.sh itself: its summary line is what CI reads, so it must count right. Runs the
# runner over a scratch tree of fake tests: passes, a failure, a skipped check, a file that
# skips entirely, a file that dies without a "not ok" line.
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
rm "$TMP/tests/t_c.sh" "$TMP/tests/t_d.sh"
out=$(CB_TESTS_ROOT=$TMP bash "$ROOT/tests/run.sh" 2>&1); rc=$?
is "$(tail -n 1 <<<"$out") $rc" "2 passed, 0 failed, 2 skipped 0" "a file skipped whole takes nothing from 'passed'; exit 0"
done_testing
