#!/usr/bin/env python3
"""An independent receiver: counts and verifies every byte a copybench server sends.

usage: oracle_rx.py HOST PORT [--size BYTES] [--mode stream|rr] [--duration SECONDS]

Written from docs/protocol.md alone (it shares no code with the programs): it says hello with
the verify flag (so the server writes every payload byte of every message), sends the start,
then for DURATION seconds of its own clock reads messages (stream) or asks for them one at a
time (rr), and ends as the protocol says: shuts down its sending side and reads to the server's
EOF. Every message is checked whole: its sequence number (0, 1, 2, ... or, in rr, the one asked
for), its send stamp (CLOCK_MONOTONIC, taken no earlier than our start message went out and no
later than the message arrived), and every payload byte against the protocol's formula.

Before closing it reads the kernel's own count of what the connection received
(TCP_INFO tcpi_bytes_received) and prints one line:

    oracle mode=M size=S status=N technique=N messages=N bytes=N cut=N bad_seq=N bad_stamp=N
           bad_payload=N kernel_bytes_received=N

bytes: every byte read after the reply, to EOF; cut: bytes of a last message the EOF cut short
(0 when the server ends as the protocol says). Exit status 0 when the hello was accepted and
nothing was wrong, 1 otherwise.
"""
import argparse
import socket
import struct
import sys
import time

HELLO_MAGIC, START_MAGIC, VERSION = 0x43504231, 0x43504253, 2
FLAG_VERIFY = 1
TCPI_BYTES_RECEIVED = 128   # offset of the u64 in struct tcp_info (linux/tcp.h)


def payload_base(size):
    """Payload bytes 16..size-1 for key 0; key k's payload is this with every byte XOR k."""
    return bytes(((i * 0x9D) ^ (i >> 8) ^ (i >> 16)) & 0xFF for i in range(16, size))


class Checker:
    def __init__(self, size, start_ns):
        self.size, self.start_ns = size, start_ns
        self.base = payload_base(size)
        self.by_key = {}
        self.messages = self.bad_seq = self.bad_stamp = self.bad_payload = 0
        self.last_stamp = 0

    def payload(self, seq):
        key = ((seq * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> 56
        p = self.by_key.get(key)
        if p is None:
            p = self.by_key[key] = self.base.translate(bytes(b ^ key for b in range(256)))
        return p

    def message(self, msg, want_seq, now_ns):
        seq, stamp = struct.unpack_from(">QQ", msg, 0)
        self.messages += 1
        if seq != want_seq:
            self.bad_seq += 1
        # stamped when the server wanted to send it: after our start, before it arrived, and in
        # the order sent
        if not (self.start_ns <= stamp <= now_ns) or stamp < self.last_stamp:
            self.bad_stamp += 1
        self.last_stamp = max(self.last_stamp, stamp)
        if msg[16:] != self.payload(seq):
            self.bad_payload += 1


def read_exact(s, n):
    b = bytearray()
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            break
        b += chunk
    return bytes(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--mode", choices=("stream", "rr"), default="stream")
    ap.add_argument("--duration", type=float, default=0.3)
    a = ap.parse_args()
    size, rr = a.size, a.mode == "rr"

    s = socket.create_connection((a.host, a.port), timeout=20)
    if rr:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(struct.pack(">IHHIIQ", HELLO_MAGIC, VERSION, 1 if rr else 0, size, FLAG_VERIFY, 0))
    reply = read_exact(s, 16)
    if len(reply) < 16:
        print("oracle: no reply to the hello", file=sys.stderr)
        return 1
    magic, _version, status, technique = struct.unpack_from(">IHHH", reply, 0)
    line = f"oracle mode={a.mode} size={size} status={status} technique={technique}"
    if magic != HELLO_MAGIC or status != 0:
        print(line)
        return 1
    start_ns = time.monotonic_ns()
    s.sendall(struct.pack(">II", START_MAGIC, 0))
    chk = Checker(size, start_ns)
    end = time.monotonic() + a.duration
    total = cut = 0
    seq = 0
    buf = bytearray()
    if rr:
        while time.monotonic() < end:
            s.sendall(struct.pack(">QQ", seq, 0))
            msg = read_exact(s, size)
            total += len(msg)
            if len(msg) < size:
                cut = len(msg)
                break
            chk.message(msg, seq, time.monotonic_ns())
            seq += 1
        s.shutdown(socket.SHUT_WR)
    else:
        shut = False
        while True:
            if not shut and time.monotonic() >= end:
                s.shutdown(socket.SHUT_WR)     # the end of our window: the server finishes its message
                shut = True
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            now = time.monotonic_ns()
            total += len(chunk)
            buf += chunk
            whole = len(buf) // size * size
            for off in range(0, whole, size):
                chk.message(buf[off:off + size], seq, now)
                seq += 1
            del buf[:whole]
        cut = len(buf)
    # after the stream (rr: after the last reply) nothing more may come but the server's EOF
    while True:
        chunk = s.recv(1 << 16)
        if not chunk:
            break
        total += len(chunk)
        cut += len(chunk)
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
    kernel = struct.unpack_from("=Q", info, TCPI_BYTES_RECEIVED)[0]
    s.close()
    print(f"{line} messages={chk.messages} bytes={total} cut={cut} bad_seq={chk.bad_seq} "
          f"bad_stamp={chk.bad_stamp} bad_payload={chk.bad_payload} kernel_bytes_received={kernel}")
    return 0 if not (cut or chk.bad_seq or chk.bad_stamp or chk.bad_payload) and chk.messages else 1


if __name__ == "__main__":
    sys.exit(main())
