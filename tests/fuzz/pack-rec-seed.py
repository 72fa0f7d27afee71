#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Pack a recording directory into an input of fuzz-rec.c.

Usage: pack-rec-seed.py DIR OUT [MUTATION]

Chunks of [u8 kind][u16 length][bytes]: each segment (kind 0, or 2 on
the first chunk: also run the writer's recovery), then its index (kind
1).  Files are cut to 65535 bytes.  MUTATION, applied to the first
segment's bytes: flip:OFFSET (a bit), cut:LENGTH (truncate).
"""
import os
import struct
import sys


def main():
    src, out = sys.argv[1], sys.argv[2]
    mut = sys.argv[3] if len(sys.argv) > 3 else ''
    segs = sorted(f for f in os.listdir(src) if f.endswith('.seg'))
    blob = b''
    for i, seg in enumerate(segs):
        with open(os.path.join(src, seg), 'rb') as f:
            b = bytearray(f.read()[:65535])
        if i == 0 and mut.startswith('flip:'):
            b[int(mut[5:])] ^= 0x10
        if i == 0 and mut.startswith('cut:'):
            b = b[:int(mut[4:])]
        blob += struct.pack('<BH', 2 if i == 0 else 0, len(b)) + bytes(b)
        idx = os.path.join(src, seg[:-4] + '.idx')
        if os.path.exists(idx):
            with open(idx, 'rb') as f:
                b = f.read()[:65535]
            blob += struct.pack('<BH', 1, len(b)) + b
    with open(out, 'wb') as f:
        f.write(blob)


if __name__ == '__main__':
    main()
