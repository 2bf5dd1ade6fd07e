#!/usr/bin/env bash
# The numbers themselves, each against something outside the code that computed it
# (docs/reliability.md, "What the numbers are checked against"), in a private network namespace:
#  1. the kernel's own counts: TCP_INFO of every socket, read as the program closes it
#     (tests/bin/tcp_count.so), against the client's total_bytes and the server's bytes, in sum
#     and per connection, for every technique, stream and rr;
#  2. the client's gbps against a rate the test computes from the kernel's counts sampled on its
#     own clock (tests/tools/tcp_sampler.py), within what the window's edges leave open;
#  3. an independent receiver written from docs/protocol.md (tests/tools/oracle_rx.py) verifies
#     every byte from every technique, stream and rr, and counts them: its count, the server's and
#     the kernel's agree;
#  4. latency histograms merged from threads whose maxima differ: the first connection slowed
#     (tests/bin/slow_thread.so), its waits must show in lat_max_us;
#  5. the sweep's arithmetic: --reps 3 gives three rows per configuration, rep 1, 2, 3; every CSV
#     column is what the result lines said (stand-in programs printing all-different numbers);
#     the per-byte columns recomputed from their raw columns.
# Every result line met here also passes numbers.py's internal checks (as in t_integration).
# lane: beside (its network namespace is its own (unshare -n), its files are in a temporary directory); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
in_private_netns "$@"
scratch_dir
need_programs "${TECHS[@]/%/_server}" "${TECHS[@]/%/_client}"
for so in tcp_count slow_thread; do
  if [ ! -x "$ROOT/tests/bin/$so.so" ] || [ "$ROOT/tests/bin/$so.so" -ot "$ROOT/tests/tools/$so.c" ]; then
    make -s -C "$ROOT" "tests/bin/$so.so" >/dev/null || { ok 1 "builds tests/bin/$so.so"; done_testing; exit 1; }
  fi
done
py -c '' || { ok 1 "python3 runs"; done_testing; exit 1; }   # resolves PY (lib.sh)
TOOLS=$ROOT/tests/tools
NUM=("$PY" "$TOOLS/numbers.py")
COUNT_SO=$ROOT/tests/bin/tcp_count.so
# A sanitizer build must have its runtime first: the LD_PRELOAD shims are for the normal build.
shims=1; [ "$BIN" = "$ROOT" ] || shims=0

wait_listening() { # wait_listening FILE: the port of a listening line, within 5 s
  local p=""
  for _ in $(seq 100); do
    p=$(sed -n 's/^listening .*port=\([0-9]*\).*/\1/p' "$1")
    [ -n "$p" ] && break
    sleep 0.05
  done
  echo "$p"
}

# The offset of tcpi_bytes_received that the Python tools read, from the kernel's header.
printf '#include <stddef.h>\n#include <stdio.h>\n#include <linux/tcp.h>\nint main(void) { printf("%%zu\\n", offsetof(struct tcp_info, tcpi_bytes_received)); return 0; }\n' >"$TMP/off.c"
off=$(cc -o "$TMP/off" "$TMP/off.c" 2>&1 && "$TMP/off")
is "$off $(grep -c '^TCPI_BYTES_RECEIVED = 128' "$TOOLS/tcp_sampler.py") $(grep -c '^TCPI_BYTES_RECEIVED = 128 ' "$TOOLS/oracle_rx.py")" "128 1 1" \
  "linux/tcp.h puts tcpi_bytes_received at offset 128, where the sampler and the receiver read it"

# ---- 5. (in the background while the rest runs) the sweep's arithmetic ---------------------
# A stand-in for A3 (two-line scripts running fake_numbers.py), a fake perf that counts
# task-clock 12.5 ms and cycles, loopback (this namespace), 1 impl x 1 size x 1 thread count x
# stream x 3 reps = 3 rows: the sweep costs about a second of CPU a run (t_sweep_e2e runs more
# techniques and modes through the same code, with A1's empty zero-copy cells).
mkdir -p "$TMP/fakebin"
for p in A3_server A3_client; do
  printf '#!/bin/sh\nexec "%s" "%s" %s "$@"\n' "$PY" "$TOOLS/fake_numbers.py" "$p" >"$TMP/fakebin/$p"
  chmod +x "$TMP/fakebin/$p"
