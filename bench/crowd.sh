#!/usr/bin/env bash
# crowd.sh: how large a crowd of handshakers a server holds while real clients are still served.
#
#   bash bench/crowd.sh [--silent N] [--nostart N] [--tries N] [--impls "A1 A2 A3"]
#
# Per server (default --max-clients 256), in a private network namespace: N silent peers
# (connect, say nothing) and N that say a good hello and never start, all held open; then a
# real client (-t 2, 0.3 s, --verify) every second, --tries times. Prints one Markdown row per
# server: the crowd, the connections the server held (its side, established, counted by ss)
# just after the first real client ran (a silent peer is closed 10 s after it connected), the
# real clients served, the slowest one's run, and the server's busy / yielded / rejected counts.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${CB_BIN:-$ROOT}            # the programs measured (CB_BIN: another build of them)
SILENT=10000 NOSTART=300 TRIES=5 IMPLS="A1 A2 A3"
usage() { sed -n '4p' "$0" | sed 's/^# *//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --silent) SILENT=${2:?--silent needs a number}; shift 2 ;;
    --nostart) NOSTART=${2:?--nostart needs a number}; shift 2 ;;
    --tries) TRIES=${2:?--tries needs a number}; shift 2 ;;
    --impls) IMPLS=${2:?--impls needs a list}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "crowd.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
for v in "$SILENT" "$NOSTART" "$TRIES"; do
  [[ "$v" =~ ^[0-9]+$ ]] || { echo "crowd.sh: '$v' is not a count" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "crowd.sh: needs root (a network namespace of its own)" >&2; exit 1; }
if [ -z "${CB_IN_NETNS:-}" ]; then
  CB_IN_NETNS=1 exec unshare -n bash "$0" --silent "$SILENT" --nostart "$NOSTART" --tries "$TRIES" --impls "$IMPLS"
fi
ip link set lo up
ulimit -n $((SILENT + NOSTART + 4096)) || { echo "crowd.sh: cannot raise the open-file limit" >&2; exit 1; }
PY=$(command -v /usr/bin/python3 || command -v python3)
TMP=$(mktemp -d)
cleanup() { local p; for p in $(jobs -p); do kill "$p" 2>/dev/null; done; rm -rf "$TMP"; }
trap cleanup EXIT
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

echo "| server | silent | never start | held (server side) | real clients served | slowest real client | busy | yielded | rejected |"
echo "|---|---|---|---|---|---|---|---|---|"
for impl in $IMPLS; do
  "$BIN/${impl}_server" -p 0 -q >"$TMP/s.out" 2>"$TMP/s.err" &
  srv=$!
  for _ in $(seq 100); do grep -q '^listening' "$TMP/s.out" && break; sleep 0.05; done
  port=$(sed -n 's/^listening .*port=\([0-9]*\).*/\1/p' "$TMP/s.out")
  "$PY" "$ROOT/tests/tools/crowd.py" 127.0.0.1 "$port" "$SILENT" 600 --say nothing >"$TMP/silent" 2>&1 &
  c1=$!
  "$PY" "$ROOT/tests/tools/crowd.py" 127.0.0.1 "$port" "$NOSTART" 600 --say hello --size 4096 >"$TMP/nostart" 2>&1 &
  c2=$!
  for _ in $(seq 600); do grep -q '^crowd' "$TMP/silent" && grep -q '^crowd' "$TMP/nostart" && break; sleep 0.1; done
  sleep 2.2                  # the ones that said hello have waited 2 s for their start
  served=0 slowest=0 held=0
  for _ in $(seq "$TRIES"); do
    t=$(date +%s%N)
    timeout 30 "$BIN/${impl}_client" -H 127.0.0.1 -p "$port" -t 2 -s 4K -d 0.3 --verify >/dev/null 2>&1 && served=$((served + 1))
    ms=$(( ($(date +%s%N) - t) / 1000000 ))
    [ "$ms" -gt "$slowest" ] && slowest=$ms
    [ "$held" = 0 ] && held=$(ss -Htn state established "( sport = :$port )" | wc -l)
    sleep 1
  done
  kill "$c1" "$c2" 2>/dev/null; wait "$c1" "$c2" 2>/dev/null
  kill -TERM "$srv"; wait "$srv"
  res=$(grep '^result' "$TMP/s.out")
  echo "| $impl | $SILENT | $NOSTART | $held | $served of $TRIES | ${slowest} ms | $(field busy "$res") | $(field yielded "$res") | $(field rejected "$res") |"
done
