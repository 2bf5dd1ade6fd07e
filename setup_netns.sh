#!/usr/bin/env bash
# setup_netns.sh: the two network namespaces copybench measures in.
#
#   setup_netns.sh up       create server + client namespaces joined by a veth pair (idempotent)
#   setup_netns.sh down     remove them, killing any process left inside (idempotent)
#   setup_netns.sh status   say what exists and who holds it; exit 0 when fully up, 3 when not
#
# A pair in use is never destroyed by another user of it: `up` over a half-built pair rebuilds it
# only when nothing runs inside and no live process owns it (else it says who holds it, exit 1);
# the sweep and the demo remove a pair only when it is provably abandoned: the process that made
# it is gone and nothing runs inside (each records itself as the owner in
# /run/copybench/netns/NAME.owner). `down` is the explicit way to remove a pair and what runs in it.
#
# Environment (defaults in brackets):
#   CB_NS_SERVER [cb_srv]   server namespace name
#   CB_NS_CLIENT [cb_cli]   client namespace name
#   CB_SUBNET    [10.77.0.0/24]  the server gets the first host address (.1), the client the second (.2)
#   CB_TCP_CC    [system]  TCP congestion control in both namespaces: a name allowed there
#                (net.ipv4.tcp_allowed_congestion_control), auto (cubic, else reno) or system
#
# Only the addresses of this subnet, inside these two namespaces, are ever configured.
# Can also be sourced as a library: it then only defines the cb_netns_* functions.
set -euo pipefail

# 1 when the names are the defaults: a sweep or the demo may then pick a pair of its own
CB_NETNS_DEFAULT_NAMES=0
[ -n "${CB_NS_SERVER:-}${CB_NS_CLIENT:-}" ] || CB_NETNS_DEFAULT_NAMES=1
CB_NS_SERVER=${CB_NS_SERVER:-cb_srv}
CB_NS_CLIENT=${CB_NS_CLIENT:-cb_cli}
CB_SUBNET=${CB_SUBNET:-10.77.0.0/24}
# veth ends live inside the namespaces, so fixed names cannot collide with the host's links.
CB_VETH_SERVER=cbveth_s
CB_VETH_CLIENT=cbveth_c

# Who made each namespace: a line "pid=PID start=TICKS what=TEXT" (pid=hand: setup_netns.sh up,
# the user's own pair). PID plus its start time (/proc/PID/stat field 22) names one process
# even after the pid is reused.
CB_NETNS_OWNERS=${CB_NETNS_OWNERS:-/run/copybench/netns}
CB_NETNS_NOTE=""   # what cb_netns_acquire did, for the sweep and the demo to say

