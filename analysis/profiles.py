#!/usr/bin/env python3
"""Where the time goes: sampled call-chain profiles of the copybench programs, by category.

Input is the text `perf script` prints for a `perf record -g` recording (default output format).
Every sample is attributed to ONE category by its call chain, using the rule table RULES below
(documented, with the reasons, in docs/profiles.md); the share of a category is its samples'
weight (perf's period: ns for cpu-clock, events for cycles) over the side's total, in %.

usage:
  profiles.py parse --impl A1 --size 1024 --side server [--threads 1] [--event cpu-clock]
                    [--steal PCT] [--netns 0|1] [--out profiles.csv] [--top-out profiles_top.csv]
                    [--top N] PERF_SCRIPT_TEXT|-
      appends one row per category to --out (header first when the file is new or empty) and the
      top (symbol, category) pairs to --top-out; without --out, prints the rows.
      Exit 3, with one line on stderr, when the kernel part of the profile cannot be used
      (no kernel samples, or kernel symbols unresolved): callers leave the profile out.
  profiles.py check PERF_SCRIPT_TEXT|-      exit 0 when usable, 3 (and one line) when not
  profiles.py summary profiles.csv [--side server]   markdown table of the shares
  profiles.py rules                          the rule table as markdown (docs/profiles.md)
  profiles.py subsample --keep N FILE        every k-th sample block, verbatim (test fixtures)

Input files ending in .gz are read with gzip. Exit 2 on usage errors and unreadable input.
"""
import argparse
import csv
import fnmatch
import gzip
import io
import math
import os
import re
import sys
from collections import namedtuple

# ----------------------------------------------------------------------------------------------
# categories: (id used in the CSV, label for legends and docs, colour fixed per category)

CATEGORIES = (
    ("user_copy", "user-space copy", "#1f77b4"),
    ("copy_from_user", "copy from user into the kernel", "#ff7f0e"),
    ("deferred_copy", "deferred copy (zero-copy fallback)", "#d62728"),
    ("copy_to_user", "copy to user on receive", "#2ca02c"),
    ("pin", "page pinning and unpinning", "#9467bd"),
    ("completion", "completion notification and error-queue reads", "#8c564b"),
    ("submission", "io_uring submission (SQEs, io_uring_enter, issuing)", "#dbdb8d"),
    ("tcpip", "TCP/IP processing", "#7f7f7f"),
    ("wakeup", "wake-ups, scheduling and locks", "#e377c2"),
    ("timers", "timers, clock reads and TCP pacing", "#bcbd22"),
    ("syscall", "syscall entry and exit", "#17becf"),
    ("app", "application code (user space, not copying)", "#aec7e8"),
    ("other", "other (kernel, unattributed)", "#c7c7c7"),
)
CATEGORY_IDS = tuple(c[0] for c in CATEGORIES)
CATEGORY_LABEL = {c[0]: c[1] for c in CATEGORIES}
CATEGORY_COLOUR = {c[0]: c[2] for c in CATEGORIES}

# ----------------------------------------------------------------------------------------------
# The rule table: the ONE place that says which symbol means what.
#
# A sample's chain is read from the leaf (where the CPU was) towards the root. It is cut at the
# first interrupt or exception entry (asm_sysvec_*, asm_common_interrupt, asm_exc_*): the work
# an interrupt does is the interrupt's, whatever it interrupted. Within that segment:
#   1. the frame nearest the leaf that matches a tier-1 rule decides (tier 1 = what the code is
#      FOR: a copy, pinning, a completion, a wake-up, a timer; its whole subtree belongs to it,
#      so a memcpy or a lock or a page allocation under skb_copy_ubufs is the deferred copy);
#   2. otherwise the frame nearest the leaf that matches a tier-2 rule decides (tier 2 = general
#      machinery: locks, TCP/IP, syscall entry/exit, the timer interrupt);
#   3. otherwise: a leaf in user space is application code, anything else is "other".
# Frames matching no rule (memcpy, slab and page allocators, retpoline thunks, softirq dispatch,
# RCU) are context-dependent helpers: their caller decides.
#
# Names are matched after dropping perf's +0xOFF and gcc's .isra.N/.part.N/.constprop.N/.cold
# suffixes; '*' and '?' are globs. space: k = kernel frame, u = user-space frame, * = either.
# parent: the immediate caller must match (for tail calls); under: some frame above must match.
# The symbol names were read from real `perf script` output of these programs on Linux 6.18.

