// SPDX-License-Identifier: MIT
/*
 * Fuzz harness: attach to an object whose bytes are arbitrary.
 *
 * The input becomes a fresh shared-memory object /dev/shm/ringcast.NAME;
 * then every way in is tried on it: ringcast_ring_get_stats(), a lossy and a
 * reliable ringcast_sub_attach() with a few reads of each kind,
 * ringcast_ring_get_subscribers(), ringcast_pub_attach() with a few publishes,
 * ringcast_ring_create() over it and ringcast_ring_close().  Everything
 * must return 0 or one of its documented errors: never crash, hang or
 * read out of bounds.
 *
 * Input: 4 control bytes, then the object's bytes from offset 0.  A random
 * header almost never passes the checksum, so the control byte can repair
 * parts of it, letting the fuzzer reach what lies behind validation:
 *
 *   ctl[0] & 0x01  rewrite magic, ABI version and geometry from ctl[1..3]
 *   ctl[0] & 0x02  recompute the header checksum
 *   ctl[0] & 0x04  size the object as its header says (at most 4 MiB)
 *   ctl[0] & 0x08  with 0x01: a multi-publisher ring
 *   ctl[0] & 0x10  also try ringcast_ring_create() over it (slow when the
 *                  object looks half-created: it retries for a while)
 *   ctl[0] & 0x20  with 0x01: a data area of 4 KiB << ctl[3] >> 4 % 4
 *   ctl[0] & 0x40  with 0x01: then make one field of the data area's
 *                  geometry (ctl[2] >> 2) disagree with the rest; sized
 *                  (0x04) as before: every way in must refuse the object
 *                  with -EBADMSG or -EPROTO, never map it as it says
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

#define FZ_MAX_SIZE (4u << 20)

static const int stat_ok[] = { -ENOENT, -EPROTO, -EBADMSG, 0 };
static const int sub_ok[] = { -ENOENT, -EPROTO, -EBADMSG, -EUSERS, 0 };
static const int next_ok[] = { -EAGAIN,	    -EOVERFLOW, -ESTALE, -EPIPE,
			       -EOWNERDEAD, -EBADMSG,	-EIDRM,	 0 };
static const int release_ok[] = { -EOVERFLOW, -ESTALE, -EBADMSG, 0 };
static const int read_at_ok[] = { -ERANGE, -EAGAIN, -EBADMSG, -EINVAL, 0 };
static const int pub_ok[] = { -ENOENT, -EPROTO, -EBADMSG, -EBUSY,
			      -EPIPE,  -EUSERS, -EIDRM,	  0 };
static const int publish_ok[] = { -EAGAIN,  -EPIPE, -EMSGSIZE,
				  -EBADMSG, -EIDRM, 0 };
static const int create_ok[] = { -EEXIST, -EPROTO, -EBADMSG, 0 };
static const int close_ok[] = { -ENOENT, -EPROTO, -EBADMSG, -EPIPE, -EIDRM, 0 };

/*
 * One field of the data area's geometry that disagrees with the rest
 * (ctl[0] & 0x40), which a valid checksum (ctl[0] & 0x02) may cover: each
 * is a ring that no attach may map.
 */
static void break_data_geometry(struct rc_hdr *h, const uint8_t *ctl)
{
	uint64_t d = h->data_size;

	if (!d) {
		switch ((ctl[2] >> 2) % 3) {
		case 0:
			h->max_event++; /* more than a slot holds */
			break;
		case 1:
			h->data_off = h->total_size; /* an area of 0 bytes */
			break;
		default:
			h->data_size = RINGCAST_MIN_DATA_SIZE; /* nowhere */
			break;
		}
		return;
	}
	switch ((ctl[2] >> 2) % 9) {
	case 0:
		h->data_off += 64; /* not where the slots end */
		break;
	case 1:
		h->data_off = 0;
		break;
	case 2: /* twice as large, consistently: past the object's end */
		h->data_size = 2 * d;
		h->max_event = (uint32_t)(d / 2);
		h->total_size += d;
		break;
	case 3: /* not a power of two, consistently otherwise */
		h->data_size = d - 64;
		h->max_event = (uint32_t)((d - 64) / 4);
		h->total_size -= 64;
		break;
	case 4: /* a larger event than a quarter of the area */
		h->max_event += 1 + ctl[1];
		break;
	case 5: /* an event no larger than a slot */
		h->max_event = h->slot_size - RINGCAST_SLOT_HEADER;
		break;
	case 6: /* no area, but its offset and the object's size say one */
		h->data_size = 0;
		break;
	case 7: /* a multi-publisher ring has none */
		h->features |= RC_FEAT_MULTI_PUB;
		break;
	default: /* too small, consistently otherwise */
		h->data_size = RINGCAST_MIN_DATA_SIZE / 2;
		h->max_event = RINGCAST_MIN_DATA_SIZE / 8;
		h->total_size = h->data_off + RINGCAST_MIN_DATA_SIZE / 2;
		break;
	}
}

