// SPDX-License-Identifier: MIT
/*
 * The shared subscriber table (docs/design.md §5).  Entry i is owned by whoever
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
 * stat, or a publisher blocked on it) reclaims it; a durable one
 * (RC_EF_DURABLE) until a successor adopts it, a publisher demotes it or
 * it is released (rc_table_adopt(), rc_table_release_durable()).
 *
 * A reliable entry's cursor gates the publisher (gate.c).  Freeing one
 * wakes a publisher that sleeps on it: the entry was perhaps the slowest.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "barrier.h"
#include "compiler.h"
#include "map.h"

/* Free the entry we hold the lock of (its owner died, or we leave). */
static void rc_entry_free(struct rc_map *m, struct rc_entry *e)
{
	uint32_t st = READ_ONCE(e->state);

	if (RC_ENTRY_KIND(st) == RC_ENTRY_FREE)
		return;
	/*
	 * Release: our last use of the entry happens before it is seen free.
	 * Only the lock holder and a demoting publisher write a state; a
	 * demotion racing with the free only turns RELIABLE into LOSSY of
	 * the same generation, and the store below wins either way.  The
	 * generation stays: the next claim increments it.
	 */
	smp_store_release(&e->state,
			  RC_ENTRY_WORD(RC_ENTRY_FREE, RC_ENTRY_GEN(st)));
	atomic_fetch_add(&m->hdr->table_gen, 1);
	if (RC_ENTRY_KIND(st) == RC_ENTRY_RELIABLE)
		rc_pub_wake(m->hdr);
}

/* Is e a durable entry that still gates (not demoted, not free)? */
static bool rc_entry_durable(const struct rc_entry *e)
{
	return RC_ENTRY_KIND(READ_ONCE(e->state)) == RC_ENTRY_RELIABLE &&
	       (READ_ONCE(e->flags) & RC_EF_DURABLE);
}

/*
 * Reclaim entry idx if its owner died: 1 when it was reclaimed (or is
 * free), 0 when it is alive (or being claimed), or a negative errno.
 */
int rc_entry_reclaim(struct rc_map *m, uint32_t idx)
{
	struct rc_entry *e = &m->table[idx];
	int r;

	if (RC_ENTRY_KIND(READ_ONCE(e->state)) == RC_ENTRY_FREE)
		return 1;
	/* A description does not see its own lock: ours is alive. */
	if ((int)idx == m->own)
		return 0;
	r = rc_lock_try(m, RC_LOCK_ENTRY0 + (int)idx);
	if (r == -EBUSY)
		return 0;
	if (r < 0)
		return r;
	/*
	 * A durable reliable entry outlives its owner: it gates on, as a
	 * slow reader would, until a successor adopts it, a publisher
	 * demotes it (its limit, or the ring's) or it is released.
	 */
	if (rc_entry_durable(e)) {
		rc_lock_drop(m, RC_LOCK_ENTRY0 + (int)idx);
		return 0;
	}
	/* A dead publisher's claim becomes a hole before its entry goes. */
	if (RC_ENTRY_KIND(READ_ONCE(e->state)) == RC_ENTRY_PUBLISHER &&
	    !rc_claim_abort(m, idx)) {
		rc_lock_drop(m, RC_LOCK_ENTRY0 + (int)idx);
		return 0; /* not yet: kept for the next look */
	}
	rc_entry_free(m, e);
	rc_lock_drop(m, RC_LOCK_ENTRY0 + (int)idx);
	return 1;
}

/* A claim announced by a live publisher, other than entry idx. */
struct rc_claim {
	uint64_t seq, end;
};

static uint32_t rc_live_claims(struct rc_map *m, uint32_t idx,
			       struct rc_claim *c)
{
	uint32_t i, n = 0;

	for (i = 0; i < m->table_cap; i++) {
		const struct rc_entry *e = &m->table[i];
		uint64_t seq, end;

		if (i == idx ||
		    RC_ENTRY_KIND(READ_ONCE(e->state)) != RC_ENTRY_PUBLISHER)
			continue;
		/*
		 * Acquire: pairs with the release store of claim_seq by its
		 * owner (rc_mpub_claim(), rc_pub_advance()): a cleared claim
		 * comes with the commits before it.  claim_end is stored
		 * before claim_seq, so the pair read is never less than the
		 * claim.
		 */
		seq = smp_load_acquire(&e->claim_seq);
		end = READ_ONCE(e->claim_end);
		if (end <= seq)
			continue;
		if ((int)i != m->own &&
		    rc_lock_probe(m, RC_LOCK_ENTRY0 + (int)i) == 0)
			continue; /* dead: its own reclaim deals with it */
		c[n].seq = seq;
		c[n].end = end;
		n++;
	}
	return n;
}

