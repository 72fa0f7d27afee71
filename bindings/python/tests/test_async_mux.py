# SPDX-License-Identifier: MIT
"""async for through ringcast_sub_fd(); the Python-side TypeMux."""
import asyncio
import subprocess

import pytest

import ringcast
from conftest import run_py

PUB = r"""
import sys, ringcast
with ringcast.Publisher(sys.argv[1]) as p:
    p.wait_subscribers(1)
    sys.stdin.readline()            # go
    for i in range(int(sys.argv[2])):
        p.publish(b"%d" % i, type=i % 3)
"""


def test_async_for_from_another_process(ring):
    async def main(sub, pub):
        ticks = 0
        got = []

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        t = asyncio.create_task(ticker())
        pub.stdin.write("go\n")
        pub.stdin.flush()
        async for ev in sub:
            got.append(ev)
        t.cancel()
        return got, ticks

    sub = ringcast.Subscriber(ring, start="oldest")
    pub = run_py(PUB, ring, 3000, stdin=subprocess.PIPE, text=True)
    try:
        got, ticks = asyncio.run(asyncio.wait_for(main(sub, pub), 60))
        assert pub.wait(30) == 0
    finally:
        if pub.poll() is None:
            pub.kill()
            pub.wait()
    assert [e.data for e in got] == [b"%d" % i for i in range(3000)]
    # The loop ran other tasks while the subscriber waited.
    assert ticks > 0
    sub.close()


def test_async_anext_timeout_and_batch(ring):
    async def main(sub, p):
        assert await sub.anext(0.01) is None
        p.publish_batch([b"a", b"b", b"c"])
        first = await sub.anext(5)
        rest = await sub.aread_batch(10, 5)
        return [first] + rest

    sub = ringcast.Subscriber(ring)
    with ringcast.Publisher(ring) as p:
        evs = asyncio.run(main(sub, p))
    assert [e.data for e in evs] == [b"a", b"b", b"c"]
    sub.close()


def test_mux_handlers(ring):
    with ringcast.Publisher(ring) as p:
        for i in range(30):
            p.publish(b"%d" % i, type=i % 3)
    seen = {0: [], 1: [], 2: []}
    every = []
    with ringcast.TypeMux(ring, start="oldest") as mux:
        h0 = mux.handle(lambda ev: seen[0].append(ev.seq), types=0)
        mux.handle(lambda ev: seen[1].append(ev.seq), types=[1, 2])

        def stop_after_5(ev):
            every.append(ev.seq)
            if len(every) == 5:
                h0.unsubscribe()
        mux.handle(stop_after_5)
        mux.run()
    assert every == list(range(30))
    assert seen[0] == [0, 3]            # unsubscribed at seq 4
    assert seen[1] == [i for i in range(30) if i % 3]
    with pytest.raises(TypeError):
        mux.handle("not callable")
    with pytest.raises(ValueError):
        mux.handle(print, types=[1, 1])


def test_mux_handler_exception_keeps_the_rest(ring):
    with ringcast.Publisher(ring) as p:
        p.publish_batch([b"%d" % i for i in range(10)], type=7)
    got = []

    def fn(ev):
        if ev.seq == 3:
            raise KeyError("handler failed")
        got.append(ev.seq)
    mux = ringcast.TypeMux(ringcast.Subscriber(ring, start="oldest"))
    mux.handle(fn, types=7)
    with pytest.raises(KeyError):
        mux.run()
    mux.run()
    assert got == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    mux.sub.close()


def test_mux_status_handler_gets_laps(names):
    n = names()
    ringcast.create(n, slots=16, data_size=0)
    laps = []
    got = []
    with ringcast.TypeMux(n, start="oldest") as mux:
        with ringcast.Publisher(n) as p:
            p.publish_batch([b"%d" % i for i in range(100)])
        mux.handle(lambda ev: got.append(ev.seq))
        mux.handle_status(laps.append)
        mux.run()
    assert len(laps) == 1 and isinstance(laps[0], ringcast.Lapped)
    assert laps[0].lost + len(got) == 100 and got[-1] == 99
