#!/usr/bin/env bash
# The footprint sub-sweep's analysis (analysis/footprint.py): its plan for run_experiments.sh, and
# its answers and figures, on synthetic rows and on the report fixtures (a real footprint
# sub-sweep without counters, and the same rows with counters): tests/footprint_checks.py, as TAP;
# then the command line run_experiments.sh calls.
# lane: beside (no network, no process of the programs: files and tools only); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
PY=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys; sys.exit(sys.version_info < (3, 7))' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || skip_all "no python3"

out=$("$PY" tests/footprint_checks.py 2>&1); rc=$?
while IFS=$'\t' read -r verdict what detail; do
  case $verdict in
    ok) ok 0 "$what" ;;
    "not ok") ok 1 "$what"; diag "  $detail" ;;
    *) diag "$verdict $what" ;;
  esac
done <<<"$out"
n=$(grep -cE $'^(ok|not ok)\t' <<<"$out")
check "footprint_checks.py ran to the end ($n checks, exit $rc)" test "$rc" -le 1 -a "$n" -ge 50

# The plan's command line: one basis line, an estimate, a run line per point; exit 2 and one line
# naming --footprints when a footprint cannot fit.
M=tests/fixtures/report/vm-nohw-footprint.machine.txt
o=$("$PY" analysis/footprint.py plan --machine "$M" --sizes 16384,65536 --threads 1,2 2>&1); rc=$?
is "$rc" 0 "plan from a machine file without cache sizes exits 0"
like "$o" "^basis 16KiB 512KiB 16MiB 128MiB \(fixed list" "... the fixed list, said so"
is "$(grep -c '^run ' <<<"$o")" 6 "... 3 footprints x 2 sizes (16 KiB is one message of either size: left out)"
like "$o" $'\nestimate [0-9]+\n' "... and an estimate"
o=$("$PY" analysis/footprint.py plan --machine "$M" --sizes 65536 --threads 1,8 --footprints 268435456 2>&1); rc=$?
like "$rc:$(wc -l <<<"$o"):$o" "^2:1:run_experiments: --footprints: 256 MiB x 8 connections" \
  "8 x 256 MiB does not fit the 1 GiB budget: exit 2, one line naming --footprints"
done_testing
