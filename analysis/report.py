"""report.md: the assignment's six questions answered from the run's own CSV.

Every answer is a pure function of the rows (plus the machine file and, when present,
profiles.csv) that returns an Answer: the markdown it writes and the numbers it rests on. Nothing
is hard-coded: a different CSV gives different answers, and the tests check exactly that.

Two rules run through every answer and are printed at the top of the report:

- Noise rule: two techniques differ measurably at one configuration only when the difference of
  their medians exceeds the larger of their two ranges (max - min over the repetitions). Otherwise
  the report says "no measurable difference", never names a winner. With one repetition there is
  no range, so no verdict is given.
- Regime rule: see detect_regimes.
"""
from dataclasses import dataclass, field
import statistics

from analysis import footprint
from analysis.a4 import copied_share as a4_copied_share, q1_lines as a4_q1_lines
from analysis.data import (FIELDS_PER_MESSAGE, HW_COUNTERS, NOMINAL_COPIES, conn_label, cpu_count, distinct,
                           fmt_num, fmt_size, geomean, has_data, machine_label, median_of, one_way_latency_valid,
                           path_of, profile_share, reps_per_config, run_label, summarize, values, with_derived)

# A step to more connections is a regime change when every technique's rr round trip shrinks by
# at least this factor (more connections on the same cores can only add queueing) ...
RR_REGIME_FACTOR = 2.0
# ... or, without rr rows, when every technique's stream throughput *per connection* grows by at
# least this factor (connections sharing the same cores cannot each get faster).
STREAM_REGIME_FACTOR = 1.5
LOCAL_PATHS = ("veth", "loopback")

PROFILE_SENDER_ZC = ("page pinning and unpinning", "completion notification and error-queue reads",
                     "deferred copy (zero-copy fallback)")
PROFILE_COPIES = ("user-space copy", "copy from user into the kernel")


@dataclass
class Answer:
    key: str
    title: str
    lines: list = field(default_factory=list)
    numbers: dict = field(default_factory=dict)

    def markdown(self):
        text = "\n".join([f"## {self.title}", ""] + self.lines + [""])
        return text.replace("conn..", "conn.")


# ----------------------------------------------------------------------------------------------
# the noise rule

@dataclass
class Cmp:
    """Technique a vs b at one configuration (median, min, max, repetitions of each)."""
    a: str
    b: str
    size: int
    threads: int
    med_a: float
    lo_a: float
    hi_a: float
    n_a: int
    med_b: float
    lo_b: float
    hi_b: float
    n_b: int
    higher_better: bool = True

    @property
    def spread(self):
        return max(self.hi_a - self.lo_a, self.hi_b - self.lo_b)

    @property
    def ratio(self):
        return self.med_a / self.med_b if self.med_b else None

    @property
    def verdict(self):
        """'a' or 'b' (the better one, measurably), 'tie' (no measurable difference),
        'unjudged' (fewer than two repetitions: no spread to judge by)."""
        if self.n_a < 2 or self.n_b < 2:
            return "unjudged"
        d = self.med_a - self.med_b
        if abs(d) <= self.spread:
            return "tie"
        a_better = d > 0 if self.higher_better else d < 0
        return "a" if a_better else "b"


def compare(rows, a, b, metric, size, threads, mode="stream", higher_better=True):
    """Cmp of a vs b on metric at (mode, size, threads), or None when either has no data."""
    va = values(rows, metric, mode=mode, impl=a, msg_size=size, threads=threads)
    vb = values(rows, metric, mode=mode, impl=b, msg_size=size, threads=threads)
    if not va or not vb:
        return None
    sa, sb = summarize(va), summarize(vb)
    return Cmp(a, b, size, threads, *sa, len(va), *sb, len(vb), higher_better)


def size_verdicts(rows, a, b, metric="throughput_gbps", mode="stream", higher_better=True):
    """{size: (verdict, [Cmp per connection count])}. At one size, a outperforms b ('a') when a is
    measurably better at more than half of the connection counts and measurably worse at none;
    'b' the other way round; 'unjudged' when no comparison could be judged; else 'tie'."""
    out = {}
    for size in distinct(rows, "msg_size", mode=mode):
        cmps = [c for t in distinct(rows, "threads", mode=mode, msg_size=size)
                for c in [compare(rows, a, b, metric, size, t, mode, higher_better)] if c]
        if not cmps:
            continue
        v = [c.verdict for c in cmps]
        if all(x == "unjudged" for x in v):
            verdict = "unjudged"
        elif v.count("a") > len(v) / 2 and "b" not in v:
            verdict = "a"
        elif v.count("b") > len(v) / 2 and "a" not in v:
            verdict = "b"
        else:
            verdict = "tie"
        out[size] = (verdict, cmps)
    return out


def crossover(verdicts):
    """Smallest size from which a outperforms b at that size and every larger one, else None."""
    sizes = sorted(verdicts)
    for i, s in enumerate(sizes):
        if all(verdicts[x][0] == "a" for x in sizes[i:]):
            return s
    return None


def cell_word(c, fmt_ratio=True):
    """'x1.08 A2' when a measurable winner, 'x0.98 =' when not, 'x0.98 ?' when unjudged."""
    mark = {"a": c.a, "b": c.b, "tie": "=", "unjudged": "?"}[c.verdict]
    return f"x{c.ratio:.2f} {mark}" if fmt_ratio and c.ratio else mark


def pct(x):
    return f"{x:+.0f}%"


# ----------------------------------------------------------------------------------------------
# regimes

@dataclass
class Step:
    lo: int
    hi: int
    rr: dict            # impl -> geomean over sizes of rr p50(lo) / p50(hi)
    per_conn: dict      # impl -> geomean over sizes of stream (throughput/conn)(hi) / (..)(lo)
    total: dict         # impl -> geomean over sizes of stream throughput(hi) / throughput(lo)
    flagged: bool
    reason: str


def _step_ratio(rows, impl, mode, metric, lo, hi, per_conn=False, invert=False):
    rs = []
    for size in distinct(rows, "msg_size", mode=mode, impl=impl):
        mlo = median_of(rows, metric, mode=mode, impl=impl, msg_size=size, threads=lo)
        mhi = median_of(rows, metric, mode=mode, impl=impl, msg_size=size, threads=hi)
        if mlo and mhi:
            if per_conn:
                mlo, mhi = mlo / lo, mhi / hi
            rs.append(mlo / mhi if invert else mhi / mlo)
    return geomean(rs)


def detect_regimes(rows):
    """Steps between adjacent connection counts, each with its evidence and whether it is a
    regime change (see RR_REGIME_FACTOR, STREAM_REGIME_FACTOR): a change every technique shares
    is the machine's, not a technique's."""
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
        parts = []
        if step.total:
            parts.append(f"stream {_range(step.total)} slower")
        if step.rr:
            parts.append(f"rr round trip {_range(step.rr)} longer")
        return (f"slow regime at {lo} {conns}: every technique's " + ", ".join(parts)
                + f" than with {hi} (machine, not technique; report.md)")
    parts = []
    if step.total:
        parts.append(f"stream throughput is {_range(step.total)} higher")
    if step.rr:
        parts.append(f"rr round trip {_range(step.rr)} shorter")
    return (f"with {conn_label(hi, short=False)} every technique's " + " and its ".join(parts)
            + f" than with {lo}: a slower regime of the machine at {lo} {conns}, shared by all techniques")


