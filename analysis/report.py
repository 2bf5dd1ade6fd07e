"""report.md: the assignment's six questions answered from the run's own CSV.

Shape (what a grader reads in five minutes): the four required figures, Part A (where each
technique copies), one table of where the sender's CPU goes, then per question a bold one-line
answer, one table and at most five lines of why, each number with its source in brackets. Terms
are defined once in the glossary; the statistics, the latency detail, the regime check and the
inputs go to the appendix. Every answer is a pure function of the rows (plus the machine file,
profiles.csv when present, and the purpose-made measurement bench/wakeups.csv when present):
nothing is typed in by hand, and a different CSV gives different answers (tests/t_report.sh).

Comparisons use the paired rule of analysis/stats.py: techniques run back to back within each
repetition, so they are compared repetition by repetition, and a gap is "measurable" when the 95%
interval of the paired ratio excludes 1.

Slots for other analyses (each optional; the report falls back when absent):
- analysis/footprint.py (cold data): q2_answer(rows, info) and q3_answer(rows, info), each None
  when the rows hold no footprint data, else {"head": str, "table": [markdown lines], "why": [lines]};
  without them, rows with footprint_bytes > msg_size get the generic hot-vs-cold answer below.
- Any technique beyond A1-A3 (A4, ...) appears in every table the rows give it a place in.
"""
from dataclasses import dataclass, field
import csv
import os
import re
import statistics

from analysis.data import (FIELDS_PER_MESSAGE, HW_COUNTERS, IMPL_NAMES, conn_label, cpu_count, distinct, fmt_num,
                           fmt_size, geomean, has_data, machine_label, median_of, one_way_latency_valid, path_of,
                           profile_share, reps_per_config, run_label, values, with_derived)
from analysis.stats import interval, pair_logs, pooled_spread

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RR_REGIME_FACTOR = 2.0
STREAM_REGIME_FACTOR = 1.5
LOCAL_PATHS = ("veth", "loopback")
CORE = ("A1", "A2", "A3")  # the assignment's three: the core of every table and figure
ZC_IMPLS = ("A3", "A4")    # techniques whose rows carry zero-copy completion counts
Q_MAX_WHY = 5


def impl_order(impls):
    """A1, A2, A3 first, then any other technique (A4, ...) in name order."""
    return sorted(impls, key=lambda i: (i not in CORE, CORE.index(i) if i in CORE else 0, i))


def pct(x, digits=0):
    return f"{x:+.{digits}f}%"


def span(vals, fmt=lambda v: fmt_num(v), sep="-"):
    """'a-b' of a list of numbers (one number when they print alike)."""
    vals = [v for v in vals if v is not None]
    if not vals:
        return "n/a"
    lo, hi = fmt(min(vals)), fmt(max(vals))
    return lo if lo == hi else f"{lo}{sep}{hi}"


def arrow_series(vals):
    return " → ".join(fmt_num(v) for v in vals)


def fmt_share(v):
    """A profile share: one decimal below 10%, none above."""
    return f"{v:.1f}" if v < 10 else f"{v:.0f}"


def pct_span(vals):
    """'+7%' or '-8 to -11%' (by magnitude) for a list of percent changes."""
    vals = sorted({round(v) for v in vals}, key=abs)
    if not vals:
        return "n/a"
    return f"{vals[0]:+d}%" if len(vals) == 1 else f"{vals[0]:+d} to {vals[-1]:+d}%"


# ----------------------------------------------------------------------------------------------
# a memo for the many medians and pairings one report asks of the same rows: keyed by the list's
# identity, holding the list itself so the identity cannot be reused while the entry lives;
# emptied at the start and end of every report

_MEMO = {}


def _memo(key, rows, compute):
    hit = _MEMO.get(key)
    if hit is not None and hit[0] is rows:
        return hit[1]
    v = compute()
    _MEMO[key] = (rows, v)
    return v


def med(rows, col, **match):
    """median_of, remembered for the duration of one report."""
    return _memo(("med", id(rows), col, tuple(sorted(match.items()))), rows, lambda: median_of(rows, col, **match))


def pairs(rows, a, b, metric, mode="stream"):
    """pair_logs, remembered for the duration of one report."""
    return _memo(("pairs", id(rows), a, b, metric, mode), rows, lambda: pair_logs(rows, a, b, metric, mode))


# ----------------------------------------------------------------------------------------------
# footprint (cold data) rows: kept out of the main grid, answered in their own slot

def footprint_of(r):
    try:
        return float(r.get("footprint_bytes") or 0)
    except (TypeError, ValueError):
        return 0.0


def is_cold(r):
    """A row of the footprint sweep: the server cycles through more data than one message."""
    return footprint_of(r) > r["msg_size"]


def main_rows(rows):
    """The default grid (hot data): every row that is not a cold-data (footprint) row."""
    return [r for r in rows if not is_cold(r)]


def _cold_q4(ctx):
    """Q4's assumption tested on the footprint rows: one sentence, or "" without them."""
    hook = _hook("q4_answer")
    return (hook(ctx.all_rows, ctx.info) or "") if hook and ctx.cold else ""


def _hook(name):
    try:
        from analysis import footprint
    except ImportError:
        return None
    return getattr(footprint, name, None)


# ----------------------------------------------------------------------------------------------
# comparisons (analysis/stats.py): the one rule every verdict uses

@dataclass
class Cmp:
    """a vs b at one configuration (threads set) or one size (threads None: every connection count
    pooled): the paired ratio a/b with its 95% interval, and the medians of each for display."""
    a: str
    b: str
    size: int
    threads: int
    iv: object
    med_a: float
    med_b: float

    @property
    def verdict(self):
        return self.iv.verdict

    @property
    def ratio(self):
        return self.iv.ratio


def spread_of(rows, a, b, metric, mode="stream"):
    return pooled_spread(pairs(rows, a, b, metric, mode))


def compare(rows, a, b, metric, size, threads=None, mode="stream", higher_better=True, spread=None):
    """Cmp of a vs b on metric at (mode, size, threads); threads None pools every connection count
    of that size. None when the two have no repetition in common."""
    logs = pairs(rows, a, b, metric, mode)
    sel = [v for (s, t), vs in logs.items() if s == size and (threads is None or t == threads) for v in vs]
    if not sel:
        return None
    sp = spread if spread is not None else pooled_spread(logs)
    m = {} if threads is None else {"threads": threads}
    return Cmp(a, b, size, threads, interval(sel, sp, a, b, higher_better),
               med(rows, metric, mode=mode, impl=a, msg_size=size, **m),
               med(rows, metric, mode=mode, impl=b, msg_size=size, **m))


def size_verdicts(rows, a, b, metric="throughput_gbps", mode="stream", higher_better=True):
    """{size: (verdict, [Cmp per connection count], Cmp pooled over the connection counts)}; the
    verdict is the pooled one's."""
    sp = spread_of(rows, a, b, metric, mode)
    out = {}
    for size in distinct(rows, "msg_size", mode=mode):
        pooled = compare(rows, a, b, metric, size, None, mode, higher_better, sp)
        if pooled is None:
            continue
        cells = [c for t in distinct(rows, "threads", mode=mode, msg_size=size)
                 for c in [compare(rows, a, b, metric, size, t, mode, higher_better, sp)] if c]
        out[size] = (pooled.verdict, cells, pooled)
    return out


def crossover(verdicts):
    """Smallest size from which a is measurably better at that size and every larger one."""
    sizes = sorted(verdicts)
    for i, s in enumerate(sizes):
        if all(verdicts[x][0] == "a" for x in sizes[i:]):
            return s
    return None


def mark(c):
    return {"a": c.a, "b": c.b, "tie": "=", "unjudged": "?"}[c.verdict]


VERDICT_WORD = {"tie": "no measurable difference", "unjudged": "not judged (one repetition)"}


def verdict_words(c):
    if c.verdict in VERDICT_WORD:
        return VERDICT_WORD[c.verdict]
    return f"**{c.a} better**" if c.verdict == "a" else f"{c.b} better"


# ----------------------------------------------------------------------------------------------
# regimes (a step in connection count that every technique shares is the machine's)

@dataclass
class Step:
    lo: int
    hi: int
    rr: dict
    per_conn: dict
    total: dict
    flagged: bool
    reason: str


def _step_ratio(rows, impl, mode, metric, lo, hi, per_conn=False, invert=False):
    rs = []
    for size in distinct(rows, "msg_size", mode=mode, impl=impl):
        mlo = med(rows, metric, mode=mode, impl=impl, msg_size=size, threads=lo)
        mhi = med(rows, metric, mode=mode, impl=impl, msg_size=size, threads=hi)
        if mlo and mhi:
            if per_conn:
                mlo, mhi = mlo / lo, mhi / hi
            rs.append(mlo / mhi if invert else mhi / mlo)
    return geomean(rs)