cb_netns_usage() {
  sed -n '2,22s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

cb_netns_err() { echo "setup_netns.sh: $*" >&2; }

cb_netns_need_root() {
  if [ "$(id -u)" != 0 ]; then
    cb_netns_err "needs root to manage network namespaces (run it with sudo)"
    return 1
  fi
  if ! command -v ip >/dev/null 2>&1; then
    cb_netns_err "the 'ip' command is missing (apt-get install iproute2)"
    return 1
  fi
}

# cb_netns_addrs: sets CB_SERVER_IP, CB_CLIENT_IP, CB_PREFIX from CB_SUBNET.
cb_netns_addrs() {
  local net=${CB_SUBNET%/*} len=${CB_SUBNET#*/} a b c d n
  if ! [[ "$CB_SUBNET" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$ ]] || [ "$len" -gt 30 ] || [ "$len" -lt 8 ]; then
    cb_netns_err "CB_SUBNET='$CB_SUBNET' is not an IPv4 network like 10.77.0.0/24 (prefix 8..30)"
    return 1
  fi
  IFS=. read -r a b c d <<<"$net"
  for n in "$a" "$b" "$c" "$d"; do
    if [ "$n" -gt 255 ]; then cb_netns_err "CB_SUBNET='$CB_SUBNET': octet $n > 255"; return 1; fi
  done
  n=$(( (a << 24 | b << 16 | c << 8 | d) & ~((1 << (32 - len)) - 1) & 0xffffffff ))
  CB_SERVER_IP=$(cb_netns_ntoa $((n + 1)))
  CB_CLIENT_IP=$(cb_netns_ntoa $((n + 2)))
  CB_PREFIX=$len
  export CB_SERVER_IP CB_CLIENT_IP CB_PREFIX
}
cb_netns_ntoa() { echo "$(($1 >> 24 & 255)).$(($1 >> 16 & 255)).$(($1 >> 8 & 255)).$(($1 & 255))"; }

cb_netns_check_names() {
  local ns
  for ns in "$CB_NS_SERVER" "$CB_NS_CLIENT"; do
    if ! [[ "$ns" =~ ^[A-Za-z0-9_.-]{1,64}$ ]]; then
      cb_netns_err "bad namespace name '$ns' (letters, digits, _ . - only)"
      return 1
    fi
  done
  if [ "$CB_NS_SERVER" = "$CB_NS_CLIENT" ]; then
    cb_netns_err "CB_NS_SERVER and CB_NS_CLIENT must differ"
    return 1
  fi
}

# Pipelines never end in `grep -q` here: under pipefail, grep -q exiting at its first match
# kills the producer with SIGPIPE and the whole test fails at random. Capture, then match.
cb_netns_exists() {
  [ -e "/run/netns/$1" ] && return 0
  local names
  names=$(ip netns list 2>/dev/null | awk '{print $1}') || true
  [[ $'\n'"$names"$'\n' == *$'\n'"$1"$'\n'* ]]
}

# cb_netns_has_addr NS DEV ADDR: DEV in NS carries ADDR (any prefix length).
cb_netns_has_addr() {
  local out
  out=$(ip -n "$1" -o addr show dev "$2" 2>/dev/null) || return 1
  [[ "$out" == *" $3/"* ]]
}

# cb_netns_link_up NS DEV: DEV in NS is administratively up (lo reports state UNKNOWN, so read the flags).
cb_netns_link_up() {
  local out
  out=$(ip -n "$1" -o link show dev "$2" 2>/dev/null) || return 1
  local flags='<([A-Z_]+,)*UP[,>]'
  [[ "$out" =~ $flags ]]
}

# cb_netns_kill_pids NS: stop every process inside NS (TERM, then KILL after 2 s).
cb_netns_kill_pids() {
  local ns=$1 pids i
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086 # word splitting of the pid list is intended
  kill -TERM $pids 2>/dev/null || true
  for i in $(seq 20); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] || return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  : "$i"
}

# cb_netns_start_ticks PID: the process's start time in clock ticks since boot ("" when gone).
cb_netns_start_ticks() {
  local st="" fields
  [ -r "/proc/$1/stat" ] && read -r st <"/proc/$1/stat" 2>/dev/null
  [ -n "$st" ] || return 0
  # after the command name, which may hold spaces and parentheses: field 3 on
  read -ra fields <<<"${st##*) }"
  echo "${fields[19]:-}"
}

# cb_netns_claim PID WHAT: PID (a process that outlives this call) owns the pair from now on;
# PID "hand" for a pair the user made with setup_netns.sh up.
cb_netns_claim() {
  local ns line="pid=$1 start= what=$2"
  [ "$1" = hand ] || line="pid=$1 start=$(cb_netns_start_ticks "$1") what=$2"
  mkdir -p "$CB_NETNS_OWNERS" || return 1
  for ns in "$CB_NS_SERVER" "$CB_NS_CLIENT"; do
    echo "$line" >"$CB_NETNS_OWNERS/$ns.owner.tmp" && mv -f "$CB_NETNS_OWNERS/$ns.owner.tmp" "$CB_NETNS_OWNERS/$ns.owner" || return 1
  done
}

