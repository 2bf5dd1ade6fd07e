#!/usr/bin/env python3
"""Draw bench/soak.sh's per-second samples: each server's RSS over time (top
panel) and its thread count (bottom panel), with the warm-up, reference and
end windows the drift is computed on shaded.

usage: soak_plot.py --samples CSV [--quiesce CSV] --out PNG --window L --duration T [--title TEXT]
The samples CSV has the columns t_s,server,rss_kb,threads (read by name; more
are ignored); the quiesce CSV t_s,server,rss_kb: each server's idle RSS at
each quiesce, drawn as dots on its line.
"""
import argparse
import csv
import sys

NEEDED = ("t_s", "server", "rss_kb", "threads")


def read_series(path, columns):
    """{server: {"t": [...], "rss_mib": [...], "threads": [...]}} in file order,
    with the keys that `columns` asks for."""
    series = {}
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {', '.join(missing)}")
        for row in reader:
            s = series.setdefault(row["server"], {"t": [], "rss_mib": [], "threads": []})
            s["t"].append(float(row["t_s"]))
            s["rss_mib"].append(int(row["rss_kb"]) / 1024)
            if "threads" in columns:
                s["threads"].append(int(row["threads"]))
    return series


def shade_windows(ax, window, duration):
    """Warm-up [0, L), reference [L, 2L), end [T-L, T]: the windows the drift compares."""
    ax.axvspan(0, window, color="0.9", lw=0)
    ax.axvspan(window, 2 * window, color="tab:green", alpha=0.12, lw=0)
    ax.axvspan(duration - window, duration, color="tab:red", alpha=0.12, lw=0)


def draw(series, idle, out, window, duration, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_rss, ax_thr) = plt.subplots(2, 1, sharex=True, figsize=(11.5, 6.5),
                                         gridspec_kw={"height_ratios": [3, 2]})
    for ax in (ax_rss, ax_thr):
        shade_windows(ax, window, duration)
        ax.grid(True, alpha=0.3)
    for name in sorted(series):
        s = series[name]
        line, = ax_rss.plot(s["t"], s["rss_mib"], lw=1.2, label=name)
        ax_thr.plot(s["t"], s["threads"], lw=0.8, label=name, color=line.get_color())
        if name in idle:
            ax_rss.plot(idle[name]["t"], idle[name]["rss_mib"], "o", ms=5, mfc="white",
                        color=line.get_color(), label=f"{name} idle (quiesce)")
    ax_rss.set_ylabel("server VmRSS (MiB)")
    ax_rss.set_ylim(bottom=0)
    ax_thr.set_ylabel("server threads")
    ax_thr.set_xlabel("time since the first client (s)")
    ax_thr.set_ylim(bottom=0)
    ax_rss.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="server", fontsize=8)
    ax_rss.set_title(title, fontsize=9)
    fig.text(0.01, 0.005, "grey: warm-up; green: reference window; red: end window (the same "
             "clients again). Dots: idle RSS at each quiesce; idle drift = the dot after red "
             "vs the dot after green", fontsize=8, va="bottom")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(out, dpi=90)
    plt.close(fig)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", required=True)
    p.add_argument("--quiesce")
    p.add_argument("--out", required=True)
    p.add_argument("--window", type=float, required=True, help="L, seconds")
    p.add_argument("--duration", type=float, required=True, help="T, seconds")
    p.add_argument("--title", default="copybench soak")
    a = p.parse_args(argv)
    try:
        series = read_series(a.samples, NEEDED)
        idle = read_series(a.quiesce, NEEDED[:3]) if a.quiesce else {}
    except (OSError, ValueError) as e:
        print(f"soak_plot.py: {e}", file=sys.stderr)
        return 2
    if not series:
        print(f"soak_plot.py: {a.samples}: no samples", file=sys.stderr)
        return 1
    try:
        draw(series, idle, a.out, a.window, a.duration, a.title)
    except ImportError:
        print("soak_plot.py: no matplotlib in this Python: install python3-matplotlib "
              "(apt-get install python3-matplotlib) and run it with /usr/bin/python3", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
