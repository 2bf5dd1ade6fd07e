#!/usr/bin/env python3
"""The kernel's byte counts of live TCP connections, sampled on the test's own clock.

usage: tcp_sampler.py --dport PORT --out FILE [--every SECONDS] [--until-pid PID] [--max-seconds S]

Asks the kernel (sock_diag / inet_diag over netlink: what `ss -ti` reads, without a process per
look) for every TCP socket of this network namespace whose remote port is PORT (a client's
sockets to the server) and writes one line per look:

    T0 T1 N lport:bytes_received:rqueue ...

T0 and T1 are CLOCK_MONOTONIC seconds (the clock the programs stamp with) taken just before and
just after the look, so every count was read at some instant between them. N counts the sockets
that reported TCP_INFO (a socket in TIME_WAIT, or gone, reports none). bytes_received is
tcpi_bytes_received; rqueue is what the kernel holds that the program has not read yet (for a
connected socket, rcv_nxt - copied_seq), so bytes_received - rqueue is what the program has read.

It looks every SECONDS (default 0.002) until PID has exited (or after S seconds, default 60).
"""
import argparse
import os
import socket
import struct
import time

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
INET_DIAG_INFO = 2
# struct tcp_info (include/uapi/linux/tcp.h): tcpi_bytes_received is the u64 at offset 128
# (tests/t_numbers.sh checks this offset against the header with a C compiler).
TCPI_BYTES_RECEIVED = 128


def request(family):
    # struct inet_diag_req_v2: family, protocol, ext, pad, states, then inet_diag_sockid (48 bytes)
    req = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 1 << (INET_DIAG_INFO - 1), 0, 0xFFFFFFFF)
    req += b"\0" * 48
    hdr = struct.pack("=IHHII", 16 + len(req), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
    return hdr + req


def look(nl, dport):
    """[(lport, bytes_received, rqueue)] of the sockets to dport that report TCP_INFO."""
    found = []
    for family in (socket.AF_INET, socket.AF_INET6):
        nl.send(request(family))
        done = False
        while not done:
            data = nl.recv(1 << 20)
            off = 0
            while off + 16 <= len(data):
                length, kind = struct.unpack_from("=IH", data, off)
                if kind in (NLMSG_DONE, NLMSG_ERROR):
                    done = True
                    break
                msg = off + 16
                # struct inet_diag_msg: family, state, timer, retrans, sockid (sport, dport big-endian,
                # then addresses, interface, cookie), expires, rqueue, wqueue, uid, inode: 72 bytes
                sport, rport = struct.unpack_from(">HH", data, msg + 4)
                rqueue = struct.unpack_from("=I", data, msg + 56)[0]
                attr = msg + 72
                while attr + 4 <= off + length:
                    alen, atype = struct.unpack_from("=HH", data, attr)
                    if alen < 4:
                        break
                    if atype == INET_DIAG_INFO and alen >= 4 + TCPI_BYTES_RECEIVED + 8 and rport == dport:
                        got = struct.unpack_from("=Q", data, attr + 4 + TCPI_BYTES_RECEIVED)[0]
                        found.append((sport, got, rqueue))
                    attr += (alen + 3) & ~3
                off += (length + 3) & ~3
    return found


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours is dead for this purpose
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dport", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--every", type=float, default=0.002)
    ap.add_argument("--until-pid", type=int)
    ap.add_argument("--max-seconds", type=float, default=60)
    a = ap.parse_args()
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
    end = time.monotonic() + a.max_seconds
    with open(a.out, "w") as out:
        while time.monotonic() < end:
            t0 = time.monotonic()
            socks = look(nl, a.dport)
            t1 = time.monotonic()
            out.write(f"{t0:.6f} {t1:.6f} {len(socks)} " + " ".join(f"{p}:{b}:{q}" for p, b, q in socks) + "\n")
            out.flush()
            if a.until_pid and not alive(a.until_pid):
                break
            time.sleep(a.every)


if __name__ == "__main__":
    main()