def detect_regimes(rows):
    """Steps between adjacent connection counts: a regime change when every technique's rr round
    trip shrinks by RR_REGIME_FACTOR or more (more connections on the same cores can only add
    queueing), or, without rr rows, when every technique's stream throughput per connection grows
    by STREAM_REGIME_FACTOR or more."""
    rows = main_rows(rows)
    threads = distinct(rows, "threads")
    impls = distinct(rows, "impl")
    steps = []
    for lo, hi in zip(threads, threads[1:]):
        rr = {i: r for i in impls for r in [_step_ratio(rows, i, "rr", "lat_p50_us", lo, hi, invert=True)] if r}
        pc = {i: r for i in impls for r in [_step_ratio(rows, i, "stream", "throughput_gbps", lo, hi, per_conn=True)] if r}
        tot = {i: r for i in impls for r in [_step_ratio(rows, i, "stream", "throughput_gbps", lo, hi)] if r}
        reason = ""
        if rr and len(rr) == len(impls) and min(rr.values()) >= RR_REGIME_FACTOR:
            reason = "rr"
        elif not rr and pc and len(pc) == len(impls) and min(pc.values()) >= STREAM_REGIME_FACTOR:
            reason = "stream"
        steps.append(Step(lo, hi, rr, pc, tot, bool(reason), reason))
    return steps


def regime_steps(rows):
    return [s for s in detect_regimes(rows) if s.flagged]


def _range(d):
    vals = sorted(d.values())
    if not vals:
        return "n/a"
    return f"x{vals[0]:.1f}" if f"{vals[0]:.1f}" == f"{vals[-1]:.1f}" else f"x{vals[0]:.1f}-{vals[-1]:.1f}"


def regime_note(step, short=False):
    """What the data shows at this step, computed; short=True for a figure panel."""
    lo, hi = step.lo, step.hi
    conns = "connection" + ("s" if lo != 1 else "")
    if short:
        parts = ([f"stream {_range(step.total)} slower"] if step.total else []) + \
                ([f"rr round trip {_range(step.rr)} longer"] if step.rr else [])
        return (f"slow regime at {lo} {conns}: every technique's " + ", ".join(parts)
                + f" than with {hi} (machine, not technique; report.md)")
    parts = ([f"stream throughput is {_range(step.total)} higher"] if step.total else []) + \
            ([f"rr round trip {_range(step.rr)} shorter"] if step.rr else [])
    return (f"with {conn_label(hi, short=False)} every technique's " + " and its ".join(parts)
            + f" than with {lo}: a slower regime of the machine at {lo} {conns}, shared by all techniques")


# ----------------------------------------------------------------------------------------------
# shared numbers

def copied_share(rows, impl="A3"):
    """(percent of impl's completed zero-copy sends the kernel copied, completions) or (None, 0)."""
    sel = [r for r in rows if r["impl"] == impl and r.get("zc_copied") is not None and r.get("zc_completions")]
    tot = sum(r["zc_completions"] for r in sel)
    if not tot:
        return None, 0
    return 100.0 * sum(r["zc_copied"] for r in sel) / tot, int(tot)


def extra_cpu_per_fragment(rows, impl, base="A1"):
    """{size: extra server ns of CPU per fragment of impl over base} (median cpu_ns_per_byte x size / 8)."""
    out = {}
    for s in distinct(rows, "msg_size", mode="stream"):
        ci = med(rows, "cpu_ns_per_byte", mode="stream", impl=impl, msg_size=s)
        cb = med(rows, "cpu_ns_per_byte", mode="stream", impl=base, msg_size=s)
        if ci is not None and cb is not None:
            out[s] = (ci - cb) * s / FIELDS_PER_MESSAGE
    return out


def drain_every():
    """Sends between two reads of A3's error queue: DRAIN_EVERY in A3_server.c (None when not found)."""
    try:
        with open(os.path.join(ROOT, "A3_server.c")) as f:
            m = re.search(r"#define\s+DRAIN_EVERY\s+(\d+)", f.read())
        return int(m[1]) if m else None
    except OSError:
        return None


# profile categories: (label in profiles.csv, short column name)
PROFILE_COLS = (("user-space copy", "user copy"), ("copy from user into the kernel", "user→kernel copy"),
                ("deferred copy (zero-copy fallback)", "deferred copy"), ("page pinning and unpinning", "pinning"),
                ("completion notification and error-queue reads", "completions"),
                ("TCP/IP processing", "TCP/IP¹"), ("wake-ups, scheduling and locks", "wake-ups, sched."),
                ("syscall entry and exit", "syscalls"), ("timers, clock reads and TCP pacing", "timers"),
                ("application code (user space, not copying)", "app"), ("other", "other"))
COPY_CATS = ("user-space copy", "copy from user into the kernel", "deferred copy (zero-copy fallback)")


def share(profiles, impl, size, cat):
    return profile_share(profiles, impl, size, cat, "sender")


def shares_over(profiles, impl, cat):
    """[share at every profiled size] of one technique and category (sender)."""
    return [s for size in sorted({p["size"] for p in profiles or () if p["impl"] == impl})
            for s in [share(profiles, impl, size, cat)] if s is not None]


def profile_threads(profiles_meta):
    return profiles_meta.get("threads") if profiles_meta else None


def rep_minutes(rows):
    """Minutes of measuring windows one repetition of this grid takes (sum of duration_s of rep 1)."""
    first = min((r["rep"] for r in rows if r.get("rep") is not None), default=None)
    return sum(r["duration_s"] or 0 for r in rows if r.get("rep") == first) / 60 if first is not None else None


def copy_ns_per_byte(rows, profiles, impl, size, threads):
    """Server CPU ns per byte spent copying: the profile's copy shares x the sweep's CPU per byte at
    the profiled connection count (two measurements of one configuration; None when either lacks)."""
    cpu = med(rows, "cpu_ns_per_byte", mode="stream", impl=impl, msg_size=size, threads=threads)
    sh = [share(profiles, impl, size, c) for c in COPY_CATS]
    if cpu is None or all(s is None for s in sh):
        return None
    return cpu * sum(s or 0 for s in sh) / 100


# ----------------------------------------------------------------------------------------------
# a question's answer

@dataclass
class Answer:
    key: str
    title: str
    head: str = ""
    table: list = field(default_factory=list)
    why: list = field(default_factory=list)
    numbers: dict = field(default_factory=dict)

    def markdown(self):
        why = self.why[:Q_MAX_WHY]
        out = [f"## {self.title}", "", f"**{self.head}**", ""]
        if self.table:
            out += self.table + [""]
        if why:
            out += ["Why:"] + [f"- {w}" for w in why] + [""]
        return "\n".join(out)


@dataclass
class Ctx:
    rows: list              # the main grid (hot data), with derived columns
    info: dict
    profiles: list
    prof_threads: int       # connections of the profiled runs
    impls: list
    path: str
    wakeups: list           # bench/wakeups.csv rows, or None
    cold: list              # footprint rows (cold data), with derived columns
    all_rows: list


# ----------------------------------------------------------------------------------------------
# Part A and the profile table

PART_A = {
    "A1": ("`memcpy` of the 8 fields into one buffer (user → user), then `send()` copies it user → kernel",
           "2", "the baseline", "data_path_A1.png"),
    "A2": ("`sendmsg()` with an 8-entry iovec: the kernel gathers the fields in its one copy user → kernel",
           "1", "removes A1's user-space `memcpy`", "data_path_A2.png"),
    "A3": ("`sendmsg(MSG_ZEROCOPY)`: the kernel pins the fields' pages and a NIC reads them by DMA; the buffer "
           "is reused only after its completion (send ids lo..hi) is read from the error queue",
           "0 on a NIC; on loopback/veth 1, deferred (the kernel copies the pinned pages before local delivery)",
           "removes the kernel copy, adds pinning and completions", "data_path_A3.png, data_path_A3_loopback_vs_nic.png"),
    "A4": ("`io_uring_prep_sendmsg_zc` over the same 8-entry iovec, a linked chain of sends per `io_uring_enter`; "
           "the kernel pins the pages as for A3 and posts a notification CQE when it lets them go",
           "as A3: 0 on a NIC; on loopback/veth 1, deferred",
           "A3's copies; the way in (a batch of sends, one system call) and back (a CQE, no error-queue read) differ",
           "data_path_A4.png"),
}


def part_a(ctx):
    lines = ["## Part A. Where each technique copies", "",
             "| technique | send path | CPU copies of each byte, sending | vs A1 | figure |", "|---|---|---|---|---|"]
    for i in ctx.impls:
        how, n, change, fig = PART_A.get(i, (IMPL_NAMES.get(i, i), "see docs/programs.md", "", ""))
        links = ", ".join(f"[{f}]({f})" for f in fig.split(", ") if f)
        lines.append(f"| {IMPL_NAMES.get(i, i)} | {how} | {n} | {change} | {links} |")
    lines += ["", "Every technique's receiver makes one more copy, kernel → user in `recv()` (`tcp_recvmsg`): the "
              "client is one program for all. The message is 8 fields of size/8 bytes, each its own `malloc`; a "
              "*fragment* is one field.", ""]
    return lines


