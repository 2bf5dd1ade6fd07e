#!/usr/bin/env bash
# Faults, in a private network namespace:
#  - clients SIGKILLed mid-stream, KILLS per technique (100; CB_QUICK=1: 10):
#    each server thread ends, no descriptor is leaked (/proc/PID/fd), RSS
#    stays bounded, the server still serves a verifying client afterwards
#    (A3, A4: every zero-copy completion still arrives, zc_missing=0);
#  - the server SIGKILLed mid-stream: every client thread notices within ~2 s,
#    the client prints its partial result line and exits 1 naming the failure;
#  - SIGINT/SIGTERM while the connections are being set up: exit 130, errors=0;
#  - nothing listening, port already in use, a host name that does not
#    resolve: exit 1 with one clear line, no hang;
#  - A3 with net.core.optmem_max lowered in the namespace (it is per-netns on
#    Linux >= 6.9): ENOBUFS happens, is counted, and the data still verifies.
#    (A4's notifications are not option memory; its ENOMEM path is tested in
#    tests/t_truth.sh, under RLIMIT_MEMLOCK.)
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
in_private_netns "$@"

QUICK=${CB_QUICK:-0}
if [ "$QUICK" = 1 ]; then ROUNDS=1; else ROUNDS=10; fi
PER_ROUND=10                      # clients killed together in one round
KILLS=$((ROUNDS * PER_ROUND))
# Allowed RSS growth over the kills: 2 MiB, so a leak of 64 KiB per connection (6.4 MB over
# 100 kills: one message buffer) fails; measured growth here is 0 kB for every server.
RSS_SLACK_KB=2048
scratch_dir   # TMP, removed with every background job at exit

# wait_until SECONDS COMMAND...: poll every 50 ms until COMMAND succeeds.
wait_until() {
  local deadline=$(( $(date +%s%N) + ${1%.*} * 1000000000 )); shift
  until "$@"; do
    [ "$(date +%s%N)" -ge "$deadline" ] && return 1
    sleep 0.05
  done
}
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
fds_at_most() { [ "$(fds "$1")" -le "$2" ]; }   # re-read on every poll, not once
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
count_ge() { [ "$(grep -cE -- "$2" "$3")" -ge "$1" ]; }
rss_at_most() { [ "$(rss_kb "$1")" -le "$2" ]; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }
stop_server() { kill -TERM "$SRV_PID" 2>/dev/null; wait "$SRV_PID"; }

