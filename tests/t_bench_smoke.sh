#!/usr/bin/env bash
# Smoke test of the benchmark tooling: bench/run.sh --quick and a small
# bench/scale.sh. Checks that every number the tables promise is there and
# positive; never how fast anything is (the machine is shared and noisy).
set -uo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
command -v iperf3 >/dev/null 2>&1 || skip_all "iperf3 not installed (make deps)"
command -v sockperf >/dev/null 2>&1 || skip_all "sockperf not installed (make deps)"
command -v unshare >/dev/null 2>&1 || skip_all "unshare not available"
if [ ! -x "$ROOT/bench/memcpy_ceiling" ] || [ "$ROOT/bench/memcpy_ceiling.c" -nt "$ROOT/bench/memcpy_ceiling" ]; then
  make -s -C "$ROOT" bench/memcpy_ceiling >/dev/null 2>&1
fi
check "bench/memcpy_ceiling builds" test -x "$ROOT/bench/memcpy_ceiling"

TMPD=$(mktemp -d)
trap 'rm -rf "$TMPD"' EXIT

# cell TABLE SIZE NAME COLUMN: trimmed cell COLUMN (1 = size, 2 = impl) of the row
# whose first two cells are SIZE and NAME (NAME matched as a prefix).
cell() {
  awk -F'|' -v s="$2" -v n="$3" -v c="$4" '
    function trim(x) { gsub(/^ +| +$/, "", x); return x }
    trim($2) == s && index(trim($3), n) == 1 { print trim($(c + 1)); exit }' <<<"$1"
}
positive() { awk -v v="$1" 'BEGIN { exit !(v ~ /^[0-9]+(\.[0-9]+)?$/ && v + 0 > 0) }'; }
nonneg() { awk -v v="$1" 'BEGIN { exit !(v ~ /^[0-9]+(\.[0-9]+)?$/) }'; }

# ---- memcpy_ceiling on its own ---------------------------------------------
line=$("$ROOT/bench/memcpy_ceiling" -t 0.05 4K | tail -n 1)
g=$(field gbit_per_s "$line")
check "memcpy_ceiling 4K reports Gbit/s > 0 ($g)" positive "$g"
"$ROOT/bench/memcpy_ceiling" -t 0.05 3 >/dev/null 2>&1
is "$?" 2 "memcpy_ceiling: bad size exits 2"

# ---- run.sh --------------------------------------------------------------------
out=$(bash "$ROOT/bench/run.sh" --bogus 2>&1); rc=$?
is "$rc" 2 "run.sh: unknown option exits 2"
is "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 1 "run.sh: unknown option gives a one-line error"
bash "$ROOT/bench/run.sh" --rounds 0 >/dev/null 2>&1
is "$?" 2 "run.sh: --rounds 0 exits 2"
bash "$ROOT/bench/run.sh" --impls A1,A9 >/dev/null 2>&1
is "$?" 2 "run.sh: unknown impl exits 2"
like "$(bash "$ROOT/bench/run.sh" --help)" '--quick' "run.sh --help lists the options"

