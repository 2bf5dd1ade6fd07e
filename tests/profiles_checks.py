#!/usr/bin/env python3
"""Unit checks of analysis/profiles.py on the recorded real perf script outputs in
tests/fixtures/profiles/ (see its README). Prints one line per check, "ok<TAB>what" or
"not ok<TAB>what<TAB>detail"; tests/t_profiles.sh turns them into TAP.

usage: profiles_checks.py [--figures]   (--figures also draws the PNGs: needs matplotlib)
"""
import csv
import gzip
import io
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from analysis import profiles as P  # noqa: E402

FIX = os.path.join(ROOT, "tests", "fixtures", "profiles")
CLI = os.path.join(ROOT, "analysis", "profiles.py")
results = []


def check(what, cond, detail=""):
    results.append((bool(cond), what, detail))


def load(name):
    with gzip.open(os.path.join(FIX, name + ".txt.gz"), "rt") as f:
        return P.parse_perf_script(f)


def names(sample):
    return [f.name for f in sample.frames]


def cat_of(sample):
    return P.categorise(sample.frames)[0]


def chain(*spec):
    """Hand-built frames, leaf first: 'name' = kernel frame, 'u:name' = user-space frame."""
    out = []
    for s in spec:
        user = s.startswith("u:")
        name = s[2:] if user else s
        out.append(P.Frame(name, name, not user, "/usr/lib/libc.so.6" if user else "[kernel.kallsyms]"))
    return out


def samples_where(samples, pred):
    return [s for s in samples if s.frames and pred(names(s))]


def above(ns, leaf, anc):
    return ns[0] == leaf and anc in ns[1:]


SERVER = {(i, s): load(f"lo-{i}-{s}-server") for i in ("A1", "A2", "A3") for s in (1024, 16384)}
VETH_A3 = load("veth-A3-16384-server")
RENO_A3 = load("veth-reno-A3-16384-server")
CLIENT = {"A1": load("lo-A1-1024-client"), "A3": load("lo-A3-16384-client")}
ALL = dict({f"lo-{i}-{s}-server": v for (i, s), v in SERVER.items()},
           **{"veth-A3-16384-server": VETH_A3, "veth-reno-A3-16384-server": RENO_A3,
              "lo-A1-1024-client": CLIENT["A1"], "lo-A3-16384-client": CLIENT["A3"]})
SHARES = {k: P.profile(v)[0] for k, v in ALL.items()}

# --- parsing -----------------------------------------------------------------------------------
for name, ss in ALL.items():
    check(f"{name}: 400 samples parsed, each with a call chain", len(ss) == 400 and all(s.frames for s in ss),
          f"{len(ss)} samples")
check("period (250000 ns for cpu-clock) is each sample's weight", {s.weight for s in SERVER[("A1", 1024)]} == {250000})
check("event name parsed", {s.event for s in SERVER[("A1", 1024)]} == {"cpu-clock"})
check("kernel frames recognised by address and dso; user frames not",
      SERVER[("A2", 1024)][0].frames[-1].kernel is False and
      any(f.kernel for s in SERVER[("A2", 1024)] for f in s.frames))
check("suffixes dropped for matching: finish_task_switch.isra.0 -> finish_task_switch",
      P.norm_symbol("finish_task_switch.isra.0+0x8e") == "finish_task_switch"
      and P.norm_symbol("tcp_xmit_retransmit_queue.part.0") == "tcp_xmit_retransmit_queue")
nog = P.parse_perf_script(io.StringIO(
    "A1_server  2114   565.062721:     250000 cpu-clock:  ffffffff82203249 _raw_spin_unlock_irqrestore+0x19 ([kernel.kallsyms])\n"
    "A1_server  2114   565.062960:     250000 cpu-clock:  16d80f __memmove_avx512_unaligned_erms+0xf (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"))
check("output recorded without -g (ip on the header line) parses, one frame per sample",
      len(nog) == 2 and [len(s.frames) for s in nog] == [1, 1] and cat_of(nog[1]) == "user_copy")

