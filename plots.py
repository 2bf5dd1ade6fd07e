#!/usr/bin/env python3
"""Plots and a summary for a copybench sweep (results.csv from run_experiments.sh).

usage: plots.py [results.csv] [--out-dir plots] [--machine FILE]

Writes PNGs and summary.md to --out-dir. Every point is the median over repetitions; error bars
span min..max of the repetitions. Empty CSV cells (counter not supported / not counted, field not
applicable) are missing data: they are never plotted as zeros. The machine description comes from
the side file the sweep writes next to the CSV (<name>.machine.txt), unless --machine is given.

Exit status: 0 ok, 1 matplotlib missing, 2 unusable input (missing file, bad/missing columns).
"""
import argparse
import csv
import math
import os
import statistics
import sys

COLUMNS = (
    "impl,mode,msg_size,threads,rep,duration_s,throughput_gbps,msgs_per_s,lat_p50_us,lat_p99_us,"
    "lat_max_us,cycles,instructions,l1d_misses,llc_misses,context_switches,cpu_migrations,task_clock_ms,"
    "cycles_per_byte,cpu_ns_per_byte,zc_sends,zc_completions,zc_copied,verify_errors,client_cpu_pct,"
    "steal_pct,netns"
).split(",")
TEXT_COLUMNS = {"impl", "mode"}
INT_COLUMNS = {"msg_size", "threads", "rep"}
HW_COUNTERS = ("cycles", "instructions", "l1d_misses", "llc_misses")
SW_COUNTERS = ("context_switches", "cpu_migrations", "task_clock_ms")
SPREAD = "median of reps; bars: min-max"
IMPL_NAMES = {"A1": "A1 two-copy", "A2": "A2 sendmsg iovec", "A3": "A3 MSG_ZEROCOPY"}


class InputError(Exception):
    """The CSV cannot be used (exit 2)."""


# ----------------------------------------------------------------------------------------------
# data (pure functions)

def parse_rows(lines, name="CSV"):
    """Parse CSV text lines into a list of dicts; numbers become float/int, empty cells None."""
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{name}: empty file, expected header {','.join(COLUMNS[:4])},...")
    header = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(f"{name}: missing column(s): {', '.join(missing)} (not a run_experiments.sh results file?)")
    rows = []
    for lineno, cells in enumerate(reader, start=2):
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise InputError(f"{name}: line {lineno} has {len(cells)} cells, header has {len(header)}")
        row = {}
        for col, cell in zip(header, cells):
            cell = cell.strip()
            if col not in COLUMNS or col in TEXT_COLUMNS:
                row[col] = cell
            elif cell == "":
                row[col] = None
            else:
                try:
                    row[col] = int(cell) if col in INT_COLUMNS else float(cell)
                except ValueError:
                    raise InputError(f"{name}: line {lineno}: column {col}: '{cell}' is not a number")
                if not math.isfinite(row[col]):
                    raise InputError(f"{name}: line {lineno}: column {col}: '{cell}' is not a finite number")
        if not row["impl"]:
            raise InputError(f"{name}: line {lineno}: empty impl")
        if row["mode"] not in ("stream", "rr"):
            raise InputError(f"{name}: line {lineno}: mode '{row['mode']}' is not stream or rr")
        for col in ("msg_size", "threads"):
            if row[col] is None or row[col] <= 0:
                raise InputError(f"{name}: line {lineno}: {col} must be a positive integer")
        rows.append(row)
    if not rows:
        raise InputError(f"{name}: no data rows")
    return rows


def load_rows(path):
    try:
        with open(path, newline="") as f:
            return parse_rows(f, name=path)
    except OSError as e:
        raise InputError(f"{path}: {e.strerror}")


def machine_file_for(csv_path):
    base = csv_path[:-4] if csv_path.endswith(".csv") else csv_path
    return base + ".machine.txt"


