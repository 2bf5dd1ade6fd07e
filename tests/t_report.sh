#!/usr/bin/env bash
# report.md (analysis/report.py) from fixture CSVs: the real run a grader read (issue 25), an older
# run with two regimes, the same rows with counters derived from a recorded perf output, and variants
# that change one thing each. The answers must follow the data, keep the shape a grader reads in five
# minutes (a bold answer, one table, at most five lines of why per question; Q1-Q6 within 10 KB), and
# none of the errors the grader quoted may come back.
# lane: beside (no network, no process of the programs: files and tools only); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
FX=tests/fixtures/report

# The report needs no matplotlib: any Python 3 will do.
PY=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys; sys.exit(sys.version_info < (3, 7))' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || skip_all "no python3"
diag "using $PY"

variant() { # variant NAME BASE.csv [csv_variant options...]: writes $tmp/NAME.csv
  local name=$1 base=$2; shift 2
  "$PY" tests/tools/csv_variant.py "$base" "$tmp/$name.csv" "$@"
}
report() { # report CSV [MACHINE [PROFILES [WAKEUPS]]]: report.md text on stdout (no wake-up measurement unless named)
  "$PY" - "$@" <<'PY'
import sys
sys.path.insert(0, ".")
from analysis.data import load_rows, read_machine, load_profiles
from analysis.report import report_markdown, load_wakeups
a = sys.argv[1:] + [""] * 4
info = read_machine(a[1]) if a[1] else {}
profiles = load_profiles(a[2]) if a[2] else None
wakeups = load_wakeups(a[3]) if a[3] else False
print(report_markdown(load_rows(a[0]), info, profiles, csv_name=a[0], wakeups=wakeups))
PY
}
section() { # section TEXT HEADING_PREFIX: from "## PREFIX" to the next "## "
  awk -v h="## $2" 'index($0, h) == 1 { on = 1; print; next } on && /^## / { exit } on { print }' <<<"$1"
}
unlike() { # unlike TEXT REGEX DESC
  if grep -Eq -- "$2" <<<"$1"; then ok 1 "$3"; echo "#  regex matched: '$(grep -Em1 -- "$2" <<<"$1" | cut -c1-160)'"; else ok 0 "$3"; fi
}
count() { grep -Ec -- "$2" <<<"$1"; }
questions() { awk '/^## Q1\./ { on = 1 } /^## Glossary/ { on = 0 } on' <<<"$1"; } # questions TEXT: Q1-Q6

# --- 1. the run the grader read (2026-12-02), with its profiles and Q6's measurement --------------
REAL=("$FX/vm-2026-12-02.csv" "$FX/vm-2026-12-02.machine.txt" "$FX/vm-2026-12-02.profiles.csv" "$FX/wakeups-2026-12-03.csv")
r=$(report "${REAL[@]}"); rc=$?
is "$rc" 0 "report from the graded run builds"
qs=$(questions "$r")
n=$(printf '%s\n' "$qs" | wc -c | tr -d ' ')
check "Q1-Q6 together within 10 KB ($n bytes)" test "$n" -le 10000
# The committed run's report (the default run, with A4 and the cold-data rows) is the one a grader
# reads. Built here from the committed files (git), not from the working tree: a run of one's own
# replaces results.csv there.
if git cat-file -e HEAD:results.csv 2>/dev/null; then
  mkdir -p "$tmp/committed/bench"
  for f in results.csv results.machine.txt profiles.csv bench/wakeups.csv; do
    git show "HEAD:$f" >"$tmp/committed/$f" 2>/dev/null || rm -f "$tmp/committed/$f"
  done
  C="$tmp/committed"
  c=$(report "$C/results.csv" "$C/results.machine.txt" "$([ -f "$C/profiles.csv" ] && echo "$C/profiles.csv")" \
             "$([ -f "$C/bench/wakeups.csv" ] && echo "$C/bench/wakeups.csv")")
  cq=$(questions "$c")
  n=$(printf '%s\n' "$cq" | wc -c | tr -d ' ')
  check "the committed run's report: Q1-Q6 within 10 KB ($n bytes)" test "$n" -gt 1000 -a "$n" -le 10000
  check "the committed run's report: the unknown cache sizes said once in Q1-Q6, not again in Q3 (the grader's 'same boilerplate in Q2 and Q3')" \
    test "$(count "$cq" 'states no cache sizes')" -le 1
