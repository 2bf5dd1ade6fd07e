#!/usr/bin/env bash
# Hostile peers, in a private netns, against all four servers at once:
# random bytes as a hello, a truncated hello then close, a truncated hello
# then silence (timed out at ~10 s, without blocking anyone), wrong magic /
# version / size / mode / flags (the reply's status is checked), a client that
# says hello and never reads, a slow reader, while a well-behaved verifying
# client runs alongside and must succeed. Then the other way round: a fake
# server (tests/tools/cb_peer) that flips one byte, cuts a message in half or
# claims another technique must be caught by the client.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
in_private_netns "$@"

PEER=$ROOT/tests/bin/cb_peer
if [ ! -x "$PEER" ] || [ "$PEER" -ot "$ROOT/tests/tools/cb_peer.c" ]; then
  make -s -C "$ROOT" tests/bin/cb_peer >/dev/null || { ok 1 "builds tests/bin/cb_peer"; done_testing; exit 1; }
fi
scratch_dir   # TMP, removed with every background job at exit
IMPLS=(A1 A2 A3 A4)
declare -A PORT PID SERR SOUT GOOD
PEERS=()

for impl in "${IMPLS[@]}"; do
  start_server "$impl" || { ok 1 "$impl server starts"; continue; }
  PORT[$impl]=$SRV_PORT PID[$impl]=$SRV_PID SERR[$impl]=$SRV_ERR SOUT[$impl]=$SRV_OUT
done

# ---- long-running hostile peers, started first, all servers at once --------
for impl in "${IMPLS[@]}"; do
  p=${PORT[$impl]}
  # 10 bytes of a hello, then silence: the server must hang up at ~10 s.
  "$PEER" client 127.0.0.1 "$p" --trunc 10 --wait-close 20 >"$TMP/silent.$impl" 2>&1 &
  PEERS+=($!)
  # A hello one byte a second: each recv is quick, the whole hello is not; the
  # server's 10 s is for the whole hello, so it hangs up at ~10 s, not 24 s.
  "$PEER" client 127.0.0.1 "$p" --drip 1 >"$TMP/drip.$impl" 2>&1 &
  PEERS+=($!)
  # A good hello, then never read: fills the socket buffers, pins a thread.
  "$PEER" client 127.0.0.1 "$p" --size 65536 --reply --hold 12 >"$TMP/noread.$impl" 2>&1 &
  PEERS+=($!)
  # A good hello, then 64 kB/s for 3 s.
  "$PEER" client 127.0.0.1 "$p" --size 4096 --reply --hold 3 --slow 65536 >"$TMP/slow.$impl" 2>&1 &
  PEERS+=($!)
  # The well-behaved client, verifying, for the whole of the quick checks.
  "$BIN/${impl}_client" -H 127.0.0.1 -p "$p" -s 64K -t 2 -d 4 --verify >"$TMP/good.$impl" 2>&1 &
  GOOD[$impl]=$!
done
sleep 0.3