/*
 * Mark aborted every sequence that the publisher of entry idx claimed and
 * did not commit; its owner is dead (we hold its lock).  Its announcement
 * may cover sequences it never won (its CAS failed, or never came): only
 * sequences below the head were claimed (the claim's seq-cst CAS happened
 * before its death, so before our load of the head), and one that a live
 * publisher announces is that one's to commit.  The claim was made with
 * room for it (gate.c), so no reliable subscriber still needs what the
 * slots held; a compare-and-swap per slot, so a commit is never undone and
 * a racing abort by another process does no harm.  Then wake every sleeper:
 * someone may wait at the hole.
 *
 * Returns false when a sequence was left to a live publisher's
 * announcement: that one may be stale (its CAS about to fail), so the dead
 * entry is kept, and looked at again by the next reclaim.
 */
bool rc_claim_abort(struct rc_map *m, uint32_t idx)
{
	struct rc_entry *e = &m->table[idx];
	uint64_t seq = READ_ONCE(e->claim_seq), end = READ_ONCE(e->claim_end);
	struct rc_claim *live = NULL;
	uint32_t nlive = 0, i;
	bool any = false, done = true;
	uint64_t head;

	/* A claim is never longer than a ring; a longer one is not ours. */
	if (end <= seq || end - seq > m->slot_count || end > RC_SEQ_MAX)
		goto out;
	/* Seq-cst: pairs with the claims' compare-and-swap in publish.c. */
	head = atomic_load(&m->hdr->head);
	live = calloc(m->table_cap, sizeof(*live));
	if (!live)
		return false; /* try again later */
	nlive = rc_live_claims(m, idx, live);
	for (; seq < end && seq < head; seq++) {
		_Atomic uint64_t *stamp = &rc_slot_at(m, seq)->stamp;
		uint64_t st, x;
		bool covered = false;

		for (i = 0; i < nlive; i++)
			if (seq >= live[i].seq && seq < live[i].end)
				covered = true;
		if (covered) {
			done = false;
			continue;
		}
		st = smp_load_acquire(stamp);
		x = st & ~RC_STAMP_FLAGS;
		/* Committed, aborted already, or a later event: leave it. */
		if (st == seq + 1 || x > seq + 1 ||
		    st == ((seq + 1) | RC_STAMP_ABORTED))
			continue;
		/*
		 * Release: pairs with the acquire load of the stamp in a
		 * reader (rc_sub_try()), which then skips the hole.
		 */
		if (atomic_compare_exchange_strong_explicit(
			    stamp, &st, (seq + 1) | RC_STAMP_ABORTED,
			    memory_order_release, memory_order_relaxed))
			any = true;
	}
	free(live);
	if (!done)
		goto wake;
out:
	WRITE_ONCE(e->claim_seq, READ_ONCE(e->claim_end));
wake:
	if (any)
		rc_wake_all(m);
	return done;
}

/* Reclaim the entries of dead owners; returns the subscribers in use. */
static uint32_t rc_table_reclaim(struct rc_map *m)
{
	uint32_t i, used = 0;

	for (i = 0; i < m->table_cap; i++)
		if (rc_entry_reclaim(m, i) == 0 &&
		    RC_ENTRY_KIND(READ_ONCE(m->table[i].state)) !=
			    RC_ENTRY_PUBLISHER)
			used++;
	return used;
}

/* Publishers of a multi-publisher ring alive (reclaiming dead ones). */
uint32_t rc_table_publishers(struct rc_map *m)
{
	uint32_t i, n = 0;

	for (i = 0; i < m->table_cap; i++) {
		if (RC_ENTRY_KIND(READ_ONCE(m->table[i].state)) !=
		    RC_ENTRY_PUBLISHER)
			continue;
		if (m->writable && m->lock_fd >= 0 &&
		    rc_entry_reclaim(m, i) != 0)
			continue;
		n++;
	}
	return n;
}