else
  ok 0 "the committed run's report: Q1-Q6 within 10 KB # SKIP not a git checkout with a committed results.csv"
  ok 0 "the committed run's report: the cache sizes said once # SKIP not a git checkout with a committed results.csv"
fi
for q in Q1 Q2 Q3 Q4 Q5 Q6; do
  s=$(section "$r" "$q.")
  is "$(sed -n 3p <<<"$s" | grep -Ec '^\*\*[^*].*\*\*$')" 1 "$q: a bold one-line answer right under the question"
  is "$(count "$s" '^\|---')" 1 "$q: exactly one table"
  w=$(awk '/^Why:/ { on = 1; next } on && /^- / { n++ } END { print n + 0 }' <<<"$s")
  check "$q: at most five lines of why ($w)" test "$w" -le 5
done
like "$r" "^## Part A\. Where each technique copies" "Part A: where each technique copies"
like "$(section "$r" "Part A")" "removes A1's user-space .memcpy.*data_path_A2\.png" "Part A: which copy A2 removes, pointing at its figure"
like "$(section "$r" "Part A")" "removes the kernel copy, adds pinning and completions" "Part A: what A3 changes"
p=$(section "$r" "Where the sender")
is "$(count "$p" '^\| A[123] \| [0-9]+ KiB \|')" 12 "table P: one row per technique and size (profile shares in one table)"
like "$p" "receiver's TCP/IP receive softirq, which runs on the sender's CPU" "table P says TCP/IP includes the receiver's softirq over veth"
unlike "$r" "A3 sender, 1 KiB:|sender, [0-9]+ KiB: page pinning" "no profile lists in prose (the grader found four)"
is "$(count "$r" 'L3 32 MiB')" 1 "the machine line once"
like "$r" "^## Glossary" "a glossary"
for term in '\*\*rr\*\*' '\*\*fragment\*\*' '\*\*CPU per byte\*\*' '\*\*copied share\*\*' 'measurable'; do
  like "$(section "$r" "Glossary")" "$term" "glossary defines $term"
done
unlike "$r" "[Nn]oise rule" "no undefined 'noise rule'"
unlike "$qs" "Little's law|regime" "Q1-Q6 use neither Little's law nor 'regime' (appendix only)"
unlike "$r" "x[0-9]{2,}\.[0-9]+" "no false precision like x22.30-23.72 (a factor above 10 has no decimals)"
for fig in "Figure 1, throughput vs message size" "Figure 2, latency vs thread count" "Figure 3, cache misses vs message size" "Figure 4, CPU cycles per byte"; do
  like "$r" "$fig" "the report names $fig"
