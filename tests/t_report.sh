#!/usr/bin/env bash
# report.md (analysis/report.py) from fixture CSVs: a real run without hardware counters, the same
# rows with counters derived from a recorded perf output, and variants of both that change one thing
# each. The answers must follow the data: change the data, the answer changes.
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
report() { # report CSV [MACHINE] [PROFILES]: report.md text on stdout
  "$PY" - "$@" <<'PY'
import sys
sys.path.insert(0, ".")
from analysis.data import load_rows, read_machine, load_profiles
from analysis.report import report_markdown
csv_path = sys.argv[1]
info = read_machine(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else {}
profiles = load_profiles(sys.argv[3]) if len(sys.argv) > 3 else None
print(report_markdown(load_rows(csv_path), info, profiles, csv_name=csv_path))
PY
}
section() { # section TEXT HEADING_PREFIX: from "## PREFIX" to the next "## "
  awk -v h="## $2" 'index($0, h) == 1 { on = 1; print; next } on && /^## / { exit } on { print }' <<<"$1"
}
unlike() { # unlike TEXT REGEX DESC
  if grep -Eq -- "$2" <<<"$1"; then ok 1 "$3"; echo "#  regex matched: '$2'"; else ok 0 "$3"; fi
}

# --- 1. the real run, no hardware counters ----------------------------------------------------
r=$(report "$FX/vm-nohw.csv" "$FX/vm-nohw.machine.txt"); rc=$?
is "$rc" 0 "report from the real no-HW run builds"
for q in Q1 Q2 Q3 Q4 Q5 Q6; do
  like "$(section "$r" "$q.")" "^## $q\. " "report has a section for $q"
done
like "$r" "Noise rule: at one configuration \(mode, size, connection count\), two techniques differ measurably only when the difference of their medians exceeds the larger of their two ranges" "report states the noise rule"
q2=$(section "$r" "Q2."); q3=$(section "$r" "Q3.")
like "$q2" "This machine has no hardware counters.*empty in all 144 stream rows" "no HW: Q2 says the counters are missing"
like "$q2" "\| A3 \| 13\.1 \| 3\.16 \| 0\.961 \| 0\.617 \|" "no HW: Q2 answers what task-clock can (CPU ns per byte)"
unlike "$q2" "\*\*(L1d|LLC) shows the most reduction" "no HW: Q2 names no cache level"
like "$q3" "no hardware counters.*how the connection count changes cache misses" "no HW: Q3 says the counters are missing"
like "$q3" "server context switches per MiB \| 1 conn\." "no HW: Q3 uses context switches"
like "$q3" "trend is read from 2 conn\. up" "Q3 reads the contention trend inside one regime"
reg=$(section "$r" "Two regimes")
like "$reg" "\*\*Regime change between 1 and 2 connections\.\*\*" "the real run's two regimes are detected (1 -> 2 connections)"
like "$reg" "\| 2 -> 4 conn\. \|.*\| no \|" "2 -> 4 connections is not a regime change"
like "$reg" "stream throughput is x3\.5-4\.3 higher and its rr round trip x6\.2-10\.6 shorter" "regime: computed factors, all techniques"
like "$reg" "Steal: median 0\.00% .* so stolen time does not explain it" "regime: steal checked as a cause"
like "$r" "Read this first.*This run has two regimes" "the report opens with the regime"
q1=$(section "$r" "Q1.")
like "$q1" "highest median stream throughput in 0 of 16 configurations" "Q1: A3 is never best here"
like "$q1" "copied \*\*100\.0%\*\* of A3's 31039577 completed zero-copy sends" "Q1: copied share from the CSV"
like "$q1" "per fragment .*1221 ns at 1 KiB" "Q1: extra CPU per fragment computed"
like "$(section "$r" "Q4.")" "No measurable difference between A2 and A1 at any size" "Q4 on the real run: within noise at every size"
like "$(section "$r" "Q5.")" "A3 never outperforms A1 in this sweep" "Q5 on the real run: A3 never wins"
like "$(section "$r" "Q6.")" "\*\*A1 \(2 copies\) beats A3 \(1\) by 5\.9x in server CPU per byte at 1 KiB, 2 connections\*\*" "Q6: the largest deviation from the copy count, picked from the data"
lat=$(section "$r" "Latency")
like "$lat" "is queueing delay" "stream one-way latency is called queueing delay"
like "$lat" "In 13 of 16 stream configurations the technique with the lowest one-way latency is also the one with the lowest throughput" "queueing delay: computed from the data"
for q in Q1 Q4 Q5 Q6; do
  like "$(section "$r" "$q.")" "not measured in this run" "no profiles.csv: $q says not measured"
done

# --- 2. hardware counters (derived from the recorded hybrid perf output) ----------------------
r=$(report "$FX/hybrid-hw.csv" "$FX/hybrid-hw.machine.txt")
q2=$(section "$r" "Q2."); q3=$(section "$r" "Q3.")
unlike "$q2$q3" "no hardware counters" "HW: Q2/Q3 do not claim missing counters"
like "$q2" "\| L1d misses/KiB \| 1 KiB" "HW: Q2 tabulates L1d misses per KiB"
like "$q2" "\| LLC misses/KiB \| 1 KiB" "HW: Q2 tabulates LLC misses per KiB"
like "$q2" "No cache level shows a measurable reduction.*rise.*L1d x2\.14" "HW fixture (misses follow CPU time): no level is named, misses rise with A3"
like "$q3" "\| L1d misses per KiB \| 1 conn\." "HW: Q3 uses L1d misses vs connections"
like "$q3" "Misses per unit of server CPU time, 8 conn\. vs 2 conn\.: L1d x1\.00, LLC x1\.00\. Flat" "HW: Q3 separates contention from extra work"
like "$r" "L1d 48K L2 1\.25M L3 24M, 24 GiB RAM" "machine label uses the cache and memory keys"

variant l1d "$FX/hybrid-hw.csv" --scale l1d_misses:A2:0.6 --scale l1d_misses:A3:0.15
like "$(section "$(report "$tmp/l1d.csv")" "Q2.")" "\*\*L1d shows the most reduction\*\* \(A1->A3\)" "fewer L1d misses for A2/A3: Q2 names L1d"
variant llc "$FX/hybrid-hw.csv" --scale llc_misses:A2:0.6 --scale llc_misses:A3:0.15
like "$(section "$(report "$tmp/llc.csv")" "Q2.")" "\*\*LLC shows the most reduction\*\* \(A1->A3\)" "flipped to LLC: Q2 names LLC"
variant both "$FX/hybrid-hw.csv" --scale l1d_misses:A3:0.2 --scale llc_misses:A3:0.2 --scale l1d_misses:A2:0.6 --scale llc_misses:A2:0.6
like "$(section "$(report "$tmp/both.csv")" "Q2.")" "No measurable difference between the levels" "equal drop at both levels: no level named"
"$PY" - "$FX/hybrid-hw.csv" "$tmp/q3c2.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:  # 8 connections: 3x the L1d misses per cycle (contention)
    if r["threads"] == "8" and r["mode"] == "stream":
        r["l1d_misses"] = str(int(float(r["l1d_misses"])) * 3)
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), list(rows[0]), lineterminator="\n"); w.writeheader(); w.writerows(rows)
PY
like "$(section "$(report "$tmp/q3c2.csv")" "Q3.")" "L1d x3\.00.*More misses per unit of work at L1d" "L1d misses per cycle tripled at 8 conn.: Q3 reports contention"

