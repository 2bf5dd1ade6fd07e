#!/usr/bin/env bash
# run_experiments.sh: the copybench sweep. Runs every technique (A1 two-copy, A2 sendmsg iovec,
# A3 MSG_ZEROCOPY, A4 io_uring zero-copy) over message sizes x client threads x repetitions, the
# server under `perf stat`:
# by default server and client in two network namespaces joined by a veth pair (setup_netns.sh);
# with --server-host, the server on another machine reached with ssh and the client here.
# Writes one CSV row per run, a side file describing the machine(s), then the plots (plots.py).
#
# Usage: run_experiments.sh [options]
#   --impls LIST      techniques, comma separated          [A1,A2,A3,A4]
#   --a4-threads LIST|all  the client thread counts A4 runs at: those of --threads also in LIST
#                     (none in common: all of them), to keep the default sweep's time [2]
#   --sizes LIST      message sizes: bytes, K/M suffixes, 16..64M [1K,4K,16K,64K]
#   --threads LIST    client threads (= connections)        [1,2,4,8]
#   --duration SEC    seconds per throughput (stream) run   [5]
#   --rr-duration SEC seconds per request/response run      [2]
#   --reps N          repetitions of the whole grid         [3]
#   --footprints LIST cold data: per-connection footprints (bytes, K/M/G; `none`: skip) for a
#                     sub-sweep after the main grid: the two largest --sizes x the two fewest
#                     --threads x every technique, stream, each server with --footprint
#                     [from the machine's cache sizes: L1d/2, L2/2, LLC/2, 8 x LLC; where it
#                     states none, 16K,512K,16M,256M; --quick: the largest only, at one size
#                     and connection count]. A footprint of one message or less is left out
#   --footprint-duration SEC  seconds per footprint run [3]
#   --out FILE        results CSV [the default sweep: results.csv here; any other run:
#                     runs/<UTC date-time>[-quick]/results.csv, so a smoke run never replaces
#                     the committed results]
#   --quick           smoke run, under a minute: sizes 1K,64K, threads 1,2, 1 s, 1 rep
#   --dry-run         check the options, print the plan and where results would go, run nothing
#   --no-netns        run over loopback in this namespace (no root needed)
#   --server-host [USER@]HOST
#                     two hosts: run every server on HOST through ssh (BatchMode: keys, no
#                     password prompt; one ControlMaster connection for the whole sweep), the
#                     client here. HOST needs make, a C compiler and, for counters, perf
#   --server-addr ADDR  the server's address the client connects to (the NIC under test)
#                     [the HOST part of --server-host]
#   --server-dir DIR  the copybench sources on HOST, built there with make; relative to the
#                     remote home [copybench]
#   --sync            first copy this tree's sources into DIR on HOST (tar over ssh), so both
#                     sides are built from the same sources (the programs refuse another protocol)
#   --rr / --no-rr    include / skip the request/response (latency) runs [included]
#   --no-plots        do not run plots.py at the end
#   --plots-only      only (re)draw the plots from --out
#   --profile / --no-profile  after the sweep, profile each technique x size once (perf record -g
#                     of server and client -> profiles.csv, plots/profile_*.png) [on, off with --quick]
#   --pin S:C         pin the server to CPU list S and the client to CPU list C (taskset),
#                     e.g. --pin 0:1, for steadier numbers; recorded in the pin column [off]
#   -h, --help        this text
#
# Every impl x size x threads configuration gets a stream run (throughput) and, unless --no-rr,
# a request/response run (`-m rr`, round-trip latency). Within a repetition the techniques run
# back to back for each configuration (A1, A2, A3, A4, A1, ...) so machine drift hits them alike.
# A4 needs io_uring on the server's host: where the kernel refuses it, its server says so and the
# sweep skips A4 (a note in the machine file), the other techniques run as usual.
# Side files next to the CSV: <name>.machine.txt (kernel, CPU, perf/counter availability, NIC,
# command) and the plots directory plots/ (PNGs + summary.md).
#
# Environment: CB_BIN_DIR (where the A*_server/A*_client binaries are, default: this directory),
# CB_PERF (perf command on the server side, default perf), CB_SSH (the ssh command, with any
# options of yours, default ssh), CB_NS_SERVER / CB_NS_CLIENT / CB_SUBNET (see setup_netns.sh),
# CB_PORT_BASE (first port tried, default 5301), CB_LISTEN_TIMEOUT (s to wait for the server, 10).
# CB_TCP_CC: the namespaces' TCP congestion control, auto (default: cubic, else reno), system
# (the machine's), or a name (see setup_netns.sh); --no-netns uses the machine's.
# CB_PROFILE_SECONDS / CB_PROFILE_THREADS: window (default 3 s, at most --duration) and connections
# (default 1) of the profiled runs.
set -euo pipefail

CB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CB_BIN_DIR=${CB_BIN_DIR:-$CB_DIR}
CB_PERF=${CB_PERF:-perf}
CB_PORT_BASE=${CB_PORT_BASE:-5301}
CB_LISTEN_TIMEOUT=${CB_LISTEN_TIMEOUT:-10}
CB_SSH=${CB_SSH:-ssh}
CB_ALL_EVENTS="cycles,instructions,L1-dcache-load-misses,LLC-load-misses,context-switches,cpu-migrations,task-clock"
# New columns go at the end: readers index by name, old readers keep working.
CSV_HEADER="impl,mode,msg_size,threads,rep,duration_s,throughput_gbps,msgs_per_s,lat_p50_us,lat_p99_us,lat_max_us,cycles,instructions,l1d_misses,llc_misses,context_switches,cpu_migrations,task_clock_ms,cycles_per_byte,cpu_ns_per_byte,zc_sends,zc_completions,zc_copied,verify_errors,client_cpu_pct,steal_pct,netns,pin,zc_copied_pct,server_host,client_host,path,footprint_bytes,send_cpu_ns_per_byte"

# shellcheck source=setup_netns.sh disable=SC1091
. "$CB_DIR/setup_netns.sh"
# shellcheck source=lib/size.sh disable=SC1091
. "$CB_DIR/lib/size.sh"

say() { echo "run_experiments: $*"; }
err() { echo "run_experiments: $*" >&2; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

# ---------------------------------------------------------------------------------------------
# perf output parsing (pure; tests source this file and call it)

# perf_parse FILE: reads `perf stat -x, -o FILE` output and prints one CSV fragment:
#   cycles,instructions,l1d_misses,llc_misses,context_switches,cpu_migrations,task_clock_ms
# <not supported> / <not counted> give an empty cell (never 0). Hybrid CPUs report an event once
# per PMU (cpu_core/cycles/, cpu_atom/cycles/): the total is the sum over the PMUs that counted.
# `cs` is context-switches, `migrations` cpu-migrations. task-clock is converted to milliseconds.
# Counted in user space only (`:u`, what perf does without privileges), context-switches and
# cpu-migrations are always 0: their cells are left empty.
perf_parse() {
  local f=$1
  if [ ! -s "$f" ]; then echo ",,,,,,"; return 0; fi
  awk -F, '
    BEGIN {
      n = split("cycles instructions l1d_misses llc_misses context_switches cpu_migrations task_clock_ms", order, " ")
      key["cycles"] = "cycles"; key["cpu-cycles"] = "cycles"
      key["instructions"] = "instructions"
      key["L1-dcache-load-misses"] = "l1d_misses"
      key["LLC-load-misses"] = "llc_misses"
      key["context-switches"] = "context_switches"; key["cs"] = "context_switches"
      key["cpu-migrations"] = "cpu_migrations"; key["migrations"] = "cpu_migrations"
      key["task-clock"] = "task_clock_ms"
    }
    /^#/ || NF < 3 { next }
    {
      val = $1; unit = $2; ev = $3
      gsub(/^[ \t]+|[ \t]+$/, "", val); gsub(/^[ \t]+|[ \t]+$/, "", ev); gsub(/^[ \t]+|[ \t]+$/, "", unit)
      # pmu/event/modifiers -> event ; event:modifiers -> event
      mods = ""
      if (ev ~ /^[^\/]+\/[^\/]+\//) { mods = ev; sub(/^.*\//, "", mods); sub(/^[^\/]+\//, "", ev); sub(/\/.*$/, "", ev) }
      if (ev ~ /:[A-Za-z]+$/) { mods = ev; sub(/^.*:/, "", mods); sub(/:[A-Za-z]+$/, "", ev) }
      if (!(ev in key)) next
      k = key[ev]
      # Without privileges perf counts user space only (":u"); context switches and migrations
      # happen in the kernel, so a user-only count is 0 whatever ran: not a measurement.
      if ((k == "context_switches" || k == "cpu_migrations") && mods ~ /u/ && mods !~ /k/) next
      if (val !~ /^[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$/) next   # <not supported>, <not counted>
      v = val + 0
      if (k == "task_clock_ms") {
        if (unit == "sec" || unit == "s") v *= 1000
        else if (unit == "usec" || unit == "us") v /= 1000
        else if (unit == "nsec" || unit == "ns") v /= 1000000
      }
      sum[k] += v; got[k] = 1
    }
    END {
      line = ""
      for (i = 1; i <= n; i++) {
        k = order[i]; cell = ""
        if (k in got) {
          if (k == "task_clock_ms") { cell = sprintf("%.3f", sum[k]); sub(/0+$/, "", cell); sub(/\.$/, "", cell) }
          else cell = sprintf("%.0f", sum[k])
        }
        line = line (i > 1 ? "," : "") cell
      }
      print line
    }' "$f"
}

# perf_raw_user_only RAW: 0 when perf marked the events of this `perf stat -x,` output `:u`, i.e.
# it counts user space only there (not root and kernel.perf_event_paranoid >= 2).
perf_raw_user_only() { grep -qE '^[^#]*,[^,/]*(:[A-Za-z]*u[A-Za-z]*|/[A-Za-z]*u[A-Za-z]*),' <<<"$1"; }

# ---------------------------------------------------------------------------------------------
# the server side: where it is, and the scripts that run there
#
# Whatever the server side is (this namespace with --no-netns, the server namespace, or another
# host with --server-host), the sweep does everything there through srv_exec, with the POSIX sh
# scripts below (the server host may have no bash). Nothing is written on the server side: the
# server's stdout, its stderr and perf's counts stream back (perf's lines prefixed "cbperf:", the
# wrapper's own "cbsrv:").

SRV_MODE=local   # local (this namespace, or SRV_PREFIX's), netns, loopback or ssh
SRV_PREFIX=()    # netns: ip netns exec NS
SSH_CMD=()       # ssh: CB_SSH + our options + the ControlMaster socket
SSH_HOST=""      # ssh: [USER@]HOST
SSH_MASTER=0     # 1 while the ControlMaster connection is open
SRV_DIR=""       # where the server programs are on the server side

# sh_quote ARGS...: the words as one POSIX shell command line, each single-quoted: ssh hands the
# server host one string, which its login shell parses.
sh_quote() {
  local a out="" q="'"
  for a in "$@"; do out+="${out:+ }'${a//$q/$q\\$q$q}'"; done
  printf '%s' "$out"
}

# srv_exec CMD ARGS...: runs CMD on the server side. The one place that knows what the server
# side is: `ip netns exec NS` for the namespaces, nothing for loopback, ssh (over the sweep's one
# ControlMaster connection) for another host. Callers give stdin (</dev/null when none).
srv_exec() {
  if [ "$SRV_MODE" = ssh ]; then
    "${SSH_CMD[@]}" -T "$SSH_HOST" -- "$(sh_quote "$@")"
  else
    "${SRV_PREFIX[@]}" "$@"
  fi
}

# Shell functions the server-side scripts share: which events perf counts there.
# cb_counts PERF EVENTS: perf counted EVENTS for `true` (a counter line came back; perf refuses
# the whole list, before running anything, when it cannot open one event).
# cb_usable PERF LIST: the comma-separated subset of LIST perf counts.
# shellcheck disable=SC2016 # these are scripts for the server side's sh: expanded there
SH_PERF_FNS='
cb_counts() {
  cb_out=$("$1" stat -x, --log-fd 3 -e "$2" -- true 3>&1 >/dev/null 2>&1) || return 1
  case $cb_out in *,*) return 0 ;; esac
  return 1
}
cb_usable() {
  if cb_counts "$1" "$2"; then echo "$2"; return 0; fi
  cb_ok="" cb_ifs=$IFS
  IFS=,
  for cb_e in $2; do
    IFS=$cb_ifs
    if cb_counts "$1" "$cb_e"; then cb_ok=${cb_ok:+$cb_ok,}$cb_e; fi
  done
  IFS=$cb_ifs
  echo "$cb_ok"
}
'

# SERVER_SH DIR PERF EVENTS PIN PROGRAM ARGS...: one server run. Runs DIR/PROGRAM ARGS (under
# `taskset -c PIN` and `perf stat -e EVENTS` when given); its stdout is this script's stdout,
# perf's counts come on stderr as "cbperf:" lines, and it says "cbsrv:pid=", "cbsrv:stat0=",
# "cbsrv:stat1=" (/proc/stat cpu totals and steal around the server's life) and, last,
# "cbsrv:exit=STATUS". When its stdin reaches EOF (over ssh: the sweep's end of the connection
# went away: Ctrl-C, a crash, a network failure) it stops the server as Ctrl-C would (TERM: the
# server prints its summary), then KILLs whatever is left 4 s later: no server outlives its sweep.
# shellcheck disable=SC2016
SERVER_SH='
cb_dir=$1 cb_perf=$2 cb_evs=$3 cb_pin=$4 cb_prog=$5
shift 5
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
export PATH
cb_fail() { echo "cbsrv: $* (on $(uname -n))" >&2; echo "cbsrv:exit=111" >&2; exit 111; }
cd -- "$cb_dir" 2>/dev/null || cb_fail "no directory $cb_dir"
[ -x "./$cb_prog" ] || cb_fail "no program $cb_prog in $(pwd) (build it: make)"
set -- "./$cb_prog" "$@"
[ -z "$cb_perf" ] || set -- "$cb_perf" stat -x, --log-fd 4 -e "$cb_evs" -- "$@"
[ -z "$cb_pin" ] || set -- taskset -c "$cb_pin" "$@"
cb_stat() { awk "/^cpu / { t = 0; for (i = 2; i <= 9 && i <= NF; i++) t += \$i; print t, \$9 + 0; exit }" /proc/stat; }
echo "cbsrv:pid=$$" >&2
echo "cbsrv:stat0=$(cb_stat)" >&2
exec 5<&0 3>&1
{
  "$@" >&3 </dev/null 5<&- &
  cb_p=$!
  (
    while read -r _; do :; done <&5
    cb_k=""
    [ -z "$cb_perf" ] || cb_k=$(pgrep -P "$cb_p" 2>/dev/null || cat "/proc/$cb_p/task/$cb_p/children" 2>/dev/null)
    [ -n "$cb_k" ] || cb_k=$cb_p
    kill -TERM $cb_k 2>/dev/null
    cb_i=0
    while kill -0 "$cb_p" 2>/dev/null && [ "$cb_i" -lt 40 ]; do sleep 0.1; cb_i=$((cb_i + 1)); done
    kill -KILL $cb_k "$cb_p" 2>/dev/null
  ) >/dev/null 2>&1 3>&- 4>&- &
  cb_w=$!
  wait "$cb_p"
  cb_rc=$?
  kill "$cb_w" 2>/dev/null
  echo "cbsrv:stat1=$(cb_stat)" >&2
  echo "cbsrv:exit=$cb_rc" >&2
} 4>&1 | sed "s/^/cbperf:/" >&2
'

# PROBE_SH PERF EVENTS DIR ADDR PIN: key=value lines describing the side it runs on: host,
# kernel, cpu_model, cores, virtualization, boot_id, paranoid; with PERF: perf_version,
# perf_events (the subset of EVENTS it counts) and perf_raw= lines (its output for them); with
# PIN: pin_ok; with ADDR: the interface carrying ADDR (nic, nic_mtu, nic_speed, and from ethtool
# nic_driver, nic_driver_version, nic_firmware, nic_bus, nic_sg = scatter-gather); with DIR:
# dir, src_sha (sha256 of the sources make builds from) and a missing= line per absent server.
# shellcheck disable=SC2016
PROBE_SH=$SH_PERF_FNS'
cb_perf=$1 cb_evs=$2 cb_dir=$3 cb_addr=$4 cb_pin=$5
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
LC_ALL=C
export PATH LC_ALL
echo "host=$(uname -n)"
echo "kernel=$(uname -sr)"
cb_m=$(awk -F": " "/^model name/ { print \$2; exit }" /proc/cpuinfo 2>/dev/null)
echo "cpu_model=${cb_m:-$(uname -m)}"
echo "cores=$(nproc 2>/dev/null)"
# every layer: a VM (kvm...) and a container (docker...) can both be true at once
cb_vm=$(systemd-detect-virt --vm 2>/dev/null); cb_ct=$(systemd-detect-virt --container 2>/dev/null)
cb_v=""
[ -n "$cb_vm" ] && [ "$cb_vm" != none ] && cb_v="$cb_vm (VM)"
[ -n "$cb_ct" ] && [ "$cb_ct" != none ] && cb_v="${cb_v:+$cb_v, }$cb_ct (container)"
[ -z "$cb_v" ] && [ -n "$cb_vm$cb_ct" ] && cb_v=none
echo "virtualization=${cb_v:-unknown}"
echo "cpu_threads=$(lscpu 2>/dev/null | awk -F: "/^Thread\\(s\\) per core/ { t = \$2 } /^Core\\(s\\) per socket/ { c = \$2 } /^Socket\\(s\\)/ { s = \$2 } END { gsub(/ /, \"\", t); gsub(/ /, \"\", c); gsub(/ /, \"\", s); if (s) print s \" socket(s) x \" c \" core(s) x \" t \" thread(s)\" }")"
lscpu 2>/dev/null | sed -n "s/^L1d cache: *\(.*\)/l1d_cache=\1/p; s/^L2 cache: *\(.*\)/l2_cache=\1/p; s/^L3 cache: *\(.*\)/l3_cache=\1/p"
# where lscpu says no cache sizes, /sys may (those of cpu0)
if [ -z "$(lscpu 2>/dev/null | sed -n "/^L1d cache/p")" ]; then
  for cb_c in /sys/devices/system/cpu/cpu0/cache/index*; do
    case "$(cat "$cb_c/level" "$cb_c/type" 2>/dev/null | tr -d "\n")" in
      1Data) echo "l1d_cache=$(cat "$cb_c/size") (/sys)" ;; 2Unified) echo "l2_cache=$(cat "$cb_c/size") (/sys)" ;;
      3Unified) echo "l3_cache=$(cat "$cb_c/size") (/sys)" ;;
    esac
  done
