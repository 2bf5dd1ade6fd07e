"""A4 (io_uring zero-copy) against A3 and A2, from one run's rows: the numbers the A4 figure and the
report's Q1 paragraph rest on. Pure functions of the rows (and profiles), nothing drawn or printed.

Every comparison pairs runs of the same configuration and repetition (the sweep runs the techniques
of a configuration back to back, so a repetition is one round of A1, A2, A3, A4): a ratio is taken
per repetition, and the median of those is reported with their range, so machine drift between
repetitions does not enter a ratio.
"""
import statistics

from analysis.data import distinct, fmt_size

PROFILE_A4 = ("io_uring submission (SQEs, io_uring_enter, issuing)", "page pinning and unpinning",
              "completion notification and error-queue reads", "deferred copy (zero-copy fallback)")


def _by_rep(rows, impl, metric, mode, size, threads):
    return {r["rep"]: r[metric] for r in rows
            if r["impl"] == impl and r["mode"] == mode and r["msg_size"] == size and r["threads"] == threads
            and r.get(metric) is not None}


def paired_ratios(rows, a, b, metric="throughput_gbps", mode="stream"):
    """{(size, threads): (median, lo, hi, n)} of a/b per repetition, where both ran in it."""
    out = {}
    for size in distinct(rows, "msg_size", mode=mode):
        for th in distinct(rows, "threads", mode=mode, msg_size=size, impl=a):
            ra, rb = _by_rep(rows, a, metric, mode, size, th), _by_rep(rows, b, metric, mode, size, th)
            rs = [ra[k] / rb[k] for k in ra if k in rb and rb[k]]
            if rs:
                out[(size, th)] = (statistics.median(rs), min(rs), max(rs), len(rs))
    return out


def recovered(rows, metric="throughput_gbps", mode="stream", higher=True):
    """{(size, threads): (median, lo, hi, n)} of the share of A3's loss to A2 that A4 gets back,
    per repetition: (A4 - A3) / (A2 - A3) (CPU per byte: the same with lower better). 1 = all of
    it, > 1 = A4 beats A2, < 0 = A4 worse than A3. Only repetitions where A3 lost to A2."""
    out = {}
    for size in distinct(rows, "msg_size", mode=mode):
        for th in distinct(rows, "threads", mode=mode, msg_size=size, impl="A4"):
            r2, r3, r4 = (_by_rep(rows, i, metric, mode, size, th) for i in ("A2", "A3", "A4"))
            rs = []
            for k in r4:
                if k in r2 and k in r3:
                    loss = (r2[k] - r3[k]) if higher else (r3[k] - r2[k])
                    if loss > 0:
                        rs.append(((r4[k] - r3[k]) if higher else (r3[k] - r4[k])) / loss)
            if rs:
                out[(size, th)] = (statistics.median(rs), min(rs), max(rs), len(rs))
    return out


def copied_share(rows, impl="A4"):
    """(percent of impl's notifications flagged copied, notifications) over all its rows."""
    rs = [r for r in rows if r["impl"] == impl and r.get("zc_copied") is not None and r.get("zc_completions")]
    n = sum(r["zc_completions"] for r in rs)
    return (100.0 * sum(r["zc_copied"] for r in rs) / n, int(n)) if n else (None, 0)


def _fmt_ratio(m, lo, hi, n):
    return f"x{m:.2f}" + (f" [{lo:.2f}-{hi:.2f}]" if n > 1 else "")


def _fmt_share(m, lo, hi, n):
    """A share of a gap: none when A4 did worse than A3, all when it did better than A2."""
    if m < 0:
        return "none (A4 below A3)"
    if m > 1:
        return f"all ({100 * m:.0f}%: A4 beyond A2)"
    return f"{100 * m:.0f}%" + (f" [{100 * lo:.0f} to {100 * hi:.0f}%]" if n > 1 else "")


