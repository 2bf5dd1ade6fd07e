#!/usr/bin/env python3
"""Stand-in copybench programs whose result lines carry made-up, all-different numbers.

usage: fake_numbers.py NAME ARGS...   (NAME: A1_server, A1_client, A3_server, ...)

Run as NAME by a two-line wrapper script of that name, in a directory given to run_experiments.sh
as CB_BIN_DIR (NAME says the technique and the side), so that tests/t_numbers.sh can check that
every CSV column carries exactly what the result lines said. Real runs give p50 == p99 now and
then, and a column swapped with an equal one cannot show; here every value of a run differs from
every other (p50 < p99 < max by construction, all with random decimals) and from run to run.

Each line printed is also appended to CB_FAKE_LOG ("client LINE" / "server LINE"), in run order.

Server: -p PORT [-b ADDR] -n N: listens, prints its listening line, takes N connections, reads
each to EOF (the client writes its total_bytes there, split over its connections), prints a
result line whose bytes are their sum, and exits. Client: -H HOST -p PORT -s SIZE -t THREADS
-d SECONDS [-m rr]: connects THREADS times, writes its share, closes, prints its result line.
Nothing is measured: the numbers only have to be the ones a real line would have, in form.
"""
import os
import random
import socket
import sys

rng = random.SystemRandom()


def opt(args, flag, default):
    return args[args.index(flag) + 1] if flag in args else default


def log(side, line):
    print(line, flush=True)
    path = os.environ.get("CB_FAKE_LOG")
    if path:
        with open(path, "a") as f:
            f.write(f"{side} {line}\n")


def server(impl, args):
    port, addr, n = int(opt(args, "-p", "5301")), opt(args, "-b", "0.0.0.0"), int(opt(args, "-n", "1"))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    print(f"listening addr={addr} port={s.getsockname()[1]} max_clients=256 mem_budget=1073741824", flush=True)
    total, size = 0, 1
    for _ in range(n):
        c, _ = s.accept()
        data = b""
        while True:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
        c.close()
        for word in data.split():
            k, v = word.decode().split("=")
            if k == "bytes":
                total += int(v)
            elif k == "size":
                size = int(v)
    msgs = total // size
    line = (f"result impl={impl} side=server clients={n} rejected=0 errors=0 bytes={total} messages={msgs} "
            f"cpu_s={rng.uniform(1, 2):.3f} send_cpu_s={rng.uniform(0.1, 0.9):.3f} busy=0 mem_peak=65536 "
            f"mem_budget=1073741824 max_clients=256 footprint=0")
    if impl == "A3":
        done = msgs + rng.randint(1, 50)
        line += (f" zc_sends={done} zc_completions={done} zc_copied={rng.randint(1, done - 1)} zc_enobufs=0"
                 " zc_enobufs_optmem=0 zc_enobufs_memlock=0 zc_missing=0 zc_bogus=0 zc_parked=0"
                 " zc_pool_waits=0 zc_pool_slots=64 zc_pool_bytes=4194304 zc_memlock_binds=0")
    log("server", line)


def client(impl, args):
    host, port = opt(args, "-H", None), int(opt(args, "-p", "5301"))
    size, th, dur = int(opt(args, "-s", "65536")), int(opt(args, "-t", "1")), float(opt(args, "-d", "5"))
    mode = opt(args, "-m", "stream")
    msgs = rng.randint(1000, 200000)
    byts = msgs * size
    total = byts + rng.randint(1, 8 * size)
    p50 = rng.uniform(5, 50)
    p99 = rng.uniform(60, 600)
    mx = rng.uniform(700, 7000)
    for i in range(th):
        c = socket.create_connection((host, port))
        c.sendall(f"size={size} bytes={total if i == 0 else 0}".encode())
        c.close()
    log("client", f"result impl={impl} side=client mode={mode} size={size} threads={th} duration_s={dur:.3f} "
        f"verify=0 rcvlowat=0 recv_chunk=65536 bytes={byts} messages={msgs} "
        f"min_conn_messages={msgs // th} total_bytes={total} gbps={byts * 8 / dur / 1e9:.3f} "
        f"msgs_per_s={msgs / dur:.0f} lat_p50_us={p50:.3f} lat_p99_us={p99:.3f} lat_max_us={mx:.3f} "
        f"lat_samples={msgs} early_messages=0 verify_errors={rng.randint(0, 9)} errors=0 "
        f"cpu_pct={rng.uniform(10, 190):.1f}")


def main():
    impl, side = sys.argv[1].split("_", 1)
    (server if side == "server" else client)(impl, sys.argv[2:])


if __name__ == "__main__":
    main()