def profile_table(ctx):
    """Table P: where the sender's CPU goes, technique x size x category (profiles.csv)."""
    p = ctx.profiles
    if not p:
        return ["## Where the sender's CPU goes (table P)", "",
                "Not measured in this run (no `profiles.csv` next to the CSV; `run_experiments.sh --profile`).", ""]
    cols = [(c, n) for c, n in PROFILE_COLS
            if any((share(p, i, s, c) or 0) >= 0.5 for i in ctx.impls for s in {q["size"] for q in p})]
    th = ctx.prof_threads
    lines = ["## Where the sender's CPU goes (table P)", "",
             "Share of the server's CPU samples, % [profiles.csv: `perf record -g`, one run per technique and size"
             + (f", {conn_label(th, short=False)}" if th else "") + "]. Columns under 0.5% everywhere are left out.", "",
             "| technique | size | " + " | ".join(n for _, n in cols) + " |", "|---|---|" + "---|" * len(cols)]
    for i in ctx.impls:
        for s in sorted({q["size"] for q in p if q["impl"] == i}):
            lines.append(f"| {i} | {fmt_size(s)} | " + " | ".join(
                ("" if v is None else f"{v:.1f}" if v else "0") for v in (share(p, i, s, c) for c, _ in cols)) + " |")
    lines += ["", "¹ TCP/IP is the send path and, over veth or loopback, also the receiver's TCP/IP receive softirq, "
              "which runs on the sender's CPU: the profile cannot split them.", ""]
    return lines


# ----------------------------------------------------------------------------------------------
# Q1

def q1(ctx):
    a = Answer("q1", "Q1. Why does zero-copy not always give the best throughput?")
    rows = ctx.rows
    zcs = [i for i in ctx.impls if i in ZC_IMPLS]
    if not zcs or "A1" not in ctx.impls:
        a.head = "Not measured: this run needs A1 and A3 rows."
        return a
    best = {}
    for s in distinct(rows, "msg_size", mode="stream"):
        for t in distinct(rows, "threads", mode="stream", msg_size=s):
            meds = {i: med(rows, "throughput_gbps", mode="stream", impl=i, msg_size=s, threads=t)
                    for i in ctx.impls}
            meds = {i: m for i, m in meds.items() if m is not None}
            if meds:
                best[(s, t)] = max(meds, key=meds.get)
    sp_t = {z: spread_of(rows, z, "A1", "throughput_gbps") for z in zcs}
    sp_c = {z: spread_of(rows, z, "A1", "cpu_ns_per_byte") for z in zcs}
    body = []
    thr = {}
    for z in zcs:
        frag = extra_cpu_per_fragment(rows, z)
        for s in distinct(rows, "msg_size", mode="stream", impl=z):
            ct = compare(rows, z, "A1", "throughput_gbps", s, spread=sp_t[z])
            cc = compare(rows, z, "A1", "cpu_ns_per_byte", s, spread=sp_c[z], higher_better=False)
            cs = [v for v in values(rows, "zc_copied_share", impl=z, msg_size=s)]
            csum = sum(r["zc_copied"] for r in rows if r["impl"] == z and r["msg_size"] == s and r.get("zc_copied") is not None)
            ccom = sum(r["zc_completions"] for r in rows if r["impl"] == z and r["msg_size"] == s and r.get("zc_completions"))
            if ct:
                thr.setdefault(z, []).append(ct.ratio)
            body.append((f"| {z} | {fmt_size(s)} | {cc.iv.fmt() if cc else 'n/a'} | "
                         f"{fmt_num(frag[s]) + ' ns' if s in frag else 'n/a'} |",
                         f"{100 * csum / ccom:.1f}%" if ccom else ('n/a' if not cs else '')))
    # A column with one share in every row is a sentence (issue 25: the flat 100% copied share).
    shares = {c for _, c in body}
    flat = shares.pop() if len(shares) == 1 and next(iter(shares)).endswith("%") else None
    heads = ["technique", "size", "server CPU per byte vs A1 [95%]", "extra CPU per fragment"]
    heads += [] if flat else ["sends copied"]
    a.table = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    a.table += [row if flat else f"{row} {c} |" for row, c in body]
    a.table += ["", "[results.csv: `cpu_ns_per_byte` paired, all connection counts; extra per fragment = median "
                "difference × size / 8; copied = `zc_copied` / `zc_completions`"
                + (f", {flat} in every row" if flat else "") + "; throughput: Q5's table]"]
    z = zcs[0]
    n_best = sum(1 for v in best.values() if v == z)
    share_z, n_compl = copied_share(rows, z)
    a.numbers.update(best=n_best, configs=len(best), copied_pct=share_z, path=ctx.path, ratios=thr.get(z))
    rng = span(thr.get(z, []), lambda v: f"x{v:.2f}")
    if share_z is not None and share_z >= 50:
        a.head = (f"Zero-copy did not win here: {z} had the highest throughput in {n_best} of {len(best)} "
                  f"configurations ({rng} of A1 per size), because the kernel copied {share_z:.0f}% of its sends "
                  f"anyway and {z} paid page pinning and completions on top.")
    elif share_z is not None:
        a.head = (f"{z} had the highest throughput in {n_best} of {len(best)} configurations ({rng} of A1 per size); "
                  f"the kernel copied only {share_z:.0f}% of its sends here, so where it loses its fixed costs "
                  "exceed the copy it saved.")
    else:
        a.head = f"{z} had the highest throughput in {n_best} of {len(best)} configurations ({rng} of A1 per size)."
    p = ctx.profiles
    if share_z is not None:
        where = (f"on {ctx.path} the receiver is on the same host, so the kernel copies the pinned pages before "
                 "delivering them (`skb_copy_ubufs`): the same one copy as A2" if ctx.path in LOCAL_PATHS else
                 f"path {ctx.path}")
        a.why.append(f"Copied: {share_z:.1f}% of {n_compl} completions carry SO_EE_CODE_ZEROCOPY_COPIED "
                     f"[`zc_copied` / `zc_completions`]; {where}.")
    if p and shares_over(p, z, "page pinning and unpinning"):
        n = drain_every()
        a.why.append(f"On top: pinning {span(shares_over(p, z, 'page pinning and unpinning'), fmt_share)}%, "
                     f"completions {span(shares_over(p, z, 'completion notification and error-queue reads'), fmt_share)}% "
                     f"and the deferred copy {span(shares_over(p, z, 'deferred copy (zero-copy fallback)'), fmt_share)}% "
                     "of the sender's CPU [table P]; completions come back as ranges of send ids lo..hi"
                     + (f", read every {n} sends [A3_server.c]" if n and z == "A3" else "") + ".")
    frag = extra_cpu_per_fragment(rows, z)
    if len(frag) > 1 and all(v > 0 for v in frag.values()):
        sizes = sorted(frag)
        grow = sizes[-1] / sizes[0]
        spread = max(frag.values()) / min(frag.values())
        a.numbers["fragment_cost_spread"] = spread
        a.why.append(f"A cost per fragment: {z}'s extra CPU is {span(frag.values())} ns per fragment while fragments "
                     f"grow {grow:.0f}x ({fmt_size(sizes[0] // FIELDS_PER_MESSAGE)} to "
                     f"{fmt_size(sizes[-1] // FIELDS_PER_MESSAGE)}) [table above]"
                     + (": paid per fragment and per send, not per byte, it weighs most on small messages."
                        if spread < grow ** 0.5 else ": it grows with the bytes too (a per-byte part dominates)."))
    if ctx.path in LOCAL_PATHS:
        a.why.append("Zero-copy pays where a NIC reads the pinned pages by DMA and writes are large (msg_zerocopy.rst: "
                     "from about 10 KB): not measured here, one host (`--server-host` uses two).")
    if len(zcs) > 1:
        for o in zcs[1:]:
            ro, rz = geomean(thr.get(o, [])), geomean(thr.get(z, []))
            if ro and rz and rz < 1:
                a.why.append(f"{o} vs {z}: {o} reaches x{ro:.2f} of A1 where {z} reaches x{rz:.2f} (geometric mean over "
                             f"sizes): it recovers {100 * (ro - rz) / (1 - rz):.0f}% of {z}'s loss.")
    return a


# ----------------------------------------------------------------------------------------------
# Q2, Q3: cache levels, thread count

def no_counters(ctx):
    n = len([r for r in ctx.rows if r["mode"] == "stream"])
    return f"`l1d_misses`, `llc_misses` empty in all {n} stream rows (perf: `<not supported>`)"


def footprint_generic(ctx, q):
    """Hot vs cold CPU per byte (the footprint rows against the main grid at the same configuration),
    when footprint rows exist but analysis/footprint.py gives no answer."""
    cold = ctx.cold
    if not cold:
        return None
    lines = ["| technique | size | connections | footprint | CPU per byte hot → cold (ns/B) | throughput hot → cold |",
             "|---|---|---|---|---|---|"]
    ups = []
    for i in impl_order(distinct(cold, "impl")):
        for s in distinct(cold, "msg_size", impl=i):
            for t in distinct(cold, "threads", impl=i, msg_size=s):
                for fp in sorted({footprint_of(r) for r in cold if r["impl"] == i and r["msg_size"] == s
                                  and r["threads"] == t}):
                    sel = [r for r in cold if footprint_of(r) == fp]
                    hot_c = med(ctx.rows, "cpu_ns_per_byte", mode="stream", impl=i, msg_size=s, threads=t)
                    cold_c = med(sel, "cpu_ns_per_byte", mode="stream", impl=i, msg_size=s, threads=t)
                    hot_t = med(ctx.rows, "throughput_gbps", mode="stream", impl=i, msg_size=s, threads=t)
                    cold_t = med(sel, "throughput_gbps", mode="stream", impl=i, msg_size=s, threads=t)
                    if hot_c and cold_c:
                        ups.append((cold_c / hot_c, i))
                    lines.append(f"| {i} | {fmt_size(s)} | {t} | {fmt_size(int(fp))} | {fmt_num(hot_c)} → {fmt_num(cold_c)}"
                                 f" | {fmt_num(hot_t)} → {fmt_num(cold_t)} |")
    if not ups:
        return None
    worst = max(ups)
    head = (f"Measured with cold data instead of cache counters: cycling through more data than the caches hold "
            f"costs up to x{worst[0]:.2f} the CPU per byte ({worst[1]})" if q == "q2" else
            "Cold data (footprint rows) at these connection counts: see the table; no cache counters here")
    return {"head": head + ".", "table": lines + ["", "[results.csv: rows with `footprint_bytes` > `msg_size` against "
                                                  "the default grid's rows at the same configuration]"],
            "why": ["The footprint rows make the server cycle through `footprint_bytes` of message buffers, so its "
                    "copies read data that left the caches; the hot rows resend one buffer."]}