# ---- 1. clients SIGKILLed mid-stream ---------------------------------------
for impl in A1 A2 A3 A4; do
  start_server "$impl" || { ok 1 "$impl: server starts"; continue; }
  base_fds=$(fds "$SRV_PID")
  connected=0 ended=0 rss_warm=0 leak=0 stuck=0
  for r in $(seq 0 "$ROUNDS"); do      # round 0 warms up (allocator arenas), is not counted
    pids=()
    for _ in $(seq 1 "$PER_ROUND"); do
      "$BIN/${impl}_client" -H 127.0.0.1 -p "$SRV_PORT" -s 64K -d 60 --verify >/dev/null 2>&1 &
      pids+=($!)
    done
    connected=$((connected + PER_ROUND))
    # Mid-stream: every connection accepted and data flowing.
    wait_until 20 count_ge "$connected" 'connected:' "$SRV_ERR" || stuck=$((stuck + 1))
    sleep 0.2
    kill -9 "${pids[@]}" 2>/dev/null
    wait "${pids[@]}" 2>/dev/null
    # Each server thread notices and ends ("ended:" or "done:" logged).
    ended=$connected
    wait_until 20 count_ge "$ended" 'ended:|done:' "$SRV_ERR" || stuck=$((stuck + 1))
    # The main loop joins them and closes their descriptors.
    wait_until 10 fds_at_most "$SRV_PID" "$base_fds" || leak=$((leak + 1))
    # After the warm-up: TSan's runtime starts a thread of its own by then.
    # Read after the server's next malloc_trim (at most one a second), as at the end.
    [ "$r" = 0 ] && sleep 1.2 && rss_warm=$(rss_kb "$SRV_PID") base_threads=$(threads "$SRV_PID")
  done
  # Freed memory goes back to the kernel at most once a second (the server's malloc_trim limit).
  wait_until 3 rss_at_most "$SRV_PID" $((rss_warm + RSS_SLACK_KB))
  rss_end=$(rss_kb "$SRV_PID")
  is "$stuck" 0 "$impl: $KILLS (+$PER_ROUND warm-up) clients reached mid-stream and each server thread ended after its SIGKILL"
  is "$leak" 0 "$impl: descriptor count back to $base_fds after every round of kills"
  is "$(fds "$SRV_PID")" "$base_fds" "$impl: no fd growth after $KILLS kills"
  is "$(threads "$SRV_PID")" "$base_threads" "$impl: every connection thread joined"
  if [ "$BIN" = "$ROOT" ]; then
    ok "$([ "$rss_end" -le $((rss_warm + RSS_SLACK_KB)) ]; echo $?)" \
      "$impl: RSS bounded over $KILLS kills (${rss_warm} kB after warm-up -> ${rss_end} kB)"
  else   # ASan keeps freed memory in quarantine: RSS says nothing about leaks there
    ok 0 "$impl: RSS bound not checked under a sanitizer (${rss_warm} -> ${rss_end} kB) # SKIP"
  fi
  diag "$impl kills: fds=$base_fds rss_warm_kb=$rss_warm rss_end_kb=$rss_end"
  out=$(timeout 30 "$BIN/${impl}_client" -H 127.0.0.1 -p "$SRV_PORT" -s 64K -d 0.5 --verify 2>&1); rc=$?
  res=$(printf '%s\n' "$out" | grep '^result' | tail -n 1)
  is "$rc" 0 "$impl: the server still serves a new client after the kills"
  is "$(field verify_errors "$res")" 0 "$impl: ...and its data verifies"
  ok "$([ "$(field bytes "$res")" -gt 0 ] 2>/dev/null; echo $?)" "$impl: ...and it received data"
  stop_server
  sres=$(grep '^result' "$SRV_OUT" | tail -n 1)
  is "$(field clients "$sres")" "$((KILLS + PER_ROUND + 1))" "$impl: server result counts every client"
  diag "$impl server: $sres"
  if [[ "$impl" == A[34] ]]; then
    is "$(field zc_missing "$sres")" 0 "$impl: every zero-copy completion arrived despite the kills (zc_missing=0)"
    is "$(field zc_bogus "$sres")" 0 "$impl: no bogus completions"
  fi
  rm -f "$SRV_OUT" "$SRV_ERR"
done

# ---- 2. the server SIGKILLed mid-stream ------------------------------------
for impl in A1 A3 A4; do
  start_server "$impl" || { ok 1 "$impl: server starts"; continue; }
  # timeout: a client that never notices is killed after 10 s, and says so by exit 124.
  timeout 10 "$BIN/${impl}_client" -H 127.0.0.1 -p "$SRV_PORT" -t 4 -s 64K -d 60 --verify >"$TMP/c.out" 2>"$TMP/c.err" &
  cpid=$!
  wait_until 20 count_ge 4 'connected:' "$SRV_ERR"
  sleep 0.3
  t0=$(date +%s%N)
  kill -9 "$SRV_PID"
  wait "$SRV_PID" 2>/dev/null
  wait "$cpid"; rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  ok "$([ "$rc" != 124 ]; echo $?)" "$impl: client ends by itself after the server is SIGKILLed"
  ok "$([ "$ms" -le 2500 ]; echo $?)" "$impl: ...within ~2 s (${ms} ms)"
  is "$rc" 1 "$impl: ...exit 1"
  res=$(grep '^result' "$TMP/c.out" | tail -n 1)
  like "$res" "side=client" "$impl: ...prints its partial result line"
  is "$(field errors "$res")" 4 "$impl: ...every one of the 4 connections noticed (errors=4)"
  ok "$([ "$(field total_bytes "$res")" -gt 0 ] 2>/dev/null; echo $?)" "$impl: ...and counts what it received before"
  like "$(cat "$TMP/c.err")" "server closed the connection|Connection reset" "$impl: ...with a message naming the failure"
  diag "$impl client stderr: $(tr '\n' '|' <"$TMP/c.err")"
  rm -f "$SRV_OUT" "$SRV_ERR"