start=$(date +%s)
table=$(bash "$ROOT/bench/run.sh" --quick --out "$TMPD/bench.md" 2>"$TMPD/bench.err"); rc=$?
diag "run.sh --quick took $(( $(date +%s) - start )) s"
is "$rc" 0 "run.sh --quick exits 0"
[ "$rc" = 0 ] || diag "$(tail -n 5 "$TMPD/bench.err")"
check "run.sh --out wrote the same table" cmp -s <(printf '%s\n' "$table") "$TMPD/bench.md"
like "$table" 'steal share over the whole bench: [0-9.]+%' "table states the steal share"
like "$table" 'kernel [0-9]' "table states the kernel"
like "$table" 'failed runs: 0' "no run failed"
for size in 1K 64K; do
  for impl in A1 A2 A3 A4; do
    g=$(cell "$table" "$size" "$impl" 3)
    r=$(cell "$table" "$size" "$impl" 4); r=${r%% *}
    c=$(cell "$table" "$size" "$impl" 5)
    st=$(cell "$table" "$size" "$impl" 7)
    check "stream $size $impl: Gbps > 0 ($g)" positive "$g"
    check "stream $size $impl: ratio vs iperf3 > 0 ($r)" positive "$r"
    check "stream $size $impl: receiver CPU % > 0 ($c)" positive "$c"
    check "stream $size $impl: steal % is a number ($st)" nonneg "$st"
  done
  g=$(cell "$table" "$size" "iperf3" 3)
  check "stream $size iperf3: Gbps > 0 ($g)" positive "$g"
  like "$(cell "$table" "$size" A3 8)" 'zc_copied/zc_completions = [0-9]+/[1-9][0-9]*' "stream $size A3: zero-copy completions counted"
  like "$(cell "$table" "$size" A4 8)" 'zc_copied/zc_completions = [0-9]+/[1-9][0-9]*' "stream $size A4: zero-copy notifications counted"
  a4row=$(printf '%s\n' "$table" | sed -n '/^### io_uring zero-copy (A4)/,/^### memcpy/p' | grep "^| $size | A4 |")
  like "$a4row" "^\| $size \| A4 \| [0-9.]+ \[[0-9.]+–[0-9.]+\] \| [0-9.]+ .*\| [0-9.]+ .*\| [0-9.]+ " \
    "stream $size: A4/A3 and A4/A2 throughput and CPU-per-byte ratios from the same rounds"
  like "$(cell "$table" "$size" A1 8)" 'A1/pred = [0-9.]+ ' "stream $size A1: compared with its predicted rate"
  mrow=$(printf '%s\n' "$table" | sed -n '/^### memcpy/,/^###/p' | grep "^| $size |" | sed -n 1,1p)
  mg=$(printf '%s\n' "$mrow" | awk -F'|' '{gsub(/ /, "", $4); print $4}')
  mc=$(printf '%s\n' "$mrow" | awk -F'|' '{gsub(/ /, "", $5); print $5}')
  check "memcpy ceiling $size: hot Gbit/s > 0 ($mg)" positive "$mg"
  check "memcpy ceiling $size: cold Gbit/s > 0 ($mc)" positive "$mc"
done
# A1 vs A2 with cold data (--footprint, 32M in --quick) beside the hot runs of the same round
cold=$(printf '%s\n' "$table" | sed -n '/^### Hot vs cold/,/^### memcpy/p')
for size in 1K 64K; do
  row=$(grep "^| $size |" <<<"$cold")
  like "$row" "^\| $size \| [0-9.]+ \[[0-9.]+.[0-9.]+\] \| [0-9.]+ \[[0-9.]+.[0-9.]+\] \| [0-9.]+ \| [0-9.]+ \|" \
    "hot vs cold $size: A1/A2 ratios hot and cold, each technique's cold/hot"
  g=$(cell "$table" "$size" "A1, footprint 32M" 3)
  check "stream $size A1 with a 32 MiB footprint: Gbps > 0 ($g)" positive "$g"
done
rr=$(printf '%s\n' "$table" | sed -n '/^### Request/,$p')
for impl in A1 A2 A3 A4 sockperf; do
  p50=$(cell "$rr" 64 "$impl" 3) p99=$(cell "$rr" 64 "$impl" 4)
  check "rr 64 $impl: p50 > 0 ($p50)" positive "$p50"
  check "rr 64 $impl: p99 > 0 ($p99)" positive "$p99"
  if [ "$impl" != sockperf ]; then
    q=$(cell "$rr" 64 "$impl" 5); q=${q%% *}
    check "rr 64 $impl: p50 ratio vs sockperf > 0 ($q)" positive "$q"
  fi
done

# ---- scale.sh -------------------------------------------------------------------
bash "$ROOT/bench/scale.sh" --layouts 3x3 >/dev/null 2>&1
is "$?" 2 "scale.sh: a layout that does not make --conns exits 2"
start=$(date +%s)
stable=$(bash "$ROOT/bench/scale.sh" --quick 2>"$TMPD/scale.err"); rc=$?
diag "scale.sh --quick took $(( $(date +%s) - start )) s"
is "$rc" 0 "scale.sh --quick exits 0"
[ "$rc" = 0 ] || diag "$(tail -n 5 "$TMPD/scale.err")"
for impl in A1 A2 A3; do
  for layout in 8x4 1x32; do
    row=$(printf '%s\n' "$stable" | grep "^| $impl | $layout |")
    like "$row" "^\| $impl \| $layout \| 32/32 \| 0 / 0 \| yes \|" "scale $impl $layout: all 32 connections served, no errors"
    g=$(printf '%s\n' "$row" | awk -F'|' '{gsub(/ /, "", $7); print $7}')
    k=$(printf '%s\n' "$row" | awk -F'|' '{gsub(/ /, "", $11); print $11}')
    like "$row" "\| [0-9]+ \((yes|NO)\) \|" "scale $impl $layout: the fewest messages a connection got, measured (fairness judged by the bench's reader)"
    check "scale $impl $layout: total Gbps > 0 ($g)" positive "$g"
    check "scale $impl $layout: KiB per connection > 0 ($k)" positive "$k"
  done
done

done_testing