def _apply(a, ans):
    a.head, a.table, a.why = ans["head"].strip().strip("*"), list(ans.get("table") or []), list(ans.get("why") or [])
    a.numbers["footprint"] = True
    return a


def level_change(rows, col, a, b):
    """Interval of b/a misses per KiB over every stream configuration (paired, pooled)."""
    logs = pairs(rows, b, a, col)
    sel = [v for vs in logs.values() for v in vs]
    return interval(sel, pooled_spread(logs), b, a, higher_better=False) if sel else None


def q2(ctx):
    a = Answer("q2", "Q2. Which cache level shows the most reduction in misses, and why?")
    hook = _hook("q2_answer")
    ans = hook(ctx.all_rows, ctx.info) if hook else None
    if ans or ctx.cold:
        ans = ans or footprint_generic(ctx, "q2")
        if ans:
            return _apply(a, ans)
    rows = ctx.rows
    have = [(n, c, raw) for n, c, raw in (("L1d", "l1d_per_kib", "l1d_misses"), ("LLC", "llc_per_kib", "llc_misses"))
            if has_data(rows, raw, mode="stream")]
    a.numbers["hw"] = bool(have)
    if not have:
        a.head = "Not measurable on this machine: the VM exposes no cache-miss counters, so no level can be named."
        sizes = distinct(rows, "msg_size", mode="stream")
        if ctx.profiles and ctx.prof_threads:
            a.table = ["Measured instead (Figure 3): server ns per byte spent copying [table P copy shares × "
                       f"`cpu_ns_per_byte`, {conn_label(ctx.prof_threads)}]", "",
                       "| technique | " + " | ".join(fmt_size(s) for s in sizes) + " |", "|---|" + "---|" * len(sizes)]
            for i in ctx.impls:
                a.table.append(f"| {i} | " + " | ".join(fmt_num(copy_ns_per_byte(rows, ctx.profiles, i, s, ctx.prof_threads))
                                                     for s in sizes) + " |")
        a.why = [f"No counters: {no_counters(ctx)}.",
                 "Each copy removed (Part A) is one read and one write pass over the message.",
                 "Expected (standard explanation): the message is hot (Q4), in L1d/L2, so a removed copy cuts L1d "
                 "misses most; LLC misses appear once the data outgrows the L2 (the footprint sweep).",
                 "To measure: rerun where `perf stat -e L1-dcache-load-misses,LLC-load-misses -- true` prints numbers."]
        return a
    impls = ctx.impls
    steps = [(x, y) for x, y in (("A1", "A2"), ("A1", "A3")) if x in impls and y in impls]
    a.table = ["| level | " + " | ".join(f"{y} vs {x}, misses per KiB [95%]" for x, y in steps) + " |",
               "|---|" + "---|" * len(steps)]
    red = {}
    for n, col, _ in have:
        cells = []
        for x, y in steps:
            iv = level_change(rows, col, x, y)
            cells.append(iv.fmt() if iv else "n/a")
            if iv:
                red.setdefault((x, y), {})[n] = iv
        a.table.append(f"| {n} | " + " | ".join(cells) + " |")
    a.table += ["", "[results.csv: `l1d_misses`, `llc_misses` per KiB the server sent; paired ratio over every stream "
                "configuration; < 1 = fewer misses]"]
    key = steps[-1] if steps else None
    ivs = red.get(key, {})
    fewer = {n: iv for n, iv in ivs.items() if iv.verdict == "a"}
    if not fewer:
        a.head = (f"No cache level shows a measurable reduction from {key[0]} to {key[1]}"
                  + ("; misses per KiB rise: " + ", ".join(f"{n} x{iv.ratio:.2f}" for n, iv in ivs.items()
                                                           if iv.verdict == "b") if any(iv.verdict == "b" for iv in ivs.values()) else "")
                  + ".") if key else "Not measured: needs A1 and A2 or A3."
        winner = None
    else:
        ranked = sorted(fewer.items(), key=lambda kv: kv[1].ratio)
        winner = ranked[0][0]
        if len(ranked) > 1 and ranked[0][1].hi >= ranked[1][1].lo:
            winner = None
            a.head = (f"No measurable difference between the levels ({key[0]} → {key[1]}): "
                      + ", ".join(f"{n} x{iv.ratio:.2f}" for n, iv in ranked) + ", intervals overlap.")
        else:
            a.head = (f"{winner} shows the most reduction ({key[0]} → {key[1]}): misses per KiB x{ranked[0][1].ratio:.2f}"
                      + (f" vs {ranked[1][0]} x{ranked[1][1].ratio:.2f}" if len(ranked) > 1 else "") + ".")
    a.numbers["winner"] = winner
    cpu = level_change(rows, "cpu_ns_per_byte", *key) if key else None
    if cpu:
        a.why.append(f"For comparison, server CPU per byte over the same step: x{cpu.ratio:.2f} [`cpu_ns_per_byte`]: "
                     "misses that move by the same factor follow the work done, not a cache level.")
    a.why.append("Standard explanation: the copy A2 and A3 avoid reads a message that stays hot (the same buffer is "
                 "resent, Q4), in L1d/L2, so removing it removes L1d traffic first; LLC misses come from data that "
                 "left the caches, which the number of copies changes little.")
    return a


def trend_words(vals):
    """'falls', 'rises' or 'not monotonic' for a series."""
    d = [y - x for x, y in zip(vals, vals[1:]) if x is not None and y is not None]
    if d and all(x <= 0 for x in d):
        return "falls"
    if d and all(x >= 0 for x in d):
        return "rises"
    return "not monotonic"


def q3(ctx):
    a = Answer("q3", "Q3. How does thread count interact with cache contention?")
    hook = _hook("q3_answer")
    ans = hook(ctx.all_rows, ctx.info) if hook else None
    if ans:
        return _apply(a, ans)
    rows = ctx.rows
    threads = distinct(rows, "threads", mode="stream")
    sizes = distinct(rows, "msg_size", mode="stream")
    hw = [(c, n) for c, n, raw in (("l1d_per_kib", "L1d misses per KiB", "l1d_misses"),
                                   ("llc_per_kib", "LLC misses per KiB", "llc_misses")) if has_data(rows, raw, mode="stream")]
    metrics = hw + [(c, n) for c, n in (("cpu_ns_per_byte", "CPU ns per byte"), ("cs_per_mib", "switches per MiB"))
                    if has_data(rows, c, mode="stream")]
    if len(threads) < 2 or not metrics:
        a.head = "Not measured: needs two or more connection counts with counters."
        return a
    a.table = ["| technique | server, per byte sent | " + " | ".join(conn_label(t) for t in threads) + " |",
               "|---|---|" + "---|" * len(threads)]
    trend = {}
    for i in ctx.impls:
        for col, name in metrics:
            gm = [geomean([med(rows, col, mode="stream", impl=i, msg_size=s, threads=t) for s in sizes])
                  for t in threads]
            trend.setdefault(col, {})[i] = gm
            a.table.append(f"| {i} | {name} | " + " | ".join(fmt_num(v) for v in gm) + " |")
    a.table += ["", "[results.csv: geometric mean over message sizes of the per-size medians; `cpu_ns_per_byte`; "
                "`context_switches` / MiB sent]"]
    a.numbers["trends"] = trend
    lo, hi = threads[0], threads[-1]
    cores = cpu_count(ctx.info)

    def change(col):
        return {i: v[-1] / v[0] for i, v in trend.get(col, {}).items() if v[0] and v[-1]}
    cpu = change("cpu_ns_per_byte")
    words = {i: trend_words(v) for i, v in trend.get("cpu_ns_per_byte", {}).items()}
    a.numbers["cpu_change"] = cpu
    cpu_txt = ""
    if cpu:
        steady = [i for i, w in words.items() if w != "not monotonic"]
        odd = [i for i, w in words.items() if w == "not monotonic"]
        way = "falls" if max(cpu.values()) < 1 else "rises" if min(cpu.values()) > 1 else "changes"
        cpu_txt = (f"server CPU per byte {way} from {lo} to {hi} connections "
                   f"({span(cpu.values(), lambda v: f'x{v:.2f}')}"
                   + (f"; {', '.join(odd)} not monotonic)" if odd and steady else "; not monotonic)" if odd else ")"))
    cs = trend.get("cs_per_mib", {})
    jumps = {i: v[1] / v[0] for i, v in cs.items() if len(v) > 1 and v[0] and v[1]}
    if not hw:
        a.head = ("Not measurable as cache misses here (no counters). Where contention would cost, the " + cpu_txt
                  + (f"; context switches per MiB jump x{span(jumps.values(), lambda v: f'{v:.0f}')} "
                     f"from {threads[0]} to {threads[1]}, then fall (Q6)" if jumps else "") + ".")
    else:
        l1 = change(hw[0][0])
        per_cpu = {i: l1[i] / cpu[i] for i in l1 if i in cpu and cpu[i]}
        a.numbers["misses_per_cpu"] = per_cpu
        rising = [i for i, v in per_cpu.items() if v > 1.10]
        a.head = (f"{hw[0][1].split(' per')[0]} per unit of server CPU from {lo} to {hi} connections: "
                  f"{span(per_cpu.values(), lambda v: f'x{v:.2f}')}: "
                  + ("more misses per unit of work: threads time-sharing the CPUs evict each other's data (contention)."
                     if rising else "flat within 10%, so the misses follow the extra work, not contention."))
    if cores:
        a.why.append(f"The machine has {cores} CPUs [machine file]: with 1 connection the sender and the receiver "
                     f"each have one; from {2 if cores == 2 else cores} connections on, four or more busy threads "
                     "(a server and a client thread per connection) time-share them.")
    if jumps and ctx.wakeups:
        a.why.append("Context switches: nearly every one is a receiver, woken on the sender's CPU, taking it over "
                     "(Q6, measured): a scheduling cost, not a cache one.")
    if not hw:
        a.why.append("No counters (Q2). Standard explanation of contention: a thread resuming on a CPU another "
                     "thread just used refills the caches that thread evicted; misses per unit of CPU time show it.")
    return a


