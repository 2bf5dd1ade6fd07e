#!/usr/bin/env bash
# Many connections at once against each server, on a private loopback.
#
# For each technique and each layout (default: 8 clients x 32 threads, and
# 1 client x 256 threads = 256 connections), start `A*_server -n 256`, note
# its idle RSS, start the clients together, sample the server's VmRSS and
# VmHWM from /proc/PID/status while it runs, and check that it served every
# connection (server clients=256 errors=0 rejected=0, every client errors=0).
# Memory per connection = (peak RSS - idle RSS) / connections.
# Total Gbps = the sum of the clients' gbps (their windows start together
# within a few ms, so they overlap almost entirely).
#
# Needs root (unshare -n); runs in its own network namespace holding only a
# loopback. Progress on stderr, a Markdown table on stdout (and --out FILE).
# Exit 0 all served, 1 something was not served or failed, 2 usage error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${CB_BIN:-$ROOT}
PROG=bench/scale.sh

usage() {
  cat <<'EOF'
usage: bench/scale.sh [options]
  --conns N        connections per run (default 256)
  --layouts LIST   CLIENTSxTHREADS, comma separated, each multiplying to N
                   (default 8x(N/8),1xN)
  --size SIZE      message size (default 64K; K/M suffixes)
  --duration S     seconds each client measures (default 5)
  --impls LIST     which of A1,A2,A3 (default A1,A2,A3)
  --mode MODE      stream or rr (default stream)
  --quick          32 connections, 1 s (options given explicitly still win)
  --out FILE       also write the table to FILE
  --help           this text
EOF
}
die_usage() { echo "$PROG: $*" >&2; exit 2; }
say() { echo "scale: $*" >&2; }

unset conns layouts size duration
impls=A1,A2,A3 mode=stream quick=0 out=""
orig_args=("$@")
while [ $# -gt 0 ]; do
  case $1 in
    --help|-h) usage; exit 0 ;;
    --conns|--layouts|--size|--duration|--impls|--mode|--out)
      [ $# -ge 2 ] || die_usage "$1 needs a value"
      case $1 in
        --conns) conns=$2 ;; --layouts) layouts=$2 ;; --size) size=$2 ;;
        --duration) duration=$2 ;; --impls) impls=$2 ;; --mode) mode=$2 ;; --out) out=$2 ;;
      esac
      shift 2 ;;
    --quick) quick=1; shift ;;
    *) die_usage "unknown option '$1' (try --help)" ;;
  esac
done
if [ "$quick" = 1 ]; then
  : "${conns=32}" "${duration=1}"
fi
: "${conns=256}" "${size=64K}" "${duration=5}"
if ! [[ $conns =~ ^[1-9][0-9]{0,3}$ ]] || [ "$conns" -gt 1024 ]; then
  die_usage "--conns wants an integer in [1, 1024], got '$conns'"
fi
if ! [[ $duration =~ ^[0-9]+(\.[0-9]+)?$ ]] || ! awk -v d="$duration" 'BEGIN {exit !(d > 0 && d <= 3600)}'; then
  die_usage "--duration wants seconds in (0, 3600], got '$duration'"
fi
# shellcheck source=lib/size.sh
. "$ROOT/lib/size.sh"
cb_size_bytes "$size" >/dev/null || die_usage "--size wants a message size ($CB_SIZE_GRAMMAR), got '$size'"
case $mode in stream|rr) ;; *) die_usage "--mode wants stream or rr, got '$mode'" ;; esac
if [ -z "${layouts+x}" ]; then
  if [ $((conns % 8)) = 0 ] && [ "$conns" -gt 8 ]; then layouts="8x$((conns / 8)),1x$conns"; else layouts="1x$conns"; fi
fi
IFS=', ' read -r -a LAYOUTS <<<"$layouts"
IFS=', ' read -r -a IMPLS <<<"$impls"
[ "${#LAYOUTS[@]}" -gt 0 ] || die_usage "--layouts is empty"
[ "${#IMPLS[@]}" -gt 0 ] || die_usage "--impls is empty"
for l in "${LAYOUTS[@]}"; do
  [[ $l =~ ^([1-9][0-9]*)x([1-9][0-9]*)$ ]] || die_usage "bad layout '$l' (CLIENTSxTHREADS)"
  [ $((BASH_REMATCH[1] * BASH_REMATCH[2])) = "$conns" ] ||
    die_usage "layout '$l' makes $((BASH_REMATCH[1] * BASH_REMATCH[2])) connections, not $conns"
done
for i in "${IMPLS[@]}"; do
  case $i in A1|A2|A3) ;; *) die_usage "bad impl '$i' (A1, A2 or A3)" ;; esac
done

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
if [ -z "${CB_SCALE_NETNS:-}" ]; then
  bench_need_root_and_programs "${IMPLS[@]}"
  CB_SCALE_NETNS=1 exec unshare -n bash "${BASH_SOURCE[0]}" "${orig_args[@]}"
fi
ip link set lo up

bench_scratch cb-scale

kib() { awk -v k="$2" '$1 == k":" {print $2; exit}' "/proc/$1/status" 2>/dev/null || true; }

