# SPDX-License-Identifier: MIT
"""Per-call cost of cffi (ABI mode) and ctypes on ringcast's hot calls.

Measures, in one process and one run, the time of one
ringcast_pub_publish() of 64 bytes and of one ringcast_sub_next_batch()
of 64 events of 64 bytes, called through cffi and through ctypes; and the
same with an empty C call (ringcast_pub_head) to isolate the binding's
own cost.  Usage: overhead.py LIBRINGCAST_SO
"""
import ctypes
import os
import sys
import time

import cffi

LIB = sys.argv[1] if len(sys.argv) > 1 else os.environ["RINGCAST_LIB"]
N = 200000
NAME = "pyoverhead.%d" % os.getpid()

ffi = cffi.FFI()
ffi.cdef("""
struct ringcast_pub; struct ringcast_sub;
struct ringcast_event { uint64_t seq; uint64_t ts; uint32_t type;
	uint32_t len; uint32_t epoch; uint32_t publisher; uint64_t lost;
	const void *data; };
int ringcast_ring_create(const char *name, const void *opts, unsigned int flags);
int ringcast_ring_remove_force(const char *name);
int ringcast_pub_attach(const char *name, unsigned int flags, struct ringcast_pub **pubp);
int ringcast_pub_publish(struct ringcast_pub *pub, uint32_t type, const void *data, size_t len);
uint64_t ringcast_pub_head(const struct ringcast_pub *pub);
void ringcast_pub_detach(struct ringcast_pub *pub);
int ringcast_sub_attach(const char *name, const void *opts, struct ringcast_sub **subp, uint64_t *first);
int ringcast_sub_next_batch(struct ringcast_sub *sub, struct ringcast_event *evs,
	unsigned int max, void *buf, size_t size, int64_t timeout_ns);
void ringcast_sub_detach(struct ringcast_sub *sub);
""")
C = ffi.dlopen(LIB)


class Ev(ctypes.Structure):
    _fields_ = [("seq", ctypes.c_uint64), ("ts", ctypes.c_uint64),
                ("type", ctypes.c_uint32), ("len", ctypes.c_uint32),
                ("epoch", ctypes.c_uint32), ("publisher", ctypes.c_uint32),
                ("lost", ctypes.c_uint64), ("data", ctypes.c_void_p)]


T = ctypes.CDLL(LIB)
T.ringcast_pub_publish.argtypes = [ctypes.c_void_p, ctypes.c_uint32,
                                   ctypes.c_char_p, ctypes.c_size_t]
T.ringcast_pub_publish.restype = ctypes.c_int
T.ringcast_pub_head.argtypes = [ctypes.c_void_p]
T.ringcast_pub_head.restype = ctypes.c_uint64
T.ringcast_sub_next_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(Ev),
                                      ctypes.c_uint, ctypes.c_void_p,
                                      ctypes.c_size_t, ctypes.c_int64]
T.ringcast_sub_next_batch.restype = ctypes.c_int


def per_call(fn, n):
    t0 = time.perf_counter_ns()
    fn(n)
    return (time.perf_counter_ns() - t0) / n


def main():
    assert C.ringcast_ring_create(NAME.encode(), ffi.NULL, 0) >= 0
    try:
        pp = ffi.new("struct ringcast_pub **")
        sp = ffi.new("struct ringcast_sub **")
        assert C.ringcast_pub_attach(NAME.encode(), 0, pp) == 0
        assert C.ringcast_sub_attach(NAME.encode(), ffi.NULL, sp, ffi.NULL) == 0
        pub, sub = pp[0], sp[0]
        tpub = ctypes.c_void_p(int(ffi.cast("uintptr_t", pub)))
        tsub = ctypes.c_void_p(int(ffi.cast("uintptr_t", sub)))
        payload = b"x" * 64
        evs = ffi.new("struct ringcast_event[64]")
        buf = ffi.new("char[]", 1 << 16)
        tevs = (Ev * 64)()
        tbuf = ctypes.create_string_buffer(1 << 16)

        def c_head(n):
            f = C.ringcast_pub_head
            for _ in range(n):
                f(pub)

        def t_head(n):
            f = T.ringcast_pub_head
            for _ in range(n):
                f(tpub)

        def c_pub(n):
            f = C.ringcast_pub_publish
            for _ in range(n):
                f(pub, 1, payload, 64)

        def t_pub(n):
            f = T.ringcast_pub_publish
            for _ in range(n):
                f(tpub, 1, payload, 64)

        def c_batch(n):
            f = C.ringcast_pub_publish
            g = C.ringcast_sub_next_batch
            for _ in range(n // 64):
                for _ in range(64):
                    f(pub, 1, payload, 64)
                t0 = time.perf_counter_ns()
                assert g(sub, evs, 64, buf, 1 << 16, 0) == 64
                c_batch.t += time.perf_counter_ns() - t0
        c_batch.t = 0

        def t_batch(n):
            f = C.ringcast_pub_publish
            g = T.ringcast_sub_next_batch
            for _ in range(n // 64):
                for _ in range(64):
                    f(pub, 1, payload, 64)
                t0 = time.perf_counter_ns()
                assert g(tsub, tevs, 64, tbuf, 1 << 16, 0) == 64
                t_batch.t += time.perf_counter_ns() - t0
        t_batch.t = 0

        rows = []
        for rnd in range(3):
            rows.append(("empty call (pub_head)", per_call(c_head, N),
                         per_call(t_head, N)))
            rows.append(("publish 64 B", per_call(c_pub, N),
                         per_call(t_pub, N)))
            c_batch.t = t_batch.t = 0
            # Keep the subscriber in step: drain what the publishes left.
            while C.ringcast_sub_next_batch(sub, evs, 64, buf, 1 << 16, 0) > 0:
                pass
            c_batch(N // 4)
            t_batch(N // 4)
            rows.append(("next_batch 64 x 64 B (per call)",
                         c_batch.t / (N // 4 // 64),
                         t_batch.t / (N // 4 // 64)))
        print("%-34s %10s %10s" % ("call", "cffi ns", "ctypes ns"))
        best = {}
        for name, c, t in rows:
            b = best.setdefault(name, [c, t])
            b[0], b[1] = min(b[0], c), min(b[1], t)
        for name, (c, t) in best.items():
            print("%-34s %10.0f %10.0f" % (name, c, t))
        C.ringcast_sub_detach(sub)
        C.ringcast_pub_detach(pub)
    finally:
        C.ringcast_ring_remove_force(NAME.encode())


if __name__ == "__main__":
    main()