Rule = namedtuple("Rule", "category tier space names parent under why")


def _r(category, tier, space, names, why, parent=None, under=None):
    return Rule(category, tier, space, tuple(names.split()), tuple(parent.split()) if parent else None,
                tuple(under.split()) if under else None, why)


SEND_PATH = "tcp_sendmsg_locked skb_do_copy_data_nocache skb_copy_to_page_nocache"
RECV_PATH = "tcp_recvmsg_locked tcp_recvmsg skb_copy_datagram_iter __skb_datagram_iter"
USERCOPY_PRIMITIVES = ("_copy_from_user _copy_to_user copy_user_generic* rep_movs_alternative "
                       "copy_user_enhanced_fast_string __check_object_size check_heap_object "
                       "__virt_addr_valid check_stack_object")

RULES = (
    # --- tier 1: purpose -------------------------------------------------------------------
    _r("deferred_copy", 1, "k", "skb_copy_ubufs skb_orphan_frags_rx",
       "MSG_ZEROCOPY pages about to reach a local socket (loopback, veth) are copied into kernel "
       "pages here (skb_orphan_frags_rx -> skb_copy_ubufs): the memcpy, page allocation and frag "
       "swap under it are the copy the zero-copy send could not avoid"),
    _r("pin", 1, "k",
       "gup_* __gup_* get_user_pages* pin_user_pages* unpin_user_page* try_grab_folio* "
       "iov_iter_get_pages* __iov_iter_get_pages_alloc zerocopy_fill_skb_from_iter "
       "__zerocopy_sg_from_iter skb_zerocopy_iter_stream io_sg_from_iter io_sg_from_iter_iovec",
       "MSG_ZEROCOPY and io_uring zero-copy sends: taking references on the user pages (gup_fast_fallback, "
       "io_sg_from_iter_iovec for A4) and hanging "
       "them on the skb as frags; only under tcp_sendmsg_locked, where a zero-copy send pins: a "
       "stray page walk elsewhere is not a technique's pinning (one A2 sample of ~1,700 once "
       "landed in this category)",
       under="tcp_sendmsg_locked"),
    _r("completion", 1, "k",
       "msg_zerocopy_* __msg_zerocopy_callback skb_zcopy_clear sock_recv_errqueue "
       "sock_dequeue_err_skb ip_recv_error ipv6_recv_error inet_recv_error "
       "do_sys_poll __x64_sys_poll __x64_sys_ppoll",
       "allocating and queueing the zero-copy notification, reading it from the error queue, "
       "and poll() (only A3 polls, for POLLERR)"),
    _r("completion", 1, "u", "__libc_recvmsg recvmsg __recvmsg __poll poll __GI___poll",
       "libc wrappers: in these programs only A3 calls recvmsg (MSG_ERRQUEUE) and poll; the "
       "receivers use recv"),
    _r("completion", 1, "u", "drain wait_completions cb_zc_*",
       "A3's own completion bookkeeping (A3_server.c, common.c)"),
    _r("completion", 1, "k",
       "io_alloc_notif io_link_skb io_tx_ubuf_complete io_tx_ubuf_callback* io_notif_* __io_notif_*",
       "A4 (io_uring): the notification attached to each zero-copy send (io_alloc_notif, io_link_skb), "
       "and, once the kernel frees the last skb that holds the pages, completing it and posting its CQE"),
    _r("completion", 1, "u",
       "uring_reap uring_wait cb_zcq_* __io_uring_get_cqe io_uring_wait_cqe* io_uring_wait_cqes* "
       "io_uring_peek_cqe io_uring_peek_batch_cqe _io_uring_get_cqe",
       "A4's reading of the completion ring (A4_server.c, src/zc.c) and liburing's CQE waits"),
    _r("submission", 1, "u",
       "uring_flush uring_submit uring_prep_send io_uring_submit* __io_uring_submit* __io_uring_flush_sq "
       "io_uring_get_sqe _io_uring_get_sqe",
       "A4 filling SQEs and submitting the chain (A4_server.c, liburing)"),
    _r("copy_from_user", 1, "k",
       "_copy_from_iter _copy_from_iter_nocache __copy_from_iter* copy_from_user_iter* "
       "skb_do_copy_data_nocache skb_copy_to_page_nocache csum_and_copy_from_iter*",
       "send path: the payload copied from the user's buffers into the skb"),
    _r("copy_from_user", 1, "k", USERCOPY_PRIMITIVES,
       "user-copy primitives and hardened-usercopy checks on the send path", under=SEND_PATH),
    _r("copy_to_user", 1, "k",
       "_copy_to_iter __copy_to_iter* copy_to_user_iter* skb_copy_datagram_iter __skb_datagram_iter "
       "simple_copy_to_iter",
       "receive path: the payload copied from the skb into the user's buffer"),
    _r("copy_to_user", 1, "k", USERCOPY_PRIMITIVES,
       "user-copy primitives and hardened-usercopy checks on the receive path", under=RECV_PATH),
    _r("user_copy", 1, "u", "memcpy* memmove* __memcpy* __memmove* __mempcpy* mempcpy*",
       "libc memcpy/memmove in user space: on the server only A1's gather of the 8 fields calls it "
       "(user callers cannot be seen: libc and the programs have no frame pointers)"),
    _r("timers", 1, "k", "_raw_spin_unlock_irqrestore",
       "TCP pacing: tcp_pacing_check (inlined into these two) arms the pacing hrtimer; "
       "hrtimer_start_range_ns ends in the unlock as a tail call (our reading: no frame shows "
       "between them), so the irq-off time of arming the timer lands on this pair. Gone with "
       "congestion control reno (no internal pacing)",
       parent="tcp_write_xmit tcp_xmit_retransmit_queue"),
    _r("timers", 1, "k",
       "hrtimer_start_range_ns hrtimer_try_to_cancel hrtimer_cancel __mod_timer mod_timer "
       "sk_reset_timer sk_stop_timer clockevents_program_event tick_program_event "
       "lapic_next_deadline ktime_get ktime_get_* read_tsc kvm_clock_*",
       "arming timers and reading the clock (TCP timestamps, RTO and pacing timers)"),
    _r("wakeup", 1, "k",
       "try_to_wake_up ttwu_* __wake_up* wake_up_* woken_wake_function autoremove_wake_function "
       "default_wake_function sock_def_readable sock_def_write_space sk_stream_write_space "
       "send_call_function_single_ipi native_send_call_func_single_ipi x2apic_send_IPI* "
       "kvm_send_ipi* __smp_call_single_queue select_task_rq* "
       "schedule __schedule schedule_timeout finish_task_switch wait_woken sk_wait_data "
       "sk_stream_wait_memory",
       "waking the peer (sock_def_readable -> try_to_wake_up, an IPI through the hypervisor when "
       "it sleeps on the other vCPU), and sleeping / being switched back in"),
    # --- tier 2: machinery -----------------------------------------------------------------
    _r("timers", 2, "k",
       "sysvec_apic_timer_interrupt asm_sysvec_apic_timer_interrupt __sysvec_apic_timer_interrupt "
       "hrtimer_interrupt __hrtimer_run_queues hrtimer_run_softirq tcp_pace_kick run_timer_softirq "
       "__run_timers tcp_write_timer* tcp_delack_timer*",
       "the timer interrupt and timer softirqs (TCP work they trigger stays TCP/IP)"),
    _r("wakeup", 2, "k",
       "sysvec_reschedule_ipi asm_sysvec_reschedule_ipi sysvec_call_function* "
       "asm_sysvec_call_function*",
       "inter-processor interrupts: wake-up and scheduling IPIs"),
    _r("wakeup", 2, "k",
       "_raw_spin_* __raw_spin_* _raw_read_* _raw_write_* __pv_queued_spin_* "
       "__raw_callee_save___pv_queued_spin_* queued_spin_* native_queued_spin_* mutex_* "
       "__mutex_* lock_sock_nested __lock_sock release_sock __release_sock",
       "spin locks (on a VM, paravirt) and the socket lock; an irq-restoring unlock is also where "
       "cpu-clock samples of the irq-off section before it land"),
    _r("submission", 2, "k",
       "__do_sys_io_uring_enter __x64_sys_io_uring_enter io_submit_sqes io_submit_sqe io_init_req "
       "io_issue_sqe __io_issue_sqe io_sendmsg_zc io_send_zc io_send_zc_* io_sendmsg_zc_prep io_sendmsg_prep* "
       "io_sendmsg_setup io_send_setup io_msg_copy_hdr* io_net_import_vec io_netmsg_recycle io_msg_alloc_async* "
       "io_queue_sqe io_queue_async io_queue_next io_queue_iowq io_req_* __io_req_* io_free_batch_list "
       "io_alloc_req* io_arm_poll_handler __io_arm_poll_handler io_arm_apoll io_async_queue_proc io_poll_* "
       "__io_poll_* io_apoll_* io_handle_tw_list tctx_task_work* io_run_task_work* io_file_get_* "
       "io_cqring_wait io_cqring_* __io_cqring_* io_fill_cqe* io_post_* __io_submit_flush_completions "
       "io_submit_state_* io_get_sqe io_prep_*",
       "io_uring's own machinery (A4): entering io_uring_enter, taking SQEs, issuing each send (the linked "
       "ones from task work, while the thread waits for CQEs), arming poll when the socket is full, posting "
       "the sends' CQEs and waiting for them; the TCP work and the pinning under it keep their own categories"),
    _r("syscall", 2, "k",
       "do_syscall_64 entry_SYSCALL_64* x64_sys_call syscall_exit_* exit_to_user_mode* "
       "syscall_return_via_sysret irqentry_exit_to_user_mode __rseq_handle_notify_resume rseq_* "
       "switch_fpu_return __x64_sys_* __sys_* ___sys_* ____sys_* sock_sendmsg sock_recvmsg "
       "__sock_sendmsg sock_sendmsg_nosec sock_recvmsg_nosec security_socket_* fdget* fput* "
       "__fget* sockfd_lookup_light import_iovec __import_iovec iovec_from_user "
       "copy_iovec_from_user copy_msghdr_from_user __copy_msghdr move_addr_to_kernel "
       "inet_sendmsg inet_recvmsg",
       "entering and leaving the kernel, finding the socket, importing the msghdr and iovec "
       "(A2/A3's 8-entry iovec is copied in on every call)"),
    _r("syscall", 2, "u",
       "__send send __libc_send __libc_sendmsg sendmsg __libc_recv recv __recv __libc_recvfrom "
       "__libc_write __libc_read __GI___libc_write __GI___libc_read *pthread_*asynccancel syscall",
       "libc syscall wrappers: cpu-clock samples deferred while the kernel returned land here"),
    _r("tcpip", 2, "k",
       "tcp_* __tcp_* tcp4_* ip_* __ip_* ipv4_* inet_* __inet_* skb_* __skb_* ___skb_* pskb_* "
       "__pskb_* ___pskb_* kfree_skb* __kfree_skb* consume_skb napi_* __napi_* net_rx_action "
       "process_backlog netif_* __netif_* dev_* __dev_* loopback_xmit veth_* __veth_* "
       "enqueue_to_backlog rps_* eth_type_trans validate_xmit_* sch_direct_xmit __qdisc_run "
       "qdisc_* pfifo_fast_* nf_* __nf_* dst_* __dst_* raw_local_deliver bbr_* cubictcp_* "
       "sk_* __sk_* sock_* __alloc_skb alloc_skb* __build_skb* __copy_skb_header csum_* "
       "do_softirq __local_bh_enable_ip get_netmem put_netmem",
       "TCP and IP on both sides of the connection (on loopback and veth the sender's context "
       "also runs the receiver's softirq processing), skb allocation and freeing, congestion "
       "control, softirqs entered by re-enabling bottom halves"),
)

