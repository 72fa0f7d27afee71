#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seeds of tests/fuzz/corpus/frame: the bridge's frames.

Each seed is named after what it is; fuzz-frame.c decodes it, and every
build replays them (tests/fuzz/meson.build).  The layout is frame.h's.

Usage: tests/fuzz/make-frame-seeds.py [CORPUS-DIR]  (default: next to this)
"""
import os
import struct
import sys


def frame(events, host=b"hostA", version=1, flags=0, nevents=None,
          reserved=0, epoch=0x1122334455667788, session=0xabcdef0123456789,
          dropped=0, incarnation=0):
    n = len(events) if nevents is None else nevents
    b = b"RCFR" + struct.pack("<BBHII", version, flags, len(host), n,
                              reserved)
    b += struct.pack("<QQQQ", epoch, session, dropped, incarnation) + host
    for seq, ts, count, typ, data in events:
        b += struct.pack("<QQQII", seq, ts, count, typ, len(data)) + data
    return b


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "frame")
    os.makedirs(out, exist_ok=True)
    three = [(10, 1000, 1, 7, b"a" * 64), (12, 1010, 2, 7, b""),
             (15, 1020, 3, 7, bytes(range(200)))]
    seeds = {
        "one": frame([(1, 5, 1, 0, b"x")]),
        "three": frame(three),
        "no-host": frame(three, host=b""),
        "dropped": frame(three, dropped=42, incarnation=99),
        "large": frame([(1, 2, 1, 3, b"L" * 20000)]),
        "version-2": frame(three, version=2),
        "flags": frame(three, flags=1),
        "reserved": frame(three, reserved=1),
        "no-event": frame([], nevents=0),
        "more-announced": frame(three, nevents=4),
        "fewer-announced": frame(three, nevents=2),
        "len-past-end": frame(three)[:-1],
        "trailing": frame(three) + b"\0",
        "len-huge": frame([(1, 2, 3, 4, b"")])[:-4] + b"\xff\xff\xff\xff",
        "host-past-end": frame([], host=b"h" * 200, nevents=1)[:60],
        "short": b"RCFR\x01",
        "not-a-frame": b"just an event of the per-event format",
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
