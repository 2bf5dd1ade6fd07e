#!/usr/bin/env bash
# plots.py on synthetic CSVs built here (with and without hardware counters) and on bad CSVs.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

PY=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import matplotlib' >/dev/null 2>&1; then PY=$p; break; fi
done
[ -n "$PY" ] || skip_all "no Python with matplotlib (apt-get install python3-matplotlib)"
diag "using $PY"

HEADER="impl,mode,msg_size,threads,rep,duration_s,throughput_gbps,msgs_per_s,lat_p50_us,lat_p99_us,lat_max_us,cycles,instructions,l1d_misses,llc_misses,context_switches,cpu_migrations,task_clock_ms,cycles_per_byte,cpu_ns_per_byte,zc_sends,zc_completions,zc_copied,verify_errors,client_cpu_pct,steal_pct,netns"

# synth HW(0|1): A2 beats A1 from 4 KiB on, A3 from 16 KiB on; rep spread +-5%.
synth() {
  awk -v hw="$1" -v header="$HEADER" 'BEGIN {
    print header
    split("A1 A2 A3", impls, " "); split("1024 4096 16384 65536", sizes, " "); split("1 4", ths, " ")
    for (r = 1; r <= 3; r++) for (s = 1; s <= 4; s++) for (t = 1; t <= 2; t++) for (m = 1; m <= 2; m++) for (i = 1; i <= 3; i++) {
      impl = impls[i]; size = sizes[s]; th = ths[t]; mode = (m == 1 ? "stream" : "rr")
      g = 10
      if (impl == "A2") g = (size >= 4096 ? 12 : 9)
      if (impl == "A3") g = (size >= 16384 ? 15 : 5)
      g = g * (1 + (r - 2) * 0.05) * (th == 4 ? 1.5 : 1)
      if (mode == "rr") g = g / 10
      bytes = g * 1e9 / 8 * 5
      tc = 5000 * (impl == "A1" ? 1.0 : 0.6)
      cyc = hw ? sprintf("%.0f", tc * 3e6) : ""; ins = hw ? sprintf("%.0f", tc * 4e6) : ""
      l1 = hw ? sprintf("%.0f", bytes / 64 * (impl == "A1" ? 2 : 1)) : ""; llc = hw ? sprintf("%.0f", bytes / 4096) : ""
      cpb = hw ? sprintf("%.4f", tc * 3e6 / bytes) : ""
      zs = zc = zcp = ""
      if (impl == "A3") { zs = 1000; zc = 1000; zcp = (size >= 16384 ? 100 : 900) }
      printf "%s,%s,%d,%d,%d,5.000,%.3f,%.1f,%.1f,%.1f,%.1f,%s,%s,%s,%s,100,2,%.2f,%s,%.4f,%s,%s,%s,0,55.0,%.2f,1\n",
        impl, mode, size, th, r, g, g * 1e9 / 8 / size, 20 * th + i, 80 * th + i * 5, 400 * th, cyc, ins, l1, llc, tc, cpb, tc * 1e6 / bytes, zs, zc, zcp, r * 0.1
    }
  }'
}
cat >"$tmp/hw.machine.txt" <<'M'
date: 2026-01-01T00:00:00Z
command: run_experiments.sh (synthetic)
kernel: Linux 6.99.0-test
cpu_model: Synthetic CPU 9000
cores: 8
virtualization: none
perf: perf version 6.1
hw_counters: yes
netns: 1
M
synth 1 >"$tmp/hw.csv"
synth 0 >"$tmp/nohw.csv"
sed 's/^hw_counters: yes/hw_counters: no/' "$tmp/hw.machine.txt" >"$tmp/nohw.machine.txt"
is "$(wc -l <"$tmp/hw.csv" | tr -d ' ')" 145 "synthetic CSV has 144 rows + header"

png_ok() { # all six PNGs exist with the PNG signature
  local d=$1 f
  for f in throughput_vs_size latency_vs_threads cache_misses_vs_size cycles_per_byte_vs_size cpu_ns_per_byte_vs_size zc_copied_share; do
    [ "$(head -c 8 "$d/$f.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo "# bad or missing $f.png"; return 1; }
  done
}

out=$("$PY" plots.py "$tmp/hw.csv" --out-dir "$tmp/hw_plots" 2>&1); rc=$?
is "$rc" 0 "with counters: exit 0"
check "with counters: six valid PNGs" png_ok "$tmp/hw_plots"
sum=$(cat "$tmp/hw_plots/summary.md" 2>/dev/null)
like "$sum" "Synthetic CPU 9000" "summary names the machine from the side file"
like "$sum" 'Smallest size at which A2 beats A1: \*\*4 KiB\*\*' "summary: A2 beats A1 from 4 KiB"
like "$sum" 'Smallest size at which A3 beats A1: \*\*16 KiB\*\*' "summary: A3 beats A1 from 16 KiB"
like "$sum" '\| 64 KiB \| A3 \(15\.0\) \| A3 \(22\.5\) \|' "summary: best technique per size and thread count"
like "$sum" 'Overall: 50\.0% of 48000 completed zero-copy sends were copied' "summary: share of zero-copy sends copied"
like "$sum" 'hardware counters: yes' "summary: counter availability"
like "$sum" 'Columns with data: cycles, instructions, l1d_misses, llc_misses' "summary: which counters had data"
like "$sum" 'steal_pct per run: median 0\.20%, max 0\.30%' "summary: steal"
like "$sum" 'min-max' "summary says what the spread is"
like "$sum" '\| A1 \| 8 \| 5\.0% \| 5\.0% \|' "summary: repeatability, CV of reps per configuration (synthetic spread is +-5%)"
if printf '%s' "$out" | grep -q 'counters absent'; then ok 1 "with counters: no fallback note"; else ok 0 "with counters: no fallback note"; fi

