#!/usr/bin/env bash
# Integration on a private loopback: every technique in both modes with
# --verify; the server's bytes equal the client's, nothing fails verification,
# and A3's and A4's completions equal their zero-copy sends with none missing;
# A4 also at queue depths 1 and 256 (a chain as long as the ring allows).
# lane: beside (its network namespace is its own (unshare -n), its files are in a temporary directory); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
source "$(dirname "$0")/lib.sh"
in_private_netns "$@"
D=${CB_QUICK:+0.3}; D=${D:-1}

# run_pair IMPL CONNECTIONS CLIENT_ARGS...: a server that exits after that many
# connections, and one client; sets CLI, SRV, CLI_RC
run_pair() {
  local impl=$1 conns=$2; shift 2
  # not -q: the server's per-connection lines are checked against its totals
  start_server "$impl" -n "$conns" || { CLI="" SRV="" CLI_RC=99; return; }
  CLI=$("$BIN/${impl}_client" -H 127.0.0.1 -p "$SRV_PORT" "$@" 2>/tmp/cli_err.$$); CLI_RC=$?
  wait "$SRV_PID"
  SRV=$(tail -n 1 "$SRV_OUT")
}

py -c '' || ok 1 "python3 runs"   # resolves PY once (lib.sh)
for impl in "${TECHS[@]}"; do
  for mode in stream rr; do
    for size in 64 4096 65543; do
      what="$impl $mode ${size} B x2"
      run_pair "$impl" 2 -m "$mode" -s "$size" -t 2 -d "$D" --verify
      last=$(printf '%s\n' "$CLI" | tail -n 1)
      is "$CLI_RC" 0 "$what: client exits 0"
      like "$last" "^result impl=$impl side=client mode=$mode size=$size threads=2 " "$what: result line repeats the parameters"
      is "$(field verify_errors "$last")" 0 "$what: verify_errors=0"
      is "$(field verify "$last")" 1 "$what: verify=1 reported"
      msgs=$(field messages "$last")
      check "$what: messages > 0 ($msgs)" [ "${msgs:-0}" -gt 0 ]
      is "$(field bytes "$SRV")" "$(field total_bytes "$last")" "$what: server bytes = client total_bytes"
      is "$(field errors "$SRV")" 0 "$what: server errors=0"
      is "$(field clients "$SRV")" 2 "$what: server counted both connections"
      if [ "$mode" = rr ]; then
        is "$(field lat_samples "$last")" "$msgs" "$what: one round-trip sample per message"
      fi
      # gbps and msgs_per_s to their printed precision, bytes = messages x size, total_bytes >=
      # bytes, p50 <= p99 <= max, the server's totals = the sum of its connection lines; a
      # technique that reports zero-copy completions: all flagged copied (loopback)
      numbers_later "$what: every figure of the result lines adds up (tests/tools/numbers.py)" \
        line "$last" --duration "$D" --server "$SRV" --server-log "$SRV_ERR" --copied-all
      if [ "$impl" = A3 ] || [ "$impl" = A4 ]; then
        sends=$(field zc_sends "$SRV")
        is "$(field zc_completions "$SRV")" "$sends" "$what: zc completions = zero-copy sends ($sends)"
        is "$(field zc_missing "$SRV")" 0 "$what: no completion missing"
        is "$(field zc_bogus "$SRV")" 0 "$what: no completion reported twice"
        # loopback: the kernel copies every zero-copy send for the local receiver and flags it
        is "$(field zc_copied "$SRV")" "$sends" "$what: every completion flagged copied by the kernel (zc_copied = zc_completions)"
      fi
    done
  done
done

# A4's queue depth: one send per submission, and chains of 256 (odd sizes: a message's last
# field longer than the others). Each submission is one io_uring_enter: at depth 1 as many as
# sends, at 256 far fewer.
for qd in 1 256; do
  start_server A4 -n 2 -q --queue-depth "$qd"
  CLI=$("$BIN/A4_client" -H 127.0.0.1 -p "$SRV_PORT" -t 2 -s 4099 -d "$D" --verify 2>/dev/null); CLI_RC=$?
  wait "$SRV_PID"; SRV=$(tail -n 1 "$SRV_OUT")
  last=$(printf '%s\n' "$CLI" | tail -n 1)
  is "$CLI_RC $(field verify_errors "$last") $(field queue_depth "$SRV")" "0 0 $qd" "A4 --queue-depth $qd, 4099 B: verified, the depth in the result line"
  is "$(field bytes "$SRV")" "$(field total_bytes "$last")" "A4 --queue-depth $qd: server bytes = client total_bytes"
  is "$(field zc_completions "$SRV") $(field zc_missing "$SRV") $(field zc_bogus "$SRV")" "$(field zc_sends "$SRV") 0 0" \
    "A4 --queue-depth $qd: a notification for every send, none missing or bogus"
  subs=$(field uring_submits "$SRV") sends=$(field zc_sends "$SRV")
  if [ "$qd" = 1 ]; then
    check "A4 --queue-depth 1: a submission per send ($subs for $sends)" [ "$subs" -ge "$sends" ]
  else
    check "A4 --queue-depth 256: fewer submissions than sends ($subs for $sends)" [ "$subs" -lt "$sends" ]
  fi
  numbers_later "A4 --queue-depth $qd: every figure of the result lines adds up" line "$last" --duration "$D" --server "$SRV" --copied-all
