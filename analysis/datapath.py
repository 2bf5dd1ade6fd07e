#!/usr/bin/env python3
"""Where the bytes of one message go, for each technique: the data-path figures.

usage: python3 -m analysis.datapath [--out-dir plots]

Writes data_path_A1.png, data_path_A2.png, data_path_A3.png, data_path_A3_loopback_vs_nic.png and
data_path_A4.png.

Each figure is built in two stages. First a pure data description (describe_*): boxes (a buffer in
memory, or a step of work with the actor that does it: the CPU in user space, the CPU in the kernel,
or the NIC's DMA engine) and arrows between them (a CPU copy, a DMA transfer, a reference with no
data moved, the completion notification, the ACK). The tests check that description: who copies,
where, how many times. Then draw_figure renders the description with matplotlib and nothing else,
so what is tested is what is drawn.

What the figures claim, and where it comes from (Documentation/networking/msg_zerocopy.rst,
tools/testing/selftests/net/msg_zerocopy.c, and a perf call graph of A3_server on this machine's
6.18 kernel):
  - send() and sendmsg() copy user memory into the kernel pages of the socket's skbs
    (tcp_sendmsg_locked); sendmsg gathers the 8 iovec entries in that one copy.
  - sendmsg(MSG_ZEROCOPY) takes references on the user pages instead (skb_zerocopy_iter_stream ->
    __zerocopy_sg_from_iter -> iov_iter_get_pages2 -> get_user_pages_fast), charges them to the
    user's locked memory (mm_account_pinned_pages), and points the skb frags at them. A NIC with
    scatter-gather then reads those pages by DMA: no CPU copy on the send side.
  - The pages are held until the kernel frees its last skb that references them: for TCP, when
    the ACK releases the retransmit-queue skb. Then a notification with the range [lo, hi] of
    send-call ids is queued on the socket error queue (poll reports POLLERR), read with
    recvmsg(MSG_ERRQUEUE): ee_info = lo, ee_data = hi. Only then may the buffer be rewritten.
  - A packet looped to a local socket (loopback, veth between namespaces) gets a deferred copy:
    skb_orphan_frags_rx -> skb_copy_ubufs copies the pages before local delivery (called from
    ip_local_deliver_finish on this kernel, in the softirq that runs inside the sender's
    sendmsg), and the completion carries SO_EE_CODE_ZEROCOPY_COPIED in ee_code.
  - The receiver copies kernel -> user in tcp_recvmsg for every technique: the client is one
    program for all of them.
  - A4 (io_uring, tools/testing/selftests/net/io_uring_zerocopy_tx.c, io_uring_prep_send_zc(3)):
    the sends are SQEs in a ring shared with the kernel, submitted as one linked chain with one
    io_uring_enter; each IORING_OP_SENDMSG_ZC pins the user pages as MSG_ZEROCOPY does (the skb's
    ubuf_info is io_uring's), and when the last skb referencing them is freed the kernel posts a
    notification CQE (IORING_CQE_F_NOTIF; with IORING_SEND_ZC_REPORT_USAGE its res carries
    IORING_NOTIF_USAGE_ZC_COPIED when the pages were copied) to the completion ring, which the
    server reads from shared memory without a system call. The deferred copy on loopback/veth is
    the same skb_copy_ubufs.
"""
import argparse
import os
import sys
import textwrap

# Who does the work. The keys are what the description uses; the values are the legend.
ACTORS = {
    "cpu_user": "CPU, user space",
    "cpu_kernel": "CPU, kernel",
    "nic_dma": "NIC DMA engine (no CPU)",
}
ACTOR_COLORS = {"cpu_user": "#9ecae1", "cpu_kernel": "#fdae6b", "nic_dma": "#a1d99b"}
BUFFER_COLOR = "#f0f0f0"
NOTE_COLOR = "#fffbe6"

# Profile categories (analysis/profiles.py); a box's `category` is one of these.
CATEGORIES = (
    "user-space copy",
    "copy from user into the kernel",
    "deferred copy (zero-copy fallback)",
    "copy to user on receive",
    "page pinning and unpinning",
    "completion notification and error-queue reads",
    "io_uring submission (SQEs, io_uring_enter, issuing)",
    "TCP/IP processing",
    "wake-ups, scheduling and locks",
    "syscall entry and exit",
    "other",
)
RECV_COPY = "copy to user on receive"
DEFERRED_COPY = "deferred copy (zero-copy fallback)"
COMPLETION = "completion notification and error-queue reads"
PINNING = "page pinning and unpinning"
SUBMISSION = "io_uring submission (SQEs, io_uring_enter, issuing)"
COPIED_CODE = "SO_EE_CODE_ZEROCOPY_COPIED"
COPIED_USAGE = "IORING_NOTIF_USAGE_ZC_COPIED"

ARROW_KINDS = ("copy", "dma", "flow", "ref", "completion", "ack")

# Layout, in data units of one panel (x -3.5..100.5, y 0..62). Bands: where the code runs.
BANDS = (("user space", 41.0, 59.0), ("kernel", 14.0, 40.0), ("NIC / link", 0.0, 13.0))
ROW_USER, ROW_KA, ROW_KB, ROW_DEV = (43.5, 55.5), (29, 38.5), (15.5, 25), (3, 11)
# Columns: L (the way back to the sender), M (the sender's way down), R1 (the receiver's way up),
# R2 (notes). split: the sender | receiver boundary; dma_x and ack_x: where routed arrows run.
GEOM_FULL = dict(L=(1, 23), M=(25, 47), R1=(53, 75), R2=(77, 99), split=50.8, dma_x=49.5, ack_x=76.0,
                 compact=False, headers=("server (sender)", "client (receiver): the same program for A1, A2, A3"))
GEOM_HALF = dict(L=(0.3, 29.5), M=(31.3, 60.5), R1=(64.5, 97.5), R2=None, split=62.8, dma_x=62.0, ack_x=99.2,
                 compact=True, headers=("server (sender)", "client (receiver), same for all"))