INTERRUPT_ENTRY = ("asm_sysvec_*", "asm_common_interrupt", "asm_exc_*")
_SUFFIX = re.compile(r"\.(?:isra|part|constprop|cold|lto_priv|llvm)(?:\.\d+)*")


_OFFSET = re.compile(r"\+0x[0-9a-fA-F]+$")


def norm_symbol(sym):
    """'finish_task_switch.isra.0+0x8e' -> 'finish_task_switch'."""
    return _SUFFIX.sub("", _OFFSET.sub("", sym.strip()))


_MATCHERS = {}
_MATCH_MEMO = {}


def _match(name, patterns):
    """name equals one of patterns, or matches one of its globs (memoised: a profile repeats a few
    hundred distinct symbols hundreds of thousands of times)."""
    key = (name, patterns)
    hit = _MATCH_MEMO.get(key)
    if hit is None:
        m = _MATCHERS.get(patterns)
        if m is None:
            exact = frozenset(p for p in patterns if "*" not in p and "?" not in p)
            globs = [fnmatch.translate(p) for p in patterns if p not in exact]
            m = _MATCHERS[patterns] = (exact, re.compile("|".join(globs)) if globs else None)
        hit = name in m[0] or bool(m[1] and m[1].match(name))
        _MATCH_MEMO[key] = hit
    return hit


