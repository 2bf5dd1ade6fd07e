# shellcheck shell=bash
# TAP helpers for the bash tests: each check prints "ok N - what" or
# "not ok N - what"; tests/run.sh tallies them.
TAP_N=0
TAP_FAILED=0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ROOT

ok() { # ok CONDITION_EXIT_STATUS DESCRIPTION  -- usage: ok "$( [ ... ]; echo $? )" "desc" or check
  TAP_N=$((TAP_N + 1))
  if [ "$1" = 0 ]; then echo "ok $TAP_N - $2"; else echo "not ok $TAP_N - $2"; TAP_FAILED=$((TAP_FAILED + 1)); fi
}
check() { # check DESCRIPTION COMMAND...: passes when the command exits 0
  local desc=$1; shift
  if "$@"; then ok 0 "$desc"; else ok 1 "$desc"; fi
}
is() { # is GOT WANT DESCRIPTION
  if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; echo "#   got: '$1'" ; echo "#  want: '$2'"; fi
}
like() { # like TEXT EXTENDED_REGEX DESCRIPTION
  # A here-string, not `printf | grep -q`: under pipefail grep -q's early exit can kill printf
  # with SIGPIPE and turn a match into a failure.
  if grep -Eq -- "$2" <<<"$1"; then ok 0 "$3"; else ok 1 "$3"; echo "#   text: '${1:0:400}'"; echo "#  regex: '$2'"; fi
}
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
diag() { echo "# $*"; }
# tasks_beside: tasks running on the machine besides the reader, the fewest of 10 looks at
# /proc/stat procs_running 50 ms apart (a passing kernel worker does not count).
tasks_beside() {
  for _ in $(seq 10); do awk '/^procs_running/ { print $2 - 1 }' /proc/stat; sleep 0.05; done | sort -n | sed -n 1p
}
done_testing() { echo "1..$TAP_N"; [ "$TAP_FAILED" = 0 ]; }
# need_programs NAME...: exports CB_BIN_DIR (the programs under test: BIN, absolute) and ends
# the test with one failing line if one of them is not built.
need_programs() {
  local b
  CB_BIN_DIR=$(cd "${BIN:-$ROOT}" && pwd); export CB_BIN_DIR
  for b in "$@"; do
    [ -x "$CB_BIN_DIR/$b" ] || { echo "not ok 1 - $CB_BIN_DIR/$b is not built (run make)"; echo "1..1"; exit 1; }
  done
}

# PROMPT_MS: how long a client may take to exit after Ctrl-C before a test calls it a failure.
# Its own deadline is 0.8 s after the signal (the drain's 250 ms, then every socket shut at 800 ms)
# and it exits in 0.33-0.41 s on a quiet machine (docs/reliability.md); the gate is wide because a
# loaded 2-core machine once took 1.33 s to schedule it, while the faults it guards against (a
# drain that read on, the 10 s grace) take 10 s or more.
# shellcheck disable=SC2034 # used by the test files that source this
PROMPT_MS=5000

need_root() { [ "$(id -u)" = 0 ] || skip_all "needs root (network namespaces)"; }

# Every technique: the loops over techniques (t_integration, t_numbers) run these; a new one
# joins them by its name here.
# shellcheck disable=SC2034 # read by the tests that source this file
TECHS=(A1 A2 A3 A4)

# field NAME LINE: value of key=value field NAME in a result line
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | sed -n 1p; }

# py: the Python 3 interpreter itself, resolved once (PY): through a pyenv shim every start
# costs a shell and, on a loaded machine, up to seconds.
py() {
  [ -n "${PY:-}" ] || PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || PY=python3
  "$PY" "$@"
}
# numbers DESCRIPTION ARGS...: one check by tests/tools/numbers.py ARGS (a result line's own
# arithmetic, and the oracles of docs/reliability.md); what it found, as diagnostics.
numbers() {
  local desc=$1 out rc
  shift
  out=$(py "$ROOT/tests/tools/numbers.py" "$@" 2>&1); rc=$?
  ok "$rc" "$desc"
  [ "$rc" = 0 ] || sed -n 1,12p <<<"$out" | sed 's/^/#   /'
}
# numbers_later DESCRIPTION ARGS...: the same check, queued; numbers_run runs every queued one
# with one Python start (on a loaded machine a start costs up to a second) and reports them in
# order. The arguments must hold no tab (result lines have none).
numbers_later() {
  [ -n "${NUMBERS_QUEUE:-}" ] || NUMBERS_QUEUE=$(mktemp)
  local IFS=$'\t'
  printf '%s\n' "$*" >>"$NUMBERS_QUEUE"
}
numbers_fails_later() { # ... a check that must fail (the checker's own tests)
  local desc=$1
  shift
  numbers_later "!$desc" "$@"
}
numbers_run() {
  local out line
  [ -s "${NUMBERS_QUEUE:-}" ] || return 0
  out=$(py "$ROOT/tests/tools/numbers.py" batch "$NUMBERS_QUEUE" 2>&1)
  while IFS= read -r line; do
    case "$line" in
      "ok "*) ok 0 "${line#ok }" ;;
      "not ok "*) ok 1 "${line#not ok }" ;;
      *) echo "$line" ;;
    esac
  done <<<"$out"
  rm -f "$NUMBERS_QUEUE"; NUMBERS_QUEUE=""
}

# Where the programs under test are: the repo root, or a sanitizer build
# directory when tests/t_sanitize.sh re-runs the suite (CB_BIN=build-asan).
BIN=${CB_BIN:-$ROOT}
export BIN

# start_server IMPL [ARGS...]: starts BIN/IMPL_server -p 0 in the background
# (in whatever namespace the test runs in), waits for its 'listening' line;
# sets SRV_PID, SRV_PORT, SRV_OUT (stdout file), SRV_ERR (stderr file).
start_server() {
  local impl=$1; shift
  SRV_OUT=$(mktemp) SRV_ERR=$(mktemp)
  "$BIN/${impl}_server" -p 0 "$@" >"$SRV_OUT" 2>"$SRV_ERR" &
  SRV_PID=$!
  for _ in $(seq 1 200); do
    grep -q '^listening' "$SRV_OUT" && break
    kill -0 "$SRV_PID" 2>/dev/null || break
    sleep 0.025
  done
  SRV_PORT=$(sed -n 's/^listening .*port=\([0-9]*\).*/\1/p' "$SRV_OUT")
  [ -n "$SRV_PORT" ]
}

# in_private_netns: re-exec this test script inside its own network namespace
# with only a loopback, so no port of the host's is ever assumed free.
in_private_netns() {
  if [ -z "${CB_IN_NETNS:-}" ]; then
    need_root
    CB_IN_NETNS=1 exec unshare -n bash "$0" "$@"
  fi
  ip link set lo up
}

# scratch_dir: sets TMP to a new directory; at exit, kills this test's
# background jobs (servers, peers) and removes TMP.
scratch_dir() {
  TMP=$(mktemp -d)
  trap '_scratch_cleanup' EXIT
}
_scratch_cleanup() {
  local p
  for p in $(jobs -p); do kill -9 "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