FILES = {
    "A1": "data_path_A1.png",
    "A2": "data_path_A2.png",
    "A3": "data_path_A3.png",
    "A3_loopback_vs_nic": "data_path_A3_loopback_vs_nic.png",
    "A4": "data_path_A4.png",
}


# ----------------------------------------------------------------------------------------------
# the description (pure data)

def _box(bid, col, row, label, kind="step", actor=None, step=None, side=None, cpu_of=None,
         category=None, copy=None, pinned=False, fields=0, contiguous=False, completion_code=None):
    """One rectangle. kind: step (work, has an actor), buffer (memory), note (text).
    side: which half of the path it belongs to (send / receive). cpu_of: whose CPU pays for it
    (sender / receiver), None for DMA. copy: 'from -> to' when the step copies payload bytes.
    pinned: user pages the kernel holds references on. completion_code: the ee_code the
    completion this step queues carries (None: 0, the pages were not copied). fields: draw that
    many separately allocated fields in the box (contiguous: side by side, as one buffer)."""
    return dict(id=bid, x=col[0], y=row[0], w=col[1] - col[0], h=row[1] - row[0], label=label,
                kind=kind, actor=actor, step=step, side=side, cpu_of=cpu_of, category=category,
                copy=copy, pinned=pinned, fields=fields, contiguous=contiguous, completion_code=completion_code,
                share_note=None)


def _arrow(src, dst, kind, label=None, via=None, src_at="bottom", dst_at="top"):
    """An arrow from box src to box dst. via: corner points (data units) of a routed arrow.
    src_at / dst_at: the side it leaves / enters (top, bottom, left, right), optionally with
    '@f', the fraction along that side (default the middle)."""
    return dict(src=src, dst=dst, kind=kind, label=label, via=via or [], src_at=src_at, dst_at=dst_at)


def _panel(name, title, g, boxes, arrows, path="any"):
    """path: the network path the panel draws, for measured shares: 'nic' (two hosts), 'local'
    (loopback / veth) or 'any' (A1, A2: their copies are the same on either path). Shares are
    printed only on a panel whose path is the one they were measured on."""
    return dict(name=name, title=title, split=g["split"], headers=g["headers"], path=path,
                header_x=((g["L"][0] + g["M"][1]) / 2, (g["R1"][0] + (g["R2"] or g["R1"])[1]) / 2),
                boxes=boxes, arrows=arrows)


def _receiver(g, first_step, recv_dma=True, from_box=None):
    """The client's side: one program for every technique, so the same boxes in every figure."""
    n = first_step
    boxes, arrows = [], []
    if recv_dma:
        boxes.append(_box("rx_dma", g["R1"], ROW_DEV, "NIC DMA writes the frames\ninto the RX ring (kernel pages)",
                          actor="nic_dma", step=n, side="receive"))
        boxes.append(_box("rx_tcp", g["R1"], ROW_KB, "TCP/IP receive (softirq):\nskb on the receive queue",
                          actor="cpu_kernel", step=n + 1, side="receive", cpu_of="receiver",
                          category="TCP/IP processing"))
        arrows.append(_arrow("rx_dma", "rx_tcp", "flow", src_at="top", dst_at="bottom"))
        from_box = "rx_tcp"
        n += 2
    boxes.append(_box("rx_copy", g["R1"], ROW_KA, "recv(): tcp_recvmsg copies\nkernel → user",
                      actor="cpu_kernel", step=n, side="receive", cpu_of="receiver", category=RECV_COPY,
                      copy="kernel -> user"))
    boxes.append(_box("rx_buf", g["R1"], ROW_USER, "client's receive buffer\n(64 KiB per recv);\n"
                      "the client finds messages", kind="buffer", side="receive"))
    arrows.append(_arrow(from_box, "rx_copy", "flow", src_at="top", dst_at="bottom"))
    arrows.append(_arrow("rx_copy", "rx_buf", "copy", src_at="top", dst_at="bottom"))
    return boxes, arrows, n + 1


def _wire(src, dst):
    return _arrow(src, dst, "dma", "wire", src_at="right@0.3", dst_at="left@0.3")


def _loopback_note(g, first, second):
    return _box("note", g["R2"], (15.5, 38.5), "On loopback / veth there\nis no NIC: the sent skb\n"
                f"itself is queued to the\nreceiving socket (steps\n{first} and {second} move no bytes).\n"
                "The copies stay the same.", kind="note")


def _copy_tx(g, step, label):
    return _box("tx_copy", g["M"], ROW_KA, label, actor="cpu_kernel", step=step, side="send", cpu_of="sender",
                category="copy from user into the kernel", copy="user -> kernel")


def _tcp_tx(g, step, label="TCP/IP output: headers,\nTSO/GSO segments"):
    return _box("tx_tcp", g["M"], ROW_KB, label, actor="cpu_kernel", step=step, side="send", cpu_of="sender",
                category="TCP/IP processing")


def describe_a1():
    g = GEOM_FULL
    boxes = [
        _box("fields", (1, 13), ROW_USER, "message: 8 fields,\neach its own malloc", kind="buffer",
             side="send", fields=8),
        _box("memcpy", (14.5, 31.5), ROW_USER, "memcpy × 8\ninto one buffer", actor="cpu_user", step=1,
             side="send", cpu_of="sender", category="user-space copy", copy="user -> user"),
        _box("flat", (33, 47), ROW_USER, "flat buffer: the\nmessage, contiguous", kind="buffer", side="send",
             fields=8, contiguous=True),
        _copy_tx(g, 2, "send(): tcp_sendmsg copies\nuser → kernel (skb pages)"),
        _tcp_tx(g, 3),
        _box("tx_dma", g["M"], ROW_DEV, "NIC DMA reads\nthe skb's kernel pages", actor="nic_dma", step=4,
             side="send"),
        _loopback_note(g, 4, 5),
    ]
    arrows = [
        _arrow("fields", "memcpy", "copy", src_at="right", dst_at="left"),
        _arrow("memcpy", "flat", "copy", src_at="right", dst_at="left"),
        _arrow("flat", "tx_copy", "copy"),
        _arrow("tx_copy", "tx_tcp", "flow"),
        _arrow("tx_tcp", "tx_dma", "flow"),
        _wire("tx_dma", "rx_dma"),
    ]
    rb, ra, _ = _receiver(g, 5)
    return _figure("A1", "A1 two-copy: memcpy the 8 fields into one buffer, then send()",
                   "Two CPU copies on the send side (in user space, then user → kernel), one on the receive "
                   "side; the NIC reads kernel pages.",
                   [_panel("A1", None, g, boxes + rb, arrows + ra)])