# --- categorisation of real chains ---------------------------------------------------------------
a3 = SERVER[("A3", 16384)] + VETH_A3 + RENO_A3
memcpy_ubufs = samples_where(a3, lambda ns: ns[0] in ("__pi_memcpy", "memcpy", "__memcpy", "memcpy_orig")
                             and "skb_copy_ubufs" in ns)
check(f"real A3 chains with memcpy under skb_copy_ubufs exist ({len(memcpy_ubufs)})", len(memcpy_ubufs) >= 5)
check("memcpy under skb_copy_ubufs is the deferred copy",
      memcpy_ubufs and all(cat_of(s) == "deferred_copy" for s in memcpy_ubufs))
under_ubufs = samples_where(a3, lambda ns: "skb_copy_ubufs" in ns and "asm_sysvec_apic_timer_interrupt" not in ns)
notify = [s for s in under_ubufs if any(n.startswith("msg_zerocopy") or n in ("__msg_zerocopy_callback", "skb_zcopy_clear")
                                        for n in names(s)[:names(s).index("skb_copy_ubufs")])]
check(f"under skb_copy_ubufs: page allocation, frag swap, memcpy are the deferred copy; the completion it "
      f"signals ({len(notify)} samples) is completion work",
      under_ubufs and all(cat_of(s) == ("completion" if s in notify else "deferred_copy") for s in under_ubufs),
      str({cat_of(s) for s in under_ubufs}))
cfi = samples_where(SERVER[("A2", 1024)] + SERVER[("A1", 1024)], lambda ns: above(ns, "_copy_from_iter", "tcp_sendmsg_locked"))
check("_copy_from_iter under tcp_sendmsg_locked is copy from user", cfi and all(cat_of(s) == "copy_from_user" for s in cfi))
msghdr = samples_where(SERVER[("A2", 1024)], lambda ns: ns[0] in ("_copy_from_user", "copy_iovec_from_user")
                       and "copy_msghdr_from_user" in ns)
check("the iovec import (copy_msghdr_from_user) is syscall work, not the payload copy",
      msghdr and all(cat_of(s) == "syscall" for s in msghdr), f"{len(msghdr)} samples")
cti = samples_where(CLIENT["A1"] + CLIENT["A3"], lambda ns: above(ns, "_copy_to_iter", "tcp_recvmsg_locked"))
check("_copy_to_iter under tcp_recvmsg_locked is copy to user", cti and all(cat_of(s) == "copy_to_user" for s in cti))
chk = samples_where(CLIENT["A1"], lambda ns: ns[0] == "__check_object_size" and "tcp_recvmsg_locked" in ns)
check("hardened-usercopy check on the receive path is copy to user", all(cat_of(s) == "copy_to_user" for s in chk))
gup = samples_where(a3, lambda ns: ns[0] == "gup_fast_fallback")
check("gup_fast_fallback is page pinning", gup and all(cat_of(s) == "pin" for s in gup))
pace = samples_where(a3, lambda ns: ns[0] == "_raw_spin_unlock_irqrestore" and ns[1] == "tcp_write_xmit")
check(f"unlock tail-called from tcp_write_xmit (pacing timer) is timers ({len(pace)})",
      pace and all(cat_of(s) == "timers" for s in pace))
wake = samples_where(a3, lambda ns: ns[0] == "_raw_spin_unlock_irqrestore" and "sock_def_readable" in ns)
check(f"unlock under sock_def_readable is a wake-up ({len(wake)})", wake and all(cat_of(s) == "wakeup" for s in wake))
tirq = samples_where(a3, lambda ns: ns[:3] == ["handle_softirqs", "__irq_exit_rcu", "sysvec_apic_timer_interrupt"])
check("samples in the timer interrupt are timers, not what it interrupted",
      tirq and all(cat_of(s) == "timers" for s in tirq))