done
like "$r" "Figure 3, cache misses vs message size: .*proxy: copy time per byte" "no counters: Figure 3 is announced as a proxy"
# the grader's quotes, each gone
unlike "$r" "one completion per send" "Q1: no 'one completion per send'"
like "$(section "$r" "Q1.")" "ranges of send ids lo\.\.hi, read every 32 sends \[A3_server\.c\]" "Q1: completions come as ranges, read every 32 sends (from A3_server.c)"
unlike "$r" "memcpy of a message it just wrote" "Q4: no 'memcpy of a message it just wrote'"
like "$(section "$r" "Q4.")" "filled once and the same buffer is resent" "Q4: the data is hot because the buffer is resent"
q3=$(section "$r" "Q3.")
unlike "$q3" "does not rise" "Q3: no 'CPU per byte does not rise' against its own table"
unlike "$q3" "x22" "Q3: no 'x22-24' hiding a non-monotonic series"
like "$q3" "\*\*.*A3 not monotonic.*\*\*" "Q3: A3's non-monotonic CPU per byte is said"
like "$q3" "\| A1 \| switches per MiB \| 0\.127 \| 30\.5 \| 17\.1 \| 2\.83 \|" "Q3: the switch series in its table"
unlike "$r" "crossover moves" "Q5: no 'the crossover moves'"
# the answers
q1=$(section "$r" "Q1.")
like "$q1" "highest throughput in 0 of 16 configurations \(x0\.51-x0\.62 of A1 per size\).*copied 100% of its sends" "Q1: A3 never best, copied 100%"
like "$q1" "\| A3 \| 64 KiB \| x1\.71 \[1\.60-1\.82\] \| 1600 ns \|$" "Q1: CPU per byte as a paired ratio with its 95% interval"
like "$q1" "copied = .zc_copied. / .zc_completions., 100\.0% in every row" "Q1: a copied share the same in every row is said once, not a column"
variant halfcopied "$FX/vm-2026-12-02.csv" --scale zc_copied:A3:0.5:65536
q1h=$(section "$(report "$tmp/halfcopied.csv")" "Q1.")
like "$q1h" "\| A3 \| 64 KiB \| .* \| 50\.0% \|$" "Q1: copied shares that differ keep their column (64 KiB at 50%)"
like "$q1h" "\| A3 \| 1 KiB \| .* \| 100\.0% \|$" "Q1: ... with the other sizes' 100%"
like "$q1" "pinning 8\.6-13%, completions 1\.3-4\.1% and the deferred copy 7\.3-36%" "Q1: zero-copy costs from table P"
q4=$(section "$r" "Q4.")
like "$q4" "^\*\*A2 outperforms A1 from 16 KiB on: \+7% throughput, -8 to -11% server CPU per byte; below, A1 is measurably ahead \(1 KiB, 4 KiB\)\.\*\*" \
  "Q4: a concrete answer: 16 KiB, in throughput and CPU per byte"
like "$q4" "\| 16 KiB \| x1\.07 \[1\.02-1\.12\] \| \*\*A2 better\*\* \| x0\.92 \[0\.88-0\.97\] \| \*\*A2 better\*\* \| 3\.1% \|" "Q4 table: 16 KiB row"
like "$q4" "Detection limit: 3 repetitions resolve ±4\.8% at one size, ±9\.9% at one configuration.*33 repetitions for 2%.*--reps" \
  "Q4: the detection limit and the repetitions a 2% gap needs"
q5=$(section "$r" "Q5.")
like "$q5" "A3 never outperforms A1 here: A1 is measurably faster at every size" "Q5: A3 never wins"
like "$q5" "A3 costs 1066 ns more CPU per fragment than A1; the copy it saves here, A1's .memcpy., costs 230 ns" "Q5: the saving against the cost, one connection count"
q6=$(section "$r" "Q6.")
like "$q6" "^\*\*The server's context switches per MiB jump x74-249 from 1 connection to 2, then fall x0\.09-0\.32 by 8.*wake-ups" "Q6: picks the context-switch pattern"
is "$(count "$q6" '^\| [0-9] \|')" 4 "Q6: four candidates ranked"
like "$q6" "\| 1 \| A1 \(2 copies\) beats A3.*\| Q1, Q5 \|" "Q6: the copy-count result is ranked but explained in Q1/Q5"
like "$q6" "\| 3 \| The slowest technique has the lowest stream one-way latency in 9 of 16 configurations, up to x33" "Q6: the latency inversion is a candidate"
like "$q6" "\| 4 \| A2's one kernel copy takes 39% of its sender at 64 KiB, A1's two copies 25% .*\| no \|" "Q6: the single-profile copy share ranks last (not repeated)"
like "$q6" "98% of its switches left it runnable, handing the CPU to the client it had just woken" "Q6: explained by the purpose-made measurement"
like "$q6" "pinned to one CPU, 13\.7 switches per MiB; to two, 0\.214, none to the client" "Q6: the pinned A/B"
lat=$(awk '/^### B\./ { on = 1; next } /^### / { on = 0 } on' <<<"$r")
like "$lat" "lowest stream one-way latency in 9 of 16 configurations.*Little's law" "Appendix B: one-way latency is queueing delay"
like "$r" "What .--reps N. buys \(A2/A1 throughput, one size\): N = 2: ±6\.2%, N = 3: ±4\.8%, N = 4: ±4\.1%" "Appendix A: what --reps buys"
like "$r" "commit 0e752f9-dirty" "the inputs name the commit the run came from"