def describe_a2():
    g = GEOM_FULL
    boxes = [
        _box("iovec", (1, 20), ROW_USER, "struct iovec[8]:\npointer + length per\nfield (no data)",
             kind="buffer", side="send"),
        _box("fields", g["M"], ROW_USER, "message: 8 fields,\neach its own malloc", kind="buffer",
             side="send", fields=8),
        _copy_tx(g, 1, "sendmsg(): tcp_sendmsg\ngathers the 8 entries in\none copy user → kernel\n(skb pages)"),
        _tcp_tx(g, 2),
        _box("tx_dma", g["M"], ROW_DEV, "NIC DMA reads\nthe skb's kernel pages", actor="nic_dma", step=3,
             side="send"),
        _loopback_note(g, 3, 4),
    ]
    arrows = [
        _arrow("iovec", "fields", "ref", "points at", src_at="right", dst_at="left"),
        _arrow("fields", "tx_copy", "copy"),
        _arrow("tx_copy", "tx_tcp", "flow"),
        _arrow("tx_tcp", "tx_dma", "flow"),
        _wire("tx_dma", "rx_dma"),
    ]
    rb, ra, _ = _receiver(g, 4)
    return _figure("A2", "A2 one-copy: sendmsg() with an 8-entry iovec pointing at the fields",
                   "One CPU copy on the send side (the kernel gathers the 8 fields into its pages), one on "
                   "the receive side; the NIC reads kernel pages.",
                   [_panel("A2", None, g, boxes + rb, arrows + ra)])


def _a3_sender(g, nic):
    """A3 down to the wire. nic: a NIC with scatter-gather reads the user pages; otherwise the
    skb is looped to a local socket (loopback / veth)."""
    boxes = [
        _box("slot", g["M"], ROW_USER, "pool slot: 8 fields\n(user pages, pinned\nuntil completed)",
             kind="buffer", side="send", fields=8, pinned=True),
        _box("pin", g["M"], ROW_KA, ("sendmsg(MSG_ZEROCOPY)\npins the user pages;\nskb frags point at\nthem; no copy"
                                     if g["compact"] else
                                     "sendmsg(MSG_ZEROCOPY):\npin the user pages\n(get_user_pages); skb frags\n"
                                     "point at them; no copy"),
             actor="cpu_kernel", step=1, side="send", cpu_of="sender", category=PINNING),
        _tcp_tx(g, 2, "TCP/IP output: headers;\nframes point at the\nuser pages" if nic else
                "TCP/IP output, then\nlo / veth xmit:\nno NIC, no DMA"),
    ]
    arrows = [
        _arrow("pin", "slot", "ref", "page refs", src_at="top", dst_at="bottom"),
        _arrow("pin", "tx_tcp", "flow"),
    ]
    return boxes, arrows


def _a3_way_back(g, first_step, copied):
    """The ACK frees the skb, the pages are unpinned, the kernel queues the range [lo, hi] on the
    error queue; the server reads it and only then reuses the slot."""
    n = first_step
    boxes = [
        _box("complete", g["L"], ROW_KB, "ACK frees the skb: pages\nunpinned; completion lo..hi\n"
             + ("queued, ee_code COPIED" if copied else "queued, ee_code 0"),
             actor="cpu_kernel", step=n, side="send", cpu_of="sender", category=COMPLETION,
             completion_code=COPIED_CODE if copied else None),
        _box("errqueue", g["L"], ROW_KA, ("poll: POLLERR, then\nrecvmsg(MSG_ERRQUEUE)\nreads lo..hi from\n"
                                          "ee_info..ee_data" if g["compact"] else
                                          "poll: POLLERR, then\nrecvmsg(MSG_ERRQUEUE):\nids lo..hi = ee_info..ee_data"),
             actor="cpu_kernel", step=n + 1, side="send", cpu_of="sender", category=COMPLETION),
        _box("reuse", g["L"], ROW_USER, ("count hi - lo + 1 as\ncopied (zc_copied); only\nnow may the slot be\n"
                                         "rewritten" if copied else
                                         "count hi - lo + 1 done;\nonly now may the slot\nbe rewritten"),
             actor="cpu_user", step=n + 2, side="send", cpu_of="sender"),
    ]
    arrows = [
        _arrow("complete", "errqueue", "completion", src_at="top", dst_at="bottom"),
        _arrow("errqueue", "reuse", "completion", src_at="top", dst_at="bottom"),
        _arrow("reuse", "slot", "completion", src_at="right", dst_at="left"),
    ]
    return boxes, arrows


def _ack(g, src):
    """The receiver's TCP ACKs; the ACK comes back along the bottom to free the sender's skb."""
    src_y = ROW_KB[0] + (ROW_KB[1] - ROW_KB[0]) * 0.35
    lx = (g["L"][0] + g["L"][1]) / 2
    return _arrow(src, "complete", "ack", "ACK", via=[(g["ack_x"], src_y), (g["ack_x"], 1.2), (lx, 1.2)],
                  src_at="right@0.35", dst_at="bottom")


