# SPDX-License-Identifier: MIT
"""The bulk paths of batches: publish_batch() packs the descriptors a
column at a time, a batch read decodes them a column at a time and the
payloads with one struct unpack.  Sizes that need padding, empty
payloads, large ones, other bytes-like objects, bad input."""
import array
import pickle
import struct

import pytest

import ringcast

# Every padding (0 to 7 bytes) and the empty payload, around the sizes
# where the formats stop being kept, and a large one in the data area.
SIZES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 0, 0, 63, 64, 65,
         4095, 4096, 4097, 0, 1, 200 << 10, 3, 0]


def _payloads():
    return [bytes([(i * 7 + j) & 0xff for j in range(n)]) if n < 5000
            else bytes([i]) * n for i, n in enumerate(SIZES)]


def _read_all(sub):
    got = []
    while True:
        try:
            got += sub.read_batch()
        except ringcast.EndOfStream:
            return got


@pytest.fixture
def unpacks(monkeypatch):
    """Counts the struct unpacks of payloads (the fast path)."""
    calls = []
    real = ringcast._unpack_from

    def counted(fmt, buf):
        datas = real(fmt, buf)
        calls.append(len(datas))
        return datas
    monkeypatch.setattr(ringcast, "_unpack_from", counted)
    return calls


def test_mixed_sizes_and_types(ring, unpacks):
    payloads = _payloads()
    types = [i * 1000003 & 0xffffffff for i in range(len(payloads))]
    sub = ringcast.Subscriber(ring, start="oldest")
    with ringcast.Publisher(ring) as p:
        p.publish_batch(payloads, type=types)
        p.publish_batch(payloads, type=0xffffffff)
        p.publish_batch(tuple(payloads[:3]))
        p.publish_batch(iter(payloads[3:6]), type=iter([1, 2, 3]))
    got = _read_all(sub)
    n = len(payloads)
    assert [e.data for e in got] == payloads * 2 + payloads[:6]
    assert [e.type for e in got] == types + [0xffffffff] * n + \
        [0, 0, 0, 1, 2, 3]
    assert [e.seq for e in got] == list(range(2 * n + 6))
    assert all(e.data.__class__ is bytes for e in got)
    assert len({e.epoch for e in got}) == 1
    assert all(a.ts <= b.ts for a, b in zip(got, got[1:]))
    # Every payload was made by the struct unpack, not the fallback.
    assert sum(unpacks) == len(got)
    sub.close()


def test_decoded_fields_are_the_borrowed_ones(ring):
    # borrow() reads the fields from the C struct one by one: the column
    # reads of a batch must give the same.
    payloads = _payloads()
    types = [0x80000000 + 3 * i for i in range(len(payloads))]
    batch = ringcast.Subscriber(ring, start="oldest")
    one = ringcast.Subscriber(ring, start="oldest")
    with ringcast.Publisher(ring) as p:
        p.publish(b"first", type=1)
        p.publish_batch(payloads, type=types)
    got = _read_all(batch)
    assert len(got) == len(payloads) + 1
    for ev in got:
        with one.borrow(0) as b:
            assert (ev.data, ev.type, ev.seq, ev.ts, ev.epoch) == \
                (bytes(b.data), b.type, b.seq, b.ts, b.epoch)
    assert got[0].ts > 0
    assert got[0].epoch == ringcast.stats(ring)["epoch"] & 0xffffffff
    batch.close()
    one.close()


def test_events_are_named_tuples(ring):
    sub = ringcast.Subscriber(ring, start="oldest")
    with ringcast.Publisher(ring) as p:
        p.publish_batch([b"abc", b""], type=[4, 5])
    a, b = sub.read_batch()
    assert isinstance(a, ringcast.Event) and isinstance(a, tuple)
    data, ty, seq, ts, epoch = a
    assert (data, ty, seq) == (b"abc", 4, 0)
    assert (a.data, a.type, a.seq, a.ts, a.epoch) == (data, ty, seq, ts,
                                                      epoch)
    assert b == ringcast.Event(b"", 5, 1, b.ts, b.epoch)
    assert pickle.loads(pickle.dumps(a)) == a
    assert a._asdict()["data"] == b"abc"
    with pytest.raises(AttributeError):
        a.data = b"x"
    sub.close()


def test_iteration_and_next_share_the_read_ahead(ring):
    payloads = _payloads()
    sub = ringcast.Subscriber(ring, start="oldest", batch=7)
    with ringcast.Publisher(ring) as p:
        p.publish_batch(payloads, type=9)
    got = [sub.next()]
    for ev in sub:
        got.append(ev)
        if len(got) == 10:
            break
    assert sub.pending == 4
    got += sub.read_batch(2)
    got += list(sub)
    assert [e.data for e in got] == payloads
    assert [e.seq for e in got] == list(range(len(payloads)))
    sub.close()


def test_other_bytes_like(ring):
    h = array.array("H", [1, 0x203, 0xfffe])        # len 3, 6 bytes
    q = array.array("q", [-1])                       # len 1, 8 bytes
    mv2 = memoryview(bytes(range(12))).cast("B", (3, 4))  # len 3
    strided = memoryview(b"abcdefgh")[::2]           # not contiguous
    payloads = [b"b", bytearray(b"ba"), memoryview(b"mv"), h, q, mv2,
                strided, memoryview(h)]
    want = [bytes(memoryview(x)) for x in payloads]
    sub = ringcast.Subscriber(ring, start="oldest")
    with ringcast.Publisher(ring) as p:
        p.publish_batch(payloads)
        p.publish_batch([h, q])         # join works; len() is not bytes
    assert [e.data for e in _read_all(sub)] == want + want[3:5]
    sub.close()