# ----------------------------------------------------------------------------------------------
# parsing perf script

Frame = namedtuple("Frame", "name raw kernel dso")
Sample = namedtuple("Sample", "comm event weight frames")

# canonical kernel addresses (x86-64, arm64). A broken user-space frame-pointer walk yields junk
# like ac0a807a7e000000 with the top bit set: not a kernel frame.
KERNEL_ADDR_MIN = 0xffff800000000000
_FRAME = re.compile(r"^\s*([0-9a-fA-F]+)\s+(.*?)\s*\(([^()]*)\)\s*$")
_HEADER = re.compile(r"^(?P<comm>.*?)\s+(?P<pid>\d+)(?:/\d+)?\s+(?:\[\d+\]\s+)?(?P<time>\d+\.\d+):\s*"
                     r"(?:(?P<period>\d+)\s+)?(?P<event>\S+):(?:\s+|$)(?P<rest>.*)$")
_UNRESOLVED = re.compile(r"^(?:\[unknown\]|0x[0-9a-fA-F]+|[0-9a-fA-F]{8,})$")


_FRAMES = {}


def _frame(addr, sym, dso):
    try:
        kernel = int(addr, 16) >= KERNEL_ADDR_MIN
    except ValueError:
        kernel = False
    kernel = kernel or dso.startswith("[kernel")
    key = (kernel, sym, dso)
    f = _FRAMES.get(key)
    if f is None:
        f = _FRAMES[key] = Frame(norm_symbol(sym), _OFFSET.sub("", sym.strip()), kernel, dso)
    return f


