#!/usr/bin/env bash
# The sweep's perf handling (run_experiments.sh, sourced): parsing `perf stat -x,` outputs
# (fixtures in tests/fixtures/perf), perf's counts coming back from the server side, and starting
# the server again when perf refuses an event.
# lane: beside (no network, no process of the programs: files and tools only); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
# shellcheck source=../run_experiments.sh disable=SC1091
. "$ROOT/run_experiments.sh"
set +e
FX=$ROOT/tests/fixtures/perf
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# order: cycles,instructions,l1d_misses,llc_misses,context_switches,cpu_migrations,task_clock_ms
is "$(perf_parse "$FX/vm-no-hw-counters.txt")" ",,,,4,0,61.45" \
  "VM: <not supported> HW events are empty cells, software events and msec task-clock kept"
is "$(perf_parse "$FX/hybrid-intel-cpu_atom-cpu_core.txt")" "131545453031,,974502878,1823145,853172,," \
  "hybrid: cpu_atom+cpu_core summed, <not supported> PMU skipped, cs = context-switches, absent events empty"
is "$(perf_parse "$FX/not-counted.txt")" ",812345678,,120034,17,2,104.62" \
  "<not counted> is an empty cell, never 0"
is "$(perf_parse "$FX/hybrid-not-counted.txt")" "1500000000,,,7,9,1,2000.5" \
  "hybrid with <not counted> on one PMU / both PMUs, :u and /u modifiers, migrations alias"
is "$(perf_parse "$FX/nonroot-user-only.txt")" ",,,,,,1.21" \
  "non-root (user-space only, :u): context-switches and cpu-migrations are empty, not 0; task-clock kept"
