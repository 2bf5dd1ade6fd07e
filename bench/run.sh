#!/usr/bin/env bash
# copybench against reference tools, on a private loopback.
#
# Stream: for each size, round after round, A1, A2, A3, A4, A2@32K (the client
# with --rcvlowat 32K) and then
# `iperf3 -c 127.0.0.1 -l SIZE -R` (the iperf3 server sends, its client
# receives: the same direction as ours, where the A*_server sends). Each
# implementation's ratio is taken against the iperf3 run of the same round;
# the table shows the median of those per-round ratios and the median Gbps.
# Then, per round, A1 and A2 once more with cold data: each server with --footprint
# (default 256M), so every send reads fields a whole footprint old; the table
# gives A1/A2 hot and cold side by side (median of the per-round ratios).
# Also per round: the single-core memcpy ceiling for A1's copy pattern
# (bench/memcpy_ceiling), from which A1's predicted rate follows:
#     pred_A1 = 1 / (1/A2 + 1/memcpy)       (all in Gbit/s)
# i.e. the sender does A2's work plus one extra copy of every byte.
#
# A4 against A3 and A2: per round, A4's throughput and sender CPU per byte over
# theirs, the median of those per-round ratios (A4:N runs A4 with --queue-depth
# N, so depths can be compared side by side). Where io_uring is refused the A4
# runs are skipped with a note.
#
# Request/response: A1, A2, A3, A4 in rr mode and `sockperf ping-pong --tcp`,
# alternating, median p50/p99 round trip and the ratio ours/sockperf.
#
# Everything runs in a fresh network namespace (unshare -n) holding only a
# loopback interface; nothing else is touched. Needs root. Progress goes to
# stderr, the Markdown table to stdout (and --out FILE).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${CB_BIN:-$ROOT}
PROG=bench/run.sh

usage() {
  cat <<'EOF'
usage: bench/run.sh [options]
  --sizes LIST      stream message sizes, comma separated (default 1K,4K,16K,64K)
  --rr-sizes LIST   rr reply sizes (default 64,4K)
  --rounds N        rounds per size, N >= 1 (default 3)
  --duration S      seconds per run, integer >= 1 (default 3)
  --impls LIST      which of A1,A2,A3,A4 (default A1,A2,A3,A4,A2@32K); IMPL@BYTES runs IMPL with
                    the client's --rcvlowat BYTES (stream only; plain IMPL: the client default);
                    A4:N runs A4 with --queue-depth N (stream only)
  --footprint BYTES cold data: A1 and A2 (those of --impls) also run with the server's
                    --footprint BYTES, K/M/G suffixes, right after the hot runs of each
                    round (default 256M, --quick 32M; 0: no cold runs)
  --no-rr           skip the request/response part
  --quick           smoke-test settings: 1 round, 1 s, sizes 1K,64K, rr size 64, footprint 32M
                    (options given explicitly still win)
  --pin S:C         run senders/servers under taskset -c S, receivers/clients
                    under taskset -c C (e.g. 0:1, or 0:0 for one shared CPU);
                    default: no pinning
  --out FILE        also write the table to FILE
  --help            this text
Runs as root inside its own network namespace; installs iperf3 and sockperf
from apt if they are missing. Exit 0 ok, 1 a run failed, 2 usage error.
EOF
}

die_usage() { echo "$PROG: $*" >&2; exit 2; }
say() { echo "bench: $*" >&2; }

# ---- options ------------------------------------------------------------
unset sizes rr_sizes rounds duration impls footprint
no_rr=0 quick=0 out="" pin=""
orig_args=("$@")
while [ $# -gt 0 ]; do
  case $1 in
    --help|-h) usage; exit 0 ;;
    --sizes|--rr-sizes|--rounds|--duration|--impls|--out|--pin|--footprint)
      [ $# -ge 2 ] || die_usage "$1 needs a value"
      case $1 in
        --sizes) sizes=$2 ;; --rr-sizes) rr_sizes=$2 ;; --rounds) rounds=$2 ;;
        --duration) duration=$2 ;; --impls) impls=$2 ;; --out) out=$2 ;; --pin) pin=$2 ;;
        --footprint) footprint=$2 ;;
      esac
      shift 2 ;;
    --sizes=*) sizes=${1#*=}; shift ;;
    --rr-sizes=*) rr_sizes=${1#*=}; shift ;;
    --rounds=*) rounds=${1#*=}; shift ;;
    --duration=*) duration=${1#*=}; shift ;;
    --impls=*) impls=${1#*=}; shift ;;
    --out=*) out=${1#*=}; shift ;;
    --pin=*) pin=${1#*=}; shift ;;
    --footprint=*) footprint=${1#*=}; shift ;;
    --no-rr) no_rr=1; shift ;;
    --quick) quick=1; shift ;;
    *) die_usage "unknown option '$1' (try --help)" ;;
  esac
