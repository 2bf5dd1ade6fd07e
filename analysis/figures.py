"""Figure specs: what each figure shows, as plain data, built from the rows by pure functions.

plots.py draws a spec (analysis/draw.py) and nothing else, so the tests can check what a figure
shows (which series, which values, which notes, which scales) without looking at pixels.

The assignment's four figures come first, in its order and under its names: 1 throughput vs
message size, 2 latency vs thread count, 3 cache misses vs message size, 4 CPU cycles per byte.
Where the machine has no hardware counters, 3 and 4 show a measured proxy, titled as one, never an
empty frame: for 3, the footprint (cold data) figure when the rows have footprint data, else the
CPU time per byte spent in the copy functions (profiles.csv x cpu_ns_per_byte), else the CPU time
per byte; for 4, the CPU time per byte (task-clock), which is what cycles per byte would count at
a fixed clock. The other figures support the report's answers.
"""
from dataclasses import dataclass, field

from analysis.data import (HW_COUNTERS, IMPL_NAMES, conn_label, distinct, fmt_num, fmt_size, geomean, median_of, has_data, machine_label,
                           one_way_valid_row, reps_per_config, run_label, series, with_derived)
from analysis.report import (COPY_CATS, detect_regimes, footprint_of, impl_order, is_cold, main_rows,
                             regime_note)
from analysis.data import profile_share
from analysis.a4 import paired_ratios
from analysis import footprint as fp

IMPL_COLORS = {"A1": "C0", "A2": "C1", "A3": "C2", "A4": "C3"}
PATH_STYLES = ("-", "--", ":", "-.")
SPREAD = "points: median of the repetitions; bars: min-max"
LOG_SPAN = 10.0  # a row of panels whose series span this factor or more gets a log y axis


@dataclass
class Series:
    label: str
    x: list
    y: list
    lo: list
    hi: list
    color: str = "C0"
    style: str = "-"
    marker: str = "o"


@dataclass
class Panel:
    title: str
    xlabel: str
    ylabel: str
    series: list = field(default_factory=list)
    xscale: str = "log2"         # 'log2' (message sizes, connection counts) or 'linear'
    xticks: list = field(default_factory=list)   # [(value, label)]
    yscale: str = "linear"       # 'linear' or 'log'
    ylim: tuple = None
    notes: list = field(default_factory=list)    # computed from the data, shown under the panel title
    empty_note: str = ""         # shown in the panel when it has no series
    xmarks: list = field(default_factory=list)   # [(x, label)]: an x the data flags (a slow regime)
    refs: list = field(default_factory=list)     # [('x' | 'y', value)]: dashed reference lines
    vlines: list = field(default_factory=list)   # [(x, label)]: a size to read the x axis against (a cache)


@dataclass
class Figure:
    name: str
    title: str
    rows: list                   # [[Panel]]
    notes: list = field(default_factory=list)    # figure-level lines under the title
    footer: list = field(default_factory=list)   # machine and run: what a reader needs to judge the numbers

    def panels(self):
        return [p for row in self.rows for p in row]


# ----------------------------------------------------------------------------------------------
# building blocks

def size_ticks(sizes):
    return [(s, fmt_size(s)) for s in sizes]


def impl_series(rows, ycol, x_col="msg_size", suffix="", style="-", marker="o", **match):
    """One Series per technique (and per path when the rows mix paths: one line style per path,
    the path in the label) of the medians of ycol over x_col; techniques with no data for ycol
    get no series."""
    out = []
    paths = distinct(rows, "path")
    groups = [(None, "")] if len(paths) < 2 else [(p, f", {p}") for p in paths]
    for k, (path, plabel) in enumerate(groups):
        for impl in impl_order(distinct(rows, "impl")):
            m = dict(match, impl=impl)
            if path is not None:
                m["path"] = path
            pts = series(rows, x_col, ycol, **m)
            if pts:
                out.append(Series(IMPL_NAMES.get(impl, impl) + suffix + plabel, [p[0] for p in pts],
                                  [p[1] for p in pts], [p[2] for p in pts], [p[3] for p in pts],
                                  IMPL_COLORS.get(impl, "C4"), style if path is None else PATH_STYLES[k % 4], marker))
    return out


