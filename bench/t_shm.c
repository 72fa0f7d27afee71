// SPDX-License-Identifier: MIT
/*
 * t_shm.c - the reference rows built on plain shared memory:
 *
 *   physical-limit   ping-pong on one cache line between two processes
 *                    (latency only): what the machine can do
 *   bare-ring        the simplest correct shared-memory ring: one
 *                    producer, busy-polling readers, lossless (the producer
 *                    waits for the slowest reader), copy in and copy out, a
 *                    shared head stored once per send call; no timestamps,
 *                    types, liveness or validation
 *   bare-ring-futex  the same with sleeping readers: spin about 20 us, then
 *                    set a "sleepers" flag, full fence, re-check, FUTEX_WAIT;
 *                    the producer, after each send call, fences and wakes
 *                    only if the flag is set (one wake per sleep episode);
 *                    a producer that finds the ring full sleeps too, and
 *                    readers wake it each quarter ring they free
 *   eventfd          a ring per subscriber (as bare-ring) notified the
 *                    classic way: the producer write(2)s an eventfd after
 *                    every message, a reader that finds its ring empty
 *                    read(2)s it (blocking); a full ring waits on a second
 *                    eventfd
 *
 * Geometry as ringcast's (bench_ring_geometry()), so the rows differ
 * only in what the rings do.  The mappings are shared and anonymous,
 * made before the fork, prefaulted (MAP_POPULATE).
 *
 * Barriers: the producer writes a slot, then store-releases head; a reader
 * load-acquires head, copies, then store-releases its cursor; the producer
 * load-acquires the cursors before it overwrites.  Sleep/wake is Dekker's:
 * sleeper "store sleepers; fence; load head", waker "store head; fence;
 * load sleepers"; at least one of them sees the other.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/*
 * A full barrier.  gcc rejects atomic_thread_fence() under ThreadSanitizer;
 * there a locked RMW on a word no other thread touches is the barrier on
 * x86 and gives TSan no edge that could hide a race (as src/barrier.h).
 */
#if defined(__SANITIZE_THREAD__)
static _Thread_local _Atomic unsigned int bench_mb_word;
#define bench_mb()                                          \
	((void)atomic_fetch_add_explicit(&bench_mb_word, 0, \
					 memory_order_seq_cst))
#else
#define bench_mb() atomic_thread_fence(memory_order_seq_cst)
#endif

#define SPIN_NS 20000u
#define PHYS_STOP UINT64_MAX

enum shm_kind { SHM_BARE, SHM_FUTEX, SHM_EVENTFD };

struct ring_hdr {
	_Alignas(64) _Atomic uint64_t head;
	_Atomic uint32_t closed;
	_Alignas(64) _Atomic uint32_t wake_seq; /* readers sleep on it */
	_Atomic uint32_t sleepers;
	_Alignas(64) _Atomic uint32_t pub_seq; /* the producer sleeps on it */
	_Atomic uint32_t pub_sleeping;
	_Atomic uint64_t wakes;
	struct {
		_Alignas(64) _Atomic uint64_t cursor;
	} sub[MAX_SUBS];
};

/* The header, whole pages: slots start page-aligned. */
#define HDR_BYTES ((sizeof(struct ring_hdr) + 4095) & ~(size_t)4095)

struct slot {
	uint32_t len;
	uint32_t pad;
	unsigned char data[];
};

struct shm_link {
	const struct bench_cfg *cfg;
	enum shm_kind kind;
	unsigned int n; /* subscribers */
	unsigned int nrings; /* 1, or n for eventfd */
	uint32_t nslots, slot_size;
	size_t ring_bytes;
	unsigned char *map;
	size_t map_len;
	int data_efd[MAX_SUBS];
	int space_efd[MAX_SUBS];
	uint64_t spin_ticks;
	/* The producer's private state, per ring. */
	uint64_t head[MAX_SUBS];
	uint64_t min[MAX_SUBS];
	/* A reader's private state. */
	uint64_t cursor, avail;
	unsigned char *buf;
};

