// SPDX-License-Identifier: MIT
/*
 * Fuzz harness: read a ring whose slots, lengths, type tags, states,
 * sequence numbers, table and header are scribbled on while it is read (a
 * buggy or corrupted writer).
 *
 * A valid ring is made for each input, with a publisher, a lossy, a
 * reliable and a type-filtered subscriber; the input is then a program of
 * 4-byte steps (op, a, b, c), interleaving publishes (copied, batched,
 * reserved and committed), reads of every kind, snapshots, re-attaches,
 * takeovers and closes with writes through a second mapping of the object
 * into any field of the header's mutable part, the table and the slots.
 * Every call must return 0 or one of its documented errors: never crash,
 * hang (every wait has a zero timeout) or read out of bounds.
 *
 * The first byte picks the geometry: 4 to 32 slots of 64 or 128 bytes, and
 * bit 3 a multi-publisher ring.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "layout.h"
#include "ringcast.h"

#define CAP 4u

static const int next_ok[] = { -EAGAIN, -EOVERFLOW,  -ESTALE,
			       -EPIPE,	-EOWNERDEAD, -EBADMSG,
			       -EINVAL, -EIDRM,	     0 };
static const int release_ok[] = { -EOVERFLOW, -ESTALE, -EBADMSG, 0 };
static const int read_at_ok[] = { -ERANGE, -EAGAIN, -EBADMSG, -EINVAL, 0 };
static const int attach_ok[] = { -EPROTO, -EBADMSG, -EUSERS, -EBUSY,
				 -EPIPE,  -ENOENT,  -EIDRM,  0 };
static const int publish_ok[] = { -EAGAIN, -EPIPE, -EMSGSIZE, -EBADMSG,
				  -EBUSY,  -EIDRM, 0 };
static const int commit_ok[] = { -EAGAIN, -EPIPE,  -EMSGSIZE, -EBADMSG,
				 -EBUSY,  -EINVAL, -EIDRM,    0 };
static const int stat_ok[] = { -EPROTO, -EBADMSG, 0 };
static const int close_ok[] = { -EPROTO, -EBADMSG, -EPIPE, -EIDRM, 0 };

struct world {
	const char *name;
	unsigned char *map; /* the scribbler's mapping */
	size_t size;
	uint32_t slots, slot_size, capacity;
	uint64_t slots_off;
	bool multi;
	struct ringcast_pub *pub;
	bool reserved;
	size_t reserved_len;
	struct ringcast_sub *lossy, *reliable, *filtered;
};

static const uint32_t filter_types[] = { 1, 3 };

static struct rc_hdr *hdr(struct world *w)
{
	return (struct rc_hdr *)w->map;
}

static uint64_t cur_head(struct world *w)
{
	return atomic_load_explicit(&hdr(w)->head, memory_order_relaxed);
}

static struct rc_slot *slot(struct world *w, uint32_t i)
{
	return (struct rc_slot *)(w->map + w->slots_off +
				  (size_t)(i % w->slots) * w->slot_size);
}

static void sub_open(struct world *w, struct ringcast_sub **subp, int kind,
		     uint8_t a)
{
	struct ringcast_sub_opts o = {
		.from = a % 3,
		.seq = cur_head(w) - (a >> 2),
		.flags = RINGCAST_SUB_RESUBSCRIBE,
	};
	int r;

	ringcast_sub_detach(*subp);
	*subp = NULL;
	if (kind == 1)
		o.flags |= RINGCAST_SUB_RELIABLE;
	if (kind == 2) {
		o.ntypes = 2;
		o.types = filter_types;
	}
	if (o.seq > RC_SEQ_MAX)
		o.seq = 0;
	r = ringcast_sub_attach(w->name, &o, subp, NULL);
	fz_expect("sub_attach", r, 0, attach_ok);
	if (r < 0)
		*subp = NULL;
}

static void pub_open(struct world *w, unsigned int flags)
{
	int r;

	if (w->pub)
		ringcast_pub_detach(w->pub);
	w->pub = NULL;
	w->reserved = false;
	r = ringcast_pub_attach(w->name, flags, &w->pub);
	fz_expect("pub_attach", r, 0, attach_ok);
	if (r < 0)
		w->pub = NULL;
	else
		ringcast_pub_set_timeout(w->pub, 0);
}

static void sub_read(struct world *w, struct ringcast_sub *sub, int n)
{
	struct ringcast_event ev;
	int r;

	if (!sub)
		return;
	while (n-- > 0) {
		r = ringcast_sub_next(sub, &ev, 0);
		fz_expect("sub_next", r, 0, next_ok);
		if (r == 0 && ev.len > w->capacity)
			fz_fail("sub_next: length %u over %u", ev.len,
				w->capacity);
		if (r != 0 && r != -EOVERFLOW && r != -ESTALE)
			break;
	}
}

