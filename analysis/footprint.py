#!/usr/bin/env python3
"""The footprint: cold data, and the cache questions (Q2, Q3) answered on any machine.

By default a server sends one message again and again: its fields stay in the sender's caches
("hot"), and the extra copy A1 makes is a copy of hot data. With `--footprint BYTES` every
connection sends round robin from that many bytes of distinct messages, so each send reads data a
whole footprint old: cold once the footprint exceeds a cache. run_experiments.sh adds a footprint
sub-sweep (`--footprints`); its rows carry `footprint_bytes` = the bytes each connection sent
from (n messages x size; the main grid's rows: one message, = msg_size).

This module has two halves, both pure functions and unit-tested (tests/footprint_checks.py):

- planning, for run_experiments.sh: the machine's cache sizes as the machine file records them,
  the default footprint list derived from them (or a fixed list where the machine does not say),
  and the sub-sweep's runs (`python3 analysis/footprint.py plan ...`, see main());
- answers, for report.md: each returns a FootprintAnswer (a bold one-line answer, one table, at
  most five lines of why, the numbers with their source). With hardware counters the cache
  answers come from misses per KiB at each footprint; without, from where the techniques' CPU
  per byte parts as the footprint crosses each cache size: an inference from a measured proxy,
  said so every time, never a counted miss.
"""
from dataclasses import dataclass, field
import argparse
import os
import re
import statistics
import sys

if __package__ in (None, ""):  # run as a script: python3 analysis/footprint.py plan ...
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from analysis.data import conn_label, distinct, fmt_num, fmt_size  # noqa: E402

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
# What run_experiments.sh's default footprints are, per cache level: well inside L1d, L2 and the
# LLC (half of each: the receiver, the kernel's buffers and the code share them), and several
# times the LLC (at most a quarter of it can be in the LLC: nearly every byte comes from memory).
INSIDE, BEYOND = 0.5, 4
# Where the machine does not say its cache sizes (some VMs show none in lscpu or /sys): the same
# points for a common machine, L1d 32 KiB, L2 1 MiB, LLC 32 MiB.
FIXED = (16 * KIB, 512 * KIB, 16 * MIB, 128 * MIB)
FIXED_BASIS = ("fixed list: this machine reports no cache sizes (lscpu and /sys show none), so the points are "
               "those of a common one (L1d 32 KiB, L2 1 MiB, LLC 32 MiB): 16K, 512K, 16M, 128M")
# The servers' default --mem-budget (src/opts.h CB_MAX_MEM_BUDGET_DEFAULT, cb_default_mem_budget):
# 1 GiB, or a quarter of the RAM when that is less. A footprint run must fit it.
BUDGET_CAP = GIB
# Setting up a footprint (malloc, the kernel's fill, free) costs about this much wall time per GiB
# and connection on the 2-vCPU development VM (measured: ~4.7 s per 256 MiB, most of it the
# hypervisor's first-touch cost, see src/msgs.h); for the estimate only.
SETUP_S_PER_GIB = 18
RUN_OVERHEAD_S = 0.6          # a run's start and stop, as run_experiments.sh's estimate counts it
MSG_STRUCT = 104              # sizeof(struct cb_message) on x86-64 (src/wire.h)
NFIELDS = 8


class PlanError(Exception):
    """The footprint list cannot be run as given (usage error, exit 2)."""


# ----------------------------------------------------------------------------------------------
# cache sizes

_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGkmg]?)(?:i?B)?\b\s*(?:\((\d+)\s+instances?\))?")


def human(n):
    """A byte count in words: fmt_size, with GiB past 1 GiB (one decimal when not whole)."""
    if n >= GIB:
        return f"{n / GIB:.0f} GiB" if n % GIB == 0 else f"{n / GIB:.1f} GiB"
    return fmt_size(n) if n % KIB == 0 or n < KIB else f"{n / MIB:.1f} MiB" if n >= MIB else f"{n / KIB:.1f} KiB"


def parse_cache_size(text):
    """One cache's size in bytes from a machine-file value, per instance: lscpu's total over the
    instances ("64 KiB (2 instances)" -> 32 KiB, one core's), older lscpu's "32K", /sys's "48K".
    None when the machine did not say ("unknown", "", None)."""
    if not text:
        return None
    m = _SIZE.match(str(text))
    if not m:
        return None
    mult = {"": 1, "K": KIB, "M": MIB, "G": GIB}[m[2].upper()]
    n = float(m[1]) * mult / int(m[3] or 1)
    return int(n) if n >= 1 else None


