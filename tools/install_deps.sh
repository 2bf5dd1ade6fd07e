#!/usr/bin/env bash
# What running copybench needs, from Debian/Ubuntu packages (`make deps`): a C compiler and make,
# iproute2 (the namespaces), perf, matplotlib for the system python3, liburing-dev (the A4 build),
# tmux (make demo), util-linux (taskset for --pin), ssh and ethtool (two hosts). Idempotent:
# installs nothing when everything is there. The test suite's own tools (shellcheck, clang-tidy,
# valgrind, sshd, iperf3, sockperf...) come with the tests: tests/install_deps.sh installs these
# and then the test tools. Sourced by tests/install_deps.sh for deps_need_run and deps_install.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }

# deps_need_run: the packages running needs that are missing, into need
deps_need_run() {
  have cc || need+=(gcc)
  have make || need+=(make)
  have ip || need+=(iproute2)
  have tmux || need+=(tmux)
  have taskset || need+=(util-linux)
  have setsid || need+=(util-linux)
  have ssh || need+=(openssh-client)
  # ethtool lives in /usr/sbin, which a non-root PATH may lack.
  have ethtool || [ -x /usr/sbin/ethtool ] || need+=(ethtool)
  [ -e /usr/include/liburing.h ] || need+=(liburing-dev)
  if ! perf --version >/dev/null 2>&1; then
    # Debian ships perf as linux-perf; Ubuntu as linux-tools-<kernel>.
    if grep -qi ubuntu /etc/os-release 2>/dev/null; then need+=(linux-tools-common "linux-tools-$(uname -r)"); else need+=(linux-perf); fi
  fi
  local py py_ok=0
  for py in python3 /usr/bin/python3; do
    if have "$py" && "$py" -c 'import matplotlib' >/dev/null 2>&1; then py_ok=1; break; fi
  done
  [ "$py_ok" = 1 ] || need+=(python3-matplotlib)
}

# deps_install WHO: installs the packages in need (WHO names the caller in its lines)
deps_install() {
  local who=$1 policy=""
  if [ "${#need[@]}" = 0 ]; then echo "$who: everything is installed"; return 0; fi
  if [ "$(id -u)" != 0 ]; then
    echo "$who: missing packages: ${need[*]}; run as root (sudo) or install them with apt-get" >&2
    return 1
  fi
  if ! have apt-get; then
    echo "$who: missing packages: ${need[*]}; no apt-get here, install them with your package manager" >&2
    return 1
  fi
  echo "$who: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # openssh-server is there only for tests/t_twohost.sh, which runs an sshd of its own on
  # 127.0.0.1 in a private network namespace. The package would start (and enable at boot) a
  # system sshd on port 22: a temporary policy-rc.d keeps it from starting, and it is disabled
  # afterwards.
  if [[ " ${need[*]} " == *" openssh-server "* ]] && [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    # shellcheck disable=SC2064 # the path now
    trap "rm -f '$policy'" EXIT
    printf '#!/bin/sh\n# install_deps.sh: no service starts while it installs packages\nexit 101\n' >"$policy"
    chmod 755 "$policy"
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
  if [[ " ${need[*]} " == *" openssh-server "* ]] && have systemctl && [ -d /run/systemd/system ]; then
    systemctl disable ssh.service ssh.socket >/dev/null 2>&1 || true
    echo "$who: openssh-server installed for the tests only; its system service is disabled (systemctl enable --now ssh to use it)"
  fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  deps_need_run
  deps_install install_deps
fi
