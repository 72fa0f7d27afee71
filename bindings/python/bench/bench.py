# SPDX-License-Identifier: MIT
"""Python process -> Python process: ringcast against multiprocessing.Queue,
multiprocessing.Pipe and pyzmq, in one run.

Each row: one producer (this process) sends N events of SIZE bytes to one
consumer process, which counts them; the time runs from the producer's
first send to the consumer's receipt of the last.  Every transport loses
nothing: ringcast's subscriber is reliable (the publisher waits for it).
"batch 64" rows send lists of 64 payloads per call (ringcast:
publish_batch / read_batch; the others: one pickled list per message).

Usage: /usr/bin/python3 bench.py [--quick]   (RINGCAST_LIB: the library)
"""
import multiprocessing as mp
import os
import sys
import time

import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import ringcast  # noqa: E402

B = 64


def _chunk(size):
    """B distinct payloads: pickle would send one repeated object once."""
    return [bytes([i]) * size for i in range(B)]


def rc_consumer(name, n, ready, done):
    sub = ringcast.Subscriber(name, start="oldest", reliable=True,
                              batch=256)
    ready.send(1)
    got = 0
    while got < n:
        got += len(sub.read_batch())
    done.send(time.perf_counter())
    sub.close()


def run_ringcast(n, size, batch):
    name = "pybench-%d" % os.getpid()
    ringcast.create(name, exclusive=True)
    try:
        pub = ringcast.Publisher(name)
        ready_r, ready_w = mp.Pipe(False)
        done_r, done_w = mp.Pipe(False)
        c = mp.Process(target=rc_consumer, args=(name, n, ready_w, done_w))
        c.start()
        ready_r.recv()
        payload = b"x" * size
        chunk = _chunk(size)
        t0 = time.perf_counter()
        if batch:
            for _ in range(n // B):
                pub.publish_batch(chunk, 1)
        else:
            publish = pub.publish
            for _ in range(n):
                publish(payload, 1)
        t1 = done_r.recv()
        c.join()
        pub.close()
        return t1 - t0
    finally:
        ringcast.remove(name, force=True)


def q_consumer(q, n, batch, done):
    got = 0
    while got < n:
        m = q.get()
        got += len(m) if batch else 1
    done.send(time.perf_counter())


def run_queue(n, size, batch):
    q = mp.Queue()
    done_r, done_w = mp.Pipe(False)
    c = mp.Process(target=q_consumer, args=(q, n, batch, done_w))
    c.start()
    payload = b"x" * size
    chunk = _chunk(size)
    q.put(chunk if batch else payload)      # the consumer is running
    t0 = time.perf_counter()
    if batch:
        for _ in range(n // B - 1):
            q.put(chunk)
    else:
        put = q.put
        for _ in range(n - 1):
            put(payload)
    t1 = done_r.recv()
    c.join()
    return t1 - t0


def p_consumer(conn, n, batch, done):
    got = 0
    while got < n:
        if batch:
            got += len(conn.recv())
        else:
            conn.recv_bytes()
            got += 1
    done.send(time.perf_counter())


def run_pipe(n, size, batch):
    r, w = mp.Pipe(False)
    done_r, done_w = mp.Pipe(False)
    c = mp.Process(target=p_consumer, args=(r, n, batch, done_w))
    c.start()
    payload = b"x" * size
    chunk = _chunk(size)
    t0 = time.perf_counter()
    if batch:
        for _ in range(n // B):
            w.send(chunk)
    else:
        send = w.send_bytes
        for _ in range(n):
            send(payload)
    t1 = done_r.recv()
    c.join()
    return t1 - t0


def z_consumer(addr, n, batch, ready, done):
    ctx = zmq.Context()
    s = ctx.socket(zmq.PULL)
    s.bind(addr)
    ready.send(1)
    got = 0
    while got < n:
        if batch:
            got += len(s.recv_multipart())
        else:
            s.recv()
            got += 1
    done.send(time.perf_counter())
    s.close()
    ctx.term()


def run_zmq(n, size, batch):
    path = "/tmp/pybench-zmq-%d" % os.getpid()
    addr = "ipc://" + path
    ready_r, ready_w = mp.Pipe(False)
    done_r, done_w = mp.Pipe(False)
    c = mp.Process(target=z_consumer, args=(addr, n, batch, ready_w, done_w))
    c.start()
    ready_r.recv()
    ctx = zmq.Context()
    s = ctx.socket(zmq.PUSH)
    s.connect(addr)
    payload = b"x" * size
    chunk = _chunk(size)
    t0 = time.perf_counter()
    if batch:
        for _ in range(n // B):
            s.send_multipart(chunk)
    else:
        send = s.send
        for _ in range(n):
            send(payload)
    t1 = done_r.recv()
    c.join()
    s.close()
    ctx.term()
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    return t1 - t0


TRANSPORTS = [("ringcast", run_ringcast), ("mp.Queue", run_queue),
              ("mp.Pipe", run_pipe), ("pyzmq ipc", run_zmq)]


def main():
    quick = "--quick" in sys.argv
    reps = 1 if quick else 3
    print("# python %s, cffi, %s, %d CPUs, best of %d" % (
        sys.version.split()[0], ringcast.library_path(), os.cpu_count(),
        reps))
    print("%-10s %6s %-9s %9s %12s %9s" % ("transport", "size", "calls",
                                            "events", "events/s", "MB/s"))
    res = {}
    for size, n in ((64, 256000), (4096, 64000)):
        if quick:
            n //= 8
        for batch in (True, False):
            for tname, fn in TRANSPORTS:
                best = min(fn(n, size, batch) for _ in range(reps))
                rate = n / best
                res[(tname, size, batch)] = rate
                print("%-10s %6d %-9s %9d %12.0f %9.1f" % (
                    tname, size, "batch 64" if batch else "single", n, rate,
                    rate * size / 1e6), flush=True)
    print()
    for size in (64, 4096):
        r = res[("ringcast", size, True)]
        print("ringcast batch / mp.Queue single at %d B: %.1fx; "
              "/ mp.Queue batch 64: %.1fx; / mp.Pipe single: %.1fx; "
              "/ pyzmq single: %.1fx" % (
                  size, r / res[("mp.Queue", size, False)],
                  r / res[("mp.Queue", size, True)],
                  r / res[("mp.Pipe", size, False)],
                  r / res[("pyzmq ipc", size, False)]))


if __name__ == "__main__":
    main()
