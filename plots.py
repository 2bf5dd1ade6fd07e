#!/usr/bin/env python3
"""Figures, summary.md and report.md for a copybench sweep (results.csv from run_experiments.sh).

usage: plots.py [results.csv ...] [--out-dir DIR] [--machine FILE] [--profiles FILE] [--no-figures]
                [--freeze FILE]

Writes to --out-dir, by default plots/ next to the (first) CSV: runs/X/results.csv draws into
runs/X/plots/, the committed results.csv into the committed plots/. The committed plots/ takes
the committed results.csv alone: any other input naming it with --out-dir is refused (exit 2), so
a run of one's own never replaces the committed figures and report.
  report.md     the six questions answered from this CSV (analysis/report.py)
  summary.md    the tables behind it: fastest technique per configuration (named only when measurably
                ahead), crossovers, costs, latency, spread
  *.png         the figures (analysis/figures.py builds what each shows, analysis/draw.py draws it):
                the assignment's four first (throughput_vs_size, latency_vs_threads,
                cache_misses_vs_size, cycles_per_byte_vs_size), then the ones behind the answers
  redraw_figures.py  Figures 1-4 as a standalone script: their data as literals and the drawing
                code; `python3 redraw_figures.py --out-dir DIR` redraws them with no CSV

--freeze FILE writes only that script, to FILE (no matplotlib needed to write it).

Several CSVs (plots.py a.csv b.csv) are drawn together, overlaid by network path: each CSV's rows
keep the path they crossed (its path column, or loopback/veth from its netns column), every figure
draws one series per technique and path (line style = path, in the legend), summary.md pools and
says so, report.md answers per path. A loopback or veth sweep beside a two-host one is one figure.

Every point is the median over repetitions; error bars span min..max of the repetitions. Empty CSV
cells (counter not supported / not counted, field not applicable) are missing data: never plotted,
never zero. The machine description comes from the side file the sweep writes next to the CSV
(<name>.machine.txt), unless --machine is given; where the CPU time went comes from profiles.csv
next to the CSV when it exists (--profiles FILE to name another).

matplotlib: when this Python lacks it, plots.py re-runs itself once with the first Python that has it
(/usr/bin/python3, then python3 on PATH, then /usr/local/bin/python3; CB_PLOTS_PYTHONS="A B" replaces
that list). When none has it, it still writes report.md and summary.md, names the exact command, and
exits 1.

Exit status: 0 ok, 1 no Python with matplotlib (figures not drawn), 2 unusable input or output.
"""
import argparse
import dataclasses
import os
import pprint
import shlex
import shutil
import statistics
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

# The data helpers live in analysis/data.py; they are re-exported here because scripts and tests
# call them as plots.parse_rows, plots.series, ...
from analysis.data import (COLUMNS, HW_COUNTERS, IMPL_NAMES, SW_COUNTERS, InputError, best_by_config,  # noqa: E402,F401
                           conn_label, cv_pct, datapath_shares, derived, distinct, fmt_num, fmt_size, has_data, load_many, load_profiles,
                           load_rows, machine_file_for, machine_label, median_of, parse_rows, ratios_by_size,
                           read_machine, repeatability, run_label, series, summarize, values, zc_copied_share)
from analysis import draw, report as report_mod  # noqa: E402

# names other scripts and the tests use as plots.NAME
__all__ = ["COLUMNS", "cv_pct", "parse_rows", "series", "load_rows", "load_many", "read_machine", "machine_file_for", "main",
           "summary_markdown", "draw_figure"]
from analysis.figures import SPREAD, figure_specs, hw_absent, required_specs  # noqa: E402
from analysis.data import path_of  # noqa: E402

REEXEC_ENV = "CB_PLOTS_REEXEC"          # set in the child of a re-exec: never re-exec twice
CANDIDATES_ENV = "CB_PLOTS_PYTHONS"     # space-separated Pythons to try instead of the defaults
DEFAULT_PYTHONS = ("/usr/bin/python3", "python3", "/usr/local/bin/python3")


# ----------------------------------------------------------------------------------------------
# summary.md

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