a1mem = samples_where(SERVER[("A1", 1024)] + SERVER[("A1", 16384)],
                      lambda ns: ns[0].startswith("__memmove") or ns[0].startswith("memcpy"))
check("libc memcpy/memmove in A1_server is the user-space copy",
      a1mem and all(cat_of(s) == "user_copy" for s in a1mem))
fts = samples_where(CLIENT["A1"], lambda ns: ns[0] == "finish_task_switch" and "sk_wait_data" in ns)
check("being switched back in after sk_wait_data is wake-ups/scheduling", fts and all(cat_of(s) == "wakeup" for s in fts))
check("pacing samples vanish with congestion control reno",
      not samples_where(RENO_A3, lambda ns: ns[0] == "_raw_spin_unlock_irqrestore" and ns[1] == "tcp_write_xmit"))

# --- hand-built chains: the context rules ---------------------------------------------------------
check("memcpy under skb_copy_ubufs under tcp_sendmsg_locked: deferred copy, not copy from user",
      P.categorise(chain("__pi_memcpy", "skb_copy_ubufs", "ip_local_deliver_finish", "net_rx_action",
                         "handle_softirqs", "do_softirq", "__local_bh_enable_ip", "__dev_queue_xmit",
                         "tcp_write_xmit", "tcp_sendmsg_locked", "tcp_sendmsg"))[0] == "deferred_copy")
check("a lock taken under skb_copy_ubufs belongs to the deferred copy (tier 1 beats tier 2)",
      P.categorise(chain("_raw_spin_unlock_irqrestore", "get_page_from_freelist", "skb_copy_ubufs",
                         "tcp_v4_rcv"))[0] == "deferred_copy")
check("the chain is cut at an interrupt entry: a timer interrupt over _copy_from_iter is timers",
      P.categorise(chain("handle_softirqs", "__irq_exit_rcu", "sysvec_apic_timer_interrupt",
                         "asm_sysvec_apic_timer_interrupt", "_copy_from_iter", "tcp_sendmsg_locked"))[0] == "timers")
check("TCP work done in the timer interrupt's softirq stays TCP/IP",
      P.categorise(chain("tcp_ack", "tcp_rcv_established", "net_rx_action", "handle_softirqs", "__irq_exit_rcu",
                         "sysvec_apic_timer_interrupt", "asm_sysvec_apic_timer_interrupt", "u:cb_msg_stamp"))[0] == "tcpip")
check("memcpy with no copying context above it is not a user copy",
      P.categorise(chain("__pi_memcpy", "pskb_expand_head", "tcp_v4_rcv"))[0] == "tcpip")
check("_copy_from_user outside the send path is not counted as the payload copy",
      P.categorise(chain("_copy_from_user", "move_addr_to_kernel", "__sys_sendto"))[0] == "syscall")
check("a user leaf matching nothing is application code; a kernel one is other",
      P.categorise(chain("u:cb_msg_stamp"))[0] == "app" and P.categorise(chain("mystery_fn"))[0] == "other")
check("A3's error-queue recvmsg (libc wrapper) is completion work",
      P.categorise(chain("do_syscall_64", "entry_SYSCALL_64_after_hwframe", "u:__libc_recvmsg"))[0] == "completion")
check("every rule names a known category", all(r.category in P.CATEGORY_LABEL for r in P.RULES))

# --- shares --------------------------------------------------------------------------------------
for name, sh in SHARES.items():
    check(f"{name}: shares sum to 100.00 over all {len(P.CATEGORY_IDS)} categories",
          abs(sum(sh.values()) - 100.0) < 1e-6 and set(sh) == set(P.CATEGORY_IDS), f"sum {sum(sh.values())}")
    check(f"{name}: 'other' (unattributed kernel) under 2%", sh["other"] < 2.0, f"{sh['other']}")
a1k, a2k = SHARES["lo-A1-1024-server"], SHARES["lo-A2-1024-server"]
check(f"A2 1K copies from user more than A1 1K (eight 128-byte segments): {a2k['copy_from_user']} > {a1k['copy_from_user']}",
      a2k["copy_from_user"] > 2 * a1k["copy_from_user"])