static void rc_table_note_hwm(struct rc_map *m)
{
	uint32_t used = rc_table_count(m);
	uint32_t hwm = READ_ONCE(m->hdr->table_hwm);

	while (used > hwm &&
	       !atomic_compare_exchange_weak(&m->hdr->table_hwm, &hwm, used))
		;
}

/*
 * Register a subscriber.  Returns its entry, or -EUSERS when the table is
 * full, or -EACCES without write access.  The caller of a reliable join
 * then fixes its first sequence against hdr->limit (sub_attach.c).
 */
int rc_table_join(struct rc_map *m, const struct rc_join *j)
{
	uint32_t i;

	if (!m->writable || m->lock_fd < 0)
		return -EACCES;
	rc_table_reclaim(m);
	for (i = 0; i < m->table_cap; i++) {
		struct rc_entry *e = &m->table[i];
		uint32_t st, word;

		if (RC_ENTRY_KIND(READ_ONCE(e->state)) != RC_ENTRY_FREE)
			continue;
		if (rc_lock_try(m, RC_LOCK_ENTRY0 + (int)i) < 0)
			continue;
		/*
		 * Claimed and its owner died between our look and our lock:
		 * a durable one still gates, for its successor; leave it.
		 */
		if (rc_entry_durable(e)) {
			rc_lock_drop(m, RC_LOCK_ENTRY0 + (int)i);
			continue;
		}
		/* A new claim: a new generation (wraps after 2^24). */
		st = READ_ONCE(e->state);
		word = RC_ENTRY_WORD(j->state,
				     (RC_ENTRY_GEN(st) + 1) & 0xffffffu);
		WRITE_ONCE(e->cursor, j->cursor);
		WRITE_ONCE(e->first, j->cursor);
		WRITE_ONCE(e->lost, 0);
		WRITE_ONCE(e->skipped, 0);
		WRITE_ONCE(e->claim_seq, 0);
		WRITE_ONCE(e->claim_end, 0);
		WRITE_ONCE(e->aborted, 0);
		WRITE_ONCE(e->pid, (int32_t)getpid());
		WRITE_ONCE(e->start_time, rc_proc_start_time(getpid()));
		WRITE_ONCE(e->interest, j->interest);
		WRITE_ONCE(e->flags, j->flags);
		WRITE_ONCE(e->demote_ns, j->demote_ns);
		WRITE_ONCE(e->key, j->flags & RC_EF_DURABLE ? j->key : 0);
		/*
		 * Release: the fields above (the cursor above all) are
		 * visible to a publisher that sees the entry in use.  The
		 * entry was claimed and its owner died between our look and
		 * our lock if st is not free; the CAS fails only if a
		 * publisher demoted that dead owner meanwhile.
		 */
		if (!atomic_compare_exchange_strong_explicit(
			    &e->state, &st, word, memory_order_acq_rel,
			    memory_order_acquire))
			smp_store_release(&e->state, word);
		/* A publisher may wait for the dead reliable one. */
		if (RC_ENTRY_KIND(st) == RC_ENTRY_RELIABLE)
			rc_pub_wake(m->hdr);
		/* Seq-cst: the publisher rebuilds its list of reliable ones. */
		atomic_fetch_add(&m->hdr->table_gen, 1);
		rc_table_note_hwm(m);
		m->own = (int)i;
		return (int)i;
	}
	return -EUSERS;
}

/*
 * Adopt the durable entry of key j->key whose owner died: under the
 * entry's lock, which makes it ours alone, take its state word from the
 * very one seen to a new claim generation (so that a publisher's demotion
 * decided on the old word fails), keep its cursor, which gated the
 * publisher all along, and make its other fields ours.  Returns its
 * index, -ENOENT when there is none (or it was demoted meanwhile: it
 * holds nothing any more, and is freed), -EBUSY when its owner is alive.
 */
/*
 * The lock of a durable entry: its live owner holds it for good, others
 * for moments (a publisher's reap, a join's reclaim, a listing: each finds
 * the entry durable and lets go).  Busy while the owner it names is dead
 * is one of those: retry, for up to RC_DURABLE_LOCK_NS.  -EBUSY: an owner
 * lives (or the moment lasted that long).
 */