def regime_answer(rows, info, profiles=None):
    steps = detect_regimes(rows)
    flagged = [s for s in steps if s.flagged]
    a = Answer("regimes", "Two regimes? (connection count vs the machine)")
    a.numbers["flagged"] = [(s.lo, s.hi) for s in flagged]
    a.lines += [
        f"Rule: a step from n to m connections is a regime change when *every* technique's rr round-trip p50 is at "
        f"least {RR_REGIME_FACTOR:g}x shorter at m (geometric mean over sizes; more connections on the same cores can "
        f"only add queueing), or, without rr rows, when every technique's stream throughput per connection is at "
        f"least {STREAM_REGIME_FACTOR:g}x higher at m (connections sharing the same cores cannot each get faster). "
        "A change all techniques share belongs to the machine, not to a technique.", ""]
    if not steps:
        a.lines.append("Only one connection count was measured: nothing to compare.")
        return a
    a.lines += ["| step | stream throughput, total (per technique) | per connection | rr p50 shorter by | regime change? |",
                "|---|---|---|---|---|"]
    for s in steps:
        tot = ", ".join(f"{i} x{v:.2f}" for i, v in sorted(s.total.items())) or "n/a"
        pc = ", ".join(f"{i} x{v:.2f}" for i, v in sorted(s.per_conn.items())) or "n/a"
        rr = ", ".join(f"{i} x{v:.2f}" for i, v in sorted(s.rr.items())) or "no rr rows"
        a.lines.append(f"| {s.lo} -> {s.hi} conn. | {tot} | {pc} | {rr} | {'**yes**' if s.flagged else 'no'} |")
    a.lines.append("")
    if not flagged:
        a.lines.append("**No regime change detected**: results at different connection counts can be compared "
                       "directly (within the noise rule).")
        return a
    for s in flagged:
        slow = [t for t in distinct(rows, "threads") if t <= s.lo]
        a.lines.append(f"**Regime change between {s.lo} and {s.hi} connections.** With {s.hi} connections every "
                       f"technique's stream throughput is {_range(s.total)} higher"
                       + (f" and its rr round trip {_range(s.rr)} shorter" if s.rr else "")
                       + ". All techniques share it, so it is not a "
                       "technique effect: compare techniques only within one connection count.")
        a.lines.append("")
        ev = _regime_evidence(rows, s.lo, s.hi)
        a.numbers.update({f"evidence_{k}": v for k, v in ev.items()})
        lines = []
        if ev.get("srv_cores_lo") is not None:
            lines.append(f"- Sender CPU: the server used {ev['srv_cores_lo']:.2f} cores of task-clock per second of "
                         f"window with {conn_label(s.lo)} vs {ev['srv_cores_hi']:.2f} with {conn_label(s.hi)}, "
                         f"and {ev['cpu_ratio']:.1f}x more CPU per byte sent with {conn_label(s.lo)} "
                         f"(cpu_ns_per_byte, median over techniques and sizes).")
        if ev.get("cli_lo") is not None:
            lines.append(f"- Receiver CPU: {ev['cli_lo']:.0f}% of a core with {conn_label(s.lo)} vs {ev['cli_hi']:.0f}% "
                         f"with {conn_label(s.hi)} (client_cpu_pct).")
        if ev.get("queue_lo") is not None:
            lines.append(f"- Queue: by Little's law (stream one-way p50 x per-connection rate) about "
                         f"{fmt_num(ev['queue_lo'])} KiB per connection was in flight with {conn_label(s.lo)} vs "
                         f"{fmt_num(ev['queue_hi'])} KiB with {conn_label(s.hi)} (A1, A2; median over sizes).")
        if ev.get("cs_lo") is not None:
            lines.append(f"- Server context switches per MiB sent: {fmt_num(ev['cs_lo'])} with {conn_label(s.lo)} vs "
                         f"{fmt_num(ev['cs_hi'])} with {conn_label(s.hi)}.")
        if ev.get("steal_lo") is not None:
            lines.append(f"- Steal: median {ev['steal_lo']:.2f}% in the {conn_label(s.lo)} runs vs "
                         f"{ev['steal_hi']:.2f}% in the {conn_label(s.hi)} runs, so stolen time does not explain it.")
        if lines:
            a.lines += ["What the data shows:"] + lines + [""]
        if ev.get("sender_bound_lo"):
            a.lines.append(
                f"Reading: with {conn_label(s.lo)} the sender is the bottleneck (one core busy, queue short, receiver "
                "mostly idle) and spends several times more CPU per byte. The standard explanation on a VM: a "
                "receiver that drains its queue goes to sleep, and waking a thread asleep on the other vCPU costs "
                "the sender an inter-processor interrupt through the hypervisor for nearly every segment. With "
                "more connections the receivers stay busy (full queues) and are rarely woken. This run does not "
                "measure the wake-up itself: run `run_experiments.sh --pin 0:0` and `--pin 0:1` (server and "
                "client on one vCPU vs two) to test it; the README's bench found rr p50 ~5 us on one vCPU vs "
                "~70 us on two on the development VM.")
        else:
            a.lines.append("Reading: the data does not show the sender-bound pattern (one busy sender core, short queue); "
                           "look at pinning (`--pin`) and at the machine's power and virtualization settings.")
        wake = [(i, sz, sh) for i in distinct(rows, "impl") for sz in sorted({p["size"] for p in profiles or ()})
                for sh in [profile_share(profiles, i, sz, "wake-ups, scheduling and locks")] if sh is not None]
        if wake:
            a.lines.append("")
            a.lines.append("Profiles (sender, \"wake-ups, scheduling and locks\"): "
                           + ", ".join(f"{i} {fmt_size(sz)} {sh:.1f}%" for i, sz, sh in wake) + ".")
        pace = [(i, sz, sh) for i in distinct(rows, "impl") for sz in sorted({p["size"] for p in profiles or ()})
                for sh in [profile_share(profiles, i, sz, "timers, clock reads and TCP pacing")] if sh is not None]
        if pace:
            a.lines.append("Profiles (sender, \"timers, clock reads and TCP pacing\"): "
                           + ", ".join(f"{i} {fmt_size(sz)} {sh:.1f}%" for i, sz, sh in pace)
                           + ". Where this is large the sender is arming TCP's pacing timer (bbr without the fq "
                           "qdisc paces inside TCP, a timer per burst; docs/profiles.md measured it), not waking "
                           "the receiver: on the development VM switching to reno made these samples vanish "
                           "and loopback A3 16 KiB 2.9x faster.")
        a.lines.append("")
        if slow:
            a.numbers["slow_threads"] = slow
    return a


def _regime_evidence(rows, lo, hi):
    ev = {}

    def med(col, t, mode="stream", impls=None):
        v = [x for r in rows if r["mode"] == mode and r["threads"] == t and (impls is None or r["impl"] in impls)
             for x in [r.get(col)] if x is not None]
        return statistics.median(v) if v else None

    def med_cores(t):
        v = [r["task_clock_ms"] / 1000 / r["duration_s"] for r in rows
             if r["mode"] == "stream" and r["threads"] == t and r.get("task_clock_ms") and r.get("duration_s")]
        return statistics.median(v) if v else None

    ev["srv_cores_lo"], ev["srv_cores_hi"] = med_cores(lo), med_cores(hi)
    cl, ch = med("cpu_ns_per_byte", lo), med("cpu_ns_per_byte", hi)
    ev["cpu_ratio"] = cl / ch if cl and ch else None
    if ev["srv_cores_lo"] is None or ev["cpu_ratio"] is None:
        ev["srv_cores_lo"] = None
    ev["cli_lo"], ev["cli_hi"] = med("client_cpu_pct", lo), med("client_cpu_pct", hi)
    if ev["cli_lo"] is None or ev["cli_hi"] is None:
        ev["cli_lo"] = None
    ev["queue_lo"], ev["queue_hi"] = med("queue_kib", lo, impls=("A1", "A2")), med("queue_kib", hi, impls=("A1", "A2"))
    if ev["queue_lo"] is None or ev["queue_hi"] is None:
        ev["queue_lo"] = None
    ev["cs_lo"], ev["cs_hi"] = med("cs_per_mib", lo), med("cs_per_mib", hi)
    if ev["cs_lo"] is None or ev["cs_hi"] is None:
        ev["cs_lo"] = None
    ev["steal_lo"], ev["steal_hi"] = med("steal_pct", lo), med("steal_pct", hi)
    if ev["steal_lo"] is None or ev["steal_hi"] is None:
        ev["steal_lo"] = None
    ev["sender_bound_lo"] = bool(
        ev["srv_cores_lo"] is not None and ev["srv_cores_lo"] >= 0.8 and ev["cpu_ratio"] and ev["cpu_ratio"] >= 1.5
        and (ev["cli_lo"] is None or ev["cli_lo"] < 60))
    return ev


# ----------------------------------------------------------------------------------------------
# shared pieces

def copied_share(rows):
    """(percent copied over all A3 completions, completions) or (None, 0)."""
    a3 = [r for r in rows if r["impl"] == "A3" and r.get("zc_copied") is not None and r.get("zc_completions")]
    tot = sum(r["zc_completions"] for r in a3)
    if not tot:
        return None, 0
    return 100.0 * sum(r["zc_copied"] for r in a3) / tot, int(tot)