# cb_netns_holder NS: who holds NS, in words; nothing when NS is absent or provably abandoned
# (its recorded owner process is gone and nothing runs inside). A namespace without a record
# (made by hand with ip netns, or by an older copybench) has an unknown owner: it is held.
cb_netns_holder() {
  local ns=$1 rec="" pid="" start="" p cmd w="" pids=() args=()
  cb_netns_exists "$ns" || return 0
  mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
  for p in "${pids[@]}"; do
    [ -n "$p" ] || continue
    args=(); [ -r "/proc/$p/cmdline" ] && mapfile -d '' args <"/proc/$p/cmdline" 2>/dev/null
    cmd="${args[*]}"
    w+="${w:+, }$p (${cmd:0:60})"
  done
  [ -z "$w" ] || w="processes inside: $w"
  [ -r "$CB_NETNS_OWNERS/$ns.owner" ] && read -r rec <"$CB_NETNS_OWNERS/$ns.owner"
  [[ "$rec" =~ ^pid=([^ ]*)\ start=([0-9]*)\ what= ]] && pid=${BASH_REMATCH[1]} start=${BASH_REMATCH[2]}
  if [ -z "$rec" ]; then
    w+="${w:+; }no owner on record (made with ip netns or an older copybench: setup_netns.sh down removes it)"
  elif [ "$pid" = hand ]; then
    w+="${w:+; }made by hand with setup_netns.sh up (setup_netns.sh down removes it)"
  elif [ -n "$pid" ] && [ -n "$start" ] && [ "$(cb_netns_start_ticks "$pid")" = "$start" ]; then
    w+="${w:+; }owned by pid $pid (${rec#* what=})"
  fi
  echo "$w"
}

# cb_netns_pair_holder: who holds either namespace of the pair ("" when both are free to remove).
cb_netns_pair_holder() {
  local h w=""
  h=$(cb_netns_holder "$CB_NS_SERVER"); [ -z "$h" ] || w="$CB_NS_SERVER: $h"
  h=$(cb_netns_holder "$CB_NS_CLIENT"); [ -z "$h" ] || w+="${w:+; }$CB_NS_CLIENT: $h"
  echo "$w"
}

# cb_netns_acquire PID WHAT: a pair of namespaces of PID's own, for a sweep or the demo. The pair
# named by CB_NS_SERVER/CB_NS_CLIENT is removed first when it is provably abandoned. When it is
# held, and the names are the defaults, the pair becomes cb_srv_PID/cb_cli_PID (so two sweeps, or
# a sweep and the demo, coexist); with names of the user's choosing it says who holds the pair and
# fails. Sets CB_NETNS_NOTE (what it did, for the caller to say); the pair is up when it returns 0.
# shellcheck disable=SC2034 # CB_NETNS_NOTE is for the scripts that source this file
cb_netns_acquire() {
  local pid=$1 what=$2 holder
  CB_NETNS_NOTE=""
  cb_netns_need_root && cb_netns_check_names && cb_netns_addrs || return 1
  if cb_netns_exists "$CB_NS_SERVER" || cb_netns_exists "$CB_NS_CLIENT"; then
    holder=$(cb_netns_pair_holder)
    if [ -z "$holder" ]; then
      CB_NETNS_NOTE="removed the abandoned namespaces $CB_NS_SERVER/$CB_NS_CLIENT (their owner is gone, nothing ran inside)"
      cb_netns_down >/dev/null || return 1
    elif [ "$CB_NETNS_DEFAULT_NAMES" = 1 ]; then
      CB_NETNS_NOTE="namespaces $CB_NS_SERVER/$CB_NS_CLIENT are in use ($holder), left alone; this one uses ${CB_NS_SERVER}_$pid/${CB_NS_CLIENT}_$pid"
      CB_NS_SERVER=${CB_NS_SERVER}_$pid CB_NS_CLIENT=${CB_NS_CLIENT}_$pid
      # a pid reused since a crash: the same rule once more
      if cb_netns_exists "$CB_NS_SERVER" || cb_netns_exists "$CB_NS_CLIENT"; then
        holder=$(cb_netns_pair_holder)
        [ -z "$holder" ] || { cb_netns_err "namespaces $CB_NS_SERVER/$CB_NS_CLIENT are in use: $holder"; return 1; }
        cb_netns_down >/dev/null || return 1
      fi
    else
      cb_netns_err "namespaces $CB_NS_SERVER/$CB_NS_CLIENT are in use, not touching them: $holder." \
        "Stop what holds them, or name another pair (CB_NS_SERVER, CB_NS_CLIENT)"
      return 1
    fi
  fi
  cb_netns_up_new "$pid" "$what"
}