static void sub_borrow(struct world *w, struct ringcast_sub *sub)
{
	struct ringcast_event ev;
	int r;

	if (!sub)
		return;
	r = ringcast_sub_borrow(sub, &ev, 0);
	fz_expect("sub_borrow", r, 0, next_ok);
	if (r == 0) {
		volatile const unsigned char *p = ev.data;
		unsigned char x = 0;
		uint32_t j;

		if (ev.len > w->capacity)
			fz_fail("sub_borrow: length %u over %u", ev.len,
				w->capacity);
		/* Every byte lent must be inside the mapping. */
		for (j = 0; j < ev.len; j++)
			x ^= p[j];
		(void)x;
		fz_expect("sub_release", ringcast_sub_release(sub, &ev), 0,
			  release_ok);
	}
}

static void publish(struct world *w, uint8_t a, uint8_t b)
{
	unsigned char buf[160];
	size_t len = a % (w->capacity + 8);
	int r;

	if (!w->pub)
		return;
	memset(buf, b, sizeof(buf));
	r = ringcast_pub_publish(w->pub, b % 4, buf, len);
	fz_expect("pub_publish", r, 1, publish_ok);
}

static void publish_batch(struct world *w, uint8_t a, uint8_t b)
{
	static const unsigned char buf[64];
	struct ringcast_msg m[8];
	unsigned int i, n = 1 + a % 8;
	int r;

	if (!w->pub)
		return;
	for (i = 0; i < n; i++) {
		m[i].type = (b + i) % 4;
		m[i].len = (b + i * 7) % 48;
		m[i].data = buf;
	}
	r = ringcast_pub_publish_batch(w->pub, m, n);
	fz_expect("pub_publish_batch", r, 1, publish_ok);
}

static void reserve(struct world *w, uint8_t a, uint8_t b, bool commit)
{
	void *p;
	int r;

	if (!w->pub)
		return;
	if (!w->reserved) {
		w->reserved_len = a % (w->capacity + 1);
		r = ringcast_pub_reserve(w->pub, w->reserved_len, &p);
		fz_expect("pub_reserve", r, 0, publish_ok);
		if (r < 0)
			return;
		memset(p, a, w->reserved_len);
		w->reserved = true;
	}
	if (!commit)
		return;
	r = ringcast_pub_commit(w->pub, b % 4, w->reserved_len);
	fz_expect("pub_commit", r, 1, commit_ok);
	w->reserved = false;
}

static uint64_t pick_value(struct world *w, uint8_t b, uint8_t c)
{
	uint64_t h = cur_head(w);

	switch (b % 6) {
	case 0:
		return h + (uint64_t)(int64_t)(int8_t)c;
	case 1:
		return c;
	case 2:
		return ((uint64_t)c << 56) | b;
	case 3:
		return RC_LIFE(RC_LIFE_EPOCH(atomic_load_explicit(
				       &hdr(w)->life, memory_order_relaxed)) +
				       (c >> 4),
			       c % 5);
	case 4:
		return UINT64_MAX - c;
	default:
		return h + w->slots + c;
	}
}

static void scribble_hdr(struct world *w, uint8_t a, uint8_t b, uint8_t c)
{
	struct rc_hdr *h = hdr(w);
	uint64_t v = pick_value(w, b, c);

	switch (a % 8) {
	case 0:
		atomic_store(&h->life, v);
		break;
	case 1:
		atomic_store(&h->head, v);
		break;
	case 2:
		atomic_store(&h->limit, v);
		break;
	case 3:
		atomic_store(&h->epoch_start, v);
		break;
	case 4:
		atomic_store(&h->pub_pid, (int32_t)v);
		break;
	case 5:
		atomic_store(&h->ended_next, (uint32_t)v);
		break;
	case 6:
		atomic_store(&h->table_gen, (uint32_t)v);
		break;
	default:
		/* Any byte of the mutable part. */
		w->map[128 + (b * 3u + c) % 384] = c;
		break;
	}
}

static void scribble_table(struct world *w, uint8_t a, uint8_t b, uint8_t c)
{
	struct rc_entry *e =
		(struct rc_entry *)(w->map + RC_HDR_SIZE) + (a % CAP);
	uint64_t v = pick_value(w, b, c);

	switch ((a >> 2) % 10) {
	case 0:
		atomic_store(&e->cursor, v);
		break;
	case 1:
		atomic_store(&e->first, v);
		break;
	case 2:
		atomic_store(&e->lost, v);
		break;
	case 3:
		atomic_store(&e->claim_seq, v);
		break;
	case 4:
		atomic_store(&e->claim_end, v);
		break;
	case 5:
		atomic_store(&e->state, c % 5);
		break;
	case 6:
		atomic_store(&e->flags, c);
		break;
	case 7:
		atomic_store(&e->pid, (int32_t)v);
		break;
	case 8:
		atomic_store(&e->demote_ns, c);
		break;
	default:
		((unsigned char *)e)[b % RC_ENTRY_SIZE] = c;
		break;
	}
}

