# SPDX-License-Identifier: MIT
"""Fixtures of the ringcast Python suite.

Run from the build tree (bindings/python/meson.build sets these):
  RINGCAST_LIB   the libringcast.so to load
  RINGCAST_TOOL  the ringcast command-line tool (interop)
  RINGCAST_GO    ringcast-go, the Go binding's tool (interop; optional)
  RINGCAST_INCLUDE  the directory of ringcast.h (test_abi.py)
Every ring is named py-<pid>-<n>-<test>, removed after its test even
when it failed; the session fails if any such object is left in /dev/shm.
"""
import itertools
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import ringcast  # noqa: E402

PREFIX = "py-%d-" % os.getpid()
_count = itertools.count()
PYTHON = "/usr/bin/python3"


def _leftovers():
    return sorted(f for f in os.listdir("/dev/shm") if PREFIX in f)


def _remove(name):
    try:
        ringcast.remove(name, force=True)
    except ringcast.NoSuchRing:
        pass
    for f in ("ringcast." + name, "ringcast-lock." + name):
        try:
            os.unlink("/dev/shm/" + f)
        except FileNotFoundError:
            pass


class Names:
    """Fresh ring names for one test; all removed at its end."""

    def __init__(self, test):
        self.test = re.sub(r"[^A-Za-z0-9_-]", "_", test)[:40]
        self.made = []

    def __call__(self, tag=""):
        name = "%s%d-%s%s" % (PREFIX, next(_count), self.test,
                              "-" + tag if tag else "")
        self.made.append(name)
        return name

    def cleanup(self):
        for n in self.made:
            _remove(n)


@pytest.fixture
def names(request):
    n = Names(request.node.name)
    yield n
    n.cleanup()


@pytest.fixture
def ring(names):
    """A fresh ring of the default geometry."""
    name = names()
    ringcast.create(name, exclusive=True)
    return name


def pytest_sessionfinish(session, exitstatus):
    left = _leftovers()
    if left:
        for f in left:
            try:
                os.unlink("/dev/shm/" + f)
            except OSError:
                pass
        print("\nleft in /dev/shm: %s" % " ".join(left), file=sys.stderr)
        session.exitstatus = 1


def child_env():
    """The environment a child /usr/bin/python3 needs to import the
    package from this tree."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(HERE) + (
        ":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_py(code, *args, **kw):
    """Start /usr/bin/python3 -c @code with @args (a Popen)."""
    return subprocess.Popen([PYTHON, "-c", code] + [str(a) for a in args],
                            env=child_env(), **kw)


@pytest.fixture
def tool():
    t = os.environ.get("RINGCAST_TOOL")
    if not t or not os.access(t, os.X_OK):
        pytest.skip("RINGCAST_TOOL is not set to the ringcast tool")
    return t