def _a3_nic(g):
    boxes, arrows = _a3_sender(g, nic=True)
    boxes.append(_box("tx_dma", g["M"], ROW_DEV, "NIC DMA reads the\nuser pages themselves\n(scatter-gather)",
                      actor="nic_dma", step=3, side="send"))
    # The DMA engine reads the user pages directly: the arrow starts at the slot, not at a copy.
    top = ROW_DEV[0] + (ROW_DEV[1] - ROW_DEV[0]) * 0.8
    mid = (ROW_USER[0] + ROW_USER[1]) / 2
    arrows += [_arrow("slot", "tx_dma", "dma", via=[(g["dma_x"], mid), (g["dma_x"], top)],
                      src_at="right", dst_at="right@0.8"),
               _arrow("tx_tcp", "tx_dma", "flow"),
               _wire("tx_dma", "rx_dma")]
    rb, ra, n = _receiver(g, 4)
    cb, ca = _a3_way_back(g, n, copied=False)
    return boxes + rb + cb, arrows + ra + ca + [_ack(g, "rx_tcp")]


def _a3_local(g):
    boxes, arrows = _a3_sender(g, nic=False)
    boxes.append(_box("rx_deferred", g["R1"], ROW_KB, "deferred copy before local\ndelivery: skb_copy_ubufs\n"
                      "copies the pinned pages;\nsoftirq, on the sender's CPU",
                      actor="cpu_kernel", step=3, side="receive", cpu_of="sender", category=DEFERRED_COPY,
                      copy="user pages -> new kernel pages"))
    # No NIC: the same skb crosses to the receiving socket's stack in memory.
    xm, xr = (g["M"][0] + g["M"][1]) / 2, (g["R1"][0] + g["R1"][1]) / 2
    arrows.append(_arrow("tx_tcp", "rx_deferred", "flow", "the skb itself, in memory",
                         via=[(xm, 7.5), (xr, 7.5)], dst_at="bottom"))
    rb, ra, n = _receiver(g, 4, recv_dma=False, from_box="rx_deferred")
    cb, ca = _a3_way_back(g, n, copied=True)
    return boxes + rb + cb, arrows + ra + ca + [_ack(g, "rx_deferred")]


def describe_a3():
    g = GEOM_FULL
    boxes, arrows = _a3_nic(g)
    boxes.append(_box("note", g["R2"], (15.5, 38.5), "On loopback / veth, or a\nNIC without scatter-gather,\n"
                      "the kernel copies after all\nand flags the completion\nSO_EE_CODE_ZEROCOPY_COPIED\n"
                      "(next figure).", kind="note"))
    return _figure("A3", "A3 zero-copy: sendmsg(MSG_ZEROCOPY) over a NIC with scatter-gather",
                   "No CPU copy on the send side: the pages are pinned and read by DMA; the buffer is the "
                   "kernel's until its completion is read from the error queue.",
                   [_panel("A3", None, g, boxes, arrows, path="nic")])


def describe_a3_loopback_vs_nic():
    g = GEOM_HALF
    lb, la = _a3_local(g)
    nb, na = _a3_nic(g)
    return _figure("A3_loopback_vs_nic", "A3 MSG_ZEROCOPY: loopback / veth (this machine) vs a NIC",
                   "Looped to a local socket the kernel copies the pinned pages anyway and says so "
                   "(ee_code COPIED); through a NIC nothing is copied on the send side.",
                   [_panel("A3_local", "loopback / veth (what copybench measures here)", g, lb, la, path="local"),
                    _panel("A3_nic", "NIC with scatter-gather, two hosts", g, nb, na, path="nic")])


def _a4_sender(g, nic):
    """A4 down to the TCP output: the chain submitted with one io_uring_enter, each send pinning."""
    boxes = [
        _box("slot", g["M"], ROW_USER, "pool slot: 8 fields\n(user pages, pinned\nuntil the notification)",
             kind="buffer", side="send", fields=8, pinned=True),
        _box("submit", g["M"], ROW_KA, "N sendmsg_zc SQEs, one\nlinked chain: one\nio_uring_enter issues\nthem in order",
             actor="cpu_kernel", step=1, side="send", cpu_of="sender", category=SUBMISSION),
        _box("pin", g["M"], ROW_KB, ("each send pins the user\npages; frames point\nat them; no copy" if nic else
                                     "each send pins the user\npages; TCP/IP, then\nlo / veth xmit: no copy"),
             actor="cpu_kernel", step=2, side="send", cpu_of="sender", category=PINNING),
    ]
    arrows = [
        _arrow("submit", "slot", "ref", "iovec: page refs", src_at="top", dst_at="bottom"),
        _arrow("submit", "pin", "flow"),
    ]
    return boxes, arrows


def _a4_way_back(g, first_step, copied):
    """The skb freed, the pages unpinned, a notification CQE on the ring (shared memory): the
    server reads it without a system call and only then reuses the slot."""
    n = first_step
    boxes = [
        _box("complete", g["L"], ROW_KB, "skb freed: pages unpinned;\nthe kernel posts a\nnotification CQE"
             + ("\n(res: ZC_COPIED)" if copied else "\n(res 0)"),
             actor="cpu_kernel", step=n, side="send", cpu_of="sender", category=COMPLETION,
             completion_code=COPIED_USAGE if copied else None),
        _box("cqring", g["L"], ROW_KA, "completion ring (memory\nshared with the kernel):\nCQE flagged F_NOTIF",
             kind="buffer", side="send"),
        _box("reuse", g["L"], ROW_USER, ("read the CQE, no syscall;\ncount it copied\n(zc_copied); only now\n"
                                         "may the slot be rewritten" if copied else
                                         "read the CQE, no syscall;\nonly now may the slot\nbe rewritten"),
             actor="cpu_user", step=n + 1, side="send", cpu_of="sender", category=COMPLETION),
    ]
    arrows = [
        _arrow("complete", "cqring", "completion", src_at="top", dst_at="bottom"),
        _arrow("cqring", "reuse", "completion", src_at="top", dst_at="bottom"),
        _arrow("reuse", "slot", "completion", src_at="right", dst_at="left"),
    ]
    return boxes, arrows


