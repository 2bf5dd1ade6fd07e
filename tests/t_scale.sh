#!/usr/bin/env bash
# 256 concurrent connections against each server, stream and rr, --verify:
# all served (server clients=256 errors=0), no client error, no verify error,
# and not a byte lost or invented: server bytes == sum of client total_bytes.
# Private netns. CB_QUICK=1 shortens the window under a sanitizer (3 s -> 2 s).
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
in_private_netns "$@"

CONNS=256
# 512 threads (256 senders, 256 receivers) on a 2-core machine: the scheduler gives each a
# turn only every ~1.5 s (3 ms minimum slice each), so a 1 s window could leave a connection
# without a single message (seen under load). The windows are longer than one such round.
# Other work on the machine lengthens that round in proportion (beside a second suite and a
# busy loop, one A2 connection of 256 got nothing in 3 s): the window is stretched by the
# tasks running beside this test per CPU (/proc/stat procs_running, less the reader
# itself; the fewest of 10 looks 50 ms apart), up to 4x. Not the load average: this suite's own
# 256-thread runs put it above 150 for minutes.
# CB_QUICK=1 shortens it to 2 s only where fairness is not judged (a sanitizer build): at
# 2 s a quiet machine once gave an A1 stream connection no message (1 run of 7; 50 runs of
# the same client alone at 2 s: fewest 63..309); at 3 s only beside other work, as above.
dur=3; [ "${CB_QUICK:-0}" = 1 ] && [ "$BIN" != "$ROOT" ] && dur=2
others=$(tasks_beside)
stretch=$(awk -v o="$others" -v n="$(nproc)" 'BEGIN { f = 1 + o / n; if (f > 4) f = 4; printf "%.2f", f }')
dur=$(awk -v d="$dur" -v f="$stretch" 'BEGIN { printf "%.1f", d * f }')
diag "window ${dur} s ($others other tasks running on $(nproc) CPUs)"
# The server and 256 client threads each have a descriptor per connection.
ulimit -n 4096 2>/dev/null || true
# Congestion control reno, as the sweep's namespaces do (CB_TCP_CC=auto): with this machine's bbr
# (no fq qdisc, so TCP paces with a timer per burst) some of 256 A3 flows got no byte for 3 s
# (measured: fewest messages per connection 0 in 3 runs of 3; with reno 20..105 and 56% more
# throughput). That is the kernel's pacing, not the fairness of the programs under test.
sysctl -qw net.ipv4.tcp_congestion_control=reno 2>/dev/null || true

# Under a sanitizer A3 fills its pools (each connection's share of the budget, 4 MiB by
# default) 5-15x slower, and 256 of them before the client's 10 s hello timeout was too
# slow for CI (87 of 256 timed out): a quarter of the budget there, which also makes the
# pools wait for their oldest slot, a path worth racing.
srv_args=(-q -n "$CONNS")
[ "$BIN" = "$ROOT" ] || srv_args+=(--mem-budget 256M)

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
    if [ "$BIN" = "$ROOT" ]; then
      fair=$([ "$(field min_conn_messages "$res")" -ge 1 ] 2>/dev/null; echo $?)
      ok "$fair" "$what: every connection got at least one message in the window (fewest: $(field min_conn_messages "$res"))"
      # What TCP itself went through, for telling a starved thread from a stalled flow
      # (retransmission timeouts, memory pressure, pruned queues): this namespace's
      # counters since it was made, nonzero ones only.
      [ "$fair" = 0 ] || nstat -asz 2>/dev/null |
        awk '$2 > 0 && /Retrans|Timeout|Pressure|Prune|Collapse|Drop|ZeroWindow|Probe/ {printf "#   %s %s\n", $1, $2}'
    else   # TSan runs 512 threads 5-15x slower: some get no turn in 2 s; a race, not fairness, is its question
      ok 0 "$what: per-connection fairness not judged under a sanitizer (fewest: $(field min_conn_messages "$res")) # SKIP"
    fi
    if [[ "$impl" == A[34] ]]; then
      is "$(( $(field zc_completions "$sres") + $(field zc_missing "$sres") ))" "$(field zc_sends "$sres")" \
        "$what: zc_completions + zc_missing == zc_sends"
      if [ "$BIN" = "$ROOT" ]; then
        is "$(field zc_missing "$sres")" 0 "$what: zc_missing=0"
      else   # a client 5-15x slower reads to EOF after the server's 2 s wait: it parks, as it must
        ok 0 "$what: zc_missing not judged under a sanitizer (missing: $(field zc_missing "$sres"), parked: $(field zc_parked "$sres")) # SKIP"
      fi
      is "$(field zc_bogus "$sres")" 0 "$what: zc_bogus=0"
    fi
    diag "$what: bytes=$(field bytes "$sres") messages=$(field messages "$sres") client_messages=$(field messages "$res")"
    [ "$rc" = 0 ] || printf '%s\n' "$out" | grep -v '^result' | sed -n 1,5p | sed 's/^/#   client: /'
    rm -f "$SRV_OUT" "$SRV_ERR"
  done
done
done_testing