# ---- quick hostile hellos, each answered and the connection closed -----------
for impl in "${IMPLS[@]}"; do
  p=${PORT[$impl]} n=${impl#A}
  reply() { timeout 20 "$PEER" client 127.0.0.1 "$p" --reply "$@" 2>&1 | grep '^reply'; }
  like "$(reply)" "^reply magic=0x43504231 version=2 status=0 impl=$n$" "$impl: a valid hello: status 0, impl $n"
  like "$(reply --magic 0x43504232)" "status=1 " "$impl: wrong magic: status 1"
  like "$(reply --magic 0)" "status=1 " "$impl: zero magic: status 1"
  like "$(reply --version 1)" "^reply magic=0x43504231 version=2 status=2 " \
    "$impl: a version-1 client (no start message): status 2, and the reply says the server speaks 2"
  like "$(reply --version 3)" "status=2 " "$impl: version 3: status 2"
  like "$(reply --version 0)" "status=2 " "$impl: version 0: status 2"
  like "$(reply --size 15)" "status=3 " "$impl: size 15: status 3"
  like "$(reply --size 0)" "status=3 " "$impl: size 0: status 3"
  like "$(reply --size 67108865)" "status=3 " "$impl: size 64 MiB + 1: status 3"
  like "$(reply --size 0xffffffff)" "status=3 " "$impl: size 2^32-1: status 3"
  like "$(reply --mode 2)" "status=4 " "$impl: mode 2: status 4"
  like "$(reply --mode 0xffff)" "status=4 " "$impl: mode 65535: status 4"
  like "$(reply --flags 2)" "status=5 " "$impl: flags bit 1: status 5"
  like "$(reply --flags 0x80000001)" "status=5 " "$impl: flags bit 31: status 5"
  # Random bytes: 24 or more get a refusal (or a reset when they keep coming); fewer, then
  # EOF, are a truncated hello: no reply, the server closes and logs "connection closed".
  closed0=$(grep -c 'no hello: connection closed' "${SERR[$impl]}")
  bad=0 tried=0 short=0
  for seed in $(seq 1 40); do
    len=$(( (seed * 37) % 200 ))
    if [ "$len" -ge 24 ]; then
      r=$(reply --random "$len" --seed "$seed")
      [[ "$r" =~ ^reply\ (none|magic=0x43504231\ version=2\ status=[1-5]\ ) ]] || { bad=$((bad + 1)); diag "seed $seed len $len: $r"; }
    else
      r=$(reply --random "$len" --seed "$seed" --shut)
      [ "$r" = "reply none" ] || { bad=$((bad + 1)); diag "seed $seed len $len (truncated): $r"; }
      short=$((short + 1))
    fi
    tried=$((tried + 1))
  done
  is "$bad" 0 "$impl: $tried random hellos (0..199 bytes): refused with a status, or (under 24 bytes) closed unanswered"
  for t in 0 1 4 23; do
    r=$(reply --trunc "$t" --shut)
    is "$r" "reply none" "$impl: a $t-byte hello then EOF: closed without a reply"
  done
  wait_for() { for _ in $(seq 100); do [ "$(grep -c "$1" "$2")" -ge "$3" ] && return 0; sleep 0.05; done; return 1; }
  check "$impl: the server logged each of the $((short + 4)) truncated hellos as 'no hello: connection closed'" \
    wait_for 'no hello: connection closed' "${SERR[$impl]}" $((closed0 + short + 4))
  ok "$(kill -0 "${PID[$impl]}"; echo $?)" "$impl: server alive after hostile hellos and truncated hellos"
  # A valid hello followed by junk where the start message belongs: the server answers the
  # hello, then refuses the junk as a start, closes and says why; nothing is streamed.
  junk0=$(grep -c 'no start: not a start message' "${SERR[$impl]}")
  like "$(reply --no-start --raw 4350423100020000000010000000000000000000000000004141414141414141)" "status=0 " \
    "$impl: valid hello with trailing junk: status 0"
  check "$impl: ...then the server refuses the junk as a start: 'no start: not a start message'" \
    wait_for 'no start: not a start message' "${SERR[$impl]}" $((junk0 + 1))
  # A client that starts, then sends data in stream mode: the server takes it as the end.
  sent0=$(grep -c 'sent data in stream mode' "${SERR[$impl]}")
  # (it reads slowly: the server looks for data from the client once per MiB sent)
  timeout 20 "$PEER" client 127.0.0.1 "$p" --size 65536 --reply --junk 4 --hold 3 --slow 2000000 >/dev/null 2>&1
  check "$impl: data after the start in stream mode ends that stream: 'sent data in stream mode; closing'" \
    wait_for 'sent data in stream mode' "${SERR[$impl]}" $((sent0 + 1))
done

# ---- the well-behaved clients, run alongside -----------------------------------
for impl in "${IMPLS[@]}"; do
  wait "${GOOD[$impl]}"; rc=$?
  res=$(grep '^result' "$TMP/good.$impl" | tail -n 1)
  is "$rc" 0 "$impl: well-behaved client alongside the hostile ones exits 0"
  is "$(field verify_errors "$res")" 0 "$impl: ...verify_errors=0"
  ok "$([ "$(field bytes "$res")" -gt 0 ] 2>/dev/null; echo $?)" "$impl: ...and received data ($(field bytes "$res") bytes)"
done

# ---- the slow reader, the silent peer, the never-reading peer -------------------
wait "${PEERS[@]}"
for impl in "${IMPLS[@]}"; do
  like "$(cat "$TMP/slow.$impl")" "held_read_bytes=[1-9]" "$impl: the slow reader got data"
  s=$(sed -n 's/^closed_after_s=//p' "$TMP/silent.$impl")
  ok "$(awk -v s="$s" 'BEGIN { exit !(s != "none" && s >= 9 && s <= 13) }'; echo $?)" \
    "$impl: a truncated hello then silence is cut at ~10 s (after ${s} s)"
  like "$(cat "${SERR[$impl]}")" "no hello: timed out" "$impl: server logs the hello timeout"
  s=$(sed -n 's/^closed_after_s=//p' "$TMP/drip.$impl")
  ok "$(awk -v s="$s" 'BEGIN { exit !(s != "none" && s >= 9 && s <= 13) }'; echo $?)" \
    "$impl: a hello dripped a byte a second is cut at ~10 s too (after ${s} s)"
  like "$(cat "$TMP/noread.$impl")" "status=0" "$impl: the never-reading peer was accepted (and pinned a thread meanwhile)"
  # The server still serves, after all of it.
  out=$(timeout 30 "$BIN/${impl}_client" -H 127.0.0.1 -p "${PORT[$impl]}" -s 4K -d 0.3 --verify 2>&1); rc=$?
  is "$rc" 0 "$impl: server serves a new client after the hostile ones"
  kill -TERM "${PID[$impl]}"; wait "${PID[$impl]}"; src=$?
  sres=$(grep '^result' "${SOUT[$impl]}" | tail -n 1)
  is "$src" 0 "$impl: server exits 0 on SIGTERM"
  ok "$([ "$(field rejected "$sres")" -ge 50 ] 2>/dev/null; echo $?)" "$impl: server counted the refused hellos (rejected=$(field rejected "$sres"))"
  diag "$impl: $sres"
  like "$(cat "${SERR[$impl]}")" "bad hello: bad magic" "$impl: server logs why it refused"
  rm -f "${SOUT[$impl]}" "${SERR[$impl]}"
done

# ---- a lying server: the client must catch it -------------------------------------
fake() { # fake ARGS...: starts the fake server, sets FPORT/FPID
  "$PEER" fakeserver "$@" >"$TMP/fake.out" 2>&1 &
  FPID=$!
  for _ in $(seq 1 100); do grep -q '^listening' "$TMP/fake.out" && break; sleep 0.02; done
  FPORT=$(sed -n 's/^listening port=//p' "$TMP/fake.out")
}
fake --flip 3
out=$(timeout 30 "$BIN/A1_client" -H 127.0.0.1 -p "$FPORT" -s 4K -d 0.5 --verify 2>&1); rc=$?
wait "$FPID"
res=$(printf '%s\n' "$out" | grep '^result' | tail -n 1)
is "$rc" 1 "fake server flipping one bit of message 3: client exits 1"
is "$(field verify_errors "$res")" 1 "...and reports verify_errors=1"
fake --flip 0 --impl 2
out=$(timeout 30 "$BIN/A2_client" -H 127.0.0.1 -p "$FPORT" -s 17 -d 0.3 --verify 2>&1); rc=$?
wait "$FPID"
is "$(field verify_errors "$(printf '%s\n' "$out" | grep '^result')")" 1 "fake server flipping the only payload byte of the first 17-byte message: verify_errors=1"
fake --cut 5
out=$(timeout 30 "$BIN/A1_client" -H 127.0.0.1 -p "$FPORT" -s 4K -d 5 --verify 2>&1); rc=$?
wait "$FPID"
is "$rc" 1 "fake server cutting message 5 in half: client exits 1"
like "$out" "middle of a message|server closed the connection" "...and says the server closed the connection"
fake --impl 2
out=$(timeout 30 "$BIN/A1_client" -H 127.0.0.1 -p "$FPORT" -s 4K -d 0.3 2>&1); rc=$?
kill "$FPID" 2>/dev/null; wait "$FPID" 2>/dev/null
is "$rc" 1 "a server running another technique: client exits 1"
like "$out" "use A2_client" "...and names the right client"
done_testing
