# SPDX-License-Identifier: MIT
"""One process: publish, read, batches, borrow, filters, errors."""
import errno
import threading

import pytest

import ringcast


def test_iterate_to_end_of_stream(ring):
    sub = ringcast.Subscriber(ring, start="oldest")
    with ringcast.Publisher(ring) as p:
        assert p.publish(b"one", type=1) == 1
        p.publish(bytearray(b"two"), type=2)
        p.publish(memoryview(b"three"), type=3)
    evs = list(sub)
    assert [e.data for e in evs] == [b"one", b"two", b"three"]
    assert [e.type for e in evs] == [1, 2, 3]
    assert [e.seq for e in evs] == [0, 1, 2]
    assert all(isinstance(e.data, bytes) for e in evs)
    assert evs[0].ts <= evs[1].ts <= evs[2].ts
    assert len({e.epoch for e in evs}) == 1
    with pytest.raises(ringcast.EndOfStream) as ei:
        sub.next()
    assert ei.value.errno == errno.EPIPE
    assert ringcast.stats(ring)["state_name"] == "closed"
    sub.close()


def test_batches(ring):
    sub = ringcast.Subscriber(ring, start="oldest", batch=100)
    payloads = [b"%d" % i * (i % 7) for i in range(1000)]
    with ringcast.Publisher(ring) as p:
        p.publish_batch(payloads, type=5)
        p.publish_batch([b"x", b"y"], type=[6, 7])
        with pytest.raises(ValueError):
            p.publish_batch([b"x", b"y"], type=[6])
    got = []
    while True:
        try:
            b = sub.read_batch(64)
        except ringcast.EndOfStream:
            break
        assert 1 <= len(b) <= 64
        got += b
    assert [e.data for e in got] == payloads + [b"x", b"y"]
    assert [e.seq for e in got] == list(range(1002))
    assert {e.type for e in got[:1000]} == {5}
    assert (got[-2].type, got[-1].type) == (6, 7)
    sub.close()


def test_large_events_and_buffer_growth(ring):
    # Events of the data area, larger than the read buffer's first size.
    big = [bytes([i]) * (200 << 10) for i in range(3)]
    sub = ringcast.Subscriber(ring, start="oldest")
    with ringcast.Publisher(ring) as p:
        p.publish(big[0])
        p.publish_batch(big[1:])
    assert [e.data for e in sub] == big
    sub.close()


def test_start_and_types(ring):
    with ringcast.Publisher(ring) as p:
        for i in range(10):
            p.publish(b"%d" % i, type=i % 3)
        with ringcast.Subscriber(ring, start=4) as s:
            assert s.first == 4
            assert s.next(0).seq == 4
        with ringcast.Subscriber(ring, start="oldest", types=[2]) as s:
            assert [e.seq for e in s.read_batch(100, 0)] == [2, 5, 8]
        with ringcast.Subscriber(ring) as s:
            assert s.next(0) is None
            assert s.next(0.01) is None
            assert s.read_batch(10, 0) == []
            p.publish(b"new")
            assert s.next(1).data == b"new"


def test_borrow(ring):
    sub = ringcast.Subscriber(ring, start="oldest")
    p = ringcast.Publisher(ring)
    p.publish(b"borrowed", type=9)
    p.publish(b"next")
    with sub.borrow() as ev:
        assert isinstance(ev.data, memoryview)
        assert ev.data.readonly
        assert bytes(ev.data) == b"borrowed" and ev.type == 9
        kept = bytes(ev.data[:3])
        # The library refuses other reads while an event is borrowed.
        with pytest.raises(ringcast.RingcastError) as ei:
            sub.next(0)
        assert ei.value.errno == errno.EINVAL
    assert kept == b"bor"
    with pytest.raises(ValueError):
        ev.data[0]          # the view was released with the borrow
    ev.release()            # idempotent
    assert sub.next(0).data == b"next"
    assert sub.borrow(0) is None
    p.close()
    with pytest.raises(ringcast.EndOfStream):
        sub.borrow(0)
    sub.close()


def test_create_exclusive_and_missing(names):
    n = names()
    assert ringcast.create(n, slots=16, slot_size=128, data_size=0) is True
    assert ringcast.create(n, slots=16, slot_size=128, data_size=0) is False
    with pytest.raises(ringcast.RingExists) as ei:
        ringcast.create(n, exclusive=True)
    assert ei.value.errno == errno.EEXIST
    assert isinstance(ei.value, FileExistsError)
    st = ringcast.stats(n)
    assert (st["slots"], st["slot_size"], st["data_size"]) == (16, 128, 0)
    missing = names("missing")
    with pytest.raises(ringcast.NoSuchRing) as ei:
        ringcast.Subscriber(missing)
    assert ei.value.errno == errno.ENOENT and "ringcast_sub_attach" in \
        str(ei.value)
    assert not ringcast.exists(missing)
    with pytest.raises(ringcast.NoSuchRing):
        ringcast.Publisher(missing, create=False)
    # A publisher creates a missing ring with the geometry asked for.
    with ringcast.Publisher(missing, slots=8):
        assert ringcast.stats(missing)["slots"] == 8


