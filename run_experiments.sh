#!/usr/bin/env bash
# run_experiments.sh: the copybench sweep. Runs every technique (A1 two-copy, A2 sendmsg iovec,
# A3 MSG_ZEROCOPY) over message sizes x client threads x repetitions, server and client in two
# network namespaces joined by a veth pair (setup_netns.sh), the server under `perf stat`.
# Writes one CSV row per run, a side file describing the machine, then the plots (plots.py).
#
# Usage: run_experiments.sh [options]
#   --impls LIST      techniques, comma separated          [A1,A2,A3]
#   --sizes LIST      message sizes in bytes                [1024,4096,16384,65536]
#   --threads LIST    client threads (= connections)        [1,2,4,8]
#   --duration SEC    seconds per throughput (stream) run   [5]
#   --rr-duration SEC seconds per request/response run      [2]
#   --reps N          repetitions of the whole grid         [3]
#   --out FILE        results CSV                           [results.csv]
#   --quick           smoke run, under a minute: sizes 1024,65536, threads 1,2, 1 s, 1 rep
#   --no-netns        run over loopback in this namespace (no root needed)
#   --rr / --no-rr    include / skip the request/response (latency) runs [included]
#   --no-plots        do not run plots.py at the end
#   --plots-only      only (re)draw the plots from --out
#   --pin S:C         pin the server to CPU list S and the client to CPU list C (taskset),
#                     e.g. --pin 0:1, for steadier numbers; recorded in the pin column [off]
#   -h, --help        this text
#
# Every impl x size x threads configuration gets a stream run (throughput) and, unless --no-rr,
# a request/response run (`-m rr`, round-trip latency). Within a repetition the techniques run
# back to back for each configuration (A1, A2, A3, A1, ...) so machine drift hits them alike.
# Side files next to the CSV: <name>.machine.txt (kernel, CPU, perf/counter availability, command)
# and the plots directory plots/ (PNGs + summary.md).
#
# Environment: CB_BIN_DIR (where the A*_server/A*_client binaries are, default: this directory),
# CB_PERF (perf command, default perf), CB_NS_SERVER / CB_NS_CLIENT / CB_SUBNET (see setup_netns.sh),
# CB_PORT_BASE (first port tried, default 5301), CB_LISTEN_TIMEOUT (s to wait for the server, 10).
set -euo pipefail

CB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CB_BIN_DIR=${CB_BIN_DIR:-$CB_DIR}
CB_PERF=${CB_PERF:-perf}
CB_PORT_BASE=${CB_PORT_BASE:-5301}
CB_LISTEN_TIMEOUT=${CB_LISTEN_TIMEOUT:-10}
CB_ALL_EVENTS="cycles,instructions,L1-dcache-load-misses,LLC-load-misses,context-switches,cpu-migrations,task-clock"
CSV_HEADER="impl,mode,msg_size,threads,rep,duration_s,throughput_gbps,msgs_per_s,lat_p50_us,lat_p99_us,lat_max_us,cycles,instructions,l1d_misses,llc_misses,context_switches,cpu_migrations,task_clock_ms,cycles_per_byte,cpu_ns_per_byte,zc_sends,zc_completions,zc_copied,verify_errors,client_cpu_pct,steal_pct,netns,pin"

