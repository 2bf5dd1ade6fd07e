#!/usr/bin/env python3
"""The numbers oracle: every figure of a copybench result line checked against what fixes it.

usage:
  numbers.py line CLIENT_LINE [--server LINE] [--server-log FILE] [--duration D] [--copied-all]
      The client line's own arithmetic, to the precision it is printed with; with --server, the
      server's line against it; with --server-log (the server's stderr, not -q), the server's
      totals against the sum of its per-connection "done:"/"ended:" lines; with --copied-all
      (loopback, veth), every zero-copy completion a server reports flagged copied.
  numbers.py kernel --counts FILE --port P --client LINE --server LINE --server-log FILE
      The kernel's own counts (TCP_INFO, read by tests/tools/tcp_count.so as each socket was
      closed) against the client's total_bytes and the server's bytes, in sum and per connection.
  numbers.py rate --samples FILE --counts FILE --port P --duration D --client LINE
      The client's gbps against a rate the test computes from the kernel's counts sampled on its
      own clock (tests/tools/tcp_sampler.py), within what the window's two edges leave open;
      exit 3 when the looks cannot place the window.
  numbers.py sweep --csv FILE --log FILE --reps N --task-clock-ms X [--cycles N]
      Every row of a sweep's CSV against the result lines the programs printed for it (logged
      by tests/tools/fake_numbers.py); the rep numbers; the per-byte columns recomputed.
  numbers.py batch FILE
      Many of the above, one per line (see cmd_batch): one Python start for a test file.

Each prints one line per failed check ("numbers: ...") and exits 1 if any failed, else prints
"numbers: N checks" and exits 0. The derivation of every bound is in docs/reliability.md
("What the numbers are checked against").
"""
import argparse
import contextlib
import csv
import io
import math
import re
import sys

# Printed precision of the client's fields (src/client.c): duration_s and gbps with 3 decimals,
# msgs_per_s with none. A printed value v stands for a true one within half a unit of its last
# digit; a relative 1e-12 more covers the binary rounding of the formatting itself.
HALF = {"duration_s": 0.0005, "gbps": 0.0005, "msgs_per_s": 0.5}
EPS = 1e-12
REPLY = 16      # the hello reply: read by the client, not counted in total_bytes
FIN = 1         # the server's FIN takes one sequence number: counted by the kernel as a byte
HELLO, START, REQUEST = 24, 8, 16
RECV_CHUNK = 65536  # the most one recv() of the client reads (its result line says recv_chunk)


class Checks:
    def __init__(self):
        self.n = 0
        self.failed = []

    def that(self, cond, what):
        self.n += 1
        if not cond:
            self.failed.append(what)
        return cond

    def done(self):
        for f in self.failed:
            print(f"numbers: FAIL {f}")
        if not self.failed:
            print(f"numbers: {self.n} checks")
        return 1 if self.failed else 0


def fields(line):
    out = {}
    for w in line.split():
        if "=" in w:
            k, v = w.split("=", 1)
            out[k] = v
    return out


def printed_interval(value, key):
    """The true values a printed field stands for."""
    return value - HALF[key], value + HALF[key]


def check_client(c, cl, duration=None):
    size, threads = int(cl["size"]), int(cl["threads"])
    D = float(cl["duration_s"])
    B, M, T = int(cl["bytes"]), int(cl["messages"]), int(cl["total_bytes"])
    if duration is not None:
        c.that(cl["duration_s"] == f"{duration:.3f}", f"duration_s={cl['duration_s']}, the window asked for is {duration:.3f}")
    if not c.that(D > 0, f"duration_s={D}: the window never opened"):
        return
    dlo, dhi = printed_interval(D, "duration_s")
    # gbps = bytes x 8 / duration / 1e9, computed with the unrounded duration, then printed
    g = float(cl["gbps"])
    lo = B * 8 / dhi / 1e9 - HALF["gbps"]
    hi = B * 8 / dlo / 1e9 + HALF["gbps"]
    c.that(lo * (1 - EPS) <= g <= hi * (1 + EPS),
           f"gbps={cl['gbps']} but bytes x 8 / duration_s / 1e9 lies in [{lo:.6f}, {hi:.6f}] "
           f"(bytes={B}, duration_s={cl['duration_s']})")
    r = float(cl["msgs_per_s"])
    lo, hi = M / dhi - HALF["msgs_per_s"], M / dlo + HALF["msgs_per_s"]
    c.that(lo * (1 - EPS) <= r <= hi * (1 + EPS),
           f"msgs_per_s={cl['msgs_per_s']} but messages / duration_s lies in [{lo:.3f}, {hi:.3f}]")
    c.that(B == M * size, f"bytes={B} is not messages x size = {M} x {size} = {M * size}")
    c.that(T >= B, f"total_bytes={T} < bytes={B}")
    c.that(int(cl["min_conn_messages"]) * threads <= M,
           f"min_conn_messages={cl['min_conn_messages']} x threads={threads} > messages={M}")
    c.that(int(cl["lat_samples"]) == M, f"lat_samples={cl['lat_samples']} != messages={M}")
    c.that(cl["recv_chunk"] == str(RECV_CHUNK), f"recv_chunk={cl['recv_chunk']}, the bounds here assume {RECV_CHUNK}")
    if M:
        p50, p99, mx = float(cl["lat_p50_us"]), float(cl["lat_p99_us"]), float(cl["lat_max_us"])
        c.that(0 <= p50 <= p99 <= mx, f"not 0 <= p50 <= p99 <= max: {p50} {p99} {mx}")
    for k in ("early_messages", "verify_errors", "errors"):
        c.that(cl[k] == "0", f"{k}={cl[k]}")
    c.that(float(cl["cpu_pct"]) >= 0, f"cpu_pct={cl['cpu_pct']}")