def best_cell(rows, size, threads, best):
    """'A1 6.07' when the fastest is measurably ahead of every other technique (paired rule of
    report.md), else 'A1 6.07 ≈ A2 5.95': no technique is named the best within noise."""
    impl, med = best
    others = [i for i in distinct(rows, "impl", mode="stream", msg_size=size, threads=threads) if i != impl]
    ties = []
    for o in others:
        c = report_mod.compare(rows, impl, o, "throughput_gbps", size, threads)
        if c and c.verdict in ("tie", "unjudged"):
            ties.append(f"{o} {fmt_num(median_of(rows, 'throughput_gbps', mode='stream', impl=o, msg_size=size, threads=threads))}")
    return f"{impl} {fmt_num(med)}" + "".join(f" ≈ {t}" for t in ties)


def summary_markdown(rows, info):
    cold = [r for r in rows if report_mod.is_cold(r)]
    rows = report_mod.main_rows(rows)  # cold-data (footprint) rows are report.md's Q2/Q3 subject, not these tables
    impls = distinct(rows, "impl")
    lines = ["# copybench results", "", machine_label(info), "", run_label(info, rows), ""]
    if info.get("inputs"):
        lines += [f"Inputs: {info['inputs']}." + (f" Rows of a path several inputs share are pooled: {info['pooled']}."
                                                  if info.get("pooled") else ""), ""]
    if info.get("command"):
        lines += [f"Command: `{info['command']}`", ""]
    n_stream = len([r for r in rows if r["mode"] == "stream"])
    n_rr = len(rows) - n_stream
    lines += [f"{len(rows)} runs ({n_stream} stream, {n_rr} request/response); techniques: "
              + ", ".join(IMPL_NAMES.get(i, i) for i in impls) + f". In the figures, {SPREAD}."
              + (f" Every run sends one message again and again (hot data); {len(cold)} more runs of a footprint "
                 "sub-sweep (cold data) are not in these tables: report.md and footprint_*.png read them."
                 if cold else ""), "",
              "The six questions are answered, with the numbers they rest on, in **report.md** beside this file. "
              "Its rule applies here too: techniques are compared repetition by repetition (they ran back to back), "
              "and a gap is measurable only when the 95% interval of the paired ratio excludes 1 (report.md, "
              "Appendix A).", ""]
    paths = distinct(rows, "path")
    if len(paths) > 1:
        lines += [f"**{'These CSVs mix' if info.get('inputs') else 'This CSV mixes'} network paths "
                  f"({', '.join(paths)})**: the tables below pool them; report.md "
                  "answers per path and the figures draw one line per technique and path.", ""]
    for path in (paths if len(paths) > 1 else [None]):  # a regime is one machine's: judged path by path
        sub = rows if path is None else [r for r in rows if r.get("path") == path]
        for s in report_mod.regime_steps(sub):
            lines += [f"**Two regimes{f' ({path})' if path else ''}**: {report_mod.regime_note(s)} "
                      "(report.md, \"Two regimes\").", ""]

    lines += ["## Fastest technique (stream throughput, median Gbit/s)", "",
              "Named alone only when measurably ahead of every other; `A ≈ B`: no measurable difference.", ""]
    best = best_by_config(rows)
    threads = distinct(rows, "threads", mode="stream")
    if best:
        lines.append("| size | " + " | ".join(conn_label(t) for t in threads) + " |")
        lines.append("|---|" + "---|" * len(threads))
        for size in distinct(rows, "msg_size", mode="stream"):
            cells = [best_cell(rows, size, t, best[(size, t)]) if (size, t) in best else "n/a" for t in threads]
            lines.append(f"| {fmt_size(size)} | " + " | ".join(cells) + " |")
    else:
        lines.append("No stream rows with a throughput.")
    lines.append("")

    lines += ["## Where the one-copy and zero-copy paths pay off", ""]
    for a in report_mod.impl_order(set(impls) - {"A1"} | {"A2", "A3"}):
        if a not in impls or "A1" not in impls:
            lines.append(f"- {a} vs A1: not measured (both needed).")
            continue
        v = report_mod.size_verdicts(rows, a, "A1")
        cx = report_mod.crossover(v)
        word = {"a": f"{a} faster", "b": "A1 faster", "tie": "no measurable difference", "unjudged": "one rep"}
        per = "; ".join(f"{fmt_size(s)} {word[x[0]]} ({x[2].iv.fmt()})" for s, x in sorted(v.items()))
        lines.append((f"- {a} outperforms A1 from **{fmt_size(cx)}**" if cx is not None else
                      f"- {a} does not outperform A1 from any size on")
                     + f" (throughput {a}/A1, paired, all connection counts, [95%]: {per or 'no data'}).")
    lines.append("")

    lines += ["## Zero-copy sends the kernel copied anyway (A3)", ""]
    a3 = [r for r in rows if r["impl"] == "A3"]
    share, tot_c = report_mod.copied_share(rows)
    if share is not None:
        lines.append(f"- Overall: {share:.1f}% of {tot_c} completed zero-copy sends were copied "
                     "(SO_EE_CODE_ZEROCOPY_COPIED; e.g. loopback/veth delivery to a local socket).")
        per = [(size, s) for size in distinct(a3, "msg_size")
               for s in [summarize(values(derived(a3, "zcs", zc_copied_share), "zcs", msg_size=size))] if s]
        if per and max(s[2] for _, s in per) - min(s[1] for _, s in per) >= 0.1:  # one line says a flat share
            lines += [f"- {fmt_size(size)}: median {s[0]:.1f}% (min {s[1]:.1f}, max {s[2]:.1f})" for size, s in per]
        elif per:
            lines.append(f"- The same at every size and run ({per[0][1][0]:.1f}%).")
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
                     + ("; Figures 3 and 4 (cache_misses_vs_size.png, cycles_per_byte_vs_size.png) show measured "
                        "proxies, titled as such: the CPU time per byte spent copying, and the CPU time per byte."
                        if hw_absent(rows) and has_data(rows, "cpu_ns_per_byte") else "."))
    lines.append("")
    if has_data(rows, "cpu_ns_per_byte", mode="stream"):
        lines += ["## Server CPU cost (stream; ns of task-clock per byte sent, median over reps and connection counts)",
                  ""]
        sizes = distinct(rows, "msg_size", mode="stream")
        lines.append("| technique | " + " | ".join(fmt_size(s) for s in sizes) + " |")
        lines.append("|---|" + "---|" * len(sizes))
        for impl in report_mod.impl_order(distinct(rows, "impl")):
            cells = [fmt_num(median_of(rows, "cpu_ns_per_byte", mode="stream", impl=impl, msg_size=s)) for s in sizes]
            lines.append(f"| {impl} | " + " | ".join(cells) + " |")
        lines.append("")
    rr = [r for r in rows if r["mode"] == "rr"]
    if rr:
        lines += ["## Request/response latency (median p50 / p99 round trip, µs)", "",
                  "Techniques are compared for latency by this round trip. The stream one-way latency is queueing "
                  "delay, decided by which side is the bottleneck (stream_latency_vs_queue.png, report.md).", ""]
        th = distinct(rr, "threads")
        lines.append("| technique | size | " + " | ".join(conn_label(t) for t in th) + " |")
        lines.append("|---|---|" + "---|" * len(th))
        for impl in distinct(rr, "impl"):
            for size in distinct(rr, "msg_size", impl=impl):
                cells = []
                for t in th:
                    p50 = median_of(rr, "lat_p50_us", impl=impl, msg_size=size, threads=t)
                    p99 = median_of(rr, "lat_p99_us", impl=impl, msg_size=size, threads=t)
                    cells.append(f"{fmt_num(p50)} / {fmt_num(p99)}")
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
# finding a Python that has matplotlib