# shellcheck source=setup_netns.sh disable=SC1091
. "$CB_DIR/setup_netns.sh"

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
      if (ev ~ /^[^\/]+\/[^\/]+\//) { sub(/^[^\/]+\//, "", ev); sub(/\/.*$/, "", ev) }
      sub(/:[A-Za-z]+$/, "", ev)
      if (!(ev in key)) next
      k = key[ev]
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

# perf_has_counts FILE: 0 when FILE holds at least one counter line (perf ran the command).
perf_has_counts() { [ -s "$1" ] && grep -qvE '^(#|[[:space:]]*$)' "$1"; }

# perf_usable_events LIST: the comma-separated subset of LIST that `perf stat` accepts here
# (an event perf refuses makes the whole perf invocation fail before it runs anything).
perf_usable_events() {
  local evs=$1 ev tmp ok=()
  tmp=$(mktemp)
  if "$CB_PERF" stat -x, -o "$tmp" -e "$evs" -- true >/dev/null 2>&1 && perf_has_counts "$tmp"; then
    rm -f "$tmp"; echo "$evs"; return 0
  fi
  local IFS=,
  for ev in $evs; do
    if "$CB_PERF" stat -x, -o "$tmp" -e "$ev" -- true >/dev/null 2>&1 && perf_has_counts "$tmp"; then ok+=("$ev"); fi
  done
  rm -f "$tmp"
  echo "${ok[*]}"
}

# run_under_perf OUT EVENTS CMD...: runs CMD under `perf stat -x, -o OUT -e EVENTS` (plain CMD when
# EVENTS is empty), prefixed by SRV_PREFIX (ip netns exec NS). If perf fails before running CMD (refused event, no permission), says so on
# stderr ("perf refused ...") and runs CMD again with the events perf accepts, or without perf.
run_under_perf() {
  local out=$1 evs=$2 rc=0 evs2
  shift 2
  if [ -z "$evs" ]; then "${SRV_PREFIX[@]}" "${SRV_PIN[@]}" "$@"; return; fi
  "${SRV_PREFIX[@]}" "${SRV_PIN[@]}" "$CB_PERF" stat -x, -o "$out" -e "$evs" -- "$@" || rc=$?
  if [ "$rc" = 0 ] || perf_has_counts "$out"; then return "$rc"; fi
  rm -f "$out"
  evs2=$(perf_usable_events "$evs")
  echo "run_experiments: perf refused events '$evs' (exit $rc); retrying with '${evs2:-no perf}'" >&2
  if [ -n "$evs2" ] && [ "$evs2" != "$evs" ]; then
    "${SRV_PREFIX[@]}" "${SRV_PIN[@]}" "$CB_PERF" stat -x, -o "$out" -e "$evs2" -- "$@"
  else
    "${SRV_PREFIX[@]}" "${SRV_PIN[@]}" "$@"
  fi
}

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

# split_list OPTION VALUE: prints the items of a comma/space separated list, one per line
split_list() { tr -s ', ' '\n' <<<"$2" | sed '/^$/d'; }

# ---------------------------------------------------------------------------------------------
# processes

NETNS=1
SRV_PREFIX=()
CLI_PREFIX=()
SRV_PIN=()   # taskset -c CPUS, with --pin
CLI_PIN=()
PIN=""
SERVER_HOST=""
SRV_PID=""
CLI_PID=""
WORK=""
NETNS_CREATED=0
PIDFILE=""

ns_ss() { "${SRV_PREFIX[@]}" ss "$@"; }

# descendants PID: PID and every process below it
descendants() {
  local p c
  for p in "$@"; do
    echo "$p"
    for c in $(pgrep -P "$p" 2>/dev/null || true); do descendants "$c"; done
  done
}

# stop_tree PID: INT the server-like leaves first (they print their summary), then TERM, then KILL.
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
is_listening() { # is_listening PORT SERVER_STDOUT
  [ -n "$(ns_ss -Htln "( sport = :$1 )" 2>/dev/null || true)" ] || grep -q "^listening .*port=$1\b" "$2" 2>/dev/null
}

# leftovers of a crashed earlier run: namespaces (netns mode) or the servers it recorded (loopback)
clean_leftovers() {
  if [ "$NETNS" = 1 ]; then
    if cb_netns_exists "$CB_NS_SERVER" || cb_netns_exists "$CB_NS_CLIENT"; then
      say "removing leftover namespaces $CB_NS_SERVER/$CB_NS_CLIENT from an earlier run"
      cb_netns_down >/dev/null
    fi
  fi
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
  [ -n "$SRV_PID" ] && stop_tree "$SRV_PID"
  if [ "$NETNS_CREATED" = 1 ]; then
    cb_netns_down >/dev/null 2>&1 || err "could not remove namespaces $CB_NS_SERVER/$CB_NS_CLIENT (try: setup_netns.sh down)"
  fi
  [ -n "$PIDFILE" ] && rm -f "$PIDFILE"
  [ -n "$WORK" ] && rm -rf "$WORK"
  exit "$rc"
}
on_signal() {
  echo >&2
  err "interrupted ($1): stopping; rows written so far are in $OUT"
  exit 130
}

# ---------------------------------------------------------------------------------------------
# one run

PERF_EVENTS=""       # events in use ("" = counters off)
RUN_FAILURES=0

# run_one IMPL MODE SIZE THREADS REP DURATION: runs server + client, appends one CSV row.
# Sets LAST_SUMMARY for the progress line. Returns 1 when the run failed (no row written).
run_one() {
  local impl=$1 mode=$2 size=$3 threads=$4 rep=$5 dur=$6
  local srv=$CB_BIN_DIR/${impl}_server cli=$CB_BIN_DIR/${impl}_client
  local d=$WORK/run port s0 s1 t0 rc=0 cline sline
  rm -rf "$d"; mkdir -p "$d"
  port=$(pick_port "$NEXT_PORT")
  NEXT_PORT=$((port + 1)); [ "$NEXT_PORT" -gt 65000 ] && NEXT_PORT=$CB_PORT_BASE
  local sargs=(-n "$threads" -p "$port")
  [ "$NETNS" = 0 ] && sargs+=(-b 127.0.0.1)

  run_under_perf "$d/perf.txt" "$PERF_EVENTS" "$srv" "${sargs[@]}" >"$d/srv.out" 2>"$d/srv.err" &
  SRV_PID=$!
  t0=$(now)
  while ! is_listening "$port" "$d/srv.out"; do
    if ! kill -0 "$SRV_PID" 2>/dev/null; then
      wait "$SRV_PID" 2>/dev/null || rc=$?
      SRV_PID=""
      err "$impl server exited ($rc) before listening on port $port:"; tail -n 5 "$d/srv.err" >&2
      return 1
    fi
    if awk -v a="$t0" -v b="$(now)" -v t="$CB_LISTEN_TIMEOUT" 'BEGIN { exit !(b - a > t) }'; then
      err "$impl server not listening on port $port after ${CB_LISTEN_TIMEOUT}s; giving up on this run"
      tail -n 5 "$d/srv.err" >&2
      stop_tree "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true; SRV_PID=""
      return 1
    fi
    sleep 0.05
  done
  if [ "$NETNS" = 0 ]; then descendants "$SRV_PID" >"$PIDFILE" 2>/dev/null || true; fi

  s0=$(cpu_stat)
  local cargs=(-H "$SERVER_HOST" -p "$port" -s "$size" -t "$threads" -d "$dur")
  [ "$mode" = rr ] && cargs+=(-m rr)
  local tmo
  tmo=$(awk -v d="$dur" 'BEGIN { printf "%d\n", d + 30 }')
  "${CLI_PREFIX[@]}" "${CLI_PIN[@]}" timeout -k 5 "$tmo" "$cli" "${cargs[@]}" >"$d/cli.out" 2>"$d/cli.err" &
  CLI_PID=$!
  rc=0; wait "$CLI_PID" || rc=$?
  CLI_PID=""
  s1=$(cpu_stat)

  # the server exits by itself once the THREADS connections are gone; bounded wait, then stop it
  local i srv_rc=0
  for i in $(seq 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SRV_PID" 2>/dev/null; then
    err "$impl server still running 10 s after the client finished; stopping it"
    stop_tree "$SRV_PID"
  fi
  wait "$SRV_PID" 2>/dev/null || srv_rc=$?
  SRV_PID=""
  : "$i"
  if grep -q "perf refused" "$d/srv.err" 2>/dev/null; then
    PERF_EVENTS=$(perf_usable_events "$PERF_EVENTS")
    err "perf refused some events; counting only: ${PERF_EVENTS:-nothing (counters off)}"
  fi

  cline=$(grep '^result ' "$d/cli.out" | tail -n 1 || true)
  sline=$(grep '^result ' "$d/srv.out" | tail -n 1 || true)
  if [ "$rc" != 0 ] || [ -z "$cline" ]; then
    err "$impl client failed (exit $rc) for $mode size $size threads $threads; no row written:"
    tail -n 5 "$d/cli.err" >&2
    return 1
  fi
  [ "$srv_rc" != 0 ] && err "note: $impl server exited $srv_rc"
  [ -z "$sline" ] && err "note: $impl server printed no result line; per-byte costs left empty"

  local counters sbytes cyc tclk
  counters=$(perf_parse "$d/perf.txt")
  sbytes=$(kv bytes "$sline")
  IFS=, read -r cyc _ _ _ _ _ tclk <<<"$counters"
  local dur_s
  dur_s=$(kv duration_s "$cline"); [ -n "$dur_s" ] || dur_s=$dur
  local zs="" zc="" zcp=""
  if [ "$impl" = A3 ]; then zs=$(kv zc_sends "$sline"); zc=$(kv zc_completions "$sline"); zcp=$(kv zc_copied "$sline"); fi
  local row
  row="$impl,$mode,$size,$threads,$rep,$dur_s,$(kv gbps "$cline"),$(kv msgs_per_s "$cline"),$(kv lat_p50_us "$cline"),$(kv lat_p99_us "$cline"),$(kv lat_max_us "$cline"),$counters,$(per_byte "$cyc" 1 "$sbytes"),$(per_byte "$tclk" 1000000 "$sbytes"),$zs,$zc,$zcp,$(kv verify_errors "$cline"),$(kv cpu_pct "$cline"),$(steal_pct "$s0" "$s1"),$NETNS,$PIN"
  # whole row at once: build it in a file, append with one write
  printf '%s\n' "$row" >"$d/row"
  cat "$d/row" >>"$OUT"
  LAST_SUMMARY="$(kv gbps "$cline") Gbps"
  [ "$mode" = rr ] && LAST_SUMMARY="$LAST_SUMMARY, p50 $(kv lat_p50_us "$cline") us p99 $(kv lat_p99_us "$cline") us"
  return 0
}

# ---------------------------------------------------------------------------------------------

write_machine_file() {
  local f=$1 hw
  {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "command: $CMDLINE"
    echo "git_commit: $(git -C "$CB_DIR" describe --always --dirty 2>/dev/null || echo unknown)"
    echo "host: $(uname -n)"
    echo "kernel: $(uname -sr)"
    echo "cpu_model: $(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null || uname -m)"
    echo "cores: $(nproc)"
    echo "virtualization: $(systemd-detect-virt 2>/dev/null || echo unknown)"
    if [ "$PERF_AVAILABLE" = 1 ]; then
      echo "perf: $("$CB_PERF" --version 2>/dev/null | head -n 1)"
      hw=no
      local t; t=$(mktemp)
      if "$CB_PERF" stat -x, -o "$t" -e instructions -- true >/dev/null 2>&1; then
        [ -n "$(perf_parse "$t" | cut -d, -f2)" ] && hw=yes
      fi
      rm -f "$t"
      echo "hw_counters: $hw"
      echo "perf_events: $PERF_EVENTS"
    else
      echo "perf: unavailable"
      echo "hw_counters: no"
      echo "perf_events: "
    fi
    echo "netns: $NETNS"
    echo "pin: ${PIN:-none} (server:client CPU lists, taskset)"
    echo "steal_note: steal_pct column = hypervisor steal share of all CPU time during each run (/proc/stat)"
  } >"$f"
}

find_python() {
  local py
  for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import matplotlib' >/dev/null 2>&1; then echo "$py"; return 0; fi
  done
  return 1
}

run_plots() {
  local py plotdir
  plotdir=$(dirname "$OUT")/plots
  if ! py=$(find_python); then
    err "no Python with matplotlib: install python3-matplotlib (apt-get install python3-matplotlib); the CSV is kept: $OUT"
    return 1
  fi
  say "plotting with $py -> $plotdir/"
  "$py" "$CB_DIR/plots.py" "$OUT" --out-dir "$plotdir"
}

opt_err() { err "$1"; exit 2; }

main() {
  local impls="A1,A2,A3" sizes="1024,4096,16384,65536" threads="1,2,4,8" duration=5 rr_duration=2 reps=3
  local quick=0 rr=1 plots=1 plots_only=0 set_sizes=0 set_threads=0 set_dur=0 set_rrdur=0 set_reps=0
  OUT=results.csv
  CMDLINE="$0 $*"
  while [ "$#" -gt 0 ]; do
    local opt=$1 val="" has_val=0
    if [[ "$opt" == --*=* ]]; then val=${opt#*=}; opt=${opt%%=*}; has_val=1; fi
    case "$opt" in
      --impls|--sizes|--threads|--duration|--rr-duration|--reps|--out|--pin)
        if [ "$has_val" = 0 ]; then
          [ "$#" -ge 2 ] || opt_err "$opt needs a value"
          val=$2; shift
        fi
        case "$opt" in
          --impls) impls=$val ;;
          --sizes) sizes=$val; set_sizes=1 ;;
          --threads) threads=$val; set_threads=1 ;;
          --duration) duration=$val; set_dur=1 ;;
          --rr-duration) rr_duration=$val; set_rrdur=1 ;;
          --reps) reps=$val; set_reps=1 ;;
          --out) OUT=$val ;;
          --pin) PIN=$val ;;
        esac ;;
      --quick) quick=1 ;;
      --no-netns) NETNS=0 ;;
      --rr) rr=1 ;;
      --no-rr) rr=0 ;;
      --no-plots) plots=0 ;;
      --plots-only) plots_only=1 ;;
      -h|--help) usage; exit 0 ;;
      *) opt_err "unknown option '$1' (see --help)" ;;
    esac
    shift
  done
  if [ "$quick" = 1 ]; then
    [ "$set_sizes" = 1 ] || sizes="1024,65536"
    [ "$set_threads" = 1 ] || threads="1,2"
    [ "$set_dur" = 1 ] || duration=1
    [ "$set_rrdur" = 1 ] || rr_duration=1
    [ "$set_reps" = 1 ] || reps=1
  fi
  local x
  IMPLS=(); SIZES=(); THREADS=()
  for x in $(split_list --impls "$impls"); do
    [[ "$x" =~ ^A[123]$ ]] || opt_err "--impls: '$x' is not one of A1 A2 A3"; IMPLS+=("$x"); done
  for x in $(split_list --sizes "$sizes"); do
    if ! { is_posint "$x" && [ "${#x}" -le 9 ] && [ "$x" -le 67108864 ]; }; then opt_err "--sizes: '$x' is not a size in bytes (1..67108864)"; fi
    SIZES+=("$x"); done
  for x in $(split_list --threads "$threads"); do
    if ! { is_posint "$x" && [ "${#x}" -le 4 ] && [ "$x" -le 1024 ]; }; then opt_err "--threads: '$x' is not a thread count (1..1024)"; fi
    THREADS+=("$x"); done
  [ "${#IMPLS[@]}" -gt 0 ] || opt_err "--impls: empty list"
  [ "${#SIZES[@]}" -gt 0 ] || opt_err "--sizes: empty list"
  [ "${#THREADS[@]}" -gt 0 ] || opt_err "--threads: empty list"
  is_posnum "$duration" || opt_err "--duration: '$duration' is not a positive number of seconds"
  is_posnum "$rr_duration" || opt_err "--rr-duration: '$rr_duration' is not a positive number of seconds"
  if ! { is_posint "$reps" && [ "${#reps}" -le 4 ]; }; then opt_err "--reps: '$reps' is not a positive integer"; fi
  [ -n "$OUT" ] || opt_err "--out: empty file name"
  if [ -n "$PIN" ]; then
    local cpu_list='[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*'
    [[ "$PIN" =~ ^${cpu_list}:${cpu_list}$ ]] || opt_err "--pin: '$PIN' is not SERVER_CPUS:CLIENT_CPUS (e.g. 0:1)"
    command -v taskset >/dev/null 2>&1 || { err "--pin needs taskset (util-linux)"; exit 1; }
    taskset -c "${PIN%%:*}" true 2>/dev/null || opt_err "--pin: no CPU ${PIN%%:*} here (nproc: $(nproc))"
    taskset -c "${PIN#*:}" true 2>/dev/null || opt_err "--pin: no CPU ${PIN#*:} here (nproc: $(nproc))"
    SRV_PIN=(taskset -c "${PIN%%:*}")
    CLI_PIN=(taskset -c "${PIN#*:}")
  fi

  if [ "$plots_only" = 1 ]; then
    [ -s "$OUT" ] || { err "--plots-only: no results file $OUT"; exit 1; }
    run_plots; exit $?
  fi

  local b
  for x in "${IMPLS[@]}"; do
    for b in "$CB_BIN_DIR/${x}_server" "$CB_BIN_DIR/${x}_client"; do
      [ -x "$b" ] || { err "missing $b: build the programs first (make)"; exit 1; }
    done
  done

  if [ "$NETNS" = 1 ] && [ "$(id -u)" != 0 ]; then
    err "network namespaces need root: run with sudo, or use --no-netns (loopback)"; exit 1
  fi
  mkdir -p "$(dirname "$OUT")"
  OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
  local base=${OUT%.csv}
  PIDFILE=$base.partial.pids
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/copybench.XXXXXX")
  trap cleanup EXIT
  trap 'on_signal INT' INT
  trap 'on_signal TERM' TERM

  if [ "$NETNS" = 1 ]; then
    cb_netns_addrs
    clean_leftovers
    NETNS_CREATED=1
    cb_netns_up >/dev/null || { err "could not set up the namespaces"; exit 1; }
    SRV_PREFIX=(ip netns exec "$CB_NS_SERVER")
    CLI_PREFIX=(ip netns exec "$CB_NS_CLIENT")
    SERVER_HOST=$CB_SERVER_IP
    say "namespaces $CB_NS_SERVER ($CB_SERVER_IP) <-> $CB_NS_CLIENT ($CB_CLIENT_IP)"
  else
    clean_leftovers
    SERVER_HOST=127.0.0.1
    say "loopback mode (--no-netns): server and client share this network namespace"
  fi

  PERF_AVAILABLE=0
  if command -v "$CB_PERF" >/dev/null 2>&1; then
    PERF_EVENTS=$(perf_usable_events "$CB_ALL_EVENTS")
    [ -n "$PERF_EVENTS" ] && PERF_AVAILABLE=1
  fi
  if [ "$PERF_AVAILABLE" = 0 ]; then
    say "perf is missing or cannot count here: counters are off (their CSV cells stay empty)"
  elif [ "$PERF_EVENTS" != "$CB_ALL_EVENTS" ]; then
    say "perf accepts only: $PERF_EVENTS (the other counter cells stay empty)"
  fi
  write_machine_file "$base.machine.txt"
  if grep -q '^hw_counters: no' "$base.machine.txt" && [ "$PERF_AVAILABLE" = 1 ]; then
    say "hardware counters are not supported here: cycles/instructions/cache cells stay empty; CPU cost comes from task-clock"
  fi

  # the plan: rep > size > threads > mode > impl, so the techniques alternate
  local modes=(stream); [ "$rr" = 1 ] && modes+=(rr)
  local plan=() r s t m i
  for ((r = 1; r <= reps; r++)); do
    for s in "${SIZES[@]}"; do for t in "${THREADS[@]}"; do for m in "${modes[@]}"; do for i in "${IMPLS[@]}"; do
      plan+=("$i $m $s $t $r")
    done; done; done; done
  done
  local total=${#plan[@]} n_rr=0 est
  [ "$rr" = 1 ] && n_rr=$((total / 2))
  est=$(awk -v ns="$((total - n_rr))" -v nr="$n_rr" -v d="$duration" -v rd="$rr_duration" 'BEGIN { printf "%d\n", ns * (d + 0.6) + nr * (rd + 0.6) }')
  say "$total runs (${#IMPLS[@]} impls x ${#SIZES[@]} sizes x ${#THREADS[@]} thread counts x ${#modes[@]} modes x $reps reps; stream ${duration}s, rr ${rr_duration}s): estimated $(fmt_dur "$est")"

  if [ -e "$OUT" ]; then mv -f "$OUT" "$OUT.prev"; say "previous $OUT kept as $OUT.prev"; fi
  echo "$CSV_HEADER" >"$OUT"

  NEXT_PORT=$CB_PORT_BASE
  local k=0 start n_ok=0 line el eta dur
  start=$(now)
  for line in "${plan[@]}"; do
    k=$((k + 1))
    read -r i m s t r <<<"$line"
    dur=$duration; [ "$m" = rr ] && dur=$rr_duration
    local label="$i $s B x$t"; [ "$m" = rr ] && label="$label rr"
    printf '[%d/%d] %s rep %d ... ' "$k" "$total" "$label" "$r"
    LAST_SUMMARY=""
    if run_one "$i" "$m" "$s" "$t" "$r" "$dur"; then
      n_ok=$((n_ok + 1))
    else
      RUN_FAILURES=$((RUN_FAILURES + 1)); LAST_SUMMARY="FAILED"
    fi
    el=$(elapsed "$start")
    eta=$(awk -v e="$el" -v k="$k" -v n="$total" 'BEGIN { printf "%d\n", e / k * (n - k) }')
    echo "$LAST_SUMMARY (eta $(fmt_dur "$eta"))"
  done
  say "done: $n_ok of $total runs in $(fmt_dur "$(elapsed "$start")"), results in $OUT (machine: $base.machine.txt)"

  local prc=0
  if [ "$plots" = 1 ]; then run_plots || prc=$?; fi
  if [ "$RUN_FAILURES" -gt 0 ]; then err "$RUN_FAILURES run(s) failed (see messages above)"; exit 1; fi
  [ "$prc" = 0 ] || exit 1
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