/*
 * Repair the header as the control bytes say (see the top).  Returns the
 * object's size to give it (0x04): the geometry's, before it is broken.
 */
static uint64_t fix_header(struct rc_hdr *h, const uint8_t *ctl)
{
	uint32_t slots = 2u << (ctl[1] % 6), size = 64u << (ctl[2] % 4);
	uint32_t cap = 1u + ctl[3] % 8;
	uint64_t slots_off, total = h->total_size;

	if (ctl[0] & 0x01) {
		atomic_store_explicit(&h->magic, RC_MAGIC,
				      memory_order_relaxed);
		h->abi_version = RC_ABI_VERSION;
		h->features = ctl[0] & 0x08 ? RC_FEAT_MULTI_PUB : 0;
		h->hdr_size = RC_HDR_SIZE;
		h->slot_count = slots;
		h->slot_size = size;
		h->table_cap = cap;
		h->table_off = RC_HDR_SIZE;
		slots_off = (RC_HDR_SIZE + (uint64_t)cap * RC_ENTRY_SIZE +
			     RC_SLOTS_ALIGN - 1) &
			    ~(uint64_t)(RC_SLOTS_ALIGN - 1);
		h->slots_off = slots_off;
		h->total_size = slots_off + (uint64_t)slots * size;
		h->data_off = 0;
		h->data_size = 0;
		h->max_event = size - RINGCAST_SLOT_HEADER;
		if (ctl[0] & 0x20) {
			h->data_off = h->total_size;
			h->data_size = (uint64_t)RINGCAST_MIN_DATA_SIZE
				       << ((ctl[3] >> 4) % 4);
			h->max_event = (uint32_t)(h->data_size / 4);
			h->total_size += h->data_size;
		}
		total = h->total_size;
		if (ctl[0] & 0x40)
			break_data_geometry(h, ctl);
	}
	if (ctl[0] & 0x02)
		h->checksum = rc_checksum(h);
	return total;
}

/* @max: the largest event the ring's statistics gave */
static void reads(struct ringcast_sub *sub, uint32_t max)
{
	struct ringcast_sub_stats st;
	struct ringcast_event ev;
	int i, r;

	for (i = 0; i < 24; i++) {
		r = ringcast_sub_next(sub, &ev, 0);
		fz_expect("sub_next", r, 0, next_ok);
		if (r == 0 && ev.len > max)
			fz_fail("sub_next: length %u over %u", ev.len, max);
		if (r == -EAGAIN || r == -EPIPE || r == -EOWNERDEAD ||
		    r == -EBADMSG)
			break;
	}
	r = ringcast_sub_borrow(sub, &ev, 0);
	fz_expect("sub_borrow", r, 0, next_ok);
	if (r == 0) {
		volatile const uint8_t *p = ev.data;
		uint8_t x = 0;
		uint32_t j;

		if (ev.len > max)
			fz_fail("sub_borrow: length %u over %u", ev.len, max);
		/* Every byte lent must be inside the mapping. */
		for (j = 0; j < ev.len; j++)
			x ^= p[j];
		(void)x;
		fz_expect("sub_release", ringcast_sub_release(sub, &ev), 0,
			  release_ok);
	}
	ringcast_sub_get_stats(sub, &st);
	for (i = 0; i < 4; i++) {
		uint64_t seq = st.cursor - (uint64_t)i;

		r = ringcast_sub_read_at(sub, seq, &ev);
		fz_expect("sub_read_at", r, 0, read_at_ok);
		if (r == 0 && ev.len > max)
			fz_fail("sub_read_at: length %u over %u", ev.len, max);
	}
}

/* An object that must be refused: -EBADMSG or -EPROTO, nothing else. */
static void refused(const char *what, int r, bool must)
{
	if (must && r != -EBADMSG && r != -EPROTO)
		fz_fail("%s: %d (%s) on a header whose geometry disagrees",
			what, r, ringcast_strerror(r));
}