def _a4_local(g):
    boxes, arrows = _a4_sender(g, nic=False)
    boxes.append(_box("rx_deferred", g["R1"], ROW_KB, "deferred copy before local\ndelivery: skb_copy_ubufs\n"
                      "copies the pinned pages;\nsoftirq, on the sender's CPU",
                      actor="cpu_kernel", step=3, side="receive", cpu_of="sender", category=DEFERRED_COPY,
                      copy="user pages -> new kernel pages"))
    xm, xr = (g["M"][0] + g["M"][1]) / 2, (g["R1"][0] + g["R1"][1]) / 2
    arrows.append(_arrow("pin", "rx_deferred", "flow", "the skb itself, in memory",
                         via=[(xm, 7.5), (xr, 7.5)], dst_at="bottom"))
    rb, ra, n = _receiver(g, 4, recv_dma=False, from_box="rx_deferred")
    cb, ca = _a4_way_back(g, n, copied=True)
    return boxes + rb + cb, arrows + ra + ca + [_ack(g, "rx_deferred")]


def _a4_nic(g):
    boxes, arrows = _a4_sender(g, nic=True)
    boxes.append(_box("tx_dma", g["M"], ROW_DEV, "NIC DMA reads the\nuser pages themselves\n(scatter-gather)",
                      actor="nic_dma", step=3, side="send"))
    top = ROW_DEV[0] + (ROW_DEV[1] - ROW_DEV[0]) * 0.8
    mid = (ROW_USER[0] + ROW_USER[1]) / 2
    arrows += [_arrow("slot", "tx_dma", "dma", via=[(g["dma_x"], mid), (g["dma_x"], top)],
                      src_at="right", dst_at="right@0.8"),
               _arrow("pin", "tx_dma", "flow"),
               _wire("tx_dma", "rx_dma")]
    rb, ra, n = _receiver(g, 4)
    cb, ca = _a4_way_back(g, n, copied=False)
    return boxes + rb + cb, arrows + ra + ca + [_ack(g, "rx_tcp")]


def describe_a4():
    g = GEOM_HALF
    lb, la = _a4_local(g)
    nb, na = _a4_nic(g)
    return _figure("A4", "A4 io_uring zero-copy: loopback / veth (this machine) vs a NIC",
                   "The same pinning and deferred copy as A3; what differs is the way in (a chain of SQEs, "
                   "one system call) and the way back (a CQE in shared memory, not an error-queue read).",
                   [_panel("A4_local", "loopback / veth (what copybench measures here)", g, lb, la, path="local"),
                    _panel("A4_nic", "NIC with scatter-gather, two hosts", g, nb, na, path="nic")])


def _figure(name, title, caption, panels):
    return dict(name=name, file=FILES[name], title=title, caption=caption, panels=panels)


def describe_all():
    """The five figure descriptions, in file order."""
    return [describe_a1(), describe_a2(), describe_a3(), describe_a3_loopback_vs_nic(), describe_a4()]


# ----------------------------------------------------------------------------------------------
# questions the tests (and the figures' tallies) ask of a description

def steps(panel):
    return sorted((b for b in panel["boxes"] if b["kind"] == "step"), key=lambda b: b["step"])


def cpu_copies(panel, side=None):
    """Steps where the CPU copies payload bytes (side: 'send', 'receive' or None for both)."""
    return [b for b in steps(panel)
            if b["copy"] and b["actor"] in ("cpu_user", "cpu_kernel") and (side is None or b["side"] == side)]


def copies_paid_by(panel, who):
    return [b for b in steps(panel) if b["copy"] and b["actor"] != "nic_dma" and b["cpu_of"] == who]


def tally(panel):
    """One line: how many times the CPU copies each byte, and where."""
    send = len(cpu_copies(panel, "send"))
    deferred = [b for b in cpu_copies(panel, "receive") if b["cpu_of"] == "sender"]
    recv = len(cpu_copies(panel, "receive")) - len(deferred)
    parts = [f"CPU copies of each byte: {send} on the send path"]
    if deferred:
        parts.append(f"{len(deferred)} deferred (paid by the sender)")
    parts.append(f"{recv} on the receive path")
    return ", ".join(parts)


def problems(fig):
    """Consistency of a description: unique ids, arrows between existing boxes, steps numbered
    1..n, every step has an actor, categories known, no two boxes overlapping."""
    out = []
    for p in fig["panels"]:
        ids = [b["id"] for b in p["boxes"]]
        if len(ids) != len(set(ids)):
            out.append(f"{p['name']}: duplicate box ids")
        for a in p["arrows"]:
            for end in (a["src"], a["dst"]):
                if end not in ids:
                    out.append(f"{p['name']}: arrow end '{end}' is not a box")
            if a["kind"] not in ARROW_KINDS:
                out.append(f"{p['name']}: arrow kind '{a['kind']}'")
        nums = [b["step"] for b in steps(p)]
        if nums != list(range(1, len(nums) + 1)):
            out.append(f"{p['name']}: steps numbered {nums}")
        for b in p["boxes"]:
            if b["kind"] == "step" and b["actor"] not in ACTORS:
                out.append(f"{p['name']}: step {b['id']} has no actor")
            if b["category"] and b["category"] not in CATEGORIES:
                out.append(f"{p['name']}: {b['id']}: unknown category {b['category']}")
        bs = p["boxes"]
        for i, b in enumerate(bs):
            for c in bs[i + 1:]:
                if (b["x"] < c["x"] + c["w"] and c["x"] < b["x"] + b["w"] and
                        b["y"] < c["y"] + c["h"] and c["y"] < b["y"] + b["h"]):
                    out.append(f"{p['name']}: boxes {b['id']} and {c['id']} overlap")
    return out