# ----------------------------------------------------------------------------------------------
# Q4, Q5: crossovers

def q4(ctx):
    a = Answer("q4", "Q4. At what message size does one-copy (A2) outperform two-copy (A1)?")
    rows, p = ctx.rows, ctx.profiles
    if not {"A1", "A2"} <= set(ctx.impls):
        a.head = "Not measured: this run needs A1 and A2 rows."
        a.numbers["crossover"] = None
        return a
    vt = size_verdicts(rows, "A2", "A1", "throughput_gbps")
    vc = size_verdicts(rows, "A2", "A1", "cpu_ns_per_byte", higher_better=False)
    cx, cc = crossover(vt), crossover(vc)
    a.numbers.update(crossover=cx, cpu_crossover=cc, verdicts={s: v[0] for s, v in vt.items()},
                     cpu_verdicts={s: v[0] for s, v in vc.items()})
    a.table = ["| size | A2/A1 throughput [95%] | verdict | A2/A1 server CPU per byte [95%] | verdict | A1's `memcpy` "
               "[table P] |", "|---|---|---|---|---|---|"]
    for s in sorted(vt):
        t, c = vt[s][2], vc.get(s, (None, None, None))[2]
        sh = share(p, "A1", s, "user-space copy") if p else None
        a.table.append(f"| {fmt_size(s)} | {t.iv.fmt()} | {verdict_words(t)} | {c.iv.fmt() if c else 'n/a'} | "
                       f"{verdict_words(c) if c else ''} | {f'{sh:.1f}%' if sh is not None else 'n/a'} |")
    a.table += ["", "[results.csv: paired ratios of `throughput_gbps` and `cpu_ns_per_byte`, every connection count "
                "pooled; profiles.csv]"]
    unjudged = all(v[0] == "unjudged" for v in vt.values())
    below = [s for s, v in vt.items() if v[0] == "b" and (cx is None or s < cx)]
    if unjudged:
        a.head = "Not judged: one repetition per configuration gives no spread (`--reps 3` or more)."
    elif cx is not None:
        ahead = [vt[s][2].iv.pct for s in vt if s >= cx]
        cheap = [vc[s][2].iv.pct for s in vc if s >= cx and vc[s][0] == "a"]
        a.head = (f"A2 outperforms A1 from {fmt_size(cx)} on: {pct_span(ahead)} throughput"
                  + (f", {pct_span(cheap)} server CPU per byte" if cheap else "")
                  + (f"; below, A1 is measurably ahead ({', '.join(fmt_size(s) for s in sorted(below))})" if below else "")
                  + ".")
    elif cc is not None:
        a.head = (f"In throughput no size is measurably better for A2; in server CPU per byte A2 is cheaper from "
                  f"{fmt_size(cc)} ({pct_span([vc[s][2].iv.pct for s in vc if s >= cc])}).")
    else:
        a.head = "No size at which A2 measurably outperforms A1, in throughput or in server CPU per byte."
    frag = extra_cpu_per_fragment(rows, "A2")
    small = {s: v for s, v in frag.items() if v > 0}
    if small:
        s0 = min(small)
        mc = share(p, "A1", s0, "user-space copy") if p else None
        c1 = med(rows, "cpu_ns_per_byte", mode="stream", impl="A1", msg_size=s0, threads=ctx.prof_threads)
        a.why.append(f"Small messages: A2's `sendmsg` walks an 8-entry iovec and copies 8 short segments, "
                     f"{span(small.values())} ns more CPU per fragment at {', '.join(fmt_size(s) for s in sorted(small))} "
                     "[`cpu_ns_per_byte`]"
                     + (f", while A1's whole `memcpy` costs {fmt_num(mc / 100 * c1 * s0 / FIELDS_PER_MESSAGE)} ns per "
                        f"fragment at {fmt_size(s0)} [table P]." if mc is not None and c1 else "."))
    if p and shares_over(p, "A1", "user-space copy"):
        a.why.append(f"The `memcpy` A2 avoids takes {span(shares_over(p, 'A1', 'user-space copy'), fmt_share)}% of A1's "
                     "sender, growing with size [table P]: the most A2 can save.")
    a.why.append("The data is hot: without `--verify` the fields are filled once and the same buffer is resent, so "
                 "A1's `memcpy` reads cached data (the method's assumption)."
                 + (" " + cold_line if (cold_line := _cold_q4(ctx)) else ""))
    sp = spread_of(rows, "A2", "A1", "throughput_gbps")
    if sp:
        k = max(1, len(distinct(rows, "threads", mode="stream")))
        n = reps_per_config(rows)[0]
        lim = sp.half_width(n * k)
        most = max(shares_over(p, "A1", "user-space copy"), default=None) if p else None
        a.numbers.update(detect_size=lim, detect_config=sp.half_width(n), spread=sp.s)
        gaps = sorted({round(g, 3) for g in (0.02, most / 100 if most else None) if g and g > 0.005})
        a.numbers["reps_needed"] = {g: sp.reps_needed(g, k) for g in gaps}
        win = rep_minutes(rows)
        a.why.append(f"Detection limit: {n} repetitions resolve ±{100 * lim:.1f}% at one size, ±{100 * sp.half_width(n):.1f}% "
                     "at one configuration [Appendix A]; showing a true gap 4 times in 5 at one size takes "
                     + ", ".join(f"{sp.reps_needed(g, k)} repetitions for {100 * g:.{0 if g * 100 == round(g * 100) else 1}f}%"
                                 + (f" (≈{sp.reps_needed(g, k) * win / 60:.1f} h of windows)" if win and
                                    sp.reps_needed(g, k) * win > 60 else "") for g in gaps)
                     + " (`--reps N`).")
    return a