done
SWEEP_CYCLES=987654321
# Its ports lie below the ephemeral range (32768-60999): the scenes' servers take ephemeral ports
# (-p 0), and one that took the sweep's port had the sweep's client connect to it (seen: an A3
# scene's server spent its -n 2 on the stand-in's two connections and never answered its own).
(
  cd "$TMP" || exit 1
  CB_BIN_DIR=$TMP/fakebin CB_PERF=$ROOT/tests/fixtures/perf/fake-perf FAKE_PERF_CYCLES=$SWEEP_CYCLES \
    CB_FAKE_LOG=$TMP/sweep.lines CB_PORT_BASE=21000 \
    timeout 240 bash "$ROOT/run_experiments.sh" --no-netns --no-profile --no-plots --impls A3 --sizes 4096 \
    --threads 2 --duration 1 --no-rr --footprints none --reps 3 --out "$TMP/sweep/results.csv" >"$TMP/sweep.log" 2>&1
  echo $? >"$TMP/sweep.rc"
) &
sweep_job=$!

t_scene=$(date +%s%N)
scene_took() { diag "($1: $(( ($(date +%s%N) - t_scene) / 1000000 )) ms)"; t_scene=$(date +%s%N); }

# Scenes run side by side (each with a server of its own on its own port), in two rounds; every
# scene leaves files, read by the checks after. Only correctness is judged: a scene slowed by its
# neighbours moves fewer bytes, not other ones.

# run_counted IMPL MODE SIZE SECONDS [sample]: server and client under tcp_count.so, the server
# not quiet (its per-connection lines are checked); files $TMP/IMPL.MODE.{srv.out,srv.err,
# cli.out,counts,samples,port}.
run_counted() {
  local impl=$1 mode=$2 size=$3 d=$4 sample=${5:-} k=$TMP/$1.$2 spid="" port srv
  CB_TCP_COUNT_LOG=$k.counts LD_PRELOAD=$COUNT_SO "$BIN/${impl}_server" -p 0 -n 2 >"$k.srv.out" 2>"$k.srv.err" &
  srv=$!
  port=$(wait_listening "$k.srv.out")
  echo "$port" >"$k.port"
  if [ -n "$sample" ]; then
    "${RT[@]}" "$PY" "$TOOLS/tcp_sampler.py" --dport "$port" --out "$k.samples" --max-seconds 60 2>"$k.sampler.err" &
    spid=$!
    for _ in $(seq 1500); do [ -s "$k.samples" ] && break; sleep 0.02; done   # a look before the client
  fi
  CB_TCP_COUNT_LOG=$k.counts LD_PRELOAD=$COUNT_SO "$BIN/${impl}_client" -H 127.0.0.1 -p "$port" -m "$mode" \
    -s "$size" -t 2 -d "$d" >"$k.cli.out" 2>"$k.cli.err"
  wait "$srv"
  # one more look after everything closed, then stop the sampler
  [ -n "$spid" ] && { sleep 0.01; kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; }
}
# run_oracle IMPL MODE SIZE: the independent receiver against a server; $TMP/o.IMPL.MODE.{srv.out,srv.err,rx}
run_oracle() {
  local k=$TMP/o.$1.$2 srv port
  "$BIN/${1}_server" -p 0 -n 1 >"$k.srv.out" 2>"$k.srv.err" &
  srv=$!
  port=$(wait_listening "$k.srv.out")
  timeout 60 "$PY" "$TOOLS/oracle_rx.py" 127.0.0.1 "$port" --mode "$2" --size "$3" --duration 0.3 >"$k.rx" 2>&1
  echo "rc=$?" >>"$k.rx"
  wait "$srv"
}
# run_merge: A1 rr, 2 connections, the first thread's every read 100 ms late; $TMP/m.{srv.out,srv.err,cli.out}
run_merge() {
  local srv port
  "$BIN/A1_server" -p 0 -n 2 >"$TMP/m.srv.out" 2>"$TMP/m.srv.err" &
  srv=$!
  port=$(wait_listening "$TMP/m.srv.out")
  CB_SLOW_THREAD=1 CB_SLOW_US=100000 LD_PRELOAD=$ROOT/tests/bin/slow_thread.so \
    "$BIN/A1_client" -H 127.0.0.1 -p "$port" -m rr -s 1000 -t 2 -d 0.5 >"$TMP/m.cli.out" 2>"$TMP/m.cli.err"
  wait "$srv"
}
# The sampler is the test's clock: real-time priority, so that on a busy machine its looks still
# come every few ms (at a load average of 30 they were up to 300 ms apart without it).
RT=(); chrt -f 10 true 2>/dev/null && RT=(chrt -f 10)

