#!/usr/bin/env bash
# run_experiments.sh end to end with the real programs, in namespaces of its own: a tiny sweep
# (stream + rr), its CSV, plots and summary; then a sweep interrupted by SIGINT; then loopback
# mode with a perf that refuses the hardware events.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
need_root
cd "$ROOT" || exit 1
need_programs A1_server A1_client A3_server A3_client A4_server A4_client

export CB_NS_SERVER="cbe_s$$" CB_NS_CLIENT="cbe_c$$" CB_PORT_BASE=$((20000 + $$ % 20000))
tmp=$(mktemp -d)
cleanup() { bash "$ROOT/setup_netns.sh" down >/dev/null 2>&1; rm -rf "$tmp"; }
trap cleanup EXIT
NCOL=34
HEADER="impl,mode,msg_size,threads,rep,duration_s,throughput_gbps,msgs_per_s,lat_p50_us,lat_p99_us,lat_max_us,cycles,instructions,l1d_misses,llc_misses,context_switches,cpu_migrations,task_clock_ms,cycles_per_byte,cpu_ns_per_byte,zc_sends,zc_completions,zc_copied,verify_errors,client_cpu_pct,steal_pct,netns,pin,zc_copied_pct,server_host,client_host,path,footprint_bytes,send_cpu_ns_per_byte"

# our programs' processes started by this test's sweeps: executable path, and a port from this
# test's range (CB_PORT_BASE..+199) on the command line (others may be running the programs too)
our_procs() {
  local p exe port
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    case "$exe" in "$CB_BIN_DIR"/A[0-9]_server|"$CB_BIN_DIR"/A[0-9]_client) ;; *) continue ;; esac
    port=$(tr '\0' '\n' <"$p/cmdline" 2>/dev/null | sed -n '/^-p$/{n;p;q}')
    [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge "$CB_PORT_BASE" ] && [ "$port" -lt $((CB_PORT_BASE + 200)) ] && echo "${p#/proc/} $exe $port"
  done
}
new_procs() { our_procs; }
ns_left() { ip netns list | awk '{print $1}' | grep -cxE "$CB_NS_SERVER|$CB_NS_CLIENT"; }
col() { # col NAME CSV: values of column NAME (data rows)
  awk -F, -v name="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next } { print $c }' "$2"
}
all_rows_have() { awk -F, -v n="$2" 'NF != n { bad = 1 } END { exit bad }' "$1"; }

have_mpl=0
for p in python3 /usr/bin/python3; do "$p" -c 'import matplotlib' >/dev/null 2>&1 && have_mpl=1; done

# --- 1. a tiny sweep, stream + rr, and a footprint sub-sweep of one footprint (300 s: beside two
# busy loops and other work 100 s cut its plots short)
out=$tmp/s1/results.csv
log=$(timeout 300 bash run_experiments.sh --no-profile --impls A1,A3 --sizes 4096 --threads 1,2 --duration 1 --rr-duration 1 \
  --reps 1 --footprints 64K --footprint-duration 1 --out "$out" 2>&1); rc=$?
if [ "$have_mpl" = 1 ]; then
  is "$rc" 0 "tiny sweep exits 0"
else   # the rows are all there, but the sweep cannot draw: it says so and exits 1
  is "$rc" 1 "tiny sweep without matplotlib exits 1 (CSV kept, no plots)"
