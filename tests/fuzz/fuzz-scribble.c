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
 * into any field of the header's mutable part, the table and the slots,
 * and, on a ring with a data area, into spilled events' descriptors and
 * lengths, the data area's record headers and payload bytes, and its
 * intent and floor.  Every call must return 0 or one of its documented
 * errors: never crash, hang (every wait has a zero timeout) or read out
 * of bounds; every event returned is at most the ring's largest, and
 * every payload lent lies in a slot or a record of a mapping of the ring.
 *
 * The first byte picks the geometry: 4 to 32 slots of 64 or 128 bytes,
 * bit 3 a multi-publisher ring, and bit 4 (single publisher only) a data
 * area of 4096 bytes (8192 with bit 5), so that events up to a quarter of
 * it spill.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "layout.h"
#include "ringcast.h"

#define CAP 4u
/* The largest payload passed: past a quarter of the largest data area. */
#define BIG (16u * 1024)

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
	uint32_t max_event; /* the largest payload (ring stats) */
	uint64_t slots_off;
	uint64_t data_off, data_size; /* the data area; 0 without */
	bool multi;
	struct ringcast_pub *pub;
	bool reserved;
	size_t reserved_len;
	unsigned int reserved_n;
	uint8_t reserved_fill; /* the byte the reservation was filled with */
	bool reserved_clean; /* no byte of a slot or record written since */
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

/* Every byte of a payload returned must be readable (ASan checks it). */
static void touch(const void *data, uint32_t len)
{
	volatile const unsigned char *p = data;
	unsigned char x = 0;
	uint32_t j;

	for (j = 0; j < len; j++)
		x ^= p[j];
	(void)x;
}

/* An event returned: at most the largest, its payload readable. */
static void check_event(struct world *w, const char *what,
			const struct ringcast_event *ev)
{
	if (ev->len > w->max_event)
		fz_fail("%s: length %u over %u", what, ev->len, w->max_event);
	if (ev->len && !ev->data)
		fz_fail("%s: %u bytes at NULL", what, ev->len);
	touch(ev->data, ev->len);
}

/* The pieces of the mappings of the ring, from /proc/self/maps. */
struct vma {
	uintptr_t lo, hi, base; /* base: where offset 0 of the object is */
};

static unsigned int ring_vmas(struct world *w, struct vma *v, unsigned int max)
{
	char line[512], path[128];
	unsigned int n = 0;
	size_t plen;
	FILE *f;

	plen = (size_t)snprintf(path, sizeof(path), "/dev/shm/ringcast.%s",
				w->name);
	f = fopen("/proc/self/maps", "re");
	if (!f)
		fz_fail("/proc/self/maps: %m");
	while (n < max && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, off;
		char *name = strchr(line, '/');

		if (!name || strncmp(name, path, plen) ||
		    (name[plen] != '\n' && name[plen]) ||
		    sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &off) != 3)
			continue;
		v[n].lo = lo;
		v[n].hi = hi;
		v[n].base = lo - off;
		n++;
	}
	fclose(f);
	return n;
}

/*
 * A payload lent by a borrow lies in a mapping of the ring (the
 * subscriber's own, which the harness cannot name: any mapping of the
 * object, made of one or more pieces of /proc/self/maps, as a lossy
 * subscriber maps part of it read-only), inside one slot's payload or one
 * record's: never across a slot, past the data area or off the mapping.
 */
