# SPDX-License-Identifier: MIT
"""Where a batch's time goes, per event of 64 bytes, in one process:
publish_batch() in all (the same lengths as the batch before: the
lengths and pointers of its descriptors stay; and "new lengths", each
batch's lengths other than its predecessor's, 56 and 64 bytes in turn),
its library call alone (ringcast_pub_publish_batch, on descriptors
packed once), the library's batch read alone (ringcast_sub_next_batch),
the decoding of what it read into bytes and Event tuples, read_batch()
in all, and "for ev in sub" (the same reads, handed out one by one).
Medians of the rounds.  Usage: RINGCAST_LIB=... decode.py"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import ringcast  # noqa: E402
from ringcast._ffi import ffi, lib  # noqa: E402

ROUNDS = 200


def main():
    name = "pydecode-%d" % os.getpid()
    ringcast.create(name, slots=1 << 14, exclusive=True)
    try:
        s = ringcast.Subscriber(name)
        p = ringcast.Publisher(name)
        chunk = [bytes([i]) * 64 for i in range(64)]
        other = [bytes([i]) * 56 for i in range(64)]
        # The same batch as descriptors, packed once, for the C call.
        blob = ffi.from_buffer(b"".join(chunk))
        msgs = ffi.new("struct ringcast_msg[]", len(chunk))
        for i, c in enumerate(chunk):
            msgs[i].type = 1
            msgs[i].len = len(c)
            msgs[i].data = blob + 64 * i
        t = {k: [] for k in ("publish_batch", "publish_batch new lengths",
                             "ringcast_pub_publish_batch",
                             "ringcast_sub_next_batch", "decode",
                             "read_batch", "iterate")}
        pc = time.perf_counter
        for _ in range(ROUNDS):
            t0 = pc()
            for _ in range(4):
                p.publish_batch(chunk, 1)
            t1 = pc()
            k = lib.ringcast_sub_next_batch(s._h, s._evs, 256, s._buf,
                                            s._size, 0)
            t2 = pc()
            s._decode(k)
            t3 = pc()
            for _ in range(4):
                lib.ringcast_pub_publish_batch(p._h, msgs, len(chunk))
            t4 = pc()
            j = len(s.read_batch(256, 0))
            t5 = pc()
            t6 = pc()
            for _ in range(2):
                p.publish_batch(other, 1)
                p.publish_batch(chunk, 1)
            t7 = pc()
            assert len(s.read_batch(256, 0)) == 256
            for _ in range(4):
                p.publish_batch(chunk, 1)
            i = 0
            t8 = pc()
            for ev in s:
                i += 1
                if i == 256:
                    break
            t9 = pc()
            t["iterate"].append((t9 - t8) / i)
            assert k == j == 256
            t["publish_batch new lengths"].append((t7 - t6) / 256)
            t["publish_batch"].append((t1 - t0) / k)
            t["ringcast_sub_next_batch"].append((t2 - t1) / k)
            t["decode"].append((t3 - t2) / k)
            t["ringcast_pub_publish_batch"].append((t4 - t3) / k)
            t["read_batch"].append((t5 - t4) / j)
        print("per event of 64 B, ns: " + ", ".join(
            "%s %.0f" % (k, statistics.median(v) * 1e9)
            for k, v in t.items()))
        s.close()
        p.close()
    finally:
        ringcast.remove(name, force=True)


if __name__ == "__main__":
    main()