/*
 * Every way in; @must_refuse: the header's geometry disagrees with itself
 * (fix_header()), and each must say so.
 */
static void try_everything(const char *name, uint8_t ctl0, bool must_refuse)
{
	struct ringcast_sub_opts o = { .from = RINGCAST_FROM_OLDEST };
	struct ringcast_ring_subscriber si[4];
	struct ringcast_ring_stats info;
	struct ringcast_ring_opts ro = { .slots = 2,
					 .slot_size = 64,
					 .max_subscribers = 1 };
	struct ringcast_sub *sub = NULL, *rel = NULL;
	struct ringcast_pub *pub = NULL;
	/* Inline, spilled (with a data area), too large for most. */
	static const size_t lens[] = { 64, 32, 21, 1000, 5000 };
	static uint8_t payload[8192];
	uint32_t max = RINGCAST_MAX_SLOT_SIZE;
	unsigned int i;
	int r;

	r = ringcast_ring_get_stats(name, &info);
	fz_expect("ring_stat", r, 0, stat_ok);
	refused("ring_stat", r, must_refuse);
	if (r == 0)
		max = info.max_event;

	r = ringcast_sub_attach(name, &o, &sub, NULL);
	fz_expect("sub_attach", r, 0, sub_ok);
	refused("sub_attach", r, must_refuse);
	if (r == 0)
		reads(sub, max);
	o.flags = RINGCAST_SUB_RELIABLE;
	r = ringcast_sub_attach(name, &o, &rel, NULL);
	fz_expect("sub_attach reliable", r, 0, sub_ok);
	refused("sub_attach reliable", r, must_refuse);
	if (r == 0)
		reads(rel, max);

	r = ringcast_ring_get_subscribers(name, si, 4);
	fz_expect("ring_subscribers", r, 1, stat_ok);
	refused("ring_subscribers", r, must_refuse);

	r = ringcast_pub_attach(name, RINGCAST_PUB_REOPEN, &pub);
	fz_expect("pub_attach", r, 0, pub_ok);
	refused("pub_attach", r, must_refuse);
	if (r == 0) {
		ringcast_pub_set_timeout(pub, 0);
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			r = ringcast_pub_publish(pub, i, payload, lens[i]);
			fz_expect("pub_publish", r, 1, publish_ok);
		}
		ringcast_pub_detach(pub);
	}
	if (sub)
		reads(sub, max);
	ringcast_sub_detach(sub);
	ringcast_sub_detach(rel);

	/* Slow on an object that looks half-created (it retries): rarely. */
	if (ctl0 & 0x10) {
		r = ringcast_ring_create(name, &ro, 0);
		fz_expect("ring_create", r, 1, create_ok);
	}
	fz_expect("ring_close", ringcast_ring_close(name), 0, close_ok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t ctl[4] = { 0 };
	const char *name = fz_name();
	char path[128];
	bool must_refuse = false;
	uint64_t total = 0;
	struct rc_hdr h;
	struct stat st;
	int fd;

	if (size > FZ_MAX_SIZE)
		return 0;
	if (size >= 4) {
		memcpy(ctl, data, 4);
		data += 4;
		size -= 4;
	}
	snprintf(path, sizeof(path), "/dev/shm/ringcast.%s", name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		fz_fail("open %s: %m", path);
	if (size && pwrite(fd, data, size, 0) != (ssize_t)size)
		fz_fail("pwrite: %m");
	if (ctl[0] & 0x07) {
		memset(&h, 0, sizeof(h));
		if (pread(fd, &h, sizeof(h), 0) < 0)
			fz_fail("pread: %m");
		total = fix_header(&h, ctl);
		if (pwrite(fd, &h, sizeof(h), 0) != sizeof(h))
			fz_fail("pwrite: %m");
		if ((ctl[0] & 0x04) && total <= FZ_MAX_SIZE &&
		    ftruncate(fd, (off_t)total) < 0)
			fz_fail("ftruncate: %m");
		/* Broken on purpose, or a multi-publisher ring with data. */
		must_refuse = (ctl[0] & 0x01) &&
			      ((ctl[0] & 0x40) || (ctl[0] & 0x28) == 0x28);
	}
	if (fstat(fd, &st) < 0)
		fz_fail("fstat: %m");
	close(fd);

	try_everything(name, ctl[0], must_refuse);

	/* Removes the object and the lock object an attach made. */
	ringcast_ring_remove_force(name);
	return 0;
}