CONN_RE = re.compile(r"client \S+:(\d+): (?:done: (\d+) messages, (\d+) bytes sent"
                     r"|ended: .*\((\d+) messages, (\d+) bytes sent\))")


def per_connection(log):
    """{peer port: (messages, bytes)} from the server's per-connection lines."""
    conns = {}
    for line in log.splitlines():
        m = CONN_RE.search(line)
        if m:
            port = int(m.group(1))
            msgs, byts = (m.group(2), m.group(3)) if m.group(2) else (m.group(4), m.group(5))
            conns[port] = (int(msgs), int(byts))
    return conns


def check_server(c, sv, cl=None, log=None, copied_all=False):
    for k in ("errors", "rejected"):
        c.that(sv.get(k) == "0", f"server {k}={sv.get(k)}")
    SB, SM = int(sv["bytes"]), int(sv["messages"])
    clients = int(sv["clients"])
    if cl is not None:
        size, threads = int(cl["size"]), int(cl["threads"])
        c.that(clients == threads, f"server clients={clients}, client threads={threads}")
        c.that(SB == int(cl["total_bytes"]), f"server bytes={SB} != client total_bytes={cl['total_bytes']}")
        # every whole message the client counted, the server sent; the server's part of a message
        # it was cut in (none on a clean end) is < size per connection
        c.that(SM >= int(cl["messages"]), f"server messages={SM} < client messages={cl['messages']}")
        c.that(SM * size <= SB < (SM + clients) * size,
               f"server bytes={SB} not in [messages x size, (messages + clients) x size) = [{SM * size}, {(SM + clients) * size})")
        if cl["mode"] == "rr":
            # a reply that completes after the window may or may not be counted: one per connection
            c.that(int(cl["messages"]) >= SM - threads,
                   f"rr: client messages={cl['messages']} < server messages={SM} - threads={threads}")
    if log is not None:
        conns = per_connection(log)
        c.that(len(conns) == clients, f"{len(conns)} per-connection lines for clients={clients}")
        c.that(sum(m for m, _ in conns.values()) == SM,
               f"per-connection messages sum to {sum(m for m, _ in conns.values())}, server messages={SM}")
        c.that(sum(b for _, b in conns.values()) == SB,
               f"per-connection bytes sum to {sum(b for _, b in conns.values())}, server bytes={SB}")
    if "zc_sends" in sv:
        zs, zc, zcp = int(sv["zc_sends"]), int(sv["zc_completions"]), int(sv["zc_copied"])
        c.that(zc == zs, f"zc_completions={zc} != zc_sends={zs}")
        c.that(zcp <= zc, f"zc_copied={zcp} > zc_completions={zc}")
        c.that(sv["zc_missing"] == "0" and sv["zc_bogus"] == "0",
               f"zc_missing={sv['zc_missing']} zc_bogus={sv['zc_bogus']}")
        if copied_all:
            # loopback and veth: the kernel copies every zero-copy send for the local receiver
            # and flags each completion SO_EE_CODE_ZEROCOPY_COPIED
            c.that(zcp == zc, f"zc_copied={zcp} != zc_completions={zc}: here the kernel copies every one")


