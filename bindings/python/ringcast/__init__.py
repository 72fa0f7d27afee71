# SPDX-License-Identifier: MIT
"""ringcast: one publisher, many subscribers, one ring in shared memory.

A Python face on libringcast (cffi, ABI mode)::

    import ringcast

    ringcast.create("telemetry")
    with ringcast.Publisher("telemetry") as p:
        p.publish(b"hello", type=1)

    for ev in ringcast.Subscriber("telemetry", start="oldest"):
        print(ev.seq, ev.type, ev.data)

Events are copies (bytes) by default; Subscriber.borrow() gives a
read-only memoryview of the event in place, valid until its release.
Every failure is a RingcastError carrying the errno, the library's text
for it and ringcast_errdetail().  docs/python.md has the whole story.
"""
import array as _array
import asyncio
import collections
import errno as _errno
import itertools
import os
import struct
import threading
import time
import weakref

from ringcast._ffi import ffi, lib, LIBRARY

__all__ = [
    "create", "remove", "close_ring", "stats", "exists", "library_path",
    "Publisher", "Subscriber", "TypeMux", "Event", "Borrowed",
    "RingcastError", "EndOfStream", "PublisherDied", "RingRemoved", "Lapped",
    "Demoted", "WouldBlock", "Timeout", "Interrupted", "NoSuchRing",
    "RingExists", "Busy", "MessageTooLarge", "Corrupted", "Incompatible",
    "ForkedHandle", "Closed",
]

# The longest a blocking call stays inside the library: then Python runs,
# and a pending signal (Ctrl-C: KeyboardInterrupt) is raised.
WAIT_SLICE = 0.1
_SLICE_NS = int(WAIT_SLICE * 1e9)

_FROM = {"newest": 0, "oldest": 1}
_WAIT = {"spin": 0, "busy": 1, "sleep": 2}

# ---------------------------------------------------------------------
# Errors


class RingcastError(OSError):
    """A failed ringcast call: .errno, .strerror (the library's text for
    it), .detail (ringcast_errdetail(), "" when none) and .call (the C
    function)."""

    def __init__(self, err, strerror=None, detail="", call=""):
        if strerror is None:
            strerror = ffi.string(lib.ringcast_strerror(-err)).decode()
        super().__init__(err, strerror)
        self.detail = detail
        self.call = call

    def __str__(self):
        s = "[Errno %d] %s" % (self.errno, self.strerror)
        if self.call:
            s = "%s: %s" % (self.call, s)
        if self.detail:
            s += " (%s)" % self.detail
        return s


class EndOfStream(RingcastError):
    """-EPIPE: the ring is closed; every event before it was read.  For a
    publisher: the ring was closed, publishing is refused."""


class PublisherDied(RingcastError):
    """-EOWNERDEAD: the publisher died without closing the ring."""


class RingRemoved(RingcastError):
    """-EIDRM: the ring was removed while attached."""


class Lapped(RingcastError):
    """-EOVERFLOW: a lossy subscriber was lapped; .lost events are gone.
    Reading again goes on with the oldest retained event."""

    def __init__(self, err, strerror=None, detail="", call="", lost=0):
        super().__init__(err, strerror, detail, call)
        self.lost = lost

    def __str__(self):
        return "%s: %d events lost" % (super().__str__(), self.lost)


class Demoted(RingcastError):
    """-ESTALE: a reliable subscriber was demoted to lossy; reading again
    goes on."""


class WouldBlock(RingcastError, BlockingIOError):
    """-EAGAIN: nothing ready, or no room, in a call that does not wait."""


class Timeout(RingcastError, TimeoutError):
    """-ETIMEDOUT: a publish found no room for as long as it was let."""


class Interrupted(RingcastError, InterruptedError):
    """-EINTR: interrupt() was called on the handle from another thread."""


class NoSuchRing(RingcastError, FileNotFoundError):
    """-ENOENT: no ring of that name."""


class RingExists(RingcastError, FileExistsError):
    """-EEXIST: a ring of that name exists (exclusive create)."""


class Busy(RingcastError):
    """-EBUSY: a live publisher holds the ring, a participant keeps it
    from being removed; or this handle is in use by another thread."""


class MessageTooLarge(RingcastError):
    """-EMSGSIZE: a payload larger than the ring's largest event."""


class Corrupted(RingcastError):
    """-EBADMSG: the ring's shared memory is inconsistent."""


class Incompatible(RingcastError):
    """-EPROTO: not a ringcast object, or another ABI version."""


class ForkedHandle(RingcastError):
    """-ECHILD: a handle inherited across fork(): attach again."""


class Closed(RingcastError, ValueError):
    """The handle was closed (EBADF): nothing more can be done with it."""


_CLASSES = {
    _errno.EPIPE: EndOfStream,
    _errno.EOWNERDEAD: PublisherDied,
    _errno.EIDRM: RingRemoved,
    _errno.EOVERFLOW: Lapped,
    _errno.ESTALE: Demoted,
    _errno.EAGAIN: WouldBlock,
    _errno.ETIMEDOUT: Timeout,
    _errno.EINTR: Interrupted,
    _errno.ENOENT: NoSuchRing,
    _errno.EEXIST: RingExists,
    _errno.EBUSY: Busy,
    _errno.EMSGSIZE: MessageTooLarge,
    _errno.EBADMSG: Corrupted,
    _errno.EPROTO: Incompatible,
    _errno.ECHILD: ForkedHandle,
}


