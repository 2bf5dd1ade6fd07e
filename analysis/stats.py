"""Comparing two techniques: paired ratios, their 95% interval, and what more repetitions would buy.

Within one repetition the sweep runs the techniques back to back for each configuration (A1, A2,
A3, then the next configuration), so repetition r of A1 and repetition r of A2 saw the same machine
state. The comparison uses exactly that pairing:

- paired ratio: a_r / b_r, one per repetition r that both techniques have (logs are averaged, so
  the central value is the geometric mean of the ratios);
- spread s: the standard deviation of log(a_r / b_r) around its configuration's mean, pooled over
  every configuration of that pair of techniques, metric and mode (one machine, one noise level;
  degrees of freedom: pairs - configurations);
- 95% interval of a ratio from N pairs: geometric mean x exp(+-t(df) s / sqrt(N)). "Measurably
  different" means the interval excludes 1. One configuration has N = repetitions; one message
  size, pooled over its connection counts, N = connection counts x repetitions.

The half-width exp(t s / sqrt(N)) - 1 is the detection limit: the smallest gap these repetitions
can call measurable. reps_needed inverts it for a gap one wants to show (95% two-sided, 80% power).
"""
from dataclasses import dataclass
import math

# Student's t, two-sided 95% (the 0.975 quantile), by degrees of freedom; between entries linear in
# 1/df, beyond the last the normal 1.960.
_T975 = ((1, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (5, 2.571), (6, 2.447), (7, 2.365), (8, 2.306),
         (9, 2.262), (10, 2.228), (12, 2.179), (15, 2.131), (20, 2.086), (25, 2.060), (30, 2.042), (40, 2.021),
         (60, 2.000), (120, 1.980))
Z975, Z80 = 1.960, 0.842


def t975(df):
    """The 0.975 quantile of Student's t with df degrees of freedom (df >= 1)."""
    if df < 1:
        raise ValueError("t975: df must be >= 1")
    for (d0, t0), (d1, t1) in zip(_T975, _T975[1:]):
        if d0 <= df <= d1:
            if df == d0:
                return t0
            w = (1 / df - 1 / d1) / (1 / d0 - 1 / d1)
            return t1 + w * (t0 - t1)
    d0, t0 = _T975[-1]
    w = (1 / df) / (1 / d0)
    return Z975 + w * (t0 - Z975)


def pair_logs(rows, a, b, metric, mode="stream"):
    """{(msg_size, threads): [log(a_r / b_r) for each repetition r both have]} over rows of one
    mode. Repetitions pair by their rep number; a rep a CSV holds twice (pooled inputs) pairs its
    first a with its first b, and so on."""
    runs = {}
    for r in rows:
        if r["mode"] != mode or r["impl"] not in (a, b) or r.get("rep") is None:
            continue
        v = r.get(metric)
        if v is None or v <= 0:
            continue
        k = (r["msg_size"], r["threads"], r["rep"])
        runs.setdefault(k, {a: [], b: []})[r["impl"]].append(v)
    out = {}
    for (size, threads, _), d in sorted(runs.items()):
        for x, y in zip(d[a], d[b]):
            out.setdefault((size, threads), []).append(math.log(x / y))
    return out


@dataclass
class Spread:
    s: float        # pooled standard deviation of a log ratio, one pair
    df: int         # degrees of freedom: pairs - configurations
    configs: int

    def half_width(self, n):
        """95% half-width of a mean over n pairs, as a fraction (0.047 = +-4.7%)."""
        if self.df < 1 or n < 1:
            return None
        return math.exp(t975(self.df) * self.s / math.sqrt(n)) - 1

    def reps_needed(self, gap, per_rep=1):
        """Repetitions for a true gap (0.02 = 2%) to come out measurable 4 times in 5 (95%
        two-sided, 80% power), with per_rep pairs per repetition (the connection counts pooled)."""
        if self.s <= 0 or gap <= 0:
            return 2
        pairs = ((Z975 + Z80) * self.s / math.log(1 + gap)) ** 2
        return max(2, math.ceil(pairs / per_rep))


def pooled_spread(logs):
    """Spread over {config: [log ratios]}; None when no configuration has two pairs."""
    ss, df, n = 0.0, 0, 0
    for v in logs.values():
        if len(v) < 2:
            continue
        m = sum(v) / len(v)
        ss += sum((x - m) ** 2 for x in v)
        df += len(v) - 1
        n += 1
    if df < 1:
        return None
    return Spread(math.sqrt(ss / df), df, n)


@dataclass
class Interval:
    """a / b on one metric: geometric mean of the paired ratios and its 95% interval."""
    a: str
    b: str
    ratio: float
    lo: float = None
    hi: float = None
    n: int = 0
    higher_better: bool = True

    @property
    def verdict(self):
        """'a' or 'b' (measurably better), 'tie' (the interval holds 1), 'unjudged' (no spread)."""
        if self.lo is None:
            return "unjudged"
        if self.lo <= 1 <= self.hi:
            return "tie"
        a_higher = self.lo > 1
        return "a" if a_higher == self.higher_better else "b"

    @property
    def pct(self):
        return (self.ratio - 1) * 100

    def fmt(self):
        """'x1.07 [1.02-1.12]', or 'x1.07' without an interval."""
        if self.lo is None:
            return f"x{self.ratio:.2f}"
        return f"x{self.ratio:.2f} [{self.lo:.2f}-{self.hi:.2f}]"


def interval(logs, spread, a, b, higher_better=True):
    """Interval from a list of log ratios (one configuration, or several pooled)."""
    if not logs:
        return None
    m = sum(logs) / len(logs)
    iv = Interval(a, b, math.exp(m), n=len(logs), higher_better=higher_better)
    h = spread.half_width(len(logs)) if spread else None
    if h is not None:
        lh = math.log(1 + h)
        iv.lo, iv.hi = math.exp(m - lh), math.exp(m + lh)
    return iv