def read_machine(path):
    """key: value lines of the side file -> dict ({} when absent)."""
    info = {}
    try:
        with open(path) as f:
            for line in f:
                if ":" in line:
                    k, v = line.split(":", 1)
                    info[k.strip()] = v.strip()
    except OSError:
        pass
    return info


def machine_label(info):
    if not info:
        return "machine: unknown (no .machine.txt side file)"
    parts = [info.get("cpu_model", "unknown CPU")]
    if info.get("cores"):
        parts.append(f"{info['cores']} cores")
    if info.get("kernel"):
        parts.append(info["kernel"])
    virt = info.get("virtualization")
    if virt and virt not in ("none", "unknown"):
        parts.append(f"virt: {virt}")
    parts.append("netns+veth" if info.get("netns") == "1" else "loopback")
    pin = info.get("pin", "none").split(" ")[0]
    if pin != "none":
        parts.append(f"pinned server:client CPUs {pin}")
    if info.get("date"):
        parts.append(info["date"][:10])
    return "machine: " + ", ".join(parts)


def values(rows, col, **match):
    """Non-empty values of col over the rows matching every key=value in match."""
    out = []
    for r in rows:
        if all(r.get(k) == v for k, v in match.items()) and r.get(col) is not None:
            out.append(r[col])
    return out


def summarize(vals):
    """(median, min, max) or None for no data."""
    if not vals:
        return None
    return statistics.median(vals), min(vals), max(vals)


def distinct(rows, col, **match):
    return sorted({r[col] for r in rows if all(r.get(k) == v for k, v in match.items())})


def has_data(rows, col, **match):
    return bool(values(rows, col, **match))


def series(rows, x_col, y_col, **match):
    """[(x, median, lo, hi)] over distinct x with data for y (empty cells skipped, never zero)."""
    pts = []
    for x in distinct(rows, x_col, **match):
        s = summarize(values(rows, y_col, **{x_col: x}, **match))
        if s:
            pts.append((x, *s))
    return pts


def derived(rows, name, fn):
    """Copy of rows with column name = fn(row) (None when fn gives None or divides by zero)."""
    out = []
    for r in rows:
        r2 = dict(r)
        try:
            r2[name] = fn(r)
        except (TypeError, ZeroDivisionError):
            r2[name] = None
        out.append(r2)
    return out


def per_kib_sent(counter):
    """Row function: counter per KiB the client received (stream rows: = what the server sent)."""
    def fn(r):
        if r[counter] is None or not r["throughput_gbps"] or not r["duration_s"]:
            return None
        kib = r["throughput_gbps"] * 1e9 / 8 * r["duration_s"] / 1024
        return r[counter] / kib if kib > 0 else None
    return fn


def zc_copied_share(r):
    if r["impl"] != "A3" or r["zc_copied"] is None or not r["zc_completions"]:
        return None
    return 100.0 * r["zc_copied"] / r["zc_completions"]


def best_by_config(rows, metric="throughput_gbps", mode="stream", higher=True):
    """{(size, threads): (impl, median)} of the best technique per configuration."""
    best = {}
    for size in distinct(rows, "msg_size", mode=mode):
        for th in distinct(rows, "threads", mode=mode, msg_size=size):
            cands = []
            for impl in distinct(rows, "impl", mode=mode, msg_size=size, threads=th):
                s = summarize(values(rows, metric, mode=mode, msg_size=size, threads=th, impl=impl))
                if s:
                    cands.append((s[0], impl))
            if cands:
                med, impl = max(cands) if higher else min(cands)
                best[(size, th)] = (impl, med)
    return best


def ratios_by_size(rows, a, b, metric="throughput_gbps", mode="stream"):
    """{size: geometric mean over thread counts of median(a)/median(b)} where both have data."""
    out = {}
    for size in distinct(rows, "msg_size", mode=mode):
        logs = []
        for th in distinct(rows, "threads", mode=mode, msg_size=size):
            sa = summarize(values(rows, metric, mode=mode, msg_size=size, threads=th, impl=a))
            sb = summarize(values(rows, metric, mode=mode, msg_size=size, threads=th, impl=b))
            if sa and sb and sa[0] > 0 and sb[0] > 0:
                logs.append(math.log(sa[0] / sb[0]))
        if logs:
            out[size] = math.exp(sum(logs) / len(logs))
    return out