fi
echo "memory=$(awk "/^MemTotal/ { printf \"%.1f GiB\", \$2 / 1048576 }" /proc/meminfo 2>/dev/null)"
echo "tcp_cc=$(cat /proc/sys/net/ipv4/tcp_congestion_control 2>/dev/null)"
echo "qdisc=$(tc qdisc show dev "$(ip route get "${cb_addr:-127.0.0.1}" 2>/dev/null | sed -n "s/.* dev \([^ ]*\).*/\1/p")" 2>/dev/null | awk "NR == 1 { print \$2 }")"
echo "boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"
echo "paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null)"
if [ -n "$cb_perf" ] && command -v "$cb_perf" >/dev/null 2>&1; then
  echo "perf_version=$("$cb_perf" --version 2>/dev/null)"
  cb_ok=$(cb_usable "$cb_perf" "$cb_evs")
  echo "perf_events=$cb_ok"
  if [ -n "$cb_ok" ]; then
    "$cb_perf" stat -x, --log-fd 3 -e "$cb_ok" -- true 3>&1 >/dev/null 2>&1 | sed "s/^/perf_raw=/"
  fi
fi
if [ -n "$cb_pin" ]; then
  if taskset -c "$cb_pin" true 2>/dev/null; then echo "pin_ok=1"; else echo "pin_ok=0"; fi
fi
if [ -n "$cb_addr" ]; then
  cb_dev=$(ip -o addr show 2>/dev/null | awk -v a="$cb_addr" "{ split(\$4, p, \"/\"); if (p[1] == a && d == \"\") { d = \$2; sub(/@.*/, \"\", d) } } END { print d }")
  echo "nic=$cb_dev"
  if [ -n "$cb_dev" ]; then
    echo "nic_mtu=$(cat "/sys/class/net/$cb_dev/mtu" 2>/dev/null)"
    echo "nic_speed=$(cat "/sys/class/net/$cb_dev/speed" 2>/dev/null)"
    if command -v ethtool >/dev/null 2>&1; then
      ethtool -i "$cb_dev" 2>/dev/null | sed -n "s/^driver: */nic_driver=/p; s/^version: */nic_driver_version=/p; s/^firmware-version: */nic_firmware=/p; s/^bus-info: */nic_bus=/p"
      cb_sg=$(ethtool -k "$cb_dev" 2>/dev/null | sed -n "s/^scatter-gather: *//p")
      echo "nic_sg=${cb_sg:-unknown}"
    else
      echo "nic_ethtool=missing"
    fi
  fi
