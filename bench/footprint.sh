#!/usr/bin/env bash
# Cold data, side by side: A1 and A2 (and variants) at several footprints, alternated round after
# round, on a private loopback, one connection. Per footprint and round the variants run one
# after the other (A1, A2, A1, A2 ... when --rounds repeats them), so drift hits them alike; the
# table gives each variant's median Gbit/s and sender CPU per byte (the send loops' own CPU,
# send_cpu_s), and the median of the per-round ratios to the first variant [range]. The
# experiments behind docs/performance.md "Cold data" are runs of this script.
#
# A variant is IMPL[:NAME=ENV,...]: IMPL's server with those environment variables, e.g.
#   A1:movsb=GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=1024   (A1's memcpy uses rep movsb)
#   A2:thp=GLIBC_TUNABLES=glibc.malloc.hugetlb=1                     (the heap on 2 MiB pages)
# Needs root (unshare -n); progress on stderr, the Markdown table on stdout (and --out FILE).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${CB_BIN:-$ROOT}
PROG=bench/footprint.sh

usage() {
  cat <<'EOF'
usage: bench/footprint.sh [options]
  --sizes LIST       message sizes (default 16K,64K)
  --footprints LIST  per-connection footprints, 0 = one message (hot) (default 0,256M)
  --variants LIST    IMPL[:NAME=VAR=VALUE] items, ';' separated (default "A1;A2"); ratios are to
                     the first
  --rounds N         rounds (default 5)
  --duration S       seconds per run (default 2)
  --pin S:C          taskset -c S for the servers, -c C for the clients
  --out FILE         also write the table to FILE
Exit 0 ok, 1 a run failed, 2 usage error.
EOF
}
die_usage() { echo "$PROG: $*" >&2; exit 2; }
say() { echo "footprint: $*" >&2; }

sizes=16K,64K footprints=0,256M variants="A1;A2" rounds=5 duration=2 pin="" out=""
orig_args=("$@")
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --sizes|--footprints|--variants|--rounds|--duration|--pin|--out)
      [ $# -ge 2 ] || die_usage "$1 needs a value"
      case $1 in
        --sizes) sizes=$2 ;; --footprints) footprints=$2 ;; --variants) variants=$2 ;; --rounds) rounds=$2 ;;
        --duration) duration=$2 ;; --pin) pin=$2 ;; --out) out=$2 ;;
      esac
      shift 2 ;;
    *) die_usage "unknown option '$1' (try --help)" ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]{0,2}$ ]] || die_usage "--rounds wants an integer in [1, 999], got '$rounds'"
[[ $duration =~ ^[0-9]+(\.[0-9]+)?$ ]] || die_usage "--duration wants seconds, got '$duration'"
# shellcheck source=lib/size.sh
. "$ROOT/lib/size.sh"
IFS=', ' read -r -a SIZES <<<"$sizes"
IFS=', ' read -r -a FPS <<<"$footprints"
IFS=';' read -r -a VARS <<<"$variants"
for s in "${SIZES[@]}"; do cb_size_bytes "$s" >/dev/null || die_usage "--sizes: bad size '$s' ($CB_SIZE_GRAMMAR)"; done
for f in "${FPS[@]}"; do cb_bytes "$f" >/dev/null || die_usage "--footprints: '$f' is not bytes (K/M/G suffixes)"; done
for v in "${VARS[@]}"; do [[ $v =~ ^A[123](:[A-Za-z0-9_-]+=[A-Za-z_][A-Za-z0-9_]*=[^ ]*)?$ ]] || die_usage "--variants: '$v' is not IMPL[:NAME=VAR=VALUE]"; done
PIN_S=() PIN_C=()
if [ -n "$pin" ]; then
  [[ $pin =~ ^([0-9][0-9,-]*):([0-9][0-9,-]*)$ ]] || die_usage "--pin wants SERVER_CPUS:CLIENT_CPUS, got '$pin'"
  PIN_S=(taskset -c "${BASH_REMATCH[1]}") PIN_C=(taskset -c "${BASH_REMATCH[2]}")