def smallest_size_beating(rows, a, b):
    """(size or None, ratios) : smallest message size where a's throughput beats b's."""
    ratios = ratios_by_size(rows, a, b)
    for size in sorted(ratios):
        if ratios[size] > 1.0:
            return size, ratios
    return None, ratios


def fmt_size(n):
    for unit, div in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= div and n % div == 0:
            return f"{n // div} {unit}"
    return f"{n} B"


def fmt_num(v, digits=3):
    if v is None:
        return "n/a"
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    return f"{v:.{max(0, digits - 1 - mag)}f}"


# ----------------------------------------------------------------------------------------------
# summary.md

def cv_pct(vals):
    """Coefficient of variation (sample stdev / mean, %) of 2+ positive values, else None."""
    if len(vals) < 2 or statistics.mean(vals) <= 0:
        return None
    return 100 * statistics.stdev(vals) / statistics.mean(vals)


def repeatability(rows, metric="throughput_gbps", mode="stream"):
    """{impl: [CV % of metric over reps, one per size x threads configuration]}."""
    out = {}
    for impl in distinct(rows, "impl", mode=mode):
        for size in distinct(rows, "msg_size", mode=mode, impl=impl):
            for t in distinct(rows, "threads", mode=mode, impl=impl, msg_size=size):
                cv = cv_pct(values(rows, metric, mode=mode, impl=impl, msg_size=size, threads=t))
                if cv is not None:
                    out.setdefault(impl, []).append(cv)
    return out


def repeatability_markdown(rows):
    cvs = repeatability(rows)
    lines = ["## Repeatability (stream throughput across repetitions)", ""]
    if not cvs:
        return lines + ["- One repetition per configuration: no spread to report.", ""]
    lines.append("Coefficient of variation (stdev / mean over the repetitions of one configuration):")
    lines.append("")
    lines.append("| technique | configurations | median CV | worst CV |")
    lines.append("|---|---|---|---|")
    for impl in sorted(cvs):
        v = cvs[impl]
        lines.append(f"| {impl} | {len(v)} | {statistics.median(v):.1f}% | {max(v):.1f}% |")
    return lines + [""]