fi
if [ -n "$cb_dir" ]; then
  if cd -- "$cb_dir" 2>/dev/null; then
    echo "dir=$(pwd)"
    cb_sha=$(cat Makefile A[0-9]_*.c src/*.c src/*.h 2>/dev/null | sha256sum 2>/dev/null)
    echo "src_sha=${cb_sha%% *}"
    for cb_p in A1_server A2_server A3_server A4_server; do [ -x "$cb_p" ] || echo "missing=$cb_p"; done
  else
    echo "dir="
  fi
fi
'

# SYNC_SH DIR: unpack the tar stream on stdin into DIR (created). -m: the files get the time of
# the copy, so make rebuilds from them even if older objects are there.
# shellcheck disable=SC2016
SYNC_SH='mkdir -p -- "$1" && cd -- "$1" && exec tar -x -m -f -'

# MAKE_SH DIR: build the programs in DIR.
# shellcheck disable=SC2016
MAKE_SH='
cd -- "$1" 2>/dev/null || { echo "no directory $1 on $(uname -n): copy the sources there (--sync)" >&2; exit 3; }
[ -f Makefile ] || { echo "no Makefile in $(pwd) on $(uname -n): copy the sources there (--sync)" >&2; exit 3; }
command -v make >/dev/null 2>&1 || { echo "make is not installed on $(uname -n)" >&2; exit 3; }
exec make all
'

# WAIT_GONE_SH PID TENTHS: exit 0 once PID is gone, 1 if it is still there after TENTHS x 0.1 s.
# shellcheck disable=SC2016
WAIT_GONE_SH='cb_i=0
while kill -0 "$1" 2>/dev/null; do [ "$cb_i" -ge "$2" ] && exit 1; sleep 0.1; cb_i=$((cb_i + 1)); done'

# perf_usable_events LIST: the comma-separated subset of LIST that `perf stat` (CB_PERF) counts on
# the server side (an event perf refuses makes the whole perf invocation fail before it runs anything).
perf_usable_events() {
  # shellcheck disable=SC2016 # $1 $2: the server side's sh expands them
  srv_exec sh -c "$SH_PERF_FNS"'cb_usable "$1" "$2"' cbperf "$CB_PERF" "$1" </dev/null
}

# ssh_open: the ControlMaster connection every server-side command of the sweep then shares (one
# handshake for the whole sweep). BatchMode: never a password prompt, a clear failure instead.
# ControlPersist: if the sweep dies without closing it (SIGKILL), it goes by itself once idle.
ssh_open() {
  local words
  read -ra words <<<"$CB_SSH"
  if [ "${#words[@]}" = 0 ] || ! command -v "${words[0]}" >/dev/null 2>&1; then
    err "--server-host needs ssh: '${words[0]:-}' not found (CB_SSH='$CB_SSH'; apt-get install openssh-client)"; exit 1
  fi
  SSH_CMD=("${words[@]}" -o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=5 -o ServerAliveCountMax=3
           -o ControlPath="$WORK/ssh.ctl")
  if ! "${SSH_CMD[@]}" -M -N -f -o ControlPersist=60 "$SSH_HOST" </dev/null >/dev/null 2>"$WORK/ssh.err"; then
    err "--server-host $SSH_HOST: cannot connect with ssh: $(last_line "$WORK/ssh.err")"; exit 1
  fi
  SSH_MASTER=1
  if ! "${SSH_CMD[@]}" -O check "$SSH_HOST" </dev/null >/dev/null 2>"$WORK/ssh.err"; then
    err "--server-host $SSH_HOST: the ssh connection did not stay up: $(last_line "$WORK/ssh.err")"; exit 1
  fi
}

ssh_close() {
  [ "$SSH_MASTER" = 1 ] || return 0
  SSH_MASTER=0
  "${SSH_CMD[@]}" -O exit "$SSH_HOST" </dev/null >/dev/null 2>&1 || true
}

# last_line FILE: its last non-blank line, carriage returns removed (for one-line errors).
last_line() { awk 'NF { l = $0 } END { gsub(/\r/, "", l); print l }' "$1" 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
# small helpers

# kv KEY LINE: value of KEY=VALUE in a result line ("" when absent or not a plain number/word).
kv() {
  local k=$1 w
  for w in $2; do
    if [ "${w%%=*}" = "$k" ] && [ "$w" != "$k" ]; then
      w=${w#*=}
      [[ "$w" =~ ^[A-Za-z0-9._+-]*$ ]] && echo "$w"
      return 0
    fi
  done
}

# calc EXPR VARS...: float arithmetic via awk; prints "" when an input is empty or a divisor is 0.
per_byte() { # per_byte NUMERATOR SCALE BYTES
  awk -v a="$1" -v s="$2" -v b="$3" 'BEGIN { if (a == "" || b == "" || b + 0 <= 0) print ""; else printf "%.6g\n", a * s / b }'
}

fmt_dur() { # seconds -> 1h02m, 12m30s, 45s
  local s=${1%.*}
  if [ "$s" -ge 3600 ]; then printf '%dh%02dm' $((s / 3600)) $((s % 3600 / 60))
  elif [ "$s" -ge 60 ]; then printf '%dm%02ds' $((s / 60)) $((s % 60))
  else printf '%ds' "$s"; fi
}

cpu_stat() { awk '/^cpu /{ t = 0; for (i = 2; i <= 9 && i <= NF; i++) t += $i; print t, $9 + 0; exit }' /proc/stat; }
steal_pct() { # steal_pct "TOTAL0 STEAL0" "TOTAL1 STEAL1"
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); d = y[1] - x[1]
    if (d <= 0) print ""; else printf "%.2f\n", 100 * (y[2] - x[2]) / d }'
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f\n", b - a }'; }

is_posint() { [[ "$1" =~ ^[1-9][0-9]*$ ]]; }
is_posnum() { [[ "$1" =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v v="$1" 'BEGIN { exit !(v > 0) }'; }
# in_window SEC: SEC is a measured window the client takes (-d: 0.01..86400 s)
in_window() { [[ "$1" =~ ^[0-9]{1,5}(\.[0-9]+)?$ ]] && awk -v v="$1" 'BEGIN { exit !(v >= 0.01 && v <= 86400) }'; }

# check_out_dir: OUT's directory exists or can be made (what the check makes, it removes), and it is
# not the committed results' directory unless OUT is the committed results.csv itself: the side
# files (profiles.csv, plots/) of any other CSV there would replace the committed ones.
check_out_dir() {
  local dir top="" why
  dir=$(dirname "$OUT")
  if [ "$(cd "$dir" 2>/dev/null && pwd -P)" = "$(cd "$CB_DIR" && pwd -P)" ] && [ "$(basename "$OUT")" != results.csv ]; then
    opt_err "--out: '$OUT' is in the committed results' directory, whose profiles.csv and plots/ belong to results.csv; write it elsewhere (e.g. runs/mine/results.csv)"
  fi
  [ ! -e "$OUT" ] || [ -f "$OUT" ] || opt_err "--out: '$OUT' exists and is not a file"
  [ -d "$dir" ] && return 0
  top=$dir
  while [ ! -e "$(dirname "$top")" ]; do top=$(dirname "$top"); done
  why=$(mkdir -p -- "$dir" 2>&1) || opt_err "--out: cannot make directory '$dir': ${why##*: }"
  # Only a check: remove what it just made, deepest first, so a run that stops before its sweep
  # (a dry run, an unreachable server host) leaves no trace; the sweep makes it again to write.
  while :; do rmdir -- "$dir" 2>/dev/null || break; [ "$dir" = "$top" ] && break; dir=$(dirname "$dir"); done
}

# split_list OPTION VALUE: prints the items of a comma separated list (spaces around the commas
# allowed), one per line; an empty item (a trailing, leading or doubled comma) is a usage error.
split_list() {
  local v=${2//[[:space:]]/}
  [[ "$v" != ,* && "$v" != *, && "$v" != *,,* ]] || opt_err "$1: '$2' has an empty item (a stray comma)"
  tr -s ', ' '\n' <<<"$2" | sed '/^$/d'
}

# ---------------------------------------------------------------------------------------------
# processes

NETNS=1
CLI_PREFIX=()
CLI_PIN=()   # taskset -c CPUS for the client, with --pin (the server's CPUs go to SERVER_SH)
PIN=""
SERVER_ADDR=""   # the address the client connects to
PATH_KIND=""     # what the data crosses: loopback, veth or nic (the path column)
SERVER_NAME=""   # the server_host and client_host columns
CLIENT_NAME=""
SRV_PID=""
CLI_PID=""
WORK=""
NETNS_CREATED=0
PIDFILE=""
declare -A SRVP=() CLIP=()   # PROBE_SH's answers: the server side, the client side (two hosts)

ns_ss() { "${SRV_PREFIX[@]}" ss "$@"; }

# descendants PID: PID and every process below it
descendants() {
  local p c
  for p in "$@"; do
    echo "$p"
    for c in $(pgrep -P "$p" 2>/dev/null || true); do descendants "$c"; done
  done
}

# stop_tree PID: TERM PID and every process below it (a server prints its summary on TERM), then
# KILL what is left after 3 s. Over ssh the tree is the local ssh client: the server host sees the
# connection close and stops the server itself (SERVER_SH); remote_stopped waits for that.
stop_tree() {
  local root=$1 pids i
  [ -n "$root" ] || return 0
  pids=$(descendants "$root" | tr '\n' ' ')
  [ -n "${pids// /}" ] || return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for i in $(seq 30); do
    local alive=""
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
    [ -n "$alive" ] || return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  : "$i"
}

# remote_stopped DIR: after the local end of a run's ssh is gone, wait (8 s at most) until the
# server host's side of that run (its cbsrv:pid, in DIR/srv.err) has stopped too; say so if not.
remote_stopped() {
  local d=$1 rpid rc=0
  [ "$SRV_MODE" = ssh ] || return 0
  rpid=$(sed -n 's/^cbsrv:pid=\([0-9][0-9]*\)$/\1/p' "$d/srv.err" 2>/dev/null | tail -n 1)
  [ -n "$rpid" ] || return 0
  srv_exec sh -c "$WAIT_GONE_SH" cbwait "$rpid" 80 </dev/null >/dev/null 2>&1 || rc=$?
  case $rc in
    0) return 0 ;;
    1) err "the server side of the run on $SSH_HOST (pid $rpid) is still running 8 s after the sweep left it; see: ssh $SSH_HOST ps -s $rpid" ;;
    *) err "could not check that the server on $SSH_HOST stopped (ssh exit $rc); it stops itself when its connection closes" ;;
  esac
  return 1
}

port_in_use() { [ -n "$(ns_ss -Htan "( sport = :$1 )" 2>/dev/null || true)" ]; }
pick_port() {
  local p=$1 tries
  for tries in $(seq 200); do
    port_in_use "$p" || { echo "$p"; return 0; }
    p=$((p + 1)); [ "$p" -gt 65000 ] && p=$CB_PORT_BASE
  done
  : "$tries"
  echo "$p"
}
# listening_port FILE: the port in the server's "listening addr=A port=P ..." line
listening_port() { sed -n 's/^listening .*port=\([0-9][0-9]*\).*/\1/p' "$1" 2>/dev/null | tail -n 1; }
is_listening() { # is_listening PORT SERVER_STDOUT
  [ -n "$(ns_ss -Htln "( sport = :$1 )" 2>/dev/null || true)" ] || grep -q "^listening .*port=$1\b" "$2" 2>/dev/null
}
# server_listening DIR: the run's server listens. On another host the sweep cannot look at its
# sockets: the server chose the port (-p 0) and its listening line, streamed back, says which.
server_listening() {
  if [ "$SRV_MODE" = ssh ]; then [ -n "$(listening_port "$1/srv.out")" ]; else is_listening "$PORT" "$1/srv.out"; fi
}

# leftovers of a crashed earlier run with this --out: the servers it recorded (loopback). Its
# namespaces are cb_netns_acquire's: removed only when provably abandoned.
clean_leftovers() {
  if [ -s "$PIDFILE" ]; then
    local p exe
    while read -r p; do
      [[ "$p" =~ ^[0-9]+$ ]] || continue
      exe=$(readlink "/proc/$p/exe" 2>/dev/null || true)
      case "$exe" in
        "$CB_BIN_DIR"/A[0-9]_server|"$CB_BIN_DIR"/A[0-9]_client)
          say "stopping leftover $exe (pid $p) from an earlier run"; kill -TERM "$p" 2>/dev/null || true ;;
      esac
    done <"$PIDFILE"
  fi
  rm -f "$PIDFILE"
}

cleanup() {
  local rc=$?
  trap '' INT TERM
  set +e
  [ -n "$CLI_PID" ] && stop_tree "$CLI_PID"
  if [ -n "$SRV_PID" ]; then
    stop_tree "$SRV_PID"
    remote_stopped "$WORK/run"
  fi
  ssh_close
  if [ "$NETNS_CREATED" = 1 ]; then
    cb_netns_down >/dev/null 2>&1 || err "could not remove namespaces $CB_NS_SERVER/$CB_NS_CLIENT (try: CB_NS_SERVER=$CB_NS_SERVER CB_NS_CLIENT=$CB_NS_CLIENT ./setup_netns.sh down)"
  fi
  [ -n "$PIDFILE" ] && rm -f "$PIDFILE"
  [ -n "$WORK" ] && rm -rf "$WORK"
  exit "$rc"
}
on_signal() {
  echo >&2
  err "interrupted ($1): stopping; rows written so far are in ${OUT:-no file yet}"
  exit 130
}

# ---------------------------------------------------------------------------------------------
# one run

PERF_EVENTS=""       # events in use ("" = counters off)
RUN_FAILURES=0

# srv_launch DIR EVENTS PROGRAM ARGS...: starts PROGRAM on the server side in the background
# (SRV_PID is this end of it), under perf when EVENTS is set. DIR/srv.out gets its stdout,
# DIR/srv.err its stderr with perf's counts and the server side's own lines (SERVER_SH).
srv_launch() {
  local d=$1 evs=$2 perf="" pin=""
  shift 2
  [ -z "$evs" ] || perf=$CB_PERF
  [ -z "$PIN" ] || pin=${PIN%%:*}
  rm -f "$d/conn"; mkfifo "$d/conn"
  # stdin: a FIFO opened read-write, so it never reads EOF while this end lives; over ssh the
  # server host's end of it is the connection, whose EOF stops the server there.
  srv_exec sh -c "$SERVER_SH" cbsrv "$SRV_DIR" "$perf" "$evs" "$pin" "$@" 0<>"$d/conn" >"$d/srv.out" 2>"$d/srv.err" &
  SRV_PID=$!
}

# srv_collect DIR STATUS: after the server side has ended, perf's counts into DIR/perf.txt and the
# rest of its stderr into DIR/srv.log; SRV_RC = the server's exit status as the server side saw it
# (STATUS, this end's, when the side could not say: ssh's 255 is a failed connection);
# SRV_STAT0/1: /proc/stat on the server side around the server's life.
srv_collect() {
  local d=$1 m
  sed -n 's/^cbperf://p' "$d/srv.err" >"$d/perf.txt" 2>/dev/null || true
  grep -v -e '^cbperf:' -e '^cbsrv:' "$d/srv.err" >"$d/srv.log" 2>/dev/null || true
  m=$(sed -n 's/^cbsrv:exit=\([0-9][0-9]*\)$/\1/p' "$d/srv.err" 2>/dev/null | tail -n 1)
  SRV_RC=${m:-$2}
  SRV_STAT0=$(sed -n 's/^cbsrv:stat0=//p' "$d/srv.err" 2>/dev/null | tail -n 1)
  SRV_STAT1=$(sed -n 's/^cbsrv:stat1=//p' "$d/srv.err" 2>/dev/null | tail -n 1)
}

