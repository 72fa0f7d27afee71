// SPDX-License-Identifier: MIT
/*
 * t_varring.c - the reference rows of the mixed workloads: the simplest
 * correct variable-size ring.
 *
 *   bare-varring        one producer, busy-polling readers, lossless (the
 *                       producer waits for the slowest reader), copy in
 *                       and copy out, a shared head stored once per send
 *                       call; no timestamps, types, liveness, sequence
 *                       numbers, random access or validation beyond bounds
 *   bare-varring-futex  the same with sleeping readers, as bare-ring-futex
 *                       (t_shm.c): spin about 20 us, then set "sleepers",
 *                       full fence, re-check, FUTEX_WAIT; the producer
 *                       wakes only if the flag is set, and a producer that
 *                       finds the ring full sleeps until a reader has
 *                       freed another quarter of it
 *
 * The ring is bench_data_geometry() bytes (ringcast's default data area,
 * MIX_DATA_BYTES, for the mixed workloads) in a shared anonymous mapping
 * made before the fork and prefaulted.  A record
 * is a 4-byte length, 4 bytes of padding and the payload, 8-byte aligned:
 * it takes roundup(8 + len, 8) bytes.  Positions are free-running byte
 * counts.  A record never wraps: where it would cross the end of the ring,
 * the producer writes a pad record (length VR_PAD) in the rest of the lap
 * and starts the record at the beginning, so every payload is contiguous
 * (as ringcast's data area).  Runs the mixed workloads, and fixed payloads
 * from DATA_MIN on (those that go to ringcast's data area: ringcast-data's
 * reference).
 *
 * Barriers as the bare ring's: the producer writes records, then
 * store-releases head (once per send call, and before it waits for room);
 * a reader load-acquires head, copies, then store-releases its cursor; the
 * producer load-acquires the cursors before it overwrites.  Sleep/wake is
 * Dekker's, as in t_shm.c.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

/* A full barrier (under ThreadSanitizer: see t_shm.c). */
#if defined(__SANITIZE_THREAD__)
static _Thread_local _Atomic unsigned int vr_mb_word;
#define vr_mb() \
	((void)atomic_fetch_add_explicit(&vr_mb_word, 0, memory_order_seq_cst))
#else
#define vr_mb() atomic_thread_fence(memory_order_seq_cst)
#endif

#define VR_SPIN_NS 20000u
#define VR_REC 8u /* record header and alignment */
#define VR_PAD UINT32_MAX

enum vr_kind { VR_BUSY, VR_FUTEX };