done

# ---- 2b. Ctrl-C while setting up is a stop, not a failure -------------------------
# The server is SIGSTOPped, so the kernel completes each connect (the listen
# backlog) and takes the hello, but no reply comes: every connection is set up
# half-way when the signal arrives. A user who stops a client there (or a script
# that stops its clients, as the soak does) must see exit 130 and errors=0, not
# "N of N connections failed".
established() { [ "$(ss -Htn state established "( dport = :$SRV_PORT )" | wc -l)" -ge "$1" ]; }
for sig in INT TERM; do
  start_server A2 || { ok 1 "A2 server starts"; continue; }
  kill -STOP "$SRV_PID"
  # --foreground: timeout passes the signal on to the client alone. Without it, it sends the
  # group a SIGCONT just after, which can land while LeakSanitizer (the ASan re-run) has the
  # exiting client SIGSTOPped for its leak check: that stop is lost and the check waits for
  # ever (3 times in ~420 signals under load; t_sanitize then timed out at 300 s).
  timeout --foreground 20 "$BIN/A2_client" -H 127.0.0.1 -p "$SRV_PORT" -t 4 -d 5 >"$TMP/c.out" 2>"$TMP/c.err" &
  cpid=$!
  wait_until 10 established 4 || diag "the 4 connections were not seen established"
  kill "-$sig" "$cpid"
  wait "$cpid"; rc=$?
  res=$(grep '^result' "$TMP/c.out" | tail -n 1)
  is "$rc" 130 "SIG$sig while waiting for the hello replies: exit 130"
  is "$(field errors "$res")" 0 "SIG$sig while setting up: errors=0 (stopped, not failed)"
  is "$(field duration_s "$res")" 0.000 "SIG$sig while setting up: the window never opened"
  is "$(grep -c 'failed\|interrupted' "$TMP/c.err")" 0 "SIG$sig while setting up: no failure on stderr ($(tr '\n' '|' <"$TMP/c.err"))"
  kill -CONT "$SRV_PID"
  stop_server; rm -f "$SRV_OUT" "$SRV_ERR"
done

# ---- 3. nothing listening / port in use / no such host -----------------------
one_line_fail() { # DESC REGEX CMD...: exit 1, exactly one stderr line matching REGEX, < 5 s
  local desc=$1 re=$2; shift 2
  local t0 ms err rc
  t0=$(date +%s%N)
  err=$(timeout 20 "$@" 2>&1 >/dev/null); rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  is "$rc" 1 "$desc: exit 1"
  is "$(printf '%s' "$err" | grep -c '')" 1 "$desc: exactly one stderr line"
  like "$err" "$re" "$desc: the line says why"
  ok "$([ "$ms" -lt 5000 ]; echo $?)" "$desc: no hang (${ms} ms)"
}
for impl in A1 A2 A3 A4; do
  one_line_fail "$impl client, nothing listening" "connect 127\\.0\\.0\\.1 port 9: Connection refused" \
    "$BIN/${impl}_client" -H 127.0.0.1 -p 9 -d 1
  one_line_fail "$impl client, unresolvable host" "cannot resolve host 'no-such-host\\.invalid'" \
    "$BIN/${impl}_client" -H no-such-host.invalid -d 1
done
err=$(timeout 20 "$BIN/A2_client" -H 127.0.0.1 -p 9 -t 8 -d 1 2>&1 >/dev/null); rc=$?
is "$rc" 1 "8 threads, nothing listening: exit 1"
is "$(printf '%s' "$err" | grep -c '')" 1 "8 threads, nothing listening: one stderr line, as the README promises"
like "$err" "Connection refused \(8 of 8 connections failed\)" "8 threads, nothing listening: the cause and how many it hit"
res=$(timeout 20 "$BIN/A2_client" -H 127.0.0.1 -p 9 -t 2 -d 1 2>/dev/null | grep '^result')
is "$(field duration_s "$res")" 0.000 "failed set-up: duration_s=0.000 (the window never opened)"
for f in gbps msgs_per_s cpu_pct lat_p50_us lat_p99_us lat_max_us; do
  like "$res" " $f=( |$)" "failed set-up: $f is empty, not a rate over an empty window"