# ----------------------------------------------------------------------------------------------
# measured shares

def fmt_size(n):
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1 << 10 and n % (1 << 10) == 0:
        return f"{n >> 10} KiB"
    return f"{n} B"


def pick_size(shares, impl, prefer=None):
    """The message size whose shares annotate impl's figure: `prefer` when measured, else the
    largest size measured for every technique in `shares` (so the figures compare like with like),
    else the largest measured for impl. None when impl has no shares."""
    mine = sorted(s for (i, s) in shares if i == impl)
    if not mine:
        return None
    if prefer in mine:
        return prefer
    impls = {i for (i, _) in shares}
    common = [s for s in mine if all((i, s) in shares for i in impls)]
    return (common or mine)[-1]


def fmt_share(pct):
    return f"{pct:.0f}%" if pct >= 10 else f"{pct:.1f}%"


LOCAL_PATHS = ("veth", "loopback", "local")
# Work whose measured share depends on the path: over loopback / veth the receiver's TCP/IP
# receive softirq runs on the sender's CPU and is counted in this category with the send path.
PATH_DEPENDENT = ("TCP/IP processing",)


def annotate(fig, shares, prefer_size=None, measured_on="veth"):
    """A copy of fig where a box paid by the sender's CPU carries its measured share (share_note,
    e.g. '15% of sender CPU (1 KiB)') only on a panel that draws the path the profile was measured
    on (measured_on: veth, loopback or nic; see _panel): a figure of the NIC path never shows
    numbers measured over veth, and says so in its footnote. A category several boxes share
    (the completion: queued, then read) is printed once, on its first box, naming the steps. Over
    loopback / veth the TCP/IP share includes the receiver's softirq, so it goes to the footnote,
    said so, not into the send-path box. Every category not in a box is listed in
    fig['share_footnote'] (largest first, under 0.5% left out)."""
    out = dict(fig, panels=[], share_footnote=None)
    impl = fig["name"][:2]
    size = pick_size(shares, impl, prefer_size) if shares else None
    if size is None:
        out["panels"] = fig["panels"]
        return out
    local = (measured_on or "veth") in LOCAL_PATHS
    where = measured_on or "veth"
    measured = shares[(impl, size)]
    shown, any_panel = set(), False
    for p in fig["panels"]:
        ok = p["path"] == "any" or p["path"] == ("local" if local else "nic")
        any_panel |= ok
        boxes = [dict(b) for b in p["boxes"]]
        if ok:
            by_cat = {}
            for b in sorted((b for b in boxes if b["kind"] == "step"), key=lambda b: b["step"]):
                cat = b["category"]
                if (cat and b["cpu_of"] == "sender" and measured.get(cat) is not None
                        and not (local and cat in PATH_DEPENDENT)):
                    by_cat.setdefault(cat, []).append(b)
            for cat, bs in by_cat.items():
                bs[0]["share_note"] = (f"steps {bs[0]['step']}-{bs[-1]['step']}: {fmt_share(measured[cat])} of sender CPU"
                                       if len(bs) > 1 else f"{fmt_share(measured[cat])} of sender CPU ({fmt_size(size)})")
                shown.add(cat)
        out["panels"].append(dict(p, boxes=boxes))
    if not any_panel:
        out["share_footnote"] = (f"Shares not measured here: the profiles were taken over {where}, where the kernel "
                                 "copies A3's pinned pages (data_path_A3_loopback_vs_nic.png); a two-host run "
                                 "(run_experiments.sh --server-host) measures this path.")
        return out

    def label(c, v):
        if local and c in PATH_DEPENDENT:
            return (f"{c} {fmt_share(v)} (the send path plus the receiver's receive softirq, which over {where} "
                    "runs on the sender's CPU)")
        return f"{c} {fmt_share(v)}"
    rest = sorted(((v, c) for c, v in measured.items() if c not in shown and v is not None and v >= 0.5),
                  reverse=True)
    out["share_footnote"] = (f"Server (sender) CPU profile over {where}, {fmt_size(size)} messages; not in a box "
                             "above: " + (", ".join(label(c, v) for v, c in rest) if rest else "nothing over 0.5%"))
    return out


# ----------------------------------------------------------------------------------------------
# drawing (consumes a description, decides nothing)

def _anchor(b, where):
    side, _, frac = where.partition("@")
    f = float(frac) if frac else 0.5
    x, y, w, h = b["x"], b["y"], b["w"], b["h"]
    return {"top": (x + w * f, y + h), "bottom": (x + w * f, y), "left": (x, y + h * f),
            "right": (x + w, y + h * f)}[side]


ARROW_STYLE = {
    "copy": dict(color="black", lw=2.2, ls="-"),
    "dma": dict(color="#238b45", lw=2.2, ls="-"),
    "flow": dict(color="0.45", lw=1.1, ls="-"),
    "ref": dict(color="0.45", lw=1.1, ls=(0, (4, 2))),
    "completion": dict(color="#6a3d9a", lw=1.6, ls=(0, (5, 2))),
    "ack": dict(color="0.35", lw=1.2, ls=(0, (1, 1.5))),
}
ARROW_LEGEND = {
    "copy": "bytes copied by the CPU",
    "dma": "bytes moved by DMA",
    "ref": "reference only (no bytes move)",
    "completion": "completion via the error queue",
    "ack": "TCP ACK",
}