def _error(rc, call, lost=0):
    """The exception of a negative return @rc of the C function @call."""
    err = -rc
    detail = ffi.string(lib.ringcast_errdetail()).decode(errors="replace")
    cls = _CLASSES.get(err, RingcastError)
    if cls is Lapped:
        return Lapped(err, None, detail, call, lost)
    return cls(err, None, detail, call)


def _closed(what):
    return Closed(_errno.EBADF, "%s is closed" % what)


def _forked(what):
    return ForkedHandle(_errno.ECHILD,
                        "%s was inherited across fork(): attach again in "
                        "this process" % what)


def _in_use(what):
    return Busy(_errno.EBUSY,
                "%s is in use by another thread (one thread at a time)"
                % what)


# Every live handle, so that a forked child marks them unusable before
# it could touch the parent's ring through them.
_handles = weakref.WeakSet()


def _after_fork_in_child():
    for h in list(_handles):
        h._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _name(name):
    if isinstance(name, str):
        return name.encode()
    if isinstance(name, bytes):
        return name
    raise TypeError("a ring name is a str, not %s" % type(name).__name__)


def _ns(seconds, what="timeout"):
    """Seconds (None: for ever) as the library's nanoseconds (-1)."""
    if seconds is None:
        return -1
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        raise TypeError("%s is a number of seconds or None, not %s"
                        % (what, type(seconds).__name__))
    if seconds < 0:
        raise ValueError("%s must not be negative" % what)
    return int(seconds * 1e9)