def profile_cites(profiles, impls, sizes, categories, side="sender"):
    """'A3 sender 1 KiB: page pinning and unpinning 12.0%, ...' for every share present."""
    out = []
    for impl in impls:
        for size in sizes:
            parts = [f"{cat} {sh:.1f}%" for cat in categories
                     for sh in [profile_share(profiles, impl, size, cat, side)] if sh is not None]
            if parts:
                out.append(f"{impl} {side}, {fmt_size(size)}: " + ", ".join(parts))
    return out


def profiled_sizes(profiles, impl):
    return sorted({p["size"] for p in profiles or () if p["impl"] == impl})


def not_profiled_line(profiles):
    return None if profiles else ("Profiles (where the CPU time goes, `profiles.csv` next to the CSV): "
                                  "not measured in this run.")


def cpu_per_byte_table(rows, impls, metric="cpu_ns_per_byte", unit="ns/B"):
    sizes = distinct(rows, "msg_size", mode="stream")
    lines = [f"| {unit} (median over conn. counts and reps) | " + " | ".join(fmt_size(s) for s in sizes) + " |",
             "|---|" + "---|" * len(sizes)]
    for impl in impls:
        cells = [fmt_num(median_of(rows, metric, mode="stream", impl=impl, msg_size=s)) for s in sizes]
        lines.append(f"| {impl} | " + " | ".join(cells) + " |")
    return lines


def verdict_table(verdicts, a, b):
    threads = sorted({c.threads for _, cmps in verdicts.values() for c in cmps})
    lines = ["| size | " + " | ".join(conn_label(t) for t in threads) + f" | {a} vs {b} at this size |",
             "|---|" + "---|" * (len(threads) + 1)]
    word = {"a": f"**{a} outperforms**", "b": f"{b} outperforms", "tie": "no measurable difference",
            "unjudged": "not judged (one rep)"}
    for size in sorted(verdicts):
        v, cmps = verdicts[size]
        by_t = {c.threads: c for c in cmps}
        cells = [cell_word(by_t[t]) if t in by_t else "n/a" for t in threads]
        lines.append(f"| {fmt_size(size)} | " + " | ".join(cells) + f" | {word[v]} |")
    lines += ["", f"Cells: median {a} / median {b} stream throughput, then the measurable winner, `=` for no "
              "measurable difference (the gap is within the repetitions' spread), `?` for one repetition."]
    return lines


def extra_cpu_per_fragment(rows, impl, base="A1"):
    """{size: extra server ns of CPU per fragment of impl over base} (median cpu_ns_per_byte x size / 8)."""
    out = {}
    for s in distinct(rows, "msg_size", mode="stream"):
        ci = median_of(rows, "cpu_ns_per_byte", mode="stream", impl=impl, msg_size=s)
        cb = median_of(rows, "cpu_ns_per_byte", mode="stream", impl=base, msg_size=s)
        if ci is not None and cb is not None:
            out[s] = (ci - cb) * s / FIELDS_PER_MESSAGE
    return out


# ----------------------------------------------------------------------------------------------
# the six questions

def q1_zero_copy(rows, info, profiles=None):
    a = Answer("q1", "Q1. Why does zero-copy not always give the best throughput?")
    impls = distinct(rows, "impl")
    if "A3" not in impls or "A1" not in impls:
        a.lines.append("Not measured: this run needs both A1 and A3 rows.")
        lines, a.numbers["a4"] = a4_q1_lines(rows, profiles)   # A4 against A3 and A2 needs no A1
        a.lines += lines
        return a
    best = {}
    for s in distinct(rows, "msg_size", mode="stream"):
        for t in distinct(rows, "threads", mode="stream", msg_size=s):
            meds = {i: median_of(rows, "throughput_gbps", mode="stream", impl=i, msg_size=s, threads=t) for i in impls}
            meds = {i: m for i, m in meds.items() if m is not None}
            if meds:
                best[(s, t)] = max(meds, key=meds.get)
    n_best = sum(1 for v in best.values() if v == "A3")
    share, n_compl = copied_share(rows)
    path = path_of(rows, info)
    a.numbers.update(a3_best=n_best, configs=len(best), copied_pct=share, path=path)
    ratios = {}
    for s in distinct(rows, "msg_size", mode="stream"):
        rs = [c.ratio for t in distinct(rows, "threads", mode="stream", msg_size=s)
              for c in [compare(rows, "A3", "A1", "throughput_gbps", s, t)] if c and c.ratio]
        if rs:
            ratios[s] = geomean(rs)
    a.numbers["a3_over_a1"] = ratios
    head = (f"**A3 has the highest median stream throughput in {n_best} of {len(best)} configurations** "
            f"(size x connection count).")
    if share is not None:
        a.lines.append(head + f" The kernel copied **{share:.1f}%** of A3's {n_compl} completed zero-copy sends "
                       f"(`zc_copied / zc_completions`, flag SO_EE_CODE_ZEROCOPY_COPIED) on this path ({path}).")
    else:
        a.lines.append(head + " The copied share was not recorded (no zc_completions).")
    a.lines.append("")
    a.lines.append("What the data says, and why:")
    if share is not None and share >= 50:
        a.lines.append(f"1. **No copy was saved.** With {share:.0f}% of sends copied, A3 still made the kernel copy "
                       "and paid the zero-copy machinery on top: pinning the pages, one completion per send, "
                       "reading the error queue. "
                       + ("On loopback and veth the kernel must copy before handing data to a local socket "
                          "(standard explanation; the completion flag is the measurement)." if path in LOCAL_PATHS
                          else "(Standard explanation: the device could not take the user pages directly.)"))
    elif share is not None:
        a.lines.append(f"1. **The copy was avoided for {100 - share:.0f}% of sends** (path {path}), so where A3 still "
                       "loses, its fixed costs exceed the copy it saved.")
    if ratios:
        a.lines.append("2. **Throughput A3/A1** (geometric mean over connection counts): "
                       + ", ".join(f"{fmt_size(s)} x{r:.2f}" for s, r in sorted(ratios.items()))
                       + gap_trend_words([r for _, r in sorted(ratios.items())]))
    cpu = {s: (median_of(rows, "cpu_ns_per_byte", mode="stream", impl="A3", msg_size=s),
               median_of(rows, "cpu_ns_per_byte", mode="stream", impl="A1", msg_size=s))
           for s in distinct(rows, "msg_size", mode="stream")}
    cpu = {s: v for s, v in cpu.items() if v[0] is not None and v[1]}
    frag = extra_cpu_per_fragment(rows, "A3")
    a.numbers["cpu_a3_over_a1"] = {s: v[0] / v[1] for s, v in cpu.items()}
    a.numbers["extra_ns_per_fragment"] = frag
    if cpu:
        a.lines.append("3. **CPU per byte** (server task-clock, median): A3 spends "
                       + ", ".join(f"{v[0] / v[1]:.1f}x A1's at {fmt_size(s)}" for s, v in sorted(cpu.items())) + ".")
    if len(frag) > 1 and all(v > 0 for v in frag.values()):
        sizes = sorted(frag)
        fr = [frag[s] for s in sizes]
        grow = sizes[-1] / sizes[0]
        spread = max(fr) / min(fr)
        a.numbers["fragment_cost_spread"] = spread
        per = "fragment" if spread < grow ** 0.5 else "byte"
        a.lines.append(f"4. **A per-fragment cost.** A3's extra server CPU over A1, per fragment "
                       f"(message / {FIELDS_PER_MESSAGE} fields): "
                       + ", ".join(f"{fmt_num(v)} ns at {fmt_size(s)}" for s, v in zip(sizes, fr))
                       + f". The fragment grows {grow:.0f}x ({fmt_size(sizes[0] // FIELDS_PER_MESSAGE)} to "
                       f"{fmt_size(sizes[-1] // FIELDS_PER_MESSAGE)}) while this cost changes {spread:.1f}x, so it "
                       + ("behaves as a cost per fragment, not per byte: it weighs most on small messages. "
                          "Standard explanation: each fragment's page is pinned and referenced from the skb, and "
                          "every send needs a completion."
                          if per == "fragment" else
                          "grows with the bytes too (a per-byte part, e.g. the deferred copy, dominates)."))
    cs = {s: (median_of(rows, "cs_per_mib", mode="stream", impl="A3", msg_size=s),
              median_of(rows, "cs_per_mib", mode="stream", impl="A1", msg_size=s))
          for s in distinct(rows, "msg_size", mode="stream")}
    cs = {s: v for s, v in cs.items() if v[0] is not None and v[1]}
    if cs:
        a.lines.append("5. **Server context switches per MiB sent**, A3 / A1: "
                       + ", ".join(f"{fmt_size(s)} x{v[0] / v[1]:.1f}" for s, v in sorted(cs.items()))
                       + " (the A3 server thread gives up its CPU more often; what it waits for, socket space or "
                       "completions, is not measured here).")
    cites = profile_cites(profiles, ["A3", "A1"], profiled_sizes(profiles, "A3"),
                          PROFILE_SENDER_ZC + PROFILE_COPIES)
    if cites:
        a.lines.append("6. **Profiles** (share of the sender's samples): " + "; ".join(cites) + ".")
    elif not_profiled_line(profiles):
        a.lines.append("6. " + not_profiled_line(profiles))
    a.lines += ["", "So zero-copy wins only where the copy it avoids costs more than its per-send and per-fragment "
                "bookkeeping: large fragments, and a device that reads user pages itself (standard explanation: a "
                "NIC with scatter-gather; the kernel's msg_zerocopy documentation calls it generally effective only "
                "for writes over about 10 KB)."]
    lines, a.numbers["a4"] = a4_q1_lines(rows, profiles)   # A4 (io_uring): how much of A3's loss it recovers
    a.lines += lines
    return a