# --- 3. crossovers follow the data --------------------------------------------------------------
variant a3wins "$FX/vm-nohw.csv" --like throughput_gbps:A3:A1:1.5:65536
r=$(report "$tmp/a3wins.csv")
like "$(section "$r" "Q5.")" "\*\*A3 outperforms A1 from 64 KiB\*\*" "A3 made 1.5x A1 at 64 KiB: Q5 says 64 KiB"
like "$(section "$r" "Q1.")" "highest median stream throughput in 4 of 16 configurations" "Q1 counts A3's wins from the data"
variant a2wins "$FX/vm-nohw.csv" --like throughput_gbps:A2:A1:1.5:16384
like "$(section "$(report "$tmp/a2wins.csv")" "Q4.")" "\*\*A2 outperforms A1 from 16 KiB\*\* \(and at every larger size measured: 64 KiB\)" "A2 1.5x A1 from 16 KiB: Q4 says 16 KiB"
variant a2noise "$FX/vm-nohw.csv" --like throughput_gbps:A2:A1:1.005
q4=$(section "$(report "$tmp/a2noise.csv")" "Q4.")
like "$q4" "No measurable difference between A2 and A1 at any size" "A2 0.5% above A1, within the rep spread: no measurable difference"
unlike "$q4" "A2 outperforms" "a higher median within the spread is never called a win"
like "$q4" "\| 1 KiB \| x1\.0[01] = \| x1\.0[01] = \| x1\.0[01] = \| x1\.0[01] = \|" "Q4 table marks within-noise cells with ="
variant onerep "$FX/vm-nohw.csv" --drop rep=2 --drop rep=3
r=$(report "$tmp/onerep.csv")
like "$(section "$r" "Q4.")" "\*\*Not judged\*\*: one repetition" "one repetition: no verdict"
like "$(section "$r" "Q6.")" "\*\*Not judged\*\*: one repetition.*The largest raw one: A1 beats A3 by" "one repetition: Q6 names the raw candidate, unjudged"