done

# the figures' checks, queued above: one Python start for all of them
numbers_run

# Live lines for demos: -i prints a line per interval before the result.
run_pair A2 1 -d 1 -i 0.25
n=$(printf '%s\n' "$CLI" | grep -c 'Gbps')
check "-i 0.25 over 1 s prints live lines ($n)" [ "$n" -ge 3 ]
like "$(printf '%s\n' "$CLI" | tail -n 1)" '^result ' "the result line stays last after live lines"

# The receiver's low-water mark: off by default, set with --rcvlowat in stream
# mode, never in rr (a reply must be seen at once); the data is the same.
run_pair A2 1 -d 0.3 -s 4096 --verify
last=$(printf '%s\n' "$CLI" | tail -n 1)
is "$(field rcvlowat "$last")" 0 "stream: rcvlowat=0 (the kernel's) by default, in the result line"
run_pair A2 1 -d 0.3 -s 4096 --verify --rcvlowat 32K
last=$(printf '%s\n' "$CLI" | tail -n 1)
is "$(field rcvlowat "$last") $(field verify_errors "$last") $CLI_RC" "32768 0 0" "--rcvlowat 32K: set, verified, exit 0"
run_pair A2 1 -d 0.3 -s 64 -m rr --rcvlowat 1M
last=$(printf '%s\n' "$CLI" | tail -n 1)
is "$(field rcvlowat "$last") $CLI_RC" "0 0" "rr ignores the low-water mark (64-byte replies still flow)"

# A client must not label results with a technique the server does not run.
start_server A2 -n 1 -q
out=$("$BIN/A1_client" -H 127.0.0.1 -p "$SRV_PORT" -d 0.2 2>&1); rc=$?
wait "$SRV_PID"
is "$rc" 1 "A1 client against an A2 server exits 1"
like "$out" 'server runs A2, this is the A1 client' "and says which server it found"

# Stream one-way latency comes from the embedded send time: positive, ordered.
run_pair A1 1 -d 0.5 -s 16384
last=$(printf '%s\n' "$CLI" | tail -n 1)
check "stream latency p50 <= p99 <= max, all > 0" awk -v a="$(field lat_p50_us "$last")" -v b="$(field lat_p99_us "$last")" -v c="$(field lat_max_us "$last")" 'BEGIN{exit !(a>0 && a<=b && b<=c)}'

# The documented result lines must be what the programs print: every transcript line in the
# README (and docs/) has exactly the fields of a real result line of the same side and
# technique, and every field of a real line is defined in a field table.
keys() { tr ' ' '\n' <<<"$1" | sed -n 's/=.*//p' | tr '\n' ' '; }
run_pair A2 1 -d 0.2 -s 64K
real_cli=$(printf '%s\n' "$CLI" | tail -n 1) real_srv=$SRV
run_pair A3 1 -d 0.2 -s 64K
real_srv3=$SRV
run_pair A4 1 -d 0.2 -s 64K
real_srv4=$SRV
docs=$(cat "$ROOT/README.md" "$ROOT"/docs/*.md 2>/dev/null)
n=0
while read -r line; do
  [ -n "$line" ] || continue
  n=$((n + 1))
  case "$line" in
    *side=client*) want=$real_cli ;;
    *impl=A3*side=server*) want=$real_srv3 ;;
    *impl=A4*side=server*) want=$real_srv4 ;;
    *) want=$real_srv ;;
  esac
  is "$(keys "$line")" "$(keys "$want")" "documented transcript line $n has the fields of a real one ($(field impl "$line") $(field side "$line"))"
done < <(grep -E '^result impl=' <<<"$docs")
check "the docs show at least one client and one server result line ($n)" test "$n" -ge 2
# the words in backticks in the first cell of every table row
defined=" $(awk -F'|' '/^\|/ { n = split($2, a, "`"); for (i = 2; i <= n; i += 2) print a[i] }' <<<"$docs" | tr '\n' ' ') "
undefined=""
for k in $(keys "$real_cli") $(keys "$real_srv3") $(keys "$real_srv4"); do
  [[ "$defined" == *" $k "* ]] || undefined="$undefined $k"
done
is "$undefined" "" "every result field is defined in a field table of the docs"

# The server serves clients one after another and several at once.
start_server A3 -q
for _ in 1 2 3; do "$BIN/A3_client" -H 127.0.0.1 -p "$SRV_PORT" -t 3 -d 0.2 --verify >/dev/null & done
wait_rc=0; for j in $(jobs -p); do [ "$j" = "$SRV_PID" ] && continue; wait "$j" || wait_rc=1; done
is "$wait_rc" 0 "three concurrent A3 clients of 3 threads all succeed"
kill -INT "$SRV_PID"; wait "$SRV_PID"; src=$?
SRV=$(tail -n 1 "$SRV_OUT")
is "$src" 0 "SIGINT stops the server with exit 0"
is "$(field clients "$SRV")" 9 "and its summary counts 9 connections"
is "$(field zc_missing "$SRV")" 0 "with no zero-copy completion missing"
done_testing
