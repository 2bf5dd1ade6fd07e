#!/usr/bin/env bash
# docs/protocol.md is enough to write a peer: tests/tools/doc_client.py, written from it alone,
# against every server, in stream and rr, with and without verify; sequence numbers the server
# must echo (the key's product wrapping at 64 bits); the byte balance per connection; and the
# protocol's edges the document states: reserved bytes, breaking the protocol, abandoning.
# lane: beside (its network namespace is its own (unshare -n), its files are in a temporary directory); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
in_private_netns "$@"
scratch_dir
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
impls=(A1 A2 A3)
[ -x "$BIN/A4_server" ] && impls+=(A4)
need_programs "${impls[@]/%/_server}"

peer() { timeout 30 "$PY" "$ROOT/tests/tools/doc_client.py" 127.0.0.1 "$SRV_PORT" "$@" 2>&1 | tail -n 1; }
# sent PORT: the bytes the server says it sent on the connection from PORT (its log line)
sent() { sed -n "s/.*:$1: \(done\|ended\): .*messages, \([0-9]*\) bytes sent.*/\2/p" "$SRV_ERR" | tail -n 1; }
# server_line PORT: the server's last log line about the connection from PORT
server_line() { grep ":$1: " "$SRV_ERR" | tail -n 1; }
# wait_logged PORT: the server has logged the end of that connection (it logs after the close)
wait_logged() { for _ in $(seq 100); do [ -n "$(sent "$1")$(grep ":$1: no start" "$SRV_ERR")" ] && return 0; sleep 0.05; done; }

for impl in "${impls[@]}"; do
  n=${impl#A}
  start_server "$impl" -b 127.0.0.1 || { ok 1 "$impl server starts"; continue; }
  for c in "stream 1024 0.2" "stream 4096 0.2 --verify" "stream 16 0.1" "rr 4096 0.2 --verify --seqs 5,0,18446744073709551615,5"; do
    # shellcheck disable=SC2086 # word splitting intended: the case's arguments
    out=$(peer $c)
    port=$(field port "$out")
    like "$out" "status=0 impl=$n .*verify_errors=0 seq_errors=0 end=eof$" "$impl $c: served, every payload as the document says, EOF at the end"
    wait_logged "$port"
    is "$(field total_bytes "$out")" "$(sent "$port")" "$impl $c: byte balance: the server's bytes = the client's total_bytes"
  done
  # the loop's last case: rr with sequence numbers out of order, one past 2^63
  is "$(field messages "$out") $(field seq_errors "$out")" "4 0" "$impl rr: any sequence numbers are answered, each with its own"
  out=$(peer stream 1024 0.2 --hello-reserved)
  is "$(field status "$out")" 5 "$impl: a hello with a reserved byte not 0 gets status 5 (as a start with one is refused)"
  out=$(peer stream 1024 0.2 --start-reserved)
  like "$out" "messages=0 total_bytes=0 .*end=eof-early" "$impl: a start with a reserved byte not 0: closed, no data"
  out=$(peer stream 1024 0.3 --data-after-start)
  like "$out" "end=reset$" "$impl stream: data from the client after the start ends it with a reset"
  wait_logged "$(field port "$out")"
  like "$(server_line "$(field port "$out")")" "ended: recv: Protocol error" "$impl stream: and the server logs it as an error"
  out=$(peer rr 1024 0.2 --rr-reserved)
  like "$out" "messages=0 .*end=reset$" "$impl rr: a request with a reserved byte not 0: a reset"
  out=$(peer stream 1024 0.2 --abandon)
  port=$(field port "$out")
  wait_logged "$port"
  like "$(server_line "$port")" "no start: connection closed" "$impl: a connection closed after the reply is freed, logged once"
  kill -INT "$SRV_PID"; wait "$SRV_PID" 2>/dev/null
  res=$(grep '^result ' "$SRV_OUT")
  is "$(field errors "$res") $(field rejected "$res")" "2 1" "$impl: the server counts the two broken after the start as errors, the bad hello as rejected"
done
done_testing