def test_bad_input(names):
    n = names()
    ringcast.create(n, slot_size=128, data_size=0)
    p = ringcast.Publisher(n)
    with pytest.raises(TypeError, match="str"):
        p.publish("text")
    with pytest.raises(TypeError):
        p.publish(12)
    with pytest.raises(TypeError):
        p.publish(b"x", type="1")
    with pytest.raises(OverflowError):
        p.publish(b"x", type=-1)
    with pytest.raises(TypeError):
        p.publish_batch([b"x", "y"])
    cap = ringcast.stats(n)["max_event"]
    with pytest.raises(ringcast.MessageTooLarge) as ei:
        p.publish(b"x" * (cap + 1))
    assert ei.value.errno == errno.EMSGSIZE
    with pytest.raises(ringcast.MessageTooLarge):
        p.publish_batch([b"ok", b"x" * (cap + 1)])
    p.publish(b"x" * cap)
    with pytest.raises(TypeError):
        ringcast.Subscriber(n, start=1.5)
    with pytest.raises(ValueError):
        ringcast.Subscriber(n, start="middle")
    with pytest.raises(TypeError):
        ringcast.Subscriber(42)
    with pytest.raises(ringcast.RingcastError) as ei:
        ringcast.Subscriber(n, types=[1, 1])
    assert ei.value.errno == errno.EINVAL
    with pytest.raises(ringcast.RingcastError) as ei:
        ringcast.create("bad/")
    assert ei.value.errno == errno.EINVAL
    s = ringcast.Subscriber(n)
    with pytest.raises(TypeError):
        s.next("1")
    with pytest.raises(ValueError):
        s.next(-1)
    p.close()
    s.close()
    for call in (lambda: p.publish(b"x"), lambda: p.publish_batch([b"x"]),
                 lambda: p.head, lambda: s.next(0), lambda: next(s),
                 lambda: s.borrow(0), lambda: s.read_batch(), s.fileno,
                 s.stats, s.interrupt):
        with pytest.raises(ringcast.Closed) as ei:
            call()
        assert ei.value.errno == errno.EBADF
        assert isinstance(ei.value, ValueError)
    p.close()
    s.close()
    assert p.closed and s.closed


def test_errors_carry_errno_and_detail(ring):
    p = ringcast.Publisher(ring)
    with pytest.raises(ringcast.Busy) as ei:
        ringcast.Publisher(ring)
    assert ei.value.errno == errno.EBUSY
    s = ringcast.Subscriber(ring)
    with pytest.raises(ringcast.Busy) as ei:
        ringcast.remove(ring)
    assert ei.value.detail, "ringcast_errdetail() says who holds it"
    assert ei.value.detail in str(ei.value)
    assert ei.value.strerror
    s.close()
    p.close()
    ringcast.remove(ring)
    assert not ringcast.exists(ring)


def test_lapped_and_going_on(names):
    n = names()
    ringcast.create(n, slots=16, data_size=0)
    sub = ringcast.Subscriber(n, start="oldest")
    with ringcast.Publisher(n) as p:
        p.publish_batch([b"%d" % i for i in range(100)])
    with pytest.raises(ringcast.Lapped) as ei:
        next(sub)
    assert ei.value.errno == errno.EOVERFLOW
    assert ei.value.lost > 0
    rest = list(sub)
    assert rest and rest[-1].data == b"99"
    assert ei.value.lost + len(rest) == 100
    sub.close()


def test_demoted(names):
    n = names()
    ringcast.create(n, slots=16, data_size=0, demote_after=0.05)
    sub = ringcast.Subscriber(n, start="oldest", reliable=True)
    with ringcast.Publisher(n) as p:
        # Blocked by the reliable subscriber, which reads nothing, until
        # the ring demotes it.
        p.publish_batch([b"%d" % i for i in range(40)])
    with pytest.raises(ringcast.Demoted) as ei:
        while True:
            sub.next(0)
    assert ei.value.errno == errno.ESTALE
    assert sub.stats()["demoted"] == 1
    sub.close()


def test_publisher_exit_on_exception_detaches(ring):
    sub = ringcast.Subscriber(ring, start="oldest")
    with pytest.raises(RuntimeError):
        with ringcast.Publisher(ring) as p:
            p.publish(b"last")
            raise RuntimeError("boom")
    assert sub.next(0).data == b"last"
    with pytest.raises(ringcast.PublisherDied) as ei:
        sub.next(5)
    assert ei.value.errno == errno.EOWNERDEAD
    sub.close()


def test_one_thread_at_a_time(ring):
    # A second thread on a handle in use gets Busy, not undefined
    # behaviour; close() from another thread ends a wait with Closed.
    sub = ringcast.Subscriber(ring)
    got = []

    def reader():
        try:
            sub.next()
        except BaseException as e:
            got.append(e)
    t = threading.Thread(target=reader)
    t.start()
    while not sub._lock.locked():
        threading.Event().wait(0.001)
    with pytest.raises(ringcast.Busy):
        sub.next(0)
    sub.close()
    t.join(10)
    assert not t.is_alive()
    assert len(got) == 1 and isinstance(got[0], ringcast.Closed)


def test_interrupt(ring):
    sub = ringcast.Subscriber(ring)
    got = []
    t = threading.Thread(target=lambda: got.append(
        pytest.raises(ringcast.Interrupted, sub.next)))
    t.start()
    while not sub._lock.locked():
        threading.Event().wait(0.001)
    sub.interrupt()
    t.join(10)
    assert got and got[0].value.errno == errno.EINTR
    sub.close()
