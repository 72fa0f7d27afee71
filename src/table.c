// SPDX-License-Identifier: MIT
/*
 * The shared subscriber table (DESIGN §5).  Entry i is owned by whoever
 * holds byte RC_LOCK_ENTRY0 + i of the lock object: lock first, then claim
 * (compare-and-swap of the state), and on leaving free the entry first,
 * then unlock.  So an entry that is in use while nobody holds its lock
 * belongs to a process that died, and whoever takes the lock reclaims it.
 *
 * hdr->nsubs counts entries in use; the publisher returns it from every
 * publish without scanning the table.  An entry whose owner died stays
 * counted until an attacher (or stat) reclaims it.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "barrier.h"
#include "compiler.h"
#include "ring.h"

/* Free the entry we hold the lock of (its owner died, or we leave). */
static void rc_entry_free(struct rc_map *m, struct rc_entry *e)
{
	uint32_t st = READ_ONCE(e->state);

	if (st == RC_ENTRY_FREE)
		return;
	/*
	 * Release: our last use of the entry happens before it is seen free.
	 * Only the lock holder writes a state, so a CAS would add nothing.
	 */
	smp_store_release(&e->state, RC_ENTRY_FREE);
	if (READ_ONCE(m->hdr->nsubs) > 0)
		atomic_fetch_sub(&m->hdr->nsubs, 1);
}

/* Reclaim the entries of dead owners; returns the entries still in use. */
static uint32_t rc_table_reclaim(struct rc_map *m)
{
	uint32_t i, used = 0;

	for (i = 0; i < m->table_cap; i++) {
		struct rc_entry *e = &m->table[i];

		if (READ_ONCE(e->state) == RC_ENTRY_FREE)
			continue;
		if (rc_lock_try(m, RC_LOCK_ENTRY0 + (int)i) < 0) {
			used++; /* alive, or being claimed */
			continue;
		}
		rc_entry_free(m, e);
		rc_lock_drop(m, RC_LOCK_ENTRY0 + (int)i);
	}
	return used;
}

/*
 * Register a lossy subscriber.  Returns its entry, or -EUSERS when the
 * table is full, or -EACCES without write access.
 */
int rc_table_join(struct rc_map *m, uint32_t interest)
{
	uint32_t i;

	if (!m->writable || m->lock_fd < 0)
		return -EACCES;
	rc_table_reclaim(m);
	for (i = 0; i < m->table_cap; i++) {
		struct rc_entry *e = &m->table[i];
		uint32_t st = RC_ENTRY_FREE;

		if (READ_ONCE(e->state) != RC_ENTRY_FREE)
			continue;
		if (rc_lock_try(m, RC_LOCK_ENTRY0 + (int)i) < 0)
			continue;
		WRITE_ONCE(e->pid, (int32_t)getpid());
		WRITE_ONCE(e->start_time, rc_proc_start_time(getpid()));
		WRITE_ONCE(e->interest, interest);
		WRITE_ONCE(e->flags, 0);
		/*
		 * Release: the fields above are visible to whoever sees the
		 * entry in use.  The CAS fails only if the entry was claimed
		 * and its owner died between our look and our lock.
		 */
		if (!atomic_compare_exchange_strong_explicit(
			    &e->state, &st, RC_ENTRY_LOSSY,
			    memory_order_acq_rel, memory_order_acquire)) {
			/* Dead owner: the entry is ours now, still counted. */
			smp_store_release(&e->state, RC_ENTRY_LOSSY);
			return (int)i;
		}
		atomic_fetch_add(&m->hdr->nsubs, 1);
		return (int)i;
	}
	return -EUSERS;
}

void rc_table_leave(struct rc_map *m, int idx)
{
	if (idx < 0 || (uint32_t)idx >= m->table_cap || m->lock_fd < 0)
		return;
	rc_entry_free(m, &m->table[idx]);
	rc_lock_drop(m, RC_LOCK_ENTRY0 + idx);
}

/* Entries in use by live owners (reclaiming dead ones when we can). */
uint32_t rc_table_live(struct rc_map *m)
{
	uint32_t i, used = 0;

	if (m->writable && m->lock_fd >= 0)
		return rc_table_reclaim(m);
	for (i = 0; i < m->table_cap; i++)
		if (READ_ONCE(m->table[i].state) != RC_ENTRY_FREE)
			used++;
	return used;
}

/* The registered count as the publisher reports it, bounded. */
uint32_t rc_table_registered(const struct rc_map *m)
{
	uint32_t n = READ_ONCE(m->hdr->nsubs);

	return n > m->table_cap ? m->table_cap : n;
}
