#!/usr/bin/env bash
# Runs shellcheck -S warning (style notes are not failures, warnings are)
# on every shell script the repository tracks: *.sh and .ci/run; and, in every
# script that sets pipefail, no pipeline into a reader that may quit early
# (`| grep -q`, `| head`): the writer then dies of SIGPIPE and the pipeline
# fails at random (setup_netns.sh status said "not up" 17 times in 40 so).
# lane: beside (no network, no process of the programs: files and tools only); tests/run.sh runs it beside the others
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
# One shellcheck for all of them (each file's sources are read once, not once per file that
# sources them: half the CPU), its findings ("FILE:LINE:COL: level: text [SCnnnn]") told apart
# by file. A run that fails without a finding (a file it cannot read) fails every file.
existing=()
for f in "${files[@]}"; do [ -e "$f" ] && existing+=("$f"); done
all=$(shellcheck -x -P SCRIPTDIR -S warning -f gcc "${existing[@]}" 2>&1); all_rc=$?
broken=""
[ "$all_rc" != 0 ] && ! grep -qE '\[SC[0-9]+\]$' <<<"$all" && broken=${all:-"(shellcheck exited $all_rc without a finding)"}
for f in "${existing[@]}"; do
  found=${broken:-$(awk -v f="$f:" 'index($0, f) == 1 && /\[SC[0-9]+\]$/' <<<"$all")}
  is "$(grep -c . <<<"$found")" 0 "shellcheck $f"
  [ -z "$found" ] || printf '%s\n' "$found" | sed -n 1,10p | sed 's/^/#   /'
done

# early_exit_pipes FILE: lines of FILE (not comments) that pipe into grep -q / head.
early_exit_pipes() {
  # (gr[e]p, h[e]ad: so that this line does not match itself)
  grep -nE '(^|[^|])\|[[:space:]]*(gr[e]p[[:space:]]+(-[[:alnum:]]*q[[:alnum:]]*|--quiet)|h[e]ad)([[:space:]]|$|\))' "$1" |
    grep -vE '^[0-9]+:[[:space:]]*#' || true
}
# The check itself must see the bug it is for.
probe=$(mktemp); printf 'set -o pipefail\nip addr \x7c grep -qF x\n' >"$probe"   # \x7c: a pipe
ok "$([ -n "$(early_exit_pipes "$probe")" ]; echo $?)" "the early-exit pipe check finds ip addr piped into grep -qF"
rm -f "$probe"
for f in "${files[@]}"; do
  [ -e "$f" ] && grep -q pipefail "$f" || continue
  bad=$(early_exit_pipes "$f")
  is "$bad" "" "$f: no pipeline into grep -q or head under pipefail"
done
done_testing