done
# Unset = not given: --quick and then the defaults fill in only those.
if [ "$quick" = 1 ]; then
  : "${sizes=1K,64K}" "${rr_sizes=64}" "${rounds=1}" "${duration=1}" "${footprint=32M}"
fi
: "${sizes=1K,4K,16K,64K}" "${rr_sizes=64,4K}" "${rounds=3}" "${duration=3}" "${impls=A1,A2,A3,A4,A2@32K}" "${footprint=256M}"

[[ $rounds =~ ^[1-9][0-9]{0,2}$ ]] || die_usage "--rounds wants an integer in [1, 999], got '$rounds'"
[[ $duration =~ ^[1-9][0-9]{0,3}$ ]] || die_usage "--duration wants whole seconds >= 1 (iperf3 -t is whole seconds), got '$duration'"

# shellcheck source=lib/size.sh
. "$ROOT/lib/size.sh"
to_bytes() { cb_bytes "$1" || true; }   # 4K -> 4096; empty on a bad size
IFS=', ' read -r -a SIZES <<<"$sizes"
IFS=', ' read -r -a RR_SIZES <<<"$rr_sizes"
IFS=', ' read -r -a IMPLS <<<"$impls"
[ "${#SIZES[@]}" -gt 0 ] || die_usage "--sizes is empty"
[ "${#IMPLS[@]}" -gt 0 ] || die_usage "--impls is empty"
[ "$no_rr" = 1 ] || [ "${#RR_SIZES[@]}" -gt 0 ] || die_usage "--rr-sizes is empty (use --no-rr)"
for s in "${SIZES[@]}" "${RR_SIZES[@]}"; do
  cb_size_bytes "$s" >/dev/null || die_usage "bad size '$s' ($CB_SIZE_GRAMMAR)"
