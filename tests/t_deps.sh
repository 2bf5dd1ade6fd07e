#!/usr/bin/env bash
# `make deps` (tests/install_deps.sh, which CI runs first) must install every tool the suite
# checks for, so that on a fresh machine no test skips for want of one: each "command -v TOOL"
# in tests/, bench/ and the pipeline scripts has a matching `have X` in install_deps.sh.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
mapfile -t scripts < <(git ls-files 'tests/*.sh' 'bench/*.sh' 'tools/*.sh' run_experiments.sh setup_netns.sh 2>/dev/null)
# Tools of the base system (coreutils, bash, procps...) and the tools probed only to say
# which one is there: not packages to install.
BASE=" bash sh awk sed grep find timeout date mktemp python3 unshare ip perf id su git true "
mapfile -t tools < <(grep -hv "^[[:space:]]*#" "${scripts[@]}" | grep -oE 'command -v "?[A-Za-z0-9_.-]+"?' | sed -E 's/command -v "?//; s/"$//' | sort -u)
ok "$([ "${#tools[@]}" -gt 5 ]; echo $?)" "found the tools the scripts check for (${#tools[@]}: ${tools[*]})"
for t in "${tools[@]}"; do
  [[ "$BASE" == *" $t "* ]] && continue
  [[ "$t" == \$* ]] && continue
  is "$(grep -cE "^have $t \\|\\|" tests/install_deps.sh)" 1 "install_deps.sh installs $t"
done
# perf and matplotlib are installed by name too (linux-perf / python3-matplotlib).
like "$(cat tests/install_deps.sh)" "linux-perf" "install_deps.sh installs perf (linux-perf / linux-tools)"
like "$(cat tests/install_deps.sh)" "python3-matplotlib" "install_deps.sh installs matplotlib for the system python3"
like "$(cat tests/install_deps.sh)" "liburing\.h \] \|\| need\+=\(liburing-dev\)" "install_deps.sh installs liburing-dev, which A4_server builds against"
# Without liburing, make stops with one line naming the package, not a wall of compiler errors.
out=$(make -s -C "$ROOT" -B -n A4_server.o HAVE_LIBURING= 2>&1); rc=$?
is "$rc $(grep -c '' <<<"$out")" "2 1" "make without liburing: exit 2, one line"
like "$out" "A4_server needs liburing.*Install liburing-dev" "...naming the package to install"
like "$(cat .ci/run)" "install_deps.sh" "CI runs install_deps.sh before the tests"
done_testing
