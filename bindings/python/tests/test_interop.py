# SPDX-License-Identifier: MIT
"""Across languages: a Python publisher read by `ringcast sub` (C) and by
ringcast-go (Go); `ringcast pub` and ringcast-go's publisher read by
Python.  ringcast-go is the Go binding's tool (bindings/go/cmd/ringcast-go,
built at build/bindings/go/ringcast-go); its tests skip without it."""
import os
import subprocess

import pytest

import ringcast

LINES = [b"line %d %s" % (i, b"x" * (i % 50)) for i in range(500)]
# One event of the data area: larger than a slot.
BIG = b"B" * 5000


@pytest.fixture
def go():
    t = os.environ.get("RINGCAST_GO")
    if not t or not os.access(t, os.X_OK):
        pytest.skip("ringcast-go is not built (%s): the Go binding's tool, "
                    "bindings/go/cmd/ringcast-go" % (t or "RINGCAST_GO unset"))
    return t


def _python_publishes(ring, reader_cmd):
    """Start @reader_cmd, publish LINES and BIG from here, close; what the
    reader printed."""
    reader = subprocess.Popen(reader_cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        with ringcast.Publisher(ring) as p:
            p.publish_batch(LINES[:250], type=1)
            for ln in LINES[250:]:
                p.publish(ln, type=1)
            p.publish(BIG, type=1)
        out, err = reader.communicate(timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    assert reader.returncode == 0, err
    return out


def _python_reads(ring, writer_cmd, lines):
    sub = ringcast.Subscriber(ring, start="oldest")
    writer = subprocess.Popen(writer_cmd, stdin=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        _, err = writer.communicate(b"".join(ln + b"\n" for ln in lines),
                                    timeout=60)
        assert writer.returncode == 0, err
        got = list(sub)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
        sub.close()
    return got


def test_python_to_ringcast_sub(ring, tool):
    out = _python_publishes(ring, [tool, "sub", ring, "--from", "oldest"])
    assert out.split(b"\n") == LINES + [BIG, b""]


def test_ringcast_pub_to_python(names, tool):
    ring = names()
    ringcast.create(ring)
    got = _python_reads(ring, [tool, "pub", ring, "--type", "1"],
                        LINES + [BIG])
    assert [e.data for e in got] == LINES + [BIG]
    assert {e.type for e in got} == {1}
    assert [e.seq for e in got] == list(range(len(LINES) + 1))


def test_python_to_go(ring, go):
    out = _python_publishes(ring, [go, "sub", ring, "--from", "oldest"])
    assert out.split(b"\n") == LINES + [BIG, b""]


def test_go_to_python(names, go):
    ring = names()
    # ringcast-go pub creates the ring if missing: attach after it did.
    ringcast.create(ring)
    got = _python_reads(ring, [go, "pub", ring], LINES + [BIG])
    assert [e.data for e in got] == LINES + [BIG]
    assert {e.type for e in got} == {1}