def multi_path(rows):
    return len(distinct(rows, "path")) > 1


def path_style_note(rows, colour="technique"):
    """The figure-level line saying which line style is which path (rows mixing paths)."""
    paths = distinct(rows, "path")
    words = {"-": "solid", "--": "dashed", ":": "dotted", "-.": "dash-dot"}
    return ("Line style = network path: " + ", ".join(f"{words[PATH_STYLES[k % 4]]} {p}" for k, p in enumerate(paths))
            + f"; colour = {colour}. Each path is its own series, never pooled with another.")


def by_path(rows):
    """[(path, rows of that path)]: one group per path when the rows mix paths, else [(None, rows)]."""
    if not multi_path(rows):
        return [(None, rows)]
    return [(p, [r for r in rows if r.get("path") == p]) for p in distinct(rows, "path")]


def share_y(panels, force_linear=False, floor_zero=True):
    """Give every panel of a row the same y range and scale: log when any series spans LOG_SPAN
    or more (and all values are positive), else linear from 0."""
    lows = [v for p in panels for s in p.series for v in s.lo if v is not None]
    highs = [v for p in panels for s in p.series for v in s.hi if v is not None]
    if not lows:
        return
    span = max((max(s.hi) / min(s.lo) for p in panels for s in p.series if s.lo and min(s.lo) > 0), default=1)
    log = not force_linear and min(lows) > 0 and span >= LOG_SPAN
    if log:
        lim = (min(lows) / 1.4, max(highs) * 1.4)
    else:
        lim = (0 if floor_zero else min(lows) * 0.95, max(highs) * 1.1 if max(highs) > 0 else 1)
    for p in panels:
        p.yscale = "log" if log else "linear"
        p.ylim = lim


def slow_regime_notes(rows, ycol=None, mode="stream"):
    """{connection count: note} for the slow side of every regime change in the data. With ycol,
    the note also says what this figure's own metric does across the step (computed). Rows that
    mix paths are judged path by path (a regime is one machine's), each note naming its path."""
    if multi_path(rows):
        out = {}
        for path, sub in by_path(rows):
            for t, note in slow_regime_notes(sub, ycol, mode).items():
                out[t] = (out[t] + "; " if t in out else "") + f"{path}: {note}"
        return out
    out = {}
    for st in detect_regimes(rows):
        if not st.flagged:
            continue
        ratios = []
        for impl in distinct(rows, "impl", mode=mode):
            rs = [lo / hi for size in distinct(rows, "msg_size", mode=mode, impl=impl)
                  for lo in [median_of(rows, ycol, mode=mode, impl=impl, msg_size=size, threads=st.lo)]
                  for hi in [median_of(rows, ycol, mode=mode, impl=impl, msg_size=size, threads=st.hi)]
                  if ycol and lo and hi]
            if rs:
                ratios.append(geomean(rs))
        if ratios:
            lo_r, hi_r = min(ratios), max(ratios)
            rng = f"x{fmt_num(lo_r, 2)}" if fmt_num(lo_r, 2) == fmt_num(hi_r, 2) else \
                f"x{fmt_num(lo_r, 2)}-{fmt_num(hi_r, 2)}"
            out[st.lo] = (f"slow regime of the machine at {conn_label(st.lo, short=False)}, all techniques alike: "
                          f"here each is {rng} its value with {conn_label(st.hi)} (report.md, \"Two regimes\")")
        else:
            out[st.lo] = regime_note(st, short=True)
    return out


def per_conn_row(rows, ycol, ylabel, empty_note, regime_notes=None, mode="stream"):
    """One panel per connection count, x = message size, a series per technique."""
    sel = [r for r in rows if r["mode"] == mode]
    threads = distinct(sel, "threads")
    sizes = distinct(sel, "msg_size")
    panels = []
    for t in threads or [None]:
        p = Panel(conn_label(t, short=False) if t is not None else "", "message size", ylabel,
                  impl_series(sel, ycol, threads=t, mode=mode) if t is not None else [],
                  xticks=size_ticks(sizes), empty_note=empty_note)
        if regime_notes and t in regime_notes:
            p.notes.append(regime_notes[t])
        panels.append(p)
    share_y(panels)
    return panels


