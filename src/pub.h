/* SPDX-License-Identifier: MIT */
/*
 * The publisher handle, shared between pub.c (attach, takeover, close),
 * publish.c (the publish path) and gate.c (gating by reliable subscribers).
 */
#ifndef RINGCAST_PUB_H
#define RINGCAST_PUB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "barrier.h"
#include "compiler.h"
#include "map.h"

/* A reliable entry as the publisher's last scan listed it. */
struct rc_gate {
	uint32_t idx;
	uint32_t wake; /* its interest if it is type-filtered, else 0 */
	uint32_t word; /* its state word: RELIABLE and its claim generation */
};

struct ringcast_pub {
	struct rc_map m;
	uint64_t head; /* next sequence to write; ours alone */
	uint64_t life; /* the life word while we hold the ring */
	uint32_t epoch_tag;
	uint32_t flags;
	uint32_t table_gen; /* table generation last counted */
	uint32_t registered; /* entries in use at that generation */
	size_t reserved; /* bytes reserved per slot, or 0 */
	unsigned int reserved_n; /* slots reserved from head on */
	bool reserving;

	/* Reliable gating: see the gating table in gate.c. */
	uint64_t allowed; /* may write below this without a scan */
	uint64_t limit; /* the last limit stored in the header */
	uint64_t quarter; /* a quarter ring, at least 1 */
	uint64_t low; /* lowest reliable cursor at the last scan */
	int slowest; /* its entry, or -1 when none */
	uint32_t slowest_word; /* its state word as listed */
	uint64_t gate_woke_low; /* its cursor at our last gate wake */
	uint64_t gate_woke_ns; /* and when that was (coarse clock) */
	uint32_t gate_gen; /* table generation the list was made at */
	uint32_t ngates;
	struct rc_gate *gates; /* table_cap of them */
	/* A multi-publisher ring: the other publishers' entries, listed
	 * with the gates; their uncommitted claims gate us too. */
	uint32_t npeers;
	uint32_t *peers; /* table_cap of them */
	uint64_t claim_low; /* lowest such claim at the last scan */
	int64_t timeout_ns; /* < 0: for ever */
	_Atomic uint32_t intr;

	/*
	 * The data area (publish.c; gate.c, rc_pub_droom()): the next free
	 * position, how far we may write without a scan, the last dfloor
	 * stored, and the walk over our records: every record below wpos is
	 * passed, and the data of events below wseq may be destroyed once
	 * every reliable cursor is at wseq or past it.
	 */
	uint64_t dhead;
	uint64_t dallowed;
	uint64_t dfloor;
	uint64_t dneed; /* what the scans of a data wait need; else 0 */
	uint64_t wpos, wseq;
	bool reserved_spill; /* the reservation is in the data area, */
	uint64_t reserved_pos; /* from this data head on */

	/* A publisher of a multi-publisher ring. */
	bool multi;
	int entry; /* its table entry */
	struct rc_entry *e;
	uint32_t id; /* what its slots say wrote them */
};

static inline int rc_pub_refuse(struct ringcast_pub *pub, int err)
{
	atomic_fetch_add(&pub->m.hdr->refused, 1);
	return err;
}

/* Checks shared by every publish call; 0 when publishing may go on. */
static inline int rc_pub_check(struct ringcast_pub *pub)
{
	if (unlikely(rc_map_forked(&pub->m)))
		return -ECHILD;
	if (unlikely(pub->reserving))
		return -EBUSY;
	/* Closed or removed from outside?  A cached line. */
	if (unlikely(READ_ONCE(pub->m.hdr->life) != pub->life))
		return rc_pub_refuse(pub,
				     rc_life_end(READ_ONCE(pub->m.hdr->life)));
	return 0;
}

/* gate.c: the publisher's half of the gating table there. */
void rc_pub_init_limit(struct ringcast_pub *pub, uint64_t head);
bool rc_pub_scan(struct ringcast_pub *pub, uint64_t base, uint64_t want);
int rc_pub_block(struct ringcast_pub *pub, uint64_t base, uint64_t want);
void rc_pub_data_init(struct ringcast_pub *pub);
int rc_pub_droom(struct ringcast_pub *pub, uint64_t q);

/* Where a record of len bytes goes after position p: there, or at the
 * start of the next lap when it would wrap (a fill record covers the
 * rest). */
static inline uint64_t rc_data_place(const struct rc_map *m, uint64_t p,
				     uint64_t len)
{
	uint64_t off = p & m->data_mask;

	return off + rc_rec_size(len) > m->data_size ?
		       p + (m->data_size - off) :
		       p;
}

/* The data head after a record of len bytes placed after position p. */
static inline uint64_t rc_data_after(const struct rc_map *m, uint64_t p,
				     uint64_t len)
{
	return rc_data_place(m, p, len) + rc_rec_size(len);
}

#endif