r2=$(report "$FX/vm-2026-12-02.csv" "$FX/vm-2026-12-02.machine.txt")
q6=$(section "$r2" "Q6.")
like "$q6" "Not yet measured for this run: .bench/wakeups\.py." "without the measurement Q6 says so"
unlike "$(sed -n 3p <<<"$q6")" "wake-ups" "... and claims no cause in its answer"
like "$(section "$r2" "Where the sender")" "Not measured in this run" "no profiles: table P says so"
like "$(section "$r2" "Q2.")" "^\*\*Not measurable on this machine" "no HW: Q2 names no level"

# --- 2. the older run (two regimes) --------------------------------------------------------------
r=$(report "$FX/vm-nohw.csv" "$FX/vm-nohw.machine.txt")
reg=$(awk '/^### C\./ { on = 1; next } /^### / { on = 0 } on' <<<"$r")
like "$reg" "\| 1 → 2 conn\. \|.*\| \*\*yes\*\* \|" "appendix C: the old run's regime change (1 -> 2 connections) is detected"
like "$reg" "Techniques are compared only within one connection count" "... and said"

# --- 3. hardware counters (derived from the recorded hybrid perf output) ----------------------
r=$(report "$FX/hybrid-hw.csv" "$FX/hybrid-hw.machine.txt")
q2=$(section "$r" "Q2."); q3=$(section "$r" "Q3.")
unlike "$q2$q3" "no counters|Not measurable" "HW: Q2/Q3 do not claim missing counters"
like "$q2" "^\*\*No cache level shows a measurable reduction from A1 to A3; misses per KiB rise" "HW fixture (misses follow CPU time): no level named, misses rise"
like "$q2" "\| L1d \| x" "HW: Q2 tabulates L1d"
like "$q3" "^\*\*L1d misses per unit of server CPU from 1 to 8 connections: x1\.00: flat within 10%" "HW: Q3 separates contention from extra work"
variant l1d "$FX/hybrid-hw.csv" --scale l1d_misses:A2:0.6 --scale l1d_misses:A3:0.15
like "$(section "$(report "$tmp/l1d.csv")" "Q2.")" "^\*\*L1d shows the most reduction \(A1 → A3\)" "fewer L1d misses for A2/A3: Q2 names L1d"
variant llc "$FX/hybrid-hw.csv" --scale llc_misses:A2:0.6 --scale llc_misses:A3:0.15
like "$(section "$(report "$tmp/llc.csv")" "Q2.")" "^\*\*LLC shows the most reduction \(A1 → A3\)" "flipped to LLC: Q2 names LLC"
variant both "$FX/hybrid-hw.csv" --scale l1d_misses:A3:0.2 --scale llc_misses:A3:0.2
like "$(section "$(report "$tmp/both.csv")" "Q2.")" "No measurable difference between the levels" "equal drop at both levels: no level named"
"$PY" - "$FX/hybrid-hw.csv" "$tmp/q3c.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:  # 8 connections: 3x the L1d misses per cycle (contention)
    if r["threads"] == "8" and r["mode"] == "stream":
        r["l1d_misses"] = str(int(float(r["l1d_misses"])) * 3)
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), list(rows[0]), lineterminator="\n"); w.writeheader(); w.writerows(rows)
PY
like "$(section "$(report "$tmp/q3c.csv")" "Q3.")" "x3\.00: more misses per unit of work" "L1d misses per cycle tripled at 8 conn.: Q3 reports contention"