# --- 4. regimes follow the data -----------------------------------------------------------------
variant noone "$FX/vm-nohw.csv" --drop threads=1
r=$(report "$tmp/noone.csv")
like "$(section "$r" "Two regimes")" "\*\*No regime change detected\*\*" "without the 1-connection runs: no regime change"
like "$r" "Read this first.*No regime change between connection counts was detected" "and the report opens with that"

# --- 5. optional inputs: profiles.csv (categories by id, as analysis/profiles.py writes them), extra columns ---
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
r=$(report "$FX/vm-nohw.csv" "$FX/vm-nohw.machine.txt" "$tmp/profiles.csv")
like "$(section "$r" "Q1.")" "A3 sender, 1 KiB: page pinning and unpinning 12\.5%, completion notification and error-queue reads 9\.0%, deferred copy \(zero-copy fallback\) 7\.5%" "profiles: Q1 cites A3's shares by category"
like "$(section "$r" "Q4.")" "A1 sender, 1 KiB: user-space copy 3\.2%, copy from user into the kernel 8\.0%" "profiles: Q4 cites A1's user-space copy"
like "$(section "$r" "Q5.")" "deferred copy \(zero-copy fallback\) 7\.5%" "profiles: Q5 cites the deferred copy"
like "$(section "$r" "Q6.")" "Profiles \(share of the sender's samples\): A3 sender, 1 KiB" "profiles: Q6 cites them at the picked size"
unlike "$(section "$r" "Q1.")" "not measured in this run" "profiles present: Q1 no longer says not measured"
variant nic "$FX/vm-nohw.csv" --scale zc_copied:A3:0.1 --add path=nic --add server_host=hostA --add client_host=hostB --add zc_copied_pct=10
r=$(report "$tmp/nic.csv"); rc=$?
is "$rc" 0 "extra columns (path, server_host, client_host, zc_copied_pct) are tolerated"
like "$(section "$r" "Q1.")" "copied \*\*10\.0%\*\* of A3's .* on this path \(nic\)" "path column and copied share are used"
like "$(section "$r" "Q1.")" "The copy was avoided for 90% of sends" "low copied share: Q1 says the copy was avoided"
like "$(section "$r" "Latency")" "Stream one-way latency is not valid in this run" "two hosts: one-way latency refused"
like "$r" "path: NIC between two hosts" "run label names the path"
variant veth "$FX/vm-nohw.csv" --add path=veth
variant nic2 "$FX/vm-nohw.csv" --like throughput_gbps:A3:A1:1.5:65536 --add path=nic
{ cat "$tmp/veth.csv"; tail -n +2 "$tmp/nic2.csv"; } >"$tmp/mixed.csv"
r=$(report "$tmp/mixed.csv")
like "$r" "^# copybench: this CSV mixes 2 network paths \(nic, veth\): one report each" "mixed paths: one report per path"
nic_part=$(awk '/^# Path: nic/ { on = 1 } /^# Path: veth/ { on = 0 } on' <<<"$r")
veth_part=$(awk '/^# Path: veth/ { on = 1 } on' <<<"$r")
like "$(section "$nic_part" "Q5.")" "\*\*A3 outperforms A1 from 64 KiB\*\*" "mixed paths: the NIC rows answer Q5 with their own data"
like "$(section "$veth_part" "Q5.")" "A3 never outperforms A1" "mixed paths: the veth rows with theirs"
# several CSVs (plots.py a.csv b.csv): the CSV without a path column gets its path from its
# machine file (netns: 1 -> veth); each path answered from its own rows
r=$("$PY" - "$FX/vm-nohw.csv" "$tmp/nic2.csv" <<'PY'
import sys
sys.path.insert(0, ".")
from analysis.data import load_many
from analysis.report import report_markdown
rows, info = load_many(sys.argv[1:])
print(report_markdown(rows, info, None, csv_name=", ".join(sys.argv[1:])))
PY
)
like "$r" "^# copybench: these CSVs mix 2 network paths \(nic, veth\): one report each" "two CSVs: one report per path"
nic_part=$(awk '/^# Path: nic/ { on = 1 } /^# Path: veth/ { on = 0 } on' <<<"$r")
veth_part=$(awk '/^# Path: veth/ { on = 1 } on' <<<"$r")
like "$(section "$nic_part" "Q5.")" "\*\*A3 outperforms A1 from 64 KiB\*\*" "two CSVs: the NIC CSV answers Q5 with its own data"
like "$(section "$veth_part" "Q5.")" "A3 never outperforms A1" "two CSVs: the veth CSV (path from its machine file) with its own"