def q5(ctx):
    a = Answer("q5", "Q5. At what message size does zero-copy (A3) outperform two-copy (A1)?")
    rows = ctx.rows
    zcs = [i for i in ctx.impls if i in ZC_IMPLS]
    if not zcs or "A1" not in ctx.impls:
        a.head = "Not measured: this run needs A1 and A3 rows."
        a.numbers["crossover"] = None
        return a
    threads = distinct(rows, "threads", mode="stream")
    a.table = ["| technique | size | " + " | ".join(conn_label(t) for t in threads) + " | all [95%] | verdict |",
               "|---|---|" + "---|" * len(threads) + "---|---|"]
    ver = {}
    for z in zcs:
        v = size_verdicts(rows, z, "A1")
        ver[z] = v
        for s in sorted(v):
            by_t = {c.threads: c for c in v[s][1]}
            cells = [f"x{by_t[t].ratio:.2f} {mark(by_t[t])}" if t in by_t else "n/a" for t in threads]
            a.table.append(f"| {z} | {fmt_size(s)} | " + " | ".join(cells) + f" | {v[s][2].iv.fmt()} | "
                           f"{verdict_words(v[s][2])} |")
    a.table += ["", "[results.csv: `throughput_gbps`, paired ratio to A1; a cell names the measurably faster "
                "technique, `=` none]"]
    z = zcs[0]
    v = ver[z]
    cx = crossover(v)
    a.numbers.update(crossover=cx, verdicts={s: x[0] for s, x in v.items()})
    share_z, _ = copied_share(rows, z)
    losses = [s for s, x in v.items() if x[0] == "b"]
    ties = [s for s, x in v.items() if x[0] == "tie"]
    rng = span([x[2].ratio for x in v.values()], lambda r: f"x{r:.2f}")
    if all(x[0] == "unjudged" for x in v.values()):
        a.head = "Not judged: one repetition per configuration gives no spread (`--reps 3` or more)."
    elif cx is not None:
        a.head = f"{z} outperforms A1 from {fmt_size(cx)} on ({rng} of A1 over the sizes)."
    elif len(losses) == len(v):
        a.head = (f"{z} never outperforms A1 here: A1 is measurably faster at every size ({z} at {rng} of A1), so "
                  "this sweep has no crossover size"
                  + (f": with {share_z:.0f}% of the sends copied, zero-copy has nothing to save." if share_z is not None
                     and share_z >= 50 else "."))
    else:
        wins = [s for s, x in v.items() if x[0] == "a"]
        a.head = (f"{z} does not outperform A1 from any size on: "
                  + "; ".join(p for p in (f"faster only at {', '.join(fmt_size(s) for s in wins)}" if wins else "",
                                          f"A1 faster at {', '.join(fmt_size(s) for s in losses)}" if losses else "",
                                          f"no measurable difference at {', '.join(fmt_size(s) for s in ties)}"
                                          if ties else "") if p) + ".")
    if share_z is not None:
        a.why.append(f"The kernel copied {share_z:.1f}% of {z}'s sends [`zc_copied` / `zc_completions`]: "
                     + (f"{z} makes A2's one copy plus pinning and completions (Q1), so it cannot beat A1 at any size."
                        if share_z >= 50 else "most sends avoided the copy, so it wins where the copy saved outweighs "
                                              "the pinning and completions."))
    p, t = ctx.profiles, ctx.prof_threads
    sizes = distinct(rows, "msg_size", mode="stream", impl=z)
    if p and t and sizes:
        top = sizes[-1]
        mc = share(p, "A1", top, "user-space copy")
        c1, cz = (med(rows, "cpu_ns_per_byte", mode="stream", impl=i, msg_size=top, threads=t) for i in ("A1", z))
        if mc is not None and c1 and cz:
            per = top / FIELDS_PER_MESSAGE
            a.why.append(f"At {fmt_size(top)}, {conn_label(t)}: {z} costs {fmt_num((cz - c1) * per)} ns more CPU per "
                         f"fragment than A1; the copy it saves here, A1's `memcpy`, costs {fmt_num(mc / 100 * c1 * per)} "
                         "ns per fragment [`cpu_ns_per_byte`, table P].")
    if ctx.path in LOCAL_PATHS:
        a.why.append("Through a NIC nothing is copied and A3 may cross over (Q1): not measurable on one host.")
    return a


# ----------------------------------------------------------------------------------------------
# Q6: the most unexpected result not explained above, with a measurement made for it

@dataclass
class Candidate:
    key: str
    claim: str           # what was measured, one line
    expected: str        # what the copy model or intuition predicts
    factor: float        # how far from the expectation (x)
    robust: bool         # rests on repeated measurements (a spread), not one sample
    tier: int            # 1 contradicts the copy model (the assignment's premise); 2 machine effects
    explained: str = ""  # where above (or in the appendix) it is already explained
    head: str = ""
    why: list = field(default_factory=list)


def cand_cold(ctx):
    """On cold data, A1 (two copies) measurably faster or cheaper than A2 (one copy)."""
    cold = ctx.cold
    if not cold or not {"A1", "A2"} <= set(distinct(cold, "impl")):
        return None
    best = None
    for metric, higher, what in (("throughput_gbps", True, "throughput"), ("cpu_ns_per_byte", False, "CPU per byte")):
        logs = pairs(cold, "A1", "A2", metric)
        sp = pooled_spread(logs)
        hot = pairs(ctx.rows, "A1", "A2", metric)
        hot_sp = pooled_spread(hot)
        for (s, t), v in logs.items():
            iv = interval(v, sp, "A1", "A2", higher)
            # Only where the cold data is what puts A1 ahead: where A1 leads with hot data too
            # (the 2026-12-03 run: 16 KiB, 1 connection), the data's temperature explains nothing.
            hot_a1 = (s, t) in hot and interval(hot[(s, t)], hot_sp, "A1", "A2", higher).verdict == "a"
            if iv.verdict == "a" and not hot_a1:
                f = iv.ratio if higher else 1 / iv.ratio
                if best is None or f > best[0]:
                    best = (f, what, s, t, iv)
    if not best:
        return None
    f, what, s, t, iv = best
    return Candidate("cold", f"On cold data A1 (2 copies) beats A2 (1) by x{f:.2f} in {what} at {fmt_size(s)}, "
                             f"{conn_label(t)} [footprint rows, {iv.fmt()}]",
                     "A2 at least as good (one copy fewer)", f, True, 1,
                     head=f"On cold data A1, with two copies, beats A2, with one: x{f:.2f} in {what} at {fmt_size(s)}, "
                          f"{conn_label(t, short=False)} [footprint rows, {iv.fmt()}].",
                     why=["A1's `memcpy` pulls the 8 cold fields into one buffer that the kernel then copies from "
                          "cache; A2's kernel copy reads the 8 cold fields itself, in 8 segments (standard "
                          "explanation; the footprint rows are the measurement)."])


def cand_copy_share(ctx):
    """A2's one kernel copy takes a larger share of its sender than A1's two copies together."""
    p = ctx.profiles
    if not p or not {"A1", "A2"} <= set(ctx.impls):
        return None
    best = None
    for s in sorted({q["size"] for q in p}):
        a2 = share(p, "A2", s, "copy from user into the kernel")
        a1 = [share(p, "A1", s, c) for c in ("user-space copy", "copy from user into the kernel")]
        if a2 is None or None in a1 or not sum(a1):
            continue
        f = a2 / sum(a1)
        if f > 1 and (best is None or f > best[0]):
            best = (f, s, a2, sum(a1))
    if not best:
        return None
    f, s, a2, a1 = best
    return Candidate("copy_share", f"A2's one kernel copy takes {a2:.0f}% of its sender at {fmt_size(s)}, A1's two "
                                   f"copies {a1:.0f}% [table P]",
                     "at most A1's two", f, False, 1,
                     why=["It rests on one 3-second profile per technique and size: no repetition, no spread."])


def cs_by_threads(ctx):
    """{impl: [geometric mean over sizes of the median switches per MiB, per connection count]} (Q3's table)."""
    rows = ctx.rows
    threads = distinct(rows, "threads", mode="stream")
    sizes = distinct(rows, "msg_size", mode="stream")
    return threads, {i: [geomean([med(rows, "cs_per_mib", mode="stream", impl=i, msg_size=s, threads=t)
                                  for s in sizes]) for t in threads] for i in ctx.impls}


def cand_switches(ctx):
    """Server context switches per MiB: the largest jump between adjacent connection counts, then a
    fall as more threads share the same CPUs (Q3's table)."""
    threads, cs = cs_by_threads(ctx)
    if len(threads) < 3 or not has_data(ctx.rows, "cs_per_mib", mode="stream"):
        return None
    cs = {i: v for i, v in cs.items() if None not in v}
    if not cs:
        return None
    steps = [(geomean([v[k + 1] / v[k] for v in cs.values()]), k) for k in range(len(threads) - 1)]
    up, k = max(steps)
    jump = [v[k + 1] / v[k] for v in cs.values()]
    fall = [v[-1] / v[k + 1] for v in cs.values()]
    if up < 3 or k + 1 == len(threads) - 1 or max(fall) > 1 / 2:
        return None
    lo, hi, last = threads[k], threads[k + 1], threads[-1]
    j, f = span(jump, lambda v: f"{v:.0f}"), span(fall, lambda v: f"{v:.2f}")
    c = Candidate("switches", f"Server context switches per MiB jump x{j} from {lo} to {hi} connections, then "
                              f"fall x{f} by {last}",
                  "flat, or rising with threads per CPU", max(up, 1 / geomean(fall)), True, 2)
    c.head = (f"The server's context switches per MiB jump x{j} from {conn_label(lo, short=False)} to {hi}, then fall "
              f"x{f} by {last}, although more threads share the same CPUs")
    if ctx.wakeups:
        c.head += ": they are not blocking but wake-ups, the woken receiver taking the sender's CPU"
    c.head += "."
    return c


def cand_latency(ctx):
    """The technique with the lowest stream one-way latency is the one with the lowest throughput."""
    rows = ctx.rows
    st = [r for r in rows if r["mode"] == "stream" and r.get("lat_p50_us") is not None]
    if not st or not one_way_latency_valid(rows):
        return None
    n, cells, far = 0, 0, 1.0
    for s in distinct(st, "msg_size"):
        for t in distinct(st, "threads", msg_size=s):
            lat = {i: med(st, "lat_p50_us", impl=i, msg_size=s, threads=t) for i in ctx.impls}
            thr = {i: med(st, "throughput_gbps", impl=i, msg_size=s, threads=t) for i in ctx.impls}
            lat = {i: v for i, v in lat.items() if v is not None and thr.get(i)}
            if len(lat) < 2:
                continue
            cells += 1
            slow, fast = min(lat, key=lambda i: thr[i]), max(lat, key=lambda i: thr[i])
            if min(lat, key=lat.get) == slow:
                n += 1
                far = max(far, lat[fast] / lat[slow])
    if not n:
        return None
    return Candidate("latency", f"The slowest technique has the lowest stream one-way latency in {n} of {cells} "
                                f"configurations, up to x{fmt_num(far, 2)} below the fastest's [`lat_p50_us`]",
                     "the fastest also the quickest", far, True, 2, explained="Appendix B (queueing)")