static long futex(_Atomic uint32_t *addr, int op, uint32_t val)
{
	return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

static struct ring_hdr *ring_of(struct shm_link *l, unsigned int r)
{
	return (struct ring_hdr *)(l->map + r * l->ring_bytes);
}

static struct slot *slot_of(struct shm_link *l, unsigned int r, uint64_t seq)
{
	return (struct slot *)(l->map + r * l->ring_bytes + HDR_BYTES +
			       (size_t)(seq & (l->nslots - 1)) * l->slot_size);
}

static int shm_create(void **lp, const struct bench_cfg *cfg,
		      enum shm_kind kind, unsigned int nsubs)
{
	struct shm_link *l;
	unsigned int k;
	int ret;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->cfg = cfg;
	l->kind = kind;
	l->n = nsubs;
	l->nrings = kind == SHM_EVENTFD ? nsubs : 1;
	for (k = 0; k < MAX_SUBS; k++)
		l->data_efd[k] = l->space_efd[k] = -1;
	l->nslots = bench_ring_geometry(cfg->metric, cfg->size, &l->slot_size);
	l->ring_bytes = HDR_BYTES + (size_t)l->nslots * l->slot_size;
	l->map_len = l->ring_bytes * l->nrings;
	l->map = mmap(NULL, l->map_len, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (l->map == MAP_FAILED) {
		ret = -errno;
		free(l);
		return ret;
	}
	l->spin_ticks = (uint64_t)(SPIN_NS * cfg->tsc_per_ns);
	if (kind == SHM_EVENTFD) {
		for (k = 0; k < nsubs; k++) {
			l->data_efd[k] = eventfd(0, EFD_CLOEXEC);
			l->space_efd[k] = eventfd(0, EFD_CLOEXEC);
			if (l->data_efd[k] < 0 || l->space_efd[k] < 0) {
				ret = -errno;
				goto err_close;
			}
		}
	}
	*lp = l;
	return 0;

err_close:
	for (k = 0; k < nsubs; k++) {
		if (l->data_efd[k] >= 0)
			close(l->data_efd[k]);
		if (l->space_efd[k] >= 0)
			close(l->space_efd[k]);
	}
	munmap(l->map, l->map_len);
	free(l);
	return ret;
}

static int shm_create_bare(void **lp, const struct bench_cfg *cfg,
			   const char *tag, unsigned int nsubs)
{
	return shm_create(lp, cfg, SHM_BARE, nsubs);
}

static int shm_create_futex(void **lp, const struct bench_cfg *cfg,
			    const char *tag, unsigned int nsubs)
{
	return shm_create(lp, cfg, SHM_FUTEX, nsubs);
}

static int shm_create_eventfd(void **lp, const struct bench_cfg *cfg,
			      const char *tag, unsigned int nsubs)
{
	return shm_create(lp, cfg, SHM_EVENTFD, nsubs);
}

static const char *shm_skip(const struct bench_cfg *cfg, char *buf, size_t len)
{
	if (cfg->size > (16u << 20) - 32) {
		snprintf(buf, len, "payload too large");
		return buf;
	}
	return NULL;
}

/* The shared memory a run may map: eventfd's rings, one per subscriber. */
#define SHM_MAP_MAX (512ull << 20)

static const char *shm_skip_eventfd(const struct bench_cfg *cfg, char *buf,
				    size_t len)
{
	uint32_t slot_size,
		slots = bench_ring_geometry(cfg->metric, cfg->size, &slot_size);
	uint64_t map = (HDR_BYTES + (uint64_t)slots * slot_size) * cfg->nsubs;

	if (map > SHM_MAP_MAX) {
		snprintf(buf, len,
			 "a ring per subscriber: %llu MiB, above the %llu MiB "
			 "a run may map",
			 (unsigned long long)(map >> 20),
			 (unsigned long long)(SHM_MAP_MAX >> 20));
		return buf;
	}
	if (2ull * cfg->nsubs + 64 > bench_raise_nofile()) {
		snprintf(buf, len,
			 "two eventfds per subscriber: above "
			 "RLIMIT_NOFILE");
		return buf;
	}
	return shm_skip(cfg, buf, len);
}

static int shm_sub_open(void *lp, unsigned int idx)
{
	struct shm_link *l = lp;

	l->buf = malloc(l->cfg->size);
	if (!l->buf)
		return -ENOMEM;
	l->cursor = l->avail = 0;
	return 0;
}

static int shm_pub_open(void *lp)
{
	return 0;
}

/* The reader side of ring @r and its cursor @c. */
static unsigned int ring_index(struct shm_link *l, unsigned int idx)
{
	return l->kind == SHM_EVENTFD ? idx : 0;
}

static unsigned int cursor_index(struct shm_link *l, unsigned int idx)
{
	return l->kind == SHM_EVENTFD ? 0 : idx;
}

static uint64_t min_cursor(struct shm_link *l, unsigned int r)
{
	struct ring_hdr *h = ring_of(l, r);
	unsigned int k, nc = l->kind == SHM_EVENTFD ? 1 : l->n;
	uint64_t min = UINT64_MAX;

	for (k = 0; k < nc; k++) {
		/* Pairs with the store-release of the cursor in shm_recv(). */
		uint64_t c = atomic_load_explicit(&h->sub[k].cursor,
						  memory_order_acquire);

		if (c < min)
			min = c;
	}
	return min;
}

static int wait_room(struct shm_link *l, unsigned int r, unsigned int n)
{
	struct ring_hdr *h = ring_of(l, r);
	uint64_t start = 0, v;
	uint32_t seen;

	while (l->head[r] + n - l->min[r] > l->nslots) {
		l->min[r] = min_cursor(l, r);
		if (l->head[r] + n - l->min[r] <= l->nslots)
			break;
		if (l->kind == SHM_BARE) {
			cpu_relax();
			continue;
		}
		if (!start)
			start = rdtsc();
		if (rdtsc() - start < l->spin_ticks) {
			cpu_relax();
			continue;
		}
		seen = atomic_load_explicit(&h->pub_seq, memory_order_relaxed);
		atomic_store_explicit(&h->pub_sleeping, 1,
				      memory_order_relaxed);
		/* Pairs with the fence in reader_freed(). */
		bench_mb();
		l->min[r] = min_cursor(l, r);
		if (l->head[r] + n - l->min[r] <= l->nslots)
			break;
		if (l->kind == SHM_FUTEX) {
			futex(&h->pub_seq, FUTEX_WAIT, seen);
		} else if (read(l->space_efd[r], &v, sizeof(v)) < 0 &&
			   errno != EINTR) {
			return -errno;
		}
	}
	return 0;
}

static void wake_readers(struct shm_link *l, struct ring_hdr *h, bool all)
{
	/* Pairs with the fence in shm_recv() before it sleeps. */
	bench_mb();
	if (!all && !atomic_load_explicit(&h->sleepers, memory_order_relaxed))
		return;
	atomic_store_explicit(&h->sleepers, 0, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->wake_seq, 1, memory_order_relaxed);
	futex(&h->wake_seq, FUTEX_WAKE, INT_MAX);
	atomic_fetch_add_explicit(&h->wakes, 1, memory_order_relaxed);
}

static void put(struct shm_link *l, unsigned int r, const struct txmsg *m)
{
	struct slot *s = slot_of(l, r, l->head[r]);

	s->len = m->len;
	memcpy(s->data, m->data, m->len);
	l->head[r]++;
}

static int shm_send(void *lp, const struct txmsg *msgs, unsigned int n)
{
	struct shm_link *l = lp;
	struct ring_hdr *h;
	uint64_t one = 1;
	unsigned int i, k, r;
	int ret;

	if (l->kind == SHM_EVENTFD) {
		for (r = 0; r < l->nrings; r++) {
			h = ring_of(l, r);
			for (i = 0; i < n; i++) {
				ret = wait_room(l, r, 1);
				if (ret < 0)
					return ret;
				put(l, r, &msgs[i]);
				/* Pairs with the load-acquire in shm_recv(). */
				atomic_store_explicit(&h->head, l->head[r],
						      memory_order_release);
				if (write(l->data_efd[r], &one, sizeof(one)) <
				    0)
					return -errno;
			}
		}
		return 0;
	}
	h = ring_of(l, 0);
	/* In parts of at most half a ring, like ringcast's batches. */
	for (; n; msgs += k, n -= k) {
		k = n < l->nslots / 2 ? n : l->nslots / 2;
		ret = wait_room(l, 0, k);
		if (ret < 0)
			return ret;
		for (i = 0; i < k; i++)
			put(l, 0, &msgs[i]);
		/* Pairs with the load-acquire of head in shm_recv(). */
		atomic_store_explicit(&h->head, l->head[0],
				      memory_order_release);
		if (l->kind == SHM_FUTEX)
			wake_readers(l, h, false);
	}
	return 0;
}

/* After a reader freed slots: wake a producer that sleeps for room. */
static void reader_freed(struct shm_link *l, unsigned int r)
{
	struct ring_hdr *h = ring_of(l, r);
	uint64_t one = 1;

	/* Pairs with the fence in wait_room(). */
	bench_mb();
	if (!atomic_load_explicit(&h->pub_sleeping, memory_order_relaxed))
		return;
	atomic_store_explicit(&h->pub_sleeping, 0, memory_order_relaxed);
	if (l->kind == SHM_FUTEX) {
		atomic_fetch_add_explicit(&h->pub_seq, 1, memory_order_relaxed);
		futex(&h->pub_seq, FUTEX_WAKE, 1);
	} else {
		if (write(l->space_efd[r], &one, sizeof(one)) < 0)
			return;
	}
}

static int reader_wait(struct shm_link *l, unsigned int r, uint64_t *start)
{
	struct ring_hdr *h = ring_of(l, r);
	uint64_t v;
	uint32_t seen;

	if (l->kind == SHM_BARE || l->cfg->busy) {
		cpu_relax();
		return 0;
	}
	if (l->kind == SHM_EVENTFD) {
		if (read(l->data_efd[r], &v, sizeof(v)) < 0 && errno != EINTR)
			return -errno;
		return 0;
	}
	if (!*start)
		*start = rdtsc();
	if (rdtsc() - *start < l->spin_ticks) {
		cpu_relax();
		return 0;
	}
	seen = atomic_load_explicit(&h->wake_seq, memory_order_relaxed);
	atomic_store_explicit(&h->sleepers, 1, memory_order_relaxed);
	/* Pairs with the fence in wake_readers(). */
	bench_mb();
	if (atomic_load_explicit(&h->head, memory_order_acquire) != l->cursor ||
	    atomic_load_explicit(&h->closed, memory_order_acquire))
		return 0;
	futex(&h->wake_seq, FUTEX_WAIT, seen);
	return 0;
}

static int shm_recv(void *lp, unsigned int idx, struct rx *m)
{
	struct shm_link *l = lp;
	unsigned int r = ring_index(l, idx), c = cursor_index(l, idx);
	struct ring_hdr *h = ring_of(l, r);
	uint64_t start = 0;
	struct slot *s;
	uint32_t len;
	int ret;

	while (l->cursor == l->avail) {
		/* Pairs with the store-release of head in shm_send(). */
		l->avail = atomic_load_explicit(&h->head, memory_order_acquire);
		if (l->avail != l->cursor)
			break;
		if (atomic_load_explicit(&h->closed, memory_order_acquire)) {
			l->avail = atomic_load_explicit(&h->head,
							memory_order_acquire);
			if (l->avail == l->cursor)
				return -EPIPE;
			break;
		}
		ret = reader_wait(l, r, &start);
		if (ret < 0)
			return ret;
	}
	if (l->avail - l->cursor > l->nslots)
		return -EBADMSG;
	s = slot_of(l, r, l->cursor);
	len = s->len;
	if (len > l->cfg->size)
		return -EBADMSG;
	memcpy(l->buf, s->data, len);
	l->cursor++;
	/* Pairs with the load-acquire in min_cursor(): copied first. */
	atomic_store_explicit(&h->sub[c].cursor, l->cursor,
			      memory_order_release);
	if (l->kind != SHM_BARE && !(l->cursor & (l->nslots / 4 - 1)))
		reader_freed(l, r);
	m->data = l->buf;
	m->len = len;
	return 0;
}

static int shm_pub_close(void *lp)
{
	struct shm_link *l = lp;
	unsigned int r;
	uint64_t one = 1;

	for (r = 0; r < l->nrings; r++) {
		struct ring_hdr *h = ring_of(l, r);

		atomic_store_explicit(&h->closed, 1, memory_order_release);
		if (l->kind == SHM_FUTEX)
			wake_readers(l, h, true);
		else if (l->kind == SHM_EVENTFD &&
			 write(l->data_efd[r], &one, sizeof(one)) < 0)
			return -errno;
	}
	return 0;
}

static void shm_sub_close(void *lp, unsigned int idx)
{
}

static void shm_destroy(void *lp, bool creator)
{
	struct shm_link *l = lp;
	unsigned int k;

	for (k = 0; k < MAX_SUBS; k++) {
		if (l->data_efd[k] >= 0)
			close(l->data_efd[k]);
		if (l->space_efd[k] >= 0)
			close(l->space_efd[k]);
	}
	munmap(l->map, l->map_len);
	free(l->buf);
	free(l);
}

static void shm_stats(void *lp, struct bench_result *res)
{
	struct shm_link *l = lp;
	struct ring_hdr *h = ring_of(l, 0);

	if (l->kind == SHM_FUTEX && l->head[0])
		res->wakes_per_event =
			(double)atomic_load(&h->wakes) / (double)l->head[0];
}

#define SHM_COMMON                                                            \
	.sub_open = shm_sub_open, .pub_open = shm_pub_open, .send = shm_send, \
	.recv = shm_recv, .pub_close = shm_pub_close,                         \
	.sub_close = shm_sub_close, .destroy = shm_destroy, .stats = shm_stats

const struct transport t_bare_ring = {
	.name = "bare-ring",
	.flags = T_BUSY | T_RING,
	.create = shm_create_bare,
	.skip = shm_skip,
	SHM_COMMON,
};

const struct transport t_bare_ring_futex = {
	.name = "bare-ring-futex",
	.flags = T_SLEEP | T_RING,
	.create = shm_create_futex,
	.skip = shm_skip,
	SHM_COMMON,
};

const struct transport t_eventfd = {
	.name = "eventfd",
	.flags = T_RING,
	.create = shm_create_eventfd,
	.skip = shm_skip_eventfd,
	SHM_COMMON,
};

/* ----------------------------------------------------------------------
 * The physical limit: one cache line, two processes, ping-pong.
 */

static const char *phys_skip(const struct bench_cfg *cfg, char *buf, size_t len)
{
	if (cfg->metric != METRIC_PINGPONG) {
		snprintf(buf, len,
			 "not applicable: a ping-pong on one cache line");
		return buf;
	}
	return NULL;
}

static int phys_run(const struct bench_cfg *cfg, struct bench_result *res)
{
	uint64_t total = cfg->warm + cfg->count, i, t0 = 0, t1, t_begin = 0;
	uint64_t deadline;
	_Atomic uint64_t *line;
	int status;
	pid_t pid;

	line = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (line == MAP_FAILED) {
		bench_fail(res, RES_FAIL, "mmap: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		bench_fail(res, RES_FAIL, "fork: %s", strerror(errno));
		munmap((void *)line, 4096);
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (cfg->pin)
			pin_to_cpu(1);
		for (i = 0; i < total; i++) {
			uint64_t v;

			while ((v = atomic_load_explicit(
					line, memory_order_acquire)) !=
			       2 * i + 1) {
				if (v == PHYS_STOP)
					_exit(0);
				cpu_relax();
			}
			atomic_store_explicit(line, 2 * i + 2,
					      memory_order_release);
		}
		_exit(0);
	}
	t_begin = now_ns();
	deadline = pingpong_deadline(cfg);
	for (i = 0; i < total; i++) {
		if (i == cfg->warm)
			t0 = now_ns();
		/* A loaded machine may make trips slow: stop in time. */
		if (!(i & 15) && rdtsc() > deadline)
			break;
		atomic_store_explicit(line, 2 * i + 1, memory_order_release);
		while (atomic_load_explicit(line, memory_order_acquire) !=
		       2 * i + 2)
			cpu_relax();
	}
	t1 = now_ns();
	atomic_store_explicit(line, PHYS_STOP, memory_order_release);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	munmap((void *)line, 4096);
	res->received = i;
	res->value = pingpong_value(cfg, i, t_begin, t0, t1);
	return 0;
}

const struct transport t_physical_limit = {
	.name = "physical-limit",
	.flags = T_BUSY,
	.skip = phys_skip,
	.run = phys_run,
};
