#!/usr/bin/env python3
"""A crowd of copybench peers that never read, for tests/t_crowd.sh.

usage: crowd.py HOST PORT COUNT HOLD_SECONDS [--size BYTES] [--say start|hello|nothing]

Opens COUNT connections (non-blocking, all at once), sends each a valid
protocol-2 stream hello for BYTES-byte messages, reads the 16-byte reply and,
when it is "ok", sends the start message, then reads nothing more: the server's
data piles up in the socket buffers. After HOLD_SECONDS it closes them all.
Prints one line: "crowd ok=N busy=N refused=N other=N" (refused: connect
failed; other: no reply or another status).

--say hello: the same, but never the start (a slow handshaker that holds its
place); --say nothing: connects and says nothing at all (a silent crowd). Both
print a second line when the hold is over: "held open=N closed_by_server=N".
"""
import selectors
import socket
import struct
import sys
import time

MAGIC, START_MAGIC, VERSION = 0x43504231, 0x43504253, 2
STATUS_OK, STATUS_BUSY = 0, 9


def hello(size):
    return struct.pack(">IHHIIQ", MAGIC, VERSION, 0, size, 0, 0)


def main(argv):
    host, port, count, hold = argv[1], int(argv[2]), int(argv[3]), float(argv[4])
    size = int(argv[argv.index("--size") + 1]) if "--size" in argv else 65536
    say = argv[argv.index("--say") + 1] if "--say" in argv else "start"
    sel = selectors.DefaultSelector()
    socks, counts = [], {"ok": 0, "busy": 0, "refused": 0, "other": 0}
    for _ in range(count):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect((host, port))
        except BlockingIOError:
            pass
        except OSError:
            counts["refused"] += 1
            s.close()
            continue
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE, {"sent": False, "reply": b""})
    deadline = time.monotonic() + 20
    pending = len(socks) if say != "nothing" else 0
    while pending and time.monotonic() < deadline:
        for key, ev in sel.select(timeout=0.2):
            s, st = key.fileobj, key.data
            try:
                if not st["sent"]:
                    s.send(hello(size))
                    st["sent"] = True
                    sel.modify(s, selectors.EVENT_READ, st)
                    continue
                data = s.recv(16 - len(st["reply"]))
            except OSError:
                data = b""
            if not data:
                counts["other"] += 1
                sel.unregister(s)
                pending -= 1
                continue
            st["reply"] += data
            if len(st["reply"]) < 16:
                continue
            status = struct.unpack(">IHHH6x", st["reply"])[2]
            if status == STATUS_OK:
                counts["ok"] += 1
                if say == "start":
                    s.send(struct.pack(">II", START_MAGIC, 0))
            elif status == STATUS_BUSY:
                counts["busy"] += 1
            else:
                counts["other"] += 1
            sel.unregister(s)
            pending -= 1
    counts["other"] += pending
    print("crowd " + " ".join(f"{k}={v}" for k, v in counts.items()), flush=True)
    time.sleep(hold)
    if say != "start":
        closed = 0
        for s in socks:
            try:
                s.setblocking(False)
                while True:
                    if not s.recv(65536):
                        closed += 1
                        break
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
        print(f"held open={len(socks) - closed} closed_by_server={closed}", flush=True)
    for s in socks:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
