#!/usr/bin/env bash
# The server as a whole under a crowd, in a private network namespace:
#  - 3000 peers that each send a valid A3 (then A4) hello for 64 KiB messages, start, and then never
#    read: beyond --max-clients they get the "busy" status; the server's RSS stays within its
#    --mem-budget (plus a margin for threads and the allocator); a well-behaved --verify
#    client started before them is served every second throughout; after they leave, RSS
#    returns to within 20% of idle;
#  - pthread_create failing (EAGAIN, a low RLIMIT_NPROC as a non-root user) refuses those
#    connections as busy and the server keeps serving.
# lane: beside (its network namespace is its own (unshare -n), its files are in a temporary directory); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
in_private_netns "$@"
scratch_dir
ulimit -n 16384 || skip_all "cannot raise the open-file limit to 16384"
QUICK=${CB_QUICK:-0}
CROWD=3000; [ "$QUICK" = 1 ] && CROWD=600
CROWD_A4=${CB_CROWD_A4:-$CROWD}
BUDGET_MB=256
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# crowd IMPL COUNT: COUNT never-reading peers against the IMPL server, a good client beside them.
crowd() {
  local impl=$1 CROWD=$2 idle good crowd peak maxthr r t grc c okc busyc bound res lines zero back sres logs
  start_server "$impl" -q --mem-budget "${BUDGET_MB}M" || { ok 1 "$impl server starts"; done_testing; exit 1; }
  like "$(sed -n 1p "$SRV_OUT")" "max_clients=256 mem_budget=$((BUDGET_MB << 20))" "$impl: the first line states max_clients and mem_budget"
  # Idle: after one short connection, so the allocator and the first thread are set up.
  "$BIN/${impl}_client" -H 127.0.0.1 -p "$SRV_PORT" -d 0.3 >/dev/null 2>&1
  sleep 1.2
  idle=$(rss_kb "$SRV_PID")
  # The good client outlasts the crowd however long the crowd takes (on a loaded machine it took
  # over 10 s, the good client's window ended first and a crowd peer took its slot): it is
  # stopped with SIGTERM once the crowd has left, and then prints its result (exit 130).
  "$BIN/${impl}_client" -H 127.0.0.1 -p "$SRV_PORT" -s 64K -d 600 -i 1 --verify >"$TMP/good.out" 2>&1 &
  good=$!
  sleep 0.5
  python3 "$ROOT/tests/tools/crowd.py" 127.0.0.1 "$SRV_PORT" "$CROWD" 5 >"$TMP/crowd.out" 2>&1 &
  crowd=$!
  peak=0 maxthr=0
  while kill -0 "$crowd" 2>/dev/null; do
    r=$(rss_kb "$SRV_PID"); t=$(threads "$SRV_PID")
    [ "${r:-0}" -gt "$peak" ] && peak=$r
    [ "${t:-0}" -gt "$maxthr" ] && maxthr=$t
    sleep 0.2
  done
  wait "$crowd"
  kill -TERM "$good"; wait "$good"; grc=$?
  c=$(cat "$TMP/crowd.out")
  diag "$c; server peak RSS ${peak} kB, ${maxthr} threads; idle ${idle} kB"
  okc=$(sed -n 's/.*ok=\([0-9]*\).*/\1/p' <<<"$c") busyc=$(sed -n 's/.*busy=\([0-9]*\).*/\1/p' <<<"$c")
  is "$((okc + busyc))" "$CROWD" "$impl: every one of $CROWD never-reading peers got a reply: ok or busy ($c)"
  ok "$([ "$okc" -le 255 ]; echo $?)" "$impl: at most 255 of them were served (256 = --max-clients, one is the good client): $okc"
  ok "$([ "$busyc" -ge $((CROWD - 256)) ]; echo $?)" "$impl: the rest were told busy: $busyc"
  ok "$([ "$maxthr" -le 258 ]; echo $?)" "$impl: the server never ran more than 256 connection threads ($maxthr threads in all)"
  bound=$(( idle + BUDGET_MB * 1024 + 64 * 1024 ))
  ok "$([ "$peak" -le "$bound" ]; echo $?)" "$impl: RSS stayed within the budget: peak ${peak} kB <= idle + ${BUDGET_MB} MiB + 64 MiB (${bound} kB)"
  res=$(grep '^result' "$TMP/good.out")
  is "$grc $(field verify_errors "$res") $(field errors "$res")" "130 0 0" \
    "$impl: the well-behaved client, started before the crowd and stopped after it: exit 130 (SIGTERM), verify_errors=0, errors=0"
  lines=$(grep -c 'Gbps' "$TMP/good.out")
  zero=$(grep -E 'Gbps' "$TMP/good.out" | awk '$(NF-3) + 0 <= 0' | wc -l)
  ok "$([ "$lines" -ge 5 ] && [ "$zero" = 0 ]; echo $?)" "$impl: ...and received data in every one of its $lines seconds"
  # After the crowd: the connections end as their peers leave, memory goes back.
  back=""
  for _ in $(seq 60); do
    r=$(rss_kb "$SRV_PID")
    if [ "$(threads "$SRV_PID")" = 1 ] && [ "$r" -le $(( idle * 12 / 10 )) ]; then back=$r; break; fi
    sleep 0.25
  done
  ok "$([ -n "$back" ]; echo $?)" "$impl: RSS back within 20% of idle once the crowd left: ${back:-$(rss_kb "$SRV_PID")} kB (idle $idle kB)"
  kill -TERM "$SRV_PID"; wait "$SRV_PID"
  sres=$(grep '^result' "$SRV_OUT")
  ok "$([ "$(field busy "$sres")" -ge "$busyc" ]; echo $?)" "$impl: the result line counts them (busy=$(field busy "$sres"))"
  ok "$([ "$(field mem_peak "$sres")" -le $((BUDGET_MB << 20)) ]; echo $?)" "$impl: mem_peak $(field mem_peak "$sres") <= mem_budget"
  logs=$(grep -c "^${impl}_server: busy:" "$SRV_ERR")
  ok "$([ "$logs" -ge 1 ] && [ "$logs" -le 15 ]; echo $?)" "$impl: busy refusals logged at most once a second ($logs lines for $busyc)"
  rm -f "$SRV_OUT" "$SRV_ERR"
}
crowd A3 "$CROWD"
# A4: a ring and a pool per connection, the same budget and the same promises.
crowd A4 "$CROWD_A4"