def footer(info, rows):
    one_rep = reps_per_config(rows)[1] == 1
    return [machine_label(info), run_label(info, rows) + "; "
            + ("one repetition per point: no spread shown, differences cannot be judged" if one_rep else SPREAD)]


# ----------------------------------------------------------------------------------------------
# the assignment's four figures

THREADS_AXIS = "threads (= connections)"


def spec_throughput(rows, info, profiles=None):
    rows = main_rows(rows)
    notes = slow_regime_notes(rows, "throughput_gbps")
    row = per_conn_row(rows, "throughput_gbps", "throughput (Gbit/s)", "no stream throughput data", notes)
    return Figure("throughput_vs_size.png", "Figure 1. Throughput vs message size (stream; one panel per thread "
                  "count = connections)", [row],
                  ["All panels share one y axis" + (" (log: the values span more than 10x)."
                                                    if row and row[0].yscale == "log" else ".")], footer(info, rows))


def spec_latency_rr(rows, info, profiles=None):
    rows = main_rows(rows)
    rr = [r for r in rows if r["mode"] == "rr"]
    sizes = distinct(rr, "msg_size")
    threads = distinct(rr, "threads")
    panels = []
    # one path: p50 solid, p99 dashed; several: the line style is the path's, p99 gets triangles
    p99_marker = "^" if multi_path(rr) else "o"
    for size in sizes or [None]:
        ser = []
        if size is not None:
            ser = (impl_series(rr, "lat_p50_us", x_col="threads", suffix=" p50", style="-", msg_size=size, mode="rr")
                   + impl_series(rr, "lat_p99_us", x_col="threads", suffix=" p99", style="--", marker=p99_marker,
                                 msg_size=size, mode="rr"))
        panels.append(Panel(fmt_size(size) if size is not None else "", THREADS_AXIS,
                            "round trip (µs)", ser, xticks=[(t, str(t)) for t in threads],
                            empty_note="no request/response (rr) rows:\nrun the sweep without --no-rr"))
    rsteps = [(path, s) for path, sub in by_path(rows) for s in detect_regimes(sub) if s.flagged and s.rr]
    for p in panels:
        if p.series:
            p.xmarks = [(t, "slow regime\n(machine)") for t in sorted({s.lo for _, s in rsteps})]
    share_y(panels)
    notes = ["Request/response: one message in flight per connection, the round trip timed by the client; this is "
             "where techniques compare for latency. "
             + ("p50 circles, p99 triangles" if multi_path(rr) else "p50 solid, p99 dashed")
             + "; all panels share one y axis."]
    for path, s in rsteps:
        notes.append((f"{path}: " if path else "")
                     + f"With {conn_label(s.lo)} every technique's round trip is {_fmt_range(s.rr)} longer than with "
                     f"{conn_label(s.hi)}: a slow regime of the machine, not a technique effect (report.md).")
    return Figure("latency_vs_threads.png", "Figure 2. Latency vs thread count (round trip; one panel per message "
                  "size)", [panels], notes, footer(info, rows))


def _fmt_range(d):
    v = sorted(d.values())
    return f"x{v[0]:.1f}" if f"{v[0]:.1f}" == f"{v[-1]:.1f}" else f"x{v[0]:.1f}-{v[-1]:.1f}"


def with_copy_ns(rows, profiles):
    """Stream rows at the profiled connection count with copy_ns_per_byte = cpu_ns_per_byte x the
    profile's copy shares of that technique and size (None where the profile lacks them)."""
    th = {p.get("threads") for p in profiles or () if p.get("threads")}
    t = int(float(next(iter(th)))) if len(th) == 1 else 1
    out = []
    for r in rows:
        if r["mode"] != "stream" or r["threads"] != t:
            continue
        sh = [profile_share(profiles, r["impl"], r["msg_size"], c) for c in COPY_CATS]
        r2 = dict(r)
        r2["copy_ns_per_byte"] = (r["cpu_ns_per_byte"] * sum(x or 0 for x in sh) / 100
                                  if r.get("cpu_ns_per_byte") is not None and any(x is not None for x in sh) else None)
        out.append(r2)
    return out, t