fi
[ "$rc" = 0 ] || printf '%s\n' "$log" | tail -n 20 | sed 's/^/#   /'
like "$log" "12 runs planned.*estimated" "prints the plan and an estimate up front"
like "$log" "footprint +4 .*cold data: 1 footprint x size point" "... with the footprint runs' phase"
like "$log" '\[8/12\] A3 4096 B x2 rr rep 1 \.\.\. [0-9.]+ Gbps.*\(eta' "progress lines with throughput and eta"
like "$log" '\[12/12\] A3 4096 B x2 footprint 65536 B rep 1 \.\.\. [0-9.]+ Gbps' "the footprint runs come last, labelled"
is "$(head -n 1 "$out")" "$HEADER" "CSV header"
# every column is defined in docs/pipeline.md's table (the words in backticks in the first cells)
documented=" $(awk '/^##+ results.csv: every column/ { on = 1; next } on && /^#/ { exit } on && /^\|/ { n = split($2, a, "`"); for (i = 2; i <= n; i += 2) print a[i] }' FS='|' docs/pipeline.md | tr '\n' ' ') "
undoc=""; for c in ${HEADER//,/ }; do [[ "$documented" == *" $c "* ]] || undoc="$undoc $c"; done
is "$undoc" "" "every CSV column is defined in docs/pipeline.md's results.csv table"
is "$(($(wc -l <"$out") - 1))" 12 "12 rows: 2 impls x 2 thread counts x (stream + rr + stream with a footprint)"
check "every row has $NCOL columns" all_rows_have "$out" "$NCOL"
is "$(col mode "$out" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" "rr=4 stream=8 " "8 stream + 4 rr rows"
is "$(col impl "$out" | tr '\n' ' ')" "A1 A3 A1 A3 A1 A3 A1 A3 A1 A3 A1 A3 " "techniques alternate within a configuration"
is "$(col footprint_bytes "$out" | tr '\n' ' ')" "4096 4096 4096 4096 4096 4096 4096 4096 65536 65536 65536 65536 " \
  "footprint_bytes: one message in the main grid, 64 KiB (16 messages) in the sub-sweep"
check "send_cpu_ns_per_byte > 0 in every stream row" bash -c \
  "awk -F, 'NR > 1 && \$2 == \"stream\" && !(\$34 > 0) { bad = 1 } END { exit bad }' '$out'"
check "throughput > 0 in every row" bash -c "awk -F, 'NR > 1 && !(\$7 > 0) { bad = 1 } END { exit bad }' '$out'"
check "rr rows have latencies" bash -c "awk -F, 'NR > 1 && \$2 == \"rr\" && !(\$9 > 0 && \$10 >= \$9) { bad = 1 } END { exit bad }' '$out'"
check "task-clock and CPU ns per byte in every row" bash -c "awk -F, 'NR > 1 && !(\$18 > 0 && \$20 > 0) { bad = 1 } END { exit bad }' '$out'"
machine=$tmp/s1/results.machine.txt
check "machine side file written" test -s "$machine"
for k in "kernel: Linux" "cpu_model: ." "cores: [0-9]+" "perf: ." "hw_counters: (yes|no)" "date: 20" "command: .*run_experiments.sh"; do
  like "$(cat "$machine" 2>/dev/null)" "^$k" "side file has ${k%%:*}"
done
# Whether this machine has hardware counters is asked of perf directly, not of the machine file
# (the code under test writes that: a parser writing 0 would flip its answer and pass).
hw_raw=$(perf stat -x, -e instructions -- true 2>&1 >/dev/null)
if [[ "$hw_raw" == *"<not supported>"* || "$hw_raw" == *"<not counted>"* ]]; then
  like "$(cat "$machine" 2>/dev/null)" "hw_counters: no" "perf says no HW counters here; the machine file agrees"
  for c in cycles instructions l1d_misses llc_misses cycles_per_byte; do
    is "$(col "$c" "$out" | sort -u | tr '\n' ' ')" " " "no HW counters here: $c cells are empty (not 0)"
  done
else
  diag "hardware counters work here (perf: ${hw_raw:0:80}): checking they are numbers"
  like "$(cat "$machine" 2>/dev/null)" "hw_counters: yes" "perf counts instructions here; the machine file agrees"
  check "cycles are positive numbers in every row" bash -c "awk -F, 'NR > 1 && !(\$12 ~ /^[0-9]+\$/ && \$12 > 0) { bad = 1 } END { exit !(NR > 1 && !bad) }' '$out'"
fi
check "A3 rows carry zero-copy counts, A1 rows leave them empty" bash -c \
  "awk -F, 'NR > 1 && ((\$1 == \"A3\" && \$22 == \"\") || (\$1 == \"A1\" && (\$21 != \"\" || \$22 != \"\"))) { bad = 1 } END { exit bad }' '$out'"
check "no text in numeric cells" bash -c "[ \"\$(tail -n +2 '$out' | cut -d, -f3-27,29,33-34 | grep -c '[^0-9.,]')\" = 0 ]"
check "zc_copied_pct = zc_copied / zc_completions x 100 in A3 rows, empty in A1 rows" bash -c \
  "awk -F, 'NR > 1 && ((\$1 == \"A3\" && \$29 != sprintf(\"%.2f\", 100 * \$23 / \$22)) || (\$1 == \"A1\" && \$29 != \"\")) { bad = 1 } END { exit !(NR > 1 && !bad) }' '$out'"
# veth: the kernel copies every zero-copy send for the receiver in the other namespace and flags
# each completion SO_EE_CODE_ZEROCOPY_COPIED (a reader that inverted the flag would write 0.00)
is "$(paste -d' ' <(col impl "$out") <(col zc_copied_pct "$out") | sed -n 's/^A3 //p' | sort -u)" 100.00 \
  "veth: zc_copied_pct = 100.00 in every A3 row (every completion flagged copied by the kernel)"
me=$(uname -n | sed 's/[^A-Za-z0-9._-]/_/g')
is "$(col server_host "$out" | sort -u),$(col client_host "$out" | sort -u),$(col path "$out" | sort -u)" "$me,$me,veth" \
  "namespaces: server_host = client_host = this host, path veth, in every row"
like "$(cat "$machine" 2>/dev/null)" "server_nic: cbveth_s" "machine file names the server side's interface"
like "$(cat "$machine" 2>/dev/null)" "^footprints: 64KiB \(given with --footprints\)" "machine file says where the footprints come from"
if [ "$have_mpl" = 1 ]; then
  for f in throughput_vs_size latency_vs_threads cache_misses_vs_size cycles_per_byte_vs_size context_switches_vs_threads stream_latency_vs_throughput \
           footprint_throughput footprint_cpu_per_byte; do
    is "$(head -c 8 "$tmp/s1/plots/$f.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a "$f.png is a PNG"
  done
  sum=$(cat "$tmp/s1/plots/summary.md" 2>/dev/null)
  like "$sum" "A1" "summary.md mentions A1"
  like "$sum" "A3" "summary.md mentions A3"
else
  ok 0 "plots and summary.md: no Python with matplotlib here # SKIP"
fi
is "$(ns_left)" 0 "no namespace left after the sweep"
is "$(new_procs | tr '\n' ' ')" "" "no server or client left after the sweep"

# --- 2. SIGINT in the middle ------------------------------------------------------------------
out2=$tmp/s2/results.csv
# job control on: a background job of a script would otherwise start with SIGINT ignored
set -m
bash run_experiments.sh --no-profile --impls A1,A3 --sizes 4096,65536 --threads 1,2 --duration 2 --rr-duration 2 --reps 2 \
  --footprints none --no-plots --out "$out2" >"$tmp/s2.log" 2>&1 &
pid=$!
set +m
for _ in $(seq 300); do
  [ "$(wc -l 2>/dev/null <"$out2" || echo 0)" -ge 3 ] && break
  sleep 0.1
done
sleep 0.7   # land inside a run (client running), not between two
kill -INT "$pid"
for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then ok 1 "interrupted sweep exits within 20 s"; kill -KILL "$pid"; else ok 0 "interrupted sweep exits within 20 s"; fi
wait "$pid"; rc=$?
is "$rc" 130 "interrupted sweep exits 130"
like "$(cat "$tmp/s2.log")" "interrupted" "it says it was interrupted"
n=$(($(wc -l <"$out2") - 1))
check "some rows were written before the interrupt ($n)" test "$n" -ge 2
check "interrupted CSV: header + every row with $NCOL columns" all_rows_have "$out2" "$NCOL"
is "$(head -n 1 "$out2")" "$HEADER" "interrupted CSV keeps its header"
check "interrupted CSV: last line ends with a newline" bash -c "[ \"\$(tail -c 1 '$out2' | od -An -tx1 | tr -d ' ')\" = 0a ]"
is "$(ns_left)" 0 "no namespace left after SIGINT"
sleep 0.3
is "$(new_procs | tr '\n' ' ')" "" "no server or client left after SIGINT"
check "no temp files left next to the CSV" bash -c "[ \"\$(find '$tmp/s2' -name '*partial*' | wc -l)\" = 0 ]"

# --- 3. a pair in use is left alone, an abandoned one is replaced; loopback; perf refusing events
bash setup_netns.sh up >/dev/null 2>&1
ip netns exec "$CB_NS_SERVER" sleep 300 &
stray=$!
sleep 0.2
out3=$tmp/s3/results.csv
log=$(timeout 60 bash run_experiments.sh --no-profile --impls A1 --sizes 4096 --threads 1 --duration 1 --no-plots --out "$out3" 2>&1); rc=$?
is "$rc" 1 "sweep while its named pair is in use (the hand recipe, a server inside): exit 1"
like "$log" "are in use, not touching them: .*$stray \(sleep 300\)" "it says which process holds the pair"
check "the process in the pair in use survives" kill -0 "$stray"
check "and the pair is still up" bash -c "bash setup_netns.sh status >/dev/null"
check "nothing was written" test ! -e "$out3"
kill "$stray"; wait "$stray" 2>/dev/null
bash setup_netns.sh down >/dev/null 2>&1
# an abandoned pair: its owner (a sweep killed with SIGKILL) gone, nothing inside
bash -c '. ./setup_netns.sh; cb_netns_acquire $$ "a sweep that crashed"' >/dev/null 2>&1
log=$(CB_PERF="$ROOT/tests/fixtures/perf/fake-perf" FAKE_PERF_REJECT="cycles,instructions" \
  timeout 60 bash run_experiments.sh --no-profile --impls A1 --sizes 4096 --threads 1 --duration 1 --rr-duration 1 --reps 1 --pin 0:1 --footprints none \
  --no-plots --out "$out3" 2>&1); rc=$?
is "$rc" 0 "sweep over an abandoned pair with a perf that refuses cycles/instructions exits 0"
like "$log" "removed the abandoned namespaces $CB_NS_SERVER/$CB_NS_CLIENT" "an abandoned pair (owner gone, nothing inside) is replaced, and it says so"
like "$log" "perf accepts only: L1-dcache-load-misses,LLC-load-misses,context-switches,cpu-migrations,task-clock" "refused events are dropped, the rest still counted"
is "$(($(wc -l <"$out3") - 1))" 2 "both runs recorded"
is "$(col task_clock_ms "$out3" | tr '\n' ' ')" "12.5 12.5 " "counters from the accepted events are in the rows"
is "$(col cycles "$out3" | tr '\n' ' ')" "  " "refused events leave empty cells"
is "$(col pin "$out3" | sort -u)" "0:1" "--pin is recorded in every row"
is "$(ns_left)" 0 "no namespace left"

out4=$tmp/s4/results.csv
log=$(timeout 60 bash run_experiments.sh --no-profile --no-netns --impls A3 --sizes 65536 --threads 2 --duration 1 --rr-duration 1 --reps 1 --footprints none \
  --no-plots --out "$out4" 2>&1); rc=$?
is "$rc" 0 "loopback sweep (--no-netns) exits 0"
like "$log" "loopback mode" "loopback mode announced"
is "$(col netns "$out4" | sort -u)" 0 "netns column is 0 in loopback mode"
is "$(col path "$out4" | sort -u)" loopback "path column is loopback in loopback mode"
is "$(col pin "$out4" | sort -u)" "" "pin column empty without --pin"
check "loopback: 2 rows, each with a throughput" bash -c "awk -F, 'NR > 1 && !(\$7 > 0) { bad = 1 } END { exit !(NR == 3 && !bad) }' '$out4'"
is "$(new_procs | tr '\n' ' ')" "" "no server or client left at the end"

# Where io_uring is refused (here: A4_server run under a seccomp filter that refuses
# io_uring_setup, as a container's profile does) the sweep skips A4 with a note, runs the rest,
# and exits 0.
if [ -x "$ROOT/tests/bin/no_uring" ] || make -s -C "$ROOT" tests/bin/no_uring >/dev/null 2>&1; then
  nb=$tmp/nouring_bin; mkdir -p "$nb"
  for p in A1_server A1_client A4_client; do ln -s "$CB_BIN_DIR/$p" "$nb/$p"; done
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$ROOT/tests/bin/no_uring" "$CB_BIN_DIR/A4_server" >"$nb/A4_server"
  chmod 755 "$nb/A4_server"
  out7=$tmp/s7/results.csv
  log=$(CB_BIN_DIR=$nb timeout 60 bash run_experiments.sh --no-profile --no-netns --impls A1,A4 --sizes 4096 --threads 2 \
    --duration 0.5 --rr-duration 0.5 --reps 1 --footprints none --no-plots --out "$out7" 2>&1); rc=$?
  is "$rc" 0 "io_uring refused on the server's host: the sweep still exits 0"
  is "$(col impl "$out7" | tr '\n' ' ')" "A1 A1 " "...its rows are A1's (stream, rr); no A4 row"
  like "$log" "A4 skipped for the rest of the sweep: io_uring unavailable on the server's host \(uring_error=EPERM\)" "...it says why, once"
  like "$log" "A4 4096 B x2 rr rep 1 \.\.\. skipped \(io_uring unavailable\)" "...and marks each A4 run skipped, not failed"
  like "$(cat "$tmp/s7/results.machine.txt")" "a4: skipped: io_uring unavailable on the server's host \(uring_error=EPERM\): io_uring_setup: Operation not permitted" \
    "...and notes it in the machine file"
else
  ok 1 "builds tests/bin/no_uring"
fi

# The README's smoke command must not replace the committed results: a run that is not the
# default sweep writes to runs/<date>-quick/ unless --out says where, and says so.
mkdir -p "$tmp/s5"; echo "committed results" >"$tmp/s5/results.csv"
log=$(cd "$tmp/s5" && timeout 60 bash "$ROOT/run_experiments.sh" --no-netns --quick --impls A1 --sizes 1K --threads 1 --no-rr \
  --footprints none --no-plots 2>&1); rc=$?
is "$rc" 0 "smoke run (--no-netns --quick) exits 0"
is "$(cat "$tmp/s5/results.csv")" "committed results" "the smoke run leaves ./results.csv alone"
smoke=$(find "$tmp/s5/runs" -path '*-quick/results.csv' 2>/dev/null)
is "$(($(wc -l <"${smoke:-/dev/null}") - 1))" 1 "it wrote its one row to runs/<date>-quick/results.csv"
like "$log" "results go to $tmp/s5/runs/[0-9]{8}-[0-9]{6}-quick/results.csv" "and said where, before running"

# Without root perf counts user space only: the sweep says so once, on stderr and in the machine
# file, and leaves the context-switch and migration cells empty instead of writing their 0s.
if id nobody >/dev/null 2>&1 && su nobody -s /bin/sh -c "test -x '$CB_BIN_DIR/A1_client' && perf --version" >/dev/null 2>&1; then
  mkdir -p "$tmp/s6"; chmod 755 "$tmp"; chmod 777 "$tmp/s6"
  su nobody -s /bin/bash -c "cd '$tmp/s6' && CB_BIN_DIR='$CB_BIN_DIR' timeout 60 bash '$ROOT/run_experiments.sh' --no-netns --quick \
    --impls A1 --sizes 1K --threads 1 --no-rr --footprints none --no-plots --out '$tmp/s6/results.csv'" >"$tmp/s6.out" 2>"$tmp/s6.err"; rc=$?
  is "$rc" 0 "non-root loopback sweep exits 0"
  is "$(grep -c 'perf counts user space only' "$tmp/s6.err")" 1 "non-root: 'perf counts user space only' said once on stderr"
  like "$(cat "$tmp/s6/results.machine.txt" 2>/dev/null)" "perf_scope: user space only" "non-root: and in the machine file"
  is "$(col context_switches "$tmp/s6/results.csv"),$(col cpu_migrations "$tmp/s6/results.csv")" "," \
    "non-root: context_switches and cpu_migrations cells are empty, not 0"
  check "non-root: task-clock is still counted" bash -c "[ -n \"\$(awk -F, 'NR == 2 { print \$18 }' '$tmp/s6/results.csv')\" ]"
else
  ok 0 "non-root sweep: user nobody cannot run perf or the programs here # SKIP"
fi

# --- 4. bad options ---------------------------------------------------------------------------
for args in "--sizes 12" "--sizes 1.5K" "--threads 0" "--duration -1" "--reps x" "--impls A9" "--a4-threads 0" "--a4-threads x" "--pin 0" "--pin 0:999" "--bogus" \
            "--footprints 1.5M" "--footprints 64G" "--footprint-duration 0"; do
  # shellcheck disable=SC2086
  o=$(bash run_experiments.sh $args --out "$tmp/bad.csv" 2>&1); rc=$?
  is "$rc" 2 "bad option '$args' exits 2"
  like "$o" "^run_experiments: --(sizes|threads|duration|reps|impls|a4-threads|pin|footprints|footprint-duration)|unknown option" "'$args': one line naming the option"
done
check "run_experiments.sh is shellcheck-clean" shellcheck run_experiments.sh
check "t_sweep_e2e.sh is shellcheck-clean" shellcheck tests/t_sweep_e2e.sh
done_testing
