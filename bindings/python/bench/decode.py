# SPDX-License-Identifier: MIT
"""Where a batch's time goes, per event of 64 bytes, in one process:
publish_batch() (packing and the C call), the C batch read alone
(ringcast_sub_next_batch), the decoding into bytes and Event tuples,
and read_batch() in all.  Usage: RINGCAST_LIB=... decode.py"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import ringcast  # noqa: E402
from ringcast._ffi import lib  # noqa: E402

ROUNDS = 200


def main():
    name = "pydecode-%d" % os.getpid()
    ringcast.create(name, slots=1 << 14, exclusive=True)
    try:
        s = ringcast.Subscriber(name)
        p = ringcast.Publisher(name)
        chunk = [bytes([i]) * 64 for i in range(64)]
        tp = tc = td = tr = 0
        n = m = 0
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            for _ in range(4):
                p.publish_batch(chunk, 1)
            t1 = time.perf_counter()
            k = lib.ringcast_sub_next_batch(s._h, s._evs, 256, s._buf,
                                            s._size, 0)
            t2 = time.perf_counter()
            s._decode(k)
            t3 = time.perf_counter()
            for _ in range(4):
                p.publish_batch(chunk, 1)
            t4 = time.perf_counter()
            j = len(s.read_batch(256, 0))
            t5 = time.perf_counter()
            tp += t1 - t0 + t4 - t3
            tc += t2 - t1
            td += t3 - t2
            tr += t5 - t4
            n += k
            m += j
        print("per event of 64 B, ns: publish_batch %.0f, "
              "ringcast_sub_next_batch %.0f, decode %.0f, read_batch %.0f"
              % (tp / (n + m) * 1e9, tc / n * 1e9, td / n * 1e9,
                 tr / m * 1e9))
        s.close()
        p.close()
    finally:
        ringcast.remove(name, force=True)


if __name__ == "__main__":
    main()