ROWS=() FAILS=0
st_all0=$(stat_now)
for impl in "${IMPLS[@]}"; do
  for l in "${LAYOUTS[@]}"; do
    nc=${l%x*} nt=${l#*x}
    srv_out=$(mktemp "$TMP/srv.XXXXXX") srv_err=$(mktemp "$TMP/srv-err.XXXXXX")
    start_server "$srv_out" "$srv_err" "$BIN/${impl}_server" -p 0 -n "$conns" -q
    spid=$SPID port=$PORT
    if [ -z "$port" ]; then
      say "$impl $l: server did not start: $(head -c 300 "$srv_err")"
      ROWS+=("| $impl | $l | FAILED: server did not start | | | | | | |"); FAILS=$((FAILS + 1)); continue
    fi
    sleep 0.2
    idle=$(kib "$spid" VmRSS)
    st0=$(stat_now)
    cpids=()
    for c in $(seq 1 "$nc"); do
      timeout $(( ${duration%.*} + 60 )) "$BIN/${impl}_client" -H 127.0.0.1 -p "$port" -s "$size" \
        -t "$nt" -d "$duration" -m "$mode" >"$TMP/cli.$c" 2>"$TMP/cli-err.$c" &
      cpids+=("$!")
      PIDS+=("$!")
    done
    # Sample the server until it exits (it does after its N-th connection ends).
    peak_rss=0 hwm=0 deadline=$(( $(date +%s) + ${duration%.*} + 90 ))
    while kill -0 "$spid" 2>/dev/null; do
      r=$(kib "$spid" VmRSS) h=$(kib "$spid" VmHWM)
      [ -n "$r" ] && [ "$r" -gt "$peak_rss" ] && peak_rss=$r
      [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
      if [ "$(date +%s)" -gt "$deadline" ]; then
        say "$impl $l: server still running long after the clients' window; stopping it"
        kill "$spid" 2>/dev/null || true
        break
      fi
      sleep 0.05
    done
    wait "$spid" 2>/dev/null || true
    cfail=0 gbps=0 cerr="" fewest=""
    for k in "${!cpids[@]}"; do
      wait "${cpids[$k]}" 2>/dev/null || true
      c=$((k + 1))
      cl=$(grep '^result ' "$TMP/cli.$c" | tail -n 1 || true)
      if [ -z "$cl" ] || [ "$(field errors "$cl")" != 0 ]; then
        cfail=$((cfail + 1)); [ -n "$cerr" ] || cerr=$(head -c 200 "$TMP/cli-err.$c")
      fi
      [ -n "$cl" ] && gbps=$(awk -v a="$gbps" -v b="$(field gbps "$cl")" 'BEGIN {printf "%.3f", a + b}')
      # fairness: the fewest whole messages any one connection got in its window
      m=$(field min_conn_messages "$cl")
      [[ "$m" =~ ^[0-9]+$ ]] && { [ -z "$fewest" ] || [ "$m" -lt "$fewest" ]; } && fewest=$m
    done
    st1=$(stat_now)
    sl=$(grep '^result ' "$srv_out" | tail -n 1 || true)
    served=$(field clients "$sl") serr=$(field errors "$sl") srej=$(field rejected "$sl")
    peak=$(( hwm > peak_rss ? hwm : peak_rss ))
    per=$(awk -v p="$peak" -v i="${idle:-0}" -v n="$conns" 'BEGIN {printf "%.1f", (p - i) / n}')
    steal=$(steal_pct "$st0" "$st1")
    ok="yes"
    if [ "$served" != "$conns" ] || [ "$serr" != 0 ] || [ "$srej" != 0 ] || [ "$cfail" != 0 ]; then
      ok="NO"; FAILS=$((FAILS + 1))
      say "$impl $l: not all served: server '${sl:-no result line}' $(head -c 200 "$srv_err"); $cfail client(s) failed: $cerr"
    fi
    extra=""
    if [ "$impl" = A3 ]; then
      extra=" zc copied $(field zc_copied "$sl")/$(field zc_completions "$sl")"
      [ "$(field zc_missing "$sl")" = 0 ] || extra+=", zc_missing $(field zc_missing "$sl")"
    fi
    fair="yes"
    [ "${fewest:-0}" -ge 1 ] || { fair="NO"; say "$impl $l: a connection got no message in its window (fairness: the scheduler gave it no turn)"; }
    say "$impl $l: served ${served:-?}/$conns errors=${serr:-?} client failures=$cfail, $gbps Gbps, fewest messages on a connection ${fewest:-?}, idle ${idle:-?} KiB, peak $peak KiB, $per KiB/conn, steal $steal%$extra"
    ROWS+=("| $impl | $l | ${served:-?}/$conns | ${serr:-?} / $cfail | $ok | $gbps | ${fewest:-?} ($fair) | ${idle:-?} | $peak | $per | $steal |")
  done
done
st_all1=$(stat_now)

{
  echo "## copybench: $conns concurrent connections per server (loopback, private netns)"
  echo
  echo "- machine: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) CPUs, kernel $(uname -r); $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "- $mode, ${size} messages, ${duration} s per client; steal share over the run: $(steal_pct "$st_all0" "$st_all1")%"
  echo "- peak RSS = max of VmHWM and sampled VmRSS (every 50 ms) of the server; per connection = (peak - idle) / $conns"
  echo
  echo "- fewest messages: the fewest whole messages any one connection got in its window (fair: every connection got at least one); what tests/t_scale.sh prints and leaves to this bench"
  echo
  echo "| impl | clients x threads | served | server errors / failed clients | all served | total Gbps | fewest messages (fair) | idle RSS KiB | peak RSS KiB | KiB per connection | steal % |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
} >"$TMP/table.md"
cat "$TMP/table.md"
[ -z "$out" ] || cp "$TMP/table.md" "$out"
[ "$FAILS" = 0 ]
