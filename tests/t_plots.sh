#!/usr/bin/env bash
# plots.py on synthetic CSVs built here (with and without hardware counters), on the report fixtures
# (tests/fixtures/report) and on bad CSVs; what each figure shows is checked on its spec (the data
# the drawing consumes), not on pixels.
# lane: beside (no network, no process of the programs: files and tools only); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Figure specs and summaries need only Python 3; drawing needs matplotlib. Checks that cannot run
# here print a SKIP line.
# PY: the python3 on PATH, by its real path: a pyenv shim costs ~1 s a start, ~60 starts here.
PY=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1; then PY=$("$p" -c 'import sys; print(sys.executable)') || PY=$p; break; fi
done
[ -n "$PY" ] || skip_all "no python3"
MPL=""
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import matplotlib' >/dev/null 2>&1; then MPL=$p; break; fi
done
diag "specs with $PY; drawing with ${MPL:-nothing (no Python with matplotlib)}"
skip() { # skip DESCRIPTION REASON: a check that cannot run here still shows up
  TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP $2"
}
FX=tests/fixtures/report
# the assignment's four, in its order, then the figures behind the report's answers
PNGS="throughput_vs_size latency_vs_threads cache_misses_vs_size cycles_per_byte_vs_size context_switches_vs_threads stream_latency_vs_throughput"

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