def cache_sizes(info):
    """{'L1d': bytes, 'L2': bytes, 'LLC': bytes} of the levels the machine file states (one core's
    L1d and L2, one LLC instance); the LLC is L3, or L2 where there is no L3. {} when none."""
    out = {}
    for key, name in (("l1d_cache", "L1d"), ("l2_cache", "L2"), ("l3_cache", "L3")):
        v = parse_cache_size(info.get(key))
        if v:
            out[name] = v
    if "L3" in out:
        out["LLC"] = out.pop("L3")
    elif "L2" in out:
        out["LLC"] = out["L2"]
    return out


def local_info(sys_dir="/sys/devices/system/cpu/cpu0/cache", meminfo="/proc/meminfo", lscpu=None):
    """The machine-file keys the footprints need (l1d_cache, l2_cache, l3_cache, memory), read
    from this host as run_experiments.sh's probe reads them: lscpu's lines, else /sys; for a dry run,
    which has no machine file yet. lscpu: its output (None: run it)."""
    import subprocess
    info = {}
    if lscpu is None:
        try:
            lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10,
                                   env=dict(os.environ, LC_ALL="C")).stdout
        except (OSError, subprocess.SubprocessError):
            lscpu = ""
    for line in lscpu.splitlines():
        for head, key in (("L1d cache:", "l1d_cache"), ("L2 cache:", "l2_cache"), ("L3 cache:", "l3_cache")):
            if line.startswith(head):
                info[key] = line[len(head):].strip()
    if not info:
        for idx in sorted(os.listdir(sys_dir)) if os.path.isdir(sys_dir) else []:
            try:
                def rd(name):
                    with open(os.path.join(sys_dir, idx, name)) as f:
                        return f.read().strip()
                key = {("1", "Data"): "l1d_cache", ("2", "Unified"): "l2_cache",
                       ("3", "Unified"): "l3_cache"}.get((rd("level"), rd("type")))
                if key:
                    info[key] = rd("size")
            except OSError:
                continue
    try:
        with open(meminfo) as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["memory"] = f"{int(line.split()[1]) / (1 << 20):.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return info


def mem_budget(info):
    """The servers' default memory budget on this machine (see BUDGET_CAP)."""
    m = re.match(r"\s*([0-9.]+)\s*GiB", str(info.get("memory") or ""))
    if not m:
        return BUDGET_CAP
    return min(BUDGET_CAP, int(float(m[1]) * GIB / 4))


def msg_cost(size):
    """What one message takes from the heap, as the servers charge it (src/wire.c cb_msg_cost)."""
    cost = MSG_STRUCT
    for i in range(NFIELDS):
        n = size // NFIELDS + (size % NFIELDS if i == NFIELDS - 1 else 0)
        cost += max(32, (n + 8 + 15) & ~15)
    return cost


