#!/usr/bin/env bash
# Measurement truth, in a private network namespace:
#  1. no buffer the kernel still holds is freed or rewritten: a client stopped
#     (SIGSTOP), the server stopped (SIGTERM) or timing the client out, the
#     client resumed (SIGCONT): every byte verifies, for all four techniques,
#     and A3 and A4 park a pool whose completions have not come back (A4's is
#     freed once they do);
#  2. nothing sent before the window counts in it (the start message): 128
#     connections, 1 s, no message stamped before t0 counted;
#  3. one stamping rule: the frame stamps, no technique reads the clock;
#  4. Ctrl-C ends the client promptly (its own deadline 0.8 s; the gate, PROMPT_MS in lib.sh, 5 s at any load) in every phase (connect, hello,
#     window, drain), exit 130, a result line with no rate over an empty window;
#     against A4, whose last batch is sent after the window, bytes balance;
#     a hello unanswered gives up after 10 s without any answer, not after 10 s
#     on one connection while the server answers others;
#  5. a message cut short counts once in verify_errors on every path, and the
#     server's bytes (everything the kernel accepted) equal the client's
#     total_bytes after clean and unclean ends;
#  6. one connection's trouble stays in it: rr idle timeout, a refused size, a
#     failed allocation, SO_ZEROCOPY refused, non-root RLIMIT_MEMLOCK (A3's
#     ENOBUFS, A4's ENOMEM); io_uring refused (a seccomp filter): A4 says so in
#     one line and refuses every client with status 11, alive.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
in_private_netns "$@"
scratch_dir
PEER=$ROOT/tests/bin/cb_peer
if [ ! -x "$PEER" ] || [ "$PEER" -ot "$ROOT/tests/tools/cb_peer.c" ]; then
  make -s -C "$ROOT" tests/bin/cb_peer >/dev/null || { ok 1 "builds tests/bin/cb_peer"; done_testing; exit 1; }
fi
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
wait_for() { # wait_for SECONDS COMMAND...: poll every 50 ms
  local end=$(( $(date +%s%N) + ${1%.*} * 1000000000 )); shift
  until "$@"; do [ "$(date +%s%N)" -ge "$end" ] && return 1; sleep 0.05; done
}
has_line() { [ "$(grep -cE -- "$1" "$2")" -ge "${3:-1}" ]; }

# ---- 1. stop, stall, resume: no byte changes under the kernel's feet ------------------
for impl in A1 A2 A3 A4; do
  start_server "$impl" || { ok 1 "$impl: server starts"; continue; }
  "$BIN/${impl}_client" -H 127.0.0.1 -p "$SRV_PORT" -d 20 -s 64K --verify >"$TMP/c.out" 2>"$TMP/c.err" &
  cpid=$!
  wait_for 10 has_line 'connected:' "$SRV_ERR"
  sleep 0.5
  kill -STOP "$cpid"
  sleep 0.5                     # the socket buffers fill behind the stopped reader
  kill -TERM "$SRV_PID"
  sleep 0.2                     # (the message in progress has until 2 s after the TERM: t_timing)
  kill -CONT "$cpid"
  wait "$SRV_PID"; src=$?
  wait "$cpid"
  res=$(grep '^result' "$TMP/c.out"); sres=$(grep '^result' "$SRV_OUT")
  is "$src" 0 "$impl: SIGSTOP client, SIGTERM server, SIGCONT client: the server exits 0"
  is "$(field verify_errors "$res")" 0 "$impl: ...every byte the client read verifies (verify_errors=0)"
  is "$(field bytes "$sres")" "$(field total_bytes "$res")" "$impl: ...server bytes == client total_bytes"
  ok "$([ "$(field total_bytes "$res")" -gt 0 ]; echo $?)" "$impl: ...and data flowed ($(field total_bytes "$res") bytes)"
  rm -f "$SRV_OUT" "$SRV_ERR"