fi
if [ -z "${CB_BENCH_NETNS:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "$PROG: needs root (a private network namespace)" >&2; exit 1; }
  for p in A1 A2 A3; do [ -x "$BIN/${p}_server" ] || { echo "$PROG: $BIN/${p}_server missing: run make" >&2; exit 1; }; done
  CB_BENCH_NETNS=1 exec unshare -n bash "${BASH_SOURCE[0]}" "${orig_args[@]}"
fi
ip link set lo up
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_scratch cb-footprint

med() { printf '%s\n' "$@" | awk 'NF && $1 != "nan"' | sort -g |
  awk '{a[NR]=$1} END {if (!NR) {print "nan"; exit} if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
minmax() { printf '%s\n' "$@" | awk 'NF && $1 != "nan"' | sort -g | awk 'NR==1{lo=$1} {hi=$1} END {if (NR) printf "%.2f-%.2f", lo, hi; else print "n/a"}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {if (a==""||b==""||b+0==0) print "nan"; else printf "%.4f", a/b}'; }
fmt() { awk -v v="$1" -v f="${2:-%.2f}" 'BEGIN {if (v=="nan"||v=="") print "n/a"; else printf f, v}'; }

declare -A GB CPB
FAILS=0
# run VARIANT SIZE FOOTPRINT ROUND: one server + client run; GB and CPB (send CPU ns per byte)
run() {
  local v=$1 size=$2 fp=$3 r=$4 impl=${1%%:*} envs=() key="$1|$2|$3|$4" cline sline
  [[ $v == *:* ]] && envs=("${v#*:}") && envs=("${envs[0]#*=}")
  local so se
  so=$(mktemp "$TMP/srv.XXXXXX") se=$(mktemp "$TMP/err.XXXXXX")
  start_server "$so" "$se" env "${envs[@]}" "${PIN_S[@]}" "$BIN/${impl}_server" -p 0 -n 1 -q --footprint "$fp"
  [ -n "$PORT" ] || { say "FAILED: $v $size $fp: server: $(head -c 200 "$se")"; FAILS=$((FAILS + 1)); return 0; }
  cline=$("${PIN_C[@]}" "$BIN/${impl}_client" -H 127.0.0.1 -p "$PORT" -s "$size" -d "$duration" 2>>"$se" | grep '^result ' || true)
  for _ in $(seq 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.05; done
  wait "$SPID" 2>/dev/null || true
  sline=$(grep '^result ' "$so" || true)
  if [ -z "$cline" ] || [ -z "$sline" ]; then say "FAILED: $v $size $fp: $(head -c 200 "$se")"; FAILS=$((FAILS + 1)); return 0; fi
  GB[$key]=$(field gbps "$cline")
  CPB[$key]=$(awk -v c="$(field send_cpu_s "$sline")" -v b="$(field bytes "$sline")" 'BEGIN { if (b + 0 > 0) printf "%.4f", c * 1e9 / b; else print "nan" }')
  say "round $r $v $size B footprint $fp: ${GB[$key]} Gbps, ${CPB[$key]} ns/B"
}

ST0=$(stat_now)
for s in "${SIZES[@]}"; do
  b=$(cb_size_bytes "$s")
  for f in "${FPS[@]}"; do
    fb=$(cb_bytes "$f")
    for r in $(seq "$rounds"); do for v in "${VARS[@]}"; do run "$v" "$b" "$fb" "$r"; done; done
  done
done
ST1=$(stat_now)

vals() { local -n a=$1; local r; for r in $(seq "$rounds"); do [ -n "${a[$2|$r]:-}" ] && echo "${a[$2|$r]}"; done; return 0; }
{
  echo "## Cold data: $(IFS=' vs '; echo "${VARS[*]%%:*}") by footprint (loopback, private netns, one connection)"
  echo
  echo "- machine: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) CPUs, kernel $(uname -r); $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- $rounds rounds x ${duration} s; in each round the variants ran one after the other; pinning: ${pin:-none}"
  echo "- variants: $(printf '%s; ' "${VARS[@]}")"
  echo "- steal share over the whole run: $(steal_pct "$ST0" "$ST1")%; failed runs: $FAILS"
  echo "- ns/B: the sender's CPU time in its send loop (send_cpu_s) per byte sent; ratio: per round, to ${VARS[0]%%:*}'s of the same round, median [range]"
  echo
  echo "| size | footprint | variant | Gbit/s | ns/B | Gbit/s ratio | ns/B ratio |"
  echo "|---|---|---|---|---|---|---|"
  for s in "${SIZES[@]}"; do
    b=$(cb_size_bytes "$s")
    for f in "${FPS[@]}"; do
      fb=$(cb_bytes "$f")
      for v in "${VARS[@]}"; do
        mapfile -t g < <(vals GB "$v|$b|$fb")
        mapfile -t c < <(vals CPB "$v|$b|$fb")
        rg=() rc=()
        for r in $(seq "$rounds"); do
          rg+=("$(div "${GB[$v|$b|$fb|$r]:-}" "${GB[${VARS[0]}|$b|$fb|$r]:-}")")
          rc+=("$(div "${CPB[$v|$b|$fb|$r]:-}" "${CPB[${VARS[0]}|$b|$fb|$r]:-}")")
        done
        echo "| $s | $([ "$fb" = 0 ] && echo "one message" || echo "$f") | $v | $(fmt "$(med "${g[@]}")" %.2f) | $(fmt "$(med "${c[@]}")" %.3f) | $(fmt "$(med "${rg[@]}")") [$(minmax "${rg[@]}")] | $(fmt "$(med "${rc[@]}")") [$(minmax "${rc[@]}")] |"
      done
    done
  done
} >"$TMP/table.md"
cat "$TMP/table.md"
[ -z "$out" ] || cp "$TMP/table.md" "$out"
[ "$FAILS" = 0 ]
