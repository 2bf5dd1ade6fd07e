#!/usr/bin/env bash
# Every option of all six programs, table-driven: bad values (zero, negative,
# huge, overflow, non-numeric, empty), unknown options, missing values, extra
# arguments. Each must exit 2 with exactly one stderr line that names the
# option, never crash or hang. Boundary values must be accepted, --help
# exits 0 and shows the defaults. Runs in a private netns, so the accepted
# cases (which try to connect to a port where nothing listens) end at once.
# lane: beside (a network namespace of its own; no check of time); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
in_private_netns "$@"

OVER=99999999999999999999
TMO=10   # generous: the sanitizer builds start slowly
STMO=60  # a sweep's checks and dry run: a bash script and two Pythons, slow on a loaded machine

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
  F='--footprint'
  reject "$s" "$F" --footprint -1
  reject "$s" "$F" --footprint 1T
  reject "$s" "$F" --footprint 1.5M
  reject "$s" "$F" --footprint 65G
  reject "$s" "$F" --footprint "$OVER"
  reject "$s" "$F" --footprint ''
  reject "$s" "$F.*memory budget" --mem-budget 1M --footprint 2M
  reject "$s" "(--footprint)\\b.*missing" --footprint

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
# bench scripts (lib/size.sh) accept and refuse exactly the same sizes. (--no-plots: the grammar
# is the point, not the matplotlib check each accepted plan would make.)
# shellcheck source=../lib/size.sh disable=SC1091
. "$ROOT/lib/size.sh"
for sz in 16 15 1 0 4K 4k 64K 1M 64M 64m 65M 1G 1g 67108864 67108865 +16 -16 16B 1.5K 0x10 4KK 010 0016 ''; do
  err=$(timeout "$TMO" "$BIN/A1_client" -H 127.0.0.1 -p 9 -d 0.01 -s "$sz" 2>&1 >/dev/null); crc=$?
  [ "$crc" = 2 ] && c_ok=no || c_ok=yes
  CB_BIN_DIR=$BIN timeout "$TMO" bash "$ROOT/run_experiments.sh" --sizes "$sz" --dry-run --no-plots >/dev/null 2>&1; rrc=$?
  [ "$rrc" = 0 ] && r_ok=yes || r_ok=no
  cb_size_bytes "$sz" >/dev/null && l_ok=yes || l_ok=no
  is "$c_ok $r_ok $l_ok" "$c_ok $c_ok $c_ok" "size '$sz': client, run_experiments.sh and lib/size.sh agree ($c_ok)"
done
is "$(cb_size_bytes 4K) $(cb_size_bytes 64m) $(cb_size_bytes 0016)" "4096 67108864 16" "lib/size.sh: K, M and leading zeros (decimal, not octal)"
is "$(cb_bytes 2G) $(cb_bytes 1g)" "2147483648 1073741824" "lib/size.sh: G (the footprint's sizes)"

# The sweep's windows: the range the client's -d takes, refused before any work (a window the
# client refuses would fail every run after a 10 s wait). Plain decimals: both grammars agree.
for d in 0.01 0.009 86400 86401; do
  timeout "$TMO" "$BIN/A1_client" -H 127.0.0.1 -p 9 -d "$d" -s 1K >/dev/null 2>&1; crc=$?
  [ "$crc" = 2 ] && c_ok=no || c_ok=yes
  for o in --duration --rr-duration; do
    err=$(CB_BIN_DIR=$BIN timeout "$STMO" bash "$ROOT/run_experiments.sh" "$o" "$d" --dry-run --no-plots 2>&1 >/dev/null); rrc=$?
    [ "$rrc" = 0 ] && r_ok=yes || r_ok=no
    is "$c_ok $r_ok" "$c_ok $c_ok" "run_experiments.sh $o $d: accepted as the client's -d is ($c_ok)"
    [ "$rrc" = 0 ] || is "$rrc $(wc -l <<<"$err") ${err%%:*}" "2 1 run_experiments" "$o $d: one line, exit 2"
  done
done
# usage errors of the sweep found before any work: one line naming the option, exit 2
sweep_rejects() { # sweep_rejects REGEX ARGS...
  local re=$1 err rc; shift
  err=$(cd "$TMPD" && CB_BIN_DIR=$BIN timeout "$STMO" bash "$ROOT/run_experiments.sh" "$@" 2>&1 >/dev/null); rc=$?
  is "$rc $(wc -l <<<"$err")" "2 1" "run_experiments.sh $*: exit 2, one line"
  like "$err" "$re" "run_experiments.sh $*: names the option"
}
TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT
sweep_rejects "^run_experiments: --sizes: '4K,' has an empty item" --sizes 4K, --dry-run
sweep_rejects "^run_experiments: --threads: '1,,2' has an empty item" --threads 1,,2 --dry-run
sweep_rejects "^run_experiments: --impls: ',A1' has an empty item" --impls ,A1 --dry-run
sweep_rejects "^run_experiments: --out: cannot make directory '/proc/nope': " --out /proc/nope/x.csv --dry-run
sweep_rejects "^run_experiments: --out: cannot make directory '/proc/nope': " --out /proc/nope/x.csv --no-netns --quick
sweep_rejects "^run_experiments: --out: .*committed results' directory" --out "$ROOT/mine.csv" --dry-run
sweep_rejects "^run_experiments: --out: .*committed results' directory" --plots-only --out "$ROOT/mine.csv"
: >"$TMPD/file"
sweep_rejects "^run_experiments: --out: cannot make directory '$TMPD/file/sub'" --out "$TMPD/file/sub/r.csv" --dry-run