def spec_cache(rows, info, profiles=None):
    name = "cache_misses_vs_size.png"
    title = "Figure 3. Cache misses vs message size"
    short = "Figure 3. Cache misses vs size"
    drows = with_derived(rows)
    stream = [r for r in main_rows(drows) if r["mode"] == "stream"]
    levels = [("l1d_misses", "l1d_per_kib", "L1d load misses per KiB"),
              ("llc_misses", "llc_per_kib", "LLC load misses per KiB")]
    if any(has_data(stream, raw) for raw, _, _ in levels):
        grid = []
        for raw, col, label in levels:
            row = per_conn_row(stream, col, label, f"{raw}: not supported / not counted on this machine: not drawn",
                               slow_regime_notes(stream, col) if not grid else None)
            if grid:
                for p in row:
                    p.title = ""
            grid.append(row)
        return Figure(name, title + " (server, per KiB sent)", grid,
                      ["Per KiB the server sent over its whole life. Each row shares one y axis."], footer(info, rows))
    missing = (f"No cache counters on this machine (l1d_misses, llc_misses empty in all {len(stream)} stream rows; "
               "perf: <not supported>).")
    spec = spec_footprint_cpu(rows, info) if any(is_cold(r) for r in drows) else None
    if spec is not None:
        spec.name, spec.title = name, short + " — proxy: cold data (footprint)"
        spec.notes = [missing + " Proxy: what the server pays per byte when its data no longer fits the caches."] \
            + spec.notes
        return spec
    if profiles:
        crow, t = with_copy_ns(stream, profiles)
        if has_data(crow, "copy_ns_per_byte"):
            ser = impl_series(crow, "copy_ns_per_byte")
            p = Panel(conn_label(t, short=False), "message size", "server CPU ns per byte in the copy functions",
                      ser, xticks=size_ticks(distinct(crow, "msg_size")))
            share_y([p])
            return Figure(name, short + " — proxy: copy time per byte", [[p]],
                          [missing + " Proxy: the server's CPU time per byte in the copy functions, where a copy's "
                           "cache misses are paid = the profile's copy shares (user-space copy, user to kernel, "
                           f"deferred copy; profiles.csv, {conn_label(t, short=False)}) x cpu_ns_per_byte "
                           "(results.csv, same connection count; bars: its repetitions)."], footer(info, rows))
    row = per_conn_row(stream, "cpu_ns_per_byte", "server CPU ns per byte", "no task-clock data (perf missing?)")
    return Figure(name, short + " — proxy: CPU time per byte", [row],
                  [missing + " Proxy: the server's whole CPU time per byte (task-clock), where misses would show as "
                   "extra time. No profiles here to isolate the copies."], footer(info, rows))


def spec_cycles(rows, info, profiles=None):
    rows = main_rows(rows)
    stream = [r for r in rows if r["mode"] == "stream"]
    name = "cycles_per_byte_vs_size.png"
    title = "Figure 4. CPU cycles per byte"
    if has_data(stream, "cycles_per_byte"):
        row = per_conn_row(rows, "cycles_per_byte", "server cycles per byte sent", "no cycles data",
                           slow_regime_notes(rows, "cycles_per_byte"))
        return Figure(name, title + " (server, stream)", [row], ["perf cycles of the server over its whole life / "
                                                                 "bytes it sent. All panels share one y axis."],
                      footer(info, rows))
    row = per_conn_row(rows, "cpu_ns_per_byte", "server CPU ns per byte (task-clock)",
                       "no task-clock data (perf missing?)", slow_regime_notes(rows, "cpu_ns_per_byte"))
    return Figure(name, title + " — proxy: CPU time per byte (server, stream)", [row],
                  [f"No cycle counter on this machine (cycles empty in all {len(stream)} stream rows; perf: "
                   "<not supported>). Proxy: the server's task-clock over its whole life / bytes it sent, in ns: at a "
                   "fixed clock rate, cycles per byte = this x GHz. All panels share one y axis."], footer(info, rows))


# ----------------------------------------------------------------------------------------------
# the figures behind the report's answers

