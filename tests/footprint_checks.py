#!/usr/bin/env python3
"""Checks of analysis/footprint.py (the footprint sub-sweep: its plan, its answers, its figures),
on synthetic rows built here and on the report fixtures in tests/fixtures/report/ (a real footprint
sub-sweep of the development VM, and the same rows with counters derived from a recorded perf
output). Prints one line per check, "ok<TAB>what" or "not ok<TAB>what<TAB>detail";
tests/t_footprint_report.sh turns them into TAP.
"""
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from analysis import footprint as F  # noqa: E402
from analysis.data import load_rows, read_machine, with_derived  # noqa: E402

FIX = os.path.join(ROOT, "tests", "fixtures", "report")
K, M, G = 1 << 10, 1 << 20, 1 << 30
results = []


def check(what, cond, detail=""):
    results.append((bool(cond), what, detail))


KNOWN = {"l1d_cache": "64 KiB (2 instances)", "l2_cache": "1 MiB (2 instances)", "l3_cache": "32 MiB (1 instance)",
         "memory": "23.5 GiB"}
UNKNOWN = {"memory": "23.5 GiB", "footprints": "16KiB 512KiB 16MiB 256MiB (fixed list: ...)"}


# ---- cache sizes and the default list ---------------------------------------------------------
check("lscpu's total over instances is one instance's", F.parse_cache_size("64 KiB (2 instances)") == 32 * K)
check("an LLC of one instance", F.parse_cache_size("32 MiB (1 instance)") == 32 * M)
check("older lscpu and /sys forms", (F.parse_cache_size("32K"), F.parse_cache_size("1.25M"),
                                     F.parse_cache_size("48K (/sys)")) == (32 * K, int(1.25 * M), 48 * K))
check("no size said: None", [F.parse_cache_size(x) for x in ("unknown", "", None, "-")] == [None] * 4)
check("cache_sizes: L1d, L2 per core, LLC = L3", F.cache_sizes(KNOWN) == {"L1d": 32 * K, "L2": 512 * K, "LLC": 32 * M})
check("cache_sizes: no L3 -> the LLC is L2", F.cache_sizes({"l1d_cache": "32K", "l2_cache": "2M"})["LLC"] == 2 * M)
check("cache_sizes: none stated -> {}", F.cache_sizes({"l1d_cache": "unknown"}) == {})
fps, basis = F.default_footprints(KNOWN, 2)
check("default list from the caches: L1d/2, L2/2, LLC/2, 4 x LLC", fps == [16 * K, 256 * K, 16 * M, 128 * M], fps)
check("... and its basis says so", "from the cache sizes" in basis and "4 x LLC" in basis, basis)
fps, basis = F.default_footprints(UNKNOWN, 2)
check("no cache sizes: the fixed list", fps == [16 * K, 512 * K, 16 * M, 128 * M] and "fixed list" in basis, basis)
fps, basis = F.default_footprints(dict(KNOWN, memory="1.0 GiB"), 2)
check("the largest lowered to fit 2 connections in a 256 MiB budget (1 GiB of RAM)",
      fps[-1] == 32 * M and "lowered from 128 MiB to 32 MiB" in basis, (fps, basis))
with tempfile.TemporaryDirectory() as d:
    for i, (lv, ty, sz) in enumerate((("1", "Data", "48K"), ("1", "Instruction", "32K"), ("2", "Unified", "1024K"),
                                      ("3", "Unified", "32768K"))):
        os.makedirs(f"{d}/index{i}")
        for name, v in (("level", lv), ("type", ty), ("size", sz)):
            with open(f"{d}/index{i}/{name}", "w") as f:
                f.write(v + "\n")
    with open(f"{d}/meminfo", "w") as f:
        f.write("MemTotal:       24641536 kB\n")
    here = F.local_info(sys_dir=d, meminfo=f"{d}/meminfo", lscpu="Architecture: x86_64\n")
    check("local_info: /sys where lscpu says nothing", F.cache_sizes(here) == {"L1d": 48 * K, "L2": M, "LLC": 32 * M}
          and here["memory"] == "23.5 GiB", here)
    here = F.local_info(sys_dir=d, meminfo=f"{d}/meminfo", lscpu="L1d cache:  96 KiB (2 instances)\nL3 cache: 16 MiB\n")
    check("local_info: lscpu first", here.get("l1d_cache") == "96 KiB (2 instances)" and "l2_cache" not in here, here)
    check("local_info: nothing anywhere -> no cache keys",
          set(F.local_info(sys_dir=f"{d}/none", meminfo=f"{d}/none", lscpu="")) == set())

