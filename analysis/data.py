"""Reading a copybench results CSV and the small pure helpers every figure and answer uses.

Nothing here draws or prints: plots.py (figures, summary.md) and analysis/report.py (report.md)
both build on these functions. Empty CSV cells are None and stay None: a counter the machine could
not count is missing data, never a zero.
"""
import csv
import math
import os
import re
import statistics

# The columns run_experiments.sh writes; a CSV lacking any of them is not a results file.
COLUMNS = (
    "impl,mode,msg_size,threads,rep,duration_s,throughput_gbps,msgs_per_s,lat_p50_us,lat_p99_us,"
    "lat_max_us,cycles,instructions,l1d_misses,llc_misses,context_switches,cpu_migrations,task_clock_ms,"
    "cycles_per_byte,cpu_ns_per_byte,zc_sends,zc_completions,zc_copied,verify_errors,client_cpu_pct,"
    "steal_pct,netns"
).split(",")
TEXT_COLUMNS = {"impl", "mode"}
INT_COLUMNS = {"msg_size", "threads", "rep"}
# Columns later versions of the sweep may add: numbers when they are numbers; everything else
# (pin, path, server_host, client_host, ...) is kept as text, empty cells as None.
OPTIONAL_NUMERIC = {"zc_copied_pct", "mtu", "server_cpu_pct", "footprint_bytes", "send_cpu_ns_per_byte"}
HW_COUNTERS = ("cycles", "instructions", "l1d_misses", "llc_misses")
SW_COUNTERS = ("context_switches", "cpu_migrations", "task_clock_ms")
IMPL_NAMES = {"A1": "A1 two-copy", "A2": "A2 one-copy (sendmsg iovec)", "A3": "A3 zero-copy (MSG_ZEROCOPY)",
              "A4": "A4 zero-copy (io_uring)"}
# Nominal copies of the payload made by the sender (user->user, user->kernel); A3 makes none when
# the device reads the user pages itself.
NOMINAL_COPIES = {"A1": 2, "A2": 1, "A3": 0, "A4": 0}
FIELDS_PER_MESSAGE = 8  # the message is 8 separately malloc'd fields (see README)


class InputError(Exception):
    """The CSV cannot be used (exit 2)."""


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
            numeric = col in COLUMNS and col not in TEXT_COLUMNS or col in OPTIONAL_NUMERIC
            if cell == "" and col not in TEXT_COLUMNS:
                row[col] = None
            elif not numeric:
                row[col] = cell
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


def load_many(paths, machine=None):
    """Several results CSVs as one: (rows, info). With one CSV: its rows and machine file
    (machine, when given, instead of the side file). With several, each CSV's rows get the
    network path they crossed (its path column, else what its machine file or netns column
    says: path_of), so the figures overlay the CSVs by path; info merges the machine files (a key
    whose values differ lists each, ' | ' between them), says which file was which path
    (info['inputs']) and which paths several files share (info['pooled'], their rows pooled)."""
    if len(paths) == 1:
        return load_rows(paths[0]), read_machine(machine or machine_file_for(paths[0]))
    rows, infos, by_path = [], [], {}
    inputs = []
    for p in paths:
        part = load_rows(p)
        info = read_machine(machine_file_for(p))
        path = path_of(part, info)
        for r in part:
            if not r.get("path"):
                r["path"] = path
        rows += part
        infos.append(info)
        mine = distinct(part, "path")
        inputs.append(f"{p} ({', '.join(mine)})")
        for q in mine:
            by_path.setdefault(q, []).append(p)
    merged = {}
    for info in infos:
        for k, v in info.items():
            vals = merged.setdefault(k, [])
            if v not in vals:
                vals.append(v)
    info = {k: " | ".join(v) for k, v in merged.items()}
    info["inputs"] = "; ".join(inputs)
    pooled = [f"{q} ({', '.join(names)})" for q, names in by_path.items() if len(names) > 1]
    if pooled:
        info["pooled"] = "; ".join(pooled)
    return rows, info


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


# ----------------------------------------------------------------------------------------------
# selecting and summarizing

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


def median_of(rows, col, **match):
    s = summarize(values(rows, col, **match))
    return s[0] if s else None


def distinct(rows, col, **match):
    return sorted({r[col] for r in rows if all(r.get(k) == v for k, v in match.items()) and r.get(col) is not None})


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


def geomean(vals):
    vals = [v for v in vals if v is not None and v > 0]
    if not vals:
        return None
    return math.exp(sum(math.log(v) for v in vals) / len(vals))


# ----------------------------------------------------------------------------------------------
# per-byte normalization

def server_bytes(r):
    """Bytes the server sent over its whole life: the window perf counted in. The sweep writes
    cpu_ns_per_byte = task_clock_ms * 1e6 / bytes (and cycles_per_byte = cycles / bytes), so the
    server's byte count is recovered exactly from either pair; None when neither is there."""
    if r.get("task_clock_ms") and r.get("cpu_ns_per_byte"):
        return r["task_clock_ms"] * 1e6 / r["cpu_ns_per_byte"]
    if r.get("cycles") and r.get("cycles_per_byte"):
        return r["cycles"] / r["cycles_per_byte"]
    return None