def summary_markdown(rows, info):
    impls = distinct(rows, "impl")
    lines = ["# copybench results", "", machine_label(info), ""]
    if info.get("command"):
        lines += [f"Command: `{info['command']}`", ""]
    n_stream = len([r for r in rows if r["mode"] == "stream"])
    n_rr = len(rows) - n_stream
    lines += [f"{len(rows)} runs ({n_stream} stream, {n_rr} request/response); techniques: "
              + ", ".join(IMPL_NAMES.get(i, i) for i in impls) + f". Figures: {SPREAD}.", ""]

    lines += ["## Best technique (stream throughput, median Gbps)", ""]
    best = best_by_config(rows)
    threads = distinct(rows, "threads", mode="stream")
    if best:
        lines.append("| size | " + " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in threads) + " |")
        lines.append("|---|" + "---|" * len(threads))
        for size in distinct(rows, "msg_size", mode="stream"):
            cells = []
            for t in threads:
                b = best.get((size, t))
                cells.append(f"{b[0]} ({fmt_num(b[1])})" if b else "n/a")
            lines.append(f"| {fmt_size(size)} | " + " | ".join(cells) + " |")
    else:
        lines.append("No stream rows with a throughput.")
    lines.append("")

    lines += ["## Where the one-copy and zero-copy paths pay off", ""]
    for a in ("A2", "A3"):
        if a not in impls or "A1" not in impls:
            lines.append(f"- {a} vs A1: not measured (both needed).")
            continue
        size, ratios = smallest_size_beating(rows, a, "A1")
        detail = ", ".join(f"{fmt_size(s)}: x{ratios[s]:.2f}" for s in sorted(ratios))
        if size is None:
            lines.append(f"- {a} never beats A1 in this sweep (throughput ratio {a}/A1, geometric mean over "
                         f"thread counts: {detail or 'no data'}).")
        else:
            lines.append(f"- Smallest size at which {a} beats A1: **{fmt_size(size)}** (throughput ratio {a}/A1, "
                         f"geometric mean over thread counts: {detail}).")
    lines.append("")

    lines += ["## Zero-copy sends the kernel copied anyway (A3)", ""]
    a3 = [r for r in rows if r["impl"] == "A3"]
    tot_c = sum(r["zc_completions"] or 0 for r in a3 if r["zc_copied"] is not None)
    tot_cp = sum(r["zc_copied"] or 0 for r in a3 if r["zc_completions"] is not None)
    if tot_c > 0:
        lines.append(f"- Overall: {100.0 * tot_cp / tot_c:.1f}% of {int(tot_c)} completed zero-copy sends were copied "
                     "(SO_EE_CODE_ZEROCOPY_COPIED; e.g. loopback/veth delivery to a local socket).")
        for size in distinct(a3, "msg_size"):
            s = summarize(values(derived(a3, "zcs", zc_copied_share), "zcs", msg_size=size))
            if s:
                lines.append(f"- {fmt_size(size)}: median {s[0]:.1f}% (min {s[1]:.1f}, max {s[2]:.1f})")
    else:
        lines.append("- No A3 rows with zero-copy completion counts.")
    lines.append("")

    lines += ["## Counters", ""]
    avail = [c for c in HW_COUNTERS + SW_COUNTERS if has_data(rows, c)]
    absent = [c for c in HW_COUNTERS + SW_COUNTERS if c not in avail]
    lines.append(f"- perf: {info.get('perf', 'unknown')}; hardware counters: {info.get('hw_counters', 'unknown')}.")
    lines.append(f"- Columns with data: {', '.join(avail) or 'none'}.")
    if absent:
        lines.append(f"- Empty (not supported / not counted / perf off): {', '.join(absent)}; "
                     "the figures leave them out instead of showing zeros"
                     + ("; CPU cost per byte comes from task-clock (cpu_ns_per_byte)." if has_data(rows, "cpu_ns_per_byte") else "."))
    lines.append("")
    if has_data(rows, "cpu_ns_per_byte", mode="stream"):
        lines += ["## Server CPU cost (stream; ns of task-clock per byte sent, median over reps and thread counts)", ""]
        sizes = distinct(rows, "msg_size", mode="stream")
        lines.append("| technique | " + " | ".join(fmt_size(s) for s in sizes) + " |")
        lines.append("|---|" + "---|" * len(sizes))
        for impl in impls:
            cells = [fmt_num((summarize(values(rows, "cpu_ns_per_byte", mode="stream", impl=impl, msg_size=s)) or [None])[0])
                     for s in sizes]
            lines.append(f"| {impl} | " + " | ".join(cells) + " |")
        lines.append("")
    rr = [r for r in rows if r["mode"] == "rr"]
    if rr:
        lines += ["## Request/response latency (median p50 / p99 round trip, us)", ""]
        th = distinct(rr, "threads")
        lines.append("| technique | size | " + " | ".join(f"{t} thr" for t in th) + " |")
        lines.append("|---|---|" + "---|" * len(th))
        for impl in distinct(rr, "impl"):
            for size in distinct(rr, "msg_size", impl=impl):
                cells = []
                for t in th:
                    p50 = summarize(values(rr, "lat_p50_us", impl=impl, msg_size=size, threads=t))
                    p99 = summarize(values(rr, "lat_p99_us", impl=impl, msg_size=size, threads=t))
                    cells.append(f"{fmt_num(p50[0]) if p50 else 'n/a'} / {fmt_num(p99[0]) if p99 else 'n/a'}")
                lines.append(f"| {impl} | {fmt_size(size)} | " + " | ".join(cells) + " |")
        lines.append("")

    lines += repeatability_markdown(rows)
    lines += ["## Steal (hypervisor)", ""]
    st = values(rows, "steal_pct")
    if st:
        lines.append(f"- steal_pct per run: median {statistics.median(st):.2f}%, max {max(st):.2f}%."
                     + (" Above 5% somewhere: those runs competed with other guests; compare with care." if max(st) > 5 else ""))
    else:
        lines.append("- No steal figures.")
    ve = values(rows, "verify_errors")
    if ve and sum(ve) > 0:
        lines += ["", f"**Warning: {int(sum(ve))} verify errors were reported.**"]
    lines.append("")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# figures

def import_pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        return None


def _note(ax, text):
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", wrap=True,
            fontsize=10, color="0.3", bbox=dict(boxstyle="round", fc="0.95", ec="0.7"))