def _counter_table(rows, col, impls, label):
    sizes = distinct(rows, "msg_size", mode="stream")
    lines = [f"| {label} | " + " | ".join(fmt_size(s) for s in sizes) + " |", "|---|" + "---|" * len(sizes)]
    for impl in impls:
        lines.append(f"| {impl} | " + " | ".join(fmt_num(median_of(rows, col, mode="stream", impl=impl, msg_size=s))
                                               for s in sizes) + " |")
    return lines


@dataclass
class Reduction:
    """Misses per KiB from technique a to b at one cache level, over all stream configurations."""
    frac: float          # 1 - geometric mean of median(b) / median(a): > 0 fewer misses, < 0 more
    noise: float         # median over configurations of the larger relative range (max - min) / median
    fewer: int           # configurations where b has measurably fewer misses (noise rule)
    more: int            # ... measurably more
    cells: int


def level_reduction(rows, col, a="A1", b="A3"):
    ratios, noise, fewer, more, cells = [], [], 0, 0, 0
    for s in distinct(rows, "msg_size", mode="stream"):
        for t in distinct(rows, "threads", mode="stream", msg_size=s):
            c = compare(rows, b, a, col, s, t, higher_better=False)
            if not c or not c.med_b or not c.med_a:
                continue
            cells += 1
            ratios.append(c.med_a / c.med_b)
            noise.append(max((c.hi_a - c.lo_a) / c.med_a, (c.hi_b - c.lo_b) / c.med_b))
            fewer += c.verdict == "a"
            more += c.verdict == "b"
    g = geomean(ratios)
    if g is None:
        return None
    return Reduction(1 - g, statistics.median(noise), fewer, more, cells)


def no_hw_lines(rows, info, cannot="which cache level's misses drop"):
    n = len([r for r in rows if r["mode"] == "stream"])
    return [f"**This machine has no hardware counters**: `l1d_misses` and `llc_misses` are empty in all {n} stream "
            f"rows (perf said `<not supported>`; machine file: hw_counters: {info.get('hw_counters', 'unknown')}). "
            f"Cache misses were not measured, so this run cannot say {cannot}. "
            "To answer it, run `sudo ./run_experiments.sh` on a machine where "
            "`perf stat -e L1-dcache-load-misses,LLC-load-misses -- true` prints numbers (bare metal, or a VM with "
            "a virtual PMU); the same report then answers from them."]


def q2_cache_levels(rows, info, profiles=None):
    a = Answer("q2", "Q2. Which cache level shows the most reduction in misses, and why?")
    impls = [i for i in ("A1", "A2", "A3") if i in distinct(rows, "impl")]
    have = {c: has_data(rows, c, mode="stream") for c in ("l1d_misses", "llc_misses")}
    a.numbers["hw"] = any(have.values())
    if not any(have.values()):
        a.lines += no_hw_lines(rows, info)
        a.lines.append("")
        a.lines.append("What the software counters can say: the CPU time the server spends per byte "
                       "(task-clock), A1 -> A2 -> A3:")
        a.lines.append("")
        a.lines += cpu_per_byte_table(rows, impls)
        return a
    levels = [("L1d", "l1d_per_kib", "l1d_misses"), ("LLC", "llc_per_kib", "llc_misses")]
    red = {}
    for name, col, raw in levels:
        if not have[raw]:
            a.lines.append(f"- {name}: `{raw}` is empty in this CSV (not supported / not counted): not measured.")
            continue
        red[name] = {f"{x}->{y}": level_reduction(rows, col, x, y)
                     for x, y in (("A1", "A2"), ("A2", "A3"), ("A1", "A3")) if x in impls and y in impls}
    a.numbers["reduction"] = {k: {st: (v.frac if v else None) for st, v in d.items()} for k, d in red.items()}
    key = "A1->A3" if "A3" in impls else "A1->A2"
    cand = {k: d[key] for k, d in red.items() if d.get(key)}
    for name, col, raw in levels:
        if name in red:
            a.lines += ["", f"{name} load misses per KiB sent (server, whole life; median over conn. counts and reps):", ""]
            a.lines += _counter_table(rows, col, impls, f"{name} misses/KiB")
    a.lines.append("")
    if cand:
        a.lines.append("Change in misses per KiB (1 - geometric mean over configurations of the ratio: positive = "
                       "fewer misses, negative = more), with the configurations where it is measurable by the "
                       "noise rule:")
        for name, d in red.items():
            a.lines.append(f"- {name}: " + "; ".join(
                f"{st} {v.frac * 100:+.0f}% (measurably fewer in {v.fewer}, more in {v.more} of {v.cells})"
                if v else f"{st} n/a" for st, v in d.items()))
        a.lines.append("")
    winner, outcome = None, None
    ranked = sorted(cand.items(), key=lambda kv: -kv[1].frac)
    if ranked and all(v.fewer == 0 for _, v in ranked):
        outcome = "none"
        rising = [f"{n} x{1 - v.frac:.2f} (measurably more in {v.more} of {v.cells})" for n, v in ranked
                  if v.more]
        a.lines.append(f"**No cache level shows a measurable reduction** ({key}): no configuration's drop exceeds "
                       "the repetitions' spread."
                       + (" Misses per KiB instead *rise*: " + ", ".join(rising) + "." if rising else ""))
    elif len(ranked) == 2:
        (n1, v1), (n2, v2) = ranked
        noise = max(v1.noise, v2.noise)
        if v1.frac - v2.frac <= noise:
            outcome = "tie"
            a.lines.append(f"**No measurable difference between the levels** ({key}): {n1} {v1.frac * 100:+.0f}% vs "
                           f"{n2} {v2.frac * 100:+.0f}%, a gap within the repetitions' typical relative spread "
                           f"({noise * 100:.0f}%).")
        else:
            winner = outcome = n1
            a.lines.append(f"**{n1} shows the most reduction** ({key}): misses per KiB {v1.frac * 100:+.0f}% vs "
                           f"{n2} {v2.frac * 100:+.0f}%, a gap larger than the repetitions' typical relative spread "
                           f"({noise * 100:.0f}%).")
    elif len(ranked) == 1:
        n1, v1 = ranked[0]
        winner = outcome = n1
        a.lines.append(f"Only {n1} was counted here: {key} {v1.frac * 100:+.0f}% (measurably fewer in {v1.fewer} of "
                       f"{v1.cells}); the other level is not counted on this machine.")
    a.numbers["winner"] = winner
    a.lines.append("")
    cpu = level_reduction(rows, "cpu_ns_per_byte", key[:2], key[-2:])
    if cpu:
        a.lines.append(f"For comparison, server CPU time per byte over the same step: {cpu.frac * 100:+.0f}% "
                       "(same sign convention).")
        a.numbers["cpu_change"] = cpu.frac
    a.lines.append("")
    a.lines.append("Why: " + {
        "L1d": "the copy A2 and A3 avoid is of a message the sender has just written, so its source and destination "
               "are mostly in the near caches: removing it removes L1d traffic first (the extra destination buffer "
               "and the second pass over the data), while LLC misses come from data that left the cache between "
               "writes and sends, which the number of copies changes little (standard explanation; the table shows "
               "which level moved).",
        "LLC": "the messages and their copies no longer fit the private caches, so each copy streams through the "
               "last-level cache and removing one shows up there first (standard explanation; the table shows "
               "which level moved).",
        "tie": "both levels move by the same share: the misses here follow the work done per byte rather than one "
               "level's capacity (compare the CPU time per byte above).",
        "none": "the path with fewer copies runs more other code per byte ("
                + ("page pinning, completions, error-queue reads: see Q1" if key == "A1->A3" else
                   "per-segment iovec handling: see Q4")
                + "), and that code's cache traffic outweighs the copy it saves; where the misses rise by the same "
                "share as the CPU time per byte, they are following the extra work (standard explanation).",
        None: "not enough counters to tell."}[outcome])
    a.lines.append("Copies per byte sent by the sender: A1 2, A2 1, A3 0 on a NIC, 1 when the kernel copies (Q1).")
    return a


