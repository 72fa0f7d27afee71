# SPDX-License-Identifier: MIT
"""Across processes: publishers and subscribers in other interpreters,
a killed publisher, reliable gating, handles inherited across fork(),
Ctrl-C in blocking waits."""
import errno
import os
import signal
import subprocess
import time

import pytest

import ringcast
from conftest import run_py

PUBLISH = r"""
import sys, ringcast
name, n, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with ringcast.Publisher(name) as p:
    p.wait_subscribers(int(sys.argv[4]))
    i = 0
    while i < n:
        k = min(batch, n - i)
        p.publish_batch([b"%08d" % j for j in range(i, i + k)], type=1)
        i += k
"""

READ = r"""
import sys, ringcast
sub = ringcast.Subscriber(sys.argv[1], start="oldest",
                          reliable=sys.argv[2] == "reliable")
print("ready", flush=True)
n = 0
for ev in sub:
    assert ev.data == b"%08d" % n, (ev.data, n)
    n += 1
print(n, flush=True)
"""


def test_python_publisher_process_to_reliable_subscribers(names):
    n = names()
    ringcast.create(n, slots=64, data_size=0)
    readers = [run_py(READ, n, "reliable", stdout=subprocess.PIPE,
                      text=True) for _ in range(2)]
    try:
        for r in readers:
            assert r.stdout.readline() == "ready\n"
        # A small ring and reliable readers: the publisher is held back,
        # nothing is lost.
        pub = run_py(PUBLISH, n, 20000, 100, 2)
        assert pub.wait(60) == 0
        for r in readers:
            out, _ = r.communicate(timeout=60)
            assert r.returncode == 0
            assert out == "20000\n"
    finally:
        for r in readers:
            if r.poll() is None:
                r.kill()
                r.wait()


def test_subscriber_here_publisher_there(ring):
    sub = ringcast.Subscriber(ring, start="oldest", reliable=True)
    pub = run_py(PUBLISH, ring, 5000, 64, 1)
    try:
        got = [ev.data for ev in sub]
        assert pub.wait(60) == 0
    finally:
        if pub.poll() is None:
            pub.kill()
            pub.wait()
    assert got == [b"%08d" % i for i in range(5000)]
    sub.close()


def test_killed_publisher_is_publisher_died(ring):
    code = r"""
import sys, ringcast
p = ringcast.Publisher(sys.argv[1])
p.publish(b"alive")
print("published", flush=True)
sys.stdin.read()
"""
    sub = ringcast.Subscriber(ring, start="oldest")
    pub = run_py(code, ring, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                 text=True)
    try:
        assert pub.stdout.readline() == "published\n"
        pub.kill()
        assert pub.wait(30) == -signal.SIGKILL
        assert next(sub).data == b"alive"
        with pytest.raises(ringcast.PublisherDied) as ei:
            next(sub)
        assert ei.value.errno == errno.EOWNERDEAD
    finally:
        if pub.poll() is None:
            pub.kill()
            pub.wait()
    sub.close()


def _in_child(fn):
    """Run @fn in a fork()ed child; its exit status (0: it returned
    True)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if fn() else 3
        except BaseException:
            code = 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_handles_after_fork(ring):
    p = ringcast.Publisher(ring)
    s = ringcast.Subscriber(ring, start="oldest")
    p.publish(b"before")

    def child():
        for call in (lambda: p.publish(b"from the child"), s.next,
                     lambda: s.borrow(0), s.read_batch, s.fileno):
            try:
                call()
                return False
            except ringcast.ForkedHandle as e:
                if e.errno != errno.ECHILD or "fork" not in str(e):
                    return False
        # The child may attach again, and close what it inherited.
        with ringcast.Subscriber(ring, start="oldest") as mine:
            if mine.next(0).data != b"before":
                return False
        p.close()
        s.close()
        return p.closed and s.closed
    assert _in_child(child) == 0
    # The parent's handles are untouched by the child's.
    p.publish(b"after")
    assert [s.next(0).data, s.next(0).data] == [b"before", b"after"]
    assert ringcast.stats(ring)["state_name"] == "live"
    p.close()
    s.close()


BLOCKED_SUB = r"""
import sys, ringcast
sub = ringcast.Subscriber(sys.argv[1])
try:
    print("waiting", flush=True)
    sub.next()
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    sys.exit(0)
sys.exit(1)
"""

BLOCKED_PUB = r"""
import sys, ringcast
p = ringcast.Publisher(sys.argv[1])
s = ringcast.Subscriber(sys.argv[1], reliable=True)
try:
    print("waiting", flush=True)
    # The reliable subscriber reads nothing: the ring fills, and the
    # publish waits for room for ever.
    while True:
        p.publish_batch([b"x"] * 8)
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    sys.exit(0)
sys.exit(1)
"""


def wait_in_futex(pid):
    """Return once @pid's main thread sleeps in a futex wait (polled)."""
    for _ in range(10000):
        with open("/proc/%d/wchan" % pid) as f:
            if f.read().startswith("futex"):
                return
        time.sleep(0.001)
    raise AssertionError("process %d never waited in a futex" % pid)


@pytest.mark.parametrize("code", [BLOCKED_SUB, BLOCKED_PUB],
                         ids=["subscriber", "publisher"])
def test_ctrl_c_ends_a_blocking_wait(names, code):
    n = names()
    ringcast.create(n, slots=16, data_size=0)
    child = run_py(code, n, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "waiting\n"
        # Signal it once it sleeps in the library's wait, not before.
        wait_in_futex(child.pid)
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=30)
        assert out == "KeyboardInterrupt\n"
        assert child.returncode == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