def _finish(plt, fig, title, label, path):
    fig.suptitle(f"{title}\n({SPREAD})", fontsize=11)
    fig.text(0.5, 0.005, label, ha="center", va="bottom", fontsize=8, color="0.35")
    fig.tight_layout(rect=(0, 0.03, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _errbar(ax, pts, **kw):
    xs = [p[0] for p in pts]
    med = [p[1] for p in pts]
    lo = [p[1] - p[2] for p in pts]
    hi = [p[3] - p[1] for p in pts]
    ax.errorbar(xs, med, yerr=[lo, hi], capsize=3, marker="o", ms=4, **kw)


def _size_axis(ax, sizes):
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes)
    ax.set_xticklabels([fmt_size(s) for s in sizes], fontsize=8)
    ax.set_xlabel("message size")


def per_thread_panels(plt, rows, ycol, ylabel, title, label, path, note_if_empty):
    """One panel per thread count, x = message size, one line per technique (stream rows)."""
    stream = [r for r in rows if r["mode"] == "stream"]
    threads = distinct(stream, "threads") or [None]
    sizes = distinct(stream, "msg_size")
    ncol = min(4, len(threads))
    nrow = math.ceil(len(threads) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(max(7, 4.2 * ncol), 3.6 * nrow + 0.8), squeeze=False)
    for k, th in enumerate(threads):
        ax = axes[k // ncol][k % ncol]
        drew = False
        for impl in distinct(stream, "impl"):
            pts = series(stream, "msg_size", ycol, impl=impl, threads=th) if th is not None else []
            if pts:
                _errbar(ax, pts, label=IMPL_NAMES.get(impl, impl))
                drew = True
        ax.set_title(f"{th} thread{'s' if th != 1 else ''}" if th is not None else "")
        if sizes:
            _size_axis(ax, sizes)
        if k % ncol == 0:
            ax.set_ylabel(ylabel)
        if drew:
            ax.legend(fontsize=8)
            ax.grid(True, alpha=0.3)
            ax.set_ylim(bottom=0)
        else:
            _note(ax, note_if_empty)
    for k in range(len(threads), nrow * ncol):
        axes[k // ncol][k % ncol].axis("off")
    return _finish(plt, fig, title, label, path)


def fig_throughput(plt, rows, label, out):
    return per_thread_panels(plt, rows, "throughput_gbps", "throughput (Gbit/s)",
                             "Throughput vs message size (stream)", label,
                             os.path.join(out, "throughput_vs_size.png"), "no stream throughput data")


def fig_latency(plt, rows, label, out):
    rr = [r for r in rows if r["mode"] == "rr"]
    sizes = distinct(rr, "msg_size") or [None]
    ncol = min(4, len(sizes))
    nrow = math.ceil(len(sizes) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(max(7, 4.2 * ncol), 3.6 * nrow + 0.8), squeeze=False)
    colors = {}
    for k, size in enumerate(sizes):
        ax = axes[k // ncol][k % ncol]
        drew = False
        for n, impl in enumerate(distinct(rr, "impl")):
            color = colors.setdefault(impl, f"C{n}")
            for col, style, what in (("lat_p50_us", "-", "p50"), ("lat_p99_us", "--", "p99")):
                pts = series(rr, "threads", col, impl=impl, msg_size=size) if size is not None else []
                if pts:
                    _errbar(ax, pts, color=color, linestyle=style, label=f"{impl} {what}")
                    drew = True
        ax.set_title(fmt_size(size) if size is not None else "")
        ax.set_xlabel("client threads (connections)")
        if k % ncol == 0:
            ax.set_ylabel("round-trip latency (us)")
        if drew:
            ths = distinct(rr, "threads", msg_size=size)
            ax.set_xscale("log", base=2)
            ax.set_xticks(ths)
            ax.set_xticklabels([str(t) for t in ths])
            ax.set_yscale("log")
            ax.legend(fontsize=7, ncol=2)
            ax.grid(True, alpha=0.3, which="both")
        else:
            _note(ax, "no request/response (rr) rows:\nrun the sweep without --no-rr")
    for k in range(len(sizes), nrow * ncol):
        axes[k // ncol][k % ncol].axis("off")
    return _finish(plt, fig, "Request/response latency vs threads (p50 solid, p99 dashed)", label,
                   os.path.join(out, "latency_vs_threads.png"))


def fig_counter_or_fallback(plt, rows, label, out, name, title, panels):
    """panels: [(column, ylabel)] of HW-counter figures; when none has data, show the CPU ns per
    byte fallback with a note on the figure saying the counters are absent."""
    path = os.path.join(out, name)
    stream = [r for r in rows if r["mode"] == "stream"]
    if any(has_data(stream, col) for col, _ in panels):
        sizes = distinct(stream, "msg_size")
        threads = distinct(stream, "threads")
        fig, axes = plt.subplots(len(panels), 1, figsize=(7, 3.6 * len(panels)), squeeze=False)
        for k, (col, ylabel) in enumerate(panels):
            ax = axes[k][0]
            drew = False
            for n, impl in enumerate(distinct(stream, "impl")):
                for m, th in enumerate(threads):
                    pts = series(stream, "msg_size", col, impl=impl, threads=th)
                    if pts:
                        _errbar(ax, pts, color=f"C{n}", linestyle=("-", "--", ":", "-.")[m % 4],
                                label=f"{impl} x{th}")
                        drew = True
            _size_axis(ax, sizes)
            ax.set_ylabel(ylabel)
            if drew:
                ax.set_yscale("log")
                ax.legend(fontsize=7, ncol=len(threads) or 1)
                ax.grid(True, alpha=0.3, which="both")
            else:
                _note(ax, f"{col}: not supported / not counted on this machine")
        return _finish(plt, fig, title, label, path)
    fig, ax = plt.subplots(1, 1, figsize=(7.5, 5))
    drew = False
    for n, impl in enumerate(distinct(stream, "impl")):
        for m, th in enumerate(distinct(stream, "threads")):
            pts = series(stream, "msg_size", "cpu_ns_per_byte", impl=impl, threads=th)
            if pts:
                _errbar(ax, pts, color=f"C{n}", linestyle=("-", "--", ":", "-.")[m % 4], label=f"{impl} x{th}")
                drew = True
    sizes = distinct(stream, "msg_size")
    if sizes:
        _size_axis(ax, sizes)
    ax.set_ylabel("server CPU time per byte (ns, task-clock)")
    msg = "hardware counters not available on this machine (perf: <not supported>)"
    if drew:
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7, ncol=2, loc="best")
        ax.grid(True, alpha=0.3)
        ax.set_title(msg + ":\nshowing server CPU ns per byte (task-clock) instead", fontsize=9, color="darkred")
    else:
        _note(ax, msg + "\nand no task-clock either: nothing to plot")
    return _finish(plt, fig, title + " — counters absent", label, path)


def fig_cache(plt, rows, label, out):
    rows2 = derived(derived(rows, "l1d_per_kib", per_kib_sent("l1d_misses")), "llc_per_kib", per_kib_sent("llc_misses"))
    return fig_counter_or_fallback(plt, rows2, label, out, "cache_misses_vs_size.png",
                                   "Server cache misses per KiB sent vs message size (stream)",
                                   [("l1d_per_kib", "L1d load misses / KiB"), ("llc_per_kib", "LLC load misses / KiB")])


def fig_cycles(plt, rows, label, out):
    return fig_counter_or_fallback(plt, rows, label, out, "cycles_per_byte_vs_size.png",
                                   "Server CPU cycles per byte vs message size (stream)",
                                   [("cycles_per_byte", "cycles / byte sent")])


def fig_cpu_ns(plt, rows, label, out):
    return per_thread_panels(plt, rows, "cpu_ns_per_byte", "server CPU ns / byte (task-clock)",
                             "Server CPU time per byte vs message size (stream)", label,
                             os.path.join(out, "cpu_ns_per_byte_vs_size.png"),
                             "no task-clock data (perf missing?)")


def fig_zc_copied(plt, rows, label, out):
    a3 = derived([r for r in rows if r["impl"] == "A3"], "zc_copied_pct", zc_copied_share)
    fig, ax = plt.subplots(1, 1, figsize=(7, 4.4))
    drew = False
    sizes = distinct(a3, "msg_size")
    for mode in ("stream", "rr"):
        for m, th in enumerate(distinct(a3, "threads", mode=mode)):
            pts = series(a3, "msg_size", "zc_copied_pct", mode=mode, threads=th)
            if pts:
                _errbar(ax, pts, color=f"C{m}", linestyle="-" if mode == "stream" else "--", label=f"{mode} x{th}")
                drew = True
    if sizes:
        _size_axis(ax, sizes)
    ax.set_ylabel("zero-copy sends copied by the kernel (%)")
    if drew:
        ax.set_ylim(-2, 102)
        ax.legend(fontsize=7, ncol=2)
        ax.grid(True, alpha=0.3)
    else:
        _note(ax, "no A3 rows with zc_completions > 0")
    return _finish(plt, fig, "A3 MSG_ZEROCOPY: share of sends copied anyway (zc_copied / zc_completions)",
                   label, os.path.join(out, "zc_copied_share.png"))


FIGURES = (fig_throughput, fig_latency, fig_cache, fig_cycles, fig_cpu_ns, fig_zc_copied)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Plots and summary.md for a copybench results CSV.")
    ap.add_argument("csv", nargs="?", default="results.csv", help="results CSV (default results.csv)")
    ap.add_argument("--out-dir", default="plots", help="directory for the PNGs and summary.md (default plots)")
    ap.add_argument("--machine", help="machine side file (default: <csv name>.machine.txt)")
    a = ap.parse_args(argv)
    try:
        rows = load_rows(a.csv)
    except InputError as e:
        print(f"plots.py: {e}", file=sys.stderr)
        return 2
    plt = import_pyplot()
    if plt is None:
        print(f"plots.py: matplotlib is missing for {sys.executable}: install python3-matplotlib "
              "(apt-get install python3-matplotlib)", file=sys.stderr)
        return 1
    info = read_machine(a.machine or machine_file_for(a.csv))
    label = machine_label(info)
    os.makedirs(a.out_dir, exist_ok=True)
    written = [fig(plt, rows, label, a.out_dir) for fig in FIGURES]
    stream = [r for r in rows if r["mode"] == "stream"]
    if not has_data(stream, "cycles_per_byte") and not has_data(stream, "l1d_misses") and not has_data(stream, "llc_misses"):
        print("plots.py: hardware counters absent in this CSV: cache_misses_vs_size.png and "
              "cycles_per_byte_vs_size.png show CPU ns per byte (task-clock) instead")
    md = os.path.join(a.out_dir, "summary.md")
    with open(md, "w") as f:
        f.write(summary_markdown(rows, info))
    written.append(md)
    print("plots.py: wrote " + ", ".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