done
# The stalled-reader timeout: the server drops a stopped client after --idle-timeout; A3 and A4
# must not free the 4 MiB or so still queued behind it. The client, resumed, reads it all intact.
for impl in A1 A2 A3 A4; do
  start_server "$impl" --idle-timeout 1 || { ok 1 "$impl: server starts"; continue; }
  "$BIN/${impl}_client" -H 127.0.0.1 -p "$SRV_PORT" -d 20 -s 64K --verify >"$TMP/c.out" 2>"$TMP/c.err" &
  cpid=$!
  wait_for 10 has_line 'connected:' "$SRV_ERR"
  sleep 0.3
  kill -STOP "$cpid"
  wait_for 20 has_line 'ended:|done:' "$SRV_ERR"
  ended=$(grep -E 'ended:|done:' "$SRV_ERR")
  [[ "$impl" == A[34] ]] && wait_for 10 has_line 'parking' "$SRV_ERR"
  kill -CONT "$cpid"
  wait "$cpid"
  # The client has read everything: the kernel gives the parked pages back, and the server's
  # tick (about once a second) frees the pool.
  [ "$impl" = A4 ] && sleep 1.5
  kill -TERM "$SRV_PID"; wait "$SRV_PID"
  res=$(grep '^result' "$TMP/c.out"); sres=$(grep '^result' "$SRV_OUT")
  like "$ended" "ended: .*(Resource temporarily unavailable|timed out)" "$impl: a reader stopped for 1 s is dropped (--idle-timeout 1)"
  # The send in progress when the timeout hit was cut: one message, counted once.
  ok "$([ "$(field verify_errors "$res")" -le 1 ]; echo $?)" \
    "$impl: ...the resumed client finds no corrupted byte, at most the one cut message (verify_errors=$(field verify_errors "$res"))"
  is "$(field bytes "$sres")" "$(field total_bytes "$res")" "$impl: ...server bytes (a cut message's part too) == client total_bytes"
  if [[ "$impl" == A[34] ]]; then
    is "$(field zc_parked "$sres")" 1 "$impl: ...its pool was parked, not freed, while the kernel held it (zc_parked=1)"
    like "$(cat "$SRV_ERR")" "parking its [0-9]+-byte pool" "$impl: ...and the server said so"
  fi
  if [ "$impl" = A4 ]; then
    is "$(field zc_parked_left "$sres")" 0 "A4: ...and freed once its notifications came, the client having read it all (zc_parked_left=0)"
  fi
  rm -f "$SRV_OUT" "$SRV_ERR"
done

# ---- 2. nothing sent before the window counts in it --------------------------------------
ulimit -n 4096 2>/dev/null || true
for impl in A1 A3 A4; do
  start_server "$impl" -q -n 128 || { ok 1 "$impl: server starts"; continue; }
  res=$(timeout 60 "$BIN/${impl}_client" -H 127.0.0.1 -p "$SRV_PORT" -t 128 -s 4K -d 1 2>/dev/null | grep '^result')
  wait "$SRV_PID"
  is "$(field early_messages "$res")" 0 "$impl x128, 1 s: no message stamped before the window opened is counted in it"
  ok "$([ "$(field messages "$res")" -gt 0 ]; echo $?)" "$impl x128: ...and messages were counted ($(field messages "$res"))"
  rm -f "$SRV_OUT" "$SRV_ERR"
done
# A server that sends before the start is caught by that count: cb_peer's fake server, told
# to stream straight after the reply (protocol 1's way), is run against a client.
fake() { # fake ARGS...: starts the fake server, sets FPORT/FPID
  "$PEER" fakeserver "$@" >"$TMP/fake.out" 2>&1 &
  FPID=$!
  wait_for 5 has_line '^listening' "$TMP/fake.out"
  FPORT=$(sed -n 's/^listening port=//p' "$TMP/fake.out")
}
fake --early 200
res=$(timeout 30 "$BIN/A1_client" -H 127.0.0.1 -p "$FPORT" -s 4K -d 0.5 2>/dev/null | grep '^result')
wait "$FPID"
ok "$([ "$(field early_messages "$res")" -gt 0 ] 2>/dev/null; echo $?)" \
  "a server that sends 200 messages before the start: the client counts them as early ($(field early_messages "$res"))"

