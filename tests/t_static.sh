#!/usr/bin/env bash
# Static analysis of the C sources (the programs, the test tools, the fuzz
# harnesses):
#  - cppcheck --enable=warning,performance,portability: no finding at all;
#  - clang-tidy, clang-analyzer-* and bugprone-* (minus the checks listed in
#    OFF below, each with its reason): no finding beyond the KNOWN list, which
#    names each accepted finding by file and check, with a count and why.
# lane: beside (no network, no process of the programs: files and tools only); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
mapfile -t srcs < <(ls ./*.c src/*.c tests/tools/*.c tests/fuzz_*.c tests/unit_*.c 2>/dev/null)

if command -v cppcheck >/dev/null; then
  out=$(cppcheck --enable=warning,performance,portability --inline-suppr --std=c11 -q -I. -Isrc \
    --suppress=missingIncludeSystem --error-exitcode=1 "${srcs[@]}" 2>&1); rc=$?
  is "$rc" 0 "cppcheck $(cppcheck --version | sed 's/Cppcheck //'): no findings in ${#srcs[@]} files"
  [ "$rc" = 0 ] || printf '%s\n' "$out" | sed -n 1,20p | sed 's/^/#   /'
else
  ok 0 "cppcheck not installed # SKIP"
fi

# Checks switched off, and why:
OFF=(
  -bugprone-easily-swappable-parameters   # style: (addr, port) pairs are fine
  -bugprone-reserved-identifier           # fuzz entry point LLVMFuzzerTestOneInput is a fixed name
  -bugprone-narrowing-conversions         # -Wall -Wextra -Werror already covers what matters
  -bugprone-assignment-in-if-condition
  -clang-analyzer-security.insecureAPI.*  # wants memcpy_s & co. (Annex K), not in glibc
  -clang-analyzer-valist.Uninitialized    # clang 14 false positive: va_list made by va_start in the caller
)
# Accepted findings: "file check count reason".
KNOWN=(
  "opts.c clang-analyzer-core.NullDereference 1 optarg of a required_argument option is never NULL (cb_server_parse, -b)"
)
if command -v clang-tidy >/dev/null; then
  checks="-*,clang-analyzer-*,bugprone-*,$(IFS=,; echo "${OFF[*]}")"
  # The unit tests (another engineer's, mid-writing) get cppcheck only.
  mapfile -t tidy < <(ls ./*.c src/*.c tests/tools/*.c tests/fuzz_*.c)
  errf=$(mktemp)
  out=$(clang-tidy -quiet --checks="$checks" "${tidy[@]}" -- -std=gnu11 -I. -Isrc 2>"$errf"); rc=$?
  # A clang-tidy that cannot parse a file (a missing header, a bad flag) reports errors and
  # exits non-zero with few or no warnings: that is not "no findings".
  nerr=$(( $(grep -cE '(^|: )error:' "$errf") + $(grep -cE '(^|: )error:' <<<"$out") ))
  is "$rc $nerr" "0 0" "clang-tidy ran cleanly on ${#tidy[@]} files (exit 0, no compile errors)"
  [ "$rc" = 0 ] || sed -n 1,10p "$errf" | sed 's/^/#   stderr: /'
  rm -f "$errf"
  found=$(printf '%s\n' "$out" | sed -n 's|^.*/\([^/:]*\):[0-9]*:[0-9]*: warning: .*\[\([^]]*\)\]$|\1 \2|p' | sort | uniq -c)
  unexpected=0
  while read -r n file check; do
    [ -n "${n:-}" ] || continue
    allowed=0
    for k in "${KNOWN[@]}"; do
      read -r kf kc kn _ <<<"$k"
      [ "$kf" = "$file" ] && [ "$kc" = "$check" ] && allowed=$kn
    done
    if [ "$n" -gt "$allowed" ]; then
      unexpected=$((unexpected + n - allowed))
      printf '%s\n' "$out" | grep -F "$file" | grep -F "[$check]" | sed 's/^/#   /'
    fi
  done <<<"$found"
  is "$unexpected" 0 "clang-tidy (clang-analyzer, bugprone) on ${#tidy[@]} files: no findings beyond the ${#KNOWN[@]} known ones"
  for k in "${KNOWN[@]}"; do diag "known: $k"; done
else
  ok 0 "clang-tidy not installed # SKIP"
fi
done_testing