def import_pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        return None


def candidate_pythons(env):
    """The Pythons to try, resolved to paths, without duplicates and without this one."""
    names = env.get(CANDIDATES_ENV, "").split() or list(DEFAULT_PYTHONS)
    me = os.path.realpath(sys.executable)
    out, seen = [], {me}
    for n in names:
        p = shutil.which(n, path=env.get("PATH")) if os.sep not in n else (n if os.access(n, os.X_OK) else None)
        if p and os.path.realpath(p) not in seen:
            seen.add(os.path.realpath(p))
            out.append(p)
    return out


def python_with_matplotlib(env):
    """(first candidate that can import matplotlib or None, every candidate tried)."""
    tried = candidate_pythons(env)
    for p in tried:
        try:
            if subprocess.run([p, "-c", "import matplotlib"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=120).returncode == 0:
                return p, tried
        except (OSError, subprocess.TimeoutExpired):
            continue
    return None, tried


# ----------------------------------------------------------------------------------------------
# drawing a spec (analysis/figures.py decides what is shown; analysis/draw.py draws it)

def spec_dict(spec):
    """A figure spec as plain data: what analysis/draw.py draws and --freeze writes as literals."""
    return dataclasses.asdict(spec)


def draw_figure(plt, spec, out_dir):
    return draw.draw_figure(plt, spec_dict(spec), out_dir)


FROZEN_MAIN = '''

def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\\n\\n")[0])
    ap.add_argument("--out-dir", default=".", help="where to write the PNGs (default: here)")
    a = ap.parse_args(argv)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("needs matplotlib (apt-get install python3-matplotlib)", file=sys.stderr)
        return 1
    os.makedirs(a.out_dir, exist_ok=True)
    for spec in FIGURES:
        print("wrote " + draw_figure(plt, spec, a.out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


FROZEN_NAME = "redraw_figures.py"  # what every figure run also writes: Figures 1-4 as data


def freeze_script(specs, info, rows, sources):
    """A standalone Python script: the figures' data as literals, analysis/draw.py's code, a main."""
    with open(os.path.join(HERE, "analysis", "draw.py")) as f:
        code = f.read().split('"""', 2)[2].lstrip("\n")  # draw.py without its docstring
    names = ", ".join(s.name for s in specs)
    doc = "\n".join([
        '"""copybench: the four figures the assignment asks for, redrawn from the data below alone.',
        "",
        *textwrap.wrap(f"Frozen by plots.py --freeze from {sources}: {len(rows)} runs; {machine_label(info)}; "
                       f"{run_label(info, rows)}.", 100),
        "Each series holds the plotted points: x; y, the median of the repetitions; lo..hi, their range.",
        "Needs only Python 3 and matplotlib: no CSV, no copybench code.",
        "",
        f"usage: python3 THIS_FILE [--out-dir DIR]   (writes {names})",
        '"""'])
    data = "FIGURES = " + pprint.pformat([spec_dict(s) for s in specs], width=110, sort_dicts=False)
    return "#!/usr/bin/env python3\n" + doc + "\nimport sys\n" + code + "\n\n" + data + "\n" + FROZEN_MAIN


# ----------------------------------------------------------------------------------------------

def write_text(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


COMMITTED_CSV = os.path.join(HERE, "results.csv")
COMMITTED_PLOTS = os.path.join(HERE, "plots")


def same_path(a, b):
    return os.path.realpath(a) == os.path.realpath(b)


def cited(path, out_dir):
    """How the report and the frozen script name an input: relative to the folder they are written
    to (`../results.csv` for the committed plots/), so the name still leads to the file in another
    checkout; absolute when the input is three folders up or more (the report says that a name not
    starting with / is relative to its folder)."""
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(out_dir))
    return os.path.abspath(path) if rel.startswith(os.path.join("..", "..", "..")) else rel


def output_dir(csvs, out_dir):
    """Where the figures and reports go: --out-dir, else plots/ next to the first CSV. Raises
    InputError when the result would be the committed plots/ for anything but the committed
    results.csv alone (a quick run of one's own must never replace the committed report)."""
    committed_input = len(csvs) == 1 and same_path(csvs[0], COMMITTED_CSV)
    if out_dir is None:
        own = [c for c in csvs if not same_path(c, COMMITTED_CSV)] or csvs
        out_dir = os.path.join(os.path.dirname(own[0]) or ".", "plots")
    if same_path(out_dir, COMMITTED_PLOTS) and not committed_input:
        raise InputError(f"{out_dir}: the committed plots/ is drawn from the committed results.csv only; "
                         f"name another directory with --out-dir (default: plots/ next to the CSV)")
    return out_dir


def main(argv=None, allow_reexec=False):
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description="Figures, summary.md and report.md for a copybench results CSV.")
    ap.add_argument("csv", nargs="*", default=["results.csv"],
                    help="results CSV(s) (default results.csv); several are overlaid by network path")
    ap.add_argument("--out-dir", help="directory for the PNGs, summary.md, report.md (default: plots/ next to the first CSV)")
    ap.add_argument("--machine", help="machine side file (default: <csv name>.machine.txt; one CSV only)")
    ap.add_argument("--profiles", help="where-the-time-goes shares (default: profiles.csv next to the CSV, if any)")
    ap.add_argument("--no-figures", action="store_true", help="write report.md and summary.md only (no matplotlib needed)")
    ap.add_argument("--freeze", metavar="FILE", help="only write FILE: a standalone Python script holding Figures 1-4's "
                    "data as literals that redraws them with no CSV (no matplotlib needed to write it)")
    a = ap.parse_args(argv)
    if a.machine and len(a.csv) > 1:
        print("plots.py: --machine names the side file of one CSV; with several, each CSV's own "
              "<name>.machine.txt is read", file=sys.stderr)
        return 2
    try:
        a.out_dir = output_dir(a.csv, a.out_dir)
        rows, info = load_many(a.csv, a.machine)
        prof_path = a.profiles or os.path.join(os.path.dirname(a.csv[0]) or ".", "profiles.csv")
        if a.profiles and not os.path.exists(a.profiles):
            raise InputError(f"{a.profiles}: No such file or directory (--profiles)")
        profiles = load_profiles(prof_path)
    except InputError as e:
        print(f"plots.py: {e}", file=sys.stderr)
        return 2
    if a.freeze:
        try:
            write_text(a.freeze, freeze_script(required_specs(rows, info, profiles), info, rows, ", ".join(a.csv)))
        except OSError as e:
            print(f"plots.py: --freeze {a.freeze}: {e.strerror}", file=sys.stderr)
            return 2
        print(f"plots.py: wrote {a.freeze} (Figures 1-4 as data; run it with a Python that has matplotlib)")
        return 0
    plt = None if a.no_figures else import_pyplot()
    if plt is None and not a.no_figures and allow_reexec and not os.environ.get(REEXEC_ENV):
        py, _ = python_with_matplotlib(os.environ)
        if py:
            print(f"plots.py: matplotlib is missing for {sys.executable}; re-running with {py}", file=sys.stderr)
            sys.stderr.flush()
            env = dict(os.environ, **{REEXEC_ENV: sys.executable})
            os.execve(py, [py, os.path.abspath(__file__)] + argv, env)
    if info.get("pooled"):
        print(f"plots.py: several inputs share a path, their rows are pooled: {info['pooled']}", file=sys.stderr)
    os.makedirs(a.out_dir, exist_ok=True)
    sources = ", ".join(cited(c, a.out_dir) for c in a.csv)
    written = [write_text(os.path.join(a.out_dir, "summary.md"), summary_markdown(rows, info)),
               write_text(os.path.join(a.out_dir, "report.md"),
                          report_mod.report_markdown(rows, info, profiles, csv_name=sources,
                                                     profiles_name=cited(prof_path, a.out_dir)))]
    if a.no_figures:
        print("plots.py: wrote " + ", ".join(written) + " (--no-figures)")
        return 0
    if plt is None:
        parent = os.environ.get(REEXEC_ENV)
        if parent:  # we are the re-run: never loop
            tried = f"{parent}, then {sys.executable} (re-run once, not again)"
        else:
            tried = ", ".join([sys.executable] + python_with_matplotlib(os.environ)[1])
        cmd = shlex.join(["/usr/bin/python3", sys.argv[0] or "plots.py"] + argv)
        print(f"plots.py: wrote {', '.join(written)}; figures NOT drawn: no Python here can import matplotlib "
              f"(tried {tried}). Install it (apt-get install python3-matplotlib), then run: {cmd}", file=sys.stderr)
        return 1
    specs = figure_specs(rows, info, profiles)
    written += [draw_figure(plt, spec, a.out_dir) for spec in specs]
    written.append(write_text(os.path.join(a.out_dir, FROZEN_NAME), freeze_script(specs[:4], info, rows, sources)))
    from analysis.profiles import plot_profiles_next_to  # profiles.csv next to the CSV: docs/profiles.md
    written += plot_profiles_next_to(plt, prof_path, a.out_dir, machine_label(info))
    if hw_absent(rows):
        print("plots.py: hardware counters absent in this CSV: Figures 3 and 4 (cache_misses_vs_size.png, "
              "cycles_per_byte_vs_size.png) show measured proxies, titled as such")
    try:  # the data-path diagrams (analysis/datapath.py) must never cost the sweep's own figures
        from analysis.datapath import draw_data_paths
        written += draw_data_paths(plt, a.out_dir, shares=datapath_shares(profiles),
                                   measured_on=path_of(report_mod.main_rows(rows), info))
    except Exception as e:  # noqa: BLE001 -- any failure there is reported, not fatal
        print(f"plots.py: data-path figures skipped: {type(e).__name__}: {e}", file=sys.stderr)
    print("plots.py: wrote " + ", ".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(main(allow_reexec=True))