check(f"only A1 has a user-space copy (A1 1K {a1k['user_copy']}%, A2 1K {a2k['user_copy']}%)",
      a1k["user_copy"] > 0 and a2k["user_copy"] == 0 and SHARES["lo-A3-1024-server"]["user_copy"] == 0)
for name in ("lo-A3-1024-server", "lo-A3-16384-server", "veth-A3-16384-server", "veth-reno-A3-16384-server"):
    sh = SHARES[name]
    check(f"{name}: deferred copy {sh['deferred_copy']}%, pinning {sh['pin']}%, completions {sh['completion']}% all > 0",
          sh["deferred_copy"] > 0 and sh["pin"] > 0 and sh["completion"] > 0)
for name in ("lo-A1-1024-server", "lo-A2-1024-server", "lo-A1-16384-server", "lo-A2-16384-server"):
    sh = SHARES[name]
    check(f"{name}: no deferred copy, pinning or completions without MSG_ZEROCOPY",
          sh["deferred_copy"] == sh["pin"] == sh["completion"] == 0)
check("the client's largest work category is the copy to user or the wake-ups",
      max(("copy_to_user", "wakeup", "tcpip"), key=SHARES["lo-A1-1024-client"].get) in ("copy_to_user", "wakeup"))
check("round_to_100 keeps exact sums", P.round_to_100({"a": 1, "b": 1, "c": 1}) == {"a": 33.34, "b": 33.33, "c": 33.33}
      and P.round_to_100({"a": 0, "b": 0}) == {"a": 0.0, "b": 0.0})

# --- detection of unusable profiles ---------------------------------------------------------------
with gzip.open(os.path.join(FIX, "unresolved-kallsyms-A2-1024-server.txt.gz"), "rt") as f:
    unres = P.parse_perf_script(f)
prob = P.resolution_problem(unres)
check("hex-only kernel symbols are detected", prob and "unresolved" in prob, str(prob))
with gzip.open(os.path.join(FIX, "nonroot-user-only-A2-1024-server.txt.gz"), "rt") as f:
    prob = P.resolution_problem(P.parse_perf_script(f))
check("a user-space-only recording (non-root, cpu-clock:u) is detected", prob and "user space only" in prob, str(prob))
check("empty input is detected", P.resolution_problem([]) == "no samples in the perf script output")
check("a usable profile passes", all(P.resolution_problem(v) is None for v in ALL.values()))