# start_server IMPL THREADS DIR [FOOTPRINT]: starts the IMPL server (with --footprint FOOTPRINT
# when given) on the server side under perf, on a free port, and polls until it listens. Sets SRV_PID and PORT; returns 1 (server stopped, message
# said) when it never listens. If perf fails before it runs the server (it refused an event), the
# events it still counts are asked for and the server started again, once.
start_server() {
  local impl=$1 threads=$2 d=$3 fp=${4:-} t0 rc retried=0 evs2 where=""
  [ "$SRV_MODE" = ssh ] && where=" on $SSH_HOST"
  if [ "$SRV_MODE" = ssh ]; then
    PORT=0   # the server picks a free port; its listening line says which
  else
    PORT=$(pick_port "$NEXT_PORT")
    NEXT_PORT=$((PORT + 1)); [ "$NEXT_PORT" -gt 65000 ] && NEXT_PORT=$CB_PORT_BASE
  fi
  local sargs=(-n "$threads" -p "$PORT")
  [ "$SRV_MODE" = loopback ] && sargs+=(-b 127.0.0.1)
  [ -z "$fp" ] || sargs+=(--footprint "$fp")

  while :; do
    srv_launch "$d" "$PERF_EVENTS" "${impl}_server" "${sargs[@]}"
    t0=$(now)
    while ! server_listening "$d"; do
      if ! kill -0 "$SRV_PID" 2>/dev/null; then
        rc=0; wait "$SRV_PID" 2>/dev/null || rc=$?
        SRV_PID=""
        srv_collect "$d" "$rc"
        if [ "$retried" = 0 ] && [ -n "$PERF_EVENTS" ] && [ ! -s "$d/perf.txt" ] && [ ! -s "$d/srv.out" ]; then
          evs2=$(perf_usable_events "$PERF_EVENTS") || evs2=""
          if [ "$evs2" != "$PERF_EVENTS" ]; then
            err "perf refused events '$PERF_EVENTS'$where (exit $SRV_RC); retrying with '${evs2:-no perf}'"
            PERF_EVENTS=$evs2; retried=1
            continue 2
          fi
        fi
        err "$impl server exited ($SRV_RC) before listening$where:"; tail -n 5 "$d/srv.log" >&2
        return 1
      fi
      if awk -v a="$t0" -v b="$(now)" -v t="$CB_LISTEN_TIMEOUT" 'BEGIN { exit !(b - a > t) }'; then
        err "$impl server not listening$where after ${CB_LISTEN_TIMEOUT}s; giving up on this run"
        stop_tree "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true
        remote_stopped "$d" || true
        SRV_PID=""
        srv_collect "$d" 1; tail -n 5 "$d/srv.log" >&2
        return 1
      fi
      sleep 0.05
    done
    break
  done
  [ "$SRV_MODE" = ssh ] && PORT=$(listening_port "$d/srv.out")
  if [ "$SRV_MODE" = loopback ]; then descendants "$SRV_PID" >"$PIDFILE" 2>/dev/null || true; fi
  return 0
}

# run_client IMPL MODE SIZE THREADS DURATION DIR: the client against SERVER_ADDR:PORT, output in
# DIR/cli.out and DIR/cli.err; sets CLI_RC and STAT0/STAT1 (/proc/stat around it, for steal).
run_client() {
  local impl=$1 mode=$2 size=$3 threads=$4 dur=$5 d=$6 cli=$CB_BIN_DIR/${1}_client tmo
  STAT0=$(cpu_stat)
  local cargs=(-H "$SERVER_ADDR" -p "$PORT" -s "$size" -t "$threads" -d "$dur")
  [ "$mode" = rr ] && cargs+=(-m rr)
  tmo=$(awk -v d="$dur" 'BEGIN { printf "%d\n", d + 30 }')
  "${CLI_PREFIX[@]}" "${CLI_PIN[@]}" timeout -k 5 "$tmo" "$cli" "${cargs[@]}" >"$d/cli.out" 2>"$d/cli.err" &
  CLI_PID=$!
  CLI_RC=0; wait "$CLI_PID" || CLI_RC=$?
  CLI_PID=""
  STAT1=$(cpu_stat)
}

# wait_server IMPL DIR: the server exits by itself once its THREADS connections are gone;
# bounded wait, then stop it. Sets SRV_RC (and the rest srv_collect sets).
wait_server() {
  local impl=$1 d=$2 i rc=0 stopped=0
  for i in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SRV_PID" 2>/dev/null; then
    err "$impl server still running 10 s after the client finished; stopping it"
    stop_tree "$SRV_PID"; stopped=1
  fi
  wait "$SRV_PID" 2>/dev/null || rc=$?
  [ "$stopped" = 0 ] || remote_stopped "$d" || true
  SRV_PID=""
  : "$i"
  srv_collect "$d" "$rc"
}

# pct_of PART WHOLE: PART / WHOLE x 100 to 2 decimals; "" when either is empty or WHOLE is 0
pct_of() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 <= 0) print ""; else printf "%.2f\n", 100 * a / b }'; }
# max_of A B: the larger of two numbers, either may be empty
max_of() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "") print b; else if (b == "" || a + 0 >= b + 0) print a; else print b }'; }

# write_row IMPL MODE SIZE THREADS REP DURATION DIR CLIENT_LINE SERVER_LINE FOOTPRINT: one CSV row
# from the two result lines and perf's output, appended in one write. Sets LAST_SUMMARY.
write_row() {
  local impl=$1 mode=$2 size=$3 threads=$4 rep=$5 dur=$6 d=$7 cline=$8 sline=$9 fp=${10:-$3}
  local counters sbytes cyc tclk
  counters=$(perf_parse "$d/perf.txt")
  sbytes=$(kv bytes "$sline")
  IFS=, read -r cyc _ _ _ _ _ tclk <<<"$counters"
  local dur_s
  dur_s=$(kv duration_s "$cline"); [ -n "$dur_s" ] || dur_s=$dur
  local zs="" zc="" zcp=""
  if [ "$impl" = A3 ] || [ "$impl" = A4 ]; then zs=$(kv zc_sends "$sline"); zc=$(kv zc_completions "$sline"); zcp=$(kv zc_copied "$sline"); fi
  local lat steal
  lat="$(kv lat_p50_us "$cline"),$(kv lat_p99_us "$cline"),$(kv lat_max_us "$cline")"
  # A stream message's one-way latency is the client's clock minus the server's stamp: on two
  # hosts, two monotonic clocks with unrelated origins. Not a measurement: left empty.
  [ "$SRV_MODE" = ssh ] && [ "$mode" = stream ] && lat=",,"
  steal=$(steal_pct "$STAT0" "$STAT1")
  # Two hosts: the larger of the client host's steal (around the client) and the server host's
  # (over the server's life), so noise on either shows.
  [ "$SRV_MODE" = ssh ] && steal=$(max_of "$steal" "$(steal_pct "$SRV_STAT0" "$SRV_STAT1")")
  local row
  row="$impl,$mode,$size,$threads,$rep,$dur_s,$(kv gbps "$cline"),$(kv msgs_per_s "$cline"),$lat,$counters,$(per_byte "$cyc" 1 "$sbytes"),$(per_byte "$tclk" 1000000 "$sbytes"),$zs,$zc,$zcp,$(kv verify_errors "$cline"),$(kv cpu_pct "$cline"),$steal,$NETNS,$PIN,$(pct_of "$zcp" "$zc"),$SERVER_NAME,$CLIENT_NAME,$PATH_KIND,$fp,$(per_byte "$(kv send_cpu_s "$sline")" 1000000000 "$sbytes")"
  # whole row at once: build it in a file, append with one write
  printf '%s\n' "$row" >"$d/row"
  cat "$d/row" >>"$OUT"
  LAST_SUMMARY="$(kv gbps "$cline") Gbps"
  [ "$mode" = rr ] && LAST_SUMMARY="$LAST_SUMMARY, p50 $(kv lat_p50_us "$cline") us p99 $(kv lat_p99_us "$cline") us"
  return 0
}

# a4_refused DIR: the A4 server just started says io_uring is refused on its host (uring=0 in its
# listening line): stop it, note why in the machine file once (A4_SKIP), return 0.
A4_SKIP=""
a4_refused() {
  local d=$1 line why
  line=$(grep -m 1 '^listening ' "$d/srv.out" 2>/dev/null || true)
  [[ " $line " == *" uring=0 "* ]] || return 1
  stop_tree "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true
  remote_stopped "$d" || true
  SRV_PID=""
  srv_collect "$d" 0
  why=$(grep -m 1 'io_uring unavailable' "$d/srv.log" 2>/dev/null || true)
  A4_SKIP="io_uring unavailable on the server's host (uring_error=$(kv uring_error "$line")): ${why#*io_uring unavailable: }"
  err "A4 skipped for the rest of the sweep: $A4_SKIP"
  echo "a4: skipped: $A4_SKIP" >>"$BASE.machine.txt"
  return 0
}

# run_one IMPL MODE SIZE THREADS REP DURATION [FOOTPRINT]: runs server + client, appends one CSV
# row.
# Sets LAST_SUMMARY for the progress line. Returns 1 when the run failed (no row written),
# 2 when A4 was skipped (io_uring refused on the server's host: not a failure).
run_one() {
  local impl=$1 mode=$2 size=$3 threads=$4 rep=$5 dur=$6 fp=${7:-}
  local d=$WORK/run cline sline
  rm -rf "$d"; mkdir -p "$d"
  start_server "$impl" "$threads" "$d" "$fp" || return 1
  if [ "$impl" = A4 ] && a4_refused "$d"; then return 2; fi
  run_client "$impl" "$mode" "$size" "$threads" "$dur" "$d"
  wait_server "$impl" "$d"

  cline=$(grep '^result ' "$d/cli.out" | tail -n 1 || true)
  sline=$(grep '^result ' "$d/srv.out" | tail -n 1 || true)
  if [ "$CLI_RC" != 0 ] || [ -z "$cline" ]; then
    err "$impl client failed (exit $CLI_RC) for $mode size $size threads $threads; no row written:"
    tail -n 5 "$d/cli.err" >&2
    # perf exits 0 when the server it ran was killed by a signal: it says so on stderr instead
    local where=""; [ "$SRV_MODE" = ssh ] && where=" on $SSH_HOST"
    if [ "$SRV_RC" != 0 ]; then err "  the server$where exited $SRV_RC:"; tail -n 3 "$d/srv.log" >&2
    elif [ -s "$d/srv.log" ]; then err "  the server$where said:"; tail -n 3 "$d/srv.log" >&2; fi
    return 1
  fi
  [ "$SRV_RC" != 0 ] && err "note: $impl server exited $SRV_RC"
  [ -z "$sline" ] && err "note: $impl server printed no result line; per-byte costs left empty"
  write_row "$impl" "$mode" "$size" "$threads" "$rep" "$dur" "$d" "$cline" "$sline" "${fp:-$size}"
}

# ---------------------------------------------------------------------------------------------
# profiles (--profile): where each technique's CPU time goes, by call chain (docs/profiles.md).
# After the sweep, one extra run per technique x size with the server AND the client under
# `perf record -g`; `perf script` -> analysis/profiles.py -> profiles.csv (+ profiles_top.csv)
# next to the results CSV. perf.data files live in $WORK and are removed as soon as parsed.

PROFILE=""                                          # 1 --profile, 0 --no-profile, "" = on unless --quick
CB_PROFILE_SECONDS=${CB_PROFILE_SECONDS:-3}         # client window of a profiled run (at most the stream duration)
CB_PROFILE_THREADS=${CB_PROFILE_THREADS:-1}         # connections in a profiled run
PROF_CSV=""
PROF_TOP=""

# python_with MODULES: the first python3 that imports MODULES ("a, b"). Debian's own first: it is
# the one `make deps` gives matplotlib, while the one on PATH may be a pyenv build without it (and
# its shim costs a second a start).
python_with() {
  local py
  for py in /usr/bin/python3 python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c "import $1" >/dev/null 2>&1; then echo "$py"; return 0; fi
  done
  return 1
}

# python_finds MODULE: the first python3 that can find MODULE, without importing it (fast: for the
# checks before any work). Debian's own first: the one on PATH may be a slow pyenv shim.
python_finds() {
  local py
  for py in /usr/bin/python3 python3; do
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$1') is None)" >/dev/null 2>&1; then
      echo "$py"; return 0
    fi
  done
  return 1
}

# profile_event: the sampling event. `cycles` where the CPU counts them (perf stat gives a number,
# not <not supported>), else `cpu-clock` (a VM: a timer interrupt per sample). Fails when perf
# cannot record call chains at all.
profile_event() {
  local t ev evs=(cpu-clock)
  t=$(mktemp)
  if "$CB_PERF" stat -x, -o "$t" -e cycles -- true >/dev/null 2>&1 && [ -n "$(perf_parse "$t" | cut -d, -f1)" ]; then
    evs=(cycles cpu-clock)
  fi
  rm -f "$t"
  for ev in "${evs[@]}"; do
    if "$CB_PERF" record -q -g -e "$ev" -o "$WORK/probe.data" -- true >/dev/null 2>&1; then
      rm -f "$WORK/probe.data" "$WORK/probe.data.old"; echo "$ev"; return 0
    fi
  done
  rm -f "$WORK/probe.data" "$WORK/probe.data.old"
  return 1
}

