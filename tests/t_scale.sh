#!/usr/bin/env bash
# 256 concurrent connections against each server, stream and rr, --verify:
# all served (server clients=256 errors=0), no client error, no verify error,
# and not a byte lost or invented: server bytes == sum of client total_bytes.
# Private netns. CB_QUICK=1 shortens the window.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
in_private_netns "$@"

CONNS=256
dur=1; [ "${CB_QUICK:-0}" = 1 ] && dur=0.5
# The server and 256 client threads each have a descriptor per connection.
ulimit -n 4096 2>/dev/null || true

for impl in A1 A2 A3; do
  for mode in stream rr; do
    what="$impl $mode x$CONNS"
    start_server "$impl" -q -n "$CONNS" || { ok 1 "$what: server starts"; continue; }
    out=$(timeout 120 "$BIN/${impl}_client" -H 127.0.0.1 -p "$SRV_PORT" -t "$CONNS" -s 16K -m "$mode" \
      -d "$dur" --verify 2>&1); rc=$?
    # -n 256: the server exits by itself once all 256 have come and gone.
    timeout 60 tail --pid="$SRV_PID" -f /dev/null
    wait "$SRV_PID"; src=$?
    res=$(printf '%s\n' "$out" | grep '^result' | tail -n 1)
    sres=$(grep '^result' "$SRV_OUT" | tail -n 1)
    is "$rc" 0 "$what: client exits 0"
    is "$src" 0 "$what: server exits 0 after -n $CONNS"
    is "$(field threads "$res")" "$CONNS" "$what: client ran $CONNS connections"
    is "$(field errors "$res")" 0 "$what: client errors=0"
    is "$(field verify_errors "$res")" 0 "$what: verify_errors=0"
    is "$(field clients "$sres")" "$CONNS" "$what: server clients=$CONNS"
    is "$(field rejected "$sres")" 0 "$what: server rejected=0"
    is "$(field errors "$sres")" 0 "$what: server errors=0"
    is "$(field bytes "$sres")" "$(field total_bytes "$res")" "$what: server bytes == client total_bytes"
    ok "$([ "$(field messages "$res")" -ge "$CONNS" ] 2>/dev/null; echo $?)" "$what: at least one message per connection in the window"
    if [ "$impl" = A3 ]; then
      is "$(field zc_missing "$sres")" 0 "$what: zc_missing=0"
      is "$(field zc_bogus "$sres")" 0 "$what: zc_bogus=0"
    fi
    diag "$what: bytes=$(field bytes "$sres") messages=$(field messages "$sres") client_messages=$(field messages "$res")"
    [ "$rc" = 0 ] || printf '%s\n' "$out" | grep -v '^result' | head -n 5 | sed 's/^/#   client: /'
    rm -f "$SRV_OUT" "$SRV_ERR"
  done
done
done_testing