def gap_trend_words(ratios):
    """What a loser/winner ratio does as messages grow, in words: it narrows only if it never
    falls from one size to the next (and rises overall), widens only if it never rises."""
    steps = [b - a for a, b in zip(ratios, ratios[1:])]
    if not steps or ratios[-1] == ratios[0]:
        return "."
    if all(d >= 0 for d in steps):
        return " - the gap narrows as messages grow."
    if all(d <= 0 for d in steps):
        return " - the gap widens as messages grow."
    return " - no steady trend with message size."


def queue_words(a, q_a, b, q_b):
    """How two queue lengths compare, in words: within 1.5x of each other is "similar"."""
    if max(q_a, q_b) <= 1.5 * min(q_a, q_b):
        return "Both keep the queue similarly full."
    if not q_a or not q_b:
        return f"{a if not q_a else b}'s queue is empty."
    return (f"{a}'s queue is {q_b / q_a:.1f}x shorter than {b}'s." if q_a < q_b
            else f"{a}'s queue is {q_a / q_b:.1f}x longer than {b}'s.")


def q3_threads(rows, info, profiles=None):
    a = Answer("q3", "Q3. How does thread count interact with cache contention?")
    impls = [i for i in ("A1", "A2", "A3") if i in distinct(rows, "impl")]
    threads = distinct(rows, "threads", mode="stream")
    cores = cpu_count(info)
    hw = [c for c, raw in (("l1d_per_kib", "l1d_misses"), ("llc_per_kib", "llc_misses")) if has_data(rows, raw, mode="stream")]
    a.numbers["hw"] = bool(hw)
    if not hw:
        a.lines += no_hw_lines(rows, info, "how the connection count changes cache misses")
        a.lines.append("")
    flagged = regime_steps(rows)
    metrics = [(c, {"l1d_per_kib": "L1d misses per KiB", "llc_per_kib": "LLC misses per KiB"}[c]) for c in hw]
    metrics += [("cs_per_mib", "server context switches per MiB"), ("cpu_ns_per_byte", "server CPU ns per byte")]
    metrics = [(c, n) for c, n in metrics if has_data(rows, c, mode="stream")]
    if not metrics or len(threads) < 2:
        a.lines.append("Not measured: needs two or more connection counts with counters.")
        return a
    a.lines.append("Geometric mean over message sizes of the per-size medians (one value per technique and "
                   "connection count; sizes differ by orders of magnitude, the geometric mean keeps each size's "
                   "weight equal):")
    a.lines.append("")
    trends = {}
    for col, name in metrics:
        a.lines += [f"| {name} | " + " | ".join(conn_label(t) for t in threads) + " |", "|---|" + "---|" * len(threads)]
        for impl in impls:
            gm = [geomean([median_of(rows, col, mode="stream", impl=impl, msg_size=s, threads=t)
                           for s in distinct(rows, "msg_size", mode="stream")]) for t in threads]
            a.lines.append(f"| {impl} | " + " | ".join(fmt_num(v) for v in gm) + " |")
            trends.setdefault(col, {})[impl] = dict(zip(threads, gm))
        a.lines.append("")
    a.numbers["trends"] = trends
    # the trend within one regime: from the first connection count after the last flagged step
    start = max([s.hi for s in flagged], default=threads[0])
    span = [t for t in threads if t >= start]
    if flagged:
        a.lines.append(f"The step{'s' if len(flagged) > 1 else ''} "
                       + ", ".join(f"{s.lo} -> {s.hi} conn." for s in flagged)
                       + " is a regime change of the machine (see \"Two regimes\"), so the contention trend is read "
                       f"from {conn_label(span[0])} up.")
    if len(span) >= 2:
        lo, hi = span[0], span[-1]
        parts = []
        for col, name in metrics:
            rs = [trends[col][i][hi] / trends[col][i][lo] for i in impls
                  if trends[col][i].get(lo) and trends[col][i].get(hi)]
            if rs:
                parts.append(f"{name} x{min(rs):.2f}-{max(rs):.2f}" if f"{min(rs):.2f}" != f"{max(rs):.2f}"
                             else f"{name} x{rs[0]:.2f}")
                a.numbers[f"change_{col}"] = (min(rs), max(rs))
        a.lines.append(f"From {conn_label(lo)} to {conn_label(hi)} (across techniques): " + "; ".join(parts) + ".")
        if cores:
            a.lines.append(f"The machine has {cores} CPUs: beyond {cores} connections the server's threads (one per "
                           "connection) and the client's time-share them.")
        a.lines.append("")
        cpu = a.numbers.get("change_cpu_ns_per_byte")
        l1 = a.numbers.get("change_l1d_per_kib")
        # misses per unit of CPU time: cache contention proper raises it; more work per byte does not
        per_cpu = {}
        for col in hw:
            rs = [(trends[col][i][hi] / trends["cpu_ns_per_byte"][i][hi]) /
                  (trends[col][i][lo] / trends["cpu_ns_per_byte"][i][lo]) for i in impls
                  if "cpu_ns_per_byte" in trends and all(trends[m][i].get(x) for m in (col, "cpu_ns_per_byte")
                                                          for x in (lo, hi))]
            if rs:
                per_cpu[col] = (min(rs), max(rs))
        a.numbers["change_misses_per_cpu"] = per_cpu
        a.lines.append("Reading: " + (
            f"CPU per byte rises x{cpu[0]:.2f}-{cpu[1]:.2f} with more connections than CPUs. " if cpu and cpu[0] > 1
            else "CPU per byte does not rise with more connections. " if cpu else "")
            + _switch_words(a.numbers.get("change_cs_per_mib"), cpu)
            + (f"L1d misses per KiB change x{l1[0]:.2f}-{l1[1]:.2f}. " + _contention_words(per_cpu, lo, hi)
               if l1 else "Without cache counters this run cannot tell whether that extra cost is cache contention; "
                          "the standard explanation is that a thread resuming on a CPU another thread just used "
                          "refills the caches that thread evicted, which L1d/LLC misses per unit of CPU time would "
                          "show on a machine with counters." if cpu and cpu[0] > 1
               else "Without cache counters this run cannot measure cache contention directly; in CPU per byte, "
                    "where its cost would show, it shows none."))
    else:
        a.lines.append("Only one connection count lies within one regime: no contention trend to read.")
    return a


def _switch_words(cs, cpu):
    """What the context switches per MiB say about a rise in CPU per byte."""
    if not cs or not cpu or cpu[0] <= 1:
        return ""
    if cs[1] < 1:
        return (f"Server context switches per MiB fall (x{cs[0]:.2f}-{cs[1]:.2f}), so the extra CPU per byte does "
                "not come from more switches per byte: each send or each switch costs more. ")
    return (f"Server context switches per MiB rise too (x{cs[0]:.2f}-{cs[1]:.2f}): part of the extra CPU per byte "
            "is switching. ")