done
# -t beyond the open-file limit: one line at start saying so, not EMFILE half way through.
err=$(ulimit -n 64; timeout 20 "$BIN/A2_client" -H 127.0.0.1 -p 9 -t 60 -d 1 2>&1 >/dev/null); rc=$?
is "$rc" 1 "-t 60 under ulimit -n 64: exit 1"
like "$err" "^[^ ]+: -t 60 needs about 76 open files, but this process may open only 64 \(ulimit -n" "...one line naming -t and the limit"
err=$(ulimit -n 64; timeout --foreground 5 "$BIN/A2_server" -p 0 -n 1 2>&1 >/dev/null & sleep 0.5; kill %1 2>/dev/null)  # --foreground: see 2b
like "$err" "open-file limit is 64 .*at most about 48 clients" "a server under ulimit -n 64 says how many clients it can hold"
start_server A1 -q || ok 1 "A1 server starts"
for impl in A1 A2 A3 A4; do
  one_line_fail "$impl server, port in use" "bind 0\\.0\\.0\\.0 port $SRV_PORT: Address already in use" \
    "$BIN/${impl}_server" -p "$SRV_PORT"
done
one_line_fail "server, bind address that does not resolve" "cannot resolve bind address 'no-such-host\\.invalid'" \
  "$BIN/A1_server" -p 0 -b no-such-host.invalid
stop_server; rm -f "$SRV_OUT" "$SRV_ERR"

# ---- 4. A3 under ENOBUFS pressure ---------------------------------------------
orig=$(sysctl -n net.core.optmem_max)
if sysctl -qw net.core.optmem_max=1024 && [ "$(sysctl -n net.core.optmem_max)" = 1024 ]; then
  start_server A3 || ok 1 "A3 server starts"
  dur=2; [ "$QUICK" = 1 ] && dur=1
  out=$(timeout 60 "$BIN/A3_client" -H 127.0.0.1 -p "$SRV_PORT" -t 2 -s 64K -d "$dur" --verify 2>&1); rc=$?
  res=$(printf '%s\n' "$out" | grep '^result' | tail -n 1)
  stop_server
  sres=$(grep '^result' "$SRV_OUT" | tail -n 1)
  sysctl -qw net.core.optmem_max="$orig"
  diag "optmem_max=1024: $sres"
  is "$rc" 0 "A3 with optmem_max=1024: client exits 0"
  is "$(field verify_errors "$res")" 0 "A3 with optmem_max=1024: data verifies"
  is "$(field errors "$res")" 0 "A3 with optmem_max=1024: no client errors"
  is "$(field errors "$sres")" 0 "A3 with optmem_max=1024: no server errors (it kept going)"
  ok "$([ "$(field zc_enobufs "$sres")" -gt 0 ] 2>/dev/null; echo $?)" \
    "A3 with optmem_max=1024: ENOBUFS provoked and counted (zc_enobufs=$(field zc_enobufs "$sres"))"
  ok "$([ "$(field zc_enobufs_optmem "$sres")" -gt 0 ] && [ "$(field zc_enobufs_memlock "$sres")" = 0 ]; echo $?)" \
    "A3 with optmem_max=1024, as root: the cause is told apart: option memory (zc_enobufs_optmem=$(field zc_enobufs_optmem "$sres")), not RLIMIT_MEMLOCK"
  is "$(field zc_missing "$sres")" 0 "A3 with optmem_max=1024: zc_missing=0"
  is "$(field zc_completions "$sres")" "$(field zc_sends "$sres")" "A3 with optmem_max=1024: a completion for every send"
  is "$(field bytes "$sres")" "$(field total_bytes "$res")" "A3 with optmem_max=1024: server bytes == client total_bytes"
  rm -f "$SRV_OUT" "$SRV_ERR"
else
  ok 0 "net.core.optmem_max is not writable per namespace here # SKIP"
fi
done_testing