def parse_perf_script(lines):
    """perf script text (iterable of lines) -> [Sample] with frames leaf first."""
    samples = []
    cur = None
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if cur is not None:
                samples.append(cur)
                cur = None
            continue
        if line[0] in " \t":
            m = _FRAME.match(line)
            if m and cur is not None:
                cur.frames.append(_frame(*m.groups()))
            continue
        if cur is not None:             # a header right after a sample (no blank line): no -g
            samples.append(cur)
        m = _HEADER.match(line)
        if not m:
            cur = None
            continue
        weight = int(m.group("period")) if m.group("period") else 1
        cur = Sample(m.group("comm").strip(), m.group("event"), weight, [])
        rest = m.group("rest")
        fm = _FRAME.match(rest) if rest else None
        if fm:                           # recorded without -g: the ip is on the header line
            cur.frames.append(_frame(*fm.groups()))
    if cur is not None:
        samples.append(cur)
    return samples


def read_text(path):
    """Lines of a file (gzip when it ends in .gz), or of stdin for '-'."""
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, errors="replace")
    if path.endswith(".gz"):
        return gzip.open(path, "rt", errors="replace")
    return open(path, errors="replace")


# ----------------------------------------------------------------------------------------------
# categorisation (pure)

def segment(frames):
    """Frames from the leaf up to and including the first interrupt/exception entry."""
    for i, f in enumerate(frames):
        if f.kernel and _match(f.name, INTERRUPT_ENTRY):
            return frames[:i + 1]
    return frames


def _rule_matches(rule, seg, i):
    f = seg[i]
    if rule.space == "k" and not f.kernel or rule.space == "u" and f.kernel:
        return False
    if not _match(f.name, rule.names):
        return False
    if rule.parent is not None:
        if i + 1 >= len(seg) or not _match(seg[i + 1].name, rule.parent):
            return False
    if rule.under is not None:
        if not any(_match(g.name, rule.under) for g in seg[i + 1:]):
            return False
    return True


TIER1 = tuple(r for r in RULES if r.tier == 1)
TIER2 = tuple(r for r in RULES if r.tier == 2)


_CATEGORY_MEMO = {}


def categorise(frames):
    """(category id, index of the deciding frame or None) for one sample's frames (leaf first)."""
    key = tuple(frames)
    hit = _CATEGORY_MEMO.get(key)
    if hit is None:
        hit = _CATEGORY_MEMO[key] = _categorise(key)
    return hit


def _categorise(frames):
    seg = segment(frames)
    for rules in (TIER1, TIER2):
        for i in range(len(seg)):
            for r in rules:
                if _rule_matches(r, seg, i):
                    return r.category, i
    if seg and not seg[0].kernel:
        return "app", None
    return "other", None


