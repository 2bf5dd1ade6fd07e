#!/usr/bin/env python3
"""A copybench client written from docs/protocol.md alone (no code shared with src/): the proof
that the document is enough to write a peer. tests/t_protocol.sh runs it against every server.

usage: doc_client.py HOST PORT stream|rr SIZE SECONDS [--verify] [--seqs N,N,...]
                     [--hello-reserved] [--start-reserved] [--rr-reserved] [--data-after-start]
                     [--abandon]

Prints one line of key=value: port (ours, as the server logs it), status (the reply's), impl, messages (whole messages in the
window), total_bytes (everything read, to the server's EOF), drained (bytes read after our
shutdown), verify_errors, seq_errors, end (eof, reset, or closed: we abandoned it).
"""
import socket
import struct
import sys
import time

MAGIC, START_MAGIC, VERSION = 0x43504231, 0x43504253, 2


def key(seq):
    return ((seq * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> 56


def pattern(k, size):
    return bytes((k ^ (i * 0x9D) ^ (i >> 8) ^ (i >> 16)) & 0xFF for i in range(16, size))


def read_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise EOFError(f"EOF after {len(b)} of {n} bytes")
        b += chunk
    return b


def main(argv):
    host, port, mode, size, seconds = argv[1], int(argv[2]), argv[3], int(argv[4]), float(argv[5])
    flags = set(a for a in argv[6:] if a.startswith("--"))
    seqs = None
    if "--seqs" in argv:
        seqs = [int(x) for x in argv[argv.index("--seqs") + 1].split(",")]
    verify = "--verify" in flags
    s = socket.create_connection((host, port), timeout=10)
    hello = struct.pack(">IHHII", MAGIC, VERSION, 1 if mode == "rr" else 0, size, 1 if verify else 0)
    hello += struct.pack(">Q", 1 if "--hello-reserved" in flags else 0)
    s.sendall(hello)
    r_magic, _version, status, impl = struct.unpack(">IHHH", read_exact(s, 16)[:10])
    out = {"port": s.getsockname()[1], "status": status, "impl": impl}
    if r_magic != MAGIC or status != 0 or "--abandon" in flags:
        s.close()
        out["end"] = "closed"
        print(" ".join(f"{k}={v}" for k, v in out.items()))
        return 0
    s.sendall(struct.pack(">II", START_MAGIC, 1 if "--start-reserved" in flags else 0))
    expect_payload = {}
    msgs = total = verr = serr = drained = 0
    end = "eof"

    def check(msg, want_seq):
        nonlocal verr, serr
        seq = struct.unpack(">Q", msg[:8])[0]
        if seq != want_seq:
            serr += 1
        k = key(seq) if verify else 0           # without verify: seq 0's pattern, always
        if k not in expect_payload:
            expect_payload[k] = pattern(k, size)
        if msg[16:] != expect_payload[k]:
            verr += 1

    deadline = time.monotonic() + seconds
    try:
        if mode == "stream":
            buf = b""
            while time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    raise EOFError("EOF in the window")
                total += len(chunk)
                buf += chunk
                off = 0
                while len(buf) - off >= size:
                    check(buf[off:off + size], msgs)
                    off, msgs = off + size, msgs + 1
                buf = buf[off:]
                if "--data-after-start" in flags and msgs:
                    s.sendall(b"unexpected")
                    flags.discard("--data-after-start")
        else:
            i = 0
            while time.monotonic() < deadline and (seqs is None or i < len(seqs)):
                seq = seqs[i] if seqs else i
                s.sendall(struct.pack(">QQ", seq, 1 if "--rr-reserved" in flags else 0))
                msg = read_exact(s, size)
                total += size
                check(msg, seq)
                msgs, i = msgs + 1, i + 1
        s.shutdown(socket.SHUT_WR)
        while True:                              # the server's drain, then its EOF
            chunk = s.recv(65536)
            if not chunk:
                break
            drained += len(chunk)
    except ConnectionResetError:
        end = "reset"
    except EOFError:
        end = "eof-early"
    s.close()
    out.update(messages=msgs, total_bytes=total + drained, drained=drained, verify_errors=verr,
               seq_errors=serr, end=end)
    print(" ".join(f"{k}={v}" for k, v in out.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