def _draw_arrow(ax, a, boxes, fontsize):
    src, dst = boxes[a["src"]], boxes[a["dst"]]
    pts = [_anchor(src, a["src_at"])] + [tuple(p) for p in a["via"]] + [_anchor(dst, a["dst_at"])]
    st = ARROW_STYLE[a["kind"]]
    for p, q in zip(pts[:-2], pts[1:-1]):
        ax.plot([p[0], q[0]], [p[1], q[1]], color=st["color"], lw=st["lw"], ls=st["ls"], zorder=2,
                solid_capstyle="butt")
    ax.annotate("", xy=pts[-1], xytext=pts[-2], zorder=2,
                arrowprops=dict(arrowstyle="-|>", color=st["color"], lw=st["lw"], ls=st["ls"],
                                shrinkA=0, shrinkB=0, mutation_scale=12))
    if a["label"]:
        # the label sits on the longest segment, beside it
        seg = max(zip(pts[:-1], pts[1:]), key=lambda s: abs(s[0][0] - s[1][0]) + abs(s[0][1] - s[1][1]))
        (x0, y0), (x1, y1) = seg
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        if abs(y1 - y0) >= abs(x1 - x0):
            ax.text(mx + 0.6, my, a["label"], fontsize=fontsize - 1, color=st["color"], ha="left",
                    va="center", zorder=4, style="italic")
        else:
            ax.text(mx, my + 0.5, a["label"], fontsize=fontsize - 1, color=st["color"], ha="center",
                    va="bottom", zorder=4, style="italic")


def _draw_fields(ax, b):
    """The 8 separately allocated fields: small blocks at uneven places, as malloc leaves them."""
    x, y, w, h = b["x"], b["y"], b["w"], b["h"]
    fw, fh = w / 7.5, h / 5.5
    # fixed "random" places: 4 columns, 2 staggered rows
    dx = (0.0, 0.5, 0.15, 0.35, 0.45, 0.05, 0.3, 0.1)
    dy = (0.1, 0.9, 0.4, 1.0, 0.0, 0.6, 0.2, 0.7)
    if b["contiguous"]:
        cw = w * 0.8 / b["fields"]
        for i in range(b["fields"]):
            ax.add_patch(_rect(x + 0.1 * w + i * cw, y + 0.25 * h, cw, fh, fc="white", ec="0.3", lw=0.8, z=3))
        return
    for i in range(b["fields"]):
        col, row = i % 4, i // 4
        fx = x + 0.05 * w + col * (w * 0.9 - fw * 1.5) / 3 + dx[i] * fw
        fy = y + 0.08 * h + row * fh * 1.7 + dy[i] * fh * 0.5
        ax.add_patch(_rect(fx, fy, fw, fh, fc="white", ec="0.3", lw=0.8, hatch="////" if b["pinned"] else None,
                           z=3))


def _rect(x, y, w, h, fc, ec, lw, hatch=None, z=1, style="square,pad=0"):
    from matplotlib.patches import FancyBboxPatch
    return FancyBboxPatch((x, y), w, h, boxstyle=style, fc=fc, ec=ec, lw=lw, hatch=hatch, zorder=z)


def _draw_box(ax, b, fontsize, texts, patches):
    x, y, w, h = b["x"], b["y"], b["w"], b["h"]
    if b["kind"] == "step":
        fc, ec, lw = ACTOR_COLORS[b["actor"]], "0.25", 1.0
    elif b["kind"] == "buffer":
        fc, ec, lw = BUFFER_COLOR, "0.25", 1.0
    else:
        fc, ec, lw = NOTE_COLOR, "0.6", 0.8
    p = _rect(x, y, w, h, fc=fc, ec="#b2182b" if b["pinned"] else ec, lw=2.0 if b["pinned"] else lw, z=2,
              style="round,pad=0,rounding_size=0.8")
    ax.add_patch(p)
    patches.append((b, p))
    note = b["share_note"]
    if b["fields"]:
        # label in the top part, the fields drawn below it
        t = ax.text(x + w / 2, y + h - 0.5, b["label"], ha="center", va="top", fontsize=fontsize, zorder=4,
                    linespacing=1.1)
        _draw_fields(ax, dict(b, h=h * 0.48))
    else:
        # a measured share takes the bottom line; the label centres in what is left
        cy = y + h / 2 + (1.1 if note else 0)
        t = ax.text(x + w / 2 + (0.9 if b["step"] else 0), cy, b["label"], ha="center", va="center",
                    fontsize=fontsize, zorder=4, linespacing=1.1,
                    style="italic" if b["kind"] == "note" else "normal")
    if note:
        n = ax.text(x + w / 2, y + 0.45, note, ha="center", va="bottom", fontsize=fontsize - 1,
                    zorder=4, fontweight="bold", color="#08306b")
        texts.append((b, n))
    texts.append((b, t))
    if b["step"]:
        ax.text(x + 0.2, y + h - 0.3, str(b["step"]), ha="left", va="top", fontsize=fontsize, zorder=5,
                color="white", fontweight="bold",
                bbox=dict(boxstyle="circle,pad=0.22", fc="0.15", ec="none"))


def _draw_panel(ax, p, fontsize):
    boxes = {b["id"]: b for b in p["boxes"]}
    ax.set_xlim(-3.5, 100.5)
    ax.set_ylim(-0.5, 62.5)
    ax.axis("off")
    band_fc = {"user space": "#eef5fb", "kernel": "#fdf3ea", "NIC / link": "#eef8ec"}
    for name, y0, y1 in BANDS:
        ax.add_patch(_rect(-3.3, y0, 103.6, y1 - y0, fc=band_fc[name], ec="none", lw=0, z=0))
        ax.text(-2.3, (y0 + y1) / 2, name, rotation=90, ha="center", va="center", fontsize=fontsize,
                color="0.35", zorder=1)
    ax.plot([p["split"]] * 2, [13.3, 60], color="0.55", lw=1, ls=(0, (2, 2)), zorder=1)
    for x, h in zip(p["header_x"], p["headers"]):
        ax.text(x, 60.2, h, ha="center", va="bottom", fontsize=fontsize + 0.5, fontweight="bold", color="0.2")
    texts, patches = [], []
    for b in p["boxes"]:
        _draw_box(ax, b, fontsize, texts, patches)
    for a in p["arrows"]:
        _draw_arrow(ax, a, boxes, fontsize)
    if p.get("title"):
        ax.set_title(p["title"], fontsize=fontsize + 1.5, pad=2)
    return texts, patches