png_ok_one() { [ "$(head -c 8 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
png_ok() { # every figure exists with the PNG signature
  local d=$1 f
  for f in $PNGS; do
    [ "$(head -c 8 "$d/$f.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || { echo "# bad or missing $f.png"; return 1; }
  done
}
RUNPY=${MPL:-$PY}; WANT_RC=0; [ -n "$MPL" ] || WANT_RC=1  # without matplotlib: markdown written, exit 1
pngs() { # pngs DESC DIR: the PNG check, or a SKIP line without matplotlib
  if [ -n "$MPL" ]; then check "$1" png_ok "$2"; else skip "$1" "no Python with matplotlib"; fi
}

out=$("$RUNPY" plots.py "$tmp/hw.csv" --out-dir "$tmp/hw_plots" 2>&1); rc=$?
is "$rc" "$WANT_RC" "with counters: exit $WANT_RC"
pngs "with counters: every figure a valid PNG" "$tmp/hw_plots"
if [ -n "$MPL" ]; then check "with counters: CPU time per byte drawn on its own (Figure 4 shows cycles)" png_ok_one "$tmp/hw_plots/cpu_ns_per_byte_vs_size.png"; fi
sum=$(cat "$tmp/hw_plots/summary.md" 2>/dev/null)
like "$sum" "Synthetic CPU 9000" "summary names the machine from the side file"
like "$sum" 'A2 outperforms A1 from \*\*4 KiB\*\*' "summary: A2 beats A1 from 4 KiB (paired rule)"
like "$sum" 'A3 outperforms A1 from \*\*16 KiB\*\*' "summary: A3 beats A1 from 16 KiB (paired rule)"
like "$sum" '\| 64 KiB \| A3 15\.0 \| A3 22\.5 \|' "summary: the fastest technique, measurably ahead, per size and connection count"
like "$sum" 'Overall: 50\.0% of 48000 completed zero-copy sends were copied' "summary: share of zero-copy sends copied"
like "$sum" 'hardware counters: yes' "summary: counter availability"
like "$sum" 'Columns with data: cycles, instructions, l1d_misses, llc_misses' "summary: which counters had data"
like "$sum" 'steal_pct per run: median 0\.20%, max 0\.30%' "summary: steal"
like "$sum" 'min-max' "summary says what the spread is"
like "$sum" 'report\.md' "summary points to report.md"
like "$sum" '\| A1 \| 8 \| 5\.0% \| 5\.0% \|' "summary: repeatability, CV of reps per configuration (synthetic spread is +-5%)"
check "report.md written beside summary.md" test -s "$tmp/hw_plots/report.md"
unlike() { if grep -Eq -- "$2" <<<"$1"; then ok 1 "$3"; echo "#  regex matched: '$2'"; else ok 0 "$3"; fi; }
unlike "$out" 'counters absent' "with counters: no 'counters absent' note"

# (figures of a no-counter CSV are drawn below from the real run; here only the markdown)
out=$("$PY" plots.py "$tmp/nohw.csv" --no-figures --out-dir "$tmp/nohw_plots" 2>&1); rc=$?
is "$rc" 0 "without counters, --no-figures: exit 0 with any Python"
check "--no-figures draws nothing" bash -c "! ls '$tmp/nohw_plots'/*.png >/dev/null 2>&1"
sum=$(cat "$tmp/nohw_plots/summary.md" 2>/dev/null)
like "$sum" 'Empty \(not supported / not counted / perf off\): cycles, instructions, l1d_misses, llc_misses' "summary lists the empty counters"
like "$sum" 'Figures 3 and 4 \(cache_misses_vs_size\.png, cycles_per_byte_vs_size\.png\) show measured proxies, titled as such' "summary says Figures 3 and 4 show proxies"
like "$sum" 'hardware counters: no' "summary: hardware counters no"

# no rr rows, no A3: still works, the figures say what is missing
grep -v ',rr,' "$tmp/nohw.csv" | grep -v '^A3,' >"$tmp/norr.csv"
out=$("$PY" plots.py "$tmp/norr.csv" --no-figures --out-dir "$tmp/norr_plots" 2>&1); rc=$?
is "$rc" 0 "stream-only CSV without A3: exit 0"
like "$(cat "$tmp/norr_plots/summary.md")" "A3 vs A1: not measured" "summary says A3 was not measured"
like "$out" "machine: unknown|wrote" "missing side file is not an error"

# the graded run (fixture copy, with its profiles): every figure drawn, report.md written
out=$("$RUNPY" plots.py "$FX/vm-2026-12-02.csv" --machine "$FX/vm-2026-12-02.machine.txt" \
  --profiles "$FX/vm-2026-12-02.profiles.csv" --out-dir "$tmp/real" 2>&1); rc=$?
is "$rc" "$WANT_RC" "the real run's CSV: exit $WANT_RC"
pngs "the real run's CSV: every figure a valid PNG" "$tmp/real"
if [ -n "$MPL" ]; then
  like "$out" "hardware counters absent.*Figures 3 and 4 .*show measured proxies" "without counters: plots.py says Figures 3 and 4 are proxies"
else
  skip "without counters: plots.py says Figures 3 and 4 are proxies" "no Python with matplotlib"
fi
# the summary of the graded run names no fastest technique within noise
sum=$(cat "$tmp/real/summary.md" 2>/dev/null)
like "$sum" "\| 1 KiB \| A1 1\.07 ≈ A2 1\.02 \| A1 2\.15 ≈ A2 1\.94 \| A1 2\.24 \| A1 2\.65 ≈ A2 2\.60 \|" "summary: within noise two techniques share a cell (≈), measurably ahead one is named"
unlike "$sum" "^## Best technique|within noise\)" "summary: no 'best technique' heading, no best-plus-tie cells"
like "$sum" "A2 outperforms A1 from \*\*16 KiB\*\*" "summary: the A2 crossover by the paired rule"
like "$sum" "The same at every size and run \(100\.0%\)" "summary: a flat copied share is one line"
# --freeze: a standalone script with Figures 1-4 as data, drawn with no CSV and no copybench code
o=$("$PY" plots.py "$FX/vm-2026-12-02.csv" --machine "$FX/vm-2026-12-02.machine.txt" --freeze "$tmp/frozen/f.py" 2>&1); rc=$?
is "$rc" 2 "--freeze into a directory that does not exist: exit 2"
mkdir -p "$tmp/frozen/run"
o=$("$PY" plots.py "$FX/vm-2026-12-02.csv" --machine "$FX/vm-2026-12-02.machine.txt" --freeze "$tmp/frozen/f.py" 2>&1); rc=$?
is "$rc" 0 "--freeze FILE: exit 0 (any Python: no matplotlib needed to write it)"
like "$(head -c 400 "$tmp/frozen/f.py")" "^#!/usr/bin/env python3" "--freeze: a Python script"
unlike "$(cat "$tmp/frozen/f.py")" "^(from|import) (analysis|plots)|results\.csv'|open\(" "--freeze: imports no copybench code, opens no file"
like "$(cat "$tmp/frozen/f.py")" "'name': 'cycles_per_byte_vs_size\.png'" "--freeze: Figure 4's spec is in it as a literal"
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1; then
  cp "$tmp/frozen/f.py" "$tmp/frozen/run/"
  o=$(cd "$tmp/frozen/run" && /usr/bin/python3 f.py 2>&1); rc=$?
  is "$rc" 0 "the frozen script runs alone in an empty directory"
  n=0; for f in throughput_vs_size latency_vs_threads cache_misses_vs_size cycles_per_byte_vs_size; do
    png_ok_one "$tmp/frozen/run/$f.png" && n=$((n + 1)); done
  is "$n" 4 "... and draws the four required figures"
else
  skip "the frozen script runs alone in an empty directory" "no /usr/bin/python3 with matplotlib"
  skip "... and draws the four required figures" "no /usr/bin/python3 with matplotlib"
fi
like "$(cat "$tmp/real/report.md" 2>/dev/null)" "^## Q6\. " "the real run's CSV: report.md has the six questions"
o=$("$PY" plots.py "$FX/vm-nohw.csv" --profiles "$tmp/nope.csv" --out-dir "$tmp/x" 2>&1); rc=$?
is "$rc:$o" "2:plots.py: $tmp/nope.csv: No such file or directory (--profiles)" "--profiles naming a missing file: one line, exit 2"

# --- a run of one's own is drawn next to it, never into the committed plots/ --------------------
mkdir -p "$tmp/runs/mine"; cp "$FX/vm-nohw.csv" "$tmp/runs/mine/results.csv"
committed=$(cat plots/report.md plots/summary.md 2>/dev/null | cksum)
o=$("$PY" plots.py "$tmp/runs/mine/results.csv" --no-figures 2>&1); rc=$?
is "$rc" 0 "plots.py runs/X/results.csv: exit 0"
check "plots.py runs/X/results.csv: report.md and summary.md go to runs/X/plots/" test -s "$tmp/runs/mine/plots/report.md" -a -s "$tmp/runs/mine/plots/summary.md"
o=$("$PY" plots.py "$tmp/runs/mine/results.csv" --out-dir plots --no-figures 2>&1); rc=$?
is "$rc $(wc -l <<<"$o")" "2 1" "another CSV with --out-dir plots (the committed ones): one line, exit 2"
like "$o" "committed plots/ is drawn from the committed results.csv only" "and it says why"
o=$("$PY" plots.py results.csv "$tmp/runs/mine/results.csv" --no-figures 2>&1); rc=$?
check "the committed CSV overlaid with one's own: drawn next to one's own ($rc)" test -s "$tmp/runs/mine/plots/report.md"
is "$(cat plots/report.md plots/summary.md 2>/dev/null | cksum)" "$committed" "the committed plots/report.md and summary.md are untouched"

# --- figure specs: what each figure shows (pure data, no matplotlib needed) -------------------
specs() { # specs CSV [MACHINE [PROFILES]]: one "key=value" line per fact about the specs
  "$PY" - "$@" <<'PY'
import re, sys
sys.path.insert(0, ".")
from analysis.data import load_rows, load_profiles, read_machine
from analysis.figures import figure_specs
rows = load_rows(sys.argv[1])
info = read_machine(sys.argv[2]) if len(sys.argv) > 2 else {}
profiles = load_profiles(sys.argv[3]) if len(sys.argv) > 3 else None
for f in figure_specs(rows, info, profiles):
    n = f.name[:-4]
    print(f"{n}.rows={len(f.rows)}")
    print(f"{n}.title={f.title}")
    print(f"{n}.series=" + ",".join(str(len(p.series)) for p in f.panels()))
    for i, row in enumerate(f.rows):
        shared = len({(p.ylim, p.yscale) for p in row if p.series}) <= 1
        print(f"{n}.row{i}.shared_y={shared}")
        print(f"{n}.row{i}.yscale=" + ",".join(sorted({p.yscale for p in row if p.series})))
        for p in row:
            print(f"{n}.row{i}.labels[{p.title}]=" + "|".join(s.label for s in p.series))
    ys = [y for p in f.panels() for s in p.series for y in s.y + s.lo + s.hi]
    print(f"{n}.zeros={sum(1 for y in ys if y == 0)}")
    print(f"{n}.none={sum(1 for y in ys if y is None)}")
    print(f"{n}.legacy_labels={sum(1 for p in f.panels() for s in p.series if re.search(r'(^| )x[0-9]', s.label))}")
    for p in f.panels():
        print(f"{n}.xlabel[{p.title}]={p.xlabel}")
        for x, label in p.xmarks:
            print(f"{n}.xmark[{p.title}]={x}:{label}".replace("\n", " "))
        for note in p.notes:
            print(f"{n}.note[{p.title}]={note}")
        if not p.series:
            print(f"{n}.empty[{p.title}]={p.empty_note}")
    for note in f.notes:
        print(f"{n}.fignote={note}")
    print(f"{n}.footer=" + " / ".join(f.footer))
PY
}
val() { sed -n "s/^$(printf '%s' "$1" | sed 's/[][\.*^$]/\\&/g')=//p" <<<"$2" | sed -n 1p; }

s=$(specs "$FX/vm-nohw.csv" "$FX/vm-nohw.machine.txt")
is "$(grep -E '^[a-z_]+\.rows=' <<<"$s" | sed -n 1,4p | cut -d. -f1 | tr '\n' ' ')" "throughput_vs_size latency_vs_threads cache_misses_vs_size cycles_per_byte_vs_size " \
  "the four required figures first, in the assignment's order"
for k in "1:throughput_vs_size:Throughput vs message size" "2:latency_vs_threads:Latency vs thread count" \
         "3:cache_misses_vs_size:Cache misses vs" "4:cycles_per_byte_vs_size:CPU cycles per byte"; do
  IFS=: read -r n f t <<<"$k"
  like "$(val "$f.title" "$s")" "^Figure $n\. $t" "Figure $n is titled by the assignment's name ($t)"
done
is "$(val cache_misses_vs_size.series "$s")" "3,3,3,3" "no HW, no profiles: Figure 3 is a proxy with data (never an empty frame)"
like "$(val cache_misses_vs_size.title "$s")" "— proxy: CPU time per byte$" "... titled as a proxy"
like "$(val cache_misses_vs_size.fignote "$s")" "^No cache counters on this machine \(l1d_misses, llc_misses empty in all 144 stream rows" "... and says why"
is "$(val cycles_per_byte_vs_size.series "$s")" "3,3,3,3" "no HW: Figure 4 draws CPU time per byte, a series per technique"
like "$(val cycles_per_byte_vs_size.title "$s")" "— proxy: CPU time per byte \(server, stream\)$" "... titled as a proxy"
is "$(val cpu_ns_per_byte_vs_size.rows "$s")" "" "no HW: no separate CPU-time figure (it is Figure 4)"
is "$(grep -c '^zc_copied_share' <<<"$s")" "0" "the flat copied-share figure is gone (one sentence in summary.md says it)"
like "$(val 'latency_vs_threads.xlabel[1 KiB]' "$s")" "^threads \(= connections\)$" "Figure 2's axis: threads (= connections)"
is "$(val context_switches_vs_threads.series "$s")" "3,3,3,3" "context switches per MiB vs threads: a series per technique per size"
like "$(val 'context_switches_vs_threads.xlabel[64 KiB]' "$s")" "^threads \(= connections\)$" "... on a threads (= connections) axis"
for f in throughput_vs_size cycles_per_byte_vs_size context_switches_vs_threads latency_vs_threads; do
  is "$(val "$f.row0.shared_y" "$s")" "True" "$f: every panel on the same y range"
  is "$(val "$f.zeros" "$s"):$(val "$f.none" "$s")" "0:0" "$f: no zero or empty points"
  is "$(val "$f.legacy_labels" "$s")" "0" "$f: no 'x1'-style legend labels"
done
is "$(val stream_latency_vs_throughput.rows "$s"):$(val stream_latency_vs_throughput.series "$s")" "1:2" "stream one-way latency folded into one panel (A2 and A3 against A1)"
like "$(val stream_latency_vs_throughput.fignote "$s")" "Of the [0-9]+ points where a technique is slower than A1, [0-9]+ also have a shorter one-way latency" "... with the count it shows, computed"
is "$(val throughput_vs_size.row0.yscale "$s")" "log" "throughput spans more than a decade: log y"
like "$(val 'throughput_vs_size.row0.labels[1 connection]' "$s")" "^A1 two-copy\|A2 one-copy \(sendmsg iovec\)\|A3 zero-copy \(MSG_ZEROCOPY\)$" "legends name the technique in words"
like "$(val 'throughput_vs_size.note[1 connection]' "$s")" "slow regime of the machine at 1 connection, all techniques alike: here each is x0\.2[0-9]-0\.[0-9]+ its value with 2 conn\." "throughput: the slow regime is annotated where it shows, with computed factors"
is "$(val 'throughput_vs_size.note[2 connections]' "$s")" "" "throughput: no regime note on the fast panels"
like "$(val latency_vs_threads.fignote "$s")$(grep -c 'latency_vs_threads.fignote=With 1 conn' <<<"$s")" "1$" "rr latency: the regime is noted on the figure"
is "$(val 'latency_vs_threads.xmark[1 KiB]' "$s")" "1:slow regime (machine)" "rr latency: the 1-connection points are marked in the panel"
like "$(val throughput_vs_size.footer "$s")" "2 cores.*virt: docker / path: netns\+veth, unpinned, HW counters: no, steal median 0\.00% max 0\.29%, 3 reps" "footer: machine, path, pinning, counters, steal, reps"
s=$(specs "$FX/vm-2026-12-02.csv" "$FX/vm-2026-12-02.machine.txt" "$FX/vm-2026-12-02.profiles.csv")
like "$(val cache_misses_vs_size.title "$s")" "— proxy: copy time per byte$" "no HW, with profiles: Figure 3's proxy is the time per byte in the copy functions"
is "$(val cache_misses_vs_size.series "$s")" "3" "... one series per technique"
like "$(val cache_misses_vs_size.fignote "$s")" "profile's copy shares .*profiles\.csv, 1 connection\) x cpu_ns_per_byte" "... and says how it is computed"

s=$(specs "$FX/hybrid-hw.csv" "$FX/hybrid-hw.machine.txt")
is "$(val cache_misses_vs_size.rows "$s"):$(val cache_misses_vs_size.series "$s")" "2:3,3,3,3,3,3,3,3" "HW: L1d and LLC rows, a series per technique in every panel"
is "$(val cycles_per_byte_vs_size.series "$s")" "3,3,3,3" "HW: cycles per byte drawn"
is "$(val cache_misses_vs_size.row0.shared_y "$s"):$(val cache_misses_vs_size.row1.shared_y "$s")" "True:True" "HW: each cache row on one y range"
like "$(val throughput_vs_size.footer "$s")" "L1d 48K L2 1\.25M L3 24M, 24 GiB RAM.*bare metal / .*MTU 1500.*HW counters: yes" "footer uses cache, memory, MTU keys"
# the plotted L1d values are the data's: median over reps of l1d_misses / (server KiB), recomputed here
want=$("$PY" - "$FX/hybrid-hw.csv" <<'PY'
import csv, statistics, sys
v = [float(r["l1d_misses"]) / (float(r["task_clock_ms"]) * 1e6 / float(r["cpu_ns_per_byte"]) / 1024)
     for r in csv.DictReader(open(sys.argv[1]))
     if r["impl"] == "A1" and r["mode"] == "stream" and r["msg_size"] == "1024" and r["threads"] == "2"]
print(f"{statistics.median(v):.6g}")
PY
)
got=$("$PY" - "$FX/hybrid-hw.csv" <<'PY'
import sys
sys.path.insert(0, ".")
from analysis.data import load_rows
from analysis.figures import spec_cache
f = spec_cache(load_rows(sys.argv[1]), {})
s = [s for s in f.rows[0][1].series if s.label.startswith("A1")][0]
print(f"{s.y[s.x.index(1024)]:.6g}")
PY
)
is "$got" "$want" "HW: the L1d panel plots the data's misses per KiB (A1, 1 KiB, 2 conn.)"
"$PY" tests/tools/csv_variant.py "$FX/hybrid-hw.csv" "$tmp/nol1d_a2.csv" --blank l1d_misses:A2
s=$(specs "$tmp/nol1d_a2.csv")
like "$(val 'cache_misses_vs_size.row0.labels[1 connection]' "$s")" "^A1 two-copy\|A3 zero-copy \(MSG_ZEROCOPY\)$" "A2's L1d cells empty: no A2 series in the L1d row (not zeros)"
like "$(val 'cache_misses_vs_size.row1.labels[]' "$s")" "A2 one-copy" "... while the LLC row still has A2"
is "$(val cache_misses_vs_size.zeros "$s")" "0" "... and no zero anywhere"
"$PY" tests/tools/csv_variant.py "$FX/hybrid-hw.csv" "$tmp/nol1d.csv" --blank 'l1d_misses:*'
s=$(specs "$tmp/nol1d.csv")
is "$(val cache_misses_vs_size.series "$s")" "0,0,0,0,3,3,3,3" "no L1d counter at all: empty L1d row, LLC row drawn"
like "$(val 'cache_misses_vs_size.empty[1 connection]' "$s")" "l1d_misses: not supported / not counted" "... and the L1d panels say why"
s=$(specs "$tmp/norr.csv")
like "$(val 'latency_vs_threads.empty[]' "$s")" "no request/response \(rr\) rows" "no rr rows: the rr figure says so"
is "$(val throughput_vs_size.series "$s")" "2,2" "no A3 rows: two techniques per panel"
s=$(specs "$tmp/hw.csv")
is "$(grep -Ec '^(throughput|stream_latency|cpu_ns|context_switches|cache|cycles)[a-z_]*\.note\[' <<<"$s")" "0" "synthetic data without a regime change: no regime notes"

# --- several CSVs (a veth sweep beside a two-host NIC one): overlaid by path ------------------
# The NIC rows: the real run with A3's copied share at 3% and A3 at 1.4x A1 from 16 KiB, on two hosts.
"$PY" tests/tools/csv_variant.py "$FX/vm-nohw.csv" "$tmp/nic.csv" --scale zc_copied:A3:0.03 \
  --like throughput_gbps:A3:A1:1.4:16384 --add path=nic --add server_host=hostA --add client_host=hostB
specs_many() { # specs_many CSV...: per figure, facts about the overlay of several CSVs
  "$PY" - "$@" <<'PY'
import sys
sys.path.insert(0, ".")
from analysis.data import load_many
from analysis.figures import figure_specs
rows, info = load_many(sys.argv[1:])
for f in figure_specs(rows, info):
    n = f.name[:-4]
    print(f"{n}.series=" + ",".join(str(len(p.series)) for p in f.panels()))
    for p in f.panels():
        for s in p.series:
            print(f"{n}.style[{p.title}][{s.label}]={s.style}{s.marker}")
        for note in p.notes:
            print(f"{n}.note[{p.title}]={note}")
    for note in f.notes:
        print(f"{n}.fignote={note}")
    print(f"{n}.footer=" + " / ".join(f.footer))
PY
}
s=$(specs_many "$FX/vm-nohw.csv" "$tmp/nic.csv")
is "$(val throughput_vs_size.series "$s")" "6,6,6,6" "two CSVs: a series per technique and path in every throughput panel"
a1v=$(val 'throughput_vs_size.style[2 connections][A1 two-copy, veth]' "$s")
a1n=$(val 'throughput_vs_size.style[2 connections][A1 two-copy, nic]' "$s")
check "two CSVs: the legend names the path, each path its own line style ($a1n vs $a1v)" \
  test -n "$a1v" -a -n "$a1n" -a "$a1v" != "$a1n"
like "$(val throughput_vs_size.fignote "$s")$(grep -c 'throughput_vs_size.fignote=Line style = network path: solid nic, dashed veth' <<<"$s")" "1$" \
  "two CSVs: the figure says which line style is which path"
is "$(val stream_latency_vs_throughput.series "$s")" "2" "two CSVs: stream one-way latency drawn for the one-host (veth) rows only"
like "$s" "stream_latency_vs_throughput\.fignote=Left out: the nic rows, whose server and client ran on two hosts" "... and says the NIC rows are left out, and why"
like "$(val throughput_vs_size.footer "$s")" "path: mixed \(nic, veth\).*, 3 reps," "two CSVs: repetitions counted per path (3, not 6)"
like "$(val 'throughput_vs_size.note[1 connection]' "$s")" "^nic: slow regime.*; veth: slow regime" "two CSVs: regimes judged per path"
like "$(val 'latency_vs_threads.style[1 KiB][A1 two-copy p99, veth]' "$s")" "\^$" "two CSVs: rr p99 drawn with its own marker (the line style is the path's)"
out=$("$PY" plots.py "$FX/vm-nohw.csv" "$tmp/nic.csv" --no-figures --out-dir "$tmp/two" 2>&1); rc=$?
is "$rc" 0 "plots.py a.csv b.csv: exit 0"
if [ -n "$MPL" ]; then  # the overlaid figures themselves (drawn as plots.py does, without the rest of a run)
  "$MPL" - "$FX/vm-nohw.csv" "$tmp/nic.csv" "$tmp/two" <<'PY'
import sys
sys.path.insert(0, ".")
import plots
from analysis.data import load_many
from analysis.figures import figure_specs
rows, info = load_many(sys.argv[1:3])
plt = plots.import_pyplot()
for spec in figure_specs(rows, info):
    plots.draw_figure(plt, spec, sys.argv[3])
PY
fi
pngs "plots.py a.csv b.csv: every figure drawn" "$tmp/two"
like "$(cat "$tmp/two/summary.md" 2>/dev/null)" "Inputs: $FX/vm-nohw\.csv \(veth\); $tmp/nic\.csv \(nic\)" "two CSVs: summary.md names each input and its path"
like "$(cat "$tmp/two/summary.md" 2>/dev/null)" "These CSVs mix network paths \(nic, veth\)" "two CSVs: summary.md says the tables pool them"
like "$(cat "$tmp/two/report.md" 2>/dev/null)" "^# copybench: these CSVs mix 2 network paths \(nic, veth\): one report each" "two CSVs: report.md answers per path"
o=$("$PY" plots.py "$FX/vm-nohw.csv" "$tmp/nic.csv" --machine "$FX/vm-nohw.machine.txt" --no-figures --out-dir "$tmp/x" 2>&1); rc=$?
like "$rc:$(wc -l <<<"$o" | tr -d ' '):$o" "^2:1:plots.py: --machine names the side file of one CSV" "--machine with several CSVs: one line, exit 2"
cp "$FX/vm-nohw.csv" "$tmp/again.csv"
o=$("$PY" plots.py "$FX/vm-nohw.csv" "$tmp/again.csv" --no-figures --out-dir "$tmp/x" 2>&1); rc=$?
like "$rc $o" "^0 plots.py: several inputs share a path, their rows are pooled: veth \($FX/vm-nohw\.csv, $tmp/again\.csv\)" \
  "two CSVs of one path: pooled, and said"

# The report names its inputs relative to its own folder (the committed one said
# `/work/run/results.csv`, where that run happened), absolute when they are further away.
mkdir -p "$tmp/own/run"
cp "$FX/vm-nohw.csv" "$tmp/own/run/results.csv"; cp "$FX/vm-nohw.machine.txt" "$tmp/own/run/results.machine.txt"
"$PY" plots.py "$tmp/own/run/results.csv" --no-figures >/dev/null 2>&1
r=$(cat "$tmp/own/run/plots/report.md" 2>/dev/null)
like "$r" "^- results: \`\.\./results\.csv\`, " "report.md next to a run: its CSV named ../results.csv (relative to the report)"
like "$r" "a column of \`\.\./results\.csv\`" "...in the reading guide too"
like "$r" "^- paths not starting with \`/\` are relative to this report's folder" "...and says what the names are relative to"
(cd "$tmp/own" && "$ROOT/plots.py" run/results.csv --no-figures --out-dir a/b/c/d >/dev/null 2>&1)
like "$(cat "$tmp/own/a/b/c/d/report.md" 2>/dev/null)" "^- results: \`$tmp/own/run/results\.csv\`, " \
  "report.md three folders or more away from its CSV, named relative to the current folder: its absolute path"

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

# a Python without matplotlib (the pyenv python3 here): re-run with one that has it, or name the command
nompl=""
for p in python3 /usr/local/bin/python3 "$HOME/.pyenv/shims/python3"; do
  if command -v "$p" >/dev/null 2>&1 && ! "$p" -c 'import matplotlib' >/dev/null 2>&1; then nompl=$p; break; fi
done
NOMPL_CHECKS=("no matplotlib: re-runs with a Python that has it" "no matplotlib anywhere: exit 1" "no matplotlib anywhere: names the exact command" "no matplotlib anywhere: report.md and summary.md still written" "no matplotlib anywhere: no PNG" "re-run child without matplotlib: no loop")
if [ -n "$nompl" ]; then
  diag "Python without matplotlib: $nompl"
  o=$("$nompl" plots.py "$tmp/norr.csv" --out-dir "$tmp/re" 2>&1); rc=$?
  if [ -n "$MPL" ]; then
    if [ "$rc" = 0 ] && grep -Eq 're-running with /' <<<"$o" && png_ok "$tmp/re"; then ok 0 "${NOMPL_CHECKS[0]}"; else ok 1 "${NOMPL_CHECKS[0]}"; echo "# rc=$rc $o"; fi
  else
    skip "${NOMPL_CHECKS[0]}" "no Python here has matplotlib"
  fi
  o=$(CB_PLOTS_PYTHONS="$nompl" "$nompl" plots.py "$tmp/hw.csv" --out-dir "$tmp/none" 2>&1); rc=$?
  is "$rc" 1 "${NOMPL_CHECKS[1]}"
  like "$o" "figures NOT drawn.*apt-get install python3-matplotlib\), then run: /usr/bin/python3 plots\.py $tmp/hw\.csv --out-dir $tmp/none$" "${NOMPL_CHECKS[2]}"
  check "${NOMPL_CHECKS[3]}" test -s "$tmp/none/report.md" -a -s "$tmp/none/summary.md"
  check "${NOMPL_CHECKS[4]}" bash -c "! ls '$tmp/none'/*.png >/dev/null 2>&1"
  o=$(CB_PLOTS_REEXEC=/usr/bin/python3 "$nompl" plots.py "$tmp/hw.csv" --out-dir "$tmp/loop" 2>&1); rc=$?
  like "$rc $o" "^1 .*re-run once, not again" "${NOMPL_CHECKS[5]}"
else
  for c in "${NOMPL_CHECKS[@]}"; do skip "$c" "every python3 here has matplotlib"; done
fi
check "t_plots.sh is shellcheck-clean" shellcheck tests/t_plots.sh
done_testing