#define RC_DURABLE_LOCK_NS (1000ll * 1000 * 1000)

static int rc_lock_entry_patient(struct rc_map *m, uint32_t idx)
{
	const struct timespec pause = { 0, 100 * 1000 };
	const struct rc_entry *e = &m->table[idx];
	uint64_t end = 0;
	int r;

	for (;;) {
		r = rc_lock_try(m, RC_LOCK_ENTRY0 + (int)idx);
		if (r != -EBUSY ||
		    rc_pid_alive(READ_ONCE(e->pid), READ_ONCE(e->start_time)))
			return r;
		if (!end)
			end = rc_now_ns() + RC_DURABLE_LOCK_NS;
		else if (rc_now_ns() >= end)
			return -EBUSY;
		nanosleep(&pause, NULL);
	}
}

static int rc_table_adopt(struct rc_map *m, const struct rc_join *j)
{
	uint32_t i;
	int r;

	for (i = 0; i < m->table_cap; i++) {
		struct rc_entry *e = &m->table[i];
		uint32_t st;

		if (!rc_entry_durable(e) || READ_ONCE(e->key) != j->key)
			continue;
		r = rc_lock_entry_patient(m, i);
		if (r < 0)
			return r;
		/* Acquire: pairs with the release of the claim (its fields). */
		st = smp_load_acquire(&e->state);
		if (!rc_entry_durable(e) || READ_ONCE(e->key) != j->key) {
			rc_lock_drop(m, RC_LOCK_ENTRY0 + (int)i);
			continue; /* released or demoted meanwhile */
		}
		WRITE_ONCE(e->lost, 0);
		WRITE_ONCE(e->skipped, 0);
		WRITE_ONCE(e->aborted, 0);
		WRITE_ONCE(e->pid, (int32_t)getpid());
		WRITE_ONCE(e->start_time, rc_proc_start_time(getpid()));
		WRITE_ONCE(e->interest, j->interest);
		WRITE_ONCE(e->flags, j->flags);
		WRITE_ONCE(e->demote_ns, j->demote_ns);
		/*
		 * Release: the fields above are visible to a publisher that
		 * lists the new word.  Fails only if a publisher demoted the
		 * entry since our look: it gates no more, what it held may
		 * be gone; let it go, and the caller joins afresh.
		 */
		if (!atomic_compare_exchange_strong_explicit(
			    &e->state, &st,
			    RC_ENTRY_WORD(RC_ENTRY_RELIABLE,
					  (RC_ENTRY_GEN(st) + 1) & 0xffffffu),
			    memory_order_acq_rel, memory_order_acquire)) {
			rc_entry_free(m, e);
			rc_lock_drop(m, RC_LOCK_ENTRY0 + (int)i);
			return -ENOENT;
		}
		/* Seq-cst: the publisher lists the new word of its gate. */
		atomic_fetch_add(&m->hdr->table_gen, 1);
		m->own = (int)i;
		return (int)i;
	}
	return -ENOENT;
}

/*
 * Register a durable reliable subscriber of key j->key: adopt the entry
 * its predecessor left (*adopted true), or else claim a new one.  Under
 * RC_LOCK_DURABLE, so that two subscribers of one key never both claim an
 * entry; one whose owner lives gives -EBUSY.  Else as rc_table_join().
 */
int rc_table_join_durable(struct rc_map *m, const struct rc_join *j,
			  bool *adopted)
{
	int r;

	*adopted = false;
	if (!m->writable || m->lock_fd < 0)
		return -EACCES;
	r = rc_lock_wait(m, RC_LOCK_DURABLE);
	if (r < 0)
		return r;
	r = rc_table_adopt(m, j);
	if (r >= 0)
		*adopted = true;
	else if (r == -ENOENT)
		r = rc_table_join(m, j);
	rc_lock_drop(m, RC_LOCK_DURABLE);
	return r;
}

/*
 * Free the durable entries of key (0: of any key) whose owners died: the
 * publisher stops waiting for them.  Returns how many, or -EBUSY when a
 * key was named and its owner lives.
 */