def _legend_handles(fig):
    """Who does the work (every actor, always, so the figures read alike), then only the kinds of
    buffer and arrow this figure uses."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    boxes = [b for p in fig["panels"] for b in p["boxes"]]
    kinds = {a["kind"] for p in fig["panels"] for a in p["arrows"]}
    h = [Patch(fc=ACTOR_COLORS[k], ec="0.25", label=v) for k, v in ACTORS.items()]
    h.append(Patch(fc=BUFFER_COLOR, ec="0.25", label="memory (a buffer)"))
    if any(b["pinned"] for b in boxes):
        h.append(Patch(fc="white", ec="#b2182b", lw=2, hatch="////", label="pinned user pages"))
    for k, v in ARROW_LEGEND.items():
        if k == "completion" and fig["name"].startswith("A4"):
            v = "completion via the completion ring"
        if k in kinds:
            st = ARROW_STYLE[k]
            h.append(Line2D([0], [0], color=st["color"], lw=st["lw"], ls=st["ls"], label=v))
    return h


def layout_problems(fig_obj, drawn):
    """After drawing: texts that spill out of their box or overlap another text, and a title,
    legend or caption cut off by the figure's edge (all in pixels)."""
    fig_obj.canvas.draw()
    r = fig_obj.canvas.get_renderer()
    out = []
    page = fig_obj.bbox
    for artist in list(fig_obj.texts) + list(fig_obj.legends):
        e = artist.get_window_extent(r)
        if e.x0 < page.x0 or e.x1 > page.x1 or e.y0 < page.y0 or e.y1 > page.y1:
            what = artist.get_text()[:40] if hasattr(artist, "get_text") else "the legend"
            out.append(f"{what!r} is cut off by the figure's edge")
    for texts, patches in drawn:
        pbox = {b["id"]: p.get_window_extent(r) for b, p in patches}
        ext = [(b, t, t.get_window_extent(r)) for b, t in texts]
        for b, t, e in ext:
            pb = pbox[b["id"]]
            if e.x0 < pb.x0 - 0.5 or e.x1 > pb.x1 + 0.5 or e.y0 < pb.y0 - 0.5 or e.y1 > pb.y1 + 0.5:
                out.append(f"text of {b['id']} spills out of its box")
        for i, (b, t, e) in enumerate(ext):
            for c, u, f in ext[i + 1:]:
                if e.overlaps(f) and b["id"] != c["id"]:
                    out.append(f"texts of {b['id']} and {c['id']} overlap")
                elif b["id"] == c["id"] and e.overlaps(f):
                    out.append(f"texts inside {b['id']} overlap")
    return out


def draw_figure(plt, fig, path, dpi=100):
    """Render one description to path (1100 x 650 px at dpi 100). Returns layout problems found."""
    n = len(fig["panels"])
    fs = 8.5 if n == 1 else 7.0
    f = plt.figure(figsize=(11, 6.5))
    f.text(0.5, 0.985, fig["title"], ha="center", va="top", fontsize=12.5, fontweight="bold")
    handles = _legend_handles(fig)
    f.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.955),
             ncol=len(handles) if len(handles) <= 6 else (len(handles) + 1) // 2,
             fontsize=7.5, frameon=False, handlelength=2.6, columnspacing=1.4)
    drawn = []
    width = 0.985 / n
    foot = fig.get("share_footnote")
    foot = textwrap.fill(foot, 190) if foot else None
    bottom = 0.085 + (0.02 * (foot.count("\n") + 1) if foot else 0)
    for i, p in enumerate(fig["panels"]):
        ax = f.add_axes([0.008 + i * width, bottom, width - 0.006, 0.865 - bottom])
        drawn.append(_draw_panel(ax, p, fs))
        ax.text(50, -0.4, tally(p), ha="center", va="top", fontsize=fs, color="0.1", fontweight="bold")
    if foot:
        f.text(0.5, 0.038, foot, ha="center", va="bottom", fontsize=8, color="#08306b", linespacing=1.15)
    f.text(0.5, 0.01, fig["caption"], ha="center", va="bottom", fontsize=9, color="0.15", style="italic")
    problems_found = layout_problems(f, drawn)
    f.savefig(path, dpi=dpi)
    plt.close(f)
    return problems_found


def draw_data_paths(plt, out_dir, shares=None, size=None, measured_on="veth"):
    """Write the five data-path PNGs to out_dir; returns their paths. shares: optional
    {(impl, size): {category: percent of the server's CPU}} to print on the boxes (size: the
    message size to show when several are measured; measured_on: the path the profiles crossed,
    see annotate). Raises ValueError on a description that fails its own consistency check, so a
    broken figure is never written silently."""
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for fig in describe_all():
        bad = problems(fig)
        if bad:
            raise ValueError(f"data-path figure {fig['name']}: " + "; ".join(bad))
        if shares:
            fig = annotate(fig, shares, size, measured_on)
        path = os.path.join(out_dir, fig["file"])
        for msg in draw_figure(plt, fig, path):
            print(f"datapath: {fig['file']}: {msg}", file=sys.stderr)
        written.append(path)
    return written


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m analysis.datapath",
                                 description="Draw the data-path figures (where each technique copies).")
    ap.add_argument("--out-dir", default="plots", help="directory for the PNGs (default plots)")
    a = ap.parse_args(argv)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"datapath: matplotlib is missing for {sys.executable}: install python3-matplotlib "
              "(apt-get install python3-matplotlib)", file=sys.stderr)
        return 1
    try:
        written = draw_data_paths(plt, a.out_dir)
    except OSError as e:
        print(f"datapath: {a.out_dir}: {e.strerror}", file=sys.stderr)
        return 1
    print("datapath: wrote " + ", ".join(written), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