# ---- the plan ------------------------------------------------------------------------------------
pts = F.plan([16 * K, 100000, 256 * M], [16 * K, 64 * K], [1, 2], KNOWN)
check("plan: a footprint of one message or less is left out, the rest rounded up to whole messages",
      pts == [(7 * 16 * K, 16 * K), (2 * 64 * K, 64 * K), (256 * M, 16 * K), (256 * M, 64 * K)], pts)
try:
    F.plan([512 * M], [64 * K], [1, 2], KNOWN)
    check("plan: 2 x 512 MiB past a 1 GiB budget is refused", False)
except F.PlanError as e:
    check("plan: 2 x 512 MiB past a 1 GiB budget is refused, naming --footprints", "--footprints" in str(e), str(e))
check("plan: a default point that cannot fit (128 MiB of 16 B messages) is left out, not an error",
      F.plan([16 * K, 128 * M], [16], [1, 2], KNOWN, strict=False) == [(16 * K, 16)])
check("plan: 16 B messages cost 360 B each in the heap (cb_msg_cost)", F.msg_cost(16) == 104 + 8 * 32
      and F.msg_cost(16384) == 104 + 8 * 2064 and F.msg_cost(1001) == 104 + 8 * 144)
e1 = F.estimate_s([(256 * M, 16 * K)], [1, 2], 3, 3, 3)
e2 = F.estimate_s([(256 * M, 16 * K)], [1, 2], 3, 3, 6)
check("estimate: windows, overhead and setup", e1 > 3 * 3 * 2 * 3 and abs((e2 - e1) - 3 * 3 * 2 * 3) < 1e-6, (e1, e2))


# ---- synthetic rows ------------------------------------------------------------------------------
def rows_for(ratio_at, growth_at=lambda fp: 1.0, size=16 * K, fps=(256 * K, 16 * M, 256 * M), reps=3, hw=None,
             impls=("A1", "A2", "A3"), threads=(1, 2)):
    """Stream rows: A1's send-loop CPU per byte 0.2 ns (x growth_at(fp) at the most connections),
    A2's = A1's x ratio_at(fp), A3's x 2; throughput the inverse. A few % of jitter per repetition.
    The first footprint is the main grid's one message (footprint_bytes = size). hw: a function
    (impl, fp) -> (l1d, llc) misses per KiB, else no counters."""
    out = []
    for rep in range(1, reps + 1):
        jit = 1 + 0.01 * (rep - 2)
        for fp in (size,) + tuple(fps):
            for t in threads:
                for impl in impls:
                    cpu = 0.2 * jit * (growth_at(fp) if t == max(threads) else 1)
                    cpu *= {"A1": 1, "A2": ratio_at(fp), "A3": 2}[impl]
                    r = {"impl": impl, "mode": "stream", "msg_size": size, "threads": t, "rep": rep,
                         "throughput_gbps": 8 / cpu, "send_cpu_ns_per_byte": cpu, "cpu_ns_per_byte": cpu * 1.3,
                         "task_clock_ms": 1000.0, "footprint_bytes": fp, "l1d_misses": None, "llc_misses": None,
                         "cycles": None, "cycles_per_byte": None}
                    if hw:
                        l1d, llc = hw(impl, fp)
                        b = 1000.0 * 1e6 / r["cpu_ns_per_byte"]
                        r.update(l1d_misses=l1d * b / 1024 * jit, llc_misses=llc * b / 1024 * jit)
                    out.append(r)
    return out