done
for i in "${IMPLS[@]}"; do
  case $i in A1|A2|A3|A4) ;; A[1234]@[0-9]*) [ -n "$(to_bytes "${i#*@}")" ] || die_usage "bad low-water mark in '$i'" ;;
    A4:*) if ! [[ ${i#A4:} =~ ^[1-9][0-9]{0,2}$ ]] || [ "${i#A4:}" -gt 256 ]; then die_usage "bad queue depth in '$i' (A4:N, N in 1..256)"; fi ;;
    *) die_usage "bad impl '$i' (A1, A2, A3, A4, e.g. A2@32K, or A4:N)" ;; esac
done
FP_BYTES=$(to_bytes "$footprint")
[ -n "$FP_BYTES" ] || die_usage "--footprint wants bytes with K/M/G suffixes (0: no cold runs), got '$footprint'"
# Cold runs: IMPL%BYTES is IMPL's server with --footprint BYTES.
COLD=()
for i in "${IMPLS[@]}"; do case $i in A1|A2) [ "$FP_BYTES" = 0 ] || COLD+=("$i%$FP_BYTES") ;; esac; done
# The rr runs ignore the receiver's low-water mark (and send one message at a time): only plain
# techniques run them.
RR_IMPLS=()
for i in "${IMPLS[@]}"; do [[ $i == *[@:]* ]] || RR_IMPLS+=("$i"); done
PIN_S=() PIN_C=()
if [ -n "$pin" ]; then
  [[ $pin =~ ^([0-9][0-9,-]*):([0-9][0-9,-]*)$ ]] || die_usage "--pin wants SERVER_CPUS:CLIENT_CPUS (e.g. 0:1), got '$pin'"
  PIN_S=(taskset -c "${BASH_REMATCH[1]}") PIN_C=(taskset -c "${BASH_REMATCH[2]}")
  if ! "${PIN_S[@]}" true 2>/dev/null || ! "${PIN_C[@]}" true 2>/dev/null; then
    die_usage "--pin $pin: taskset cannot use those CPUs (this machine has $(nproc))"
  fi
fi

# ---- root, packages, namespace -------------------------------------------
if [ -z "${CB_BENCH_NETNS:-}" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "$PROG: needs root (private network namespace, apt-get)" >&2; exit 1
  fi
  missing=()
  command -v iperf3 >/dev/null 2>&1 || missing+=(iperf3)
  command -v sockperf >/dev/null 2>&1 || missing+=(sockperf)
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]} from apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
  for p in A1 A2 A3 A4; do
    for side in server client; do
      [ -x "$BIN/${p}_$side" ] || { echo "$PROG: $BIN/${p}_$side missing: run make" >&2; exit 1; }
    done
  done
  [ -x "$ROOT/bench/memcpy_ceiling" ] || { echo "$PROG: bench/memcpy_ceiling missing: run make bench/memcpy_ceiling" >&2; exit 1; }
  CB_BENCH_NETNS=1 exec unshare -n bash "${BASH_SOURCE[0]}" "${orig_args[@]}"
fi
ip link set lo up
# The sweep's congestion control (setup_netns.sh, CB_TCP_CC=auto: cubic where a namespace may
# use it, else reno), for iperf3 and ours alike: this VM's bbr without the fq qdisc paces inside
# TCP with a timer per burst, which cost the sender 35-60% of its CPU (docs/profiles.md), and a
# bench that measured that timer would say little about the copies.
BENCH_CC=${CB_TCP_CC:-auto}
if [ "$BENCH_CC" != system ]; then
  for try in $([ "$BENCH_CC" = auto ] && echo cubic reno || echo "$BENCH_CC"); do
    sysctl -qw "net.ipv4.tcp_congestion_control=$try" 2>/dev/null && break
  done
fi
BENCH_CC=$(sysctl -n net.ipv4.tcp_congestion_control)

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_scratch cb-bench

# ---- helpers ----------------------------------------------------------------
med() { # median of the arguments (numbers); "nan" for none
  printf '%s\n' "$@" | awk 'NF && $1 != "nan" {print}' | sort -g |
    awk '{a[NR]=$1} END {if (NR==0) {print "nan"; exit}
                         if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}
minmax() { printf '%s\n' "$@" | awk 'NF && $1 != "nan"' | sort -g | awk 'NR==1{lo=$1} {hi=$1} END {if (NR) printf "%.2f–%.2f", lo, hi; else print "n/a"}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {if (a=="nan"||b=="nan"||b+0==0) print "nan"; else printf "%.4f", a/b}'; }
fmt() { awk -v v="$1" -v f="${2:-%.2f}" 'BEGIN {if (v=="nan"||v=="") print "n/a"; else printf f, v}'; }

wait_listen() { # wait_listen PORT PID: until something listens on PORT
  local i
  for i in $(seq 1 200); do
    [ -n "$(ss -Hltn "sport = :$1")" ] && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.025
  done
  return 1
}
wait_gone() { # wait_gone PID SECONDS: wait for a child; kill it after SECONDS
  local i
  for i in $(seq 1 $(($2 * 20))); do
    kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }
    sleep 0.05
  done
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  return 1
}

FAILS=()
fail() { FAILS+=("$*"); say "FAILED: $*"; }

declare -A GBPS RCPU SCPU STEAL ZCC ZCD MEMC MEMCOLD P50 P99
A4_SKIP=""   # why A4 is skipped (io_uring refused here), once its server said so
RX_CHUNK=""   # the client's recv size, from its result line
IPERF_PORT=5201 SOCKPERF_PORT=11111