# ---- 3. one stamping rule -------------------------------------------------------------------
# The frame stamps each message with the time it wants to send it, before the technique's
# send (and so before any wait for socket buffer space or a zero-copy pool slot).
is "$(grep -c 'cb_msg_prepare(.*, want_ns)' "$ROOT"/A[1-4]_server.c | awk -F: '{ s += $2 } END { print s }') $(grep -c 'cb_msg_stamp' "$ROOT"/A[1-4]_server.c | awk -F: '{ s += $2 } END { print s }')" "4 0" \
  "every technique stamps its message with the frame's want_ns, none stamps its own time"
like "$(grep -A3 'static bool send_one' "$ROOT/src/server.c")" 'tech->send\(c, state, seq, cb_now_ns\(\)' \
  "the frame passes the time it wants to send to every technique's send"

# ---- 4. Ctrl-C in every phase -------------------------------------------------------------
# ok_prompt: the check after int_after that the client exited within PROMPT_MS of the signal
ok_prompt() { ok "$([ "$MS" -lt "$PROMPT_MS" ]; echo $?)" "...promptly (${MS} ms; 0.8 s is its own deadline, ${PROMPT_MS} ms the gate at any load)"; }
int_after() { # int_after SECONDS CMD...: run CMD, SIGINT it after SECONDS; sets RC, MS (after the signal), OUT
  local secs=$1 p t
  shift
  # Job control on, so the background job does not start with SIGINT ignored (as a
  # script's background jobs otherwise do): the client must see a real Ctrl-C.
  set -m
  "$@" >"$TMP/i.out" 2>"$TMP/i.err" &
  p=$!
  set +m
  sleep "$secs"
  t=$(date +%s%N)
  kill -INT "$p"
  wait "$p"; RC=$?
  MS=$(ms_since "$t")
  OUT=$(grep '^result' "$TMP/i.out")
}
# connect: a listener whose accept queue is full drops our SYN, so connect() would wait ~2 min.
python3 -c '
import socket, time, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
print(s.getsockname()[1], flush=True)
fill = [socket.socket() for _ in range(3)]
for f in fill:
    f.setblocking(False)
    try: f.connect(s.getsockname())
    except BlockingIOError: pass
time.sleep(60)' >"$TMP/full.port" &
fullpid=$!
wait_for 5 test -s "$TMP/full.port"
fport=$(cat "$TMP/full.port")
int_after 0.5 "$BIN/A1_client" -H 127.0.0.1 -p "$fport" -d 5
is "$RC" 130 "Ctrl-C while connect() waits: exit 130"
ok_prompt
like "$OUT" "duration_s=0.000 .* gbps= msgs_per_s= .* cpu_pct=$" "...a result line with no rate or CPU share over the empty window"
t=$(date +%s%N)
err=$(timeout 20 "$BIN/A1_client" -H 127.0.0.1 -p "$fport" -d 5 --connect-timeout 0.5 2>&1 >/dev/null); rc=$?
is "$rc" 1 "--connect-timeout 0.5 to a full listener: exit 1"
like "$err" "connect 127.0.0.1 port $fport: no answer within 0.5 s \(--connect-timeout\)" "...one clear line ($(ms_since "$t") ms)"
kill "$fullpid" 2>/dev/null; wait "$fullpid" 2>/dev/null
# hello: a peer that accepts and never answers.
fake --silent
int_after 0.3 "$BIN/A1_client" -H 127.0.0.1 -p "$FPORT" -d 5
kill "$FPID" 2>/dev/null; wait "$FPID" 2>/dev/null
is "$RC" 130 "Ctrl-C while waiting for the hello reply: exit 130"
ok_prompt
like "$OUT" "duration_s=0.000 .* gbps= msgs_per_s= .* cpu_pct=$" "...no rate over the empty window"
# hello, without a Ctrl-C: the client gives up when the server has answered none of its
# hellos for 10 s, not when one answer is slower than 10 s. Both scenes at once (~12 s):
# a server that never answers, and one that answers 2 connections 6 s apart (the second
# at ~12 s: a per-connection 10 s limit failed it; A3 setting up 256 pools takes that long
# beside other work).
"$PEER" fakeserver --silent >"$TMP/silent.out" 2>&1 &
spid=$!
"$PEER" fakeserver --slow-answers 2 --gap 6 >"$TMP/slow.out" 2>&1 &
slpid=$!
wait_for 5 has_line '^listening' "$TMP/silent.out"
wait_for 5 has_line '^listening' "$TMP/slow.out"
t=$(date +%s%N)
timeout 30 "$BIN/A1_client" -H 127.0.0.1 -p "$(sed -n 's/^listening port=//p' "$TMP/silent.out")" -d 1 \
  >"$TMP/silent.c.out" 2>"$TMP/silent.c.err" &