bend = rows_for(lambda fp: 1.5 if fp >= 256 * M else 0.95)
hot, cold = F.split_rows(bend)
check("split_rows: one message = the main grid, the rest the sub-sweep", len(hot) == 18 and len(cold) == 54)
check("footprint_of: a row without the column is one message",
      F.footprint_of({"msg_size": 4096}) == 4096 and F.footprint_of({"msg_size": 4096, "footprint_bytes": None}) == 4096)
check("grid: per size and connections, the hot point first",
      F.grid(bend) == {(16 * K, 1): [16 * K, 256 * K, 16 * M, 256 * M], (16 * K, 2): [16 * K, 256 * K, 16 * M, 256 * M]})

a = F.q2_cache(bend, KNOWN)
check("Q2 without counters: labelled an inference from a measured proxy",
      a.bold.startswith("Inferred from a measured proxy (CPU time per byte, no cache miss was counted)"), a.bold)
check("Q2 without counters: the gap opens between LLC/2 and 8 x LLC: the LLC",
      a.numbers["level"] == "LLC" and a.numbers["opens_between"] == (16 * M, 256 * M), a.numbers)
check("Q2: numbers with their source, at most five lines of why, one table",
      "results CSV, footprint sub-sweep" in a.numbers["source"] and len(a.why) <= 5
      and sum(1 for x in a.table if x.startswith("|---")) == 1, a.why)
check("Q2: never presents a miss as counted", "(counted)" not in " ".join(a.lines())
      and "shows the most reduction in misses" not in " ".join(a.lines()))
a = F.q2_cache(bend, UNKNOWN)
check("Q2 without cache sizes: the step, but no level named", a.numbers["level"] is None
      and a.numbers["opens_between"] == (16 * M, 256 * M) and "no cache level can be named" in a.bold
      and "states no cache sizes" in " ".join(a.why), a.bold)
a = F.q2_cache(rows_for(lambda fp: 1.5 if fp >= 16 * M else 0.95), KNOWN)
check("Q2: a gap opening at LLC/2 names L2 (the step from L2/2 to LLC/2 crosses L2)",
      a.numbers["level"] == "L2" and a.numbers["opens_between"] == (256 * K, 16 * M), a.numbers)
drift = rows_for(lambda fp: {16 * K: 1.0, 256 * K: 0.98, 16 * M: 0.96, 256 * M: 0.94}[fp])
for r in drift:  # A2's ratio +-1.5% per repetition: no adjacent step measurable, the ends are
    if r["impl"] == "A2":
        r["send_cpu_ns_per_byte"] *= 1 + 0.015 * (r["rep"] - 2)
a = F.q2_cache(drift, UNKNOWN)
check("Q2: a drift with no measurable step says so, against the hot ratio (never 'X -> X')",
      "parts most" not in a.bold and "drifts" in a.bold and "A2/A1 1.00 hot -> " in a.bold
      and a.numbers["opens_between"][1] in (16 * M, 256 * M), a.bold)
a = F.q2_cache(rows_for(lambda fp: 0.95), KNOWN)
check("Q2: no parting -> no level stands out", a.numbers["level"] is None and "no cache level stands out" in a.bold,
      a.bold)
a = F.q2_cache(rows_for(lambda fp: 1.5 if fp >= 256 * M else 0.95, reps=1), KNOWN)
check("Q2: one repetition -> not judged", a.bold.startswith("Not judged"), a.bold)
check("Q2: no footprint rows -> says so", F.q2_cache(hot, KNOWN) is F.NOT_RUN)

# with counters: at the cold end A2 has 40% fewer L1d misses per KiB than A1, the same LLC misses
hwrows = with_derived(rows_for(lambda fp: 1.0, hw=lambda i, fp: ((10.0 if fp < 256 * M else 30.0) * (0.6 if i == "A2" and fp >= 256 * M else 1),
                                                                (0.01 if fp < 256 * M else 16.0))))
a = F.q2_cache(hwrows, KNOWN)
check("Q2 with counters: answers from the misses, names L1d", a.numbers["measured"] == "counters"
      and a.numbers["level"] == "L1d" and a.bold.startswith("L1d shows the most reduction in misses (counted)"), a.bold)