def per_server_bytes(counter, unit_bytes):
    """Row function: counter per unit_bytes the server sent (None when either is missing)."""
    def fn(r):
        b = server_bytes(r)
        if r.get(counter) is None or not b:
            return None
        return r[counter] / (b / unit_bytes)
    return fn


def with_derived(rows):
    """Rows plus the derived columns the figures and the report share:
    l1d_per_kib, llc_per_kib (misses per KiB the server sent), cs_per_mib (server context switches
    per MiB sent), zc_copied_share (% of A3's or A4's completions the kernel copied), queue_kib (Little's law:
    stream one-way p50 x per-connection rate = KiB in flight per connection)."""
    out = derived(rows, "l1d_per_kib", per_server_bytes("l1d_misses", 1024))
    out = derived(out, "llc_per_kib", per_server_bytes("llc_misses", 1024))
    out = derived(out, "cs_per_mib", per_server_bytes("context_switches", 1 << 20))
    out = derived(out, "zc_copied_share", zc_copied_share)
    out = derived(out, "queue_kib", little_queue_kib)
    return out


def zc_copied_share(r):
    if r["impl"] not in ("A3", "A4") or r.get("zc_copied") is None or not r.get("zc_completions"):
        return None
    return 100.0 * r["zc_copied"] / r["zc_completions"]


def little_queue_kib(r):
    """Stream rows: KiB queued per connection by Little's law (one-way p50 x per-connection rate);
    a full pair of socket buffers shows as MiBs, an empty queue as a few KiB."""
    if r["mode"] != "stream" or r.get("lat_p50_us") is None or not r.get("throughput_gbps"):
        return None
    per_conn_bytes_per_s = r["throughput_gbps"] * 1e9 / 8 / r["threads"]
    return r["lat_p50_us"] * 1e-6 * per_conn_bytes_per_s / 1024


def one_way_valid_row(r):
    """A row's stream one-way latency needs one clock: False when its server and client ran on
    two different hosts (server_host/client_host columns)."""
    sh, ch = r.get("server_host"), r.get("client_host")
    return not (sh and ch and sh != ch)


def one_way_latency_valid(rows):
    """Stream one-way latency is valid for every row (one host, one clock)."""
    return all(one_way_valid_row(r) for r in rows)


# ----------------------------------------------------------------------------------------------
# comparisons the summary uses

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
        rs = []
        for th in distinct(rows, "threads", mode=mode, msg_size=size):
            ma = median_of(rows, metric, mode=mode, msg_size=size, threads=th, impl=a)
            mb = median_of(rows, metric, mode=mode, msg_size=size, threads=th, impl=b)
            if ma and mb and ma > 0 and mb > 0:
                rs.append(ma / mb)
        if rs:
            out[size] = geomean(rs)
    return out


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


def reps_per_config(rows):
    """(min, max) number of repetitions over the configurations."""
    counts = {}
    for r in rows:
        k = (r["impl"], r["mode"], r["msg_size"], r["threads"], r.get("path"))
        counts[k] = counts.get(k, 0) + 1
    return (min(counts.values()), max(counts.values())) if counts else (0, 0)


# ----------------------------------------------------------------------------------------------
# words

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


def conn_label(t, short=True):
    """What a thread count means here: the client opens one connection per thread."""
    if short:
        return f"{t} conn."
    return f"{t} connection{'s' if t != 1 else ''}"


def path_of(rows, info):
    """The network path the data crossed: the CSV's path column when present (one value), else
    the machine file's path/nic key, else netns=1 -> veth, netns=0 -> loopback."""
    paths = distinct(rows, "path")
    if len(paths) == 1:
        return paths[0]
    if len(paths) > 1:
        return "mixed (" + ", ".join(paths) + ")"
    if info.get("path"):
        return info["path"]
    netns = {r.get("netns") for r in rows}
    if netns == {1.0} or info.get("netns") == "1":
        return "veth"
    if netns == {0.0} or info.get("netns") == "0":
        return "loopback"
    return "unknown"


_TOPOLOGY = re.compile(r"(\d+) socket\(s\) x (\d+) core\(s\) x (\d+) thread\(s\)")


def cpu_count(info):
    """The CPUs the scheduler has: cpu_threads (a number, or lscpu's "S socket(s) x C core(s) x
    T thread(s)", as run_experiments.sh writes it), else cores; None when neither says."""
    ct = str(info.get("cpu_threads") or "").strip()
    m = _TOPOLOGY.fullmatch(ct)
    if m:
        return int(m[1]) * int(m[2]) * int(m[3])
    for v in (ct, str(info.get("cores") or "").strip()):
        if v.isdigit():
            return int(v)
    return None