# --- 4. verdicts follow the data ------------------------------------------------------------------
variant a3wins "$FX/vm-2026-12-02.csv" --like throughput_gbps:A3:A1:1.5:65536
r=$(report "$tmp/a3wins.csv")
like "$(section "$r" "Q5.")" "^\*\*A3 outperforms A1 from 64 KiB on" "A3 made 1.5x A1 at 64 KiB: Q5 says 64 KiB"
like "$(section "$r" "Q1.")" "highest throughput in 4 of 16 configurations" "Q1 counts A3's wins from the data"
variant a2wins "$FX/vm-2026-12-02.csv" --like throughput_gbps:A2:A1:1.5:4096
like "$(section "$(report "$tmp/a2wins.csv")" "Q4.")" "^\*\*A2 outperforms A1 from 4 KiB on: \+50% throughput" "A2 1.5x A1 from 4 KiB: Q4 says 4 KiB"
# A2 0.5% above A1 on average, each repetition 5% off either way: within what 3 repetitions resolve
"$PY" - "$FX/vm-2026-12-02.csv" "$tmp/a2noise.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
a1 = {(r["mode"], r["msg_size"], r["threads"], r["rep"]): r for r in rows if r["impl"] == "A1"}
for r in rows:
    if r["impl"] == "A2":
        b = a1[(r["mode"], r["msg_size"], r["threads"], r["rep"])]
        for col in ("throughput_gbps", "cpu_ns_per_byte"):
            r[col] = f"{float(b[col]) * 1.005 * {'1': 1.05, '2': 0.95, '3': 1.0}[r['rep']]:.6g}"
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), list(rows[0]), lineterminator="\n"); w.writeheader(); w.writerows(rows)
PY
q4=$(section "$(report "$tmp/a2noise.csv")" "Q4.")
like "$q4" "^\*\*No size at which A2 measurably outperforms A1" "A2 +0.5% with 5% jitter per repetition: no measurable difference"
like "$q4" "\| 1 KiB \| x1\.00 \[0\.9[0-9]-1\.[01][0-9]\] \| no measurable difference \|" "Q4 table: the interval holds 1"
variant onerep "$FX/vm-2026-12-02.csv" --drop rep=2 --drop rep=3
r=$(report "$tmp/onerep.csv")
like "$(section "$r" "Q4.")" "^\*\*Not judged: one repetition" "one repetition: Q4 gives no verdict"
like "$(section "$r" "Q5.")" "^\*\*Not judged: one repetition" "one repetition: Q5 gives no verdict"