sc=$!
timeout 30 "$BIN/A1_client" -H 127.0.0.1 -p "$(sed -n 's/^listening port=//p' "$TMP/slow.out")" -t 2 -d 1 \
  >"$TMP/slow.c.out" 2>"$TMP/slow.c.err" &
slc=$!
wait "$sc"; src=$?
ms=$(ms_since "$t")
wait "$slc"
kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; wait "$slpid" 2>/dev/null
is "$src" 1 "a server that never answers the hello: exit 1"
like "$(cat "$TMP/silent.c.err")" "recv hello reply: timed out" "...naming the hello ($(tr '\n' '|' <"$TMP/silent.c.err"))"
ok "$([ "$ms" -ge 9500 ] && [ "$ms" -lt 15000 ]; echo $?)" "...after 10 s without an answer (${ms} ms)"
like "$(cat "$TMP/slow.out")" "answered 2 at 1[12]\." "a server answering 6 s apart answered the second hello after 10 s"
res=$(grep '^result' "$TMP/slow.c.out")
is "$(field errors "$res")" 0 "...and the client waited for it, as answers kept coming ($(tr '\n' '|' <"$TMP/slow.c.err"))"
is "$(field duration_s "$res")" 1.000 "...then ran its 1 s window"
# window: a real server.
start_server A2 -q
int_after 0.5 "$BIN/A2_client" -H 127.0.0.1 -p "$SRV_PORT" -d 20 -t 2
is "$RC" 130 "Ctrl-C in the window: exit 130"
ok_prompt
ok "$(awk -v d="$(field duration_s "$OUT")" 'BEGIN { exit !(d > 0.2 && d < 5) }'; echo $?)" "...duration_s is the window until the signal ($(field duration_s "$OUT"))"
like "$OUT" " gbps=[0-9]+\.[0-9]+ .* cpu_pct=[0-9]" "...with its rates"
kill -TERM "$SRV_PID"; wait "$SRV_PID"
# ...against A4, which hands messages to the kernel a batch at a time: the batch queued when
# the client left goes after the window, and every byte the kernel took is counted once.
start_server A4 -q -n 2
int_after 0.5 "$BIN/A4_client" -H 127.0.0.1 -p "$SRV_PORT" -d 20 -t 2 -s 4099 --verify
wait "$SRV_PID"
sres=$(grep '^result' "$SRV_OUT")
is "$RC $(field verify_errors "$OUT")" "130 0" "A4, Ctrl-C in the window: exit 130, every byte verifies"
is "$(field bytes "$sres")" "$(field total_bytes "$OUT")" "A4, Ctrl-C in the window: server bytes (its last batch too) == client total_bytes"
is "$(field messages "$sres")" "$(( $(field bytes "$sres") / 4099 ))" "A4: the server counts whole messages from the bytes the kernel took"
rm -f "$SRV_OUT" "$SRV_ERR"
# drain: a server that keeps the connection open after the client's end of the window.
fake --no-eof
int_after 1.5 "$BIN/A1_client" -H 127.0.0.1 -p "$FPORT" -d 0.5 -s 4K
kill "$FPID" 2>/dev/null; wait "$FPID" 2>/dev/null
is "$RC" 130 "Ctrl-C while draining after the window: exit 130"
ok_prompt
like "$OUT" "duration_s=0\.5[0-9]* .* gbps=[0-9]" "...the window was whole, its rates stand"

