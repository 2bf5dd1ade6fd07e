#!/usr/bin/env python3
"""The sweep's plan and its time estimate, as a sum over phases.

run_experiments.sh says each phase it will run on one line of stdin, tab-separated:

    NAME  RUNS  SECONDS_EACH  OVERHEAD_EACH  WHAT

(a fixed-cost phase such as the plots is RUNS 1, SECONDS_EACH 0 and its cost as the overhead).
This prints one line per phase and the total, e.g.

    phase     runs   each   time  what
    stream      96   5.6s  8m58s  A1,A2,A3 x 4 sizes x 4 thread counts x 2 reps, 5 s windows
    ...
    total                 21m40s

A new phase joins the estimate by printing one more line: nothing here knows the phase names.
Exit 2 (one line) on a malformed line. Tested in tests/t_options.sh.
"""
import sys


def fmt_dur(seconds):
    """1h02m, 12m30s, 45s, as run_experiments.sh prints durations."""
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def parse(lines):
    """[(name, runs, each_s, what)] from the phase lines; ValueError names the bad line."""
    phases = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        cells = line.rstrip("\n").split("\t")
        if len(cells) != 5:
            raise ValueError(f"line {n}: want NAME RUNS SECONDS OVERHEAD WHAT, tab-separated: {line.strip()!r}")
        name, runs, secs, over, what = cells
        try:
            runs, secs, over = int(runs), float(secs), float(over)
        except ValueError:
            raise ValueError(f"line {n}: RUNS, SECONDS and OVERHEAD must be numbers: {line.strip()!r}") from None
        if runs < 0 or secs < 0 or over < 0:
            raise ValueError(f"line {n}: negative count or time: {line.strip()!r}")
        phases.append((name, runs, secs + over, what))
    return phases


def render(phases):
    rows = [("phase", "runs", "each", "time", "what")]
    total = 0.0
    for name, runs, each, what in phases:
        t = runs * each
        total += t
        rows.append((name, str(runs), f"{each:.1f}s", fmt_dur(t), what))
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    out = [f"{r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:>{w[2]}}  {r[3]:>{w[3]}}  {r[4]}".rstrip() for r in rows]
    out.append(f"{'total':<{w[0]}}  {'':>{w[1]}}  {'':>{w[2]}}  {fmt_dur(total):>{w[3]}}")
    return out, total


def main():
    try:
        phases = parse(sys.stdin.readlines())
    except ValueError as e:
        print(f"plan.py: {e}", file=sys.stderr)
        return 2
    lines, _ = render(phases)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