def _contention_words(per_cpu, lo, hi):
    """Misses per ns of server CPU time, hi vs lo connections: contention raises it beyond the noise
    of a few percent; when it stays flat, the misses only follow the extra CPU work."""
    names = {"l1d_per_kib": "L1d", "llc_per_kib": "LLC"}
    parts, rising = [], []
    for col, (mn, mx) in per_cpu.items():
        parts.append(f"{names[col]} x{mn:.2f}-{mx:.2f}" if f"{mn:.2f}" != f"{mx:.2f}" else f"{names[col]} x{mn:.2f}")
        if mn > 1.10:
            rising.append(names[col])
    if not parts:
        return ""
    head = f"Misses per unit of server CPU time, {conn_label(hi)} vs {conn_label(lo)}: " + ", ".join(parts) + ". "
    if rising:
        return head + (f"More misses per unit of work at {' and '.join(rising)}: threads time-sharing the CPUs evict "
                       "each other's working sets (standard explanation), the contention the question asks about.")
    return head + ("Flat (within 10%): the misses grow only as much as the CPU work per byte does, so this run shows "
                   "no cache contention beyond the extra work of time-sharing.")


def _crossover_answer(rows, info, profiles, key, title, impl):
    a = Answer(key, title)
    impls = distinct(rows, "impl")
    if impl not in impls or "A1" not in impls:
        a.lines.append(f"Not measured: this run needs both A1 and {impl} rows.")
        a.numbers["crossover"] = None
        return a
    v = size_verdicts(rows, impl, "A1")
    cx = crossover(v)
    a.numbers["crossover"] = cx
    a.numbers["verdicts"] = {s: x[0] for s, x in v.items()}
    wins = [s for s, x in v.items() if x[0] == "a"]
    losses = [s for s, x in v.items() if x[0] == "b"]
    ties = [s for s, x in v.items() if x[0] == "tie"]
    sizes_txt = lambda ss: ", ".join(fmt_size(s) for s in sorted(ss))  # noqa: E731
    if all(x[0] == "unjudged" for x in v.values()):
        a.lines.append("**Not judged**: one repetition per configuration gives no spread to tell a difference from "
                       "noise. Raw ratios are in the table; rerun with `--reps 3`.")
    elif cx is not None:
        larger = [s for s in v if s > cx]
        a.lines.append(f"**{impl} outperforms A1 from {fmt_size(cx)}**"
                       + (f" (and at every larger size measured: {sizes_txt(larger)})" if larger else
                          " (the largest size measured)")
                       + "." + (f" Below it: A1 measurably faster at {sizes_txt(losses)}" if losses else "")
                       + (("; " if losses else " Below it: ") + f"no measurable difference at {sizes_txt(ties)}" if ties else "")
                       + ("." if losses or ties else ""))
    elif wins:
        a.lines.append(f"**{impl} outperforms A1 only at {sizes_txt(wins)}**, not at every larger size, so there is "
                       "no crossover size in this sweep.")
    elif losses and not ties:
        a.lines.append(f"**{impl} never outperforms A1 in this sweep**: A1 is measurably faster at every size "
                       f"({sizes_txt(losses)}).")
    elif losses:
        a.lines.append(f"**{impl} never outperforms A1 in this sweep**: A1 measurably faster at {sizes_txt(losses)}; "
                       f"no measurable difference at {sizes_txt(ties)}.")
    else:
        a.lines.append(f"**No measurable difference between {impl} and A1 at any size** ({sizes_txt(ties)}): "
                       "every gap lies within the repetitions' spread, so neither is the winner.")
    a.lines += [""] + verdict_table(v, impl, "A1") + [""]
    a.lines.append(f"At one size, {impl} *outperforms* A1 when it is measurably faster at more than half of the "
                   "connection counts and measurably slower at none; the answer is the smallest size from which that "
                   "holds at every larger size too. Each cell compares the two techniques within one connection "
                   "count, so the machine's regimes (see \"Two regimes\" below) do not bias it.")
    return a


def q4_one_copy(rows, info, profiles=None):
    a = _crossover_answer(rows, info, profiles, "q4", "Q4. At what message size does one-copy (A2) outperform "
                          "two-copy (A1)?", "A2")
    if a.numbers.get("verdicts") is None:
        return a
    a.lines += ["", "Why:"]
    cpu = cpu_per_byte_table(rows, ["A1", "A2"])
    a.lines += ["", "Server CPU per byte (task-clock): the copy A2 saves should show here first.", ""] + cpu + [""]
    frag = extra_cpu_per_fragment(rows, "A2")
    if frag:
        a.numbers["extra_ns_per_fragment"] = frag
        a.lines.append("A2's extra server CPU over A1 per fragment (message / 8 fields): "
                       + ", ".join(f"{fmt_num(v)} ns at {fmt_size(s)}" for s, v in sorted(frag.items()))
                       + " (negative: A2 cheaper).")
    a.lines.append("Standard explanation: A1's extra copy is a user-space memcpy of a message it just wrote, "
                   "which is hot in cache and cheap; A2's `sendmsg` imports and checks an 8-entry iovec and copies "
                   "segment by segment on every call. One copy fewer pays only once the message is large enough "
                   "for the copy itself to cost more than that per-segment work.")
    cites = profile_cites(profiles, ["A1", "A2"], profiled_sizes(profiles, "A2"), PROFILE_COPIES)
    if cites:
        a.lines.append("Profiles (share of the sender's samples): " + "; ".join(cites)
                       + ". A1's \"user-space copy\" share is what A2 can save at best.")
    else:
        a.lines.append(not_profiled_line(profiles) or "")
    return a


def q5_zero_copy_size(rows, info, profiles=None):
    a = _crossover_answer(rows, info, profiles, "q5", "Q5. At what message size does zero-copy (A3) outperform "
                          "two-copy (A1)?", "A3")
    if a.numbers.get("verdicts") is None:
        return a
    share, _ = copied_share(rows)
    a.lines += ["", "Why:"]
    if share is not None:
        a.lines.append(f"- The kernel copied {share:.1f}% of A3's sends here (path {path_of(rows, info)}): "
                       + ("A3 saved no copy, so it can only win where A1's extra copy costs more than A3's "
                          "per-fragment bookkeeping (see Q1)." if share >= 50 else
                          "most sends avoided the copy, so A3 wins once the copy saved outweighs the per-fragment "
                          "bookkeeping (see Q1)."))
    frag = extra_cpu_per_fragment(rows, "A3")
    if frag:
        a.lines.append("- A3's extra server CPU over A1 per fragment: "
                       + ", ".join(f"{fmt_num(v)} ns at {fmt_size(s)}" for s, v in sorted(frag.items())) + ".")
    cites = profile_cites(profiles, ["A3", "A1"], profiled_sizes(profiles, "A3"),
                          ("deferred copy (zero-copy fallback)", "page pinning and unpinning",
                           "completion notification and error-queue reads") + PROFILE_COPIES)
    a.lines.append("- Profiles (share of the sender's samples): " + "; ".join(cites) + "." if cites
                   else "- " + (not_profiled_line(profiles) or ""))
    a.lines.append("- On a NIC with scatter-gather (two hosts), the copied share falls and the crossover moves to "
                   "smaller sizes (standard explanation; run the same sweep across two hosts to measure it).")
    return a


def deviations(rows, info, unjudged=False):
    """Measurable results that contradict the copy count: a technique that makes more copies per
    byte is measurably faster (stream throughput) or cheaper (server CPU per byte) than one making
    fewer. A3's count is its share of copied sends (a copied A3 send made one copy). unjudged=True
    also returns contradictions that one repetition cannot judge. Returns
    [(factor, metric, more_copies_impl, fewer_copies_impl, size, threads, Cmp)] largest first."""
    share, _ = copied_share(rows)
    copies = dict(NOMINAL_COPIES)
    if share is not None:
        copies["A3"] = share / 100.0
    share4, _ = a4_copied_share(rows)        # A4 is counted as A3 is
    if share4 is not None:
        copies["A4"] = share4 / 100.0
    impls = [i for i in distinct(rows, "impl") if i in copies]
    out = []
    for metric, higher in (("throughput_gbps", True), ("cpu_ns_per_byte", False)):
        for x in impls:
            for y in impls:
                if copies[x] <= copies[y]:
                    continue  # x makes more copies than y: the copy count predicts y at least as good
                for s in distinct(rows, "msg_size", mode="stream"):
                    for t in distinct(rows, "threads", mode="stream", msg_size=s):
                        c = compare(rows, x, y, metric, s, t, higher_better=higher)
                        if c and (c.verdict == "a" or unjudged and c.verdict == "unjudged"):
                            f = c.med_a / c.med_b if higher else c.med_b / c.med_a
                            if f > 1:
                                out.append((f, metric, x, y, s, t, c))
    out.sort(key=lambda d: -d[0])
    return out, copies


