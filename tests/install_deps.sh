#!/usr/bin/env bash
# What the test suite needs, from Debian/Ubuntu packages: what running needs
# (tools/install_deps.sh, `make deps`), then the tools only the tests and the benchmarks use, so
# that no test of `make test` skips on a fresh machine for want of a tool. CI runs this first;
# `make test` runs it too. Idempotent. tests/t_deps.sh checks that every tool the tests call is
# in one of the two lists, and that the test tools stay out of `make deps`.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../tools/install_deps.sh disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/../tools/install_deps.sh"
deps_need_run
have shellcheck || need+=(shellcheck)
have iperf3 || need+=(iperf3)
have sockperf || need+=(sockperf)
have clang || need+=(clang)
have clang-tidy || need+=(clang-tidy)
have cppcheck || need+=(cppcheck)
have valgrind || need+=(valgrind)
have jq || need+=(jq)
have ssh-keygen || need+=(openssh-client)
# sshd lives in /usr/sbin, which a non-root PATH may lack.
have sshd || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
[ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] || \
  ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || need+=(libclang-rt-14-dev)
deps_install "install_deps (tests)"