static void check_lent(struct world *w, const struct ringcast_event *ev)
{
	uintptr_t p = (uintptr_t)ev->data, base = 0, at;
	struct vma v[64];
	unsigned int n = ring_vmas(w, v, 64), i;
	uint64_t o, end;

	for (i = 0; i < n && !base; i++)
		if (p >= v[i].lo && p < v[i].hi)
			base = v[i].base;
	if (!base)
		fz_fail("sub_borrow: %p is in no mapping of the ring",
			ev->data);
	/* Every byte lent is in a piece of that same mapping. */
	for (at = p; at < p + ev->len;) {
		for (i = 0; i < n; i++)
			if (v[i].base == base && at >= v[i].lo && at < v[i].hi)
				break;
		if (i == n)
			fz_fail("sub_borrow: %u bytes at %p: byte %zu is off "
				"the mapping",
				ev->len, ev->data, (size_t)(at - p));
		at = v[i].hi;
	}
	o = p - base;
	end = o + ev->len;
	if (o >= w->slots_off &&
	    o < w->slots_off + (uint64_t)w->slots * w->slot_size) {
		if ((o - w->slots_off) % w->slot_size != RINGCAST_SLOT_HEADER ||
		    ev->len > w->capacity)
			fz_fail("sub_borrow: %u bytes at offset %llu: not a "
				"slot's payload",
				ev->len, (unsigned long long)o);
	} else if (!w->data_size || o < w->data_off + 16 ||
		   (o - w->data_off - 16) % 64 ||
		   end > w->data_off + w->data_size) {
		fz_fail("sub_borrow: %u bytes at offset %llu: neither a "
			"slot's nor a record's payload",
			ev->len, (unsigned long long)o);
	}
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
		if (r == 0)
			check_event(w, "sub_next", &ev);
		if (r == -EOVERFLOW && !ev.lost)
			fz_fail("sub_next: -EOVERFLOW, none lost");
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
		check_event(w, "sub_borrow", &ev);
		if (ev.len)
			check_lent(w, &ev);
		fz_expect("sub_release", ringcast_sub_release(sub, &ev), 0,
			  release_ok);
	}
}

static void sub_read_at(struct world *w, struct ringcast_sub *sub, uint64_t seq)
{
	struct ringcast_event ev;
	int r;

	if (!sub)
		return;
	r = ringcast_sub_read_at(sub, seq, &ev);
	fz_expect("sub_read_at", r, 0, read_at_ok);
	if (r == 0)
		check_event(w, "sub_read_at", &ev);
}

/*
 * A payload length: without a data area, up to a little past the slot's
 * capacity (-EMSGSIZE); with one, inline, around the capacity, spilled,
 * around the largest event, or past it (-EMSGSIZE).
 */
static uint32_t pick_len(struct world *w, uint8_t a, uint8_t b)
{
	uint32_t cap = w->capacity, max = w->max_event;

	if (!w->data_size)
		return a % (cap + 8);
	switch (a >> 5) {
	case 0:
	case 1:
		return a % (cap + 1);
	case 2:
		return cap - 2 + a % 5;
	case 3:
	case 4:
		return cap + 1 + (uint32_t)((a * 256u + b) % (max - cap));
	case 5:
		return max - 2 + a % 4;
	case 6:
		return max / 2 + b;
	default:
		return max + 1 + (uint32_t)b * 32;
	}
}

static unsigned char big[BIG];

static void publish(struct world *w, uint8_t a, uint8_t b)
{
	size_t len = pick_len(w, a, b);
	int r;

	if (!w->pub)
		return;
	memset(big, b, len);
	r = ringcast_pub_publish(w->pub, b % 4, big, len);
	fz_expect("pub_publish", r, 1, publish_ok);
}

static void publish_batch(struct world *w, uint8_t a, uint8_t b)
{
	struct ringcast_msg m[8];
	unsigned int i, n = 1 + a % 8;
	int r;

	if (!w->pub)
		return;
	for (i = 0; i < n; i++) {
		m[i].type = (b + i) % 4;
		/* Mixed: a batch of one large event among small ones. */
		m[i].len = w->data_size && (a & 0x80) ?
				   pick_len(w, (uint8_t)(b + i * 61),
					    (uint8_t)(a ^ i)) :
				   (b + i * 7) % 48;
		m[i].data = big;
	}
	r = ringcast_pub_publish_batch(w->pub, m, n);
	fz_expect("pub_publish_batch", r, 1, publish_ok);
}

/*
 * Events reserved in the data area and committed short enough for their
 * slots: each slot holds what was written into its reservation, whatever
 * was scribbled on the slots' descriptors meanwhile (the publisher keeps
 * its records' positions to itself), unless the payload bytes of a slot
 * or of the data area were scribbled on too.
 */