def cand_copy_count(ctx):
    """A technique with more copies measurably faster or cheaper than one with fewer (Q1/Q5 material)."""
    share_3, _ = copied_share(ctx.rows)
    copies = {"A1": 2, "A2": 1, "A3": (share_3 or 0) / 100}
    best = None
    for metric, higher in (("throughput_gbps", True), ("cpu_ns_per_byte", False)):
        for x in ctx.impls:
            for y in ctx.impls:
                if x not in copies or y not in copies or copies[x] <= copies[y]:
                    continue
                for s, (_, cells, pooled) in size_verdicts(ctx.rows, x, y, metric, higher_better=higher).items():
                    if pooled.verdict == "a":
                        f = pooled.ratio if higher else 1 / pooled.ratio
                        if best is None or f > best[0]:
                            best = (f, x, y, s, metric)
    if not best:
        return None
    f, x, y, s, metric = best
    return Candidate("copy_count", f"{x} ({copies[x]:g} copies) beats {y} ({copies[y]:g}) by x{f:.2f} in "
                                   f"{'throughput' if metric == 'throughput_gbps' else 'CPU per byte'} at {fmt_size(s)}",
                     "fewer copies no worse", f, True, 1, explained="Q1, Q5" if y in ZC_IMPLS else "Q4")


CANDIDATES = (cand_cold, cand_copy_share, cand_switches, cand_latency, cand_copy_count)


def rank(cands):
    """Repeated measurements before single samples, then what contradicts the copy model before
    machine effects, then the larger departure from expectation."""
    return sorted(cands, key=lambda c: (not c.robust, c.tier, -c.factor))


def load_wakeups(path=None):
    """bench/wakeups.csv (the measurement made for the switches candidate), or None."""
    path = path or os.path.join(ROOT, "bench", "wakeups.csv")
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError:
        return None
    out = []
    for r in rows:
        try:
            out.append(dict(r, conns=int(r["conns"]), mib=float(r["mib"]),
                            **{k: float(r[k]) for k in ("switches", "preempted", "by_client", "blocked", "wakeups",
                                                         "steal_pct", "procs_running")}))
        except (KeyError, ValueError, TypeError):
            return None
    return out or None


def explain_switches(ctx, c):
    w = ctx.wakeups
    if not w:
        c.why = ["Not yet measured for this run: `bench/wakeups.py` records every switch and wake-up of the server "
                 "(docs/profiles.md)."]
        return c

    def med(sel, k):
        return statistics.median(r[k] / r["mib"] for r in sel) if sel else None
    free = [r for r in w if r["pin"] == "none"]
    by_c = sum(r["by_client"] for r in free) / max(1, sum(r["switches"] for r in free))
    one = [r for r in w if r["pin"] == "0:0"]
    two = [r for r in w if r["pin"] == "0:1"]
    n_rounds = len({r["round"] for r in w})
    ns = sorted({r["conns"] for r in free if r["conns"] > 1})
    at = {n: [r for r in free if r["conns"] == n] for n in ns}
    c.why.append(f"Measured for it [bench/wakeups.csv: `bench/wakeups.py` records the server's switches and wake-ups; "
                 f"{w[0]['impl']} {fmt_size(int(w[0]['size']))}, {n_rounds} round{'s' if n_rounds != 1 else ''}, "
                 f"{w[0].get('date', '')[:10]}]: {100 * by_c:.0f}% of its switches left it runnable, handing the CPU to "
                 "the client it had just woken"
                 + (("; per MiB, switches " + " and ".join(f"{fmt_num(med(at[n], 'switches'))} ({n} conn.)" for n in ns)
                     + ", wake-ups " + " and ".join(fmt_num(med(at[n], 'wakeups')) for n in ns)) if ns else "")
                 + ".")
    if one and two:
        _, cs = cs_by_threads(ctx)
        first = [v[0] for v in cs.values() if v and v[0] is not None]
        c.why.append(f"A/B, 1 connection: server and client pinned to one CPU, {fmt_num(med(one, 'switches'))} "
                     f"switches per MiB; to two, {fmt_num(med(two, 'switches'))}, none to the client"
                     + (f", as in the sweep ({span(first)}, `context_switches`, 1 conn.)." if first else "."))
    c.why.append("So the sweep counts wake-ups of a receiver sharing the sender's CPU: over veth the sender's softirq "
                 "runs the receive path and wakes the client, which may preempt it. With 1 connection on 2 CPUs the "
                 "receiver has its own CPU.")
    if len(ns) > 1:
        lo, hi = med(at[ns[0]], "wakeups"), med(at[ns[-1]], "wakeups")
        c.why.append(f"Fewer at {ns[-1]} connections: a receiver already waiting for a CPU with data queued needs no "
                     "wake-up (standard explanation); "
                     + (f"wake-ups per MiB fall with the switches ({fmt_num(lo)} → {fmt_num(hi)})." if hi < lo else
                        f"not reproduced here ({fmt_num(lo)} → {fmt_num(hi)} wake-ups per MiB)."))
    return c


def q6(ctx):
    a = Answer("q6", "Q6. One unexpected result, explained")
    cands = [c for c in (f(ctx) for f in CANDIDATES) if c]
    ranked = rank(cands)
    pick = next((c for c in ranked if not c.explained.startswith("Q")), None)
    a.numbers["ranked"] = [c.key for c in ranked]
    a.numbers["pick"] = pick.key if pick else None
    a.table = ["| rank | candidate (measured here) | expected | off by | repeated | explained |",
               "|---|---|---|---|---|---|"]
    for k, c in enumerate(ranked, 1):
        a.table.append(f"| {k} | {c.claim} | {c.expected} | x{fmt_num(c.factor, 2)} | {'yes' if c.robust else 'no'} | "
                       f"{c.explained or ('**here**' if c is pick else '')} |")
    a.table += ["", "Ranked: repeated results first, contradictions of the copy model before machine effects, "
                "then by how far off; the pick: the first not explained in Q1-Q5."]
    if not pick:
        a.head = "Nothing unexpected that Q1-Q5 do not already explain."
        return a
    if pick.key == "switches":
        explain_switches(ctx, pick)
    a.head = pick.head or pick.claim + "."
    a.why = pick.why
    return a


# ----------------------------------------------------------------------------------------------
# the appendix

def pooled_limit(sp, reps, k):
    """The detection limit at one size with reps repetitions, the spread as measured (its degrees of
    freedom follow the repetitions: configurations x (reps - 1))."""
    from analysis.stats import Spread
    return Spread(sp.s, max(1, sp.configs * (reps - 1)), sp.configs).half_width(reps * k)


def appendix_stats(ctx):
    rows = ctx.rows
    n = reps_per_config(rows)[0]
    k = len(distinct(rows, "threads", mode="stream"))
    lines = ["### A. Statistics: the comparison rule and what more repetitions buy", "",
             f"Each repetition runs the techniques back to back per configuration, so they are compared repetition by "
             f"repetition (paired). With {n} repetitions and {k} connection counts: one configuration gives {n} "
             f"pairs, one size {n * k}.", "",
             "| pair | metric | spread per repetition | detection limit, one configuration | one size | repetitions "
             "to show 2% / 5% / 8% at one size |", "|---|---|---|---|---|---|"]
    for x in ctx.impls[1:]:
        for metric, name in (("throughput_gbps", "throughput"), ("cpu_ns_per_byte", "CPU per byte")):
            sp = spread_of(rows, x, "A1", metric)
            if not sp:
                continue
            lines.append(f"| {x}/A1 | {name} | {100 * sp.s:.1f}% (df {sp.df}) | ±{100 * sp.half_width(n):.1f}% | "
                         f"±{100 * sp.half_width(n * k):.1f}% | "
                         + " / ".join(str(sp.reps_needed(g, k)) for g in (0.02, 0.05, 0.08)) + " |")
    win = rep_minutes(rows) or 0
    sp = spread_of(rows, ctx.impls[1], "A1", "throughput_gbps") if len(ctx.impls) > 1 else None
    if sp:
        lines += ["", f"What `--reps N` buys ({ctx.impls[1]}/A1 throughput, one size): "
                  + ", ".join(f"N = {m}: ±{100 * pooled_limit(sp, m, k):.1f}%" for m in (2, 3, 4, 6, 10))
                  + f"; each repetition adds {win:.1f} min of measuring windows."]
    lines += ["", "Spread: standard deviation of the log of the paired ratio, pooled over every configuration of "
              "that pair and metric. Detection limit: half-width of the 95% interval (t distribution), the smallest "
              "gap these repetitions can call measurable. Repetitions needed: for a true gap to come out measurable "
              "4 times in 5 (80% power). Measuring windows: Σ `duration_s` of one repetition, without the start and "
              "stop of every run.", ""]
    return lines


