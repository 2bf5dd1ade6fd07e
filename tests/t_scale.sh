#!/usr/bin/env bash
# 256 concurrent connections against each server, stream and rr, --verify:
# all served (server clients=256 errors=0), no client error, no verify error,
# and not a byte lost or invented: server bytes == sum of client total_bytes.
# Private netns. A 2 s window; fairness between connections is measured by bench/scale.sh.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
in_private_netns "$@"

# CB_QUICK=1 (the sanitizer re-runs): 64 connections. What TSan looks for is threads meeting,
# which 64 do as well as 256, and 256 under TSan took 64 s of the suite's time.
CONNS=256; [ "${CB_QUICK:-0}" = 1 ] && CONNS=64
# What holds at any load is judged here: every connection served, no error, no wrong byte, the
# bytes balanced, every zero-copy send accounted for. Fairness (the fewest messages a connection
# got in the window) and whether A3's completions came back within the server's 2 s close wait
# depend on the scheduler: 512 threads on 2 cores give each a turn only every ~1.5 s, less beside
# other work. They are printed here (diag) and judged by bench/scale.sh, not pass/fail.
dur=2
diag "window ${dur} s ($(tasks_beside) other tasks running on $(nproc) CPUs)"
# The server and 256 client threads each have a descriptor per connection.
ulimit -n 4096 2>/dev/null || true
# Congestion control reno, as the sweep's namespaces do (CB_TCP_CC=auto): with this machine's bbr
# (no fq qdisc, so TCP paces with a timer per burst) some of 256 A3 flows got no byte for 3 s
# (measured: fewest messages per connection 0 in 3 runs of 3; with reno 20..105 and 56% more
# throughput). That is the kernel's pacing, not the fairness of the programs under test.
sysctl -qw net.ipv4.tcp_congestion_control=reno 2>/dev/null || true

# Under a sanitizer A3 fills its pools (each connection's share of the budget, 4 MiB by
# default) 5-15x slower, and 256 of them before the client's 10 s hello timeout was too
# slow for CI (87 of 256 timed out): a quarter of the budget there (1 MiB a connection), which
# also makes the pools wait for their oldest slot, a path worth racing.
srv_args=(-q -n "$CONNS")
[ "$BIN" = "$ROOT" ] || srv_args+=(--mem-budget "${CONNS}M")

for impl in A1 A2 A3 A4; do
  for mode in stream rr; do
    what="$impl $mode x$CONNS"
    start_server "$impl" "${srv_args[@]}" || { ok 1 "$what: server starts"; continue; }
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
    diag "$what: fewest messages a connection got in the window: $(field min_conn_messages "$res") (fairness: bench/scale.sh)"
    if [[ "$impl" == A[34] ]]; then
      is "$(( $(field zc_completions "$sres") + $(field zc_missing "$sres") ))" "$(field zc_sends "$sres")" \
        "$what: zc_completions + zc_missing == zc_sends"
      # a client slower than the server's 2 s wait for completions makes it park the pool, as it must
      diag "$what: zc_missing=$(field zc_missing "$sres") zc_parked=$(field zc_parked "$sres")"
      is "$(field zc_bogus "$sres")" 0 "$what: zc_bogus=0"
    fi
    diag "$what: bytes=$(field bytes "$sres") messages=$(field messages "$sres") client_messages=$(field messages "$res")"
    [ "$rc" = 0 ] || printf '%s\n' "$out" | grep -v '^result' | sed -n 1,5p | sed 's/^/#   client: /'
    rm -f "$SRV_OUT" "$SRV_ERR"
  done
done
done_testing