# Round 1: the kernel's counts, each technique stream (with the sampler) then rr.
jobs_of_round=()
if [ "$shims" = 1 ]; then
  for impl in "${TECHS[@]}"; do
    { run_counted "$impl" stream 16384 0.5 sample; run_counted "$impl" rr 1000 0.3; } &
    jobs_of_round+=($!)
  done
fi
[ "${#jobs_of_round[@]}" = 0 ] || wait "${jobs_of_round[@]}"
scene_took "round 1: kernel counts"
# Round 2: the independent receiver, each technique and mode (odd sizes: a message boundary
# falls anywhere in a read), and the slowed thread.
jobs_of_round=()
for impl in "${TECHS[@]}"; do
  run_oracle "$impl" stream 65543 &
  jobs_of_round+=($!)
  run_oracle "$impl" rr 100 &
  jobs_of_round+=($!)
done
if [ "$shims" = 1 ]; then run_merge & jobs_of_round+=($!); fi
[ "${#jobs_of_round[@]}" = 0 ] || wait "${jobs_of_round[@]}"
scene_took "round 2: independent receiver, slowed thread"

# ---- 1 + 2. the kernel's counts, every technique, stream and rr -------------------------------
declare -A rate_rc rate_hi   # the rate check's exit status per technique (3: the window could not be placed), its upper bound in Gbit/s
if [ "$shims" = 1 ]; then
  for impl in "${TECHS[@]}"; do
    for mode in stream rr; do
      k=$TMP/$impl.$mode d=0.5; [ "$mode" = rr ] && d=0.3
      CLI=$(grep '^result' "$k.cli.out") SRV=$(grep '^result' "$k.srv.out") port=$(cat "$k.port")
      if [ -s "$k.cli.err" ] || [ "$(field duration_s "$CLI")" = 0.000 ]; then
        diag "$impl $mode client said: $(sed -n 1,3p "$k.cli.err" | tr '\n' '|') server said: $(grep -v ': done:' "$k.srv.err" | sed -n 1,6p | tr '\n' '|') at close: $(tr '\n' '|' <"$k.counts")"
      fi
      numbers_later "$impl $mode x2: the result lines add up (rates to their printed precision, bytes = messages x size, server = sum of its connections)" \
        line "$CLI" --duration "$d" --server "$SRV" --server-log "$k.srv.err" --copied-all
      numbers_later "$impl $mode x2: the kernel's counts at close = client total_bytes + unread, server bytes, per connection$([ "$mode" = rr ] && echo '; one request per reply')" \
        kernel --counts "$k.counts" --port "$port" --client "$CLI" --server "$SRV" --server-log "$k.srv.err"
      [ "$mode" = stream ] || continue
      out=$("${NUM[@]}" rate --samples "$k.samples" --counts "$k.counts" --port "$port" --duration "$d" --client "$CLI" 2>&1); rc=$?
      what="$impl stream x2: gbps within the rate the kernel's counts give over the window placed on the test's clock"
      if [ "$rc" = 3 ]; then ok 0 "$what # SKIP ${out#numbers: }"; else ok "$rc" "$what"; fi
      rate_rc[$impl]=$rc
      rate_hi[$impl]=$(sed -n "s/.*the kernel's counts give [0-9.]* \.\. \([0-9.]*\) Gbit\/s.*/\1/p" <<<"$out")
      sed -n 1,6p <<<"$out" | sed 's/^/#   /'
      [ "$rc" = 0 ] || diag "$(wc -l <"$k.samples") looks from $(sed -n '1s/ .*//p' "$k.samples") to $(sed -n '$s/ .*//p' "$k.samples"), the most sockets seen $(awk '$3 > m { m = $3 } END { print m + 0 }' "$k.samples"); sampler: $(sed -n 1,3p "$k.sampler.err" | tr '\n' '|')"
    done
  done
  numbers_run
