#!/usr/bin/env bash
# Every option of all six programs, table-driven: bad values (zero, negative,
# huge, overflow, non-numeric, empty), unknown options, missing values, extra
# arguments. Each must exit 2 with exactly one stderr line that names the
# option, never crash or hang. Boundary values must be accepted, --help
# exits 0 and shows the defaults. Runs in a private netns, so the accepted
# cases (which try to connect to a port where nothing listens) end at once.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
in_private_netns "$@"

OVER=99999999999999999999
TMO=10   # generous: the sanitizer builds start slowly

# case BIN EXPECT_REGEX ARGS... : exit 2, one stderr line matching EXPECT_REGEX
reject() {
  local bin=$1 re=$2; shift 2
  local err rc lines desc
  desc="$bin $(printf '%q ' "$@")"
  err=$(timeout "$TMO" "$BIN/$bin" "$@" 2>&1 >/dev/null); rc=$?
  lines=$(printf '%s' "$err" | grep -c '')
  if [ "$rc" = 2 ] && [ "$lines" = 1 ] && grep -Eq -- "$re" <<<"$err"; then
    ok 0 "rejects: ${desc% }"
  else
    ok 1 "rejects: ${desc% }"
    diag "  exit $rc (want 2), $lines stderr lines (want 1), must match /$re/:"
    printf '%s\n' "$err" | sed -n 1,5p | sed 's/^/#   | /'
  fi
}

# accept BIN ARGS...: parsing succeeds: the client gets as far as connecting
# (exit 1, "connect ... refused"), never exit 2.
accept() {
  local bin=$1; shift
  local err rc desc
  desc="$bin $(printf '%q ' "$@")"
  err=$(timeout "$TMO" "$BIN/$bin" "$@" 2>&1 >/dev/null); rc=$?
  if [ "$rc" = 1 ] && grep -q 'connect' <<<"$err"; then
    ok 0 "accepts: ${desc% }"
  else
    ok 1 "accepts: ${desc% }"; diag "  exit $rc: ${err:0:300}"
  fi
}