def spec_cpu_ns(rows, info, profiles=None):
    rows = main_rows(rows)
    row = per_conn_row(rows, "cpu_ns_per_byte", "server CPU ns per byte (task-clock)",
                       "no task-clock data (perf missing?)", slow_regime_notes(rows, "cpu_ns_per_byte"))
    return Figure("cpu_ns_per_byte_vs_size.png", "Server CPU time per byte sent vs message size (stream)",
                  [row], ["Server task-clock over its whole life / bytes it sent; measured on every machine "
                          "(software counter). All panels share one y axis."], footer(info, rows))


def spec_context_switches(rows, info, profiles=None):
    drows = [r for r in main_rows(with_derived(rows)) if r["mode"] == "stream"]
    threads = distinct(drows, "threads")
    panels = [Panel(fmt_size(size), THREADS_AXIS, "server context switches per MiB sent",
                    impl_series(drows, "cs_per_mib", x_col="threads", msg_size=size),
                    xticks=[(t, str(t)) for t in threads], empty_note="no context-switch data (perf missing?)")
              for size in distinct(drows, "msg_size")] or [Panel("", THREADS_AXIS, "", empty_note="no stream rows")]
    share_y(panels)
    return Figure("context_switches_vs_threads.png", "Server context switches per MiB sent vs thread count "
                  "(stream; one panel per message size)", [panels],
                  ["perf context-switches of the server over its whole life / MiB it sent (report.md, Q3 and Q6). "
                   "All panels share one y axis."], footer(info, rows))


def spec_stream_latency(rows, info, profiles=None):
    """Each technique against A1 at the same configuration: throughput ratio (x) against stream
    one-way latency ratio (y). Latency that follows the queue puts the slower technique lower."""
    name = "stream_latency_vs_throughput.png"
    title = "Stream one-way latency vs throughput, each technique relative to A1"
    left_out = distinct([r for r in rows if not one_way_valid_row(r)], "path")
    valid = [r for r in main_rows(rows) if one_way_valid_row(r) and r["mode"] == "stream"]
    ser = []
    for k, (path, sub) in enumerate(by_path(valid)):
        for impl in [i for i in impl_order(distinct(sub, "impl")) if i != "A1"]:
            pts = []
            for s in distinct(sub, "msg_size", impl=impl):
                for t in distinct(sub, "threads", impl=impl, msg_size=s):
                    thr = [median_of(sub, "throughput_gbps", impl=i, msg_size=s, threads=t) for i in (impl, "A1")]
                    lat = [median_of(sub, "lat_p50_us", impl=i, msg_size=s, threads=t) for i in (impl, "A1")]
                    if all(thr) and all(lat):
                        pts.append((thr[0] / thr[1], lat[0] / lat[1]))
            if pts:
                pts.sort()
                ser.append(Series(f"{IMPL_NAMES.get(impl, impl)} / A1" + (f", {path}" if path else ""),
                                  [x for x, _ in pts], [y for _, y in pts], [y for _, y in pts], [y for _, y in pts],
                                  IMPL_COLORS.get(impl, "C4"), "none", "os^D"[k % 4]))
    if not ser:
        why = ("server and client ran on different hosts, whose clocks differ, so one-way latency is not valid"
               if left_out else "no stream one-way latency with A1 beside another technique")
        p = Panel("", "", "", empty_note=f"Not drawn: {why}. Compare techniques by the round trip (Figure 2).",
                  xscale="linear")
        return Figure(name, title, [[p]], [], footer(info, rows))
    p = Panel("", "throughput / A1's at the same size and connection count",
              "stream one-way p50 / A1's", ser, xscale="log", yscale="log", refs=[("x", 1.0), ("y", 1.0)])
    ys = [y for s in ser for y in s.y]
    p.ylim = (min(ys + [1]) / 1.5, max(ys + [1]) * 1.5)
    xs = [x for s in ser for x in s.x]
    ticks = [v for v in (0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0) if min(xs + [1]) / 1.2 <= v <= max(xs + [1]) * 1.2]
    p.xticks = [(v, f"{v:g}") for v in ticks]
    below = sum(1 for s in ser for x, y in zip(s.x, s.y) if x < 1 and y < 1)
    slower = sum(1 for s in ser for x in s.x if x < 1)
    return Figure(name, title, [[p]], [
        "One point per technique, message size and connection count (medians of the repetitions), against A1 there. "
        f"Of the {slower} points where a technique is slower than A1, {below} also have a shorter one-way latency. In a "
        "saturated stream the one-way latency is queueing delay: a slow sender keeps the socket queue short, so its "
        "messages wait less. Compare techniques by the round trip (Figure 2; report.md, Appendix B)."]
        + ([f"Left out: the {', '.join(left_out)} rows, whose server and client ran on two hosts."] if left_out else []),
        footer(info, rows))


