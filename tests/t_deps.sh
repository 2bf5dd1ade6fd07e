#!/usr/bin/env bash
# Dependencies by purpose: `make deps` (tools/install_deps.sh) installs what running needs, the
# test tools come with the tests (tests/install_deps.sh, which CI and `make test` run first, after
# the running needs). Every "command -v TOOL" in tests/, bench/, tools/ and the pipeline scripts
# has a matching `have TOOL ||` in one of the two, so no test skips on a fresh machine.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
RUN=tools/install_deps.sh TEST=tests/install_deps.sh
mapfile -t scripts < <(git ls-files 'tests/*.sh' 'bench/*.sh' 'tools/*.sh' run_experiments.sh setup_netns.sh 2>/dev/null)
# Tools of the base system (coreutils, bash, procps...) and the tools probed only to say
# which one is there: not packages to install.
BASE=" bash sh awk sed grep find timeout date mktemp python3 unshare ip perf id su git true apt-get systemctl "
mapfile -t tools < <(grep -hv "^[[:space:]]*#" "${scripts[@]}" | grep -oE 'command -v "?[A-Za-z0-9_.-]+"?' | sed -E 's/command -v "?//; s/"$//' | sort -u)
ok "$([ "${#tools[@]}" -gt 5 ]; echo $?)" "found the tools the scripts check for (${#tools[@]}: ${tools[*]})"
for t in "${tools[@]}"; do
  [[ "$BASE" == *" $t "* ]] && continue
  [[ "$t" == \$* ]] && continue
  is "$(cat "$RUN" "$TEST" | grep -cE "^ *have $t \\|\\|")" 1 "$t is installed by $RUN or $TEST"
done
run=$(cat "$RUN")
for p in gcc make iproute2 linux-perf python3-matplotlib liburing-dev; do
  like "$run" "need\\+=\\((.* )?${p}[ )]" "make deps ($RUN) installs $p"
done
for t in shellcheck clang-tidy valgrind sshd iperf3 sockperf cppcheck; do
  is "$(grep -cE "^ *have $t \\|\\|" "$RUN")" 0 "make deps leaves out the test tool $t"
done
like "$(cat "$TEST")" "deps_need_run" "$TEST installs what running needs first (a fresh machine's make test)"
like "$(cat .ci/run)" "install_deps.sh" "CI runs tests/install_deps.sh before the tests"
like "$(sed -n '/^test:/,/^$/p' Makefile)" "tests/install_deps.sh" "make test installs the test tools first"
check "the two install scripts are shellcheck-clean" shellcheck "$RUN" "$TEST"
# Without liburing, make stops with one line naming the package, not a wall of compiler errors.
out=$(make -s -C "$ROOT" -B -n A4_server.o HAVE_LIBURING= 2>&1); rc=$?
is "$rc $(grep -c '' <<<"$out")" "2 1" "make without liburing: exit 2, one line"
like "$out" "A4_server needs liburing.*Install liburing-dev" "...naming the package to install"
done_testing
