# SPDX-License-Identifier: MIT
"""The C declarations ringcast's Python package uses, and the library.

cffi in ABI mode (ffi.dlopen): nothing is compiled when the package is
installed.  The declarations below are copied from include/ringcast.h;
tests/test_abi.py compiles the header and checks that every size and
offset agrees.  Where a payload goes in, the parameter is declared
``const char *`` so that a bytes object is passed without a copy.
"""
import os

import cffi

CDEF = """
struct ringcast_pub;
struct ringcast_sub;

const char *ringcast_strerror(int err);
const char *ringcast_errdetail(void);

struct ringcast_ring_opts {
	uint32_t slots;
	uint32_t slot_size;
	uint32_t max_subscribers;
	uint32_t mode;
	uint64_t demote_ns;
	uint64_t data_size;
};

int ringcast_ring_create(const char *name,
			 const struct ringcast_ring_opts *opts,
			 unsigned int flags);
int ringcast_ring_remove(const char *name);
int ringcast_ring_remove_force(const char *name);
int ringcast_ring_close(const char *name);

struct ringcast_ring_stats {
	uint32_t abi_version;
	uint32_t features;
	uint32_t slots;
	uint32_t slot_size;
	uint32_t capacity;
	uint32_t max_subscribers;
	uint32_t mode;
	uint32_t state;
	uint64_t epoch;
	uint64_t epoch_start;
	uint64_t head;
	uint64_t oldest;
	uint64_t published;
	uint64_t refused;
	uint64_t wakes;
	uint64_t size;
	int32_t publisher_pid;
	int32_t publisher_alive;
	uint32_t subscribers;
	uint32_t reliable;
	uint64_t demote_ns;
	uint64_t blocked;
	uint64_t blocked_ns;
	uint64_t demotions;
	uint32_t table_hwm;
	uint32_t publishers;
	uint64_t blocked_since_ns;
	uint64_t data_size;
	uint64_t data_written;
	uint32_t max_event;
	uint32_t reserved0;
	uint64_t created_ns;
};

int ringcast_ring_get_stats(const char *name, struct ringcast_ring_stats *info);

struct ringcast_event {
	uint64_t seq;
	uint64_t ts;
	uint32_t type;
	uint32_t len;
	uint32_t epoch;
	uint32_t publisher;
	uint64_t lost;
	const void *data;
};

struct ringcast_msg {
	uint32_t type;
	uint32_t len;
	const void *data;
};

int ringcast_pub_attach(const char *name, unsigned int flags,
			struct ringcast_pub **pubp);
int ringcast_pub_publish(struct ringcast_pub *pub, uint32_t type,
			 const char *data, size_t len);
int ringcast_pub_publish_batch(struct ringcast_pub *pub,
			       const struct ringcast_msg *msgs,
			       unsigned int n);
uint64_t ringcast_pub_head(const struct ringcast_pub *pub);
int ringcast_pub_set_timeout(struct ringcast_pub *pub, int64_t timeout_ns);
void ringcast_pub_interrupt(struct ringcast_pub *pub);
int ringcast_pub_subscribers(struct ringcast_pub *pub);
int ringcast_pub_wait_subscribers(struct ringcast_pub *pub, unsigned int n,
				  int64_t timeout_ns);
int ringcast_pub_close(struct ringcast_pub *pub);
void ringcast_pub_detach(struct ringcast_pub *pub);

struct ringcast_sub_opts {
	uint32_t from;
	uint32_t wait;
	uint32_t flags;
	uint32_t ntypes;
	const uint32_t *types;
	uint64_t seq;
	uint64_t spin_ns;
	uint64_t liveness_ns;
	uint64_t demote_ns;
};

int ringcast_sub_attach(const char *name, const struct ringcast_sub_opts *opts,
			struct ringcast_sub **subp, uint64_t *first);
int ringcast_sub_next(struct ringcast_sub *sub, struct ringcast_event *ev,
		      int64_t timeout_ns);
int ringcast_sub_borrow(struct ringcast_sub *sub, struct ringcast_event *ev,
			int64_t timeout_ns);
int ringcast_sub_release(struct ringcast_sub *sub, struct ringcast_event *ev);
int ringcast_sub_next_batch(struct ringcast_sub *sub,
			    struct ringcast_event *evs, unsigned int max,
			    void *buf, size_t size, int64_t timeout_ns);
void ringcast_sub_interrupt(struct ringcast_sub *sub);

struct ringcast_sub_stats {
	uint64_t first;
	uint64_t cursor;
	uint64_t delivered;
	uint64_t skipped;
	uint64_t lost;
	uint64_t laps;
	uint64_t aborted;
	uint64_t sleeps;
	uint64_t timed_wakes;
	int32_t entry;
	uint32_t reliable;
	uint64_t demoted;
};

void ringcast_sub_get_stats(const struct ringcast_sub *sub,
			    struct ringcast_sub_stats *st);
void ringcast_sub_detach(struct ringcast_sub *sub);
int ringcast_sub_fd(struct ringcast_sub *sub);
"""

# The structs tests/test_abi.py compares with the header's.
STRUCTS = ("ringcast_ring_opts", "ringcast_ring_stats", "ringcast_event",
           "ringcast_msg", "ringcast_sub_opts", "ringcast_sub_stats")

ffi = cffi.FFI()
ffi.cdef(CDEF)


def library_path():
    """The shared library to load: $RINGCAST_LIB, else the one pip's
    install found through pkg-config, else the loader's search."""
    env = os.environ.get("RINGCAST_LIB")
    if env:
        return env
    try:
        from ringcast import _config
        return _config.LIBRARY
    except ImportError:
        return "libringcast.so.0"


LIBRARY = library_path()
lib = ffi.dlopen(LIBRARY)