else
  ok 0 "kernel counts through LD_PRELOAD shims: not with a sanitizer build # SKIP"
fi

# ---- 3. an independent receiver, every technique ---------------------------------------------
for impl in "${TECHS[@]}"; do
  for mode in stream rr; do
    size=65543; [ "$mode" = rr ] && size=100
    k=$TMP/o.$impl.$mode
    orc=$(grep '^oracle' "$k.rx") SRV=$(grep '^result' "$k.srv.out")
    obytes=$(field bytes "$orc")
    is "$(sed -n 's/^rc=//p' "$k.rx") $(field technique "$orc") $(field bad_seq "$orc") $(field bad_stamp "$orc") $(field bad_payload "$orc") $(field cut "$orc")" \
      "0 ${impl#A} 0 0 0 0" "$impl $mode ${size} B: an independent receiver finds every byte, sequence number and stamp right ($(field messages "$orc") messages)"
    grep -q '^rc=0' "$k.rx" || sed -n 1,5p "$k.rx" | sed 's/^/#   /'
    is "$(( $(field messages "$orc") * size ))" "$obytes" "$impl $mode: ...it read whole messages only (bytes = messages x size)"
    is "$(field bytes "$SRV") $(field messages "$SRV")" "$obytes $(field messages "$orc")" "$impl $mode: ...the server's bytes and messages are what it received"
    is "$(field kernel_bytes_received "$orc")" "$(( obytes + 17 ))" "$impl $mode: ...and what its kernel received (+ 16-byte reply + FIN)"
    like "$(cat "$k.srv.err")" "done: $(field messages "$SRV") messages, $(field bytes "$SRV") bytes sent" "$impl $mode: ...as the server's connection line says"
  done
done

# ---- 4. histograms merged from threads whose maxima differ ------------------------------------
# The client merges its threads' histograms in creation order; the first one waits 100 ms before
# each read, so its every round trip takes >= 100 ms while the other's take microseconds.
if [ "$shims" = 1 ]; then
  CLI=$(grep '^result' "$TMP/m.cli.out") SRV=$(grep '^result' "$TMP/m.srv.out")
  ok "$(awk -v m="$(field lat_max_us "$CLI")" 'BEGIN { exit !(m >= 100000) }'; echo $?)" \
    "rr x2, the first thread slowed 100 ms a read: lat_max_us=$(field lat_max_us "$CLI") >= 100000 (the larger maximum survives the merge)"
  ok "$(awk -v m="$(field min_conn_messages "$CLI")" -v t="$(field messages "$CLI")" 'BEGIN { exit !(m >= 1 && t >= 4 * m) }'; echo $?)" \
    "...while the other thread made most of the round trips (fewest $(field min_conn_messages "$CLI") of $(field messages "$CLI"))"
  numbers_later "...and the merged line adds up (p50 <= p99 <= max among them)" line "$CLI" --duration 0.5 --server "$SRV" --server-log "$TMP/m.srv.err"
  numbers_run
else
  ok 0 "slowed thread through an LD_PRELOAD shim: not with a sanitizer build # SKIP"
fi

# ---- 5. the sweep's rows ----------------------------------------------------------------------
wait "$sweep_job"
is "$(cat "$TMP/sweep.rc" 2>/dev/null)" 0 "the sweep over stand-in programs exits 0"
[ "$(cat "$TMP/sweep.rc" 2>/dev/null)" = 0 ] || sed -n 1,15p "$TMP/sweep.log" | sed 's/^/#   /'
numbers "--reps 3: three rows per configuration, rep 1, 2, 3; every column what the result lines said; per-byte columns = raw / server bytes" \
  sweep --csv "$TMP/sweep/results.csv" --log "$TMP/sweep.lines" --reps 3 --task-clock-ms 12.5 --cycles "$SWEEP_CYCLES"
is "$(($(wc -l <"$TMP/sweep/results.csv") - 1))" 3 "3 rows: 3 reps of one configuration"
scene_took "waiting for the sweep"