def cmd_line(a):
    c = Checks()
    cl = fields(a.client)
    check_client(c, cl, a.duration)
    if a.server or a.server_log:
        log = open(a.server_log).read() if a.server_log else None
        check_server(c, fields(a.server), cl, log, a.copied_all)
    return c.done()


def read_counts(path, port):
    """The shim's lines: client sockets {lport: line}, server sockets {rport: line}."""
    cli, srv = {}, {}
    for line in open(path):
        f = fields(line)
        if not line.startswith("tcp ") or "lport" not in f:
            continue
        f = {k: int(v) for k, v in f.items()}
        if f["rport"] == port and f["lport"]:
            cli[f["lport"]] = f
        elif f["lport"] == port and f["rport"]:
            srv[f["rport"]] = f
    return cli, srv


def cmd_kernel(a):
    c = Checks()
    cl, sv = fields(a.client), fields(a.server)
    cli, srv = read_counts(a.counts, a.port)
    conns = per_connection(open(a.server_log).read())
    threads = int(cl["threads"])
    rr = cl["mode"] == "rr"
    c.that(len(cli) == threads, f"{len(cli)} client sockets counted at close, threads={threads}")
    c.that(len(srv) == threads, f"{len(srv)} server sockets counted at close, threads={threads}")
    # what the client's sockets received = the reply + what the client read + what it left unread
    # + the server's FIN
    unread = sum(s["inq"] for s in cli.values())
    kernel_rx = sum(s["bytes_received"] for s in cli.values())
    c.that(kernel_rx == int(cl["total_bytes"]) + threads * (REPLY + FIN) + unread,
           f"kernel: the client's sockets received {kernel_rx} B; total_bytes={cl['total_bytes']} + "
           f"{threads} x ({REPLY} reply + {FIN} FIN) + {unread} unread = "
           f"{int(cl['total_bytes']) + threads * (REPLY + FIN) + unread}")
    kernel_acked = sum(s["bytes_acked"] for s in srv.values())
    c.that(kernel_acked == int(sv["bytes"]) + threads * (REPLY + FIN),
           f"kernel: the server's sockets had {kernel_acked} B acknowledged; server bytes={sv['bytes']} + "
           f"{threads} x ({REPLY} reply + {FIN} FIN) = {int(sv['bytes']) + threads * (REPLY + FIN)}")
    for port, (msgs, byts) in sorted(conns.items()):
        s, k = srv.get(port), cli.get(port)
        if not c.that(s is not None and k is not None, f"connection from port {port}: no kernel count on both ends"):
            continue
        c.that(s["bytes_acked"] == byts + REPLY + FIN,
               f"port {port}: server socket bytes_acked={s['bytes_acked']}, its line says {byts} bytes sent (+{REPLY + FIN})")
        c.that(k["bytes_received"] - k["inq"] == byts + REPLY + FIN,
               f"port {port}: client socket bytes_received={k['bytes_received']} (inq {k['inq']}), the server sent {byts} (+{REPLY + FIN})")
        # what the server's socket received: hello, start, one request per reply (rr), the client's FIN
        want = HELLO + START + FIN + (REQUEST * msgs if rr else 0)
        c.that(s["bytes_received"] == want,
               f"port {port}: server socket received {s['bytes_received']} B, want hello+start+FIN"
               f"{' + 16 x ' + str(msgs) + ' requests' if rr else ''} = {want}")
    return c.done()