# cb_netns_is_up: 0 when both namespaces, the veth pair, the addresses and lo are in place.
cb_netns_is_up() {
  cb_netns_addrs || return 1
  cb_netns_exists "$CB_NS_SERVER" && cb_netns_exists "$CB_NS_CLIENT" || return 1
  cb_netns_has_addr "$CB_NS_SERVER" "$CB_VETH_SERVER" "$CB_SERVER_IP" || return 1
  cb_netns_has_addr "$CB_NS_CLIENT" "$CB_VETH_CLIENT" "$CB_CLIENT_IP" || return 1
  local ns dev
  for ns in "$CB_NS_SERVER:$CB_VETH_SERVER" "$CB_NS_CLIENT:$CB_VETH_CLIENT" "$CB_NS_SERVER:lo" "$CB_NS_CLIENT:lo"; do
    dev=${ns#*:}; ns=${ns%%:*}
    cb_netns_link_up "$ns" "$dev" || return 1
  done
}

# cb_netns_set_cc: CB_TCP_CC as both namespaces' congestion control (system: leave the machine's).
# The machine's may pace inside TCP (bbr without the fq qdisc: a timer per burst), which on the
# development VM cost the sender 35-60% of its CPU and left some of 256 flows without a byte
# for seconds; `auto` takes cubic (Linux's usual default) where a namespace may use it, else
# reno (always allowed). The sweep records which one ran.
cb_netns_set_cc() {
  local cc=${CB_TCP_CC:-system} ns try
  [ "$cc" != system ] || return 0
  if ! [[ "$cc" =~ ^[a-z0-9_]{1,16}$ ]]; then cb_netns_err "CB_TCP_CC='$cc' is not a congestion control name"; return 1; fi
  for ns in "$CB_NS_SERVER" "$CB_NS_CLIENT"; do
    for try in $([ "$cc" = auto ] && echo cubic reno || echo "$cc"); do
      ip netns exec "$ns" sysctl -qw "net.ipv4.tcp_congestion_control=$try" 2>/dev/null && continue 2
    done
    cb_netns_err "CB_TCP_CC=$cc: not allowed in a namespace here (net.ipv4.tcp_allowed_congestion_control)"
    return 1
  done
}

cb_netns_down() {
  cb_netns_need_root && cb_netns_check_names || return 1
  local ns
  for ns in "$CB_NS_SERVER" "$CB_NS_CLIENT"; do
    if cb_netns_exists "$ns"; then
      cb_netns_kill_pids "$ns"
      ip netns del "$ns" 2>/dev/null || true
      if cb_netns_exists "$ns"; then cb_netns_err "could not remove namespace $ns"; return 1; fi
      echo "setup_netns.sh: removed namespace $ns"
    fi
    rm -f "$CB_NETNS_OWNERS/$ns.owner"
  done
}

# cb_netns_up: `setup_netns.sh up`, the user's own pair (owner: hand). A pair that is up stays as
# it is. A half-built one (a crash, an interrupted up) is rebuilt from nothing unless it is in use:
# something runs inside, or a live process owns it.
cb_netns_up() {
  local holder
  cb_netns_need_root && cb_netns_check_names && cb_netns_addrs || return 1
  if cb_netns_is_up; then
    echo "setup_netns.sh: already up ($CB_NS_SERVER $CB_SERVER_IP <-> $CB_NS_CLIENT $CB_CLIENT_IP)"
    return 0
  fi
  holder=$(cb_netns_pair_holder)
  if [[ "$holder" == *"processes inside"* || "$holder" == *"owned by pid"* ]]; then
    cb_netns_err "namespaces $CB_NS_SERVER/$CB_NS_CLIENT are half built and in use, not touching them: $holder." \
      "Stop what holds them (or remove them with setup_netns.sh down), or name another pair (CB_NS_SERVER, CB_NS_CLIENT)"
    return 1
  fi
  cb_netns_down >/dev/null || return 1
  cb_netns_up_new hand "setup_netns.sh up"
}

# cb_netns_up_new OWNER WHAT: create the pair (absent now), recorded as OWNER's (a pid, or hand).
cb_netns_up_new() {
  if ! {
    ip netns add "$CB_NS_SERVER" &&
    ip netns add "$CB_NS_CLIENT" &&
    ip link add "$CB_VETH_SERVER" netns "$CB_NS_SERVER" type veth peer name "$CB_VETH_CLIENT" netns "$CB_NS_CLIENT" &&
    ip -n "$CB_NS_SERVER" addr add "$CB_SERVER_IP/$CB_PREFIX" dev "$CB_VETH_SERVER" &&
    ip -n "$CB_NS_CLIENT" addr add "$CB_CLIENT_IP/$CB_PREFIX" dev "$CB_VETH_CLIENT" &&
    ip -n "$CB_NS_SERVER" link set lo up &&
    ip -n "$CB_NS_CLIENT" link set lo up &&
    ip -n "$CB_NS_SERVER" link set "$CB_VETH_SERVER" up &&
    ip -n "$CB_NS_CLIENT" link set "$CB_VETH_CLIENT" up &&
    cb_netns_set_cc &&
    cb_netns_claim "$1" "$2"
  }; then
    cb_netns_err "could not create the namespaces; cleaning up"
    cb_netns_down >/dev/null || true
    return 1
  fi
  echo "setup_netns.sh: up ($CB_NS_SERVER $CB_SERVER_IP <-> $CB_NS_CLIENT $CB_CLIENT_IP)"
}

cb_netns_status() {
  cb_netns_need_root && cb_netns_check_names && cb_netns_addrs || return 1
  local ns pids
  for ns in "$CB_NS_SERVER" "$CB_NS_CLIENT"; do
    if cb_netns_exists "$ns"; then
      echo "namespace $ns: exists; $(cb_netns_holder "$ns" | sed 's/^$/abandoned (owner gone, nothing inside)/')"
      ip -n "$ns" -br addr show 2>/dev/null | sed 's/^/  /'
    else
      echo "namespace $ns: absent"
    fi
  done
  if cb_netns_is_up; then
    echo "status: up ($CB_NS_SERVER $CB_SERVER_IP <-> $CB_NS_CLIENT $CB_CLIENT_IP)"
    return 0
  fi
  echo "status: not up"
  return 3
}

cb_netns_main() {
  case "${1:-}" in
    up) cb_netns_up ;;
    down) cb_netns_down ;;
    status) cb_netns_status ;;
    -h|--help|help) cb_netns_usage ;;
    "") cb_netns_usage >&2; return 2 ;;
    *) cb_netns_err "unknown command '$1' (want up, down or status)"; return 2 ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  if [ "$#" -gt 1 ]; then cb_netns_err "one command expected (up, down or status)"; exit 2; fi
  rc=0
  cb_netns_main "$@" || rc=$?
  exit "$rc"
fi