static void scribble_slot(struct world *w, uint8_t a, uint8_t b, uint8_t c)
{
	struct rc_slot *s = slot(w, a);
	uint64_t h = cur_head(w), v;

	switch ((a >> 5) % 6) {
	case 0: /* a plausible stamp, maybe flagged */
		v = h + (uint64_t)(int64_t)(int8_t)b + 1;
		if (c & 1)
			v |= RC_STAMP_BUSY;
		if (c & 2)
			v |= RC_STAMP_ABORTED;
		atomic_store(&s->stamp, v);
		break;
	case 1:
		atomic_store(&s->stamp, pick_value(w, b, c));
		break;
	case 2:
		atomic_store(&s->len, w->capacity + (uint32_t)(int8_t)c);
		break;
	case 3:
		atomic_store(&s->type, c % 5);
		break;
	case 4:
		atomic_store(&s->epoch, c & 1 ? c : atomic_load(&s->epoch) + c);
		break;
	default:
		((unsigned char *)s)[b % w->slot_size] = c;
		break;
	}
}

static void step(struct world *w, const uint8_t *s)
{
	struct ringcast_ring_subscriber si[CAP];
	struct ringcast_ring_stats info;
	struct ringcast_event ev;
	uint8_t a = s[1], b = s[2], c = s[3];

	switch (s[0] % 24) {
	case 0:
	case 1:
	case 2:
	case 3:
		publish(w, a, b);
		break;
	case 4:
		publish_batch(w, a, b);
		break;
	case 5:
		reserve(w, a, b, true);
		break;
	case 6:
		reserve(w, a, b, false);
		break;
	case 7:
	case 8:
		scribble_hdr(w, a, b, c);
		break;
	case 9:
	case 10:
		scribble_table(w, a, b, c);
		break;
	case 11:
	case 12:
	case 13:
		scribble_slot(w, a, b, c);
		break;
	case 14:
	case 15:
		sub_read(w, w->lossy, 1 + a % 8);
		break;
	case 16:
		sub_borrow(w, a & 1 ? w->lossy : w->reliable);
		break;
	case 17:
		sub_read(w, w->reliable, 1 + a % 8);
		break;
	case 18:
		sub_read(w, w->filtered, 1 + a % 8);
		break;
	case 19:
		if (w->lossy)
			fz_expect("sub_read_at",
				  ringcast_sub_read_at(w->lossy,
						       cur_head(w) - a, &ev),
				  0, read_at_ok);
		break;
	case 20:
		fz_expect("ring_stat", ringcast_ring_get_stats(w->name, &info),
			  0, stat_ok);
		fz_expect("ring_subscribers",
			  ringcast_ring_get_subscribers(w->name, si, CAP), 1,
			  stat_ok);
		break;
	case 21:
		switch (a % 5) {
		case 0:
			sub_open(w, &w->lossy, 0, b);
			break;
		case 1:
			sub_open(w, &w->reliable, 1, b);
			break;
		case 2:
			sub_open(w, &w->filtered, 2, b);
			break;
		case 3:
			pub_open(w, 0); /* a takeover */
			break;
		default:
			if (w->pub)
				ringcast_pub_close(w->pub);
			w->pub = NULL;
			pub_open(w, RINGCAST_PUB_REOPEN);
			break;
		}
		break;
	case 22:
		fz_expect("ring_close", ringcast_ring_close(w->name), 0,
			  close_ok);
		break;
	default:
		/* Rarely: the immutable part (attaches then fail). */
		if (a == 0xa5)
			w->map[8 + b % 120] ^= c | 1;
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ringcast_ring_opts o = { .max_subscribers = CAP };
	struct world w = { 0 };
	char path[128];
	struct stat st;
	size_t i;
	int fd, r;

	if (size < 1 || size > 4096)
		return 0;
	o.slots = 4u << (data[0] & 3);
	o.slot_size = 64u << ((data[0] >> 2) & 1);
	w.multi = data[0] & 0x08;
	w.name = fz_name();
	r = ringcast_ring_create(w.name, &o,
				 RINGCAST_CREATE_EXCL |
					 (w.multi ? RINGCAST_CREATE_MULTI_PUB :
						    RINGCAST_CREATE_NO_DATA));
	if (r != 0)
		fz_fail("create %s: %s", w.name, ringcast_strerror(r));
	snprintf(path, sizeof(path), "/dev/shm/ringcast.%s", w.name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		fz_fail("open %s: %m", path);
	w.size = (size_t)st.st_size;
	w.map = mmap(NULL, w.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (w.map == MAP_FAILED)
		fz_fail("mmap: %m");
	w.slots = o.slots;
	w.slot_size = o.slot_size;
	w.capacity = o.slot_size - RINGCAST_SLOT_HEADER;
	w.slots_off = hdr(&w)->slots_off;

	pub_open(&w, 0);
	sub_open(&w, &w.lossy, 0, 1);
	sub_open(&w, &w.reliable, 1, 1);
	sub_open(&w, &w.filtered, 2, 1);

	for (i = 1; i + 4 <= size; i += 4)
		step(&w, data + i);

	ringcast_sub_detach(w.lossy);
	ringcast_sub_detach(w.reliable);
	ringcast_sub_detach(w.filtered);
	if (w.pub)
		ringcast_pub_detach(w.pub);
	munmap(w.map, w.size);
	ringcast_ring_remove_force(w.name);
	return 0;
}