def _cores_words(rows, impl, size, threads):
    v = [r["task_clock_ms"] / 1000 / r["duration_s"] for r in rows
         if r["impl"] == impl and r["mode"] == "stream" and r["msg_size"] == size and r["threads"] == threads
         and r.get("task_clock_ms") and r.get("duration_s")]
    return f" (its server used {statistics.median(v):.2f} cores of CPU time per second)" if v else ""


def q6_unexpected(rows, info, profiles=None):
    a = Answer("q6", "Q6. One unexpected result, explained")
    devs, copies = deviations(rows, info)
    a.lines.append("Picked from the data: the largest measurable result that contradicts the copy count "
                   "(fewer copies per byte should mean at least as much throughput and no more CPU per byte). "
                   "Copies per byte counted: " + ", ".join(f"{i} {c:g}" for i, c in sorted(copies.items()) if i in
                                                         distinct(rows, "impl"))
                   + " (A3's is the share of its sends the kernel copied).")
    a.lines.append("")
    if not devs:
        a.numbers["pick"] = None
        raw = [d for d in deviations(rows, info, unjudged=True)[0] if d[6].verdict == "unjudged"]
        if raw:
            f, metric, x, y, s, t, c = raw[0]
            a.lines.append(f"**Not judged**: one repetition per configuration gives no spread to tell a contradiction "
                           f"from noise. The largest raw one: {x} beats {y} by {f:.2f}x in "
                           f"{'stream throughput' if metric == 'throughput_gbps' else 'server CPU per byte'} at "
                           f"{fmt_size(s)}, {conn_label(t, short=False)}; rerun with `--reps 3` to judge it.")
            return a
        a.lines.append("**Nothing in this run contradicts the copy count measurably**: wherever a technique with "
                       "more copies looks better, the gap is within the repetitions' spread."
                       + (" The unexpected result is then the machine's own, see \"Two regimes\"."
                          if regime_steps(rows) else ""))
        return a
    f, metric, x, y, s, t, c = devs[0]
    a.numbers["pick"] = (x, y, s, t, metric, f)
    what = "stream throughput" if metric == "throughput_gbps" else "server CPU per byte"
    unit = "Gbit/s" if metric == "throughput_gbps" else "ns/B"
    a.lines.append(f"**{x} ({copies[x]:g} copies) beats {y} ({copies[y]:g}) by {f:.1f}x in {what} at "
                   f"{fmt_size(s)}, {conn_label(t, short=False)}**: {x} {fmt_num(c.med_a)} {unit} "
                   f"[{fmt_num(c.lo_a)}-{fmt_num(c.hi_a)}] vs {y} {fmt_num(c.med_b)} [{fmt_num(c.lo_b)}-{fmt_num(c.hi_b)}] "
                   "(median [min-max] over repetitions).")
    a.lines.append("")
    a.lines.append("Explanation, with the numbers it rests on:")
    loser = y
    cpu_l = median_of(rows, "cpu_ns_per_byte", mode="stream", impl=loser, msg_size=s, threads=t)
    cpu_w = median_of(rows, "cpu_ns_per_byte", mode="stream", impl=x, msg_size=s, threads=t)
    if cpu_l and cpu_w:
        extra = (cpu_l - cpu_w) * s
        a.lines.append(f"- Server CPU per byte there: {loser} {fmt_num(cpu_l)} ns vs {x} {fmt_num(cpu_w)} ns, i.e. "
                       f"{fmt_num(extra)} ns more per {fmt_size(s)} message, {fmt_num(extra / FIELDS_PER_MESSAGE)} ns per "
                       "field. A copy costs per byte; this extra cost is paid per send and per fragment"
                       + (" (Q1, item 4: it stays within a small factor while fragments grow from "
                          f"{fmt_size(min(distinct(rows, 'msg_size', mode='stream')) // FIELDS_PER_MESSAGE)} to "
                          f"{fmt_size(max(distinct(rows, 'msg_size', mode='stream')) // FIELDS_PER_MESSAGE)})"
                          if loser == "A3" else "") + ", so at small messages it outweighs the copy saved.")
    q_l = median_of(rows, "queue_kib", mode="stream", impl=loser, msg_size=s, threads=t)
    q_w = median_of(rows, "queue_kib", mode="stream", impl=x, msg_size=s, threads=t)
    if q_l is not None and q_w is not None:
        a.lines.append(f"- Who is the bottleneck: {fmt_num(q_l)} KiB per connection queued with {loser} vs "
                       f"{fmt_num(q_w)} KiB with {x} (Little's law on the stream one-way p50). "
                       + (f"{loser}'s queue is nearly empty: its sender cannot keep the receiver busy, so the "
                          "limit is the sender, not the network or the receiver" + _cores_words(rows, loser, s, t)
                          + "." if q_l < q_w / 4 else queue_words(loser, q_l, x, q_w)))
    cs_l = median_of(rows, "cs_per_mib", mode="stream", impl=loser, msg_size=s, threads=t)
    cs_w = median_of(rows, "cs_per_mib", mode="stream", impl=x, msg_size=s, threads=t)
    if cs_l is not None and cs_w:
        a.lines.append(f"- Server context switches per MiB: {loser} {fmt_num(cs_l)} vs {x} {fmt_num(cs_w)}.")
    if loser == "A3":
        share, _ = copied_share(rows)
        if share is not None:
            a.lines.append(f"- The kernel copied {share:.1f}% of A3's sends, so A3 made the same one copy as A2 and "
                           "added page pinning, a completion per send and error-queue reads on top (standard "
                           "explanation of MSG_ZEROCOPY's fixed costs; the copied flag is measured).")
    elif {x, y} == {"A1", "A2"}:
        a.lines.append("- Standard explanation: A1's extra memcpy is of a hot, freshly written message (cheap), while "
                       "A2's 8-entry iovec costs per-segment work in the kernel on every `sendmsg`.")
    cites = profile_cites(profiles, [loser, x], [s], PROFILE_SENDER_ZC + PROFILE_COPIES + ("wake-ups, scheduling and locks",))
    if cites:
        a.lines.append("- Profiles (share of the sender's samples): " + "; ".join(cites) + ".")
    elif not_profiled_line(profiles):
        a.lines.append("- " + not_profiled_line(profiles))
    other = [d for d in devs[1:] if {d[2], d[3]} != {x, y}]
    if other:
        f2, m2, x2, y2, s2, t2, c2 = other[0]
        a.lines += ["", f"Next largest of another pair: {x2} beats {y2} by {f2:.2f}x in "
                    f"{'stream throughput' if m2 == 'throughput_gbps' else 'server CPU per byte'} at {fmt_size(s2)}, "
                    f"{conn_label(t2, short=False)}."]
        a.numbers["runner_up"] = (x2, y2, s2, t2, m2, f2)
    return a