# profile_parse PY DATA IMPL SIZE SIDE EVENT STEAL: perf script | profiles.py parse -> PROF_CSV.
# Returns profiles.py's status: 3 = kernel symbols unusable here (its reason is on stderr).
profile_parse() {
  local py=$1 data=$2 impl=$3 size=$4 side=$5 ev=$6 steal=$7 rc=0
  "$CB_PERF" script -i "$data" 2>"$data.script.err" |
    "$py" "$CB_DIR/analysis/profiles.py" parse --impl "$impl" --size "$size" --side "$side" \
      --threads "$CB_PROFILE_THREADS" --event "$ev" --steal "$steal" --netns "$NETNS" \
      --out "$PROF_CSV" --top-out "$PROF_TOP" - || rc=$?
  rm -f "$data" "$data.old"
  return "$rc"
}

# profile_one IMPL SIZE EVENT SECONDS PY: one profiled server + client run. Returns 3 when the
# profile cannot be attributed here (no point profiling the rest), 1 on another failure.
profile_one() {
  local impl=$1 size=$2 ev=$3 dur=$4 py=$5
  local srv=$CB_BIN_DIR/${impl}_server cli=$CB_BIN_DIR/${impl}_client d=$WORK/prof port t0 s0 s1 rc=0 tmo i
  rm -rf "$d"; mkdir -p "$d"
  port=$(pick_port "$NEXT_PORT")
  NEXT_PORT=$((port + 1)); [ "$NEXT_PORT" -gt 65000 ] && NEXT_PORT=$CB_PORT_BASE
  local sargs=(-n "$CB_PROFILE_THREADS" -p "$port")
  [ "$NETNS" = 0 ] && sargs+=(-b 127.0.0.1)
  local srv_pin=()
  [ -z "$PIN" ] || srv_pin=(taskset -c "${PIN%%:*}")
  "${SRV_PREFIX[@]}" "${srv_pin[@]}" "$CB_PERF" record -q -g -e "$ev" -o "$d/srv.data" -- "$srv" "${sargs[@]}" \
    >"$d/srv.out" 2>"$d/srv.err" &
  SRV_PID=$!
  t0=$(now)
  while ! is_listening "$port" "$d/srv.out"; do
    if ! kill -0 "$SRV_PID" 2>/dev/null || awk -v a="$t0" -v b="$(now)" -v t="$CB_LISTEN_TIMEOUT" 'BEGIN { exit !(b - a > t) }'; then
      err "profile: $impl server under perf record not listening on port $port:"; tail -n 3 "$d/srv.err" >&2
      stop_tree "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true; SRV_PID=""
      return 1
    fi
    sleep 0.05
  done
  if [ "$NETNS" = 0 ]; then descendants "$SRV_PID" >"$PIDFILE" 2>/dev/null || true; fi
  tmo=$(awk -v d="$dur" 'BEGIN { printf "%d\n", d + 30 }')
  s0=$(cpu_stat)
  "${CLI_PREFIX[@]}" "${CLI_PIN[@]}" timeout -k 5 "$tmo" "$CB_PERF" record -q -g -e "$ev" -o "$d/cli.data" -- \
    "$cli" -H "$SERVER_ADDR" -p "$port" -s "$size" -t "$CB_PROFILE_THREADS" -d "$dur" >"$d/cli.out" 2>"$d/cli.err" &
  CLI_PID=$!
  wait "$CLI_PID" || rc=$?
  CLI_PID=""
  s1=$(cpu_stat)
  for i in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
  : "$i"
  if kill -0 "$SRV_PID" 2>/dev/null; then stop_tree "$SRV_PID"; fi
  wait "$SRV_PID" 2>/dev/null || true
  SRV_PID=""
  if [ "$rc" != 0 ] || ! grep -q '^result ' "$d/cli.out"; then
    err "profile: $impl client failed (exit $rc) for size $size; no profile:"; tail -n 3 "$d/cli.err" >&2
    return 1
  fi
  local steal side prc
  steal=$(steal_pct "$s0" "$s1")
  for side in server:srv client:cli; do
    prc=0
    profile_parse "$py" "$d/${side#*:}.data" "$impl" "$size" "${side%:*}" "$ev" "$steal" 2>"$d/parse.err" || prc=$?
    if [ "$prc" != 0 ]; then
      PROFILE_PROBLEM=$(tail -n 1 "$d/parse.err")
      [ "$prc" = 3 ] && return 3
      err "profile: $impl $size B ${side%:*}: ${PROFILE_PROBLEM:-perf script failed}"
      return 1
    fi
  done
  LAST_SUMMARY="$(kv gbps "$(grep '^result ' "$d/cli.out" | tail -n 1)") Gbps, steal ${steal:-?}%"
  return 0
}

