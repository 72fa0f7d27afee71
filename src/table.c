// SPDX-License-Identifier: MIT
/*
 * The shared subscriber table (DESIGN §5).  Entry i is owned by whoever
 * holds byte RC_LOCK_ENTRY0 + i of the lock object: lock first, then claim
 * (compare-and-swap of the state), and on leaving free the entry first,
 * then unlock.  So an entry that is in use while nobody holds its lock
 * belongs to a process that died, and whoever takes the lock reclaims it.
 *
 * hdr->table_gen changes whenever an entry is claimed or freed; the
 * publisher counts the entries in use only when it changed, so a publish
 * returns the count without scanning the table.  A count is derived, never
 * kept: a process killed in the middle of a claim or a free cannot leave it
 * wrong.  An entry whose owner died stays counted until an attacher (or
 * stat) reclaims it.
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
	atomic_fetch_add(&m->hdr->table_gen, 1);
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
			/* Dead owner: the entry is ours now. */
			smp_store_release(&e->state, RC_ENTRY_LOSSY);
		}
		atomic_fetch_add(&m->hdr->table_gen, 1);
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
	if (m->writable && m->lock_fd >= 0)
		return rc_table_reclaim(m);
	return rc_table_count(m);
}

/* Entries in use, dead owners' included: what a publish reports. */
uint32_t rc_table_count(const struct rc_map *m)
{
	uint32_t i, used = 0;

	for (i = 0; i < m->table_cap; i++)
		if (READ_ONCE(m->table[i].state) != RC_ENTRY_FREE)
			used++;
	return used;
}