struct vr_hdr {
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

/* The header, whole pages: the data starts page-aligned. */
#define VR_HDR_BYTES ((sizeof(struct vr_hdr) + 4095) & ~(size_t)4095)

struct vr_rec {
	uint32_t len;
	uint32_t pad;
	unsigned char data[];
};

struct vr_link {
	const struct bench_cfg *cfg;
	enum vr_kind kind;
	unsigned int n;
	uint64_t size; /* bytes of the ring, a power of two */
	unsigned char *map;
	size_t map_len;
	struct vr_hdr *h;
	unsigned char *data;
	uint64_t spin_ticks;
	/* The producer's private state. */
	uint64_t head, min, events;
	/* A reader's private state. */
	uint64_t cursor, avail;
	unsigned char *buf;
};

static long vr_futex(_Atomic uint32_t *addr, int op, uint32_t val)
{
	return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

static uint64_t vr_footprint(uint32_t len)
{
	return ((uint64_t)len + VR_REC + VR_REC - 1) & ~(uint64_t)(VR_REC - 1);
}

static const char *vr_skip(const struct bench_cfg *cfg, char *buf, size_t len)
{
	if (!cfg->mix && cfg->size < DATA_MIN) {
		snprintf(buf, len,
			 "the reference of the data area: mixed sizes, or "
			 "fixed ones from %u bytes",
			 DATA_MIN);
		return buf;
	}
	if (vr_footprint(cfg->size) >
	    bench_data_geometry(cfg->mix, cfg->size) / 4) {
		snprintf(buf, len, "payload above a quarter of the ring");
		return buf;
	}
	return NULL;
}

static int vr_create(void **lp, const struct bench_cfg *cfg, enum vr_kind kind,
		     unsigned int nsubs)
{
	struct vr_link *l;
	int ret;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->cfg = cfg;
	l->kind = kind;
	l->n = nsubs;
	l->size = bench_data_geometry(cfg->mix, cfg->size);
	l->map_len = VR_HDR_BYTES + l->size;
	l->map = mmap(NULL, l->map_len, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (l->map == MAP_FAILED) {
		ret = -errno;
		free(l);
		return ret;
	}
	l->h = (struct vr_hdr *)l->map;
	l->data = l->map + VR_HDR_BYTES;
	l->spin_ticks = (uint64_t)(VR_SPIN_NS * cfg->tsc_per_ns);
	*lp = l;
	return 0;
}

static int vr_create_busy(void **lp, const struct bench_cfg *cfg,
			  const char *tag, unsigned int nsubs)
{
	return vr_create(lp, cfg, VR_BUSY, nsubs);
}

static int vr_create_futex(void **lp, const struct bench_cfg *cfg,
			   const char *tag, unsigned int nsubs)
{
	return vr_create(lp, cfg, VR_FUTEX, nsubs);
}

static int vr_sub_open(void *lp, unsigned int idx)
{
	struct vr_link *l = lp;

	l->buf = malloc(l->cfg->size);
	if (!l->buf)
		return -ENOMEM;
	l->cursor = l->avail = 0;
	return 0;
}

static int vr_pub_open(void *lp)
{
	return 0;
}

static uint64_t vr_min_cursor(struct vr_link *l)
{
	uint64_t min = UINT64_MAX;
	unsigned int k;

	for (k = 0; k < l->n; k++) {
		/* Pairs with the store-release of the cursor in vr_recv(). */
		uint64_t c = atomic_load_explicit(&l->h->sub[k].cursor,
						  memory_order_acquire);

		if (c < min)
			min = c;
	}
	return min;
}

static void vr_wake_readers(struct vr_link *l, bool all)
{
	struct vr_hdr *h = l->h;

	/* Pairs with the fence in vr_reader_wait() before it sleeps. */
	vr_mb();
	if (!all && !atomic_load_explicit(&h->sleepers, memory_order_relaxed))
		return;
	atomic_store_explicit(&h->sleepers, 0, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->wake_seq, 1, memory_order_relaxed);
	vr_futex(&h->wake_seq, FUTEX_WAKE, INT_MAX);
	atomic_fetch_add_explicit(&h->wakes, 1, memory_order_relaxed);
}

/* Publish what was written: readers may read up to head. */
static void vr_publish(struct vr_link *l)
{
	/* Pairs with the load-acquire of head in vr_recv(). */
	atomic_store_explicit(&l->h->head, l->head, memory_order_release);
	if (l->kind == VR_FUTEX)
		vr_wake_readers(l, false);
}

/* Wait until @need bytes from head on are free. */
static void vr_wait_room(struct vr_link *l, uint64_t need)
{
	struct vr_hdr *h = l->h;
	bool published = false;
	uint64_t start = 0;
	uint32_t seen;

	while (l->head + need - l->min > l->size) {
		l->min = vr_min_cursor(l);
		if (l->head + need - l->min <= l->size)
			break;
		/* Readers wait for what this batch wrote so far. */
		if (!published) {
			vr_publish(l);
			published = true;
		}
		if (l->kind == VR_BUSY) {
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
		/* Pairs with the fence in vr_reader_freed(). */
		vr_mb();
		l->min = vr_min_cursor(l);
		if (l->head + need - l->min <= l->size)
			break;
		vr_futex(&h->pub_seq, FUTEX_WAIT, seen);
	}
}

static void vr_put(struct vr_link *l, const struct txmsg *m)
{
	uint64_t f = vr_footprint(m->len), off = l->head & (l->size - 1);
	uint64_t skip = off + f > l->size ? l->size - off : 0;
	struct vr_rec *r;

	vr_wait_room(l, skip + f);
	if (skip) {
		/* The rest of the lap: at least VR_REC bytes, all aligned. */
		r = (struct vr_rec *)(l->data + off);
		r->len = VR_PAD;
		l->head += skip;
		off = 0;
	}
	r = (struct vr_rec *)(l->data + off);
	r->len = m->len;
	memcpy(r->data, m->data, m->len);
	l->head += f;
	l->events++;
}

static int vr_send(void *lp, const struct txmsg *msgs, unsigned int n)
{
	struct vr_link *l = lp;
	unsigned int i;

	for (i = 0; i < n; i++)
		vr_put(l, &msgs[i]);
	vr_publish(l);
	return 0;
}

/* After a reader freed a quarter of the ring: wake a sleeping producer. */
static void vr_reader_freed(struct vr_link *l)
{
	struct vr_hdr *h = l->h;

	/* Pairs with the fence in vr_wait_room(). */
	vr_mb();
	if (!atomic_load_explicit(&h->pub_sleeping, memory_order_relaxed))
		return;
	atomic_store_explicit(&h->pub_sleeping, 0, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->pub_seq, 1, memory_order_relaxed);
	vr_futex(&h->pub_seq, FUTEX_WAKE, 1);
}

static void vr_reader_wait(struct vr_link *l, uint64_t *start)
{
	struct vr_hdr *h = l->h;
	uint32_t seen;

	if (l->kind == VR_BUSY || l->cfg->busy) {
		cpu_relax();
		return;
	}
	if (!*start)
		*start = rdtsc();
	if (rdtsc() - *start < l->spin_ticks) {
		cpu_relax();
		return;
	}
	seen = atomic_load_explicit(&h->wake_seq, memory_order_relaxed);
	atomic_store_explicit(&h->sleepers, 1, memory_order_relaxed);
	/* Pairs with the fence in vr_wake_readers(). */
	vr_mb();
	if (atomic_load_explicit(&h->head, memory_order_acquire) != l->cursor ||
	    atomic_load_explicit(&h->closed, memory_order_acquire))
		return;
	vr_futex(&h->wake_seq, FUTEX_WAIT, seen);
}

static int vr_recv(void *lp, unsigned int idx, struct rx *m)
{
	struct vr_link *l = lp;
	struct vr_hdr *h = l->h;
	uint64_t start = 0, from = l->cursor, off, f;
	struct vr_rec *r;
	uint32_t len;

	for (;;) {
		while (l->cursor == l->avail) {
			/* Pairs with the store-release of head in
			 * vr_publish(). */
			l->avail = atomic_load_explicit(&h->head,
							memory_order_acquire);
			if (l->avail != l->cursor)
				break;
			if (atomic_load_explicit(&h->closed,
						 memory_order_acquire)) {
				l->avail = atomic_load_explicit(
					&h->head, memory_order_acquire);
				if (l->avail == l->cursor)
					return -EPIPE;
				break;
			}
			vr_reader_wait(l, &start);
		}
		if (l->avail - l->cursor > l->size)
			return -EBADMSG;
		off = l->cursor & (l->size - 1);
		r = (struct vr_rec *)(l->data + off);
		len = r->len;
		if (len != VR_PAD)
			break;
		l->cursor += l->size - off;
	}
	f = vr_footprint(len);
	if (len > l->cfg->size || off + f > l->size || f > l->avail - l->cursor)
		return -EBADMSG;
	memcpy(l->buf, r->data, len);
	l->cursor += f;
	/* Pairs with the load-acquire in vr_min_cursor(): copied first. */
	atomic_store_explicit(&h->sub[idx].cursor, l->cursor,
			      memory_order_release);
	if (l->kind == VR_FUTEX &&
	    from / (l->size / 4) != l->cursor / (l->size / 4))
		vr_reader_freed(l);
	m->data = l->buf;
	m->len = len;
	return 0;
}

static int vr_pub_close(void *lp)
{
	struct vr_link *l = lp;

	atomic_store_explicit(&l->h->closed, 1, memory_order_release);
	if (l->kind == VR_FUTEX)
		vr_wake_readers(l, true);
	return 0;
}

static void vr_sub_close(void *lp, unsigned int idx)
{
}

static void vr_destroy(void *lp, bool creator)
{
	struct vr_link *l = lp;

	munmap(l->map, l->map_len);
	free(l->buf);
	free(l);
}

static void vr_stats(void *lp, struct bench_result *res)
{
	struct vr_link *l = lp;

	if (l->kind == VR_FUTEX && l->events)
		res->wakes_per_event =
			(double)atomic_load(&l->h->wakes) / (double)l->events;
}

#define VR_COMMON                                                          \
	.skip = vr_skip, .sub_open = vr_sub_open, .pub_open = vr_pub_open, \
	.send = vr_send, .recv = vr_recv, .pub_close = vr_pub_close,       \
	.sub_close = vr_sub_close, .destroy = vr_destroy, .stats = vr_stats

const struct transport t_bare_varring = {
	.name = "bare-varring",
	.flags = T_BUSY | T_RING,
	.create = vr_create_busy,
	VR_COMMON,
};

const struct transport t_bare_varring_futex = {
	.name = "bare-varring-futex",
	.flags = T_SLEEP | T_RING,
	.create = vr_create_futex,
	VR_COMMON,
};