# --- the CLI -------------------------------------------------------------------------------------
with tempfile.TemporaryDirectory() as tmp:
    out, top = os.path.join(tmp, "profiles.csv"), os.path.join(tmp, "profiles_top.csv")

    def run(*args, stdin=None):
        return subprocess.run([sys.executable, CLI, *args], capture_output=True, text=True, input=stdin)

    for i in ("A1", "A2"):
        r = run("parse", "--impl", i, "--size", "1024", "--side", "server", "--threads", "1", "--steal", "0.10",
                "--netns", "0", "--out", out, "--top-out", top, os.path.join(FIX, f"lo-{i}-1024-server.txt.gz"))
        check(f"parse {i}: exit 0, silent", r.returncode == 0 and not r.stderr, r.stderr)
    with open(out) as f:
        rows = list(csv.DictReader(f))
    nc = len(P.CATEGORY_IDS)
    check(f"profiles.csv: header once, {nc} rows per profile (one per category), columns impl,size,side,category,share first",
          len(rows) == 2 * nc and open(out).read().count("impl,") == 1
          and open(out).readline().startswith("impl,size,side,category,share,"))
    check("profiles.csv: samples, event, threads, steal, netns recorded",
          rows[0]["samples"] == "400" and rows[0]["event"] == "cpu-clock" and rows[0]["threads"] == "1"
          and rows[0]["steal_pct"] == "0.10" and rows[0]["netns"] == "0")
    with open(top) as f:
        trows = list(csv.DictReader(f))
    check("profiles_top.csv: 15 ranked (symbol, category) rows per profile, shares descending",
          len(trows) == 30 and [int(r["rank"]) for r in trows[:15]] == list(range(1, 16))
          and all(float(a["share"]) >= float(b["share"]) for a, b in zip(trows[:14], trows[1:15])))
    lr = P.load_profile_rows(out)
    check("load_profile_rows reads it back", P.shares_of(lr, "A2", 1024, "server")["copy_from_user"] == SHARES["lo-A2-1024-server"]["copy_from_user"])
    r = run("parse", "--impl", "A2", "--size", "1024", "--side", "server", "--out", out,
            os.path.join(FIX, "unresolved-kallsyms-A2-1024-server.txt.gz"))
    check("parse of an unresolvable profile: exit 3, one line, nothing appended",
          r.returncode == 3 and len(r.stderr.strip().splitlines()) == 1 and len(P.load_profile_rows(out)) == 2 * nc, r.stderr)
    with open(os.path.join(FIX, "lo-A3-16384-server.txt.gz"), "rb") as f:
        txt = gzip.decompress(f.read()).decode()
    r = run("parse", "--impl", "A3", "--size", "16384", "--side", "server", "-", stdin=txt)
    check("parse reads stdin ('-') and prints the rows without --out", r.returncode == 0 and r.stdout.count("\nA3,16384,server,") == nc)
    r = run("parse", "--impl", "A3", "--size", "16384", "--side", "server", os.path.join(tmp, "nope.txt"))
    check("missing input: exit 2, one line naming it", r.returncode == 2 and "nope.txt" in r.stderr and len(r.stderr.splitlines()) == 1)
    r = run("summary", out)
    check("summary prints a markdown table", r.returncode == 0 and "| copy from user into the kernel |" in r.stdout)
    bad = os.path.join(tmp, "bad.csv")
    with open(bad, "w") as f:
        f.write("impl,size,side,category,share\nA1,1024,server,bogus,1.0\n")
    try:
        P.load_profile_rows(bad)
        check("an unknown category in profiles.csv is rejected", False)
    except P.InputError as e:
        check("an unknown category in profiles.csv is rejected", "bogus" in str(e))
    docp = os.path.join(ROOT, "docs", "profiles.md")
    doc = open(docp).read() if os.path.exists(docp) else ""
    check("docs/profiles.md holds the rule table exactly as the module has it (profiles.py rules)",
          P.rules_markdown() in doc)
    check("docs/profiles.md names every category", all(lbl in doc for lbl in P.CATEGORY_LABEL.values()))

    if "--figures" in sys.argv:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        for name in ("lo-A3-16384-client",):
            run("parse", "--impl", "A3", "--size", "16384", "--side", "client", "--out", out, os.path.join(FIX, name + ".txt.gz"))
        written = P.plot_profiles_next_to(plt, os.path.join(tmp, "profiles.csv"), tmp, "machine: test")
        check("profile_server.png and profile_client.png drawn",
              sorted(os.path.basename(w) for w in written) == ["profile_client.png", "profile_server.png"]
              and all(open(w, "rb").read(8) == b"\x89PNG\r\n\x1a\n" for w in written))
        with open(bad, "w") as f:
            f.write("x,y\n1,2\n")
        os.replace(bad, out)
        check("a bad profiles.csv costs a line, not the other figures",
              P.plot_profiles_next_to(plt, os.path.join(tmp, "profiles.csv"), tmp, "x") == [])
    else:
        for what in ("profile_server.png and profile_client.png drawn",
                     "a bad profiles.csv costs a line, not the other figures"):
            results.append((None, what, "no Python with matplotlib"))

for good, what, detail in results:   # good None: not run here (skip), the detail says why
    status = "skip" if good is None else "ok" if good else "not ok"
    print(status + "\t" + what + (f"\t{detail}" if detail and not good else ""))
