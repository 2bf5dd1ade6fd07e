#!/usr/bin/env bash
# Runs shellcheck -S warning (style notes are not failures, warnings are)
# on every shell script the repository tracks: *.sh and .ci/run.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
command -v shellcheck >/dev/null || skip_all "shellcheck not installed (make deps)"
if git rev-parse --git-dir >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.sh' '.ci/run')
else
  mapfile -t files < <(find . -name '*.sh' -not -path './build-*' | sed 's|^\./||'; [ -e .ci/run ] && echo .ci/run)
fi
ok "$([ "${#files[@]}" -gt 0 ]; echo $?)" "found ${#files[@]} shell scripts"
diag "shellcheck $(shellcheck --version | sed -n 's/^version: //p')"
for f in "${files[@]}"; do
  [ -e "$f" ] || continue
  out=$(shellcheck -x -P SCRIPTDIR -S warning "$f" 2>&1); rc=$?
  is "$rc" 0 "shellcheck $f"
  [ "$rc" = 0 ] || printf '%s\n' "$out" | grep -E '^In |SC[0-9]+' | head -n 10 | sed 's/^/#   /'
done
done_testing
