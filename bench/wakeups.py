#!/usr/bin/env python3
"""Why the server's context switches per MiB jump from 1 to 2 connections and fall again by 8.

usage: bench/wakeups.py [--impl A1] [--size 16K] [--conns 1,2,8] [--rounds 3] [--duration 5]
                        [--out bench/wakeups.csv]

The sweep counts the server's context switches (perf stat). This records each one, and each wake-up
the server performs, to see what causes them: `perf record -e sched:sched_switch -e
sched:sched_wakeup` on the server, in the sweep's two network namespaces (veth), one client run of
--duration seconds per configuration. Per configuration, per MiB the server sent:

  switches             the server's threads leaving the CPU
  preempted            ... while still runnable (prev_state R): taken off the CPU, not blocked
  by_client            ... of those, the next task is the client (the receiver got the CPU)
  blocked              ... asleep by choice (prev_state S/D): a full socket, poll
  wakeups              client threads the server woke (the tracepoint fires in the waker)

Configurations: the --conns counts unpinned, as the sweep runs them; then 1 connection with server
and client pinned to one CPU (taskset 0 / 0) and to two (0 / 1): the same wake-ups, with and
without a receiver that can take the sender's CPU. The configurations alternate within each round.

Needs root and perf; uses setup_netns.sh with CB_NS_SERVER / CB_NS_CLIENT / CB_SUBNET (defaults
cb_wk_s, cb_wk_c, 10.78.0.0/24; the namespaces are removed at the end only when this made them)
and ports from CB_PORT_BASE (default 5401). Writes one CSV row per run (--out) and prints a
Markdown table of medians. Exit: 0 done, 1 a run failed, 2 usage error.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLUMNS = ("impl,size,conns,pin,round,mib,switches,preempted,by_client,blocked,wakeups,steal_pct,"
           "procs_running,date").split(",")
SWITCH = re.compile(r"prev_comm=(\S+) prev_pid=\d+ prev_prio=\d+ prev_state=(\S+) ==> next_comm=(\S+)")
WAKEUP = re.compile(r"sched_wakeup: comm=(\S+) ")


def die(msg, code=2):
    print(f"wakeups: {msg}", file=sys.stderr)
    sys.exit(code)


def parse_size(text):
    m = re.fullmatch(r"(\d+)([KkMm]?)", text)
    if not m:
        die(f"--size: '{text}' is not a size (bytes, or K/M suffix)")
    return int(m[1]) << {"": 0, "k": 10, "m": 20}[m[2].lower()]


def count_events(script_text, server, client):
    """Counts from `perf script` text of a server run: its switches by kind, the client wake-ups."""
    c = dict(switches=0, preempted=0, by_client=0, blocked=0, wakeups=0)
    for line in script_text.splitlines():
        m = SWITCH.search(line)
        if m:
            if m[1] != server:
                continue
            c["switches"] += 1
            if m[2].startswith("R"):
                c["preempted"] += 1
                c["by_client"] += m[3] == client
            else:
                c["blocked"] += 1
            continue
        m = WAKEUP.search(line)
        if m and m[1] == client:
            c["wakeups"] += 1
    return c


def cpu_times():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v[:8]), v[7]  # total, steal


def procs_running():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("procs_running"):
                return int(line.split()[1])
    return None


def one_run(a, conns, pin, port, work):
    """One client window against one server under perf record; returns the CSV row as a dict."""
    ns_s, ns_c = os.environ["CB_NS_SERVER"], os.environ["CB_NS_CLIENT"]
    server_ip = os.environ["CB_SERVER_IP"]
    data = os.path.join(work, "perf.data")
    sp, cp = (["taskset", "-c", pin.split(":")[0]], ["taskset", "-c", pin.split(":")[1]]) if pin else ([], [])
    srv = subprocess.Popen(["ip", "netns", "exec", ns_s, "perf", "record", "-q", "-e", "sched:sched_switch",
                            "-e", "sched:sched_wakeup", "-o", data, "--"] + sp
                           + [os.path.join(ROOT, f"{a.impl}_server"), "-p", str(port), "-q", "-n", str(conns)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = srv.stdout.readline()
    if not line.startswith("listening"):
        srv.kill()
        die(f"{a.impl}_server under perf record did not start: {line.strip() or srv.stderr.read().strip()}", 1)
    t0, s0 = cpu_times()
    cli = subprocess.Popen(["ip", "netns", "exec", ns_c] + cp
                           + [os.path.join(ROOT, f"{a.impl}_client"), "-H", server_ip, "-p", str(port), "-s",
                              str(a.size), "-t", str(conns), "-d", str(a.duration)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(a.duration / 2)
    running = procs_running()
    cout, cerr = cli.communicate(timeout=a.duration + 60)
    t1, s1 = cpu_times()
    sout, serr = srv.communicate(timeout=60)
    res = [x for x in sout.splitlines() if x.startswith("result ")]
    if cli.returncode != 0 or srv.returncode != 0 or not res:
        die(f"run {a.impl} {conns} conn. pin {pin or 'none'} failed: client exit {cli.returncode} "
            f"({cerr.strip()[-200:]}), server exit {srv.returncode} ({serr.strip()[-200:]})", 1)
    nbytes = int(re.search(r" bytes=(\d+)", res[-1])[1])
    script = subprocess.run(["perf", "script", "-i", data, "-F", "comm,event,trace"], capture_output=True,
                            text=True, check=True).stdout
    c = count_events(script, f"{a.impl}_server", f"{a.impl}_client")
    return dict(impl=a.impl, size=a.size, conns=conns, pin=pin or "none", mib=nbytes / (1 << 20),
                date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                steal_pct=100.0 * (s1 - s0) / max(1, t1 - t0), procs_running=running, **c)


def table(rows):
    out = ["| connections | pin server:client | MiB/s | switches per MiB | preempted | ... by the client "
           "| blocked | client wake-ups per MiB |", "|---|---|---|---|---|---|---|---|"]
    keys = []
    for r in rows:
        if (r["conns"], r["pin"]) not in keys:
            keys.append((r["conns"], r["pin"]))
    for conns, pin in keys:
        sel = [r for r in rows if r["conns"] == conns and r["pin"] == pin]

        def med(k):
            return statistics.median(r[k] / r["mib"] for r in sel)
        rate = statistics.median(r["mib"] for r in sel)
        out.append(f"| {conns} | {pin} | {rate / sel[0]['duration']:.0f} | {med('switches'):.2f} | "
                   f"{med('preempted'):.2f} | {med('by_client'):.2f} | {med('blocked'):.3f} | {med('wakeups'):.2f} |")
    return out


def main():
    ap = argparse.ArgumentParser(prog="bench/wakeups.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--impl", default="A1", choices=("A1", "A2", "A3"))
    ap.add_argument("--size", default="16K")
    ap.add_argument("--conns", default="1,2,8")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "wakeups.csv"))
    a = ap.parse_args()
    a.size = parse_size(a.size)
    try:
        conns = [int(x) for x in a.conns.split(",")]
    except ValueError:
        die(f"--conns: '{a.conns}' is not a comma-separated list of connection counts")
    if not all(1 <= c <= 64 for c in conns) or not 1 <= a.rounds <= 50 or not 0.5 <= a.duration <= 60:
        die("--conns 1..64 each, --rounds 1..50, --duration 0.5..60")
    if os.geteuid() != 0:
        die("needs root (network namespaces, perf sched tracepoints)")
    os.environ.setdefault("CB_NS_SERVER", "cb_wk_s")
    os.environ.setdefault("CB_NS_CLIENT", "cb_wk_c")
    os.environ.setdefault("CB_SUBNET", "10.78.0.0/24")
    net = os.environ["CB_SUBNET"].split("/")[0].rsplit(".", 1)[0]
    os.environ["CB_SERVER_IP"] = f"{net}.1"
    setup = os.path.join(ROOT, "setup_netns.sh")
    existed = subprocess.run([setup, "status"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    subprocess.run([setup, "up"], check=True, stdout=subprocess.DEVNULL)
    port = int(os.environ.get("CB_PORT_BASE", "5401"))
    work = os.path.join("/tmp", f"cb_wakeups.{os.getpid()}")
    os.makedirs(work, exist_ok=True)
    plan = [(c, None) for c in conns] + [(1, "0:0"), (1, "0:1")]
    rows = []
    try:
        for rnd in range(1, a.rounds + 1):
            for c, pin in plan:
                port += 1
                r = one_run(a, c, pin, port, work)
                r["round"] = rnd
                r["duration"] = a.duration
                rows.append(r)
                print(f"wakeups: round {rnd}: {c} conn., pin {r['pin']}: {r['switches'] / r['mib']:.2f} switches "
                      f"per MiB, steal {r['steal_pct']:.2f}%", file=sys.stderr)
    finally:
        subprocess.run(["rm", "-rf", work])
        if not existed:
            subprocess.run([setup, "down"], stdout=subprocess.DEVNULL)
    with open(a.out, "w") as f:
        f.write(",".join(COLUMNS) + "\n")
        for r in rows:
            f.write(",".join(f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k]) for k in COLUMNS) + "\n")
    print(f"{a.impl}, {a.size} B messages, {a.duration:g} s per run, {a.rounds} rounds; medians:")
    print("\n".join(table(rows)))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