# --- CPU count from the machine file, queue lengths in words ---------------------------------
words=$("$PY" - <<'PY'
import sys
sys.path.insert(0, ".")
from analysis.data import cpu_count, machine_label
from analysis.report import gap_trend_words, queue_words
print(cpu_count({"cpu_threads": "1 socket(s) x 2 core(s) x 1 thread(s)", "cores": "2"}),
      cpu_count({"cpu_threads": "2 socket(s) x 8 core(s) x 2 thread(s)"}), cpu_count({"cpu_threads": "4"}),
      cpu_count({"cores": "6"}), cpu_count({}))
print(machine_label({"cpu_model": "X", "cores": "2", "cpu_threads": "1 socket(s) x 2 core(s) x 1 thread(s)"}))
for q in ((1355, 4529), (100, 140), (5000, 1000), (0, 0), (10, 0)):
    print(queue_words("A3", q[0], "A1", q[1]))
for r in ([0.28, 0.47, 0.64, 0.66], [0.50, 0.62, 0.61, 0.53], [0.9, 0.7, 0.5], [0.5]):
    print(gap_trend_words(r))
PY
)
is "$(sed -n 1p <<<"$words")" "2 32 4 6 None" "cpu_count: lscpu topology multiplied out, a plain number, cores, nothing"
is "$(sed -n 2p <<<"$words")" "machine: X, 2 CPUs (1 socket(s) x 2 core(s) x 1 thread(s)), virt: unknown" "machine label: CPUs counted, not 'N cores / topology threads'"
is "$(sed -n 3,7p <<<"$words" | tr '\n' '|')" "A3's queue is 3.3x shorter than A1's.|Both keep the queue similarly full.|A3's queue is 5.0x longer than A1's.|Both keep the queue similarly full.|A1's queue is empty.|" \
  "queue lengths in words: 3.3x apart is not 'similarly full'"
is "$(sed -n 8,11p <<<"$words" | tr '\n' '|')" " - the gap narrows as messages grow.| - no steady trend with message size.| - the gap widens as messages grow.|.|" \
  "A3/A1 gap trend: 'narrows' only when it never falls (0.50, 0.62, 0.61, 0.53 is no trend)"

check "t_report.sh is shellcheck-clean" shellcheck tests/t_report.sh
done_testing
