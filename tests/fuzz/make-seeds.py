#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seeds of tests/fuzz/corpus that reach the data area.

Each seed is named after what it does (data-*); the fuzzer starts from
them, and every build replays them (tests/fuzz/meson.build), so they stay
small: a few dozen steps each, a fraction of a second to replay.

Usage: tests/fuzz/make-seeds.py [CORPUS-DIR]   (default: next to this file)

scribble: a geometry byte, then 4-byte steps (op, a, b, c), as
fuzz-scribble.c reads them.  attach: 4 control bytes, then the object's
first bytes, as fuzz-attach.c reads them.
"""
import os
import struct
import sys

# fuzz-scribble.c: the geometry byte
SLOTS4, SLOTS8, SLOTS16, SLOTS32 = 0, 1, 2, 3
SLOT128 = 0x04
DATA4K, DATA8K = 0x10, 0x30

# fuzz-scribble.c: step() ops
PUBLISH, BATCH, RESERVE_COMMIT, RESERVE = 0, 4, 5, 6
SCR_HDR, SCR_TABLE, SCR_SLOT = 7, 9, 11
READ_LOSSY, BORROW, READ_REL, READ_FILT, READ_AT, STATS, REOPEN = \
    14, 16, 17, 18, 19, 20, 21
RING_CLOSE = 22
SCR_DESC, SCR_REC, SCR_DATA, SCR_DPTR, SPILL_RUN, READ_AT_FLOOR, \
    READ_ALL = 24, 26, 27, 28, 29, 30, 31

# pick_len() classes (a's top three bits)
INLINE, EDGE, SPILL, NEAR_MAX, HALF, OVER = 0x00, 0x40, 0x60, 0xa0, 0xc0, 0xe0

READS = [(READ_LOSSY, 8, 0, 0), (READ_REL, 8, 0, 0), (READ_FILT, 8, 0, 0),
         (BORROW, 1, 0, 0), (BORROW, 0, 0, 0), (READ_AT, 1, 0, 0),
         (READ_ALL, 3, 3, 3)]


def scribble(geom, steps):
    out = bytearray([geom])
    for s in steps:
        out += bytes(s)
    return bytes(out)


SCRIBBLE = {
    # Spilled, inline and too large events, every read.
    'data-publish-read': scribble(DATA4K | SLOTS8, [
        (PUBLISH, SPILL | 5, 1, 0), (PUBLISH, INLINE | 3, 2, 0),
        (PUBLISH, NEAR_MAX | 1, 3, 0), (PUBLISH, NEAR_MAX | 3, 1, 0),
        (PUBLISH, OVER, 1, 0), (PUBLISH, EDGE | 2, 1, 0),
        (PUBLISH, EDGE | 3, 3, 0)] + READS),
    # Batches and reservations across the capacity, committed shorter.
    'data-batch-reserve': scribble(DATA8K | SLOT128 | SLOTS16, [
        (BATCH, 0x87, 1, 0), (READ_ALL, 7, 7, 7),
        (RESERVE_COMMIT, SPILL | 9, 0x80 | 0x20, 0),
        (RESERVE_COMMIT, SPILL | 9, 0x00, 0),
        (RESERVE_COMMIT, SPILL | 9, 0x04, 0),
        (RESERVE, NEAR_MAX, 0, 0), (PUBLISH, 1, 1, 0),
        (RESERVE_COMMIT, 0, 0x08, 0),
        (BATCH, 0x83, 0x40, 0)] + READS),
    # Laps of the data area: the lossy reader loses, the reliable gates.
    'data-laps': scribble(DATA4K | SLOTS32, [
        (SPILL_RUN, 15, 0, 0), (READ_REL, 8, 0, 0), (SPILL_RUN, 15, 7, 1),
        (READ_REL, 8, 0, 0), (READ_REL, 8, 0, 0), (SPILL_RUN, 15, 9, 2),
        (READ_LOSSY, 8, 0, 0), (READ_AT, 20, 0, 0),
        (READ_AT_FLOOR, 3, 0, 0), (READ_AT_FLOOR, 2, 4, 0),
        (SPILL_RUN, 15, 3, 3)] + READS),
    # Hostile descriptors and lengths of spilled events.
    'data-descriptors': scribble(DATA4K | SLOTS8, [
        (PUBLISH, SPILL | 1, 1, 0), (PUBLISH, SPILL | 2, 1, 0),
        (PUBLISH, SPILL | 3, 1, 0), (PUBLISH, SPILL | 4, 1, 0),
        (SCR_DESC, 0, 0, 5), (READ_LOSSY, 1, 0, 0),
        (SCR_DESC, 1, 1, 0), (BORROW, 1, 0, 0),
        (SCR_DESC, 2, 3, 7), (READ_AT, 2, 0, 0),
        (SCR_DESC, 3, 4, 1), (SCR_DESC, 3, 4, 2), (READ_REL, 8, 0, 0),
        (SCR_DESC, 0, 6, 0), (SCR_DESC, 1, 7, 1), (SCR_DESC, 2, 8, 1),
        (SCR_DESC, 3, 8, 2), (SCR_DESC, 4, 9, 3)] + READS),
    # Scribbled record headers under the publisher's walk: keeps going.
    'data-records-walk': scribble(DATA4K | SLOTS32, [
        (SPILL_RUN, 12, 0, 0), (READ_REL, 8, 0, 0), (READ_REL, 8, 0, 0),
        (SCR_REC, 1, 0, 7), (SCR_REC, 3, 4, 1), (SCR_REC, 5, 6, 0),
        (SCR_REC, 7, 8, 3), (SCR_REC, 0, 9, 0), (SCR_REC, 2, 7, 1),
        (SCR_REC, 4, 2, 0), (SCR_REC, 9, 10, 4), (SCR_REC, 11, 11, 9),
        (SPILL_RUN, 15, 1, 0), (READ_REL, 8, 0, 0), (SPILL_RUN, 15, 2, 0),
        (READ_REL, 8, 0, 0), (SPILL_RUN, 15, 3, 0)] + READS),
    # Payload bytes, intent and floor: low, high, huge; then a takeover.
    'data-intent-floor': scribble(DATA8K | SLOTS16, [
        (SPILL_RUN, 6, 0, 0), (SCR_DATA, 0x30, 0, 0xff),
        (SCR_DPTR, 1, 0, 0), (READ_LOSSY, 4, 0, 0),
        (SCR_DPTR, 5, 0, 1), (BORROW, 1, 0, 0), (READ_AT, 3, 0, 0),
        (SCR_DPTR, 9, 0, 2), (SCR_DPTR, 0, 0, 200),
        (SCR_DPTR, 14, 0, 9), (READ_REL, 8, 0, 0),
        (REOPEN, 1, 0, 0), (SCR_DPTR, 8, 0, 3), (SCR_DPTR, 2, 0, 5),
        (REOPEN, 3, 0, 0), (SPILL_RUN, 6, 0, 0),
        (SCR_DPTR, 7, 0, 0), (REOPEN, 4, 0, 0), (SPILL_RUN, 4, 0, 0)]
        + READS),
    # A descriptor scribbled between a reserve in the data area and its
    # commit of 19 bytes (into the slot): to the area's last record, then
    # its last byte; near UINT64_MAX; another record.
    'data-reserve-scribbled': scribble(DATA4K | SLOTS8, [
        (PUBLISH, SPILL, 1, 0), (RESERVE, SPILL | 1, 0, 0),
        (SCR_DESC, 1, 1, 0), (SCR_DESC, 1, 0, 62),
        (RESERVE_COMMIT, 0, 19, 0),
        (RESERVE, SPILL | 2, 0, 0), (SCR_DESC, 2, 4, 3),
        (RESERVE_COMMIT, 0, 19, 0),
        (RESERVE, SPILL | 3, 0, 0), (SCR_DESC, 3, 5, 0xf0),
        (RESERVE_COMMIT, 0, 19, 0)] + READS),
}


# fuzz-attach.c: control bytes
FIX, CHECKSUM, SIZE, MULTI, DATA, BREAK = 0x01, 0x02, 0x04, 0x08, 0x20, 0x40


def live_ring(slots, slot_size, data_size, events, dintent=None):
    """The bytes of a live ring of one table entry whose header
    fuzz-attach.c repairs (geometry, checksum): life, head and intent,
    then the slots and the data area.  events: (len, position or None);
    a spilled one's record is written at its position."""
    slots_off = 4096
    data_off = slots_off + slots * slot_size
    cap = slot_size - 32
    obj = bytearray(data_off + data_size)
    struct.pack_into('<I', obj, 56, 0o600)                    # mode
    struct.pack_into('<Q', obj, 128, 0x1234 << 8 | 1)         # life: live
    struct.pack_into('<Q', obj, 192, len(events))             # head
    end = 0
    for seq, (n, pos) in enumerate(events):
        s = slots_off + (seq % slots) * slot_size
        struct.pack_into('<QIIQII', obj, s, seq + 1, 1, n, 0, 0x1234,
                         0xffffffff)
        if n <= cap:
            obj[s + 32:s + 32 + n] = bytes([seq & 0xff]) * n
            continue
        struct.pack_into('<Q', obj, s + 32, pos)
        r = data_off + pos % data_size
        struct.pack_into('<QII', obj, r, seq, n, 1)
        payload = bytes([seq & 0xff]) * n
        obj[r + 16:r + 16 + n] = payload[:max(0, len(obj) - r - 16)]
        end = max(end, pos + ((16 + n + 63) & ~63))
    struct.pack_into('<Q', obj, 208, end if dintent is None else dintent)
    return bytes(obj)


