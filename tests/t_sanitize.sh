#!/usr/bin/env bash
# Re-runs the tests of the C programs against sanitizer builds:
#   build-asan/  -fsanitize=address,undefined (ASan, LeakSanitizer at exit, UBSan)
#   build-tsan/  -fsanitize=thread
# with CB_BIN pointing at the build (tests/lib.sh), and CB_QUICK=1 so the
# loops are shorter (t_faults: 10 kills per technique instead of 100; t_scale:
# 64 connections instead of 256). The C unit tests (tests/unit_*.c) are built and run too.
# Which tests: those that drive the programs' faults and memory (ASan: t_faults, t_hostile,
# t_footprint) and their threads (TSan: t_scale, t_hostile). t_options is not among them: its
# usage errors end before any thread or buffer exists, and unit_opts runs the parser under both.
# Every sanitizer report goes to a log file (log_path); any report fails.
#
#   bash tests/t_sanitize.sh            builds both, runs both (what `make test` does)
#   make sanitize / make tsan           builds one, runs one (CB_SAN=asan|tsan, --run)
# SAN_TESTS overrides the list of re-run tests; CB_QUICK=0 runs them in full.
# lane: beside (its builds are build-asan/ and build-tsan/, its re-run tests each in a namespace of their own); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
command -v clang >/dev/null || skip_all "clang not installed (make deps)"
[ "$(id -u)" = 0 ] || skip_all "the re-run tests need root (network namespaces)"
export CB_QUICK=${CB_QUICK:-1}
if [ "${1:-}" = --run ] && [ -n "${CB_SAN:-}" ]; then
  sans=("$CB_SAN")
else
  sans=(asan tsan)
  if ! make -s -j2 build-asan-build build-tsan-build tests/bin/cb_peer >/tmp/cb_san_build.$$ 2>&1; then
    ok 1 "sanitizer builds"; sed 's/^/# /' /tmp/cb_san_build.$$ | tail -20; rm -f /tmp/cb_san_build.$$
    done_testing; exit 1
  fi
  rm -f /tmp/cb_san_build.$$
  ok 0 "sanitizer builds (build-asan/, build-tsan/)"
fi
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT

# series SAN: one build's unit tests and re-run tests, as "STATUS<TAB>DESCRIPTION" lines (and "#"
# diagnostics), in order. The two builds' series run at once: much of t_hostile is waiting out
# peers' timeouts, time the other series uses.
series() {
  local san=$1 dir=$ROOT/build-$1 tests u t out rc p f start
  [ -x "$dir/A1_server" ] || { printf '1\t%s\n' "$san: $dir is built"; return; }
  mkdir -p "$LOGS/$san"
  # ASan: the faults (every error path frees what it made), hostile peers and the footprint's
  # message pools; TSan: 256 connections at once (t_scale) and hostile peers, where threads meet.
  if [ "$san" = asan ]; then tests=${SAN_TESTS:-t_faults t_hostile t_footprint}
  else tests=${SAN_TESTS:-t_scale t_hostile}; fi
  export CB_BIN=$dir
  export ASAN_OPTIONS="log_path=$LOGS/$san/asan:detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1"
  export UBSAN_OPTIONS="log_path=$LOGS/$san/ubsan:print_stacktrace=1:halt_on_error=1"
  export TSAN_OPTIONS="log_path=$LOGS/$san/tsan:second_deadlock_stack=1:halt_on_error=0"
  for u in "$dir"/tests/bin/unit_*; do
    [ -x "$u" ] || continue
    out=$(timeout 120 "$u" 2>&1); rc=$?
    p=$(grep -cE '^ok [0-9]+' <<<"$out"); f=$(grep -cE '^not ok [0-9]+' <<<"$out")
    printf '%s\t%s\n' "$([ "$rc" = 0 ] && [ "$f" = 0 ]; echo $?)" "$san: $(basename "$u") ($p passed, $f failed, exit $rc)"
    [ "$f" = 0 ] || grep -E '^not ok' <<<"$out" | sed -n 1,5p | sed 's/^/#   /'
  done
  for t in $tests; do
    start=$(date +%s)
    out=$(timeout 300 bash "tests/$t.sh" 2>&1); rc=$?
    p=$(grep -cE '^ok [0-9]+' <<<"$out"); f=$(grep -cE '^not ok [0-9]+' <<<"$out")
    printf '%s\t%s\n' "$([ "$rc" = 0 ] && [ "$f" = 0 ] && [ "$p" -gt 0 ]; echo $?)" \
      "$san: $t ($p passed, $f failed, exit $rc, $(( $(date +%s) - start ))s)"
    [ "$f" = 0 ] || grep -E -A3 '^not ok' <<<"$out" | sed -n 1,20p | sed 's/^/#   /'
  done
}
pids=()
for san in "${sans[@]}"; do
  series "$san" >"$LOGS/$san.tap" 2>&1 &
  pids+=($!)
done
wait "${pids[@]}"
for san in "${sans[@]}"; do
  while IFS= read -r line; do
    case $line in
      [01]$'\t'*) ok "${line%%$'\t'*}" "${line#*$'\t'}" ;;
      *) echo "$line" ;;
    esac
  done <"$LOGS/$san.tap"
  [ -d "$LOGS/$san" ] || continue
  reports=$(find "$LOGS/$san" -type f | wc -l)
  is "$reports" 0 "$san: no sanitizer reports from any program"
  if [ "$reports" != 0 ]; then
    for r in $(find "$LOGS/$san" -type f | sed -n 1,3p); do
      diag "--- $(basename "$r")"; grep -E 'ERROR|WARNING|SUMMARY|runtime error|#[0-9] ' "$r" | sed -n 1,15p | sed 's/^/#   /'
    done
    mkdir -p "$ROOT/build-$san/reports" && cp "$LOGS/$san"/* "$ROOT/build-$san/reports/"
    diag "all reports copied to build-$san/reports/"
  fi
done
done_testing