def leaf_name(frames):
    if not frames:
        return "[no stack]"
    f = frames[0]
    return f.raw if f.raw else "[unknown]"


def resolution_problem(samples):
    """None when the profile's kernel part is usable, else a one-line reason."""
    if not samples:
        return "no samples in the perf script output"
    kernel = unresolved = 0
    for s in samples:
        for f in s.frames:
            if f.kernel:
                kernel += 1
                if _UNRESOLVED.match(f.raw):
                    unresolved += 1
    user_only = sorted({s.event for s in samples if re.search(r"(:u|/u)$", s.event)})
    if kernel == 0 or user_only and len(user_only) == len({s.event for s in samples}):
        if user_only:
            return (f"perf recorded user space only (event {user_only[0]}: perf_event_paranoid="
                    f"{_read_sysctl('/proc/sys/kernel/perf_event_paranoid')} and not root)")
        if not any(s.frames for s in samples):
            return "samples carry no addresses at all (perf script output without ip/sym?)"
        return ("no kernel samples (perf recorded user space only: perf_event_paranoid="
                f"{_read_sysctl('/proc/sys/kernel/perf_event_paranoid')}, not root?)")
    if unresolved > kernel / 2:
        return (f"kernel symbols unresolved ({unresolved} of {kernel} kernel frames are [unknown] or raw "
                f"addresses: kptr_restrict={_read_sysctl('/proc/sys/kernel/kptr_restrict')}, "
                "/proc/kallsyms unreadable, or not root?)")
    return None