# --dry-run: every phase, profiling and plots included, and a total that is their sum; it makes
# nothing (not even the directory of --out).
out=$(CB_BIN_DIR=$BIN timeout "$STMO" bash "$ROOT/run_experiments.sh" --dry-run --impls A1,A2 --sizes 1K,4K --threads 1,2 \
  --duration 3 --rr-duration 1 --reps 2 --footprints none --out "$TMPD/new/dir/r.csv" 2>&1); rc=$?
is "$rc" 0 "--dry-run: exit 0"
like "$out" "^run_experiments: 32 runs planned" "--dry-run: counts the runs"
like "$out" "^  stream +16 +3\.6s +58s " "--dry-run: the stream phase, 16 runs of 3 s + 0.6 s"
like "$out" "^  rr +16 +1\.6s +26s " "--dry-run: the rr phase"
like "$out" "^  profile +4 +7\.0s +28s +perf record" "--dry-run: the profiling phase (on by default): 2 impls x 2 sizes"
like "$out" "^  plots +1 +30\.0s +30s " "--dry-run: the plots phase"
like "$out" "^  footprint +0 .*off \(--footprints none\)" "--dry-run --footprints none: the plan says so"
like "$out" "^  total +2m21s$" "--dry-run: the total is the sum of the phases (57.6 + 25.6 + 28 + 30 s)"
check "--dry-run made no directory" test ! -e "$TMPD/new"
# the footprint phase: 2 sizes x 2 thread counts x 2 impls x 2 reps of a 64 KiB footprint; 1K and 4K
# messages make 64 and 16 of them (its set-up is in the phase's per-run time)
out=$(CB_BIN_DIR=$BIN timeout "$STMO" bash "$ROOT/run_experiments.sh" --dry-run --impls A1,A2 --sizes 1K,4K --threads 1,2 \
  --reps 2 --footprints 64K --footprint-duration 2 --out "$TMPD/fp.csv" 2>&1)
like "$out" "^  footprint +16 +2\.[6-9]s .*cold data: 2 footprint x size point\(s\) x 2 thread count\(s\) x 2 rep\(s\), 2 s windows" \
  "--dry-run --footprints 64K: the footprint phase, 16 runs of 2 s"
out=$(CB_BIN_DIR=$BIN timeout "$STMO" bash "$ROOT/run_experiments.sh" --dry-run --quick --no-plots --out "$TMPD/q.csv" 2>&1)
like "$out" "^  profile +0 .*off \(--profile turns it on\)" "--dry-run --quick: profiling is off, and the plan says so"
like "$out" "^  plots +0 .*off \(--no-plots\)" "--dry-run --no-plots: the plan says so"
# lib/plan.py alone: a new phase joins the sum by one more line; a malformed line is refused
out=$(printf 'a\t2\t10\t0.5\tx\nnew\t1\t0\t100\ty\n' | python3 "$ROOT/lib/plan.py")
like "$out" "^total +2m01s$" "lib/plan.py: the total sums every phase line (2 x 10.5 + 100 s)"
err=$(printf 'a\t2\tten\t0\tx\n' | python3 "$ROOT/lib/plan.py" 2>&1); rc=$?
is "$rc $(wc -l <<<"$err")" "2 1" "lib/plan.py: a malformed phase line: exit 2, one line"
# matplotlib is checked before the sweep, unless --no-plots
mkdir -p "$TMPD/nompl/matplotlib"
echo 'raise ImportError("hidden by t_options")' >"$TMPD/nompl/matplotlib/__init__.py"
err=$(cd "$TMPD" && PYTHONPATH="$TMPD/nompl" CB_BIN_DIR=$BIN timeout "$STMO" bash "$ROOT/run_experiments.sh" --no-netns --quick \
  --impls A1 --sizes 1K --threads 1 --out "$TMPD/m/r.csv" 2>&1); rc=$?
is "$rc" 1 "no matplotlib: the sweep stops before its first run (exit 1)"
like "$err" "no Python with matplotlib.*or run with --no-plots" "no matplotlib: says to install it or add --no-plots"
check "no matplotlib: no CSV was started" test ! -e "$TMPD/m/r.csv"
done_testing