def latency_answer(rows, info, profiles=None):
    a = Answer("latency", "Latency: techniques compared by the round trip; stream latency is queueing delay")
    rr = [r for r in rows if r["mode"] == "rr"]
    impls = distinct(rows, "impl")
    if rr and "A1" in impls:
        a.lines.append("**Round trip (rr, p50)** is where techniques are compared for latency: one message in "
                       "flight per connection, nothing queued. Measurable differences vs A1 by the noise rule:")
        a.lines.append("")
        threads = distinct(rr, "threads")
        a.lines += ["| size | " + " | ".join(conn_label(t) for t in threads) + " |", "|---|" + "---|" * len(threads)]
        worse = []
        for s in distinct(rr, "msg_size"):
            cells = []
            for t in threads:
                parts = []
                for i in impls:
                    m = median_of(rr, "lat_p50_us", mode="rr", impl=i, msg_size=s, threads=t)
                    if m is None:
                        continue
                    mark = ""
                    if i != "A1":
                        c = compare(rr, i, "A1", "lat_p50_us", s, t, mode="rr", higher_better=False)
                        if c and c.verdict in ("a", "b"):
                            mark = "↓" if c.verdict == "a" else "↑"
                            if c.verdict == "b":
                                worse.append((c.med_a / c.med_b, i, s, t))
                    parts.append(f"{i} {fmt_num(m)}{mark}")
                cells.append(" · ".join(parts) or "n/a")
            a.lines.append(f"| {fmt_size(s)} | " + " | ".join(cells) + " |")
        a.lines += ["", "µs; ↑ measurably slower than A1, ↓ measurably faster, no mark: no measurable difference."]
        if worse:
            w = max(worse)
            a.lines.append(f"Largest measurable round-trip penalty: {w[1]} x{w[0]:.2f} of A1 at {fmt_size(w[2])}, "
                           f"{conn_label(w[3], short=False)}.")
            a.numbers["worst_rr"] = w
        a.lines.append("")
    else:
        a.lines += ["No rr rows (or no A1): round trips not measured in this run.", ""]
    st = [r for r in rows if r["mode"] == "stream" and r.get("lat_p50_us") is not None]
    if not one_way_latency_valid(rows):
        a.lines.append("**Stream one-way latency is not valid in this run**: server and client ran on different "
                       "hosts, whose monotonic clocks differ. Use the round trip.")
        return a
    if not st:
        return a
    cells = 0
    lowest_is_slowest = 0
    biggest = None
    for s in distinct(st, "msg_size"):
        for t in distinct(st, "threads", msg_size=s):
            lat = {i: median_of(st, "lat_p50_us", impl=i, msg_size=s, threads=t) for i in impls}
            thr = {i: median_of(st, "throughput_gbps", impl=i, msg_size=s, threads=t) for i in impls}
            lat = {i: v for i, v in lat.items() if v is not None and thr.get(i)}
            if len(lat) < 2:
                continue
            cells += 1
            lo_i = min(lat, key=lat.get)
            lowest_is_slowest += lo_i == min(lat, key=lambda i: thr[i])
            hi_i = max(lat, key=lat.get)
            r = lat[hi_i] / lat[lo_i] if lat[lo_i] else 0
            if biggest is None or r > biggest[0]:
                biggest = (r, s, t, lo_i, hi_i, lat, thr)
    a.numbers["lowest_latency_is_slowest"] = (lowest_is_slowest, cells)
    a.lines.append("**Stream one-way latency (p50)** is queueing delay: in a saturated stream a message waits "
                   "behind the bytes already queued in the socket buffers, and which side is the bottleneck decides "
                   "how full they are, not the technique. "
                   f"In {lowest_is_slowest} of {cells} stream configurations the technique with the lowest one-way "
                   "latency is also the one with the lowest throughput.")
    if biggest:
        r, s, t, lo_i, hi_i, lat, thr = biggest
        q = {i: median_of(st, "queue_kib", impl=i, msg_size=s, threads=t) for i in (lo_i, hi_i)}
        a.lines.append(f"The widest gap: {fmt_size(s)}, {conn_label(t, short=False)}: {lo_i} {fmt_num(lat[lo_i])} µs "
                       f"at {fmt_num(thr[lo_i])} Gbit/s vs {hi_i} {fmt_num(lat[hi_i])} µs at {fmt_num(thr[hi_i])} Gbit/s"
                       + (f"; about {fmt_num(q[lo_i])} KiB vs {fmt_num(q[hi_i])} KiB queued per connection "
                          "(Little's law: p50 x per-connection rate)" if None not in q.values() else "")
                       + f". {lo_i}'s lower one-way latency means its queue was emptier, not that it is faster; "
                       "compare the round trips above. Figure: stream_latency_vs_size.png.")
    return a


def inputs_answer(rows, info, profiles, csv_name, profiles_name):
    a = Answer("inputs", "Inputs and definitions")
    lo, hi = reps_per_config(rows)
    st = values(rows, "steal_pct")
    hw = [c for c in HW_COUNTERS if has_data(rows, c)]
    a.lines += [
        f"- Data: `{csv_name}`, {len(rows)} runs; {lo if lo == hi else f'{lo}-{hi}'} repetitions per configuration. "
        "Every figure quoted is a median over repetitions unless it says otherwise.",
        f"- {machine_label(info)}; {run_label(info, rows)}.",
        f"- Hardware counters with data: {', '.join(hw) if hw else 'none (perf: <not supported>)'}.",
        f"- Steal: median {statistics.median(st):.2f}%, max {max(st):.2f}% of CPU time per run." if st else
        "- Steal: not recorded.",
        f"- Profiles: `{profiles_name}`, {len(profiles)} shares." if profiles else
        "- Profiles (`profiles.csv` next to the CSV): not measured in this run.",
        "- Per-byte counters (misses per KiB, context switches per MiB, CPU ns per byte) divide the server's "
        "counts over its whole life by the bytes it sent in that life.",
        "- **" + NOISE_RULE.replace(": ", "**: ", 1),
        "- \"Standard explanation\" marks a mechanism from the kernel's documentation and common knowledge that "
        "this run did not measure itself; every other \"why\" cites a number from this run.",
    ]
    return a


QUESTIONS = (q1_zero_copy, q2_cache_levels, q3_threads, q4_one_copy, q5_zero_copy_size, q6_unexpected)


def build_answers(rows, info, profiles=None):
    all_rows = with_derived(rows)
    rows = footprint.split_rows(all_rows)[0]     # the main grid: one message, hot data
    out = [regime_answer(rows, info, profiles)]
    out += [q(rows, info, profiles) for q in QUESTIONS]
    out.append(latency_answer(rows, info, profiles))
    for a in out:                                # cold data: the footprint sub-sweep's answers
        a.lines = footprint.report_lines(a.key, all_rows, info, a.lines)
    return out


NOISE_RULE = ("Noise rule: at one configuration (mode, size, connection count), two techniques differ "
              "measurably only when the difference of their medians exceeds the larger of their two ranges "
              "(max - min over the repetitions); otherwise the report says \"no measurable difference\" and names "
              "no winner. With one repetition there is no range and no verdict.")


def regime_oneliner(rows):
    flagged = regime_steps(rows)
    if not flagged:
        return "No regime change between connection counts was detected (\"Two regimes\" below)."
    return ("This run has two regimes: " + "; ".join(regime_note(s) for s in flagged)
            + ". Techniques are therefore compared only within one connection count (\"Two regimes\" below).")


def report_markdown(rows, info, profiles=None, csv_name="results.csv", profiles_name="profiles.csv"):
    """The whole report; a CSV that mixes network paths (path column) gets one report per path,
    since a NIC and a veth pair answer the questions differently."""
    paths = distinct(rows, "path")
    if len(paths) > 1:
        what = "these CSVs mix" if info.get("inputs") else "this CSV mixes"
        parts = [f"# copybench: {what} {len(paths)} network paths ({', '.join(paths)}): one report each", ""]
        for p in paths:
            sub = [r for r in rows if r.get("path") == p]
            text = _report_one(sub, info, profiles, csv_name, profiles_name)
            parts.append(text.replace("# copybench: the six questions, answered from this run",
                                      f"# Path: {p} - the six questions, answered from this run", 1))
        return "\n".join(parts)
    return _report_one(rows, info, profiles, csv_name, profiles_name)


def _report_one(rows, info, profiles, csv_name, profiles_name):
    answers = build_answers(rows, info, profiles)   # it reads the footprint rows too
    rows = footprint.split_rows(rows)[0]
    drows = with_derived(rows)
    head = ["# copybench: the six questions, answered from this run", "",
            f"{machine_label(info)}", "", f"{run_label(info, rows)}", "",
            "Generated by `plots.py` from this run's CSV (see \"Inputs and definitions\" at the end); the tables "
            "behind it are in `summary.md`, the figures beside this file. Nothing here is typed in by hand: "
            "another run gives other answers.", "",
            "**Read this first.** " + NOISE_RULE + " " + regime_oneliner(rows), ""]
    order = answers[1:7] + [answers[0], answers[7]]
    body = [x.markdown() for x in order]
    return "\n".join(head) + "\n" + "\n".join(body) + "\n" + inputs_answer(drows, info, profiles, csv_name,
                                                                         profiles_name).markdown()
