# shellcheck shell=bash
# Helpers shared by bench/run.sh, bench/scale.sh and bench/soak.sh.

# bench_need_root_and_programs IMPL...: before the re-exec into a private
# network namespace: root, and each IMPL's server and client built in BIN;
# else one line and exit 1.
bench_need_root_and_programs() {
  local i side
  [ "$(id -u)" = 0 ] || { echo "$PROG: needs root (private network namespace)" >&2; exit 1; }
  for i in "$@"; do
    for side in server client; do
      [ -x "$BIN/${i}_$side" ] || { echo "$PROG: $BIN/${i}_$side missing: run make" >&2; exit 1; }
    done
  done
}

# bench_scratch NAME: TMP is a new scratch directory and PIDS collects what
# the script starts; at exit every one of them is stopped and TMP removed.
bench_scratch() {
  TMP=$(mktemp -d "/tmp/$1.XXXXXX")
  PIDS=()
  trap _bench_cleanup EXIT
  trap 'exit 130' INT TERM
}
_bench_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}

field() { # field KEY LINE: the value of KEY=value in a result line, or ""
  local kv
  for kv in $2; do
    [ "${kv%%=*}" = "$1" ] && { echo "${kv#*=}"; return 0; }
  done
  echo ""
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN {if (b+0==0) print "nan"; else printf "%.1f", 100*a/b}'; }

# /proc/stat cpu line -> "steal total" (jiffies; guest time is inside user)
stat_now() { awk '/^cpu / {t=0; for (i=2; i<=9; i++) t+=$i; print $9, t; exit}' /proc/stat; }
steal_pct() { # steal_pct "S0 T0" "S1 T1": steal share of all CPU time between the two, %
  local s0 t0 s1 t1
  read -r s0 t0 <<<"$1"; read -r s1 t1 <<<"$2"
  pct $((s1 - s0)) $((t1 - t0))
}

# start_server OUT ERR COMMAND...: runs a server started with -p 0 in the
# background (stdout to OUT, stderr to ERR), adds it to PIDS, and sets SPID
# and PORT from its 'listening' line (PORT empty if none came within 5 s).
start_server() {
  local out=$1 err=$2
  shift 2
  # Created here: the poll below may run before the child has opened them,
  # and a sed on a missing file would end a `set -e` caller.
  : >"$out"
  : >"$err"
  "$@" >"$out" 2>"$err" &
  SPID=$!
  PIDS+=("$SPID")
  PORT=""
  for _ in $(seq 1 200); do
    PORT=$(sed -n 's/^listening .*port=\([0-9]*\).*/\1/p' "$out")
    [ -n "$PORT" ] && break
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.025
  done
}