# run_ours IMPL SIZE MODE ROUND
run_ours() {
  local impl=$1 size=$2 mode=$3 round=$4 key="$1|$2|$4"
  # fresh files per run: a reused one could still hold the last server's port
  local srv_out srv_err
  srv_out=$(mktemp "$TMP/srv.XXXXXX") srv_err=$(mktemp "$TMP/srv-err.XXXXXX")
  local spid port cline sline st0 st1
  local prog=${impl%%[@%:]*} extra=() sextra=()
  [[ $impl == *@* ]] && extra=(--rcvlowat "$(to_bytes "${impl#*@}")")
  [[ $impl == *%* ]] && sextra=(--footprint "${impl#*%}")
  [[ $impl == *:* ]] && sextra=(--queue-depth "${impl#*:}")
  [ "$prog" = A4 ] && [ -n "$A4_SKIP" ] && return 0
  start_server "$srv_out" "$srv_err" "${PIN_S[@]}" "$BIN/${prog}_server" -p 0 -n 1 -q "${sextra[@]}"
  spid=$SPID port=$PORT
  if [ -z "$port" ]; then
    fail "$impl $mode $size: server did not start: $(head -c 300 "$srv_err")"; return 0
  fi
  if [ "$prog" = A4 ] && grep -q '^listening .* uring=0' "$srv_out"; then
    A4_SKIP=$(grep -m 1 'io_uring unavailable' "$srv_err" || echo "io_uring unavailable")
    say "A4 skipped: ${A4_SKIP#*: }"
    kill "$spid" 2>/dev/null; wait_gone "$spid" 5 || true
    return 0
  fi
  st0=$(stat_now)
  cline=$(timeout $((duration + 30)) "${PIN_C[@]}" "$BIN/${prog}_client" -H 127.0.0.1 -p "$port" -s "$size" -t 1 \
            -d "$duration" -m "$mode" "${extra[@]}" 2>"$TMP/cli.err" | grep '^result ' | tail -n 1) || true
  st1=$(stat_now)
  wait_gone "$spid" 10 || fail "$impl $mode $size: server did not exit after its one client"
  sline=$(grep '^result ' "$srv_out" | tail -n 1 || true)
  if [ -z "$cline" ] || [ "$(field errors "$cline")" != 0 ] || [ "$(field verify_errors "$cline")" != 0 ]; then
    fail "$impl $mode $size round $round: client: ${cline:-no result line} $(head -c 300 "$TMP/cli.err")"; return 0
  fi
  if [ -z "$sline" ] || [ "$(field errors "$sline")" != 0 ] || [ "$(field clients "$sline")" != 1 ]; then
    fail "$impl $mode $size round $round: server: ${sline:-no result line} $(head -c 300 "$srv_err")"; return 0
  fi
  STEAL[$mode|$key]=$(steal_pct "$st0" "$st1")
  if [ "$mode" = stream ]; then
    GBPS[$key]=$(field gbps "$cline")
    RCPU[$key]=$(field cpu_pct "$cline")
    RX_CHUNK=$(field recv_chunk "$cline")
    # the send loops' CPU: a footprint's setup (about 1 s per 256 MiB) is not sending
    SCPU[$key]=$(pct "$(field send_cpu_s "$sline")" "$(field duration_s "$cline")")
    if [ "$prog" = A3 ] || [ "$prog" = A4 ]; then
      ZCC[$key]=$(field zc_copied "$sline")
      ZCD[$key]=$(field zc_completions "$sline")
    fi
    say "round $round $impl $size: $(field gbps "$cline") Gbps, receiver cpu $(field cpu_pct "$cline")%, steal ${STEAL[$mode|$key]}%"
  else
    P50[$key]=$(field lat_p50_us "$cline")
    P99[$key]=$(field lat_p99_us "$cline")
    say "round $round $impl rr $size: p50 ${P50[$key]} us, p99 ${P99[$key]} us, steal ${STEAL[$mode|$key]}%"
  fi
}

run_iperf() { # run_iperf SIZE ROUND
  local size=$1 round=$2 key="ref|$1|$2" st0 st1 js
  st0=$(stat_now)
  if ! timeout $((duration + 30)) "${PIN_C[@]}" iperf3 -c 127.0.0.1 -p "$IPERF_PORT" -l "$size" -t "$duration" -R -J \
       >"$TMP/iperf.json" 2>"$TMP/iperf.err"; then
    fail "iperf3 $size round $round: $(jq -r '.error // empty' "$TMP/iperf.json" 2>/dev/null) $(head -c 300 "$TMP/iperf.err")"
    return 0
  fi
  st1=$(stat_now)
  js=$(jq -r '[.end.sum_received.bits_per_second / 1e9, .end.cpu_utilization_percent.host_total,
               .end.cpu_utilization_percent.remote_total] | @tsv' "$TMP/iperf.json")
  local g rc sc
  read -r g rc sc <<<"$js"
  GBPS[$key]=$g
  # shellcheck disable=SC2034  # read through the nameref in vals()
  RCPU[$key]=$rc SCPU[$key]=$sc
  STEAL[stream|$key]=$(steal_pct "$st0" "$st1")
  say "round $round iperf3 $size: $(fmt "${GBPS[$key]}" %.3f) Gbps, steal ${STEAL[stream|$key]}%"
}

run_sockperf() { # run_sockperf SIZE ROUND
  local size=$1 round=$2 key="ref|$1|$2" st0 st1 txt
  st0=$(stat_now)
  if ! txt=$(timeout $((duration + 30)) "${PIN_C[@]}" sockperf ping-pong --tcp -i 127.0.0.1 -p "$SOCKPERF_PORT" \
               -m "$size" -t "$duration" --full-rtt 2>&1); then
    fail "sockperf $size round $round: $(tail -n 3 <<<"$txt")"; return 0
  fi
  st1=$(stat_now)
  txt=$(printf '%s\n' "$txt" | sed 's/\x1b\[[0-9;]*m//g')
  P50[$key]=$(awk '/percentile 50\.000 =/ {print $NF}' <<<"$txt")
  P99[$key]=$(awk '/percentile 99\.000 =/ {print $NF}' <<<"$txt")
  if [ -z "${P50[$key]}" ] || [ -z "${P99[$key]}" ]; then
    fail "sockperf $size round $round: no percentiles in its output: $(tail -n 4 <<<"$txt" | tr '\n' ' ' | cut -c 1-400)"; return 0
  fi
  STEAL[rr|$key]=$(steal_pct "$st0" "$st1")
  say "round $round sockperf $size: p50 ${P50[$key]} us, p99 ${P99[$key]} us, steal ${STEAL[rr|$key]}%"
}

run_memcpy() { # run_memcpy SIZE ROUND
  local out
  out=$("${PIN_S[@]}" "$ROOT/bench/memcpy_ceiling" -t 0.2 -f 128 -m both "$1") || { fail "memcpy_ceiling $1"; return 0; }
  MEMC[$1|$2]=$(field gbit_per_s "$(grep '^memcpy mode=hot ' <<<"$out")")
  # shellcheck disable=SC2034  # read through the nameref in vals()
  MEMCOLD[$1|$2]=$(field gbit_per_s "$(grep '^memcpy mode=cold ' <<<"$out")")
}

# ---- reference servers -------------------------------------------------------
"${PIN_S[@]}" iperf3 -s -p "$IPERF_PORT" >"$TMP/iperf-server.log" 2>&1 &
PIDS+=("$!")
wait_listen "$IPERF_PORT" "$!" || { echo "$PROG: iperf3 -s did not start: $(head -c 300 "$TMP/iperf-server.log")" >&2; exit 1; }
if [ "$no_rr" = 0 ]; then
  "${PIN_S[@]}" sockperf server --tcp -i 127.0.0.1 -p "$SOCKPERF_PORT" >"$TMP/sockperf-server.log" 2>&1 &
  PIDS+=("$!")
  wait_listen "$SOCKPERF_PORT" "$!" || { echo "$PROG: sockperf server did not start: $(head -c 300 "$TMP/sockperf-server.log")" >&2; exit 1; }
fi

# ---- the runs ------------------------------------------------------------------
BENCH_ST0=$(stat_now)
start_date=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
for s in "${SIZES[@]}"; do
  b=$(to_bytes "$s")
  for r in $(seq 1 "$rounds"); do
    for i in "${IMPLS[@]}" "${COLD[@]}"; do run_ours "$i" "$b" stream "$r"; done
    run_iperf "$b" "$r"
    run_memcpy "$b" "$r"
  done
done
if [ "$no_rr" = 0 ]; then
  for s in "${RR_SIZES[@]}"; do
    b=$(to_bytes "$s")
    for r in $(seq 1 "$rounds"); do
      for i in "${RR_IMPLS[@]}"; do run_ours "$i" "$b" rr "$r"; done
      run_sockperf "$b" "$r"
    done
  done
fi
BENCH_ST1=$(stat_now)

# ---- the table -------------------------------------------------------------------
has_impl() { local i; for i in "${IMPLS[@]}"; do [ "$i" = "$1" ] && return 0; done; return 1; }
vals() { # vals ARRAYNAME PREFIX: values of ARRAY[PREFIX|round] over the rounds that have one
  local -n a=$1
  local r
  for r in $(seq 1 "$rounds"); do
    [ -n "${a[$2|$r]:-}" ] && echo "${a[$2|$r]}"
  done
  return 0
}
hsize() { local n=$1; if [ $((n % 1048576)) = 0 ]; then echo "$((n >> 20))M"; elif [ $((n % 1024)) = 0 ]; then echo "$((n >> 10))K"; else echo "$n"; fi; }

{
  echo "## copybench vs reference tools (loopback, private netns)"
  echo
  echo "- machine: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) CPUs, kernel $(uname -r)"
  echo "- date: $start_date; rounds: $rounds; ${duration} s per run; one connection (1 thread); pinning: ${pin:-none, the scheduler places them}${pin:+ (server/sender CPUs:client/receiver CPUs)}"
  echo "- TCP congestion control: $BENCH_CC (CB_TCP_CC=${CB_TCP_CC:-auto}; the sweep's rule)"
  echo "- tools: $(iperf3 --version 2>/dev/null | sed -n 1,1p | awk '{print $1, $2}'), sockperf $(sockperf --version 2>&1 | sed -n 's/.*version \([^ ]*\).*/\1/p' | sed -n 1,1p)"
  echo "- **steal share over the whole bench: $(steal_pct "$BENCH_ST0" "$BENCH_ST1")%** (/proc/stat steal / total); per row: median of its runs"
  echo "- failed runs: ${#FAILS[@]}"
  echo
  echo "### Stream throughput (server sends, client receives)"
  echo
  echo "Ratio = impl Gbps / iperf3 Gbps of the same round; the median of the per-round ratios (range across rounds in brackets)."
  echo "Receiver CPU = the receiving process's CPU time / window (ours: client cpu_pct; iperf3: its -J host_total with -R). Sender CPU for ours = the server threads' CPU time in their send loops (send_cpu_s) / window; for iperf3 its remote_total. Rows named \"IMPL, footprint SIZE\": the same server with cold data (--footprint), run right after the hot ones in the same round."
  echo
  echo "| size | impl | Gbps (median) | ratio vs iperf3 (median) [range] | receiver CPU % | sender CPU % | steal % | notes |"
  echo "|---|---|---|---|---|---|---|---|"
  for s in "${SIZES[@]}"; do
    b=$(to_bytes "$s")
    for i in "${IMPLS[@]}" "${COLD[@]}" ref; do
      ratios=()
      for r in $(seq 1 "$rounds"); do
        if [ -n "${GBPS[$i|$b|$r]:-}" ] && [ -n "${GBPS[ref|$b|$r]:-}" ]; then
          ratios+=("$(div "${GBPS[$i|$b|$r]}" "${GBPS[ref|$b|$r]}")")
        fi
      done
      mapfile -t g < <(vals GBPS "$i|$b")
      mapfile -t rc < <(vals RCPU "$i|$b")
      mapfile -t sc < <(vals SCPU "$i|$b")
      mapfile -t st < <(vals STEAL "stream|$i|$b")
      note=""
      name=$i
      [[ $i == *%* ]] && name="${i%%%*}, footprint $(hsize "${i#*%}")"
      if [ "$i" = ref ]; then
        name="iperf3 -l $(hsize "$b") -R"
        ratio_txt="1 (reference)"
        note="its receiver reads $(hsize "$b") per read() (ours: up to $(hsize "${RX_CHUNK:-0}") per recv)"
      else
        ratio_txt="$(fmt "$(med "${ratios[@]}")") [$(minmax "${ratios[@]}")]"
      fi
      if [[ $i == A3* || $i == A4* ]]; then
        zc=0 zd=0
        for r in $(seq 1 "$rounds"); do
          zc=$((zc + ${ZCC[$i|$b|$r]:-0})) zd=$((zd + ${ZCD[$i|$b|$r]:-0}))
        done
        note="zc_copied/zc_completions = $zc/$zd ($(pct "$zc" "$zd")% copied)"
        [[ $i == A4* ]] && [ -n "$A4_SKIP" ] && note="skipped: ${A4_SKIP#*: }"
      fi
      if [ "$i" = A1 ] && has_impl A2; then
        preds=() vs=()
        for r in $(seq 1 "$rounds"); do
          a1=${GBPS[A1|$b|$r]:-} a2=${GBPS[A2|$b|$r]:-} mc=${MEMC[$b|$r]:-}
          if [ -z "$a1" ] || [ -z "$a2" ] || [ -z "$mc" ]; then continue; fi
          p=$(awk -v a="$a2" -v m="$mc" 'BEGIN {printf "%.4f", 1/(1/a + 1/m)}')
          preds+=("$p"); vs+=("$(div "$a1" "$p")")
        done
        mv=$(med "${vs[@]}")
        verdict=$(awk -v v="$mv" 'BEGIN {if (v=="nan") print "n/a"; else if (v >= 0.9) print "within its extra memcpy of A2"; else print "slower than A2 + one memcpy explains"}')
        note="predicted 1/(1/A2+1/memcpy) = $(fmt "$(med "${preds[@]}")") Gbps; A1/pred = $(fmt "$mv") → $verdict"
      fi
      echo "| $(hsize "$b") | $name | $(fmt "$(med "${g[@]}")" %.3f) | $ratio_txt | $(fmt "$(med "${rc[@]}")" %.1f) | $(fmt "$(med "${sc[@]}")" %.1f) | $(fmt "$(med "${st[@]}")" %.1f) | $note |"
    done
  done
  a4s=()
  for i in "${IMPLS[@]}"; do [[ $i == A4* ]] && a4s+=("$i"); done
  if [ "${#a4s[@]}" -gt 0 ] && { has_impl A3 || has_impl A2; }; then
    echo
    echo "### io_uring zero-copy (A4) against A3 and A2, same rounds"
    echo
    echo "Per round: A4's Gbps over A3's (A2's), and its sender CPU per byte (server cpu_s / window / Gbps) over theirs; the median of the per-round ratios [range]. Throughput > 1 and CPU per byte < 1 favour A4."
    [ -z "$A4_SKIP" ] || { echo; echo "A4 was skipped: ${A4_SKIP#*: }"; }
    echo
    echo "| size | impl | Gbps A4/A3 | Gbps A4/A2 | CPU per byte A4/A3 | CPU per byte A4/A2 |"
    echo "|---|---|---|---|---|---|"
    for s in "${SIZES[@]}"; do
      b=$(to_bytes "$s")
      for i in "${a4s[@]}"; do
        cells=()
        for what in GBPS CPB; do
          for base in A3 A2; do
            rs=()
            for r in $(seq 1 "$rounds"); do
              x=${GBPS[$i|$b|$r]:-} y=${GBPS[$base|$b|$r]:-}
              if [ -z "$x" ] || [ -z "$y" ]; then continue; fi
              if [ "$what" = GBPS ]; then rs+=("$(div "$x" "$y")")
              else rs+=("$(div "$(div "${SCPU[$i|$b|$r]}" "$x")" "$(div "${SCPU[$base|$b|$r]}" "$y")")"); fi
            done
            cells+=("$(fmt "$(med "${rs[@]}")") [$(minmax "${rs[@]}")]")
          done
        done
        echo "| $(hsize "$b") | $i | ${cells[0]} | ${cells[1]} | ${cells[2]} | ${cells[3]} |"
      done
    done
  fi
  echo
  if [ "${#COLD[@]}" = 2 ]; then
    echo "### Hot vs cold data: A1 two-copy vs A2 one-copy"
    echo
    echo "Hot: the server sends one message again and again (its fields stay in the sender's caches, the sweep's default). Cold: --footprint $(hsize "$FP_BYTES"), so every send reads 8 fields last touched $(hsize "$FP_BYTES") of messages ago. A1/A2 = A1 Gbps / A2 Gbps of the same round (run one after the other), the median of the per-round ratios [range]; > 1: the extra copy is the faster path. Sender CPU per GB = send_cpu_s / GB sent (CPU seconds per GB, the send loops alone)."
    echo
    echo "| size | A1/A2 hot | A1/A2 cold | A1 cold/hot | A2 cold/hot | sender CPU s/GB hot A1 / A2 | cold A1 / A2 |"
    echo "|---|---|---|---|---|---|---|"
    for s in "${SIZES[@]}"; do
      b=$(to_bytes "$s")
      hot=() cold=() c1=() c2=()
      for r in $(seq 1 "$rounds"); do
        h1=${GBPS[A1|$b|$r]:-} h2=${GBPS[A2|$b|$r]:-} k1=${GBPS[${COLD[0]}|$b|$r]:-} k2=${GBPS[${COLD[1]}|$b|$r]:-}
        [ -n "$h1" ] && [ -n "$h2" ] && hot+=("$(div "$h1" "$h2")")
        [ -n "$k1" ] && [ -n "$k2" ] && cold+=("$(div "$k1" "$k2")")
        [ -n "$h1" ] && [ -n "$k1" ] && c1+=("$(div "$k1" "$h1")")
        [ -n "$h2" ] && [ -n "$k2" ] && c2+=("$(div "$k2" "$h2")")
      done
      cpb() { # cpb KEY: the median over rounds of sender CPU % / Gbps x 8 / 100 = CPU s per GB
        local -a v=()
        for r in $(seq 1 "$rounds"); do
          [ -n "${SCPU[$1|$b|$r]:-}" ] && [ -n "${GBPS[$1|$b|$r]:-}" ] &&
            v+=("$(awk -v c="${SCPU[$1|$b|$r]}" -v g="${GBPS[$1|$b|$r]}" 'BEGIN { if (c == "nan" || g + 0 == 0) print "nan"; else printf "%.4f", c / 100 * 8 / g }')")
        done
        fmt "$(med "${v[@]}")" %.3f
      }
      echo "| $(hsize "$b") | $(fmt "$(med "${hot[@]}")") [$(minmax "${hot[@]}")] | $(fmt "$(med "${cold[@]}")") [$(minmax "${cold[@]}")] | $(fmt "$(med "${c1[@]}")") | $(fmt "$(med "${c2[@]}")") | $(cpb A1) / $(cpb A2) | $(cpb "${COLD[0]}") / $(cpb "${COLD[1]}") |"
    done
    echo
  fi
  echo "### memcpy ceiling (one core, A1's pattern: 8 fields of SIZE/8 into one flat buffer, median of rounds)"
  echo
  echo "hot = the same fields into the same buffer every time, as A1 does (used for the prediction); cold = walking a 128 MiB region, for scale."
  echo
  echo "| size | hot GB/s | hot Gbit/s | cold Gbit/s | A2 Gbps | A1 Gbps | predicted A1 Gbps | time the extra copy should add to A2's |"
  echo "|---|---|---|---|---|---|---|---|"
  for s in "${SIZES[@]}"; do
    b=$(to_bytes "$s")
    mapfile -t m < <(vals MEMC "$b")
    mm=$(med "${m[@]}")
    mapfile -t mcold < <(vals MEMCOLD "$b")
    mapfile -t g1 < <(vals GBPS "A1|$b")
    mapfile -t g2 < <(vals GBPS "A2|$b")
    a1=$(med "${g1[@]}") a2=$(med "${g2[@]}")
    pred=$(awk -v a="$a2" -v m="$mm" 'BEGIN {if (a=="nan"||m=="nan") print "nan"; else printf "%.4f", 1/(1/a + 1/m)}')
    share=$(awk -v a="$a2" -v m="$mm" 'BEGIN {if (a=="nan"||m=="nan") print "n/a"; else printf "%.1f%%", 100*a/m}')
    echo "| $(hsize "$b") | $(fmt "$(awk -v m="$mm" 'BEGIN {if (m=="nan") print "nan"; else print m/8}')" %.1f) | $(fmt "$mm" %.1f) | $(fmt "$(med "${mcold[@]}")" %.1f) | $(fmt "$a2" %.3f) | $(fmt "$a1" %.3f) | $(fmt "$pred" %.3f) | $share |"
  done
  if [ "$no_rr" = 0 ]; then
    echo
    echo "### Request/response round trip (µs), vs sockperf ping-pong --tcp --full-rtt"
    echo
    echo "Not the same exchange: ours sends a 16-byte request and gets one SIZE-byte reply; sockperf sends SIZE bytes and gets the same SIZE bytes echoed (so at 4K sockperf moves about twice the bytes per round trip). Both: TCP_NODELAY, one connection, blocking receive. sockperf prints percentiles 25/50/75/90/99/99.9/99.99/99.999 and min/max (half round trip unless --full-rtt, which is used here) and drops its first 400 ms as warm-up; ours times every request with CLOCK_MONOTONIC into a log-linear histogram (<1.6% bucket error), no warm-up. Ratio = ours / sockperf of the same round, median of rounds (>1: ours slower)."
    echo
    echo "| size | impl | p50 µs | p99 µs | p50 ratio vs sockperf | p99 ratio vs sockperf | steal % |"
    echo "|---|---|---|---|---|---|---|"
    for s in "${RR_SIZES[@]}"; do
      b=$(to_bytes "$s")
      for i in "${RR_IMPLS[@]}" ref; do
        r50=() r99=()
        for r in $(seq 1 "$rounds"); do
          if [ -n "${P50[$i|$b|$r]:-}" ] && [ -n "${P50[ref|$b|$r]:-}" ]; then
            r50+=("$(div "${P50[$i|$b|$r]}" "${P50[ref|$b|$r]}")")
            r99+=("$(div "${P99[$i|$b|$r]}" "${P99[ref|$b|$r]}")")
          fi
        done
        mapfile -t p5 < <(vals P50 "$i|$b")
        mapfile -t p9 < <(vals P99 "$i|$b")
        mapfile -t st < <(vals STEAL "rr|$i|$b")
        if [ "$i" = ref ]; then
          name="sockperf -m $b (echo)"; q50="1 (reference)"; q99="1 (reference)"
        else
          name="$i (16 B req, $b B reply)"
          q50="$(fmt "$(med "${r50[@]}")") [$(minmax "${r50[@]}")]"
          q99="$(fmt "$(med "${r99[@]}")") [$(minmax "${r99[@]}")]"
        fi
        echo "| $(hsize "$b") | $name | $(fmt "$(med "${p5[@]}")") | $(fmt "$(med "${p9[@]}")") | $q50 | $q99 | $(fmt "$(med "${st[@]}")" %.1f) |"
      done
    done
  fi
  if [ "${#FAILS[@]}" -gt 0 ]; then
    echo
    echo "### Failed runs"
    echo
    for f in "${FAILS[@]}"; do echo "- $f"; done
  fi
} >"$TMP/table.md"

cat "$TMP/table.md"
if [ -n "$out" ]; then
  cp "$TMP/table.md" "$out"
fi
[ "${#FAILS[@]}" = 0 ]