# ----------------------------------------------------------------------------------------------
# the footprint (cold data): x = the bytes each connection sent from, the main grid's one message
# first, the cache sizes drawn as lines

def footprint_rows(rows, info, ycol, empty_note, ylabel):
    """One panel per (size, connections) of the footprint sub-sweep, a series per technique, the
    machine's cache sizes (those within the x range) as vertical lines."""
    g = fp.grid(rows)
    caches = fp.cache_sizes(info)
    panels = []
    for (size, t), fps in sorted(g.items()):
        sel = [dict(r, footprint_x=fp.footprint_of(r)) for r in rows
               if r["mode"] == "stream" and r["msg_size"] == size and r["threads"] == t]
        p = Panel(f"{fmt_size(size)} messages, {conn_label(t, short=False)}", "footprint per connection (log)",
                  ylabel, impl_series(sel, ycol, x_col="footprint_x"), empty_note=empty_note,
                  xticks=[(x, fp.human(x).replace(" ", "")) for x in fps])
        p.vlines = [(v, k) for k, v in caches.items() if min(fps) / 2 <= v <= max(fps) * 2]
        panels.append(p)
    share_y(panels)
    return panels



def _fp_notes(rows, info, what):
    caches = fp.cache_sizes(info)
    line = ("Dotted lines: the cache sizes of the machine file (one core's L1d and L2, one LLC). " if caches else
            "No cache lines: the machine file states no cache sizes (lscpu and /sys show none here); "
            + (info.get("footprints") or "") + ". ")
    return [f"{what} Leftmost point of each panel: the main grid's one message (hot); the others send round robin "
            "from that many bytes of messages per connection (--footprint), so each send reads data a whole "
            "footprint old. " + line]


def fp_footer(info, rows):
    """The footer of a footprint figure: the run's, from the main grid's rows (a footprint row has the
    same repetitions; counted with the footprints pooled, they would look like several times more)."""
    return footer(info, fp.split_rows(rows)[0] or rows)


def spec_footprint_throughput(rows, info):
    return Figure("footprint_throughput.png", "Stream throughput vs footprint (cold data), one panel per size and "
                  "connection count", [footprint_rows(rows, info, "throughput_gbps", "no footprint rows", "throughput (Gbit/s)")],
                  _fp_notes(rows, info, "Median of the repetitions, bars min-max."), fp_footer(info, rows))


def spec_footprint_cpu(rows, info):
    col = fp.cpu_col(rows)
    return Figure("footprint_cpu_per_byte.png", "Server CPU time per byte vs footprint (cold data)",
                  [footprint_rows(rows, info, col, "no CPU time per byte", "server CPU ns per byte (send loop)")],
                  _fp_notes(rows, info, f"`{col}`: the sender threads' CPU time in their send loops / bytes sent "
                            "(the footprint's setup and teardown left out)."), fp_footer(info, rows))


def spec_footprint_misses(rows, info):
    drows = with_derived(rows)
    name = "footprint_cache_misses.png"
    title = "Server cache misses per KiB vs footprint (cold data)"
    levels = [("l1d_misses", "l1d_per_kib", "L1d load misses per KiB"), ("llc_misses", "llc_per_kib",
                                                                         "LLC load misses per KiB")]
    cold = [r for r in drows if fp.is_cold(r)]
    if not any(has_data(cold, raw) for raw, _, _ in levels):
        p = Panel("", "", "", xscale="linear", empty_note="No cache counters on this machine (l1d_misses, llc_misses "
                  "empty in every footprint row; perf: <not supported>): see footprint_cpu_per_byte.png, the proxy.")
        return Figure(name, title + ": not measured here", [[p]], [], fp_footer(info, rows))
    grid = []
    for raw, col, label in levels:
        row = footprint_rows(drows, info, col, f"{raw}: not counted on this machine", label)
        if grid:
            for p in row:
                p.title = ""
        grid.append(row)
    return Figure(name, title, grid, _fp_notes(rows, info, "perf counts over the server's whole life, per KiB it "
                                                           "sent."), fp_footer(info, rows))