# ---- 5. a cut message counts once, bytes balance ---------------------------------------------
fake --cut 5
res=$(timeout 30 "$BIN/A1_client" -H 127.0.0.1 -p "$FPORT" -s 4K -d 5 --verify 2>"$TMP/e" | grep '^result')
wait "$FPID"
is "$(field verify_errors "$res")" 1 "EOF inside the window in the middle of message 5: counted once in verify_errors"
like "$(cat "$TMP/e")" "middle of a message" "...and named"
is "$(field total_bytes "$res")" $((5 * 4096 + 2048)) "...total_bytes counts the half message too"
# rr stopped by Ctrl-C: the reply in flight is drained, nothing cut, bytes balance.
for impl in A2 A4; do
  start_server "$impl" -q -n 1
  int_after 0.6 "$BIN/${impl}_client" -H 127.0.0.1 -p "$SRV_PORT" -m rr -s 256K -d 20 --verify
  wait "$SRV_PID"
  sres=$(grep '^result' "$SRV_OUT")
  is "$RC" 130 "$impl rr, Ctrl-C: exit 130"
  is "$(field verify_errors "$OUT")" 0 "$impl rr, Ctrl-C: the reply in flight is read whole (verify_errors=0)"
  is "$(field bytes "$sres")" "$(field total_bytes "$OUT")" "$impl rr, Ctrl-C: server bytes == client total_bytes"
done

# ---- 6. one connection's trouble stays in it --------------------------------------------------
start_server A1 -n 1 --idle-timeout 1
t=$(date +%s%N)
"$PEER" client 127.0.0.1 "$SRV_PORT" --mode 1 --reply --hold 4 >/dev/null 2>&1 &
idle_peer=$!
wait_for 10 has_line 'ended:' "$SRV_ERR"
el=$(ms_since "$t")
like "$(cat "$SRV_ERR")" "ended: no request within the idle timeout" "rr: a peer that says hello and then asks nothing is dropped after --idle-timeout"
ok "$([ "$el" -lt 4000 ]; echo $?)" "...after about 1 s (${el} ms), and with -n 1 the server then exits"
wait_for 5 bash -c "! kill -0 $SRV_PID 2>/dev/null"; ok "$(kill -0 "$SRV_PID" 2>/dev/null; [ $? != 0 ]; echo $?)" "...(it did)"
wait "$SRV_PID" 2>/dev/null
wait "$idle_peer" 2>/dev/null
start_server A3 -q
r=$(timeout 20 "$PEER" client 127.0.0.1 "$SRV_PORT" --size 67108864 --reply 2>&1)
like "$r" "status=6 " "A3: a 64 MiB hello is refused with status 6 (past the per-connection pool cap), not 8 x 64 MiB allocated"
res=$(timeout 20 "$BIN/A3_client" -H 127.0.0.1 -p "$SRV_PORT" -s 32M -d 0.2 2>&1); rc=$?
is "$rc" 1 "A3 client with -s 32M: exit 1"
like "$res" "refused the hello: message size too large for this technique's per-connection buffers" "...saying why"
res=$(timeout 20 "$BIN/A3_client" -H 127.0.0.1 -p "$SRV_PORT" -s 16M -d 0.3 --verify 2>&1); rc=$?
is "$rc $(field verify_errors "$(grep '^result' <<<"$res")")" "0 0" "A3 -s 16M (2 slots fit the cap): served and verified"
kill -TERM "$SRV_PID"; wait "$SRV_PID"
start_server A4 -q
like "$(timeout 20 "$PEER" client 127.0.0.1 "$SRV_PORT" --size 67108864 --reply 2>&1)" "status=6 " "A4: a 64 MiB hello is refused with status 6, as A3's"
res=$(timeout 20 "$BIN/A4_client" -H 127.0.0.1 -p "$SRV_PORT" -s 16M -d 0.3 --verify 2>&1); rc=$?
is "$rc $(field verify_errors "$(grep '^result' <<<"$res")")" "0 0" "A4 -s 16M (2 slots: a chain of 2, not the default depth): served and verified"
kill -TERM "$SRV_PID"; wait "$SRV_PID"
# A failed allocation fails that connection only: under a 300 MB address-space limit an A1
# server cannot hold a 64 MiB message twice over for two clients, but serves a small one.
if [ "$BIN" = "$ROOT" ]; then   # (sanitizer builds reserve terabytes of address space)
  (ulimit -v 300000; exec "$BIN/A1_server" -p 0 >"$TMP/v.out" 2>"$TMP/v.err") &
  vpid=$!
  wait_for 5 has_line '^listening' "$TMP/v.out"
  vport=$(sed -n 's/^listening .*port=\([0-9]*\).*/\1/p' "$TMP/v.out")
  "$BIN/A1_client" -H 127.0.0.1 -p "$vport" -s 64M -t 3 -d 1 >"$TMP/v1.out" 2>"$TMP/v1.err"
  res=$(timeout 20 "$BIN/A1_client" -H 127.0.0.1 -p "$vport" -s 4K -d 0.3 --verify 2>&1); rc=$?
  like "$(cat "$TMP/v1.err")" "could not allocate the message buffers" "malloc failing for a 64 MiB message: the client is told (status 7)"
  is "$rc" 0 "...and the server, still up, serves the next client"
  ok "$(kill -0 "$vpid"; echo $?)" "...(it did not exit)"
  kill -TERM "$vpid"; wait "$vpid"