def attach(ctl, obj=b''):
    return bytes(ctl) + obj


# 8 slots of 64 bytes, 2 entries (ctl[3] = 1 | data size << 4)
GEOM = [2, 0]
ATTACH = {
    # A live ring with spilled events, read in every way.
    'data-live-4k': attach([FIX | CHECKSUM | SIZE | DATA] + GEOM + [0x01],
                           live_ring(8, 64, 4096, [
                               (10, None), (200, 0), (1000, 256),
                               (20, None), (1024, 1280)])[:8188]),
}
# Hostile descriptors after a good one: misaligned, past the end of the
# area, huge, near UINT64_MAX, past the intent, a length over the largest.
for what, n, pos in (('misaligned', 200, 65), ('past-end', 200, 4032),
                     ('huge', 200, 1 << 50), ('near-max', 200, 2 ** 64 - 64),
                     ('past-intent', 200, 8192), ('too-long', 1025, 512)):
    ATTACH['data-bad-' + what] = attach(
        [FIX | CHECKSUM | SIZE | DATA] + GEOM + [0x01],
        live_ring(8, 64, 4096, [(200, 0), (n, pos)],
                  dintent=1024)[:4608 + 256])
ATTACH.update({
    # A multi-publisher ring with a data area: refused.
    'data-multi': attach([FIX | CHECKSUM | SIZE | MULTI | DATA] + GEOM
                         + [0x01]),
})
# Each field of the data area's geometry broken in turn: refused.
for k in range(9):
    ATTACH['data-broken-%d' % k] = attach(
        [FIX | CHECKSUM | SIZE | DATA | BREAK, 2, k << 2, 0x11])
for k in range(3):
    ATTACH['data-broken-none-%d' % k] = attach(
        [FIX | CHECKSUM | SIZE | BREAK, 2, k << 2, 0x01])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here,
                                                                 'corpus')
    for harness, seeds in (('scribble', SCRIBBLE), ('attach', ATTACH)):
        for name, data in seeds.items():
            with open(os.path.join(corpus, harness, name), 'wb') as f:
                f.write(data)


if __name__ == '__main__':
    main()