# --- 5. optional inputs: profiles by category id, extra columns, other paths ---------------------
cat >"$tmp/profiles.csv" <<'P'
impl,size,side,category,share
A3,1024,server,pin,12.5
A3,1024,server,completion,9.0
A3,1024,server,deferred_copy,7.5
A1,1024,server,user_copy,3.25
A1,1024,server,copy_from_user,8.0
A2,1024,server,copy_from_user,9.5
A2,1024,server,wakeup,30.0
A3,1024,client,copy_to_user,20.0
P
r=$(report "$FX/vm-2026-12-02.csv" "$FX/vm-2026-12-02.machine.txt" "$tmp/profiles.csv")
like "$(section "$r" "Where the sender")" "\| A3 \| 1 KiB \|  \|  \| 7\.5 \| 12\.5 \| 9\.0 \|" "profiles by category id: table P (a category not measured stays empty)"
like "$(section "$r" "Q1.")" "pinning 12%, completions 9\.0% and the deferred copy 7\.5%" "profiles: Q1 cites A3's shares"
variant nic "$FX/vm-2026-12-02.csv" --scale zc_copied:A3:0.1 --add path=nic --add server_host=hostA --add client_host=hostB --add zc_copied_pct=10
r=$(report "$tmp/nic.csv"); rc=$?
is "$rc" 0 "extra columns (path, server_host, client_host, zc_copied_pct) are tolerated"
like "$(section "$r" "Q1.")" "copied only 10% of its sends here" "NIC: Q1 says the copy was mostly avoided"
unlike "$(section "$r" "Q1.")" "msg_zerocopy.rst: from about 10 KB\). Not measured here" "NIC: no 'not measured here' for the NIC"
like "$r" "Stream one-way latency is not valid here" "two hosts: one-way latency refused"
variant veth "$FX/vm-2026-12-02.csv" --add path=veth
variant nic2 "$FX/vm-2026-12-02.csv" --like throughput_gbps:A3:A1:1.5:65536 --add path=nic
{ cat "$tmp/veth.csv"; tail -n +2 "$tmp/nic2.csv"; } >"$tmp/mixed.csv"
r=$(report "$tmp/mixed.csv")
like "$r" "^# copybench: this CSV mixes 2 network paths \(nic, veth\): one report each" "mixed paths: one report per path"
nic_part=$(awk '/^# Path: nic/ { on = 1 } /^# Path: veth/ { on = 0 } on' <<<"$r")
veth_part=$(awk '/^# Path: veth/ { on = 1 } on' <<<"$r")
like "$(section "$nic_part" "Q5.")" "A3 outperforms A1 from 64 KiB" "mixed paths: the NIC rows answer Q5 with their own data"
like "$(section "$veth_part" "Q5.")" "A3 never outperforms A1" "mixed paths: the veth rows with theirs"

# --- 6. a fourth technique (A4) and cold-data rows: every table makes room ----------------------
"$PY" - "$FX/vm-2026-12-02.csv" "$tmp/a4.csv" "$tmp/cold.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
a4 = [dict(r, impl="A4", throughput_gbps=f"{float(r['throughput_gbps']) * 1.3:.6g}") for r in rows if r["impl"] == "A3"]
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), list(rows[0]), lineterminator="\n"); w.writeheader(); w.writerows(rows + a4)
cold = []
for r in rows:  # cold data: A2 pays 1.6x its CPU per byte and loses 40%, A1 1.2x and 15%
    if r["mode"] == "stream" and r["msg_size"] == "65536" and r["threads"] == "2" and r["impl"] in ("A1", "A2"):
        f = 1.6 if r["impl"] == "A2" else 1.2
        g = 0.6 if r["impl"] == "A2" else 0.85
        cold.append(dict(r, footprint_bytes="67108864", cpu_ns_per_byte=f"{float(r['cpu_ns_per_byte']) * f:.6g}",
                         throughput_gbps=f"{float(r['throughput_gbps']) * g:.6g}"))