else
  ok 0 "malloc failure under ulimit -v: not with a sanitizer build # SKIP"
fi
# SO_ZEROCOPY refused on one accepted socket: the client gets a status, not a bare close.
if [ -x "$ROOT/tests/bin/fail_zerocopy.so" ] || make -s -C "$ROOT" tests/bin/fail_zerocopy.so >/dev/null 2>&1; then
  if [ "$BIN" = "$ROOT" ]; then
    CB_FAIL_ZEROCOPY_AFTER=1 LD_PRELOAD=$ROOT/tests/bin/fail_zerocopy.so start_server A3 -q
    res=$(timeout 20 "$BIN/A3_client" -H 127.0.0.1 -p "$SRV_PORT" -d 0.2 2>&1); rc=$?
    is "$rc" 1 "SO_ZEROCOPY refused on the accepted socket: the client exits 1"
    like "$res" "cannot use MSG_ZEROCOPY on this connection" "...told why (status 8)"
    kill -TERM "$SRV_PID"; wait "$SRV_PID"
  else
    ok 0 "SO_ZEROCOPY refusal via LD_PRELOAD: not with a sanitizer build # SKIP"
  fi
else
  ok 1 "builds tests/bin/fail_zerocopy.so"
fi
# io_uring refused, as a container's seccomp profile refuses it (a filter here: liburing makes
# the system call itself, so an LD_PRELOAD shim would never see it): the A4 server starts, says
# so in one line and in its listening line, refuses each client with status 11 and stays up.
if [ -x "$ROOT/tests/bin/no_uring" ] || make -s -C "$ROOT" tests/bin/no_uring >/dev/null 2>&1; then
  for e in EPERM ENOSYS; do
    "$ROOT/tests/bin/no_uring" -e "$e" "$BIN/A4_server" -p 0 >"$TMP/u.out" 2>"$TMP/u.err" &
    upid=$!
    wait_for 5 has_line '^listening' "$TMP/u.out"
    uport=$(sed -n 's/^listening .*port=\([0-9]*\).*/\1/p' "$TMP/u.out")
    like "$(sed -n 1p "$TMP/u.out")" " uring=0 uring_error=$e " "io_uring refused ($e): the listening line says uring=0 uring_error=$e"
    is "$(grep -c '' "$TMP/u.err")" 1 "...one line on stderr at start-up"
    like "$(cat "$TMP/u.err")" "io_uring unavailable: io_uring_setup: .*refusing every client with status 11" "...saying why and what follows"
    like "$(timeout 20 "$PEER" client 127.0.0.1 "$uport" --reply 2>&1)" "status=11 impl=4" "...a client's hello is answered with status 11 (technique unavailable)"
    res=$(timeout 20 "$BIN/A4_client" -H 127.0.0.1 -p "$uport" -t 2 -d 0.3 2>&1); rc=$?
    is "$rc" 1 "...the A4 client exits 1"
    like "$res" "technique is unavailable on the server's host \(A4: io_uring refused" "...telling why (2 of 2 connections)"
    ok "$(kill -0 "$upid"; echo $?)" "...and the server is still up"
    kill -TERM "$upid"; wait "$upid"; rc=$?
    is "$rc $(field rejected "$(grep '^result' "$TMP/u.out")")" "0 3" "...exits 0 on SIGTERM, the 3 refused connections counted as rejected"
  done