for impl in A1 A2 A3 A4; do
  s=${impl}_server c=${impl}_client
  # ---- server ----
  P='-p/--port'
  reject "$s" "$P" -p -1
  reject "$s" "$P" -p 65536
  reject "$s" "$P" -p "$OVER"
  reject "$s" "$P" -p abc
  reject "$s" "$P" -p 1.5
  reject "$s" "$P" -p ''
  reject "$s" "$P" --port=
  reject "$s" "(-p|--port)\\b.*missing" -p
  reject "$s" "(-p|--port)\\b.*missing" --port
  N='-n/--clients'
  reject "$s" "$N" -n 0
  reject "$s" "$N" -n -3
  reject "$s" "$N" -n 1000001
  reject "$s" "$N" -n "$OVER"
  reject "$s" "$N" -n x
  reject "$s" "$N" -n ''
  reject "$s" "(-n|--clients)\\b.*missing" --clients
  reject "$s" "-b/--bind" -b ''
  reject "$s" "(-b|--bind)\\b.*missing" -b
  reject "$s" "'-x'" -x
  reject "$s" "'--bogus'" --bogus
  reject "$s" "option --quiet takes no value" --quiet=1
  reject "$s" "option --help takes no value" --help=yes
  reject "$s" "'foo'" foo
  reject "$s" "'foo'" -q foo
  reject "$s" "'-p'" -- -p 1

  # ---- client ----
  H=(-H 127.0.0.1)
  reject "$c" "-H/--host.*required"
  reject "$c" "-H/--host.*required" -p 1
  reject "$c" "-H/--host" -H ''
  reject "$c" "(-H|--host)\\b.*missing" -H
  P='-p/--port'
  reject "$c" "$P" "${H[@]}" -p 0
  reject "$c" "$P" "${H[@]}" -p -1
  reject "$c" "$P" "${H[@]}" -p 65536
  reject "$c" "$P" "${H[@]}" -p "$OVER"
  reject "$c" "$P" "${H[@]}" -p abc
  reject "$c" "$P" "${H[@]}" -p ''
  reject "$c" "(-p|--port)\\b.*missing" "${H[@]}" -p
  S='-s/--size'
  reject "$c" "$S" "${H[@]}" -s 0
  reject "$c" "$S" "${H[@]}" -s 15
  reject "$c" "$S" "${H[@]}" -s -1
  reject "$c" "$S" "${H[@]}" -s 67108865
  reject "$c" "$S" "${H[@]}" -s 65M
  reject "$c" "$S" "${H[@]}" -s 1G
  reject "$c" "$S" "${H[@]}" -s 4294967312
  reject "$c" "$S" "${H[@]}" -s "$OVER"
  reject "$c" "$S" "${H[@]}" -s 99999999999999999K
  reject "$c" "$S" "${H[@]}" -s 9223372036854775807M
  reject "$c" "$S" "${H[@]}" -s abc
  reject "$c" "$S" "${H[@]}" -s 16x
  reject "$c" "$S" "${H[@]}" -s K
  reject "$c" "$S" "${H[@]}" -s ''
  reject "$c" "(-s|--size)\\b.*missing" "${H[@]}" --size
  T='-t/--threads'
  reject "$c" "$T" "${H[@]}" -t 0
  reject "$c" "$T" "${H[@]}" -t -1
  reject "$c" "$T" "${H[@]}" -t 1025
  reject "$c" "$T" "${H[@]}" -t "$OVER"
  reject "$c" "$T" "${H[@]}" -t two
  reject "$c" "$T" "${H[@]}" -t ''
  D='-d/--duration'
  reject "$c" "$D" "${H[@]}" -d 0
  reject "$c" "$D" "${H[@]}" -d -1
  reject "$c" "$D" "${H[@]}" -d 86401
  reject "$c" "$D" "${H[@]}" -d "$OVER"
  reject "$c" "$D" "${H[@]}" -d 1e400
  reject "$c" "$D" "${H[@]}" -d nan
  reject "$c" "$D" "${H[@]}" -d inf
  reject "$c" "$D" "${H[@]}" -d 5s
  reject "$c" "$D" "${H[@]}" -d ''
  M='-m/--mode'
  reject "$c" "$M" "${H[@]}" -m foo
  reject "$c" "$M" "${H[@]}" -m RR
  reject "$c" "$M" "${H[@]}" -m ''
  I='-i/--interval'
  reject "$c" "$I" "${H[@]}" -i -1
  reject "$c" "$I" "${H[@]}" -i 0.001
  reject "$c" "$I" "${H[@]}" -i 3601
  reject "$c" "$I" "${H[@]}" -i x
  reject "$c" "(-i|--interval)\\b.*missing" "${H[@]}" -i
  reject "$c" "option --verify takes no value" "${H[@]}" --verify=1
  reject "$c" "'-z'" "${H[@]}" -z
  reject "$c" "'--bogus'" "${H[@]}" --bogus
  reject "$c" "'extra'" "${H[@]}" extra
  reject "$c" "'extra'" extra "${H[@]}"

  # Boundary values parse (the client then fails to connect: nothing listens).
  accept "$c" "${H[@]}" -p 9 -s 16 -d 0.01
  accept "$c" "${H[@]}" -p 65535 -s 64M -t 1 -d 86400 -i 0
  accept "$c" "${H[@]}" -p 9 -s 64K -t 2 -m rr -i 0.01 --verify
  accept "$c" --host=127.0.0.1 --port=9 --size=1k --threads=1 --duration=0.5 --mode=stream

  # --help: exit 0, usage on stdout, the defaults shown, nothing on stderr.
  for b in "$s" "$c"; do
    out=$(timeout "$TMO" "$BIN/$b" --help 2>/tmp/cb_opt_err.$$); rc=$?
    is "$rc" 0 "$b --help exits 0"
    like "$out" "^usage: " "$b --help prints usage"
    is "$(cat /tmp/cb_opt_err.$$)" "" "$b --help writes nothing to stderr"
    out2=$(timeout "$TMO" "$BIN/$b" -h 2>/dev/null)
    is "$out2" "$out" "$b -h is --help"
  done
  out=$(timeout "$TMO" "$BIN/$s" --help 2>/dev/null)
  like "$out" "default 5301" "$s --help shows the default port"
  out=$(timeout "$TMO" "$BIN/$c" --help 2>/dev/null)
  like "$out" "default 5301" "$c --help shows the default port"
  like "$out" "default 65536" "$c --help shows the default size"
  like "$out" "--threads.*default 1\\)" "$c --help shows the default threads"
  like "$out" "--duration.*default 5\\)" "$c --help shows the default duration"
  like "$out" "default stream" "$c --help shows the default mode"
  # The usage line lists every option the help describes; numbers show their range.
  usage_line=$(sed -n 1p <<<"$out")
  missing=""
  while read -r short long; do
    [ "$long" = --help ] && continue
    [[ "$usage_line" == *"$short "* || "$usage_line" == *"$long"* ]] || missing="$missing $long"
  done < <(sed -nE 's/^  (-[a-zA-Z]),? +(--[a-z-]+).*/\1 \2/p; s/^      (--[a-z-]+).*/\1 \1/p' <<<"$out")
  is "$missing" "" "$c --help: the usage line names every option"
  for o in --size --threads --duration --interval --rcvlowat; do
    like "$(grep -E -- "$o " <<<"$out")" '[0-9]\.\.[0-9]' "$c --help: $o shows its range"
  done
  like "$out" "130 interrupted" "$c --help names exit code 130"