def _payload(data):
    """A bytes-like payload as bytes (copied only when not bytes)."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, str):
        raise TypeError("a payload is bytes-like, not str: encode it")
    try:
        return bytes(memoryview(data))
    except TypeError:
        raise TypeError("a payload is bytes-like, not %s"
                        % type(data).__name__) from None


_LEN_IS_NBYTES = frozenset((bytes, bytearray))


def _bytes_only(payloads):
    """True when len() of every payload is its size in bytes (bytes and
    bytearray; a memoryview or an array counts items)."""
    return _LEN_IS_NBYTES.issuperset(map(type, payloads))


# ---------------------------------------------------------------------
# Rings


def library_path():
    """The path of the libringcast this package loaded."""
    return LIBRARY


def create(name, *, slots=0, slot_size=0, max_subscribers=0, mode=0,
           data_size=None, demote_after=None, exclusive=False,
           multi_publisher=False):
    """Create a ring, or accept a matching one (unless @exclusive).

    0 for each default (4096 slots of 256 bytes, 64 subscribers, 0600);
    @data_size: bytes of the data area where events too large for a slot
    go (None: 4 MiB; 0: none, every event fits a slot); @demote_after:
    seconds a reliable subscriber may hold the publisher back before it is
    demoted (None: never).  Returns True when created, False when a
    matching ring existed.
    """
    opts = ffi.new("struct ringcast_ring_opts *")
    opts.slots = slots
    opts.slot_size = slot_size
    opts.max_subscribers = max_subscribers
    opts.mode = mode
    flags = 0
    if data_size == 0:
        flags |= 0x4  # RINGCAST_CREATE_NO_DATA
    elif data_size is not None:
        opts.data_size = data_size
    if demote_after is not None:
        opts.demote_ns = _ns(demote_after, "demote_after")
    if exclusive:
        flags |= 0x1  # RINGCAST_CREATE_EXCL
    if multi_publisher:
        flags |= 0x2  # RINGCAST_CREATE_MULTI_PUB
    rc = lib.ringcast_ring_create(_name(name), opts, flags)
    if rc < 0:
        raise _error(rc, "ringcast_ring_create")
    return rc == 0


def remove(name, force=False):
    """Unlink a ring nobody uses (@force: even one in use)."""
    if force:
        rc = lib.ringcast_ring_remove_force(_name(name))
        call = "ringcast_ring_remove_force"
    else:
        rc = lib.ringcast_ring_remove(_name(name))
        call = "ringcast_ring_remove"
    if rc < 0:
        raise _error(rc, call)


def close_ring(name):
    """End the stream of a ring from outside its publisher."""
    rc = lib.ringcast_ring_close(_name(name))
    if rc < 0:
        raise _error(rc, "ringcast_ring_close")


_STATES = ("created", "live", "closed", "abandoned", "removed")


def stats(name):
    """A snapshot of a ring (struct ringcast_ring_stats) as a dict; the
    state is also given by name (state_name)."""
    st = ffi.new("struct ringcast_ring_stats *")
    rc = lib.ringcast_ring_get_stats(_name(name), st)
    if rc < 0:
        raise _error(rc, "ringcast_ring_get_stats")
    d = {f: getattr(st, f) for f, _ in ffi.typeof(st[0]).fields}
    d.pop("reserved0", None)
    s = d["state"]
    d["state_name"] = _STATES[s] if s < len(_STATES) else str(s)
    return d


def exists(name):
    """Whether a ring of that name exists and is valid."""
    try:
        stats(name)
    except NoSuchRing:
        return False
    return True


# ---------------------------------------------------------------------
# Events

_EventBase = collections.namedtuple("Event", "data type seq ts epoch")


class Event(_EventBase):
    """One event: .data (bytes), .type, .seq, .ts (CLOCK_MONOTONIC
    nanoseconds stamped by the publisher), .epoch (low 32 bits of its
    publisher's epoch).  A named tuple: it unpacks, compares, pickles."""
    __slots__ = ()


_tnew = tuple.__new__
_repeat = itertools.repeat
_calcsize = struct.calcsize
_unpack_from = struct.unpack_from
# struct ringcast_event: seq ts type len epoch publisher lost data; read
# a column at a time: memoryview casts to "Q" (8 bytes) and "I" (4).
assert ffi.sizeof("struct ringcast_event") == 48
assert ffi.offsetof("struct ringcast_event", "ts") == 1 * 8
assert ffi.offsetof("struct ringcast_event", "type") == 4 * 4
assert ffi.offsetof("struct ringcast_event", "len") == 5 * 4
assert ffi.offsetof("struct ringcast_event", "epoch") == 6 * 4
assert ffi.offsetof("struct ringcast_event", "data") == 5 * 8
# struct ringcast_msg: type len data, written a column at a time
assert ffi.sizeof("struct ringcast_msg") == 16
assert ffi.offsetof("struct ringcast_msg", "len") == 1 * 4
assert ffi.offsetof("struct ringcast_msg", "data") == 1 * 8
assert _array.array("I").itemsize == 4 and _array.array("Q").itemsize == 8


class _PayloadFormats(dict):
    """struct formats of one payload of n bytes in a batch read's
    buffer: "<n>s" and the padding to the next 8-byte boundary.  Small
    sizes are kept."""

    def __missing__(self, n):
        pad = -n & 7
        f = "%ds%dx" % (n, pad) if pad else "%ds" % n
        if n < 4096:
            self[n] = f
        return f


_pfmt = _PayloadFormats().__getitem__

# A batch of up to this many bytes is copied into the publisher's own
# buffer (see Publisher._pay_alloc); a larger one is not copied.
_COPY_MAX = 64 << 10


class Borrowed:
    """An event looked at in place (Subscriber.borrow()).

    .data is a read-only memoryview of the ring's memory, valid until
    release() (or the end of the ``with`` block).  release() releases
    that view (a later use raises ValueError), but a slice taken of it
    is another view the release cannot reach: copy what must outlive the
    borrow (bytes(ev.data[a:b])).  For a lossy subscriber the bytes may
    be overwritten while borrowed: release() raises Lapped then, and
    what was read must be discarded.
    """
    __slots__ = ("data", "type", "seq", "ts", "epoch", "_sub", "_ev")

    def __init__(self, sub, ev, data):
        self._sub = sub
        self._ev = ev
        self.data = data
        if ev is not None:
            self.type, self.seq, self.ts, self.epoch = \
                ev.type, ev.seq, ev.ts, ev.epoch

    def release(self):
        """End the borrow; raises Lapped or Demoted when the event was
        overwritten meanwhile (discard what was read)."""
        sub, self._sub = self._sub, None
        if sub is None:
            return
        self.data.release()
        if self._ev is not None:
            sub._release(self._ev)

    def __enter__(self):
        return self

    def __exit__(self, et, e, tb):
        if et is None:
            self.release()
        else:
            try:
                self.release()
            except RingcastError:
                pass
        return False

    def __repr__(self):
        return "<ringcast.Borrowed seq=%s type=%s len=%d%s>" % (
            self.seq, self.type, len(self.data) if self._sub else -1,
            "" if self._sub else " released")


# ---------------------------------------------------------------------
# Handles


class _Handle:
    """What Publisher and Subscriber share: the C handle, one thread at a
    time (a lock taken without waiting: a second thread gets Busy rather
    than undefined behaviour), fork() and close() from any thread."""
    _what = "handle"

    def _init_handle(self, h):
        self._h = h
        self._real = h
        self._state = "open"
        self._closing = False
        self._lock = threading.Lock()
        _handles.add(self)

    def _dead(self):
        """The exception for a call on a handle that is not open."""
        if getattr(self, "_state", "closed") == "forked":
            return _forked(self._what)
        return _closed(self._what)

    def _after_fork(self):
        if self._state == "open":
            self._state = "forked"
            self._h = None
        self._lock = threading.Lock()

    def _free(self, h):
        raise NotImplementedError

    def _interrupt(self, h):
        raise NotImplementedError

    def _shut(self, how):
        real = getattr(self, "_real", None)
        if real is None:
            return None
        self._closing = True
        lock = self._lock
        if not lock.acquire(False):
            # Another thread waits in the library: wake it, then wait
            # until it has left (it raises Closed).
            if self._h is not None:
                self._interrupt(self._h)
            lock.acquire()
        try:
            if self._real is None:
                return None
            forked = self._state == "forked"
            self._real = self._h = None
            self._state = "closed"
            _handles.discard(self)
            # In a forked child the calls only free the memory.
            return how(real, forked)
        finally:
            lock.release()

    def __del__(self):
        try:
            self._shut(lambda h, forked: self._free(h))
        except Exception:
            pass

    def __enter__(self):
        return self

    @property
    def closed(self):
        return self._state != "open"

    def interrupt(self):
        """Make the current (or next) wait of this handle raise
        Interrupted; any thread."""
        h = self._h
        if h is None:
            raise self._dead()
        self._interrupt(h)


class Publisher(_Handle):
    """The ring's publisher: Publisher(name).

    With @create (the default) a missing ring is created with the
    geometry keywords of create().  @reopen takes over a closed ring,
    @precise stamps with the precise clock, @any_owner trusts a ring of
    another user.  @timeout: how long a publish may wait for room when a
    reliable subscriber lags (None: for ever; 0: never, WouldBlock).

    As a context manager it closes the ring (end of stream) on a normal
    exit, and on an exception detaches without closing: subscribers are
    told the publisher died, as when the process is killed.
    """
    _what = "publisher"

    def __init__(self, name, *, create=True, reopen=False, precise=False,
                 any_owner=False, timeout=None, **geometry):
        self._real = None
        bname = _name(name)
        self.name = bname.decode()
        flags = (0x1 if reopen else 0) | (0x2 if precise else 0) | \
            (0x4 if any_owner else 0)
        pp = ffi.new("struct ringcast_pub **")
        rc = lib.ringcast_pub_attach(bname, flags, pp)
        if rc == -_errno.ENOENT and create:
            globals()["create"](name, **geometry)
            rc = lib.ringcast_pub_attach(bname, flags, pp)
        elif geometry and not create:
            raise TypeError("geometry keywords need create=True")
        if rc < 0:
            raise _error(rc, "ringcast_pub_attach")
        self._init_handle(pp[0])
        self._msgs_alloc(64)
        self.timeout = timeout

    def _msgs_alloc(self, n):
        """The descriptors of a batch (kept, grown when a batch is
        larger), and views of their columns: type and len as "I" (every
        fourth from 0 and 1), data as "Q" (every second from 1).  What
        the columns hold is remembered: the lengths of the last batch
        copied into the payload buffer (its data column points there),
        the type of the last batch with one type and how many of those
        descriptors have it."""
        self._msgs = ffi.new("struct ringcast_msg[]", n)
        mv = memoryview(ffi.buffer(self._msgs))
        self._msgs_u32 = mv.cast("I")
        self._msgs_u64 = mv.cast("Q")
        self._msgs_lens = None
        self._msgs_type = None
        self._msgs_typed = 0
        if not hasattr(self, "_pay"):
            self._pay_alloc(_COPY_MAX)

    def _pay_alloc(self, size):
        """The payload buffer: a batch of up to _COPY_MAX bytes is copied
        there, at addresses that stay, so that a batch of the lengths of
        the one before needs no new len and data columns."""
        self._pay = ffi.new("char[]", size)
        self._pay_view = ffi.buffer(self._pay)
        self._pay_addr = int(ffi.cast("uintptr_t", self._pay))
        self._msgs_lens = None

    @property
    def timeout(self):
        """How long a publish may wait for room (None: for ever)."""
        return self._timeout

    @timeout.setter
    def timeout(self, seconds):
        ns = _ns(seconds)
        h = self._h
        if h is None:
            raise self._dead()
        # The library waits at most a slice; the loop waits the rest.
        rc = lib.ringcast_pub_set_timeout(h, ns if 0 <= ns < _SLICE_NS
                                          else _SLICE_NS)
        if rc < 0:
            raise _error(rc, "ringcast_pub_set_timeout")
        self._timeout = seconds
        self._timeout_ns = ns

    def _free(self, h):
        lib.ringcast_pub_detach(h)

    def _interrupt(self, h):
        lib.ringcast_pub_interrupt(h)

    def publish(self, data, type=0):
        """Publish one event (bytes-like @data, @type tag); returns the
        number of registered subscribers."""
        h = self._h
        if h is None:
            raise self._dead()
        if data.__class__ is not bytes:
            data = _payload(data)
        lock = self._lock
        if not lock.acquire(False):
            raise _in_use(self._what)
        try:
            rc = lib.ringcast_pub_publish(h, type, data, len(data))
            if rc == -_errno.ETIMEDOUT or rc == -_errno.EINTR:
                rc = self._publish_wait(h, type, data)
        finally:
            lock.release()
        if rc < 0:
            raise _error(rc, "ringcast_pub_publish")
        return rc

    def _publish_wait(self, h, type, data):
        """The wait of a publish past its first slice: again and again,
        with Python run between slices, until the caller's timeout."""
        deadline = None
        if self._timeout_ns >= 0:
            deadline = time.monotonic() + self._timeout - WAIT_SLICE
        while True:
            if self._closing:
                raise _closed(self._what)
            if deadline is not None and time.monotonic() >= deadline:
                return -_errno.ETIMEDOUT
            rc = lib.ringcast_pub_publish(h, type, data, len(data))
            if rc != -_errno.ETIMEDOUT:
                if rc == -_errno.EINTR and self._closing:
                    raise _closed(self._what)
                return rc

    def publish_batch(self, payloads, type=0):
        """Publish the bytes-like @payloads in order, with consecutive
        sequences, in as few library calls as fit; @type is one tag for
        all or a sequence of one per payload.  Returns the number of
        registered subscribers."""
        h = self._h
        if h is None:
            raise self._dead()
        if not isinstance(payloads, (list, tuple)):
            payloads = list(payloads)
        n = len(payloads)
        if n == 0:
            return lib.ringcast_pub_subscribers(h)
        try:
            blob = b"".join(payloads)
        except TypeError:
            payloads = [_payload(p) for p in payloads]
            blob = b"".join(payloads)
        if _bytes_only(payloads):
            lens = list(map(len, payloads))
        else:
            # len() of other buffers counts items, not bytes.
            lens = [memoryview(p).nbytes for p in payloads]
        total = len(blob)
        if sum(lens) != total:
            # A bytearray resized by another thread since the join: no
            # descriptor may point past the payloads.
            raise ValueError("a payload changed size while published")
        if isinstance(type, int):
            types = None
            if type != self._msgs_type:
                _array.array("I", (type,))     # OverflowError, TypeError
        else:
            types = _array.array("I", type)
            if len(types) != n:
                raise ValueError("%d types for %d payloads"
                                 % (len(types), n))
        lock = self._lock
        if not lock.acquire(False):
            raise _in_use(self._what)
        try:
            if len(self._msgs) < n:
                self._msgs_alloc(max_(n, 2 * len(self._msgs)))
            u32 = self._msgs_u32
            if total <= _COPY_MAX:
                # Copied where the last batch was: the len and data
                # columns are right when the lengths are the same.
                keep = None
                self._pay_view[:total] = blob
                if lens != self._msgs_lens:
                    u32[1:4 * n:4] = _array.array("I", lens)
                    self._msgs_u64[1:2 * n:2] = _array.array(
                        "Q", itertools.accumulate(
                            lens[:-1], initial=self._pay_addr))
                    self._msgs_lens = lens
            else:
                # Large: pointed at where it is; blob stays alive (and
                # unmoved) until the call returned.
                keep = ffi.from_buffer(blob)
                u32[1:4 * n:4] = _array.array("I", lens)
                self._msgs_u64[1:2 * n:2] = _array.array(
                    "Q", itertools.accumulate(
                        lens[:-1], initial=int(ffi.cast("uintptr_t", keep))))
                self._msgs_lens = None
            if types is not None:
                u32[0:4 * n:4] = types
                self._msgs_type = None
            elif type != self._msgs_type or n > self._msgs_typed:
                u32[0:4 * n:4] = _array.array("I", (type,)) * n
                self._msgs_type = type
                self._msgs_typed = n
            rc = self._publish_msgs(h, n)
        finally:
            lock.release()
        del keep
        if rc < 0:
            raise _error(rc, "ringcast_pub_publish_batch")
        return rc

    def _publish_msgs(self, h, n):
        msgs = self._msgs
        head = lib.ringcast_pub_head(h)
        rc = lib.ringcast_pub_publish_batch(h, msgs, n)
        if rc != -_errno.ETIMEDOUT and rc != -_errno.EINTR:
            return rc
        deadline = None
        if self._timeout_ns >= 0:
            deadline = time.monotonic() + self._timeout - WAIT_SLICE
        while True:
            # The parts before the failed wait are published.
            done = lib.ringcast_pub_head(h) - head
            if rc == -_errno.EINTR or self._closing:
                if self._closing:
                    raise _closed(self._what)
                return rc
            if deadline is not None and time.monotonic() >= deadline:
                return rc
            rc = lib.ringcast_pub_publish_batch(h, msgs + done, n - done)
            if rc != -_errno.ETIMEDOUT and rc != -_errno.EINTR:
                return rc

    @property
    def head(self):
        """The next sequence this publisher will write."""
        h = self._h
        if h is None:
            raise self._dead()
        return lib.ringcast_pub_head(h)

    def subscribers(self):
        """The live registered subscribers."""
        h = self._h
        if h is None:
            raise self._dead()
        rc = lib.ringcast_pub_subscribers(h)
        if rc < 0:
            raise _error(rc, "ringcast_pub_subscribers")
        return rc

    def wait_subscribers(self, n, timeout=None):
        """Wait until at least @n subscribers are registered; returns the
        count, or None when @timeout (seconds) passed first."""
        h = self._h
        if h is None:
            raise self._dead()
        total = _ns(timeout)
        deadline = None if total < 0 else time.monotonic() + timeout
        with self._locked():
            while True:
                left = _SLICE_NS
                if deadline is not None:
                    left = min(left, max(0, int(
                        (deadline - time.monotonic()) * 1e9)))
                rc = lib.ringcast_pub_wait_subscribers(h, n, left)
                if rc >= 0:
                    return rc
                if self._closing:
                    raise _closed(self._what)
                if rc not in (-_errno.ETIMEDOUT, -_errno.EAGAIN):
                    raise _error(rc, "ringcast_pub_wait_subscribers")
                if deadline is not None and time.monotonic() >= deadline:
                    return None

    def _locked(self):
        lock = self._lock
        what = self._what

        class _L:
            def __enter__(s):
                if not lock.acquire(False):
                    raise _in_use(what)

            def __exit__(s, *a):
                lock.release()
        return _L()

    def close(self):
        """End the stream (subscribers read to the end, then EndOfStream)
        and free the handle; idempotent."""
        def how(h, forked):
            if forked:
                lib.ringcast_pub_detach(h)
                return 0
            return lib.ringcast_pub_close(h)
        rc = self._shut(how)
        if rc is not None and rc < 0:
            raise _error(rc, "ringcast_pub_close")

    def detach(self):
        """Leave without closing: subscribers are told the publisher
        died.  Idempotent."""
        self._shut(lambda h, forked: lib.ringcast_pub_detach(h))

    def __exit__(self, et, e, tb):
        if et is None:
            self.close()
        else:
            self.detach()
        return False

    def __repr__(self):
        return "<ringcast.Publisher %r%s>" % (
            self.name, "" if self._state == "open" else " " + self._state)


class Subscriber(_Handle):
    """A subscriber of a ring: Subscriber(name, start="newest").

    @start: "newest" (events published from now on), "oldest" (the oldest
    retained) or a sequence number.  @types: only these type tags.
    @reliable: gate the publisher, lose nothing (unless demoted).
    @resubscribe: follow a new publisher of the ring (a takeover).
    @wait: "spin" (a little, then sleep), "busy", "sleep".
    @batch: the most events one read takes from the library (iteration
    reads ahead that many; see docs/python.md).

    Iterating gives Event objects until the end of the stream; the other
    ends raise (PublisherDied, RingRemoved), and so do a lap (Lapped,
    with .lost: iterate again to go on) and a demotion (Demoted).
    ``async for`` does the same without blocking the event loop.
    """
    _what = "subscriber"

    def __init__(self, name, start="newest", *, types=None, reliable=False,
                 resubscribe=False, wait="spin", demote_after=None,
                 batch=256):
        self._real = None
        self.name = _name(name).decode()
        opts = ffi.new("struct ringcast_sub_opts *")
        if isinstance(start, str):
            if start not in _FROM:
                raise ValueError("start is 'newest', 'oldest' or a "
                                 "sequence number, not %r" % start)
            setattr(opts, "from", _FROM[start])
        elif isinstance(start, int) and not isinstance(start, bool):
            if start < 0:
                raise ValueError("a sequence number is not negative")
            setattr(opts, "from", 2)
            opts.seq = start
        else:
            raise TypeError("start is 'newest', 'oldest' or a sequence "
                            "number, not %s" % type(start).__name__)
        if wait not in _WAIT:
            raise ValueError("wait is 'spin', 'busy' or 'sleep'")
        opts.wait = _WAIT[wait]
        opts.flags = (0x1 if resubscribe else 0) | (0x2 if reliable else 0)
        keep = None
        if types is not None:
            if isinstance(types, int):
                types = [types]
            types = list(types)
            keep = ffi.new("uint32_t[]", types)
            opts.ntypes = len(types)
            opts.types = keep
        if demote_after is not None:
            opts.demote_ns = _ns(demote_after, "demote_after")
        if not isinstance(batch, int) or batch < 1:
            raise ValueError("batch is a positive int")
        sp = ffi.new("struct ringcast_sub **")
        first = ffi.new("uint64_t *")
        rc = lib.ringcast_sub_attach(_name(name), opts, sp, first)
        if rc < 0:
            raise _error(rc, "ringcast_sub_attach")
        self._init_handle(sp[0])
        self.first = first[0]
        self._batch = batch
        self._evs = ffi.new("struct ringcast_event[]", batch)
        self._evs_view = memoryview(ffi.buffer(self._evs))
        self._alloc(64 << 10)
        self._pending = collections.deque()
        self._bev = ffi.new("struct ringcast_event *")

    def _free(self, h):
        lib.ringcast_sub_detach(h)

    def _interrupt(self, h):
        lib.ringcast_sub_interrupt(h)

    def close(self):
        """Leave the ring and free the handle; idempotent, any thread (a
        wait in progress raises Closed)."""
        self._shut(lambda h, forked: lib.ringcast_sub_detach(h))

    def __exit__(self, et, e, tb):
        self.close()
        return False

    def __repr__(self):
        return "<ringcast.Subscriber %r%s>" % (
            self.name, "" if self._state == "open" else " " + self._state)

    # -- reading ------------------------------------------------------

    def _read(self, max, timeout_ns):
        """Read up to @max events, waiting up to @timeout_ns (< 0: for
        ever) in slices; a list of them, empty when the time ran out.
        Raises what ended the read."""
        h = self._h
        if h is None:
            raise self._dead()
        lock = self._lock
        if not lock.acquire(False):
            raise _in_use(self._what)
        try:
            if max > self._batch:
                max = self._batch
            deadline = None
            if timeout_ns > _SLICE_NS:
                deadline = time.monotonic() + timeout_ns / 1e9
            while True:
                t = timeout_ns if 0 <= timeout_ns <= _SLICE_NS else _SLICE_NS
                if deadline is not None:
                    t = min(_SLICE_NS, max_(0, int(
                        (deadline - time.monotonic()) * 1e9)))
                n = lib.ringcast_sub_next_batch(h, self._evs, max,
                                                self._buf, self._size, t)
                if n > 0:
                    return self._decode(n)
                if n == -_errno.ETIMEDOUT or n == -_errno.EAGAIN:
                    if self._closing:
                        raise _closed(self._what)
                    if 0 <= timeout_ns <= _SLICE_NS:
                        return []
                    if deadline is not None and \
                            time.monotonic() >= deadline:
                        return []
                    continue
                if n == -_errno.EINTR and self._closing:
                    raise _closed(self._what)
                if n == -_errno.ENOBUFS:
                    self._grow()
                    continue
                raise _error(n, "ringcast_sub_next_batch",
                             self._evs[0].lost)
        finally:
            lock.release()

    def _grow(self):
        st = stats(self.name)
        self._alloc(max_(self._size * 2, st["max_event"] + 8))

    def _alloc(self, size):
        """The payload buffer of batch reads: @size rounded up to 8 bytes,
        so that the padding after the last payload is inside it."""
        size = (size + 7) & ~7
        self._buf = ffi.new("char[]", size)
        self._bufview = ffi.buffer(self._buf)
        self._size = size
        self._base = int(ffi.cast("uintptr_t", self._buf))

    def _decode(self, n):
        """The @n events the last read left in the buffers, as a list.

        A column of the descriptors at a time (memoryview casts); the
        payloads, one after the other in the buffer at 8-byte boundaries,
        by one struct unpack of the layout "<len>s<pad>x..." that makes
        each bytes object straight from the buffer."""
        ev = self._evs_view[:n * 48]
        u64 = ev.cast("Q")
        u32 = ev.cast("I")
        lens = u32[5::12].tolist()
        base = self._base
        end = (u64[-1] - base + lens[-1] + 7) & ~7
        fmt = "".join(map(_pfmt, lens))
        if u64[5] == base and _calcsize(fmt) == end <= self._size:
            datas = _unpack_from(fmt, self._bufview)
        else:
            # Not the layout the library documents: each where it is.
            raw = self._bufview[:]
            datas = [raw[p - base:p - base + ln]
                     for p, ln in zip(u64[5::6], lens)]
        return list(map(_tnew, _repeat(Event), zip(
            datas, u32[4::12], u64[0::6], u64[1::6], u32[6::12])))

    def __iter__(self):
        return self

    def __next__(self):
        p = self._pending
        if p:
            return p.popleft()
        try:
            p.extend(self._read(self._batch, -1))
        except EndOfStream:
            raise StopIteration from None
        return p.popleft()

    def next(self, timeout=None):
        """The next event; None when @timeout seconds (None: for ever,
        0: do not wait) passed first.  Raises EndOfStream at the end."""
        p = self._pending
        if p:
            return p.popleft()
        evs = self._read(self._batch, _ns(timeout))
        if not evs:
            return None
        p.extend(evs)
        return p.popleft()

    def read_batch(self, max=None, timeout=None):
        """Up to @max (default: the batch size) events as a list, read in
        one library call when none are pending; waits as next() for the
        first, then takes what is there.  [] when @timeout passed."""
        if max is None:
            max = self._batch
        p = self._pending
        if not p:
            return self._read(max, _ns(timeout))
        if len(p) <= max:
            out = list(p)
            p.clear()
            return out
        return [p.popleft() for _ in range(max)]

    def borrow(self, timeout=None):
        """The next event in place, as a Borrowed whose .data is a
        read-only memoryview of the ring's memory: valid until release()
        (use ``with``); None when @timeout passed."""
        p = self._pending
        if p:
            ev = p.popleft()
            return Borrowed(self, None, memoryview(ev.data)) \
                ._copy_fields(ev)
        h = self._h
        if h is None:
            raise self._dead()
        lock = self._lock
        if not lock.acquire(False):
            raise _in_use(self._what)
        total = _ns(timeout)
        deadline = None
        if total > _SLICE_NS:
            deadline = time.monotonic() + timeout
        ev = ffi.new("struct ringcast_event *")
        try:
            while True:
                t = total if 0 <= total <= _SLICE_NS else _SLICE_NS
                if deadline is not None:
                    t = min(_SLICE_NS, max_(0, int(
                        (deadline - time.monotonic()) * 1e9)))
                rc = lib.ringcast_sub_borrow(h, ev, t)
                if rc == 0:
                    break
                if rc == -_errno.ETIMEDOUT or rc == -_errno.EAGAIN:
                    if self._closing:
                        raise _closed(self._what)
                    if 0 <= total <= _SLICE_NS or (
                            deadline is not None and
                            time.monotonic() >= deadline):
                        return None
                    continue
                if rc == -_errno.EINTR and self._closing:
                    raise _closed(self._what)
                raise _error(rc, "ringcast_sub_borrow", ev.lost)
        finally:
            lock.release()
        view = memoryview(ffi.buffer(ev.data, ev.len)).toreadonly()
        return Borrowed(self, ev, view)

    def _release(self, ev):
        h = self._h
        if h is None:
            # Closed or forked: the borrow ended with the handle.
            return
        rc = lib.ringcast_sub_release(h, ev)
        if rc < 0:
            raise _error(rc, "ringcast_sub_release", ev.lost)

    # -- asyncio ------------------------------------------------------

    def fileno(self):
        """A descriptor readable while events (or an end) are there to
        be read: ringcast_sub_fd(); owned by the subscriber."""
        h = self._h
        if h is None:
            raise self._dead()
        rc = lib.ringcast_sub_fd(h)
        if rc < 0:
            raise _error(rc, "ringcast_sub_fd")
        return rc

    async def _readable(self):
        loop = asyncio.get_running_loop()
        fd = self.fileno()
        fut = loop.create_future()

        def ready():
            if not fut.done():
                fut.set_result(None)
        loop.add_reader(fd, ready)
        try:
            # The descriptor is level-triggered; a slice bounds the wait
            # as for the blocking calls (and sees a close()).
            await asyncio.wait_for(fut, WAIT_SLICE)
        except asyncio.TimeoutError:
            pass
        finally:
            loop.remove_reader(fd)

    def __aiter__(self):
        return self

    async def __anext__(self):
        p = self._pending
        while not p:
            try:
                p.extend(self._read(self._batch, 0))
            except EndOfStream:
                raise StopAsyncIteration from None
            if p:
                break
            await self._readable()
        return p.popleft()

    async def anext(self, timeout=None):
        """As next(), awaiting without blocking the event loop."""
        p = self._pending
        total = _ns(timeout)
        deadline = None if total < 0 else time.monotonic() + timeout
        while not p:
            p.extend(self._read(self._batch, 0))
            if p:
                break
            if deadline is not None and time.monotonic() >= deadline:
                return None
            await self._readable()
        return p.popleft()

    async def aread_batch(self, max=None, timeout=None):
        """As read_batch(), awaiting without blocking the event loop."""
        ev = await self.anext(timeout)
        if ev is None:
            return []
        out = [ev]
        if max is None:
            max = self._batch
        if max > 1:
            out += self.read_batch(max - 1, 0)
        return out

    # -- accounting ---------------------------------------------------

    def stats(self):
        """The subscriber's accounting (struct ringcast_sub_stats)."""
        h = self._h
        if h is None:
            raise self._dead()
        st = ffi.new("struct ringcast_sub_stats *")
        lib.ringcast_sub_get_stats(h, st)
        return {f: getattr(st, f) for f, _ in ffi.typeof(st[0]).fields}

    @property
    def pending(self):
        """Events read ahead by iteration and not handed out yet."""
        return len(self._pending)


def _copy_fields(self, ev):
    self.type, self.seq, self.ts, self.epoch = \
        ev.type, ev.seq, ev.ts, ev.epoch
    return self


Borrowed._copy_fields = _copy_fields
max_ = max


# ---------------------------------------------------------------------
# TypeMux


class TypeMux:
    """Handlers per event type over one subscriber, called on the thread
    that calls dispatch() or run().

    mux = TypeMux("x", start="oldest")       # or TypeMux(subscriber)
    h = mux.handle(on_order, types=[1, 2])   # types None: every type
    mux.run()                                # until the end of stream

    A handler may add and remove handlers (their effect starts with the
    next event); an exception in a handler leaves dispatch() and run()
    after that event (the events read with it stay queued).  Laps go to
    the status handlers (fn(exc)) when there are some, else raise.
    """

    def __init__(self, sub, start="newest", **kwargs):
        if isinstance(sub, Subscriber):
            if kwargs or start != "newest":
                raise TypeError("options are for a name, not a Subscriber")
            self.sub = sub
            self._owns = False
        else:
            self.sub = Subscriber(sub, start, **kwargs)
            self._owns = True
        self._by_type = {}
        self._all = ()
        self._status = ()

    def handle(self, fn, types=None):
        """Call @fn(event) for each event of @types (an int, a list, or
        None for every type); returns a handle with .unsubscribe()."""
        if not callable(fn):
            raise TypeError("a handler is callable")
        if types is None:
            self._all = self._all + (fn,)
            tl = None
        else:
            tl = [types] if isinstance(types, int) else list(types)
            if not tl or len(set(tl)) != len(tl):
                raise ValueError("types: distinct tags, at least one")
            for t in tl:
                if not isinstance(t, int) or t < 0 or t > 0xffffffff:
                    raise TypeError("a type tag is an int of 32 bits")
                self._by_type[t] = self._by_type.get(t, ()) + (fn,)
        return _MuxHandle(self, fn, tl)

    def handle_status(self, fn):
        """Call @fn(exc) with each Lapped or Demoted instead of raising."""
        self._status = self._status + (fn,)
        return _MuxHandle(self, fn, "status")

    def _remove(self, fn, tl):
        if tl == "status":
            self._status = tuple(f for f in self._status if f is not fn)
        elif tl is None:
            self._all = tuple(f for f in self._all if f is not fn)
        else:
            for t in tl:
                hs = tuple(f for f in self._by_type.get(t, ())
                           if f is not fn)
                if hs:
                    self._by_type[t] = hs
                else:
                    self._by_type.pop(t, None)

    def dispatch(self, timeout=None):
        """Read one batch and deliver it; the number of events read, 0
        when @timeout passed.  Raises EndOfStream at the end."""
        try:
            evs = self.sub.read_batch(None, timeout)
        except (Lapped, Demoted) as e:
            if not self._status:
                raise
            for f in self._status:
                f(e)
            return 0
        by_type = self._by_type
        get = by_type.get
        for i, ev in enumerate(evs):
            try:
                for f in get(ev.type, ()):
                    f(ev)
                for f in self._all:
                    f(ev)
            except BaseException:
                # What was read after it goes back, in order.
                self.sub._pending.extendleft(reversed(evs[i + 1:]))
                raise
        return len(evs)

    def run(self):
        """Dispatch until the end of the stream (then return)."""
        try:
            while True:
                self.dispatch(None)
        except EndOfStream:
            return

    def close(self):
        if self._owns:
            self.sub.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
        return False


class _MuxHandle:
    __slots__ = ("_mux", "_fn", "_types")

    def __init__(self, mux, fn, types):
        self._mux, self._fn, self._types = mux, fn, types

    def unsubscribe(self):
        """Stop calling the handler; idempotent."""
        mux, self._mux = self._mux, None
        if mux is not None:
            mux._remove(self._fn, self._types)