# profile_sweep STREAM_SECONDS: the profiled runs, after the sweep (on by default, off with
# --quick unless --profile). Never fails the sweep: a machine where perf cannot record or resolve
# kernel symbols gets one line saying so, and no profiles.
PROFILE_PROBLEM=""
profile_sweep() {
  local dur=$1 ev py i s f k=0 total rc
  local plotdir
  plotdir=$(dirname "$OUT")/plots
  PROF_CSV=$(dirname "$OUT")/profiles.csv
  PROF_TOP=$(dirname "$OUT")/profiles_top.csv
  # a previous run's profiles must not be drawn next to this run's results
  for f in "$PROF_CSV" "$PROF_TOP"; do if [ -e "$f" ]; then mv -f "$f" "$f.prev"; fi; done
  rm -f "$plotdir/profile_server.png" "$plotdir/profile_client.png"
  [ "$PROFILE" = 1 ] || return 0
  # perf record's data must be read where it was recorded: with the server on another host
  # its half would have to be copied back, symbols resolved there. Not done (yet): say so.
  if [ "$SRV_MODE" = ssh ]; then say "profiles left out: the server runs on another host (--server-host)"; return 0; fi
  if ! is_posnum "$CB_PROFILE_SECONDS" || ! { is_posint "$CB_PROFILE_THREADS" && [ "${#CB_PROFILE_THREADS}" -le 4 ] && [ "$CB_PROFILE_THREADS" -le 1024 ]; }; then
    err "profiles left out: CB_PROFILE_SECONDS='$CB_PROFILE_SECONDS' / CB_PROFILE_THREADS='$CB_PROFILE_THREADS' must be seconds > 0 and 1..1024 connections"
    return 0
  fi
  if ! command -v "$CB_PERF" >/dev/null 2>&1; then say "profiles left out: no perf ($CB_PERF)"; return 0; fi
  if ! py=$(python_with "csv, fnmatch, gzip"); then say "profiles left out: no python3 to run analysis/profiles.py"; return 0; fi
  if ! ev=$(profile_event); then say "profiles left out: perf record -g cannot sample here (not root? perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null))"; return 0; fi
  dur=$(awk -v d="$dur" -v m="$CB_PROFILE_SECONDS" 'BEGIN { print (d < m ? d : m) }')
  local pimpls=()
  for i in "${IMPLS[@]}"; do [ "$i" = A4 ] && [ -n "$A4_SKIP" ] || pimpls+=("$i"); done
  total=$((${#pimpls[@]} * ${#SIZES[@]}))
  say "profiles: $total runs of ${dur}s, $CB_PROFILE_THREADS connection(s), server and client under perf record -g -e $ev -> $PROF_CSV"
  for s in "${SIZES[@]}"; do
    for i in "${pimpls[@]}"; do
      k=$((k + 1))
      printf '[profile %d/%d] %s %s B ... ' "$k" "$total" "$i" "$s"
      LAST_SUMMARY="" rc=0
      profile_one "$i" "$s" "$ev" "$dur" "$py" || rc=$?
      if [ "$rc" = 3 ]; then
        echo "left out"
        say "profiles left out: $PROFILE_PROBLEM"
        rm -f "$PROF_CSV" "$PROF_TOP"
        return 0
      fi
      [ "$rc" = 0 ] || LAST_SUMMARY="FAILED (no profile)"
      echo "$LAST_SUMMARY"
    done
  done
  [ -s "$PROF_CSV" ] && say "profiles in $PROF_CSV (top symbols: $PROF_TOP)"
  return 0
}

# ---------------------------------------------------------------------------------------------
# the machines

# read_probe ARRAY: PROBE_SH's key=value lines (stdin) into the associative array ARRAY;
# repeated keys (perf_raw, missing) are joined with newlines.
read_probe() {
  local -n into=$1
  local k v
  while IFS= read -r k; do
    [[ "$k" == *=* ]] || continue
    v=${k#*=}; k=${k%%=*}
    if [ -n "${into["$k"]+x}" ]; then into["$k"]+=$'\n'"$v"; else into["$k"]=$v; fi
  done
}

# probe_perf: PERF_AVAILABLE, PERF_EVENTS, PERF_SCOPE and HW_COUNTERS from the server side's
# probe (SRVP), each said once when it limits the counters.
probe_perf() {
  local on="here" t
  [ "$SRV_MODE" = ssh ] && on="on $SSH_HOST"
  PERF_EVENTS=${SRVP[perf_events]:-}
  PERF_AVAILABLE=0; [ -n "$PERF_EVENTS" ] && PERF_AVAILABLE=1
  PERF_SCOPE="user and kernel"
  HW_COUNTERS=no
  if [ "$PERF_AVAILABLE" = 0 ]; then
    say "perf is missing or cannot count $on: counters are off (their CSV cells stay empty)"
    return 0
  fi
  [ "$PERF_EVENTS" != "$CB_ALL_EVENTS" ] && say "perf accepts only: $PERF_EVENTS (the other counter cells stay empty)"
  t=$WORK/perf_raw.txt
  printf '%s\n' "${SRVP[perf_raw]:-}" >"$t"
  [ -n "$(perf_parse "$t" | cut -d, -f2)" ] && HW_COUNTERS=yes
  if perf_raw_user_only "${SRVP[perf_raw]:-}"; then
    if [ "$SRV_MODE" = ssh ]; then
      PERF_SCOPE="user space only (on $SSH_HOST: not root, kernel.perf_event_paranoid=${SRVP[paranoid]:-?})"
    else
      PERF_SCOPE="user space only (not root, kernel.perf_event_paranoid=${SRVP[paranoid]:-?})"
    fi
    err "perf counts $PERF_SCOPE: context_switches and cpu_migrations stay empty and hardware counters leave out the kernel (task-clock is whole); run as root for full counts"
  fi
  [ "$HW_COUNTERS" = no ] && say "hardware counters are not supported $on: cycles/instructions/cache cells stay empty; CPU cost comes from task-clock"
  return 0
}

# nic_words ARRAY: one line describing the interface in a probe ("eth0, driver mlx5_core 5.0,
# firmware 16.35, bus 0000:3b:00.0, scatter-gather on, MTU 1500, 25000 Mb/s")
nic_words() {
  local -n pr=$1
  local w=${pr[nic]:-}
  [ -n "$w" ] || { echo "none found"; return 0; }
  if [ "${pr[nic_ethtool]:-}" = missing ]; then w+=", driver unknown (ethtool missing), scatter-gather unknown"
  else
    w+=", driver ${pr[nic_driver]:-unknown}${pr[nic_driver_version]:+ ${pr[nic_driver_version]}}"
    [ -n "${pr[nic_firmware]:-}" ] && w+=", firmware ${pr[nic_firmware]}"
    [ -n "${pr[nic_bus]:-}" ] && w+=", bus ${pr[nic_bus]}"
    w+=", scatter-gather ${pr[nic_sg]:-unknown}"
  fi
  [ -n "${pr[nic_mtu]:-}" ] && w+=", MTU ${pr[nic_mtu]}"
  [[ "${pr[nic_speed]:-}" =~ ^[0-9]+$ ]] && [ "${pr[nic_speed]}" -gt 0 ] && w+=", ${pr[nic_speed]} Mb/s"
  echo "$w"
}

# code_commit DIR: the commit the code in DIR is at, "-dirty" when a tracked file other than a
# default run's own outputs (results.csv, its machine file, the profiles, plots/) differs from it:
# the default run moves the committed results.csv aside before this is written, and that is not
# a change to the code that measured.
code_commit() {
  local c changes
  c=$(git -C "$1" rev-parse --short HEAD 2>/dev/null) || { echo unknown; return; }
  changes=$(git -C "$1" status --porcelain --untracked-files=no -- . ':(exclude)results.csv' \
    ':(exclude)results.machine.txt' ':(exclude)profiles.csv' ':(exclude)profiles_top.csv' \
    ':(exclude)plots' 2>/dev/null) || { echo "$c-unknown"; return; }
  [ -n "$changes" ] && c+="-dirty"
  echo "$c"
}

write_machine_file() {
  local f=$1
  {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "command: $CMDLINE"
    echo "git_commit: $(code_commit "$CB_DIR")"
    # the machine perf measures: the server's
    echo "host: ${SRVP[host]:-$(uname -n)}"
    echo "kernel: ${SRVP[kernel]:-$(uname -sr)}"
    echo "cpu_model: ${SRVP[cpu_model]:-unknown}"
    echo "cores: ${SRVP[cores]:-unknown}"
    echo "virtualization: ${SRVP[virtualization]:-unknown}"
    echo "cpu_threads: ${SRVP[cpu_threads]:-unknown}"
    echo "l1d_cache: ${SRVP[l1d_cache]:-unknown}"
    echo "l2_cache: ${SRVP[l2_cache]:-unknown}"
    echo "l3_cache: ${SRVP[l3_cache]:-unknown}"
    echo "memory: ${SRVP[memory]:-unknown}"
    echo "tcp_cc: ${SRVP[tcp_cc]:-unknown} (the sender's congestion control; with bbr and no fq qdisc TCP paces with a timer per burst, see docs/profiles.md)"
    echo "qdisc: ${SRVP[qdisc]:-unknown}"
    if [ "$PERF_AVAILABLE" = 1 ]; then
      echo "perf: ${SRVP[perf_version]:-unknown}"
      echo "hw_counters: $HW_COUNTERS"
      echo "perf_events: $PERF_EVENTS"
      echo "perf_scope: $PERF_SCOPE"
    else
      echo "perf: unavailable"
      echo "hw_counters: no"
      echo "perf_events: "
    fi
    echo "netns: $NETNS"
    echo "pin: ${PIN:-none} (server:client CPU lists, taskset)"
    if [ "$SRV_MODE" = ssh ]; then
      echo "steal_note: steal_pct column = the larger of the client host's hypervisor steal share of all CPU time during the client run and the server host's during the server's life (/proc/stat on each)"
    else
      echo "steal_note: steal_pct column = hypervisor steal share of all CPU time during each run (/proc/stat)"
    fi
    echo "path: $PATH_KIND"
    echo "server_host: $SERVER_NAME"
    echo "client_host: $CLIENT_NAME"
    echo "server_nic: $(nic_words SRVP)"
    if [ -n "${SRVP[nic_mtu]:-}" ]; then echo "mtu: ${SRVP[nic_mtu]}"; fi
    if [ "$SRV_MODE" = ssh ]; then
      echo "nic: $(nic_words SRVP)"
      echo "server_ssh: $SSH_HOST (the server's address for the data: $SERVER_ADDR)"
      echo "server_dir: ${SRVP[dir]:-$SRV_DIR}"
      echo "server_sources: $SOURCES_NOTE"
      echo "client_kernel: ${CLIP[kernel]:-}"
      echo "client_cpu_model: ${CLIP[cpu_model]:-}"
      echo "client_cores: ${CLIP[cores]:-}"
      echo "client_virtualization: ${CLIP[virtualization]:-}"
      echo "client_nic: $(nic_words CLIP)"
      echo "one_way_latency: not recorded: stream lat_p50_us/lat_p99_us/lat_max_us are empty in these rows, because a message's one-way latency would subtract the server host's clock from the client host's, two CLOCK_MONOTONIC clocks with unrelated origins; rr round trips are timed on the client's clock alone and are valid"
      echo "zc_copied_note: zc_copied counts A3 and A4 sends the kernel still copied (SO_EE_CODE_ZEROCOPY_COPIED, IORING_NOTIF_USAGE_ZC_COPIED); over a NIC with scatter-gather it should be near 0 (the NIC reads the pinned user pages); near 100% means the data never left through a device that can (no scatter-gather, a virtual link, or loopback)"
    fi
  } >"$f"
}

run_plots() {
  local py plotdir
  plotdir=$(dirname "$OUT")/plots
  if ! py=$(python_with matplotlib); then
    err "no Python with matplotlib: install python3-matplotlib (apt-get install python3-matplotlib); the CSV is kept: $OUT"
    return 1
  fi
  say "plotting with $py -> $plotdir/"
  "$py" "$CB_DIR/plots.py" "$OUT" --out-dir "$plotdir"
}

opt_err() { err "$1"; exit 2; }

# ---------------------------------------------------------------------------------------------
# the pipeline's phases, in the order main runs them

# parse_args ARGS...: options into the OPT_* globals (values checked later, in check_options).
parse_args() {
  OPT_IMPLS="A1,A2,A3,A4" OPT_SIZES="1024,4096,16384,65536" OPT_THREADS="1,2,4,8" OPT_A4_THREADS=2
  OPT_DURATION=5 OPT_RR_DURATION=2 OPT_REPS=3 OPT_FOOTPRINTS="" OPT_FP_DURATION=3
  OPT_QUICK=0 OPT_RR=1 OPT_PLOTS=1 OPT_PLOTS_ONLY=0
  OPT_SERVER_HOST="" OPT_SERVER_ADDR="" OPT_SERVER_DIR="" OPT_SYNC=0 OPT_NO_NETNS=0
  local set_sizes=0 set_threads=0 set_dur=0 set_rrdur=0 set_reps=0 set_out=0 set_addr=0 set_dir=0 set_host=0 set_fp=0 set_fpdur=0
  OPT_DRY_RUN=0 OPT_CUSTOM=0
  OUT=results.csv
  CMDLINE="$0 $*"
  while [ "$#" -gt 0 ]; do
    local opt=$1 val="" has_val=0
    if [[ "$opt" == --*=* ]]; then val=${opt#*=}; opt=${opt%%=*}; has_val=1; fi
    case "$opt" in
      --impls|--a4-threads|--sizes|--threads|--duration|--rr-duration|--reps|--out|--pin|--server-host|--server-addr|--server-dir|--footprints|--footprint-duration)
        if [ "$has_val" = 0 ]; then
          [ "$#" -ge 2 ] || opt_err "$opt needs a value"
          val=$2; shift
        fi
        case "$opt" in
          --impls) OPT_IMPLS=$val ;;
          --a4-threads) OPT_A4_THREADS=$val ;;
          --sizes) OPT_SIZES=$val; set_sizes=1 ;;
          --threads) OPT_THREADS=$val; set_threads=1 ;;
          --duration) OPT_DURATION=$val; set_dur=1 ;;
          --rr-duration) OPT_RR_DURATION=$val; set_rrdur=1 ;;
          --reps) OPT_REPS=$val; set_reps=1 ;;
          --out) OUT=$val; set_out=1 ;;
          --pin) PIN=$val ;;
          --server-host) OPT_SERVER_HOST=$val; set_host=1 ;;
          --server-addr) OPT_SERVER_ADDR=$val; set_addr=1 ;;
          --server-dir) OPT_SERVER_DIR=$val; set_dir=1 ;;
          --footprints) OPT_FOOTPRINTS=$val; set_fp=1 ;;
          --footprint-duration) OPT_FP_DURATION=$val; set_fpdur=1 ;;
        esac
        [ "$opt" = --out ] || OPT_CUSTOM=1 ;;
      --quick) OPT_QUICK=1; OPT_CUSTOM=1 ;;
      --no-netns) NETNS=0; OPT_NO_NETNS=1; OPT_CUSTOM=1 ;;
      --sync) OPT_SYNC=1; OPT_CUSTOM=1 ;;
      --rr) OPT_RR=1 ;;
      --no-rr) OPT_RR=0; OPT_CUSTOM=1 ;;
      --dry-run) OPT_DRY_RUN=1 ;;
      --no-plots) OPT_PLOTS=0 ;;
      --plots-only) OPT_PLOTS_ONLY=1 ;;
      --profile) PROFILE=1 ;;
      --no-profile) PROFILE=0 ;;
      -h|--help) usage; exit 0 ;;
      *) opt_err "unknown option '$1' (see --help)" ;;
    esac
    shift
  done
  OPT_SET_DIR=$set_dir
  [ "$set_host" = 0 ] || [ -n "$OPT_SERVER_HOST" ] || opt_err "--server-host: empty host name"
  if [ -z "$OPT_SERVER_HOST" ]; then
    [ "$set_addr" = 0 ] || opt_err "--server-addr needs --server-host (the server runs here otherwise)"
    [ "$set_dir" = 0 ] || opt_err "--server-dir needs --server-host (the server runs here otherwise)"
    [ "$OPT_SYNC" = 0 ] || opt_err "--sync needs --server-host (the server runs here otherwise)"
  fi
  if [ "$OPT_QUICK" = 1 ]; then
    [ "$set_sizes" = 1 ] || OPT_SIZES="1024,65536"
    [ "$set_threads" = 1 ] || OPT_THREADS="1,2"
    [ "$set_dur" = 1 ] || OPT_DURATION=1
    [ "$set_rrdur" = 1 ] || OPT_RR_DURATION=1
    [ "$set_reps" = 1 ] || OPT_REPS=1
    [ "$set_fpdur" = 1 ] || OPT_FP_DURATION=1
  fi
  OPT_SET_FP=$set_fp
  # Only the default sweep writes results.csv here (the committed results come from it);
  # any other run goes to a directory of its own unless --out says where.
  if [ "$set_out" = 0 ] && [ "$OPT_CUSTOM" = 1 ] && [ "$OPT_PLOTS_ONLY" = 0 ]; then
    local suffix=""
    [ "$OPT_QUICK" = 0 ] || suffix=-quick
    OUT=runs/$(date -u +%Y%m%d-%H%M%S)$suffix/results.csv
  fi
}