out=$("$PY" plots.py "$tmp/nohw.csv" --out-dir "$tmp/nohw_plots" 2>&1); rc=$?
is "$rc" 0 "without counters: exit 0"
check "without counters: six valid PNGs" png_ok "$tmp/nohw_plots"
like "$out" "hardware counters absent.*cache_misses_vs_size.*cycles_per_byte_vs_size" "without counters: the cache/cycles figures fall back and say so"
sum=$(cat "$tmp/nohw_plots/summary.md" 2>/dev/null)
like "$sum" 'Empty \(not supported / not counted / perf off\): cycles, instructions, l1d_misses, llc_misses' "summary lists the empty counters"
like "$sum" 'hardware counters: no' "summary: hardware counters no"

# no rr rows, no A3: still works, the figures say what is missing
grep -v ',rr,' "$tmp/nohw.csv" | grep -v '^A3,' >"$tmp/norr.csv"
out=$("$PY" plots.py "$tmp/norr.csv" --out-dir "$tmp/norr_plots" 2>&1); rc=$?
is "$rc" 0 "stream-only CSV without A3: exit 0"
check "stream-only CSV without A3: six valid PNGs" png_ok "$tmp/norr_plots"
like "$(cat "$tmp/norr_plots/summary.md")" "A3 vs A1: not measured" "summary says A3 was not measured"
like "$out" "machine: unknown|wrote" "missing side file is not an error"

# pure functions: empty cells are skipped, never zero
res=$(cd "$ROOT" && "$PY" -c '
import plots
rows = plots.parse_rows(open("'"$tmp/nohw.csv"'"))
print(plots.series(rows, "msg_size", "cycles", impl="A1", mode="stream"))
print(len(plots.series(rows, "msg_size", "cpu_ns_per_byte", impl="A1", mode="stream", threads=1)))
print(plots.summarize([3.0, 1.0, 2.0]))
r = [dict(impl="A1", mode="stream", msg_size=1, threads=1, x=None), dict(impl="A1", mode="stream", msg_size=1, threads=1, x=5.0)]
print(plots.series(r, "msg_size", "x"))
' 2>&1)
is "$res" "[]
4
(2.0, 1.0, 3.0)
[(1, 5.0, 5.0, 5.0)]" "series/summarize skip empty cells (no zeros)"

# bad input: one clear line, exit 2
bad() { # bad NAME EXPECTED_REGEX  (CSV in $tmp/NAME.csv)
  local o rc
  o=$("$PY" plots.py "$tmp/$1.csv" --out-dir "$tmp/bad_plots" 2>&1); rc=$?
  is "$rc" 2 "bad CSV ($1): exit 2"
  like "$o" "$2" "bad CSV ($1): clear message"
  is "$(printf '%s\n' "$o" | wc -l | tr -d ' ')" 1 "bad CSV ($1): one line"
}
sed 's/,throughput_gbps,/,gbps,/' "$tmp/hw.csv" >"$tmp/missing_col.csv"; bad missing_col "missing column\(s\): throughput_gbps"
sed '3s/^\(A[0-9],stream,[0-9]*,[0-9]*,[0-9]*,[0-9.]*\),[0-9.]*,/\1,fast,/' "$tmp/hw.csv" >"$tmp/not_number.csv"; bad not_number "line 3: column throughput_gbps: 'fast' is not a number"
{ head -n 2 "$tmp/hw.csv"; echo "A1,stream,1024,1"; } >"$tmp/short_row.csv"; bad short_row "line 3 has 4 cells, header has 27"
printf 'a,b,c\n1,2,3\n' >"$tmp/other_file.csv"; bad other_file "missing column"
: >"$tmp/empty.csv"; bad empty "empty file"
echo "$HEADER" >"$tmp/header_only.csv"; bad header_only "no data rows"
o=$("$PY" plots.py "$tmp/nope.csv" 2>&1); rc=$?
is "$rc" 2 "missing file: exit 2"
like "$o" "nope.csv: No such file" "missing file: clear message"
check "no PNGs written for bad input" bash -c "! ls '$tmp/bad_plots'/*.png >/dev/null 2>&1"

# a Python without matplotlib: exit 1 with the install hint
nompl=""
for p in python3 /usr/local/bin/python3 "$HOME/.pyenv/shims/python3"; do
  if command -v "$p" >/dev/null 2>&1 && ! "$p" -c 'import matplotlib' >/dev/null 2>&1; then nompl=$p; break; fi
done
if [ -n "$nompl" ]; then
  o=$("$nompl" plots.py "$tmp/hw.csv" --out-dir "$tmp/x" 2>&1); rc=$?
  is "$rc" 1 "Python without matplotlib: exit 1"
  like "$o" "install python3-matplotlib" "Python without matplotlib: says install python3-matplotlib"
else
  diag "every python3 here has matplotlib: the missing-matplotlib check is skipped"
fi
check "t_plots.sh is shellcheck-clean" shellcheck tests/t_plots.sh
done_testing