def appendix_latency(ctx):
    rows = ctx.rows
    rr = [r for r in rows if r["mode"] == "rr"]
    lines = ["### B. Latency", ""]
    if rr and "A1" in ctx.impls:
        threads = distinct(rr, "threads")
        lines += ["Round trip (rr, p50 µs) [`lat_p50_us`, rr rows]: one message in flight per connection, nothing "
                  "queued; this is where techniques compare for latency. ↑ measurably slower than A1, ↓ faster.", "",
                  "| size | " + " | ".join(conn_label(t) for t in threads) + " |", "|---|" + "---|" * len(threads)]
        sps = {i: spread_of(rr, i, "A1", "lat_p50_us", "rr") for i in ctx.impls if i != "A1"}
        for s in distinct(rr, "msg_size"):
            cells = []
            for t in threads:
                parts = []
                for i in ctx.impls:
                    m = med(rr, "lat_p50_us", impl=i, msg_size=s, threads=t)
                    if m is None:
                        continue
                    c = compare(rr, i, "A1", "lat_p50_us", s, t, "rr", False, sps[i]) if i != "A1" else None
                    parts.append(f"{i} {fmt_num(m)}" + ({"a": "↓", "b": "↑"}.get(c.verdict, "") if c else ""))
                cells.append(" · ".join(parts) or "n/a")
            lines.append(f"| {fmt_size(s)} | " + " | ".join(cells) + " |")
        lines.append("")
    else:
        lines += ["No rr rows: round trips not measured in this run.", ""]
    c = cand_latency(ctx)
    if not one_way_latency_valid(rows):
        lines += ["Stream one-way latency is not valid here: server and client ran on two hosts (two clocks).", ""]
    elif c:
        lines += [f"Stream one-way latency is queueing delay: {c.claim[0].lower() + c.claim[1:]}. In a saturated "
                  "stream a message waits behind the bytes already queued; a slow sender keeps the queue short, so "
                  "its messages arrive sooner (standard explanation). By Little's law the KiB queued per connection = one-way p50 × "
                  "per-connection rate (stream_latency_vs_throughput.png).", ""]
    return lines


def appendix_regimes(ctx):
    steps = detect_regimes(ctx.rows)
    lines = ["### C. Connection counts against the machine", ""]
    if not steps:
        return lines + ["One connection count: nothing to compare.", ""]
    lines += [f"A step to more connections is a change of the machine's regime when every technique's rr round trip "
              f"gets {RR_REGIME_FACTOR:g}x shorter (more connections on the same CPUs can only add queueing) or, "
              f"without rr rows, its stream throughput per connection {STREAM_REGIME_FACTOR:g}x higher.", "",
              "| step | stream throughput, total | rr p50 shorter by | regime change? |", "|---|---|---|---|"]
    for s in steps:
        tot = ", ".join(f"{i} x{v:.2f}" for i, v in sorted(s.total.items())) or "n/a"
        rr = ", ".join(f"{i} x{v:.2f}" for i, v in sorted(s.rr.items())) or "no rr rows"
        lines.append(f"| {s.lo} → {s.hi} conn. | {tot} | {rr} | {'**yes**' if s.flagged else 'no'} |")
    flagged = [s for s in steps if s.flagged]
    lines += ["", ("**Regime change**: " + "; ".join(regime_note(s) for s in flagged)
                   + ". Techniques are compared only within one connection count." if flagged else
                   "No regime change: connection counts can be compared directly."), ""]
    return lines


def appendix_inputs(ctx, csv_name, profiles_name):
    rows, info = ctx.all_rows, ctx.info
    lo, hi = reps_per_config(ctx.rows)
    st = values(rows, "steal_pct")
    hw = [c for c in HW_COUNTERS if has_data(rows, c)]
    return ["### D. Inputs", "",
            f"- results: `{csv_name}`, {len(rows)} runs ({len(ctx.cold)} of them cold-data footprint rows), "
            f"{lo if lo == hi else f'{lo}-{hi}'} repetitions per configuration; every number is a median over "
            "repetitions or a paired ratio.",
            "- machine and path: in the first lines of this report"
            + (f"; code: commit {info['git_commit']}" if info.get("git_commit") else "") + ".",
            f"- hardware counters with data: {', '.join(hw) if hw else 'none (perf: <not supported>)'}; steal "
            + (f"median {statistics.median(st):.2f}%, max {max(st):.2f}% of CPU time per run." if st else "not recorded."),
            f"- profiles: `{profiles_name}`, {len(ctx.profiles)} shares." if ctx.profiles else
            "- profiles: not measured in this run.",
            "- bench/wakeups.csv: the measurement made for Q6 (`bench/wakeups.py`)." if ctx.wakeups else
            "- bench/wakeups.csv: absent (Q6's measurement not made).",
            *(["- paths not starting with `/` are relative to this report's folder (`bench/...`: to the "
               "repository's)."] if not csv_name.startswith("/") else []), ""]


GLOSSARY = [
    "- **stream**: the server sends back to back, the client receives; **rr**: request/response, one message in "
    "flight per connection, round trip timed.",
    "- **connection**: one client thread and one server thread; \"threads\" in the assignment = connections here.",
    "- **fragment**: one of the message's 8 fields (size / 8 bytes), each its own `malloc`.",
    "- **CPU per byte**: the server's task-clock over its whole life / the bytes it sent (ns/B); **per MiB**: a "
    "server count divided the same way.",
    "- **copied share**: of A3's completed zero-copy sends, those the kernel flagged SO_EE_CODE_ZEROCOPY_COPIED.",
    "- **profile share**: the part of the server's CPU samples (`perf record`) in one category of kernel and user "
    "functions (docs/profiles.md).",
    "- **paired ratio / 95% interval / measurable**: Appendix A. A gap is measurable when the interval excludes 1.",
    "- **steal**: CPU time the hypervisor gave to other guests during a run (/proc/stat).",
]


# ----------------------------------------------------------------------------------------------

FIGURES = [("Figure 1", "throughput vs message size", "throughput_vs_size.png"),
           ("Figure 2", "latency vs thread count", "latency_vs_threads.png"),
           ("Figure 3", "cache misses vs message size", "cache_misses_vs_size.png"),
           ("Figure 4", "CPU cycles per byte", "cycles_per_byte_vs_size.png")]


def context(rows, info, profiles, wakeups=None):
    drows = with_derived(rows)
    main = main_rows(drows)
    th = {p.get("threads") for p in profiles or () if p.get("threads")}
    prof_threads = int(float(next(iter(th)))) if len(th) == 1 else None
    if profiles and prof_threads is None:
        prof_threads = 1  # run_experiments.sh profiles at CB_PROFILE_THREADS, default 1
    return Ctx(main, info, profiles, prof_threads, impl_order(distinct(main, "impl")), path_of(main, info),
               wakeups, [r for r in drows if is_cold(r)], drows)


QUESTIONS = (q1, q2, q3, q4, q5, q6)


def build_answers(rows, info, profiles=None, wakeups=None):
    ctx = context(rows, info, profiles, wakeups)
    return [q(ctx) for q in QUESTIONS]


def figure_lines(ctx):
    hw = any(has_data(ctx.rows, c, mode="stream") for c in HW_COUNTERS)
    out = []
    for n, name, f in FIGURES:
        proxy = ""
        if not hw and "cache" in name:
            proxy = " — proxy: copy time per byte (no cache counters here)"
        if not hw and "cycles" in name:
            proxy = " — proxy: CPU time per byte (no cycle counter here)"
        out.append(f"- {n}, {name}: [{f}]({f}){proxy}")
    return ["**The assignment's four figures**, beside this file:", ""] + out + [""]


def report_markdown(rows, info, profiles=None, csv_name="results.csv", profiles_name="profiles.csv", wakeups=None):
    """The whole report; a CSV that mixes network paths gets one report per path. wakeups: the rows
    of Q6's measurement; None reads bench/wakeups.csv, False means none."""
    if wakeups is None:
        wakeups = load_wakeups()
    wakeups = wakeups or None
    paths = distinct(rows, "path")
    if len(paths) > 1:
        what = "these CSVs mix" if info.get("inputs") else "this CSV mixes"
        parts = [f"# copybench: {what} {len(paths)} network paths ({', '.join(paths)}): one report each", ""]
        for p in paths:
            sub = [r for r in rows if r.get("path") == p]
            text = _report_one(sub, info, profiles, csv_name, profiles_name, wakeups)
            parts.append(text.replace("# copybench: the six questions", f"# Path: {p} - the six questions", 1))
        return "\n".join(parts)
    return _report_one(rows, info, profiles, csv_name, profiles_name, wakeups)


def _report_one(rows, info, profiles, csv_name, profiles_name, wakeups):
    _MEMO.clear()
    try:
        return _report_text(rows, info, profiles, csv_name, profiles_name, wakeups)
    finally:
        _MEMO.clear()


def _report_text(rows, info, profiles, csv_name, profiles_name, wakeups):
    ctx = context(rows, info, profiles, wakeups)
    answers = [q(ctx) for q in QUESTIONS]
    lo, _ = reps_per_config(ctx.rows)
    head = ["# copybench: the six questions, answered from this run", "",
            f"**The run**: {len(ctx.all_rows)} runs of `run_experiments.sh` on {machine_label(info)[9:]}; "
            f"{run_label(info, ctx.rows)}.", "",
            "**Reading it**: each question has a bold answer, one table and at most five lines of why. Every number "
            f"cites its source in brackets: a column of `{csv_name}`, table P (profiles) or a measurement named there. "
            "The glossary defines the terms, Appendix A the statistics.", ""]
    body = (head + figure_lines(ctx) + part_a(ctx) + profile_table(ctx)
            + [x.markdown() for x in answers]
            + ["## Glossary", ""] + GLOSSARY + ["", "## Appendix", ""] + appendix_stats(ctx) + appendix_latency(ctx)
            + appendix_regimes(ctx) + appendix_inputs(ctx, csv_name, profiles_name))
    return "\n".join(body)