# ---- the checker itself: the documented line passes, a line with one figure off fails --------
doc=$(grep -m1 '^result impl=A2 side=client' "$ROOT/docs/programs.md")
numbers_later "numbers.py passes the documented client line" line "$doc"
doctored() { sed "s/ ${1%%=*}=[^ ]*/ $1/" <<<"$doc"; }   # doctored FIELD=VALUE: the line, one field changed
numbers_fails_later "numbers.py: gbps from total_bytes (17.485) fails" line "$(doctored gbps=17.485)"
numbers_fails_later "numbers.py: gbps 0.001 beyond what the printed duration allows (17.450) fails" line "$(doctored gbps=17.450)"
numbers_fails_later "numbers.py: msgs_per_s 10 beyond what the printed duration allows (33291) fails" line "$(doctored msgs_per_s=33291)"
numbers_fails_later "numbers.py: bytes not messages x size fails" line "$(doctored bytes=6542131201)"
numbers_fails_later "numbers.py: p99 above max fails" line "$(doctored lat_p99_us=394847.762)"
numbers_fails_later "numbers.py: total_bytes below bytes fails" line "$(doctored total_bytes=6542131199)"
# ... and its other checks, each on this run's data with one thing changed
sweep_args=(--log "$TMP/sweep.lines" --reps 3 --task-clock-ms 12.5 --cycles "$SWEEP_CYCLES")
py "$TOOLS/csv_variant.py" "$TMP/sweep/results.csv" "$TMP/v1.csv" --scale lat_p99_us:A3:1.0001
numbers_fails_later "numbers.py sweep: A3's p99 cells 0.01 % off fail" sweep --csv "$TMP/v1.csv" "${sweep_args[@]}"
py "$TOOLS/csv_variant.py" "$TMP/sweep/results.csv" "$TMP/v2.csv" --scale cpu_ns_per_byte:A3:1.00002
numbers_fails_later "numbers.py sweep: A3's per-byte cells 0.002 % off fail" sweep --csv "$TMP/v2.csv" "${sweep_args[@]}"
py "$TOOLS/csv_variant.py" "$TMP/sweep/results.csv" "$TMP/v3.csv" --scale rep:A3:2
numbers_fails_later "numbers.py sweep: A3's reps 2, 4, 6 fail" sweep --csv "$TMP/v3.csv" "${sweep_args[@]}"
if [ "$shims" = 1 ]; then
  k=$TMP/A1.stream
  SPORT=$(cat "$k.port") CLI=$(grep '^result' "$k.cli.out") SRV=$(grep '^result' "$k.srv.out")
  awk '!done && /^tcp .* bytes_received=[1-9]/ { sub(/bytes_received=/, "bytes_received=1"); done = 1 } 1' "$k.counts" >"$TMP/v.counts"
  numbers_fails_later "numbers.py kernel: one socket's count with a digit more fails" \
    kernel --counts "$TMP/v.counts" --port "$SPORT" --client "$CLI" --server "$SRV" --server-log "$k.srv.err"
  if [ "${rate_rc[A1]:-}" = 0 ] && [ -n "${rate_hi[A1]:-}" ]; then   # (a window the looks could not place judges nothing)
    # The planted figure: twice the kernel's upper bound plus 1 Gbit/s, bytes to match over the
    # same 0.5 s. (Ten times the client's own figure was no error when the client, starved beside
    # other work, said gbps=0.000.)
    g=$(field gbps "$CLI") b=$(field bytes "$CLI")
    read -r pg pb < <(awk -v h="${rate_hi[A1]}" 'BEGIN { g = 2 * h + 1; printf "%.3f %d\n", g, g * 1e9 * 0.5 / 8 }')
    v=$(sed "s/ gbps=$g / gbps=$pg /; s/ bytes=$b / bytes=$pb /" <<<"$CLI")
    numbers_fails_later "numbers.py rate: gbps $pg and bytes $pb (twice the kernel's upper bound ${rate_hi[A1]} Gbit/s, + 1) over the same window fail" \
      rate --samples "$k.samples" --counts "$k.counts" --port "$SPORT" --duration 0.5 --client "$v"
  else
    ok 0 "numbers.py rate: a planted rate beyond the kernel's bound fails # SKIP the A1 window could not be placed (above)"
  fi
fi
numbers_run
done_testing