done
rm -f /tmp/cb_opt_err.$$

# A technique's own option: A4's --queue-depth, range-checked like every number; the others
# do not have it. --help lists it with its range and default.
Q='--queue-depth'
for v in 0 257 -1 "$OVER" x 1.5 ''; do reject A4_server "$Q" --queue-depth "$v"; done
reject A4_server "$Q.*missing" --queue-depth
reject A4_server "$Q" --queue-depth=
for impl in A1 A2 A3; do reject "${impl}_server" "'--queue-depth'" --queue-depth 8; done
out=$(timeout "$TMO" "$BIN/A4_server" --help 2>/dev/null)
like "$out" "--queue-depth N .*1\.\.256 \(default [0-9]+\)" "A4_server --help: --queue-depth with its range and default"
for v in 1 256; do
  start_server A4 --queue-depth "$v"
  like "$(sed -n 1p "$SRV_OUT")" "^listening .* queue_depth=$v " "A4_server --queue-depth $v is accepted and stated in the first line"
  kill -TERM "$SRV_PID"; wait "$SRV_PID"; rm -f "$SRV_OUT" "$SRV_ERR"
done

# One size grammar everywhere: the clients (cb_parse_size), run_experiments.sh --sizes and the
# bench scripts (lib/size.sh) accept and refuse exactly the same sizes.
# shellcheck source=../lib/size.sh disable=SC1091
. "$ROOT/lib/size.sh"
for sz in 16 15 1 0 4K 4k 64K 1M 64M 64m 65M 67108864 67108865 +16 -16 16B 1.5K 0x10 4KK 010 0016 ''; do
  err=$(timeout "$TMO" "$BIN/A1_client" -H 127.0.0.1 -p 9 -d 0.01 -s "$sz" 2>&1 >/dev/null); crc=$?
  [ "$crc" = 2 ] && c_ok=no || c_ok=yes
  CB_BIN_DIR=$BIN timeout "$TMO" bash "$ROOT/run_experiments.sh" --sizes "$sz" --dry-run >/dev/null 2>&1; rrc=$?
  [ "$rrc" = 0 ] && r_ok=yes || r_ok=no
  cb_size_bytes "$sz" >/dev/null && l_ok=yes || l_ok=no
  is "$c_ok $r_ok $l_ok" "$c_ok $c_ok $c_ok" "size '$sz': client, run_experiments.sh and lib/size.sh agree ($c_ok)"
done
is "$(cb_size_bytes 4K) $(cb_size_bytes 64m) $(cb_size_bytes 0016)" "4096 67108864 16" "lib/size.sh: K, M and leading zeros (decimal, not octal)"
done_testing