int rc_table_release_durable(struct rc_map *m, uint64_t key)
{
	uint32_t i;
	int n = 0, r;

	if (!m->writable || m->lock_fd < 0)
		return -EACCES;
	for (i = 0; i < m->table_cap; i++) {
		struct rc_entry *e = &m->table[i];

		if (!rc_entry_durable(e) || (key && READ_ONCE(e->key) != key))
			continue;
		r = key ? rc_lock_entry_patient(m, i) :
			  rc_lock_try(m, RC_LOCK_ENTRY0 + (int)i);
		if (r == -EBUSY && !key)
			continue;
		if (r < 0)
			return r;
		if (rc_entry_durable(e) && (!key || READ_ONCE(e->key) == key)) {
			rc_entry_free(m, e);
			n++;
		}
		rc_lock_drop(m, RC_LOCK_ENTRY0 + (int)i);
	}
	return n;
}

void rc_table_leave(struct rc_map *m, int idx)
{
	if (idx < 0 || (uint32_t)idx >= m->table_cap || m->lock_fd < 0)
		return;
	rc_entry_free(m, &m->table[idx]);
	rc_lock_drop(m, RC_LOCK_ENTRY0 + idx);
	if (m->own == idx)
		m->own = -1;
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

	for (i = 0; i < m->table_cap; i++) {
		uint32_t st = RC_ENTRY_KIND(READ_ONCE(m->table[i].state));

		if (st != RC_ENTRY_FREE && st != RC_ENTRY_PUBLISHER)
			used++;
	}
	return used;
}

uint32_t rc_table_reliable(const struct rc_map *m)
{
	uint32_t i, n = 0;

	for (i = 0; i < m->table_cap; i++)
		if (RC_ENTRY_KIND(READ_ONCE(m->table[i].state)) ==
		    RC_ENTRY_RELIABLE)
			n++;
	return n;
}

/* Is the owner of entry idx alive?  1, 0, or -1 when we cannot tell. */
static int rc_entry_alive(struct rc_map *m, uint32_t idx)
{
	const struct rc_entry *e = &m->table[idx];
	int32_t pid;
	uint64_t start;
	int r;

	r = rc_lock_probe(m, RC_LOCK_ENTRY0 + (int)idx);
	if (r >= 0)
		return r;
	/* Read-only: judge by pid and start time (one PID namespace). */
	pid = READ_ONCE(e->pid);
	start = READ_ONCE(e->start_time);
	if (pid <= 0)
		return -1;
	return rc_pid_alive(pid, start);
}

/* A snapshot of entry idx; false when it is free. */
bool rc_entry_info(struct rc_map *m, uint32_t idx, uint64_t head,
		   struct ringcast_ring_subscriber *si)
{
	const struct rc_entry *e = &m->table[idx];
	uint32_t st = RC_ENTRY_KIND(smp_load_acquire(&e->state)), fl;
	uint64_t first, cursor, lost, skipped, aborted, done, gone;

	if (st == RC_ENTRY_FREE || st == RC_ENTRY_PUBLISHER)
		return false;
	fl = READ_ONCE(e->flags);
	first = READ_ONCE(e->first);
	cursor = READ_ONCE(e->cursor);
	lost = READ_ONCE(e->lost);
	skipped = READ_ONCE(e->skipped);
	aborted = READ_ONCE(e->aborted);
	si->id = idx;
	si->pid = READ_ONCE(e->pid);
	si->alive = rc_entry_alive(m, idx);
	si->flags = 0;
	if (st == RC_ENTRY_RELIABLE)
		si->flags |= RINGCAST_SUBSCRIBER_RELIABLE;
	if (fl & RC_EF_DEMOTED)
		si->flags |= RINGCAST_SUBSCRIBER_DEMOTED;
	if (fl & RC_EF_FILTERED)
		si->flags |= RINGCAST_SUBSCRIBER_FILTERED;
	if (fl & RC_EF_DURABLE)
		si->flags |= RINGCAST_SUBSCRIBER_DURABLE;
	si->first = first;
	si->cursor = cursor;
	si->lag = head > cursor ? head - cursor : 0;
	/* Untrusted values, read at different moments: never wrap. */
	done = cursor > first ? cursor - first : 0;
	si->skipped = skipped;
	si->lost = lost;
	si->aborted = aborted;
	gone = skipped + lost + aborted;
	si->delivered = done > gone ? done - gone : 0;
	return true;
}