printf '5,,context-switches:uk,1,100.00,,\n3,,cpu-migrations:k,1,100.00,,\n' >"$tmp/uk"
is "$(perf_parse "$tmp/uk")" ",,,,5,3," "context switches counted with the kernel (:uk, :k) are kept"
is "$(perf_parse "$tmp/does-not-exist")" ",,,,,," "missing perf file: all cells empty"
: >"$tmp/empty"; is "$(perf_parse "$tmp/empty")" ",,,,,," "empty perf file: all cells empty"
printf '# started on x\n\n2.5,sec,task-clock,1,100.00,,\n' >"$tmp/sec"
is "$(perf_parse "$tmp/sec" | cut -d, -f7)" "2500" "task-clock in sec is converted to msec"
printf '1500,usec,task-clock,1,100.00,,\n' >"$tmp/usec"
is "$(perf_parse "$tmp/usec" | cut -d, -f7)" "1.5" "task-clock in usec is converted to msec"
all=""; for f in "$FX"/*.txt; do all="$all$(perf_parse "$f")"$'\n'; done
check "every fixture parses to 7 numeric-or-empty cells" bash -c "! grep -qvE '^([0-9.]*,){6}[0-9.]*$' <<<'${all%$'\n'}'"

# perf refusing an event name: the fake replays perf 6.1's "Cannot find PMU" failure (exit 129).
export CB_PERF="$FX/fake-perf" FAKE_PERF_REJECT="cycles,instructions" FAKE_PERF_LOG="$tmp/log"
is "$(perf_usable_events "$CB_ALL_EVENTS")" "L1-dcache-load-misses,LLC-load-misses,context-switches,cpu-migrations,task-clock" \
  "perf_usable_events keeps only the events perf accepts"

# A server run on the server side (SERVER_SH through srv_exec; here the side is this namespace):
# a stub server that says where it listens, prints a result line and exits with $STUB_RC.
bin=$tmp/bin; mkdir -p "$bin"
cat >"$bin/A9_server" <<'STUB'
#!/bin/sh
p=""; while [ "$#" -gt 0 ]; do [ "$1" = -p ] && p=$2; shift; done
echo ran >>"$STUB_RAN"
echo "listening addr=127.0.0.1 port=$p"
echo "result impl=A9 side=server bytes=1000"
exit "${STUB_RC:-0}"
STUB
chmod +x "$bin/A9_server"
export STUB_RAN=$tmp/ran
# shellcheck disable=SC2034 # globals of the sourced run_experiments.sh
SRV_MODE=loopback SRV_DIR=$bin PIDFILE=$tmp/pids NEXT_PORT=$((30000 + $$ % 20000)) PIN=""
run_stub() { # run_stub DIR: start_server + wait_server, as a run does; RC_START = start_server's status
  rm -rf "$1"; mkdir -p "$1"; rm -f "$STUB_RAN"
  RC_START=0; start_server A9 1 "$1" 2>"$tmp/err" || RC_START=$?
  [ "$RC_START" = 0 ] && wait_server A9 "$1" 2>>"$tmp/err"
  return 0
}
PERF_EVENTS=$CB_ALL_EVENTS
run_stub "$tmp/r1"
is "$RC_START:$SRV_RC" "0:0" "refused event -> the server is started again with the accepted events, exit 0"
is "$(wc -l <"$STUB_RAN" | tr -d ' ')" 1 "the server ran exactly once"
like "$(cat "$tmp/err")" "perf refused events 'cycles,.*' \(exit 129\); retrying with 'L1-dcache-load-misses,LLC-load-misses,context-switches,cpu-migrations,task-clock'" "the retry is reported"
is "$PERF_EVENTS" "L1-dcache-load-misses,LLC-load-misses,context-switches,cpu-migrations,task-clock" "the following runs use the accepted events"
is "$(perf_parse "$tmp/r1/perf.txt")" ",,,,5,1,12.5" "the retried run's software counters came back (cbperf: lines)"
is "$(grep -c '^result ' "$tmp/r1/srv.out")" 1 "the server's stdout came back, result line included"
FAKE_PERF_REJECT="cycles,instructions,L1-dcache-load-misses,LLC-load-misses,context-switches,cpu-migrations,task-clock"
is "$(perf_usable_events "$CB_ALL_EVENTS")" "" "nothing accepted -> empty event list"
PERF_EVENTS=$CB_ALL_EVENTS STUB_RC=3
export STUB_RC
run_stub "$tmp/r2"
is "$RC_START:$SRV_RC" "0:3" "nothing accepted -> the server still runs without perf, its exit status kept"
is "$(wc -l <"$STUB_RAN" | tr -d ' ')" 1 "and it ran exactly once"
is "$(perf_parse "$tmp/r2/perf.txt")" ",,,,,," "and the counters are empty"
unset FAKE_PERF_REJECT
PERF_EVENTS=task-clock STUB_RC=4
run_stub "$tmp/r3"
is "$RC_START:$SRV_RC" "0:4" "a server failing under perf is not retried (perf ran it): its exit status comes back"
is "$(wc -l <"$STUB_RAN" | tr -d ' ')" 1 "and it ran once"
is "$(perf_parse "$tmp/r3/perf.txt" | cut -d, -f7)" "12.5" "and perf's counts are there"
PERF_EVENTS="" STUB_RC=0
run_stub "$tmp/r4"
is "$RC_START:$SRV_RC:$(perf_parse "$tmp/r4/perf.txt")" "0:0:,,,,,," "empty event list: runs without perf"
unset STUB_RC

# the real perf, when installed: a bogus event name must not lose the run
if command -v perf >/dev/null 2>&1 && perf stat -x, -o "$tmp/probe" -e task-clock -- true >/dev/null 2>&1; then
  export CB_PERF=perf
  is "$(perf_usable_events "task-clock,copybench_bogus_event,context-switches")" "task-clock,context-switches" \
    "real perf: the bogus event is dropped"
  PERF_EVENTS="task-clock,copybench_bogus_event"
  run_stub "$tmp/r5"
  is "$(wc -l <"$STUB_RAN" | tr -d ' ')" 1 "real perf: refused event -> server ran once"
  like "$(perf_parse "$tmp/r5/perf.txt" | cut -d, -f7)" '^[0-9.]+$' "real perf: task-clock counted on the retry"
else
  ok 0 "real perf: perf cannot count here, its checks are not run # SKIP"
fi

# result-line helpers
line="result impl=A3 side=server clients=4 bytes=1048576 zc_copied=7 weird=a,b"
is "$(kv bytes "$line")" 1048576 "kv reads a field by name"
is "$(kv zc_copied "$line")" 7 "kv reads a later field"
is "$(kv nope "$line")" "" "kv: absent field is empty"
is "$(kv weird "$line")" "" "kv: a value with a comma is dropped (would break the CSV)"
is "$(per_byte 61.45 1000000 1048576)" "58.6033" "per_byte: task-clock ms -> ns per byte"
is "$(per_byte "" 1 1048576)" "" "per_byte: missing counter -> empty, not 0"
is "$(per_byte 5 1 0)" "" "per_byte: zero bytes -> empty"
is "$(steal_pct "1000 10" "2000 60")" "5.00" "steal_pct: delta steal / delta total"
# The machine file's commit: a default run's own outputs moved or rewritten leave it clean; a
# changed program (or script) makes it "-dirty".
G=$(mktemp -d)
git -C "$G" init -q && git -C "$G" config user.email t@t && git -C "$G" config user.name t
mkdir -p "$G/plots" && echo a >"$G/A1_server.c" && echo r >"$G/results.csv" && echo p >"$G/plots/x.png" \
  && echo m >"$G/results.machine.txt" && echo p >"$G/profiles.csv"
git -C "$G" add -A && git -C "$G" commit -qm one
head=$(git -C "$G" rev-parse --short HEAD)
is "$(code_commit "$G")" "$head" "code_commit: a clean tree, the commit"
mv "$G/results.csv" "$G/results.csv.prev"; echo q >"$G/plots/x.png"; echo n >"$G/results.machine.txt"; echo o >"$G/profiles.csv"
is "$(code_commit "$G")" "$head" "code_commit: the run's own outputs moved aside or rewritten: still clean"
echo b >>"$G/A1_server.c"
is "$(code_commit "$G")" "$head-dirty" "code_commit: a changed program: -dirty"
is "$(code_commit /)" "unknown" "code_commit: no repository: unknown"
rm -rf "$G"

check "run_experiments.sh is shellcheck-clean" shellcheck "$ROOT/run_experiments.sh"
check "this test is shellcheck-clean" shellcheck "$ROOT/tests/t_perf_parse.sh" "$FX/fake-perf"
done_testing