FOOTPRINT_SPECS = (spec_footprint_throughput, spec_footprint_cpu, spec_footprint_misses)


def spec_a4(rows, info):
    """A4 over A3 and over A2, stream throughput and server CPU per byte, from the rows of one run:
    a ratio per repetition (the techniques of a configuration run back to back), median and range."""
    panels = []
    for metric, label in (("throughput_gbps", "throughput ratio"), ("cpu_ns_per_byte", "server CPU per byte ratio")):
        ser = []
        for base, color in (("A3", "C2"), ("A2", "C1")):
            got = paired_ratios(rows, "A4", base, metric)
            threads = sorted({t for _, t in got})
            for k, th in enumerate(threads):
                pts = sorted((s, v) for (s, t), v in got.items() if t == th)
                ser.append(Series(f"A4 / {base}" + (f", {conn_label(th)}" if len(threads) > 1 else ""),
                                  [p[0] for p in pts], [p[1][0] for p in pts], [p[1][1] for p in pts],
                                  [p[1][2] for p in pts], color, PATH_STYLES[k % 4]))
        sizes = distinct([r for r in rows if r["impl"] == "A4"], "msg_size", mode="stream")
        p = Panel(("Throughput" if metric == "throughput_gbps" else "Server CPU per byte (task-clock)")
                  + ": A4 / A3 and A4 / A2", "message size", label, ser, xticks=size_ticks(sizes),
                  empty_note="no A4 rows paired with A3 or A2 rows of the same repetition")
        p.notes.append("1 = the same; above 1: A4 " + ("faster" if metric == "throughput_gbps" else "spends more CPU")
                       + " than the technique it is divided by")
        panels.append(p)
    share_y(panels, floor_zero=True)
    th = distinct([r for r in rows if r["impl"] == "A4"], "threads")
    return Figure("a4_vs_a3_a2.png", "A4 (io_uring zero-copy) against A3 (MSG_ZEROCOPY) and A2 (sendmsg), one run",
                  [panels], ["Per repetition, A4's median over the other's; points: the median of those ratios, "
                             "bars: their range. A4 ran at " + ", ".join(conn_label(t, short=False) for t in th) + "."],
                  footer(info, rows))


REQUIRED = (spec_throughput, spec_latency_rr, spec_cache, spec_cycles)
SUPPORT = (spec_context_switches, spec_stream_latency)


def figure_specs(rows, info, profiles=None):
    """The four required figures, in the assignment's order, then the ones behind the answers (the
    CPU time per byte on its own only when Figure 4 shows cycles, else it is Figure 4)."""
    extra = SUPPORT + ((spec_cpu_ns,) if not hw_absent(main_rows(rows)) else ())
    specs = [f(rows, info, profiles) for f in REQUIRED + extra]
    main = main_rows(rows)
    if len(main) < len(rows):   # the main grid's figures rest on hot data: say so where cold runs are beside them
        for f in specs:
            if f.name != "cache_misses_vs_size.png":
                f.notes.append("Hot data: every connection sends one message again and again (the method's default "
                               "assumption); the footprint_*.png figures send from cold data.")
        specs += [f(rows, info) for f in FOOTPRINT_SPECS]
    if "A4" in distinct(main, "impl"):    # A4 is not in every run
        specs.append(spec_a4(main, info))
    if multi_path(rows):
        for f in specs:
            if any(p.series for p in f.panels()):
                f.notes.append(path_style_note(rows))
    return specs


def required_specs(rows, info, profiles=None):
    return [f(rows, info, profiles) for f in REQUIRED]


def hw_absent(rows):
    stream = [r for r in rows if r["mode"] == "stream"]
    return not any(has_data(stream, c) for c in HW_COUNTERS)