def cmd_rate(a):
    """
    What the program had read at an instant is bytes_received - rqueue; the kernel reads rqueue
    first, bytes_received just after (data may land between), so one look's difference may
    overstate it, never understate it.

    The window [t0, e], e = t0 + D, is placed on the test's clock by the looks: t0 comes after
    a look that saw some hello reply not yet read by the program (the client stamps t0 once it
    has read every reply) and before the first look that saw data (the server sends nothing
    before the client's start, sent after t0). Every look read its counts between its T0 and
    T1. So e lies in (r.T0 + D, j.T1 + D).
    Upper bound: the client counted only what recv calls returned before e, at most what the
    program had read at e, at most the difference of the first look starting after j.T1 + D
    (none: the counts at close).
    Lower bound: what the program had read when the last look ending before r.T0 + D read its
    rqueue is at least the previous look's bytes_received less this look's rqueue; of it the
    client may not count, per connection, one recv in progress (recv_chunk) and a message not
    yet whole (size - 1). Both less the 16-byte reply.
    """
    c = Checks()
    cl = fields(a.client)
    n, size, D = int(cl["threads"]), int(cl["size"]), a.duration
    looks = []
    for line in open(a.samples):
        w = line.split()
        socks = {}
        for s in w[3:]:
            p, b, q = (int(x) for x in s.split(":"))
            socks[p] = (b, q)
        looks.append((float(w[0]), float(w[1]), socks))
    final, _ = read_counts(a.counts, a.port)
    # Looks that cannot place the window (the sampler not scheduled at the right moments) leave
    # the rate unjudged: exit 3, which the test reports as a skip with this reason.
    first_data = next((i for i, (_, _, s) in enumerate(looks) if sum(b for b, _ in s.values()) > n * REPLY), None)
    if first_data is None:
        print(f"numbers: cannot place the window: none of {len(looks)} looks saw data arrive")
        return 3
    # a reply the program had not read yet (bytes_received - rqueue overstates what it had read)
    before = [i for i in range(first_data)
              if len(looks[i][2]) < n or any(b - q < REPLY for b, q in looks[i][2].values())]
    if not before:
        print("numbers: cannot place the window: no look before it (the sampler started late)")
        return 3
    r, j = looks[before[-1]], looks[first_data]
    e_lo, e_hi = r[0] + D, j[1] + D
    ia = max(i for i, lk in enumerate(looks) if lk[1] <= e_lo)
    la, prev = looks[ia][2], looks[ia - 1][2] if ia > 0 else {}
    lb = next((lk[2] for lk in looks if lk[0] >= e_hi), {})
    low = sum(prev.get(p, (0, 0))[0] - q for p, (_, q) in la.items()) - n * (REPLY + RECV_CHUNK + size - 1)
    high = -n * REPLY
    for port in set(final) | set(lb):
        b, q = lb[port] if port in lb else (final[port]["bytes_received"], final[port]["inq"])
        high += b - q
    B = int(cl["bytes"])
    rate_lo, rate_hi = max(low, 0) * 8 / D / 1e9, high * 8 / D / 1e9
    g = float(cl["gbps"])
    print(f"numbers: the window opened between {r[0]:.6f} and {j[1]:.6f} s on the test's clock; "
          f"the kernel's counts give {rate_lo:.3f} .. {rate_hi:.3f} Gbit/s over it; the client said {cl['gbps']}")
    c.that(rate_lo - HALF["gbps"] <= g <= rate_hi + HALF["gbps"],
           f"gbps={g} outside the kernel's [{rate_lo:.4f}, {rate_hi:.4f}] Gbit/s over the {D} s window")
    c.that(max(low, 0) <= B <= high, f"bytes={B} outside the kernel's [{low}, {high}]")
    return c.done()


def half_unit_6g(x):
    """Half a unit in the 6th significant digit (printf %.6g)."""
    if x == 0:
        return 0
    return 0.5 * 10 ** (math.floor(math.log10(abs(x))) - 5)


