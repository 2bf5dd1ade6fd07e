#!/usr/bin/env bash
# The footprint (--footprint, src/msgs.c): every technique sends round robin from that many
# bytes of distinct messages, and under --verify every message still verifies, at odd sizes and
# odd footprints, stream and rr. The listening and result lines say footprint=; the messages
# count against --mem-budget: a connection that does not fit now is told busy, one that could
# never fit is refused with its own status, both named on the client's one line. Bad values
# of --footprint are t_options' (exit 2). Re-run under ASan and TSan by t_sanitize.
# lane: beside (its network namespace is its own (unshare -n), its files are in a temporary directory); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
source "$(dirname "$0")/lib.sh"
# shellcheck source=../lib/size.sh disable=SC1091
source "$ROOT/lib/size.sh"
in_private_netns "$@"
D=${CB_QUICK:+0.3}; D=${D:-0.5}

# run_pair IMPL CONNECTIONS SERVER_ARGS -- CLIENT_ARGS... (the server exits after CONNECTIONS):: sets CLI (last line), SRV, CLI_RC, CLI_ERR
run_pair() {
  local impl=$1 conns=$2 sargs=(); shift 2
  while [ "$1" != -- ]; do sargs+=("$1"); shift; done; shift
  start_server "$impl" -n "$conns" "${sargs[@]}" || { CLI="" SRV="" CLI_RC=99; return; }
  CLI=$("$BIN/${impl}_client" -H 127.0.0.1 -p "$SRV_PORT" "$@" 2>/tmp/cb_fp_err.$$ | tail -n 1); CLI_RC=$?
  CLI_ERR=$(cat /tmp/cb_fp_err.$$)
  wait "$SRV_PID"
  SRV=$(tail -n 1 "$SRV_OUT")
}

# footprint, message size, mode: a footprint that is no multiple of the size, one of 48
# messages of an odd 64 KiB + 7 B, and rr (one reply in flight) from 16 messages.
for impl in A1 A2 A3; do
  for cfg in "100000 1001 stream" "3M 65543 stream" "64K 4099 rr"; do
    read -r fp size mode <<<"$cfg"
    what="$impl --footprint $fp, $size B $mode x2 --verify"
    run_pair "$impl" 2 -q --footprint "$fp" -- -m "$mode" -s "$size" -t 2 -d "$D" --verify
    is "$CLI_RC" 0 "$what: client exits 0"
    is "$(field verify_errors "$CLI")" 0 "$what: every message verifies"
    check "$what: messages > 0 ($(field messages "$CLI"))" [ "$(field messages "$CLI")" -gt 0 ]
    is "$(field bytes "$SRV") $(field errors "$SRV") $(field clients "$SRV")" "$(field total_bytes "$CLI") 0 2" \
      "$what: server bytes = client bytes, no error, both connections"
    bytes=$(cb_bytes "$fp")
    like "$(sed -n 1p "$SRV_OUT")" "^listening .* footprint=$bytes( |$)" "$what: the listening line says footprint=$bytes"
    is "$(field footprint "$SRV")" "$bytes" "$what: the result line says footprint=$bytes"
    n=$(( (bytes + size - 1) / size ))
    # Each connection holds n messages of size (and their heap overhead) at once.
    check "$what: mem_peak $(field mem_peak "$SRV") >= 2 x $n messages of $size B" \
      [ "$(field mem_peak "$SRV")" -ge $((2 * n * size)) ]
    if [ "$impl" = A3 ]; then
      # The pool takes a new slot for each message until it holds the footprint: the busier
      # connection (half the messages or more) used min(footprint, its messages) slots at least.
      m=$(( ($(field messages "$SRV") + 1) / 2 )); [ "$m" -lt "$n" ] || m=$n
      check "$what: A3 pool rotates through the footprint: >= $m slots ($(field zc_pool_slots "$SRV"))" \
        [ "$(field zc_pool_slots "$SRV")" -ge "$m" ]
      is "$(field zc_missing "$SRV") $(field zc_completions "$SRV")" "0 $(field zc_sends "$SRV")" \
        "$what: every zero-copy send completed"
    fi
  done
done

# The budget: two connections of a 3 MiB footprint do not fit 4 MiB at once: the first is
# served, the second told busy (try later), and the client names it.
for impl in A1 A2 A3; do
  run_pair "$impl" 2 -q --mem-budget 4M --footprint 3M -- -s 64K -t 2 -d "$D"
  is "$CLI_RC" 1 "$impl: 2 x 3 MiB footprints in a 4 MiB budget: the client exits 1"
  like "$CLI_ERR" "busy" "$impl: ... naming the busy reply"
  is "$(field busy "$SRV")" 1 "$impl: ... the server counts one busy connection"
  check "$impl: ... mem_peak $(field mem_peak "$SRV") <= the budget" [ "$(field mem_peak "$SRV")" -le $((4 << 20)) ]
  # 65536 messages of 16 B cost 360 B each in the heap: 22.5 MiB, never within a 1 MiB budget.
  run_pair "$impl" 1 --mem-budget 1M --footprint 1M -- -s 16 -t 1 -d "$D"
  is "$CLI_RC" 1 "$impl: a footprint of 16 B messages past the whole budget: the client exits 1"
  like "$CLI_ERR" "footprint.*whole memory budget" "$impl: ... naming the footprint and the budget"
  is "$(field busy "$SRV") $(field rejected "$SRV")" "0 1" "$impl: ... refused, not busy"
  like "$(cat "$SRV_ERR")" "--footprint 1048576 needs 65536 messages, more than --mem-budget" \
    "$impl: ... and the server's log line says why"
done
rm -f /tmp/cb_fp_err.$$
done_testing