def _cells(d, fmt):
    return ", ".join(f"{fmt_size(s)}{'' if len({t for _, t in d}) < 2 else f' x{t} conn.'} {fmt(*v)}"
                     for (s, t), v in sorted(d.items()))


def q1_lines(rows, profiles=None):
    """Markdown lines for Q1: how much of A3's loss the io_uring path (A4) recovers, and what
    remains. [] when the run has no A4 rows (it is not in every sweep)."""
    if "A4" not in distinct(rows, "impl"):
        return [], {}
    nums = {"a4_over_a3": paired_ratios(rows, "A4", "A3"), "a4_over_a2": paired_ratios(rows, "A4", "A2"),
            "recovered": recovered(rows),
            "cpu_a4_over_a3": paired_ratios(rows, "A4", "A3", "cpu_ns_per_byte"),
            "cpu_a4_over_a2": paired_ratios(rows, "A4", "A2", "cpu_ns_per_byte"),
            "cpu_recovered": recovered(rows, "cpu_ns_per_byte", higher=False)}
    share, n = copied_share(rows)
    nums["a4_copied_pct"] = share
    out = ["", "**A4: the same zero-copy send through io_uring** (IORING_OP_SENDMSG_ZC, a chain of sends per "
           "io_uring_enter, notifications read from the completion ring instead of the error queue). Ratios are "
           "per repetition (the techniques of a configuration run back to back), median [range]:"]
    for what, k3, k2 in (("Stream throughput", "a4_over_a3", "a4_over_a2"),
                         ("Server CPU per byte (task-clock)", "cpu_a4_over_a3", "cpu_a4_over_a2")):
        parts = [f"A4/{b}: " + _cells(nums[k], _fmt_ratio) for b, k in (("A3", k3), ("A2", k2)) if nums[k]]
        if parts:
            out.append(f"- {what}, " + "; ".join(parts) + ".")
    if nums["recovered"]:
        out.append("- **Share of A3's throughput loss to A2 that A4 recovers** ((A4 - A3) / (A2 - A3) per "
                   "repetition; 100% = all of it, over 100% = A4 beats A2, below 0 = A4 slower than A3): "
                   + _cells(nums["recovered"], _fmt_share) + ".")
        if nums["cpu_recovered"]:
            out.append("- The same for server CPU per byte (of A3's extra CPU per byte over A2, the share A4 "
                       "does not spend): " + _cells(nums["cpu_recovered"], _fmt_share) + ".")
    elif "A2" in distinct(rows, "impl") and "A3" in distinct(rows, "impl"):
        out.append("- A3 lost no throughput to A2 in any repetition A4 ran in: there was no loss to recover.")
    if share is not None:
        out.append(f"- **What remains:** the kernel copied {share:.1f}% of A4's {n} notified sends "
                   "(IORING_NOTIF_USAGE_ZC_COPIED): io_uring changes how sends go in and how the buffer comes back, "
                   "not where the bytes go, so on this path the deferred copy before local delivery stays, and so does "
                   "pinning the pages of every send.")
    cites = []
    for size in sorted({p["size"] for p in profiles or () if p["impl"] == "A4" and p["side"] == "sender"}):
        got = [(c, p["share"]) for c in PROFILE_A4 for p in profiles
               if p["impl"] == "A4" and p["size"] == size and p["side"] == "sender" and p["category"] == c]
        if got:
            cites.append(f"A4 sender {fmt_size(size)}: " + ", ".join(f"{c} {v:.1f}%" for c, v in got))
    if cites:
        out.append("- Profiles (share of the sender's samples): " + "; ".join(cites) + ".")
    return out, nums


def a4_rows_note(rows):
    """Which connection counts A4 ran at in this run (the default sweep runs it at 2 only)."""
    th = distinct(rows, "threads", impl="A4")
    return f"A4 ran at {', '.join(str(t) for t in th)} connection(s)" if th else ""