def cmd_sweep(a):
    c = Checks()
    rows = list(csv.DictReader(open(a.csv)))
    cli, srv = [], []
    for line in open(a.log):
        side, _, rest = line.rstrip("\n").partition(" ")
        (cli if side == "client" else srv).append(fields(rest))
    c.that(len(rows) == len(cli) == len(srv),
           f"{len(rows)} rows, {len(cli)} client and {len(srv)} server result lines printed")
    configs = {}
    for i, (row, cl, sv) in enumerate(zip(rows, cli, srv)):
        at = f"row {i + 1} ({row.get('impl')} {row.get('mode')} rep {row.get('rep')})"
        for col, key in (("impl", "impl"), ("mode", "mode"), ("msg_size", "size"), ("threads", "threads"),
                         ("duration_s", "duration_s"), ("throughput_gbps", "gbps"),
                         ("msgs_per_s", "msgs_per_s"), ("lat_p50_us", "lat_p50_us"),
                         ("lat_p99_us", "lat_p99_us"), ("lat_max_us", "lat_max_us"),
                         ("verify_errors", "verify_errors"), ("client_cpu_pct", "cpu_pct")):
            c.that(row.get(col) == cl.get(key), f"{at}: {col}={row.get(col)!r}, the client said {key}={cl.get(key)!r}")
        for col in ("zc_sends", "zc_completions", "zc_copied"):
            c.that(row.get(col) == sv.get(col, ""), f"{at}: {col}={row.get(col)!r}, the server said {sv.get(col, '')!r}")
        if "zc_completions" in sv:
            want = f"{100 * int(sv['zc_copied']) / int(sv['zc_completions']):.2f}"
            c.that(row.get("zc_copied_pct") == want, f"{at}: zc_copied_pct={row.get('zc_copied_pct')!r}, want {want}")
        else:
            c.that(row.get("zc_copied_pct") == "", f"{at}: zc_copied_pct={row.get('zc_copied_pct')!r} without zero-copy")
        sbytes = int(sv["bytes"])
        c.that(float(row.get("task_clock_ms") or "nan") == a.task_clock_ms,
               f"{at}: task_clock_ms={row.get('task_clock_ms')!r}, perf said {a.task_clock_ms}")
        per_byte = [("cpu_ns_per_byte", row.get("task_clock_ms"), 1e6), ("cycles_per_byte", row.get("cycles"), 1)]
        if "send_cpu_ns_per_byte" in row:
            per_byte.append(("send_cpu_ns_per_byte", sv.get("send_cpu_s"), 1e9))
        if "footprint_bytes" in row:
            # the main grid sends from one message: its footprint is the message size
            c.that(row["footprint_bytes"] == row.get("msg_size"),
                   f"{at}: footprint_bytes={row['footprint_bytes']!r}, msg_size={row.get('msg_size')!r}")
        for col, raw, scale in per_byte:
            if raw in (None, ""):
                c.that(row.get(col) == "", f"{at}: {col}={row.get(col)!r} without its raw count")
                continue
            exact = float(raw) * scale / sbytes
            got = float(row.get(col) or "nan")
            c.that(abs(got - exact) <= half_unit_6g(exact) * (1 + 1e-9),
                   f"{at}: {col}={row.get(col)!r}, {raw} x {scale:g} / server bytes {sbytes} = {exact:.9g}")
        if a.cycles is not None:
            c.that(row.get("cycles") == str(a.cycles), f"{at}: cycles={row.get('cycles')!r}, perf said {a.cycles}")
        key = (row.get("impl"), row.get("mode"), row.get("msg_size"), row.get("threads"), row.get("footprint_bytes", ""))
        configs.setdefault(key, []).append(row.get("rep"))
    for key, reps in sorted(configs.items()):
        c.that(sorted(reps, key=lambda x: int(x or 0)) == [str(i) for i in range(1, a.reps + 1)],
               f"{' '.join(k for k in key if k)}: reps {reps}, want 1..{a.reps} once each")
    return c.done()


def parser():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("line")
    p.add_argument("client")
    p.add_argument("--server", default="")
    p.add_argument("--server-log")
    p.add_argument("--duration", type=float)
    p.add_argument("--copied-all", action="store_true")
    p = sub.add_parser("kernel")
    for k in ("--counts", "--client", "--server", "--server-log"):
        p.add_argument(k, required=True)
    p.add_argument("--port", type=int, required=True)
    p = sub.add_parser("rate")
    for k in ("--samples", "--counts", "--client"):
        p.add_argument(k, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--duration", type=float, required=True)
    p = sub.add_parser("sweep")
    p.add_argument("--csv", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--reps", type=int, required=True)
    p.add_argument("--task-clock-ms", type=float, required=True)
    p.add_argument("--cycles", type=int)
    p = sub.add_parser("batch")
    p.add_argument("file")
    return ap


def run(argv):
    a = parser().parse_args(argv)
    if a.cmd == "batch":
        return cmd_batch(a)
    try:
        return {"line": cmd_line, "kernel": cmd_kernel, "rate": cmd_rate, "sweep": cmd_sweep}[a.cmd](a)
    except (KeyError, ValueError, OSError) as e:
        print(f"numbers: FAIL cannot read the input: {type(e).__name__}: {e}")
        return 1


def cmd_batch(a):
    """
    One check per line of FILE: DESCRIPTION, then the arguments of one of the commands above,
    separated by tabs; a description starting with "!" is a check that must fail (the checker's
    own tests: doctored input). Prints "ok DESCRIPTION" or "not ok DESCRIPTION" and the
    findings under it, for tests/lib.sh's numbers_run (one Python start for a test file).
    """
    failed = 0
    for line in open(a.file):
        desc, *argv = line.rstrip("\n").split("\t")
        must_fail = desc.startswith("!")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                rc = run(argv)
            except SystemExit as e:        # argparse: bad arguments
                rc = 2 if must_fail else e.code or 1
        bad = rc == 0 if must_fail else rc != 0
        failed += bad
        print(("not ok " if bad else "ok ") + desc.lstrip("!"))
        if bad:
            msg = "it passed" if must_fail else out.getvalue()
            print("".join(f"#   {m}\n" for m in msg.splitlines()[:12]), end="")
    return 1 if failed else 0


def main():
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