# check_options: every value in range, lists into IMPLS/SIZES/THREADS, the server side into
# SRV_MODE (and SSH_HOST, SERVER_ADDR, SRV_DIR for two hosts); usage errors exit 2.
check_options() {
  local x b
  IMPLS=(); SIZES=(); THREADS=()
  local list
  list=$(split_list --impls "$OPT_IMPLS")
  for x in $list; do
    [[ "$x" =~ ^A[1234]$ ]] || opt_err "--impls: '$x' is not one of A1 A2 A3 A4"; IMPLS+=("$x"); done
  list=$(split_list --sizes "$OPT_SIZES")
  for x in $list; do
    b=$(cb_size_bytes "$x") || opt_err "--sizes: '$x' is not a message size ($CB_SIZE_GRAMMAR)"
    SIZES+=("$b"); done
  list=$(split_list --threads "$OPT_THREADS")
  for x in $list; do
    if ! { is_posint "$x" && [ "${#x}" -le 4 ] && [ "$x" -le 1024 ]; }; then opt_err "--threads: '$x' is not a thread count (1..1024)"; fi
    THREADS+=("$x"); done
  [ "${#IMPLS[@]}" -gt 0 ] || opt_err "--impls: empty list"
  [ "${#SIZES[@]}" -gt 0 ] || opt_err "--sizes: empty list"
  [ "${#THREADS[@]}" -gt 0 ] || opt_err "--threads: empty list"
  # A4's thread counts: those of --threads also in --a4-threads; none in common: all of them.
  A4_THREADS=()
  if [ "$OPT_A4_THREADS" != all ]; then
    list=$(split_list --a4-threads "$OPT_A4_THREADS")
    for x in $list; do
      if ! { is_posint "$x" && [ "${#x}" -le 4 ] && [ "$x" -le 1024 ]; }; then opt_err "--a4-threads: '$x' is not a thread count (1..1024) or 'all'"; fi
      [[ " ${THREADS[*]} " == *" $x "* ]] && A4_THREADS+=("$x")
    done
  fi
  [ "${#A4_THREADS[@]}" -gt 0 ] || A4_THREADS=("${THREADS[@]}")
  # the range the client's -d takes (src/opts.c): refused here, not after every run has failed
  in_window "$OPT_DURATION" || opt_err "--duration: '$OPT_DURATION' is not a number of seconds in 0.01..86400 (the client's -d)"
  in_window "$OPT_RR_DURATION" || opt_err "--rr-duration: '$OPT_RR_DURATION' is not a number of seconds in 0.01..86400 (the client's -d)"
  if ! { is_posint "$OPT_REPS" && [ "${#OPT_REPS}" -le 4 ]; }; then opt_err "--reps: '$OPT_REPS' is not a positive integer"; fi
  [ -n "$OUT" ] || opt_err "--out: empty file name"
  FOOTPRINTS=""   # bytes, comma separated; "" = from the machine's caches (plan_runs)
  if [ "$OPT_FOOTPRINTS" != none ]; then
    for x in $(split_list --footprints "$OPT_FOOTPRINTS"); do
      b=$(cb_bytes "$x") || opt_err "--footprints: '$x' is not a footprint (bytes, K/M/G suffixes, e.g. 256M; or none)"
      FOOTPRINTS+=${FOOTPRINTS:+,}$b; done
    [ "$OPT_SET_FP" = 0 ] || [ -n "$FOOTPRINTS" ] || opt_err "--footprints: empty list (none skips the footprint sub-sweep)"
  fi
  is_posnum "$OPT_FP_DURATION" || opt_err "--footprint-duration: '$OPT_FP_DURATION' is not a positive number of seconds"
  check_out_dir
  if [ -z "$PROFILE" ]; then if [ "$OPT_QUICK" = 1 ]; then PROFILE=0; else PROFILE=1; fi; fi
  PLAN_PY=$(python_finds sys) || PLAN_PY=""
  [ -n "$PLAN_PY" ] || { err "no python3 here (lib/plan.py prints the plan): apt-get install python3"; exit 1; }

  if [ -n "$OPT_SERVER_HOST" ]; then
    [ "$OPT_NO_NETNS" = 0 ] || opt_err "--no-netns and --server-host: choose one (with --server-host no namespace is used)"
    # ssh would read a leading '-' as an option, and a space or a quote as something else
    [[ "$OPT_SERVER_HOST" =~ ^([A-Za-z0-9._-]+@)?[A-Za-z0-9._:%-]+$ && "$OPT_SERVER_HOST" != -* && "$OPT_SERVER_HOST" != *@-* ]] ||
      opt_err "--server-host: '$OPT_SERVER_HOST' is not [USER@]HOST"
    [ -z "$OPT_SERVER_ADDR" ] || [[ "$OPT_SERVER_ADDR" =~ ^[A-Za-z0-9._:%-]+$ && "$OPT_SERVER_ADDR" != -* ]] ||
      opt_err "--server-addr: '$OPT_SERVER_ADDR' is not a host name or an address"
    [ "$OPT_SET_DIR" = 0 ] || [[ -n "$OPT_SERVER_DIR" && "$OPT_SERVER_DIR" != *$'\n'* ]] ||
      opt_err "--server-dir: '$OPT_SERVER_DIR' is not a directory name"
    SRV_MODE=ssh; NETNS=0
    SSH_HOST=$OPT_SERVER_HOST
    SRV_DIR=${OPT_SERVER_DIR:-copybench}
    # ~/x as typed in quotes: ssh starts in the remote home, so a relative path means the same
    [[ "$SRV_DIR" == \~/* ]] && SRV_DIR=${SRV_DIR#\~/}
    [ -n "$SRV_DIR" ] || SRV_DIR=.
  elif [ "$NETNS" = 1 ]; then
    SRV_MODE=netns
  else
    SRV_MODE=loopback
  fi

  if [ -n "$PIN" ]; then
    local cpu_list='[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*'
    [[ "$PIN" =~ ^${cpu_list}:${cpu_list}$ ]] || opt_err "--pin: '$PIN' is not SERVER_CPUS:CLIENT_CPUS (e.g. 0:1)"
    command -v taskset >/dev/null 2>&1 || { err "--pin needs taskset (util-linux)"; exit 1; }
    # the server's CPUs are checked where it runs: here, or on the server host (preflight)
    if [ "$SRV_MODE" != ssh ]; then
      taskset -c "${PIN%%:*}" true 2>/dev/null || opt_err "--pin: no CPU ${PIN%%:*} here (nproc: $(nproc))"
    fi
    taskset -c "${PIN#*:}" true 2>/dev/null || opt_err "--pin: no CPU ${PIN#*:} here (nproc: $(nproc))"
    CLI_PIN=(taskset -c "${PIN#*:}")
  fi
}

# clean_name TEXT: a host name fit for a CSV cell (no comma, quote or space)
clean_name() { local n=${1//[^A-Za-z0-9._-]/_}; echo "${n:-unknown}"; }

# resolve_addr NAME: an IPv4/IPv6 address for NAME (itself when it is one), "" when it does not resolve
resolve_addr() {
  if [[ "$1" =~ ^[0-9]+(\.[0-9]+){3}$ || "$1" == *:* ]]; then echo "$1"; return 0; fi
  getent ahosts "$1" 2>/dev/null | awk '$1 != "" && a == "" { a = $1 } END { print a }'
}

# route_to ADDR: "DEV SRC" of the route this host takes to ADDR
route_to() {
  ip -o route get "$1" 2>/dev/null | awk '{ for (i = 1; i < NF; i++) { if ($i == "dev" && d == "") d = $(i + 1); if ($i == "src" && s == "") s = $(i + 1) } } END { print d, s }'
}

# path_kind DEV: what a route through DEV crosses: loopback (lo), veth (a veth pair: another
# namespace on this host), nic (anything else: a device)
path_kind() {
  local info
  [ "$1" = lo ] && { echo loopback; return 0; }
  info=$(ip -d -o link show dev "$1" 2>/dev/null || true)
  if [[ "$info" == *" veth "* ]]; then echo veth; else echo nic; fi
}

# remote_sources_sync: this tree's sources (what make needs) into SRV_DIR on the server host
remote_sources_sync() {
  local files=()
  mapfile -t files < <(cd "$CB_DIR" || exit 0; compgen -G 'A[0-9]_*.c'; compgen -G 'src/*.[ch]')
  say "copying the sources to $SSH_HOST:$SRV_DIR (--sync: the Makefile and ${#files[@]} source files)"
  if ! tar -c -f - -C "$CB_DIR" Makefile "${files[@]}" | srv_exec sh -c "$SYNC_SH" cbsync "$SRV_DIR" >"$WORK/sync.log" 2>&1; then
    err "--sync: could not copy the sources to $SSH_HOST:$SRV_DIR: $(last_line "$WORK/sync.log")"; exit 1
  fi
}

# local_sources_sha: what PROBE_SH's src_sha says about this tree
local_sources_sha() {
  (cd "$CB_DIR" && export LC_ALL=C && cat Makefile A[0-9]_*.c src/*.c src/*.h 2>/dev/null | sha256sum | cut -d' ' -f1)
}

# preflight_remote: --server-host. Copy (--sync) and build the sources there, learn the server
# host (SRVP) and this one (CLIP), check what the runs need, say what the rows will hold.
preflight_remote() {
  local x addr rt dev src ssh_name
  # the address the data goes to: --server-addr, else the host ssh connects to (its HostName)
  addr=$OPT_SERVER_ADDR
  if [ -z "$addr" ]; then
    ssh_name=$("${SSH_CMD[@]}" -G "$SSH_HOST" </dev/null 2>/dev/null | awk '$1 == "hostname" && h == "" { h = $2 } END { print h }') || ssh_name=""
    addr=${ssh_name:-${SSH_HOST#*@}}
  fi
  SERVER_ADDR=$(resolve_addr "$addr")
  [ -n "$SERVER_ADDR" ] || { err "--server-addr: '$addr' does not resolve here (name the server's address with --server-addr)"; exit 1; }
  rt=$(route_to "$SERVER_ADDR"); dev=${rt%% *}; src=${rt#* }
  [ -n "$dev" ] || { err "--server-addr: no route to $SERVER_ADDR from here"; exit 1; }
  PATH_KIND=$(path_kind "$dev")

  [ "$OPT_SYNC" = 1 ] && remote_sources_sync
  say "building on $SSH_HOST in $SRV_DIR (make)"
  if ! srv_exec sh -c "$MAKE_SH" cbmake "$SRV_DIR" </dev/null >"$WORK/make.log" 2>&1; then
    err "make failed on $SSH_HOST in $SRV_DIR:"; tail -n 8 "$WORK/make.log" >&2; exit 1
  fi

  read_probe SRVP < <(srv_exec sh -c "$PROBE_SH" cbprobe "$CB_PERF" "$CB_ALL_EVENTS" "$SRV_DIR" "$SERVER_ADDR" "${PIN:+${PIN%%:*}}" </dev/null 2>/dev/null || true)
  [ -n "${SRVP[host]:-}" ] || { err "--server-host $SSH_HOST: the probe of the server host said nothing (is sh there?)"; exit 1; }
  for x in "${IMPLS[@]}"; do
    [[ $'\n'"${SRVP[missing]:-}"$'\n' != *$'\n'"${x}_server"$'\n'* ]] || { err "no ${x}_server in $SRV_DIR on $SSH_HOST after make"; exit 1; }
  done
  [ -z "$PIN" ] || [ "${SRVP[pin_ok]:-0}" = 1 ] || opt_err "--pin: no CPU ${PIN%%:*} on $SSH_HOST (${SRVP[cores]:-?} cores)"
  if [ "${SRVP[src_sha]:-}" = "$(local_sources_sha)" ]; then
    SOURCES_NOTE="the same as the client's (sha256 ${SRVP[src_sha]:0:12} of Makefile, A*_*.c, src/)"
  else
    SOURCES_NOTE="DIFFERENT from the client's (server ${SRVP[src_sha]:-none}): a client and a server of another protocol version refuse each other; --sync copies this tree there"
    err "warning: the sources in $SRV_DIR on $SSH_HOST differ from these; if the programs refuse each other (protocol version), run with --sync"
  fi
  read_probe CLIP < <(sh -c "$PROBE_SH" cbprobe "" "" "" "$src" "" </dev/null 2>/dev/null || true)
  SERVER_NAME=$(clean_name "${SRVP[host]}")
  CLIENT_NAME=$(clean_name "${CLIP[host]:-$(uname -n)}")
  [ -n "${SRVP[nic]:-}" ] || err "note: no interface on $SSH_HOST carries $SERVER_ADDR (NAT?): the machine file cannot name its NIC"
  say "server on $SSH_HOST ($SERVER_NAME, $SERVER_ADDR via $dev: path $PATH_KIND), client here ($CLIENT_NAME)"
  say "two hosts: stream one-way latency cells stay empty (two clocks); rr round trips are timed on this host alone"
  if [ "$PATH_KIND" = nic ] && [ "${SRVP[nic_sg]:-}" = off ]; then
    err "note: scatter-gather is off on ${SRVP[nic]} on $SSH_HOST: the kernel will copy A3's zero-copy sends (ethtool -K ${SRVP[nic]} sg on)"
  fi
}

# preflight: binaries, root, the output path, the scratch dir and traps, leftovers, the server
# side (namespaces, or the server host over ssh), perf's events, the machine file. After it,
# runs can start.
preflight() {
  local x b
  for x in "${IMPLS[@]}"; do
    for b in "$CB_BIN_DIR/${x}_client" "$CB_BIN_DIR/${x}_server"; do
      # with --server-host the servers are built and checked on the server host
      [ "$SRV_MODE" = ssh ] && [[ "$b" == *_server ]] && continue
      [ -x "$b" ] || { err "missing $b: build the programs first (make)"; exit 1; }
    done
  done
  if [ "$SRV_MODE" = netns ] && [ "$(id -u)" != 0 ]; then
    err "network namespaces need root: run with sudo, or use --no-netns (loopback)"; exit 1
  fi

  WORK=$(mktemp -d "${TMPDIR:-/tmp}/copybench.XXXXXX")
  trap cleanup EXIT
  trap 'on_signal INT' INT
  trap 'on_signal TERM' TERM
  # an unreachable host fails here, before anything is written
  [ "$SRV_MODE" = ssh ] && ssh_open

  mkdir -p "$(dirname "$OUT")"
  OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
  say "results go to $OUT"
  BASE=${OUT%.csv}
  PIDFILE=$BASE.partial.pids

  case "$SRV_MODE" in
    netns)
      clean_leftovers
      # a pair of its own: one in use (a demo, another sweep, the hand recipe) is never touched
      CB_TCP_CC=${CB_TCP_CC:-auto} cb_netns_acquire $$ "run_experiments.sh writing $OUT" >/dev/null || exit 1
      NETNS_CREATED=1
      [ -z "$CB_NETNS_NOTE" ] || say "$CB_NETNS_NOTE"
      SRV_PREFIX=(ip netns exec "$CB_NS_SERVER")
      CLI_PREFIX=(ip netns exec "$CB_NS_CLIENT")
      SERVER_ADDR=$CB_SERVER_IP; SRV_DIR=$CB_BIN_DIR; PATH_KIND=veth
      say "namespaces $CB_NS_SERVER ($CB_SERVER_IP) <-> $CB_NS_CLIENT ($CB_CLIENT_IP)" ;;
    loopback)
      clean_leftovers
      SERVER_ADDR=127.0.0.1; SRV_DIR=$CB_BIN_DIR; PATH_KIND=loopback
      say "loopback mode (--no-netns): server and client share this network namespace" ;;
    ssh)
      preflight_remote ;;
  esac
  if [ "$SRV_MODE" != ssh ]; then
    # the server side's script runs from SRV_DIR: a relative perf path must not depend on that
    [[ "$CB_PERF" == */* && "$CB_PERF" != /* ]] && CB_PERF=$PWD/$CB_PERF
    read_probe SRVP < <(srv_exec sh -c "$PROBE_SH" cbprobe "$CB_PERF" "$CB_ALL_EVENTS" "" "$SERVER_ADDR" "" </dev/null 2>/dev/null || true)
    SERVER_NAME=$(clean_name "${SRVP[host]:-$(uname -n)}"); CLIENT_NAME=$SERVER_NAME
  fi
  probe_perf
  write_machine_file "$BASE.machine.txt"
}

# plan_runs: PLAN, one "IMPL MODE SIZE THREADS REP" per run, in the order they run:
# rep > size > threads > mode > impl, so the techniques alternate and drift hits them alike.
# Then the plan of every phase and its estimate (plan_phases, lib/plan.py).
plan_runs() {
  local modes=(stream) r s t m i
  [ "$OPT_RR" = 1 ] && modes+=(rr)
  PLAN=()
  for ((r = 1; r <= OPT_REPS; r++)); do
    for s in "${SIZES[@]}"; do for t in "${THREADS[@]}"; do for m in "${modes[@]}"; do for i in "${IMPLS[@]}"; do
      [ "$i" = A4 ] && [[ " ${A4_THREADS[*]} " != *" $t "* ]] && continue
      PLAN+=("$i $m $s $t $r")
    done; done; done; done
  done
  plan_footprints
  plan_phases
  say "${#PLAN[@]} runs planned; every phase and its time, estimated for a quiet 2-core machine:"
  if ! printf '%s\n' "${PHASES[@]}" | "$PLAN_PY" "$CB_DIR/lib/plan.py" | sed 's/^/  /'; then
    err "lib/plan.py could not read the plan"; exit 1
  fi
}

# PHASES: what the sweep will do, one tab-separated "NAME RUNS SECONDS_EACH OVERHEAD_EACH WHAT"
# per phase, summed by lib/plan.py. A new phase joins the plan and the estimate with plan_phase.
# The overheads: a sweep run costs 0.6 s besides its window (server start, client connect, the
# drain, perf: the committed default run, 288 runs, took 20 minutes); a profiled run about 4 s
# besides its window (perf record starting twice, perf script, the parse of two call-chain
# files: 7.7 s measured here beside other work, about twice the quiet figure); plots.py about 30 s
# (12 s for 16 rows measured beside other work). An estimate, not a promise: say so when it is off.
PHASES=()
plan_phase() { PHASES+=("$(printf '%s\t%s\t%s\t%s\t%s' "$@")"); }
plan_phases() {
  local n_stream=0 n_rr=0 line shape pdur
  # a footprint run is a line of six words (plan_footprints), counted in its own phase
  for line in "${PLAN[@]}"; do case "$line" in *" rr "*) n_rr=$((n_rr + 1)) ;; *" "*" "*" "*" "*" "*) ;; *) n_stream=$((n_stream + 1)) ;; esac; done
  shape="${OPT_IMPLS// /} x ${#SIZES[@]} size(s) x ${#THREADS[@]} thread count(s) x $OPT_REPS rep(s)"
  [[ " ${IMPLS[*]} " == *" A4 "* ]] && [ "${#A4_THREADS[@]}" != "${#THREADS[@]}" ] && shape+=" (A4 at ${A4_THREADS[*]} thread(s) only)"
  PHASES=()
  plan_phase stream "$n_stream" "$OPT_DURATION" 0.6 "$shape, ${OPT_DURATION} s windows"
  [ "$OPT_RR" = 1 ] && plan_phase rr "$n_rr" "$OPT_RR_DURATION" 0.6 "$shape, ${OPT_RR_DURATION} s windows"
  if [ "$PROFILE" = 1 ] && [ "$SRV_MODE" != ssh ]; then
    pdur=$(awk -v d="$OPT_DURATION" -v m="$CB_PROFILE_SECONDS" 'BEGIN { print (d < m ? d : m) }')
    plan_phase profile $((${#IMPLS[@]} * ${#SIZES[@]})) "$pdur" 4 "perf record -g of server and client, ${pdur} s, $CB_PROFILE_THREADS connection(s) (--no-profile: none)"
  elif [ "$PROFILE" = 1 ]; then
    plan_phase profile 0 0 0 "left out: the server runs on another host"
  else
    plan_phase profile 0 0 0 "off (--profile turns it on)"
  fi
  if [ "$FP_RUNS" -gt 0 ]; then
    plan_phase footprint "$FP_RUNS" "$OPT_FP_DURATION" "$FP_OVERHEAD" "cold data: $FP_SHAPE, --footprint ${FP_BASIS%% (*} (where from: the machine file)"
  else
    plan_phase footprint 0 0 0 "${FP_BASIS:-off (--footprints none)}"
  fi
  if [ "$OPT_PLOTS" = 1 ]; then plan_phase plots 1 0 30 "plots.py: figures, summary.md, report.md in $(dirname "$OUT")/plots/"
  else plan_phase plots 0 0 0 "off (--no-plots)"; fi
}

# plan_footprints: the footprint sub-sweep appended to PLAN ("IMPL stream SIZE THREADS REP
# FOOTPRINT"; rep > footprint > size > threads > impl), and its phase's numbers (FP_RUNS,
# FP_OVERHEAD, FP_SHAPE, FP_BASIS). analysis/footprint.py derives the default footprints from the
# machine file's cache sizes (this host's, in a dry run), leaves out those of one message or less,
# checks they fit the servers' memory budget (exit 2) and says what a run costs besides its window.
FP_RUNS=0 FP_OVERHEAD=0 FP_SHAPE="" FP_BASIS=""
plan_footprints() {
  local m=(--here) fsz=() fth=() out k a b r s t i fps=() fimpls=()
  [ "$OPT_FOOTPRINTS" != none ] || return 0
  # A4 does not take --footprint yet (its pool does not rotate through one): hot data only.
  for i in "${IMPLS[@]}"; do [ "$i" = A4 ] || fimpls+=("$i"); done
  [ "${#fimpls[@]}" -gt 0 ] || return 0
  [ -s "${BASE:-}.machine.txt" ] && m=(--machine "$BASE.machine.txt")
  mapfile -t fsz < <(printf '%s\n' "${SIZES[@]}" | sort -n | uniq)
  mapfile -t fth < <(printf '%s\n' "${THREADS[@]}" | sort -n | uniq)
  [ "${#fsz[@]}" -le 2 ] || fsz=("${fsz[@]: -2}")
  fth=("${fth[@]:0:2}")
  [ "$OPT_QUICK" = 0 ] || { fsz=("${fsz[-1]}"); fth=("${fth[0]}"); m+=(--coldest); }
  out=$("$PLAN_PY" "$CB_DIR/analysis/footprint.py" plan "${m[@]}" --sizes "$(IFS=,; echo "${fsz[*]}")" \
        --threads "$(IFS=,; echo "${fth[*]}")" ${FOOTPRINTS:+--footprints "$FOOTPRINTS"} --impls "${#fimpls[@]}" \
        --reps "$OPT_REPS" --duration "$OPT_FP_DURATION") || exit 2
  while read -r k a b; do
    case $k in
      basis) FP_BASIS="$a $b" ;;
      overhead) FP_OVERHEAD=$a ;;
      run) fps+=("$a $b") ;;
    esac
  done <<<"$out"
  for ((r = 1; r <= OPT_REPS; r++)); do
    for a in "${fps[@]}"; do read -r k s <<<"$a"; for t in "${fth[@]}"; do for i in "${fimpls[@]}"; do
      PLAN+=("$i stream $s $t $r $k"); FP_RUNS=$((FP_RUNS + 1))
    done; done; done
  done
  FP_SHAPE="${#fps[@]} footprint x size point(s) x ${#fth[@]} thread count(s) x $OPT_REPS rep(s), ${OPT_FP_DURATION} s windows"
  [ -s "${BASE:-}.machine.txt" ] && echo "footprints: $FP_BASIS" >>"$BASE.machine.txt"
  return 0
}

# sweep: every planned run, a progress line each; the CSV is started afresh (the old one kept).
sweep() {
  if [ -e "$OUT" ]; then mv -f "$OUT" "$OUT.prev"; say "previous $OUT kept as $OUT.prev"; fi
  echo "$CSV_HEADER" >"$OUT"

  NEXT_PORT=$CB_PORT_BASE
  local k=0 start line el eta dur total=${#PLAN[@]} i m s t r f rc
  N_OK=0 N_SKIPPED=0
  start=$(now)
  for line in "${PLAN[@]}"; do
    k=$((k + 1))
    read -r i m s t r f <<<"$line"
    dur=$OPT_DURATION; [ "$m" = rr ] && dur=$OPT_RR_DURATION; [ -z "$f" ] || dur=$OPT_FP_DURATION
    local label="$i $s B x$t"; [ "$m" = rr ] && label="$label rr"; [ -z "$f" ] || label="$label footprint $f B"
    printf '[%d/%d] %s rep %d ... ' "$k" "$total" "$label" "$r"
    LAST_SUMMARY="" rc=0
    if [ "$i" = A4 ] && [ -n "$A4_SKIP" ]; then
      rc=2
    else
      run_one "$i" "$m" "$s" "$t" "$r" "$dur" "$f" || rc=$?
      # A footprint run sets up hundreds of MiB before its hello is answered: beside heavy load
      # that can outlast the client's 10 s; such a run gets a second try.
      if [ "$rc" = 1 ] && [ -n "$f" ]; then
        printf 'retrying once ... '
        rc=0; run_one "$i" "$m" "$s" "$t" "$r" "$dur" "$f" || rc=$?
      fi
    fi
    case $rc in
      0) N_OK=$((N_OK + 1)) ;;
      2) LAST_SUMMARY="skipped (io_uring unavailable)"; N_SKIPPED=$((N_SKIPPED + 1)) ;;
      *) RUN_FAILURES=$((RUN_FAILURES + 1)); LAST_SUMMARY="FAILED" ;;
    esac
    el=$(elapsed "$start")
    eta=$(awk -v e="$el" -v k="$k" -v n="$total" 'BEGIN { printf "%d\n", e / k * (n - k) }')
    echo "$LAST_SUMMARY (eta $(fmt_dur "$eta"))"
  done
  local skipped=""
  [ "$N_SKIPPED" = 0 ] || skipped=" ($N_SKIPPED A4 runs skipped: io_uring unavailable)"
  say "done: $N_OK of $total runs in $(fmt_dur "$(elapsed "$start")")$skipped, results in $OUT (machine: $BASE.machine.txt)"
}

# finish: the plots, then the exit status (1 when a run or the plots failed).
finish() {
  local prc=0
  if [ "$OPT_PLOTS" = 1 ]; then run_plots || prc=$?; fi
  if [ "$RUN_FAILURES" -gt 0 ]; then err "$RUN_FAILURES run(s) failed (see messages above)"; exit 1; fi
  [ "$prc" = 0 ] || exit 1
}

main() {
  parse_args "$@"
  check_options
  if [ "$OPT_PLOTS_ONLY" = 1 ]; then
    [ -s "$OUT" ] || { err "--plots-only: no results file $OUT"; exit 1; }
    run_plots; exit $?
  fi
  if [ "$OPT_DRY_RUN" = 1 ]; then
    plan_runs
    [ "$OPT_PLOTS" = 0 ] || python_with matplotlib >/dev/null || err "note: no Python with matplotlib here: the real run would stop before the sweep (install python3-matplotlib: make deps; or add --no-plots)"
    say "dry run: results would go to $OUT; nothing was run"
    exit 0
  fi
  if [ "$OPT_PLOTS" = 1 ] && ! python_with matplotlib >/dev/null; then
    err "no Python with matplotlib, so no plots at the end: install python3-matplotlib (make deps, or apt-get install python3-matplotlib), or run with --no-plots"
    exit 1
  fi
  preflight
  plan_runs
  sweep
  profile_sweep "$OPT_DURATION"
  finish
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
