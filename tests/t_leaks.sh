#!/usr/bin/env bash
# valgrind memcheck over a normal run of every server and client: a stream
# and an rr connection (2 threads each, --verify), the server exiting by
# itself after -n. No memory errors, nothing definitely or indirectly lost.
# Private netns.
# lane: beside (its network namespace is its own (unshare -n), its files are in a temporary directory); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
in_private_netns "$@"
command -v valgrind >/dev/null || skip_all "valgrind not installed"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
VG=(valgrind --tool=memcheck --leak-check=full "--show-leak-kinds=definite,indirect"
    "--errors-for-leak-kinds=definite,indirect" --error-exitcode=99 --track-origins=no)

vg_ok() { # vg_ok LOG DESC
  local e d i
  e=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$1" | tail -n 1)
  d=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$1" | tail -n 1)
  i=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$1" | tail -n 1)
  is "${e:-?}" 0 "$2: valgrind error summary 0"
  # "All heap blocks were freed" prints no lost lines at all.
  ok "$([ "${d:-0}" = 0 ] && [ "${i:-0}" = 0 ]; echo $?)" "$2: nothing definitely/indirectly lost (${d:-0}/${i:-0} bytes)"
}

for impl in A1 A2 A3 A4; do
  "${VG[@]}" --log-file="$TMP/$impl.server.vg" "$BIN/${impl}_server" -p 0 -n 4 -q >"$TMP/s.out" 2>"$TMP/s.err" &
  spid=$!
  for _ in $(seq 1 400); do grep -q '^listening' "$TMP/s.out" && break; sleep 0.025; done
  port=$(sed -n 's/^listening .*port=\([0-9]*\).*/\1/p' "$TMP/s.out")
  for mode in stream rr; do
    out=$(timeout 120 "${VG[@]}" --log-file="$TMP/$impl.$mode.vg" "$BIN/${impl}_client" -H 127.0.0.1 -p "$port" \
      -t 2 -s 4K -m "$mode" -d 1 -i 0.5 --verify 2>&1); rc=$?
    is "$rc" 0 "$impl $mode client under valgrind exits 0"
    is "$(field verify_errors "$(printf '%s\n' "$out" | grep '^result')")" 0 "$impl $mode client: verify_errors=0"
    vg_ok "$TMP/$impl.$mode.vg" "$impl $mode client"
  done
  timeout 60 tail --pid="$spid" -f /dev/null
  wait "$spid"; rc=$?
  is "$rc" 0 "$impl server under valgrind exits 0 after -n 4"
  like "$(grep '^result' "$TMP/s.out")" "clients=4 rejected=0 errors=0" "$impl server served all 4 connections"
  vg_ok "$TMP/$impl.server.vg" "$impl server"
  for f in "$TMP"/"$impl".*.vg; do
    grep -q 'ERROR SUMMARY: 0 errors' "$f" || grep -E '==[0-9]+== (Invalid|Conditional|Syscall|.*lost in)' "$f" | sed -n 1,10p | sed 's/^/#   /'
  done
done
done_testing
