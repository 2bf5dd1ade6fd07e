#!/usr/bin/env bash
# Installs what copybench and its whole test suite need that is missing, from Debian/Ubuntu
# packages, so that no test of `make test` skips on a fresh machine for want of a tool.
# Idempotent: installs nothing when everything is there. tests/t_deps.sh checks that every
# tool the tests call is in this list.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have cc || need+=(gcc)
have make || need+=(make)
# A4_server sends through io_uring: it builds against liburing (the Makefile names it when missing).
[ -e /usr/include/liburing.h ] || need+=(liburing-dev)
have ip || need+=(iproute2)
have shellcheck || need+=(shellcheck)
have iperf3 || need+=(iperf3)
have sockperf || need+=(sockperf)
have clang || need+=(clang)
have clang-tidy || need+=(clang-tidy)
have cppcheck || need+=(cppcheck)
have valgrind || need+=(valgrind)
have jq || need+=(jq)
have tmux || need+=(tmux)
have taskset || need+=(util-linux)
have setsid || need+=(util-linux)
have ssh || need+=(openssh-client)
have ssh-keygen || need+=(openssh-client)
# sshd and ethtool live in /usr/sbin, which a non-root PATH may lack.
have sshd || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
have ethtool || [ -x /usr/sbin/ethtool ] || need+=(ethtool)
[ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] || \
  ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || need+=(libclang-rt-14-dev)
if ! perf --version >/dev/null 2>&1; then
  # Debian ships perf as linux-perf; Ubuntu as linux-tools-<kernel>.
  if grep -qi ubuntu /etc/os-release 2>/dev/null; then need+=(linux-tools-common "linux-tools-$(uname -r)"); else need+=(linux-perf); fi
fi
py_ok=0
for py in python3 /usr/bin/python3; do
  if have "$py" && "$py" -c 'import matplotlib' >/dev/null 2>&1; then py_ok=1; break; fi
done
[ "$py_ok" = 1 ] || need+=(python3-matplotlib)
if [ "${#need[@]}" = 0 ]; then echo "install_deps: everything is installed"; exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "install_deps: missing packages: ${need[*]}; run as root (sudo make deps) or install them with apt-get" >&2
  exit 1
fi
if ! have apt-get; then
  echo "install_deps: missing packages: ${need[*]}; no apt-get here, install them with your package manager" >&2
  exit 1
fi
echo "install_deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
# openssh-server is here only for tests/t_twohost.sh, which runs an sshd of its own on 127.0.0.1 in
# a private network namespace. The package would start (and enable at boot) a system sshd on port
# 22: a temporary policy-rc.d keeps it from starting, and it is disabled afterwards.
policy=""
if [[ " ${need[*]} " == *" openssh-server "* ]] && [ ! -e /usr/sbin/policy-rc.d ]; then
  policy=/usr/sbin/policy-rc.d
  trap 'rm -f "$policy"' EXIT
  printf '#!/bin/sh\n# install_deps.sh: no service starts while it installs packages\nexit 101\n' >"$policy"
  chmod 755 "$policy"
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}"
if [[ " ${need[*]} " == *" openssh-server "* ]] && have systemctl && [ -d /run/systemd/system ]; then
  systemctl disable ssh.service ssh.socket >/dev/null 2>&1 || true
  echo "install_deps: openssh-server installed for the tests only; its system service is disabled (systemctl enable --now ssh to use it)"
fi