hwrows = with_derived(rows_for(lambda fp: 1.0, hw=lambda i, fp: (10.0, 16.0 * (0.5 if i == "A2" else 1))))
check("Q2 with counters: LLC when the LLC misses drop more", F.q2_cache(hwrows, KNOWN).numbers["level"] == "LLC")
hwrows = with_derived(rows_for(lambda fp: 1.0, hw=lambda i, fp: (10.0, 16.0)))
a = F.q2_cache(hwrows, KNOWN)
check("Q2 with counters: equal reductions -> no level", a.numbers["level"] is None
      and a.bold.startswith("No level shows measurably more reduction"), a.bold)

# Q3: 2 connections cost x1.0 more per byte hot, x1.4 at 256 MiB
a = F.q3_threads(rows_for(lambda fp: 1.0, growth_at=lambda fp: 1.4 if fp >= 256 * M else 1.0), KNOWN, cores=2)
check("Q3: more growth with cold data, measurably", a.bold.startswith("Cold data makes 2 connections measurably costlier "
                                                                     "per byte, relative to 1, for A1, A2, A3 (a measured "
                                                                     "proxy") and a.numbers["more"], a.bold)
check("Q3: the table's header names the ratio once per technique, the cell's metric in Numbers",
      a.table[0].endswith("| A1, 2 / 1 conn. | A2, 2 / 1 conn. | A3, 2 / 1 conn. |")
      and "a cell: CPU per byte (send loop) with 2 connections / with 1" in " ".join(a.why), a.table[0])
u = F.q3_threads(rows_for(lambda fp: 1.0, growth_at=lambda fp: 1.4 if fp >= 256 * M else 1.0), UNKNOWN, cores=2)
check("Q3: the unknown cache sizes are said in Q2, not again here", "states no cache sizes" not in " ".join(u.why)
      and "not known here (Q2)." in " ".join(u.why), u.why)
check("Q3: the working set is threads x footprint", "| 16 MiB | 16 MiB / 32 MiB |" in "\n".join(a.table), a.table)
check("Q3: says what 2 CPUs cannot show", "What 2 CPUs cannot show: contention between more cores than it has"
      in " ".join(a.why), a.why)
a = F.q3_threads(rows_for(lambda fp: 1.0, growth_at=lambda fp: 1.4 if fp >= 256 * M else 1.0),
                 dict(KNOWN, l3_cache="24M"), cores=2)
check("Q3: a footprint that fits the LLC alone and not twice over is named", a.numbers["squeezed"] == [16 * M],
      a.numbers)
a = F.q3_threads(rows_for(lambda fp: 1.0, growth_at=lambda fp: 1.1), KNOWN, cores=2)
check("Q3: the same growth everywhere -> no measurable interaction", a.bold.startswith("No measurable interaction"),
      a.bold)
a = F.q3_threads(rows_for(lambda fp: 1.0, threads=(1,)), KNOWN)
check("Q3: one connection count -> not measured", a.bold.startswith("Not measured"), a.bold)
hwrows = with_derived(rows_for(lambda fp: 1.0, hw=lambda i, fp: (10.0, 16.0)))
check("Q3 with counters: reads LLC misses per KiB", F.q3_threads(hwrows, KNOWN).numbers["metric"] == "llc_per_kib")

# Q4: A2 measurably ahead with hot data, A1 with cold
a = F.q4_cold(rows_for(lambda fp: 1.5 if fp >= 256 * M else 0.9), KNOWN)
check("Q4: cold data moves the verdict (A2 hot -> A1 cold)", a.bold.startswith("Cold data moves the A1-vs-A2 answer")
      and a.numbers["verdicts"][(16 * K, 1)][:2] == ("A2", "A1"), a.bold)
a = F.q4_cold(rows_for(lambda fp: 0.9), KNOWN)
check("Q4: the same verdict -> does not move", a.bold.startswith("Cold data does not move"), a.bold)

# report.md wiring
lines = ["old answer"]
check("report_lines: no footprint rows -> unchanged", F.report_lines("q2", hot, KNOWN, lines) == lines)
got = F.report_lines("q2", bend, KNOWN, lines)
check("report_lines: Q2 leads with the footprint answer, then the main grid's",
      got[0].startswith("### From the footprint sub-sweep") and got[-1] == "old answer", got[:3])
