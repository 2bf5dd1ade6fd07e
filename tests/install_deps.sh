#!/usr/bin/env bash
# Installs what copybench needs that is missing, from Debian/Ubuntu packages.
# Idempotent: installs nothing when everything is there.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have cc || need+=(gcc)
have make || need+=(make)
have ip || need+=(iproute2)
have shellcheck || need+=(shellcheck)
have iperf3 || need+=(iperf3)
have sockperf || need+=(sockperf)
have clang || need+=(clang)
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
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}"