static void check_committed(struct world *w, const struct ringcast_msg *m)
{
	uint64_t head = ringcast_pub_head(w->pub);
	unsigned int i;
	uint32_t j;

	if (w->reserved_len <= w->capacity || !w->reserved_clean)
		return;
	for (i = 0; i < w->reserved_n; i++) {
		struct rc_slot *s =
			slot(w, (uint32_t)(head - w->reserved_n + i));

		if (m[i].len > w->capacity)
			continue;
		for (j = 0; j < m[i].len; j++)
			if (s->data[j] != w->reserved_fill)
				fz_fail("pub_commit: byte %u of %u is %#x, "
					"%#x was written",
					j, m[i].len, s->data[j],
					w->reserved_fill);
	}
}

/*
 * Reserve one event or a batch of up to four, of any length; commit them
 * as reserved, shorter (one reserved in the data area and small enough for
 * its slot after all goes into the slot), or longer (-EINVAL).
 */
static void reserve(struct world *w, uint8_t a, uint8_t b, bool commit)
{
	struct ringcast_msg m[4];
	void *p[4];
	unsigned int i;
	int r;

	if (!w->pub)
		return;
	if (!w->reserved) {
		w->reserved_len = pick_len(w, a, b);
		w->reserved_n = b & 0x80 ? 1 + (b >> 5) % 4 : 1;
		r = w->reserved_n == 1 ?
			    ringcast_pub_reserve(w->pub, w->reserved_len, p) :
			    ringcast_pub_reserve_batch(w->pub, w->reserved_n,
						       w->reserved_len, p);
		fz_expect("pub_reserve", r, 0, commit_ok);
		if (r < 0)
			return;
		for (i = 0; i < w->reserved_n; i++)
			memset(p[i], a, w->reserved_len);
		w->reserved = true;
		w->reserved_fill = a;
		w->reserved_clean = true;
	}
	if (!commit)
		return;
	for (i = 0; i < w->reserved_n; i++) {
		m[i].type = (b + i) % 4;
		m[i].data = NULL;
		switch ((b >> 2) % 4) {
		case 0:
			m[i].len = (uint32_t)(b % (w->reserved_len + 1));
			break;
		case 1:
			m[i].len = (uint32_t)w->reserved_len + (b & 1);
			break;
		default:
			m[i].len = (uint32_t)w->reserved_len;
			break;
		}
	}
	r = w->reserved_n == 1 ?
		    ringcast_pub_commit(w->pub, m[0].type, m[0].len) :
		    ringcast_pub_commit_batch(w->pub, m, w->reserved_n);
	fz_expect("pub_commit", r, 1, commit_ok);
	if (r != -EINVAL)
		w->reserved = false;
	if (r >= 0)
		check_committed(w, m);
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

	w->reserved_clean = false;
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

/*
 * A slot holding a spilled event, or one being written (a reservation,
 * maybe in the data area), looking from slot i on; else slot i.
 */
static struct rc_slot *spilled_slot(struct world *w, uint32_t i)
{
	uint32_t k;

	for (k = 0; k < w->slots; k++) {
		struct rc_slot *s = slot(w, i + k);

		if (atomic_load_explicit(&s->len, memory_order_relaxed) >
			    w->capacity ||
		    (atomic_load_explicit(&s->stamp, memory_order_relaxed) &
		     RC_STAMP_BUSY))
			return s;
	}
	return slot(w, i);
}

/*
 * A spilled event's descriptor or length: hostile positions (misaligned,
 * past the end of the area, in another lap, huge, near UINT64_MAX, next to
 * the intent) and lengths (around the capacity and the largest event,
 * huge).
 */
static void scribble_desc(struct world *w, uint8_t a, uint8_t b, uint8_t c)
{
	struct rc_slot *s = spilled_slot(w, a);
	struct rc_desc *d = (struct rc_desc *)s->data;
	uint64_t pos = atomic_load_explicit(&d->pos, memory_order_relaxed);
	uint64_t dsize = w->data_size ? w->data_size : 4096;
	uint64_t in =
		atomic_load_explicit(&hdr(w)->dintent, memory_order_relaxed);
	uint32_t len = atomic_load_explicit(&s->len, memory_order_relaxed);
	static const uint32_t lens[] = { 0, 1, 15, 16, 17, 64, 0xffff };

	switch (b % 10) {
	case 0: /* misaligned */
		pos += 1 + c % 63;
		break;
	case 1: /* its record past the end of the area */
		pos = (pos & ~(dsize - 1)) + dsize - 64 * (1 + c % 4);
		break;
	case 2: /* another lap, ahead or behind */
		pos += (uint64_t)(int64_t)(int8_t)c * dsize;
		break;
	case 3: /* huge */
		pos = 1ull << (40 + c % 24);
		break;
	case 4: /* near UINT64_MAX, aligned or not */
		pos = c & 1 ? UINT64_MAX - c : (UINT64_MAX & ~63ull) - 64 * c;
		break;
	case 5: /* a neighbouring record */
		pos += 64 * (uint64_t)(int64_t)(int8_t)c;
		break;
	case 6: /* next to the intent */
		pos = in - 16 - len + 64 * (uint64_t)(int64_t)(int8_t)c;
		break;
	case 7: /* its length, around the capacity and the largest */
		atomic_store(&s->len, (c & 1 ? w->capacity : w->max_event) +
					      (uint32_t)(int8_t)c / 2);
		return;
	case 8: /* its length, wild */
		atomic_store(&s->len, c & 1 ? UINT32_MAX - c :
					      (uint32_t)dsize + lens[c % 7]);
		return;
	default: /* any byte of it */
		((unsigned char *)d)[c % 8] = a;
		return;
	}
	atomic_store(&d->pos, pos);
}

/*
 * A record header of the data area (the one a spilled slot points to, or
 * any 64-byte boundary): its sequence, length or kind.  The readers check
 * none of them, the publisher's walk all of them (gate.c, rc_pub_walk()).
 */
static void scribble_rec(struct world *w, uint8_t a, uint8_t b, uint8_t c)
{
	uint64_t off, h = cur_head(w);
	struct rc_rec *rec;

	if (!w->data_size)
		return;
	if (a & 1)
		off = atomic_load_explicit(
			&((struct rc_desc *)spilled_slot(w, a >> 1)->data)->pos,
			memory_order_relaxed);
	else
		off = (uint64_t)(a >> 1) * 64;
	off &= (w->data_size - 1) & ~63ull;
	rec = (struct rc_rec *)(w->map + w->data_off + off);
	switch (b % 12) {
	case 0:
		atomic_store(&rec->seq, h + (uint64_t)(int64_t)(int8_t)c);
		break;
	case 1:
		atomic_store(&rec->seq, c);
		break;
	case 2:
		atomic_store(&rec->seq, UINT64_MAX - c);
		break;
	case 3:
		atomic_store(&rec->seq, atomic_load(&rec->seq) - 1 - c % 4);
		break;
	case 4: /* a fill's length: to the end of the lap, or off it */
		atomic_store(&rec->len, (uint32_t)(w->data_size - off - 16) +
						(uint32_t)(int8_t)c);
		break;
	case 5:
		atomic_store(&rec->len, c);
		break;
	case 6:
		atomic_store(&rec->len, UINT32_MAX - c);
		break;
	case 7:
		atomic_store(&rec->len, (uint32_t)w->data_size * (1 + c % 4));
		break;
	case 8:
		atomic_store(&rec->kind, c % 5);
		break;
	case 9: /* a fill record where an event was */
		atomic_store(&rec->kind, RC_REC_FILL);
		break;
	case 10:
		atomic_store(&rec->kind, (uint32_t)c << 24 | RC_REC_EVENT);
		break;
	default:
		((unsigned char *)rec)[c % 16] = a;
		break;
	}
}

/* Payload bytes of the data area, a run of them. */
static void scribble_data(struct world *w, uint8_t a, uint8_t b, uint8_t c)
{
	uint64_t off, n = 1 + (a >> 4) * 16;

	w->reserved_clean = false;
	if (!w->data_size)
		return;
	off = ((uint64_t)a << 8 | b) * 61 % w->data_size;
	if (off + n > w->data_size)
		n = w->data_size - off;
	memset(w->map + w->data_off + off, c, n);
}

/* The data area's intent or floor: low, a little off, high, huge. */
static void scribble_dptr(struct world *w, uint8_t a, uint8_t b, uint8_t c)
{
	_Atomic uint64_t *x = a & 1 ? &hdr(w)->dintent : &hdr(w)->dfloor;
	uint64_t v = atomic_load_explicit(x, memory_order_relaxed);
	uint64_t dsize = w->data_size ? w->data_size : 4096;

	(void)b;
	switch ((a >> 1) % 9) {
	case 0:
		v = c;
		break;
	case 1:
		v += 64 * (uint64_t)(int64_t)(int8_t)c;
		break;
	case 2:
		v += dsize * (1 + c % 4);
		break;
	case 3:
		v -= dsize * (1 + c % 4);
		break;
	case 4:
		v = UINT64_MAX - c;
		break;
	case 5:
		v = 1ull << 63 | c;
		break;
	case 6:
		v = cur_head(w) + (uint64_t)(int64_t)(int8_t)c;
		break;
	case 7:
		v = cur_head(w) + w->slots + c;
		break;
	default:
		v = (uint64_t)c << 56;
		break;
	}
	atomic_store(x, v);
}

static void step(struct world *w, const uint8_t *s)
{
	struct ringcast_ring_subscriber si[CAP];
	struct ringcast_ring_stats info;
	uint8_t a = s[1], b = s[2], c = s[3];
	unsigned int i;
	uint64_t f;

	switch (s[0] % 32) {
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
		sub_read_at(w, w->lossy, cur_head(w) - a);
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
	case 23:
		/* Rarely: the immutable part (attaches then fail). */
		if (a == 0xa5)
			w->map[8 + b % 120] ^= c | 1;
		break;
	case 24:
	case 25:
		scribble_desc(w, a, b, c);
		break;
	case 26:
		scribble_rec(w, a, b, c);
		break;
	case 27:
		scribble_data(w, a, b, c);
		break;
	case 28:
		scribble_dptr(w, a, b, c);
		break;
	case 29:
		/* A run of spilled events: laps of the data area. */
		for (i = 0; i < 1u + a % 16; i++)
			publish(w, (uint8_t)(0x60 + (b + i * 13) % 0x40),
				(uint8_t)(c + i));
		break;
	case 30:
		/* Around the data area's floor, or behind the head. */
		f = atomic_load_explicit(&hdr(w)->dfloor, memory_order_relaxed);
		sub_read_at(w, a & 1 ? w->reliable : w->filtered,
			    (a & 2 ? f : cur_head(w)) - (uint64_t)(int8_t)b);
		sub_borrow(w, w->filtered);
		break;
	default:
		sub_read(w, w->lossy, 1 + a % 4);
		sub_read(w, w->reliable, 1 + b % 4);
		sub_read(w, w->filtered, 1 + c % 4);
		sub_borrow(w, w->lossy);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ringcast_ring_opts o = { .max_subscribers = CAP };
	struct ringcast_ring_stats info;
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
	if (!w.multi && (data[0] & 0x10))
		o.data_size = RINGCAST_MIN_DATA_SIZE << ((data[0] >> 5) & 1);
	w.name = fz_name();
	r = ringcast_ring_create(
		w.name, &o,
		RINGCAST_CREATE_EXCL | (w.multi ? RINGCAST_CREATE_MULTI_PUB :
					o.data_size ? 0 :
						      RINGCAST_CREATE_NO_DATA));
	if (r != 0)
		fz_fail("create %s: %s", w.name, ringcast_strerror(r));
	r = ringcast_ring_get_stats(w.name, &info);
	if (r != 0 || info.data_size != o.data_size)
		fz_fail("stats %s: %s", w.name, ringcast_strerror(r));
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
	w.data_off = hdr(&w)->data_off;
	w.data_size = info.data_size;
	w.max_event = info.max_event;

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