# ---- pthread_create failing ------------------------------------------------------------------
if id nobody >/dev/null 2>&1 && su nobody -s /bin/sh -c "test -x '$BIN/A2_server'" 2>/dev/null; then
  chmod 755 "$TMP"
  # RLIMIT_NPROC counts the user's threads: the server (1 thread) can start a few more, not 30.
  su nobody -s /bin/bash -c "ulimit -u 12; exec '$BIN/A2_server' -p 0" >"$TMP/n.out" 2>"$TMP/n.err" &
  npid=$!
  for _ in $(seq 100); do grep -q '^listening' "$TMP/n.out" && break; sleep 0.05; done
  nport=$(sed -n 's/^listening .*port=\([0-9]*\).*/\1/p' "$TMP/n.out")
  out=$(timeout 30 "$BIN/A2_client" -H 127.0.0.1 -p "$nport" -t 30 -d 0.5 2>&1); rc=$?
  is "$rc" 1 "30 connections to a server that can start only a few threads: the client exits 1"
  like "$out" "server busy .*\\([0-9]+ of 30 connections failed\\)" "...those it could not serve were told busy"
  like "$(cat "$TMP/n.err")" "busy: .*pthread_create: no more threads \\(EAGAIN\\)" "...the server said why"
  res=$(timeout 30 "$BIN/A2_client" -H 127.0.0.1 -p "$nport" -t 2 -d 0.3 --verify 2>&1); rc=$?
  is "$rc $(field verify_errors "$(grep '^result' <<<"$res")")" "0 0" "...and it still serves the next client"
  kill -TERM "$npid"; wait "$npid"
else
  ok 0 "pthread_create EAGAIN: no user nobody to lower RLIMIT_NPROC for # SKIP"
fi
done_testing