def messages(footprint, size):
    """How many messages a connection sends from (the server's cb_footprint_messages)."""
    return max(1, -(-footprint // size))


def charge(footprint, size):
    """What one connection of A1 (the most: its messages and a flat buffer) takes from the budget."""
    return messages(footprint, size) * msg_cost(size) + size


def default_footprints(info, max_threads=1):
    """(footprints in bytes, basis: one line for the machine file saying where they come from).
    From the cache sizes when the machine states L1d, L2 and an LLC; else FIXED. The largest is
    lowered (to a power of two) until max_threads connections of it fit the servers' budget."""
    c = cache_sizes(info)
    if all(k in c for k in ("L1d", "L2", "LLC")) and c["L1d"] < c["L2"] <= c["LLC"]:
        fps = [int(c["L1d"] * INSIDE), int(c["L2"] * INSIDE), int(c["LLC"] * INSIDE), int(c["LLC"] * BEYOND)]
        basis = (f"from the cache sizes (L1d {fmt_size(c['L1d'])}, L2 {fmt_size(c['L2'])}, LLC {fmt_size(c['LLC'])}): "
                 f"L1d/2, L2/2, LLC/2, {BEYOND} x LLC")
    else:
        fps, basis = list(FIXED), FIXED_BASIS
    room = mem_budget(info) // max(1, max_threads)
    top = fps[-1]
    while top > fps[-2] and top * 1.05 + 64 * MIB > room:  # heap overhead and A1's buffer: a margin
        top = 1 << (top.bit_length() - 1) if top & (top - 1) else top // 2
    if top != fps[-1]:
        basis += (f"; the largest lowered from {fmt_size(fps[-1])} to {fmt_size(top)} so that {max_threads} "
                  f"connection(s) fit the servers' memory budget ({fmt_size(mem_budget(info))})")
        fps[-1] = top
    return sorted(set(fps)), basis


def plan(footprints, sizes, threads, info, strict=True):
    """The sub-sweep's (footprint, size) points: [(bytes the server is given, size)], the footprint
    rounded up to whole messages; a footprint of one message or less is the main grid's hot point
    and is left out. A point whose largest thread count would not fit the servers' memory budget
    (small messages cost several times their size in the heap): PlanError when strict (a list the
    user gave), else left out (the default list)."""
    out = []
    budget, tmax = mem_budget(info), max(threads)
    for fp in sorted(set(footprints)):
        for size in sorted(set(sizes)):
            n = messages(fp, size)
            if n <= 1 or (not strict and tmax * charge(fp, size) > budget):
                continue
            if tmax * charge(fp, size) > budget:
                raise PlanError(f"--footprints: {human(fp)} x {tmax} connections of {human(size)} messages "
                                f"needs {human(tmax * charge(fp, size))} (with the heap's overhead), more than "
                                f"the servers' memory budget here ({human(budget)}: 1 GiB or a quarter of the RAM)")
            out.append((n * size, size))
    return out


def estimate_s(points, threads, impls, reps, duration, cores=2):
    """Seconds the sub-sweep takes: each run's window and overhead, plus setting up its footprint
    (the connections set up in parallel, up to the cores)."""
    total = 0.0
    for fp, _ in points:
        for t in threads:
            setup = SETUP_S_PER_GIB * fp / GIB * t / min(t, cores)
            total += impls * reps * (duration + RUN_OVERHEAD_S + setup)
    return total


# ----------------------------------------------------------------------------------------------
# rows

def footprint_of(r):
    """The bytes a row's connections sent from: its footprint_bytes, or one message (rows of a
    sweep before the footprint existed, and the main grid)."""
    fp = r.get("footprint_bytes")
    return int(fp) if fp else r["msg_size"]


def is_cold(r):
    """A row of the footprint sub-sweep: more than one message per connection."""
    return footprint_of(r) > r["msg_size"]


def split_rows(rows):
    """(main-grid rows: one message, hot; footprint rows). The other answers and figures read the
    main grid only: its medians must not pool runs of another footprint."""
    return [r for r in rows if not is_cold(r)], [r for r in rows if is_cold(r)]


def grid(rows):
    """The footprint sub-sweep's stream grid: {(size, threads): [footprints, the hot one first]},
    hot = the main grid's one message of that size (when the main grid has that configuration)."""
    cold = [r for r in rows if is_cold(r) and r["mode"] == "stream"]
    out = {}
    for size in distinct(cold, "msg_size"):
        for t in distinct(cold, "threads", msg_size=size):
            fps = sorted({footprint_of(r) for r in cold if r["msg_size"] == size and r["threads"] == t})
            hot = [r for r in rows if not is_cold(r) and r["mode"] == "stream" and r["msg_size"] == size
                   and r["threads"] == t]
            out[(size, t)] = ([size] if hot else []) + fps
    return out


def at(rows, impl, size, threads, fp, col):
    """The values of col over the repetitions at one point, by repetition: {rep: value}."""
    out = {}
    for r in rows:
        if (r["mode"] == "stream" and r["impl"] == impl and r["msg_size"] == size and r["threads"] == threads
                and footprint_of(r) == fp and r.get(col) is not None):
            out[r["rep"]] = r[col]
    return out


@dataclass
class Spread:
    med: float
    lo: float
    hi: float
    n: int

    @property
    def range(self):
        return self.hi - self.lo


def spread(vals):
    vals = [v for v in vals if v is not None]
    return Spread(statistics.median(vals), min(vals), max(vals), len(vals)) if vals else None


def ratio(rows, a, b, size, threads, fp, col):
    """a / b of col per repetition (the techniques of one repetition ran back to back: a paired
    ratio cancels the drift between repetitions), as a Spread; None without both."""
    va, vb = at(rows, a, size, threads, fp, col), at(rows, b, size, threads, fp, col)
    return spread([va[k] / vb[k] for k in va if k in vb and vb[k]])


def differs(x, y):
    """The noise rule of report.md on two Spreads: the medians differ by more than the larger
    range (and both have two repetitions or more)."""
    return x and y and x.n >= 2 and y.n >= 2 and abs(x.med - y.med) > max(x.range, y.range)


def cpu_col(rows):
    """The CPU-per-byte column: the send loop's (send_cpu_ns_per_byte, without setting up the
    footprint), else the whole server life's (older CSVs, which have no footprint rows)."""
    return "send_cpu_ns_per_byte" if any(r.get("send_cpu_ns_per_byte") is not None for r in rows) \
        else "cpu_ns_per_byte"


def hw(rows, col):
    return any(r.get(col) is not None for r in rows if is_cold(r))


def level_between(lo, hi, caches):
    """The cache levels whose size lies in (lo, hi]: what a footprint step from lo to hi crosses."""
    return [name for name in ("L1d", "L2", "LLC") if name in caches and lo < caches[name] <= hi]


def fp_word(fp, size):
    return f"{fmt_size(fp)}" if fp != size else f"one message ({fmt_size(fp)})"


# ----------------------------------------------------------------------------------------------
# answers

@dataclass
class FootprintAnswer:
    bold: str
    table: list = field(default_factory=list)
    why: list = field(default_factory=list)      # at most five lines
    numbers: dict = field(default_factory=dict)

    def lines(self):
        out = [f"**{self.bold}**", ""]
        if self.table:
            out += self.table + [""]
        out += [f"- {w}" for w in self.why[:5]]
        return out


NOT_RUN = FootprintAnswer("Cold data was not measured in this run: it has no footprint rows "
                          "(run_experiments.sh without `--footprints none` adds them).")


def _main_config(rows):
    """The sub-sweep's configuration the answers read first: the largest size, one connection
    (the fewest other effects), or what there is."""
    g = grid(rows)
    if not g:
        return None
    return max(g, key=lambda k: (k[1] == min(t for _, t in g), k[0]))


def _gap_steps(rows, size, threads, fps, col, a="A1", b="A2"):
    """[(footprint, Spread of a/b per repetition)] along the footprints of one configuration."""
    return [(fp, s) for fp in fps for s in [ratio(rows, a, b, size, threads, fp, col)] if s]


def where_gap_opens(steps):
    """The first footprint whose ratio differs measurably from the hot (first) one's: (previous
    footprint, that footprint, its Spread), or None."""
    if len(steps) < 2:
        return None
    hot = steps[0][1]
    for (prev, _), (fp, s) in zip(steps, steps[1:]):
        if differs(s, hot):
            return prev, fp, s
    return None


def widest_step(steps):
    """The step between two adjacent footprints where the ratio moves most (by factor), among
    those where it moves measurably: (from footprint, to footprint, Spread there, Spread at the
    step's start), or None."""
    best = None
    for (prev, sp), (fp, s) in zip(steps, steps[1:]):
        if differs(s, sp) and sp.med > 0 and s.med > 0:
            f = max(s.med / sp.med, sp.med / s.med)
            if best is None or f > best[0]:
                best = (f, prev, fp, s, sp)
    return best[1:] if best else None


def _fp_table(rows, size, threads, fps, cols):
    """One table: a row per footprint, the median of each (label, impl, col) over repetitions."""
    head = "| footprint | " + " | ".join(lab for lab, _, _ in cols) + " |"
    lines = [head, "|---|" + "---|" * len(cols)]
    for fp in fps:
        cells = []
        for _, impl, col in cols:
            if impl.startswith("ratio:"):
                a, b = impl[6:].split("/")
                s = ratio(rows, a, b, size, threads, fp, col)
                cells.append(f"{s.med:.2f} [{s.lo:.2f}-{s.hi:.2f}]" if s else "n/a")
            else:
                s = spread(list(at(rows, impl, size, threads, fp, col).values()))
                cells.append(fmt_num(s.med) if s else "n/a")
        lines.append(f"| {fp_word(fp, size)} | " + " | ".join(cells) + " |")
    return lines


def _caches_line(caches, info):
    if caches:
        return ("Cache sizes from the machine file (one core's L1d and L2, one LLC): "
                + ", ".join(f"{k} {fmt_size(v)}" for k, v in caches.items()) + ".")
    return ("The machine file states no cache sizes, so no footprint step can be named "
            "by its cache level" + ("; the footprints are a fixed list of common sizes"
                                    if "fixed list" in (info.get("footprints") or "") else "") + ".")


def q2_cache(rows, info):
    """Q2 from the footprint sub-sweep: which cache level shows the most reduction in misses.
    With counters: L1d and LLC misses per KiB of A1 and A2 at each footprint, the reduction A1 -> A2
    at each. Without: where A2's CPU per byte parts from A1's as the footprint crosses each cache
    size, stated as an inference from that proxy."""
    cfg = _main_config(rows)
    if cfg is None:
        return NOT_RUN
    size, threads = cfg
    fps = grid(rows)[cfg]
    caches = cache_sizes(info)
    col = cpu_col(rows)
    where = f"{fmt_size(size)} messages, {conn_label(threads, short=False)}, stream"
    src = f"results CSV, footprint sub-sweep ({where}; medians of the repetitions, ratios per repetition)"
    if hw(rows, "l1d_misses") or hw(rows, "llc_misses"):
        return _q2_counted(rows, size, threads, fps, caches, src, info)
    steps = _gap_steps(rows, size, threads, fps, col, "A2", "A1")
    opens = where_gap_opens(steps)
    table = _fp_table(rows, size, threads, fps, [("A1 Gbit/s", "A1", "throughput_gbps"),
                                                  ("A2 Gbit/s", "A2", "throughput_gbps"),
                                                  ("A1 CPU ns/B", "A1", col), ("A2 CPU ns/B", "A2", col),
                                                  ("A2/A1 CPU per byte [range]", "ratio:A2/A1", col)])
    num = {"config": cfg, "source": src, "measured": "cpu proxy", "column": col,
           "steps": [(fp, s.med, s.lo, s.hi) for fp, s in steps]}
    label = "Inferred from a measured proxy (CPU time per byte, no cache miss was counted)"
    why = [f"No hardware counters here. {_caches_line(caches, info)}",
           f"Proxy: the server's CPU time per byte in its send loop (`{col}`), A2 / A1 per repetition; A1 reads each "
           "cold byte in user space (glibc memmove), then copies a hot buffer; A2 reads it in the kernel "
           "(copy_from_iter)."]
    if opens is None and min((s.n for _, s in steps), default=0) < 2:
        bold = (f"Not judged: one repetition per footprint gives no spread to tell a parting of A1's and A2's "
                f"CPU per byte from noise ({where}); rerun with `--reps 3`.")
        num["level"] = None
    elif opens is None:
        bold = (f"{label}: no cache level stands out. A2's CPU per byte relative to A1's stays within the "
                f"repetitions' spread from one message to {fmt_size(fps[-1])} ({where}).")
        num["level"] = None
    else:
        hot = steps[0][1]
        widest = widest_step(steps)
        # Without one measurable step the ratio drifts: name where it is first measurably apart
        # from the hot one, and compare with the hot ratio (the step's own start is within noise).
        prev, fp, s, sp = widest or (*opens, hot)
        lv = level_between(prev, fp, caches)
        first = (f"; it first parts from the hot ratio ({hot.med:.2f}) at {human(opens[1])} ({opens[2].med:.2f})"
                 if opens[1] != fp else "")
        num.update(level=lv[-1] if lv else None, opens_between=(prev, fp), first_opens=opens[:2],
                   ratio_hot=hot.med, ratio_open=s.med)
        crossing = (f"the {' and '.join(lv)} size" if lv else
                    "a cache size this machine does not state" if not caches else "no stated cache size")
        head = (f"the {lv[-1]} level" if lv else "no cache level can be named (the machine states no cache sizes)"
                if not caches else "no stated cache size lies in that step")
        if widest:
            bold = (f"{label}: {head}. A2's CPU per byte parts most from A1's between footprints of "
                    f"{fp_word(prev, size)} and {human(fp)}, where the working set outgrows {crossing}: "
                    f"A2/A1 {sp.med:.2f} -> {s.med:.2f}{first}.")
        else:
            bold = (f"{label}: {head}. A2's CPU per byte relative to A1's drifts, with no measurable step "
                    f"between adjacent footprints; it is measurably apart from the hot ratio from {human(fp)} "
                    f"on: A2/A1 {hot.med:.2f} hot -> {s.med:.2f}.")
        why.append("Inference: the step where the two copies' costs part most is where the misses they pay differ "
                   "most, so the level whose size lies in that step is where counted misses would differ; a counter "
                   "would show it, here it is inferred. The proxy cannot tell cache misses from the TLB's (or a "
                   "hypervisor's page-table) misses, which grow with the footprint too (docs/performance.md).")
    why.append(f"Numbers: {src}.")
    return FootprintAnswer(bold, table, why, num)


def _q2_counted(rows, size, threads, fps, caches, src, info):
    cols = [("L1d misses/KiB A1", "A1", "l1d_per_kib"), ("L1d A2", "A2", "l1d_per_kib"),
            ("LLC misses/KiB A1", "A1", "llc_per_kib"), ("LLC A2", "A2", "llc_per_kib")]
    table = _fp_table(rows, size, threads, fps, cols)
    red = {}
    for lvl, col in (("L1d", "l1d_per_kib"), ("LLC", "llc_per_kib")):
        for fp in fps:
            s = ratio(rows, "A2", "A1", size, threads, fp, col)
            if s:
                red.setdefault(lvl, {})[fp] = s
    num = {"source": src, "measured": "counters", "reduction": {k: {fp: 1 - s.med for fp, s in d.items()}
                                                                for k, d in red.items()}}
    cold = fps[-1]
    best, best_frac = None, None
    parts = []
    for lvl, d in red.items():
        if cold in d:
            frac = 1 - d[cold].med
            parts.append(f"{lvl} {frac * 100:+.0f}% [{(1 - d[cold].hi) * 100:+.0f}..{(1 - d[cold].lo) * 100:+.0f}%]")
            if best_frac is None or frac > best_frac:
                best, best_frac = lvl, frac
    others = [d[cold] for lvl, d in red.items() if lvl != best and cold in d]
    measurable = best is not None and all(differs(red[best][cold], o) for o in others)
    num["level"] = best if measurable else None
    if best is None:
        bold = "Not measured: no miss counts at the footprints."
    elif measurable:
        bold = (f"{best} shows the most reduction in misses (counted): from A1 to A2, misses per KiB change "
                + ", ".join(parts) + f" at a footprint of {fmt_size(cold)}.")
    else:
        bold = ("No level shows measurably more reduction (counted): from A1 to A2, misses per KiB change "
                + ", ".join(parts) + f" at a footprint of {fmt_size(cold)}, within the repetitions' spread.")
    hot_parts = [f"{lvl} {(1 - d[fps[0]].med) * 100:+.0f}%" for lvl, d in red.items() if fps[0] in d]
    why = [f"Counted with perf (`L1-dcache-load-misses`, `LLC-load-misses`) over the server's whole life, per KiB "
           f"it sent; change = 1 - A2/A1 per repetition, median [range]. {_caches_line(caches, info)}",
           "Hot (one message): " + (", ".join(hot_parts) or "n/a") + ". A1's extra copy reads a message the caches "
           "hold and writes a flat buffer that stays in them, so removing it removes near-cache traffic; with "
           "cold data both techniques still read every byte from memory once, which no copy count changes.",
           f"Numbers: {src}."]
    return FootprintAnswer(bold, table, why, num)


def growth(rows, impl, size, lo_t, hi_t, fp, col):
    """col at hi_t connections / at lo_t, per repetition (within a repetition the connection
    counts of one footprint ran one after the other), as a Spread; None without both."""
    a, b = at(rows, impl, size, lo_t, fp, col), at(rows, impl, size, hi_t, fp, col)
    return spread([b[k] / a[k] for k in a if k in b and a[k]])


def q3_threads(rows, info, cores=None):
    """Q3 from the footprint sub-sweep: more connections multiply the working set the shared LLC
    must hold (threads x footprint). Per technique, how much CPU per byte (LLC misses per KiB where
    counted) grows from the fewest to the most connections, at each footprint: contention for the
    LLC shows as more growth once the footprints of all connections together outgrow it."""
    g = grid(rows)
    if not g:
        return NOT_RUN
    size = max(s for s, _ in g)
    ts = sorted(t for s, t in g if s == size)
    caches = cache_sizes(info)
    metric = "llc_per_kib" if hw(rows, "llc_misses") else cpu_col(rows)
    mname = "LLC misses per KiB (counted)" if metric == "llc_per_kib" else "CPU per byte (send loop)"
    if len(ts) < 2:
        return FootprintAnswer(f"Not measured: the footprint sub-sweep has one connection count ({ts[0]}) at "
                               f"{fmt_size(size)}.",
                               numbers={"source": f"results CSV, footprint sub-sweep ({fmt_size(size)} messages)"})
    lo_t, hi_t = ts[0], ts[-1]
    src = (f"results CSV, footprint sub-sweep ({fmt_size(size)} messages, stream; a cell: {mname} with {hi_t} "
           f"connections / with {lo_t}, per repetition, median [range])")
    fps = [f for f in g[(size, lo_t)] if f in g[(size, hi_t)]]
    impls = [i for i in ("A1", "A2", "A3") if any(r["impl"] == i for r in rows if is_cold(r))]
    table = [f"| footprint per conn. | working set, {lo_t} / {hi_t} conn. | "
             + " | ".join(f"{i}, {hi_t} / {lo_t} conn." for i in impls) + " |",
             "|---|---|" + "---|" * len(impls)]
    gr = {}
    for fp in fps:
        cells = []
        for impl in impls:
            s = growth(rows, impl, size, lo_t, hi_t, fp, metric)
            if s:
                gr.setdefault(impl, {})[fp] = s
            cells.append(f"x{s.med:.2f} [{s.lo:.2f}-{s.hi:.2f}]" if s else "n/a")
        table.append(f"| {fp_word(fp, size)} | {human(fp * lo_t)} / {human(fp * hi_t)} | " + " | ".join(cells) + " |")
    llc = caches.get("LLC")
    squeezed = [fp for fp in fps if llc and fp * lo_t <= llc < fp * hi_t]
    hot, cold = fps[0], fps[-1]
    more = [i for i, d in gr.items() if hot in d and cold in d and differs(d[cold], d[hot]) and d[cold].med > d[hot].med]
    less = [i for i, d in gr.items() if hot in d and cold in d and differs(d[cold], d[hot]) and d[cold].med < d[hot].med]
    judged = [i for i, d in gr.items() if hot in d and cold in d and d[hot].n >= 2 and d[cold].n >= 2]
    measured = "counted" if metric == "llc_per_kib" else "a measured proxy: CPU per byte, no miss counted"
    words = f"hot -> at {human(cold)}: " + ", ".join(f"{i} x{d[hot].med:.2f} -> x{d[cold].med:.2f}"
                                                      for i, d in gr.items() if hot in d and cold in d)
    if not judged:
        bold = f"Not judged: one repetition gives no spread ({mname} from {lo_t} to {hi_t} connections: {words})."
    elif more and not less:
        bold = (f"Cold data makes {hi_t} connections measurably costlier per byte, relative to {lo_t}, for "
                f"{', '.join(more)} ({measured}), {words}.")
    elif not more and not less:
        bold = (f"No measurable interaction between connections and footprint ({measured}): from {lo_t} to {hi_t} "
                f"connections {mname} changes {words}, the same within the repetitions' spread.")
    else:
        bold = (f"Mixed ({measured}): from {lo_t} to {hi_t} connections {mname} changes {words}; more when cold for "
                f"{', '.join(more) or 'none'}, less for {', '.join(less) or 'none'}.")
    num = {"source": src, "metric": metric, "threads": (lo_t, hi_t), "squeezed": squeezed, "more": more,
           "less": less, "growth": {i: {fp: s.med for fp, s in d.items()} for i, d in gr.items()}}
    cores_txt = f"{cores} CPUs" if cores else "a machine with few CPUs"
    why = [f"Each connection is one sender thread with its own footprint, so {hi_t} connections ask the shared LLC to "
           f"hold {hi_t} x the footprint (the working-set column). "
           + (f"LLC {human(llc)}: " + (f"{', '.join(human(f) for f in squeezed)} per connection fit(s) it with "
                                       f"{lo_t} connection(s) and not with {hi_t}."
                                       if squeezed else "no footprint here fits it with the fewest connections and "
                                                        "not with the most.") if llc else
              "The LLC's size is not known here (Q2)."),
           f"What {cores_txt} cannot show: contention between more cores than it has. At most {cores or 'that many'} "
           "senders run at once, each beside its receiver: eviction among 8 or 32 cores sharing one LLC is beyond it, "
           "and more connections than CPUs time-share them (switching, not parallel pressure on the cache).",
           f"Numbers: {src}."]
    return FootprintAnswer(bold, table, why, num)


def q4_cold(rows, info):
    """Q4's assumption, tested: the A1-vs-A2 verdict at each size of the sub-sweep, hot (one
    message) vs the coldest footprint, by the noise rule on throughput per repetition."""
    g = grid(rows)
    if not g:
        return NOT_RUN
    lines = ["| size, conn. | A2/A1 Gbit/s hot [range] | A2/A1 at the coldest footprint [range] | verdict hot -> cold |",
             "|---|---|---|---|"]
    verdicts = {}
    for (size, t), fps in sorted(g.items()):
        hot = ratio(rows, "A2", "A1", size, t, size, "throughput_gbps")
        cold = ratio(rows, "A2", "A1", size, t, fps[-1], "throughput_gbps")
        if not cold:
            continue

        def word(s):
            if not s or s.n < 2:
                return "?"
            return "A2" if s.lo > 1 else "A1" if s.hi < 1 else "="
        verdicts[(size, t)] = (word(hot), word(cold), fps[-1])
        fmt = lambda s: f"{s.med:.2f} [{s.lo:.2f}-{s.hi:.2f}]" if s else "n/a"  # noqa: E731
        lines.append(f"| {fmt_size(size)}, {t} | {fmt(hot)} | {fmt(cold)} ({fmt_size(fps[-1])}) | "
                     f"{word(hot)} -> {word(cold)} |")
    if not verdicts:
        return NOT_RUN
    moved = [k for k, (h, c, _) in verdicts.items() if h != c and "?" not in (h, c)]
    a1_cold = [k for k, (_, c, _) in verdicts.items() if c == "A1"]
    if all("?" in (h, c) for h, c, _ in verdicts.values()):
        bold = "Not judged: one repetition gives no spread to tell the hot and cold verdicts apart (`?`)."
    elif moved:
        bold = ("Cold data moves the A1-vs-A2 answer: " + "; ".join(
            f"at {fmt_size(s)} x{t} conn. {verdicts[(s, t)][0]} hot, {verdicts[(s, t)][1]} cold" for s, t in moved)
            + " (`=`: within the spread of the per-repetition ratios).")
    else:
        bold = ("Cold data does not move the A1-vs-A2 answer at the sizes the footprint sub-sweep ran ("
                + ", ".join(f"{fmt_size(s)} x{t}: {h}" for (s, t), (h, _, _) in sorted(verdicts.items())) + ").")
    why = ["Ratio per repetition (the techniques ran back to back), so drift between repetitions cancels; a verdict "
           "needs every repetition's ratio on one side of 1.",
           "The main grid's crossover (hot data) is the method's assumption: a real sender's data is usually cold."
           + (f" With cold data A1 is faster at {', '.join(sorted({fmt_size(s) for s, _ in a1_cold}))}; what was "
              "measured about why is in docs/performance.md, \"Cold data\"." if a1_cold else ""),
           "Numbers: results CSV, footprint sub-sweep and the main grid's hot rows of the same size and connections."]
    return FootprintAnswer(bold, lines, why, {"verdicts": verdicts, "moved": moved})


def report_lines(key, rows, info, lines):
    """An answer's lines in report.md with the footprint sub-sweep's answer wired in: Q2 and Q3
    lead with it (the main grid's hot data cannot answer them without counters), Q4 gets the cold
    verdicts after its own. Rows without footprint rows: the lines unchanged."""
    if not any(is_cold(r) for r in rows) or key not in ("q2", "q3", "q4"):
        return lines
    if key == "q4":
        return lines + ["", "### Cold data: does the answer hold when the data is not in the cache?", ""] + \
            q4_cold(rows, info).lines()
    from analysis.data import cpu_count
    ans = q2_cache(rows, info) if key == "q2" else q3_threads(rows, info, cpu_count(info))
    return (["### From the footprint sub-sweep (cold data)", ""] + ans.lines() + ["",
            "### From the main grid (one message per connection: hot data, the method's default)", ""] + lines)


def _as_slot(ans):
    """A FootprintAnswer in the report's slot shape (analysis/report.py: head, table, why)."""
    return {"head": ans.bold, "table": list(ans.table), "why": list(ans.why[:5])}


def q2_answer(rows, info):
    """report.py's Q2 slot: None without footprint rows, else q2_cache's answer."""
    return _as_slot(q2_cache(rows, info)) if grid(rows) else None


def q3_answer(rows, info):
    """report.py's Q3 slot: None without footprint rows, else q3_threads's answer."""
    if not grid(rows):
        return None
    from analysis.data import cpu_count
    return _as_slot(q3_threads(rows, info, cpu_count(info)))


def q4_answer(rows, info):
    """One sentence for Q4's "the data is hot" line: what cold data does to the A1-vs-A2 verdict
    (q4_cold's bold line), or None."""
    if not grid(rows):
        return None
    ans = q4_cold(rows, info)
    return None if ans is NOT_RUN else ans.bold + " [footprint rows]"


# ----------------------------------------------------------------------------------------------
# the command line run_experiments.sh calls

def _ints(text):
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise PlanError(f"not a list of whole numbers: '{text}'")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="footprint.py", description="The footprint sub-sweep's plan for "
                                 "run_experiments.sh: prints 'basis TEXT', 'estimate SECONDS', 'overhead SECONDS' "
                                 "(per run, besides its window) and one 'run FOOTPRINT_BYTES SIZE' line per point.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("plan")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--machine", help="the machine file (its cache and memory lines)")
    src.add_argument("--here", action="store_true", help="read this host's caches and memory (a dry run)")
    p.add_argument("--sizes", required=True, help="message sizes, bytes, comma separated")
    p.add_argument("--threads", required=True, help="connection counts, comma separated")
    p.add_argument("--footprints", help="footprints in bytes (default: from the machine's caches)")
    p.add_argument("--coldest", action="store_true", help="only the largest default footprint (a quick sweep)")
    p.add_argument("--impls", type=int, default=3)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--duration", type=float, default=5)
    a = ap.parse_args(argv)
    info = {}
    if a.machine:
        from analysis.data import read_machine
        info = read_machine(a.machine)
    elif a.here:
        info = local_info()
    try:
        sizes, threads = _ints(a.sizes), _ints(a.threads)
        if a.footprints is None:
            fps, basis = default_footprints(info, max(threads))
            if a.coldest:
                fps, basis = fps[-1:], basis + "; --quick: the largest only"
        else:
            fps, basis = _ints(a.footprints), "given with --footprints"
        points = plan(fps, sizes, threads, info, strict=a.footprints is not None)
    except PlanError as e:
        print(f"run_experiments: {e}", file=sys.stderr)
        return 2
    words = " ".join(human(f).replace(" ", "") for f in fps)
    print(f"basis {words} ({basis})")
    runs = len(points) * len(threads) * a.impls * a.reps
    est = estimate_s(points, threads, a.impls, a.reps, a.duration)
    print(f"estimate {est:.0f}")
    # what a run costs besides its window, on average: run_experiments.sh's plan phase takes it
    print(f"overhead {(est / runs - a.duration) if runs else 0:.1f}")
    for fp, size in points:
        print(f"run {fp} {size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