check("report_lines: Q4 gets the cold verdicts after its own",
      F.report_lines("q4", bend, KNOWN, lines)[0] == "old answer")

# ---- figures -------------------------------------------------------------------------------------
from analysis import figures as FG  # noqa: E402
specs = {s.name: s for s in FG.figure_specs(bend, KNOWN)}
check("figures: the footprint figures are drawn when the CSV has a sub-sweep",
      {"footprint_throughput.png", "footprint_cpu_per_byte.png", "footprint_cache_misses.png"} <= set(specs))
p = specs["footprint_cpu_per_byte.png"].panels()[0]
check("figure: x = footprint from one message, a series per technique, the caches as lines",
      p.series and p.series[0].x == [16 * K, 256 * K, 16 * M, 256 * M] and {s.label[:2] for s in p.series} ==
      {"A1", "A2", "A3"} and [x for x, _ in p.vlines] == [32 * K, 512 * K, 32 * M], (p.vlines, p.series[0].x))
check("figure: the cache-miss figure says not measured without counters",
      "not measured here" in specs["footprint_cache_misses.png"].title)
check("figures: the main-grid figures read one message only (the sub-sweep is not pooled into them)",
      all(x == 16 * K for s in specs["throughput_vs_size.png"].panels()[0].series for x in s.x))
check("figures: no footprint figures for a CSV without a sub-sweep",
      not any(s.name.startswith("footprint") for s in FG.figure_specs(hot, KNOWN)))
hwspecs = {s.name: s for s in FG.figure_specs(with_derived(rows_for(lambda fp: 1.0, hw=lambda i, fp: (10.0, 16.0))), KNOWN)}
check("figure: misses per KiB vs footprint with counters (L1d and LLC rows)",
      len(hwspecs["footprint_cache_misses.png"].rows) == 2 and hwspecs["footprint_cache_misses.png"].panels()[0].series)

# ---- the fixtures: a real footprint sub-sweep (no counters), and the same rows with counters ----
for name, counted in (("vm-nohw-footprint", False), ("hybrid-hw-footprint", True)):
    path = os.path.join(FIX, name + ".csv")
    if not os.path.exists(path):
        check(f"fixture {name}.csv exists", False)
        continue
    rows = with_derived(load_rows(path))
    info = read_machine(os.path.join(FIX, name + ".machine.txt"))
    a = F.q2_cache(rows, info)
    check(f"{name}: Q2 answers ({'from counters' if counted else 'from the proxy'})",
          a.numbers.get("measured") == ("counters" if counted else "cpu proxy") and a.table, a.bold)
    if not counted:
        check(f"{name}: Q2 labelled an inference", a.bold.startswith(("Inferred from a measured proxy", "Not judged")),
              a.bold)
    else:
        check(f"{name}: Q2 says counted", "(counted)" in a.bold, a.bold)
    b = F.q3_threads(rows, info, 2)
    check(f"{name}: Q3 answers with the working set and what 2 CPUs cannot show",
          "working set" in b.table[0] and "cannot show" in " ".join(b.why), b.bold)
    c = F.q4_cold(rows, info)
    check(f"{name}: Q4's cold verdicts", c.numbers.get("verdicts"), c.bold)
    if not counted:
        from analysis.report import report_markdown
        raw = load_rows(path)
        full, main = report_markdown(raw, info), report_markdown(F.split_rows(raw)[0], info)
        q1 = lambda t: t[t.index("## Q1."):t.index("## Q2.")]  # noqa: E731
        check(f"{name}: the footprint rows leave the main grid's answers alone (Q1 the same without them)",
              q1(full) == q1(main))
        q2 = full[full.index("## Q2."):full.index("## Q3.")]
        check(f"{name}: report.md's Q2 leads with the footprint answer, labelled",
              "Inferred from a measured proxy" in q2
              or "Not judged" in q2, q2[:300])

fails = 0
for good, what, detail in results:
    print(("ok" if good else "not ok") + "\t" + what + ("" if good else "\t" + str(detail)[:400]))
    fails += not good
sys.exit(1 if fails else 0)