else
  ok 1 "builds tests/bin/no_uring"
fi
# Non-root: MSG_ZEROCOPY's pinned pages are charged to RLIMIT_MEMLOCK; the server says so in
# its first line and its result line, counts the ENOBUFS it causes, and the data still verifies.
# memlock_run IMPL: IMPL's server as user nobody under a 256 KiB RLIMIT_MEMLOCK, served once by a
# 2-connection 64 KiB --verify client for 1 s; sets res (client result), sres (server result),
# server output in $TMP/m.out and m.err.
memlock_run() {
  local mpid mport
  su nobody -s /bin/bash -c "ulimit -l 256; exec '$BIN/$1_server' -p 0 -n 2" >"$TMP/m.out" 2>"$TMP/m.err" &
  mpid=$!
  wait_for 5 has_line '^listening' "$TMP/m.out"
  mport=$(sed -n 's/^listening .*port=\([0-9]*\).*/\1/p' "$TMP/m.out")
  res=$(timeout 30 "$BIN/$1_client" -H 127.0.0.1 -p "$mport" -s 64K -t 2 -d 1 --verify 2>/dev/null | grep '^result')
  wait "$mpid"
  sres=$(grep '^result' "$TMP/m.out")
}
if id nobody >/dev/null 2>&1 && su nobody -s /bin/sh -c "test -x '$BIN/A3_server'" 2>/dev/null; then
  chmod 755 "$TMP"
  memlock_run A3
  like "$(sed -n 1p "$TMP/m.out")" "zc_memlock_binds=1 zc_memlock_bytes=262144" "non-root A3: the first line says RLIMIT_MEMLOCK (256 KiB) binds"
  like "$(cat "$TMP/m.err")" "RLIMIT_MEMLOCK, 256 KiB for all connections together" "...and stderr says what it means"
  like "$sres" "zc_memlock_binds=1" "...so does the result line"
  ok "$([ "$(field zc_enobufs_memlock "$sres")" -gt 0 ] 2>/dev/null; echo $?)" "...which counts the ENOBUFS it caused (zc_enobufs_memlock=$(field zc_enobufs_memlock "$sres"))"
  is "$(field zc_enobufs_optmem "$sres")" 0 "...told apart from option-memory ENOBUFS (zc_enobufs_optmem=0)"
  is "$(field verify_errors "$res")" 0 "...and the data still verifies"
  # A4: io_uring charges each zero-copy send's pages to RLIMIT_MEMLOCK and fails it with
  # ENOMEM past the limit; the send goes again once notifications give memory back. Whether a
  # second of sends goes past 256 KiB depends on the scheduling (a CI run beside the second test
  # lane once had none; why was not measured: how many sends were pinned at once is not visible).
  # Up to 3 tries for a run that meets the limit; the other checks hold for every run and are made
  # on the last.
  for _try in 1 2 3; do
    memlock_run A4
    [ "$(field zc_enomem "$sres")" -gt 0 ] 2>/dev/null && break
    diag "A4 under RLIMIT_MEMLOCK, try $_try: no send met the limit (zc_enomem=$(field zc_enomem "$sres"), bytes=$(field bytes "$sres"))"
  done
  like "$(sed -n 1p "$TMP/m.out")" "zc_memlock_binds=1 zc_memlock_bytes=262144" "non-root A4: the first line says RLIMIT_MEMLOCK (256 KiB) binds"
  like "$(cat "$TMP/m.err")" "io_uring charges each zero-copy send's pages to RLIMIT_MEMLOCK" "...and stderr says what it means"
  ok "$([ "$(field zc_enomem "$sres")" -gt 0 ] 2>/dev/null; echo $?)" "...which counts the ENOMEM it caused (zc_enomem=$(field zc_enomem "$sres"))"
  is "$(field verify_errors "$res") $(field errors "$sres")" "0 0" "...the data still verifies, no connection failed"
  is "$(field bytes "$sres")" "$(field total_bytes "$res")" "...and server bytes == client total_bytes"
else
  ok 0 "non-root RLIMIT_MEMLOCK: no user nobody that can run the server # SKIP"
fi
done_testing