def test_bad_batches_publish_nothing(ring):
    with ringcast.Publisher(ring) as p:
        head = p.head
        with pytest.raises(TypeError, match="str"):
            p.publish_batch([b"x", "y"])
        with pytest.raises(TypeError, match="int"):
            p.publish_batch([b"x", 5])
        with pytest.raises(TypeError):
            p.publish_batch([b"x", None])
        with pytest.raises(TypeError):
            p.publish_batch(7)
        with pytest.raises(TypeError):
            p.publish_batch([b"x"], type="1")
        with pytest.raises(TypeError):
            p.publish_batch([b"x"], type=1.0)
        with pytest.raises(TypeError):
            p.publish_batch([b"x", b"y"], type=[1, "2"])
        with pytest.raises(OverflowError):
            p.publish_batch([b"x"], type=-1)
        with pytest.raises(OverflowError):
            p.publish_batch([b"x"], type=1 << 32)
        with pytest.raises(OverflowError):
            p.publish_batch([b"x", b"y"], type=[1, -2])
        with pytest.raises(ValueError):
            p.publish_batch([b"x", b"y"], type=[1, 2, 3])
        assert p.head == head
        assert p.publish_batch([]) == 0
        assert p.head == head


def test_a_length_that_is_not_the_joined_size_is_refused(ring,
                                                           monkeypatch):
    # Stands for a bytearray resized by another thread between the join
    # and the lengths: no descriptor may point past the joined bytes.
    monkeypatch.setattr(ringcast, "_bytes_only", lambda payloads: True)
    with ringcast.Publisher(ring) as p:
        with pytest.raises(ValueError, match="changed size"):
            p.publish_batch([b"ab", array.array("H", [1, 2])])
        assert p.head == 0


def test_descriptor_array_grows(ring):
    sub = ringcast.Subscriber(ring, start="oldest", batch=1000)
    with ringcast.Publisher(ring) as p:
        for k in (1, 64, 65, 300, 1000, 2):
            p.publish_batch([b"%d.%d" % (k, i) for i in range(k)], type=k)
            evs = []
            while len(evs) < k:
                evs += sub.read_batch(timeout=5)
            assert [e.data for e in evs] == [b"%d.%d" % (k, i)
                                             for i in range(k)]
            assert {e.type for e in evs} == {k}
        assert len(p._msgs) >= 1000
    sub.close()


def test_decode_fallback_matches(ring, monkeypatch):
    # A layout other than the documented one (payloads one after the
    # other at 8-byte boundaries) is read event by event: same events.
    payloads = _payloads()
    sub = ringcast.Subscriber(ring, start="oldest")
    with ringcast.Publisher(ring) as p:
        p.publish_batch(payloads, type=3)
    monkeypatch.setattr(ringcast, "_calcsize", lambda fmt: -1)
    monkeypatch.setattr(ringcast, "_unpack_from", None)
    got = _read_all(sub)
    assert [e.data for e in got] == payloads
    assert [(e.type, e.seq) for e in got] == [(3, i) for i in
                                               range(len(payloads))]
    sub.close()


def test_payload_formats():
    for n in list(range(40)) + [4095, 4096, 5000]:
        f = ringcast._pfmt(n)
        assert struct.calcsize(f) == (n + 7) & ~7
        assert struct.unpack_from(f, bytes(range(256)) * 40)[0] == \
            (bytes(range(256)) * 40)[:n]


def test_payload_buffer_is_whole_8_byte_units(ring, unpacks):
    # The last payload's padding is inside the buffer: a batch that ends
    # at its last byte is decoded by the unpack too.
    sub = ringcast.Subscriber(ring, start="oldest")
    sub._alloc(1001)
    assert sub._size == 1008
    payloads = [b"%07d" % i for i in range(125)] + [b"z" * 8]
    with ringcast.Publisher(ring) as p:
        p.publish_batch(payloads)
    got = _read_all(sub)
    assert [e.data for e in got] == payloads
    assert sum(unpacks) == len(payloads)
    sub.close()


def test_descriptors_kept_between_batches(ring):
    # A batch of the previous one's lengths reuses its len and data
    # columns, one of its type its type column: each change must show.
    small = [b"%02d" % i for i in range(5)]                 # 2 bytes each
    large = [bytes([i]) * (20 << 10) for i in range(5)]     # not copied
    steps = [
        ([b"a1", b"b1", b"c1"], 1),
        ([b"a2", b"b2", b"c2"], 1),         # same lengths, same type
        ([b"a3", b"b3", b"c3"], 2),         # same lengths, other type
        ([b"a4", b"b4", b"c4"], [7, 8, 9]),
        ([b"a5", b"b5", b"c5"], 2),         # after types of each
        (small, 2),                         # more of the same type
        (large, 2),
        ([b"%02d" % (i + 50) for i in range(5)], 2),   # lengths of small
        ([b"x", b"yy", b"zzz"], 3),
        ([b"p", b"qq", b"rrr", b"s"], 3),   # longer: lengths differ
        ([b"p"], 3),                        # shorter
        ([b"p", b"qq", b"rrr", b"s"], 3),
    ]
    sub = ringcast.Subscriber(ring, start="oldest")
    want = []
    with ringcast.Publisher(ring) as p:
        for payloads, ty in steps:
            p.publish_batch(payloads, type=ty)
            types = ty if isinstance(ty, list) else [ty] * len(payloads)
            want += list(zip(payloads, types))
    got = _read_all(sub)
    assert [(e.data, e.type) for e in got] == want
    assert [e.seq for e in got] == list(range(len(want)))
    sub.close()