def machine_label(info):
    """One line naming the machine: CPU, cores/threads, caches, memory, kernel, virtualization."""
    if not info:
        return "machine: unknown (no .machine.txt side file)"
    parts = [info.get("cpu_model", "unknown CPU")]
    cores, ct = info.get("cores"), info.get("cpu_threads")
    if ct and _TOPOLOGY.fullmatch(ct.strip()):
        parts.append(f"{cpu_count(info)} CPUs ({ct.strip()})")
    elif cores and ct and ct != cores:
        parts.append(f"{cores} cores / {ct} threads")
    elif cores:
        parts.append(f"{cores} cores")
    caches = [f"{name} {info[key]}" for key, name in (("l1d_cache", "L1d"), ("l2_cache", "L2"), ("l3_cache", "L3"))
              if info.get(key)]
    if caches:
        parts.append(" ".join(caches))
    if info.get("memory"):
        parts.append(f"{info['memory']} RAM")
    if info.get("kernel"):
        parts.append(info["kernel"])
    virt = info.get("virtualization")
    if virt and virt not in ("none", "unknown"):
        parts.append(f"virt: {virt}")
    else:
        parts.append("bare metal" if virt == "none" else "virt: unknown")
    return "machine: " + ", ".join(parts)


def run_label(info, rows):
    """One line with what a reader needs to judge the numbers: path, MTU, pinning, counters,
    steal, repetitions, date."""
    parts = []
    path = path_of(rows, info)
    where = {"veth": "netns+veth", "loopback": "loopback", "nic": "NIC between two hosts"}.get(path, path)
    if info.get("nic"):
        where += f" ({info['nic']})"
    parts.append(f"path: {where}")
    if info.get("mtu"):
        parts.append(f"MTU {info['mtu']}")
    pin = (info.get("pin") or "none").split(" ")[0]
    pins = {r.get("pin") for r in rows if r.get("pin")}
    if pins:
        pin = ", ".join(sorted(pins))
    parts.append("unpinned" if pin in ("none", "") else f"pinned server:client CPUs {pin}")
    hw = "yes" if any(has_data(rows, c) for c in HW_COUNTERS) else "no"
    parts.append(f"HW counters: {hw}")
    st = values(rows, "steal_pct")
    if st:
        parts.append(f"steal median {statistics.median(st):.2f}% max {max(st):.2f}%")
    lo, hi = reps_per_config(rows)
    parts.append(f"{lo} rep{'s' if lo != 1 else ''}" if lo == hi else f"{lo}-{hi} reps")
    if info.get("date"):
        parts.append(info["date"][:10])
    return ", ".join(parts)


# ----------------------------------------------------------------------------------------------
# profiles.csv (optional): where the CPU time went, per technique, size and side

PROFILE_COLUMNS = ("impl", "size", "side", "category", "share")
SENDER_SIDES = {"server", "sender", "send", "tx"}
RECEIVER_SIDES = {"client", "receiver", "recv", "receive", "rx"}


def _parse_size(text):
    t = text.strip().upper().rstrip("B").rstrip("I")
    mult = 1
    if t.endswith("K"):
        mult, t = 1024, t[:-1]
    elif t.endswith("M"):
        mult, t = 1 << 20, t[:-1]
    return int(float(t) * mult)


def _category_label(cat):
    """profiles.csv names categories by id (user_copy); the text uses their labels."""
    try:
        from analysis.profiles import CATEGORY_LABEL
    except ImportError:  # run as a script from elsewhere: ids stay ids
        return cat
    return CATEGORY_LABEL.get(cat, cat)


def parse_profiles(lines, name="profiles.csv"):
    """profiles.csv -> [{impl, size, side ('sender'|'receiver'|as written), category, share}]."""
    reader = csv.DictReader(lines)
    if reader.fieldnames is None:
        raise InputError(f"{name}: empty file")
    missing = [c for c in PROFILE_COLUMNS if c not in [f.strip() for f in reader.fieldnames]]
    if missing:
        raise InputError(f"{name}: missing column(s): {', '.join(missing)}")
    out = []
    for lineno, raw in enumerate(reader, start=2):
        r = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        try:
            size = _parse_size(r["size"])
            share = float(r["share"])
        except ValueError:
            raise InputError(f"{name}: line {lineno}: size '{r['size']}' or share '{r['share']}' is not a number")
        side = r["side"].lower()
        r["category"] = _category_label(r["category"])
        side = "sender" if side in SENDER_SIDES else "receiver" if side in RECEIVER_SIDES else side
        out.append({"impl": r["impl"], "size": size, "side": side, "category": r["category"], "share": share,
                    "threads": r.get("threads") or None})
    return out


def load_profiles(path):
    """None when the file does not exist (not measured in this run)."""
    if not path or not os.path.exists(path):
        return None
    try:
        with open(path, newline="") as f:
            return parse_profiles(f, name=path)
    except OSError as e:
        raise InputError(f"{path}: {e.strerror}")


def datapath_shares(profiles):
    """{(impl, size): {category: share}} of the sender's profiles, for the data-path figures."""
    out = {}
    for p in profiles or ():
        if p["side"] == "sender":
            out.setdefault((p["impl"], p["size"]), {})[p["category"]] = p["share"]
    return out or None


def profile_share(profiles, impl, size, category, side="sender"):
    for p in profiles or ():
        if p["impl"] == impl and p["size"] == size and p["side"] == side and p["category"] == category:
            return p["share"]
    return None