def _read_sysctl(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return "?"


def round_to_100(weights, digits=2):
    """{key: weight} -> {key: share %} rounded to `digits`, summing to exactly 100 (largest
    remainder), so a reader adding up the CSV gets 100.00."""
    total = sum(weights.values())
    if total <= 0:
        return {k: 0.0 for k in weights}
    scale = 10 ** digits
    exact = {k: 100 * scale * w / total for k, w in weights.items()}
    floor = {k: math.floor(v) for k, v in exact.items()}
    short = 100 * scale - sum(floor.values())
    for k in sorted(exact, key=lambda k: (exact[k] - floor[k], exact[k]), reverse=True)[:short]:
        floor[k] += 1
    return {k: v / scale for k, v in floor.items()}


def profile(samples, top=15):
    """-> (shares {category: %}, top [(symbol, category, %)], n samples, total weight)."""
    by_cat = {c: 0 for c in CATEGORY_IDS}
    by_pair = {}
    total = 0
    for s in samples:
        cat, _ = categorise(s.frames)
        by_cat[cat] += s.weight
        key = (leaf_name(s.frames), cat)
        by_pair[key] = by_pair.get(key, 0) + s.weight
        total += s.weight
    shares = round_to_100(by_cat)
    pairs = sorted(by_pair.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    top_rows = [(sym, cat, round(100.0 * w / total, 2) if total else 0.0) for (sym, cat), w in pairs]
    return shares, top_rows, len(samples), total


# ----------------------------------------------------------------------------------------------
# CSV files

PROFILE_COLUMNS = ("impl", "size", "side", "category", "share", "samples", "event", "threads",
                   "steal_pct", "netns")
TOP_COLUMNS = ("impl", "size", "side", "rank", "symbol", "category", "share")


def _append_csv(path, columns, rows):
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if new:
        w.writerow(columns)
    w.writerows(rows)
    # one write: a Ctrl-C never leaves half a profile in the file
    with open(path, "a", newline="") as f:
        f.write(buf.getvalue())


def profile_rows(meta, shares, n):
    return [(meta["impl"], meta["size"], meta["side"], c, f"{shares[c]:.2f}", n, meta["event"],
             meta["threads"], meta["steal"], meta["netns"]) for c in CATEGORY_IDS]


def top_rows(meta, top):
    return [(meta["impl"], meta["size"], meta["side"], k, sym, cat, f"{share:.2f}")
            for k, (sym, cat, share) in enumerate(top, start=1)]


class InputError(Exception):
    pass


def load_profile_rows(path):
    """profiles.csv -> [dict] (size int, share float). Raises InputError on a bad file."""
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in ("impl", "size", "side", "category", "share") if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
            rows = []
            for lineno, r in enumerate(reader, start=2):
                try:
                    r["size"] = int(r["size"])
                    r["share"] = float(r["share"])
                except (TypeError, ValueError):
                    raise InputError(f"{path}: line {lineno}: size/share not a number")
                if r["category"] not in CATEGORY_LABEL:
                    raise InputError(f"{path}: line {lineno}: unknown category '{r['category']}'")
                rows.append(r)
            return rows
    except OSError as e:
        raise InputError(f"{path}: {e.strerror}")


def shares_of(rows, impl, size, side):
    """{category: share} for one profile (empty when absent)."""
    return {r["category"]: r["share"] for r in rows
            if r["impl"] == impl and r["size"] == size and r["side"] == side}


def fmt_size(n):
    for unit, div in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= div and n % div == 0:
            return f"{n // div} {unit}"
    return f"{n} B"


def summary_markdown(rows, side=None):
    out = []
    sides = sorted({r["side"] for r in rows}, key=lambda s: (s != "server", s))
    for sd in sides:
        if side and sd != side:
            continue
        profs = sorted({(r["impl"], r["size"]) for r in rows if r["side"] == sd}, key=lambda p: (p[1], p[0]))
        cats = [c for c in CATEGORY_IDS if any(r["share"] > 0 for r in rows if r["side"] == sd and r["category"] == c)]
        out.append(f"**{sd}** (% of the side's samples)\n")
        out.append("| category | " + " | ".join(f"{i} {fmt_size(s)}" for i, s in profs) + " |")
        out.append("|---|" + "---|" * len(profs))
        for c in cats:
            cells = [f"{shares_of(rows, i, s, sd).get(c, 0.0):.1f}" for i, s in profs]
            out.append(f"| {CATEGORY_LABEL[c]} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def rules_markdown():
    out = ["| tier | category | where | symbols | condition | why |", "|---|---|---|---|---|---|"]
    for r in RULES:
        cond = []
        if r.parent:
            cond.append("called directly by " + ", ".join(f"`{p}`" for p in r.parent))
        if r.under:
            cond.append("somewhere under " + ", ".join(f"`{p}`" for p in r.under))
        space = {"k": "kernel", "u": "user", "*": "any"}[r.space]
        out.append(f"| {r.tier} | {CATEGORY_LABEL[r.category]} | {space} | "
                   + " ".join(f"`{n}`" for n in r.names) + f" | {'; '.join(cond) or '-'} | {r.why} |")
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------
# figures

def draw_profile_figures(plt, rows, out_dir, label):
    """One PNG per side (profile_server.png, profile_client.png): a stacked bar of category shares
    per technique, grouped by message size. Returns the paths written."""
    written = []
    for side in sorted({r["side"] for r in rows}, key=lambda s: (s != "server", s)):
        srows = [r for r in rows if r["side"] == side]
        sizes = sorted({r["size"] for r in srows})
        impls = sorted({r["impl"] for r in srows})
        cats = [c for c in CATEGORY_IDS if any(r["share"] > 0 for r in srows if r["category"] == c)]
        bars = []   # (x, impl, size)
        x = 0.0
        for size in sizes:
            for impl in impls:
                if shares_of(srows, impl, size, side):
                    bars.append((x, impl, size))
                    x += 1
            x += 0.6
        fig, ax = plt.subplots(1, 1, figsize=(max(7.5, 0.75 * len(bars) + 5.5), 6.2))
        for c in cats:
            for xb, impl, size in bars:
                sh = shares_of(srows, impl, size, side)
                v = sh.get(c, 0.0)
                if v <= 0:
                    continue
                bottom = sum(sh.get(c2, 0.0) for c2 in cats[:cats.index(c)])
                ax.bar(xb, v, bottom=bottom, width=0.8, color=CATEGORY_COLOUR[c], edgecolor="white", linewidth=0.4)
                if v >= 6:
                    ax.text(xb, bottom + v / 2, f"{v:.0f}", ha="center", va="center", fontsize=7)
        ax.set_xticks([b[0] for b in bars])
        ax.set_xticklabels([f"{b[1]}\n{fmt_size(b[2])}" for b in bars], fontsize=8)
        ax.set_ylim(0, 100)
        ax.set_ylabel(f"share of the {side}'s samples (%)")
        ev = sorted({r.get("event", "") for r in srows} - {""})
        th = sorted({r.get("threads", "") for r in srows} - {""})
        steal = [float(r["steal_pct"]) for r in srows if r.get("steal_pct") not in (None, "")]
        sub = (f"perf record -g, event {', '.join(ev) or '?'}, {', '.join(th) or '?'} connection(s)"
               + (f", steal max {max(steal):.1f}%" if steal else ""))
        ax.set_title(f"Where the {side} spends its CPU time, by call chain\n{sub}", fontsize=10)
        # legend in stacking order, top of the bar first, one patch per category present
        handles = [plt.Rectangle((0, 0), 1, 1, facecolor=CATEGORY_COLOUR[c]) for c in reversed(cats)]
        ax.legend(handles, [CATEGORY_LABEL[c] for c in reversed(cats)], fontsize=8, loc="center left",
                  bbox_to_anchor=(1.01, 0.5), frameon=False, title="category (top of the bar first)",
                  title_fontsize=8)
        fig.text(0.5, 0.005, label, ha="center", va="bottom", fontsize=7, color="0.35")
        fig.tight_layout(rect=(0, 0.03, 1, 1))
        path = os.path.join(out_dir, f"profile_{side}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def plot_profiles_next_to(plt, path, out_dir, label):
    """For plots.py: draws the profile figures from profiles.csv at `path` (next to the results CSV,
    or --profiles) when it exists. A bad profiles.csv costs one line on stderr, never the other figures."""
    if not os.path.exists(path):
        return []
    try:
        rows = load_profile_rows(path)
    except InputError as e:
        print(f"plots.py: profiles left out: {e}", file=sys.stderr)
        return []
    if not rows:
        return []
    return draw_profile_figures(plt, rows, out_dir, label)


# ----------------------------------------------------------------------------------------------
# CLI

def subsample(lines, keep):
    """Every k-th sample block of perf script text, verbatim, about `keep` of them."""
    blocks, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line if line.endswith("\n") else line + "\n")
        elif cur:
            blocks.append(cur)
            cur = []
    if cur:
        blocks.append(cur)
    step = max(1, len(blocks) // max(1, keep))
    return "".join("".join(b) + "\n" for b in blocks[::step][:keep])


def _die(msg, code=2):
    print(f"profiles.py: {msg}", file=sys.stderr)
    return code


def main(argv=None):
    ap = argparse.ArgumentParser(prog="profiles.py", description="Sampled profiles of copybench, by category.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("parse")
    p.add_argument("input")
    p.add_argument("--impl", required=True)
    p.add_argument("--size", required=True, type=int)
    p.add_argument("--side", required=True, choices=("server", "client"))
    p.add_argument("--threads", default="")
    p.add_argument("--event", default="")
    p.add_argument("--steal", default="")
    p.add_argument("--netns", default="")
    p.add_argument("--out")
    p.add_argument("--top-out")
    p.add_argument("--top", type=int, default=15)
    c = sub.add_parser("check")
    c.add_argument("input")
    s = sub.add_parser("summary")
    s.add_argument("csv")
    s.add_argument("--side")
    sub.add_parser("rules")
    t = sub.add_parser("subsample")
    t.add_argument("input")
    t.add_argument("--keep", type=int, default=400)
    a = ap.parse_args(argv)

    if a.cmd == "rules":
        print(rules_markdown())
        return 0
    if a.cmd == "summary":
        try:
            print(summary_markdown(load_profile_rows(a.csv), a.side))
        except InputError as e:
            return _die(str(e))
        return 0
    try:
        with read_text(a.input) as f:
            if a.cmd == "subsample":
                sys.stdout.write(subsample(f, a.keep))
                return 0
            samples = parse_perf_script(f)
    except (OSError, EOFError) as e:
        return _die(f"{a.input}: {getattr(e, 'strerror', None) or e}")
    problem = resolution_problem(samples)
    if problem:
        print(f"profiles.py: {problem}", file=sys.stderr)
        return 3
    if a.cmd == "check":
        return 0
    if a.size <= 0:
        return _die("--size: must be a positive number of bytes")
    event = a.event or (samples[0].event if samples else "")
    meta = {"impl": a.impl, "size": a.size, "side": a.side, "threads": a.threads, "event": event,
            "steal": a.steal, "netns": a.netns}
    shares, top, n, _ = profile(samples, a.top)
    rows = profile_rows(meta, shares, n)
    if a.out:
        _append_csv(a.out, PROFILE_COLUMNS, rows)
        if a.top_out:
            _append_csv(a.top_out, TOP_COLUMNS, top_rows(meta, top))
    else:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(PROFILE_COLUMNS)
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