out = [dict(r, footprint_bytes="") for r in rows] + cold
w = csv.DictWriter(open(sys.argv[3], "w", newline=""), list(out[0]), lineterminator="\n"); w.writeheader(); w.writerows(out)
PY
r=$(report "$tmp/a4.csv" "$FX/vm-2026-12-02.machine.txt" "$FX/vm-2026-12-02.profiles.csv")
is "$(count "$(section "$r" "Q1.")" '^\| A4 \| [0-9]+ KiB \|')" 4 "A4 rows: Q1's table has A4 beside A3"
is "$(count "$(section "$r" "Q5.")" '^\| A4 \| [0-9]+ KiB \|')" 4 "A4 rows: Q5's table too"
like "$(section "$r" "Q1.")" "A4 vs A3: A4 reaches x0\.7[0-9] of A1 where A3 reaches x0\.5[0-9].*it recovers [0-9]+% of A3's loss" "A4 rows: Q1 says how much of A3's loss A4 recovers"
like "$(section "$r" "Part A")" "^\| A4[ |].*data_path_A4.png" "A4 rows: Part A has a row"
r=$(report "$tmp/cold.csv" "$FX/vm-2026-12-02.machine.txt")
like "$(section "$r" "Q2.")" "^\*\*Inferred from a measured proxy \(CPU time per byte, no cache miss was counted\)" "cold rows: Q2 answers from them (footprint.py)"
like "$(section "$r" "Q4.")" "A2 outperforms A1 from 16 KiB" "cold rows stay out of the main grid (Q4 unchanged)"
like "$(section "$r" "Q6.")" "^\*\*On cold data A1, with two copies, beats A2, with one" "cold rows: A1 beating A2 on cold data becomes Q6"
# The same cold rows, but A1 leads A2 just as far with hot data at that configuration: the
# temperature explains nothing there, so it is no cold-data result.
"$PY" - "$tmp/cold.csv" "$tmp/cold_hot_too.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    if (not r["footprint_bytes"] and r["mode"] == "stream" and r["msg_size"] == "65536" and r["threads"] == "2"
            and r["impl"] == "A2"):
        r["cpu_ns_per_byte"] = f"{float(r['cpu_ns_per_byte']) * 1.6:.6g}"
        r["throughput_gbps"] = f"{float(r['throughput_gbps']) * 0.6:.6g}"
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), list(rows[0]), lineterminator="\n"); w.writeheader(); w.writerows(rows)
PY
r=$(report "$tmp/cold_hot_too.csv" "$FX/vm-2026-12-02.machine.txt")
unlike "$(section "$r" "Q6.")" "On cold data A1" "cold rows where A1 leads hot as well: not presented as a cold-data result"

# --- 7. the statistics and the words --------------------------------------------------------------
words=$("$PY" - <<'PY'
import sys
sys.path.insert(0, ".")
from analysis.stats import Spread, interval, pooled_spread, t975
from analysis.report import pct_span, trend_words
from analysis.data import cpu_count
print(f"{t975(1):.3f} {t975(2):.3f} {t975(32):.3f} {t975(10**6):.3f}")
sp = pooled_spread({("a", 1): [0.0, 0.1, -0.1], ("b", 1): [0.2, 0.2]})
print(f"{sp.s:.4f} {sp.df} {sp.configs}")
s = Spread(0.08, 32, 16)
print(f"{100 * s.half_width(3):.1f} {100 * s.half_width(12):.1f} {s.reps_needed(0.02, 4)} {s.reps_needed(0.08, 4)}")
iv = interval([0.05, 0.06, 0.04], Spread(0.01, 10, 5), "A2", "A1")
print(iv.verdict, interval([0.05, 0.06, 0.04], Spread(0.2, 10, 5), "A2", "A1").verdict,
      interval([0.05], None, "A2", "A1").verdict, interval([-0.05, -0.06], Spread(0.01, 10, 5), "A2", "A1", False).verdict)
print(pct_span([7.1, 6.6]), "|", pct_span([-8.1, -10.9]), "|", trend_words([3, 2, 1]), trend_words([1, 3, 2]), trend_words([1, 1, 2]))
print(cpu_count({"cpu_threads": "1 socket(s) x 2 core(s) x 1 thread(s)"}), cpu_count({"cores": "6"}), cpu_count({}))
PY
)
is "$(sed -n 1p <<<"$words")" "12.706 4.303 2.037 1.960" "t quantiles: table values, interpolation at df 32, the normal limit"
is "$(sed -n 2p <<<"$words")" "0.0816 3 2" "pooled spread: deviations around each configuration's mean, df = pairs - configurations"
is "$(sed -n 3p <<<"$words")" "9.9 4.8 33 3" "detection limit and repetitions needed (8% spread: ±9.9% at 3 pairs, 33 repetitions for 2%)"
is "$(sed -n 4p <<<"$words")" "a tie unjudged a" "interval verdicts: measurable, within the spread, one pair, lower is better"
is "$(sed -n 5p <<<"$words")" "+7% | -8 to -11% | falls not monotonic rises" "percent spans and trend words"
is "$(sed -n 6p <<<"$words")" "2 6 None" "cpu_count from the machine file"

check "t_report.sh is shellcheck-clean" shellcheck tests/t_report.sh
done_testing
