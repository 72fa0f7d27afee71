// SPDX-License-Identifier: MIT
/*
 * The publisher handle: the lease, takeover, attach, close, finish and
 * detach.  The publish path is publish.c's (the seqlock and wake tables),
 * gating by reliable subscribers gate.c's (the gating table).
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

#include "pub.h"

#define RC_PUB_ID_LEASE 0xffffffffu

/*
 * Find the sequence that follows the last committed event: the head may
 * lag a slot committed just before the previous publisher died, so scan
 * forward from it along the slots' own stamps (at most one ring).
 */
static uint64_t rc_pub_find_head(struct rc_map *m)
{
	uint64_t h = smp_load_acquire(&m->hdr->head);
	uint32_t i;

	if (h > RC_SEQ_MAX - m->slot_count)
		return UINT64_MAX;
	for (i = 0; i < m->slot_count; i++) {
		/* Pairs with [D] of the previous publisher. */
		if (smp_load_acquire(&rc_slot_at(m, h)->stamp) != h + 1)
			break;
		h++;
	}
	return h;
}

/*
 * Remember how the epoch we take over ended (see rc_sub_end_code()): one
 * record per epoch, since a reader takes the first match.  A takeover
 * that recorded the epoch and then failed (its compare-and-swap lost to a
 * close or an abandonment, or it died before it) left a record of it with
 * a state that is no longer true: rewrite that one.  Writers are one at a
 * time (the lease, or the takeover lock).  Readers look only once they
 * see the new epoch, after our release compare-and-swap, so a rewrite is
 * never seen half done.
 */
static void rc_pub_record_end(struct rc_hdr *hdr, uint64_t life)
{
	uint32_t i, tag = (uint32_t)RC_LIFE_EPOCH(life);

	for (i = 0; i < RC_ENDED_MAX; i++)
		if (READ_ONCE(hdr->ended[i].tag) == tag)
			break;
	if (i == RC_ENDED_MAX) {
		i = READ_ONCE(hdr->ended_next) % RC_ENDED_MAX;
		WRITE_ONCE(hdr->ended[i].tag, tag);
		WRITE_ONCE(hdr->ended_next, i + 1);
	}
	WRITE_ONCE(hdr->ended[i].state, RC_LIFE_STATE(life));
}

/*
 * The takeover of a multi-publisher ring is one publisher's: the lock
 * byte RC_LOCK_TAKEOVER, held across the stores of the takeover and the
 * compare-and-swap of the life word, and dropped by the kernel if its
 * holder dies.  Held for a few stores, so a short wait; its cap only
 * bounds a holder stopped by a signal or a debugger.
 */
#define RC_TAKEOVER_WAIT_NS 2000000000ull

static int rc_takeover_lock(struct rc_map *m)
{
	struct timespec nap = { .tv_nsec = 50000 };
	uint64_t start = rc_now_ns();
	int r;

	for (;;) {
		r = rc_lock_try(m, RC_LOCK_TAKEOVER);
		if (r != -EBUSY)
			return r;
		if (rc_now_ns() - start >= RC_TAKEOVER_WAIT_NS)
			return -EBUSY;
		nanosleep(&nap, NULL);
	}
}

/*
 * Lock first, then touch the ring.  The publishers of a multi-publisher
 * ring share the lease (read locks: a prober sees it held while any of
 * them lives) and each holds a table entry, where it announces its
 * claims.  On failure nothing is left held.
 */
static int rc_pub_lock(struct ringcast_pub *pub, const char *name)
{
	struct rc_join j = { .state = RC_ENTRY_PUBLISHER };
	int r;

	pub->entry = -1;
	pub->id = RC_PUB_ID_LEASE;
	if (!pub->m.multi) {
		r = rc_lease_take(&pub->m);
		if (r == -EBUSY)
			rc_set_detail("ring '%s' has a live publisher", name);
		return r < 0 ? r : 0;
	}
	r = rc_lease_share(&pub->m);
	if (r < 0)
		return r;
	/* Reclaims dead publishers' entries: their claims become holes. */
	r = rc_table_join(&pub->m, &j);
	if (r < 0) {
		if (r == -EUSERS)
			rc_set_detail("the table of ring '%s' is full", name);
		rc_lease_drop(&pub->m);
		return r;
	}
	pub->entry = r;
	pub->e = &pub->m.table[r];
	pub->id = (uint32_t)r;
	pub->multi = true;
	return 0;
}

/* 0 when the life word lets a publisher in, else why not. */
static int rc_pub_refused(uint64_t life, unsigned int flags, const char *name)
{
	uint32_t state = RC_LIFE_STATE(life);
	int r = rc_life_check(life);

	if (r < 0)
		return r;
	if (state == RINGCAST_STATE_CLOSED && !(flags & RINGCAST_PUB_REOPEN)) {
		rc_set_detail("ring '%s' is closed", name);
		return -EPIPE;
	}
	if (state == RINGCAST_STATE_REMOVED) {
		rc_set_detail("ring '%s' was removed", name);
		return -EIDRM;
	}
	return 0;
}

/*
 * Take the ring over from the life word *life: a new epoch, starting at
 * the head.  Returns 1 when the ring is ours, with *headp and *epochp set;
 * 0 when the compare-and-swap of the life word lost (*life is then the
 * word found: look again); or a negative errno.
 */
static int rc_pub_takeover(struct ringcast_pub *pub, uint64_t *life,
			   uint64_t *headp, uint64_t *epochp)
{
	struct rc_hdr *hdr = pub->m.hdr;
	uint64_t head, epoch;

	/*
	 * A multi-publisher ring's head is its claims: never stored
	 * here, so it never moves back under a claim another
	 * publisher made.  A single publisher's head may lag a slot
	 * committed just before its predecessor died: found along
	 * the stamps, and stored (we hold the lease alone).
	 */
	head = pub->multi ? atomic_load(&hdr->head) : rc_pub_find_head(&pub->m);
	if (head > RC_SEQ_MAX - pub->m.slot_count)
		head = UINT64_MAX;
	if (head == UINT64_MAX) {
		rc_set_detail("corrupted: head out of range");
		return -EBADMSG;
	}
	do {
		epoch = rc_random64() >> 8;
	} while (!(uint32_t)epoch ||
		 (uint32_t)epoch == (uint32_t)RC_LIFE_EPOCH(*life));

	/*
	 * A reserved-but-uncommitted slot at head (stamp head + 1 with
	 * BUSY) needs nothing: the next publish marks it busy again
	 * and overwrites it, and readers wait at head meanwhile.
	 */
	WRITE_ONCE(hdr->epoch_start, head);
	if (RC_LIFE_STATE(*life) != RINGCAST_STATE_CREATED)
		rc_pub_record_end(hdr, *life);
	WRITE_ONCE(hdr->pub_pid, (int32_t)getpid());
	WRITE_ONCE(hdr->pub_start, rc_proc_start_time(getpid()));
	/* A publisher that died waiting for room left its start there. */
	WRITE_ONCE(hdr->blocked_since, 0);
	if (!pub->multi)
		smp_store_release(&hdr->head, head);
	pub->life = RC_LIFE(epoch, RINGCAST_STATE_LIVE);
	*headp = head;
	*epochp = epoch;
	/*
	 * Release: the fields above (and ended[]) are visible to a
	 * reader that sees the new epoch (its smp_load_acquire() of
	 * life, or of a stamp this epoch commits).  We are the only
	 * publisher here (the lease, or the takeover lock); only a
	 * subscriber marking the ring abandoned and
	 * ringcast_ring_close() race with us: then look again.
	 */
	return atomic_compare_exchange_strong_explicit(&hdr->life, life,
						       pub->life,
						       memory_order_acq_rel,
						       memory_order_acquire);
}

/*
 * Start publishing, the lease (or its share) held: join the live epoch
 * of a multi-publisher ring, or take the ring over (rc_pub_takeover()).
 * Returns 0 with *headp and *epochp set, or a negative errno.
 */
static int rc_pub_start(struct ringcast_pub *pub, const char *name,
			uint64_t *headp, uint64_t *epochp)
{
	struct rc_hdr *hdr = pub->m.hdr;
	uint64_t life = smp_load_acquire(&hdr->life);
	bool locked = false;
	int r, tries;

	for (tries = 0;; tries++) {
		r = rc_pub_refused(life, pub->flags, name);
		if (r < 0)
			break;
		if (pub->multi && RC_LIFE_STATE(life) == RINGCAST_STATE_LIVE) {
			/*
			 * Join the live epoch: we hold a share of the lease,
			 * so a subscriber that probes it from now on finds it
			 * held.  One that probed it free before our share may
			 * still mark the epoch abandoned: our publishes then
			 * fail with -EPIPE, and nothing is lost.
			 * The acquire load of life that saw it live pairs
			 * with the release CAS of whoever took it over: its
			 * epoch_start and ended[] come with it.
			 */
			pub->life = life;
			*epochp = RC_LIFE_EPOCH(life);
			*headp = atomic_load(&hdr->head);
			break;
		}
		if (pub->multi && !locked) {
			/*
			 * Only one publisher takes a multi-publisher ring
			 * over: the others wait here, then find it live and
			 * join.  Look at the life word again under the lock.
			 */
			r = rc_takeover_lock(&pub->m);
			if (r < 0) {
				if (r == -EBUSY)
					rc_set_detail("another publisher of "
						      "'%s' is stuck taking "
						      "it over",
						      name);
				break;
			}
			locked = true;
			life = smp_load_acquire(&hdr->life);
			continue;
		}
		r = rc_pub_takeover(pub, &life, headp, epochp);
		if (r != 0)
			break;
		if (tries > 16) {
			r = -EBUSY;
			break;
		}
	}
	if (locked)
		rc_lock_drop(&pub->m, RC_LOCK_TAKEOVER);
	return r < 0 ? r : 0;
}

RINGCAST_API int ringcast_pub_attach(const char *name, unsigned int flags,
				     struct ringcast_pub **pubp)
{
	struct ringcast_pub *pub;
	uint64_t epoch = 0, head = 0;
	int r;

	rc_set_detail("%s", "");
	if (!pubp || (flags & ~(RINGCAST_PUB_REOPEN | RINGCAST_PUB_PRECISE |
				RINGCAST_PUB_ANY_OWNER)))
		return -EINVAL;
	pub = calloc(1, sizeof(*pub));
	if (!pub)
		return -ENOMEM;
	pub->flags = flags;
	r = rc_map_open(name, true, &pub->m);
	if (r < 0)
		goto err_free;
	/* Its owner reads whatever we write (SECURITY.md). */
	if (!(flags & RINGCAST_PUB_ANY_OWNER)) {
		r = rc_map_owner_check(&pub->m);
		if (r < 0)
			goto err_unmap;
	}
	pub->gates = calloc(pub->m.table_cap, sizeof(*pub->gates));
	pub->peers = calloc(pub->m.table_cap, sizeof(*pub->peers));
	if (!pub->gates || !pub->peers) {
		r = -ENOMEM;
		goto err_unmap;
	}
	r = rc_pub_lock(pub, name);
	if (r < 0)
		goto err_unmap;
	r = rc_pub_start(pub, name, &head, &epoch);
	if (r < 0)
		goto err_drop;
	pub->head = head;
	pub->epoch_tag = (uint32_t)epoch;
	pub->table_gen = READ_ONCE(pub->m.hdr->table_gen);
	pub->registered = rc_table_count(&pub->m);
	WRITE_ONCE(pub->m.hdr->entries, pub->registered);
	rc_pub_init_limit(pub, head);
	pub->allowed = 0; /* the first publish scans */
	rc_pub_data_init(pub);
	pub->quarter = pub->m.slot_count >= 4 ? pub->m.slot_count / 4 : 1;
	pub->slowest = -1;
	pub->gate_gen = READ_ONCE(pub->m.hdr->table_gen) - 1; /* list at once */
	pub->timeout_ns = -1;
	*pubp = pub;
	return 0;

err_drop:
	if (pub->entry >= 0)
		rc_table_leave(&pub->m, pub->entry);
	rc_lease_drop(&pub->m);
err_unmap:
	rc_map_close(&pub->m);
err_free:
	free(pub->peers);
	free(pub->gates);
	free(pub);
	return r;
}

RINGCAST_API uint64_t ringcast_pub_head(const struct ringcast_pub *pub)
{
	return pub ? pub->head : 0;
}

RINGCAST_API int ringcast_pub_set_timeout(struct ringcast_pub *pub,
					  int64_t timeout_ns)
{
	if (!pub)
		return -EINVAL;
	pub->timeout_ns = timeout_ns < 0 ? -1 : timeout_ns;
	return 0;
}

RINGCAST_API void ringcast_pub_interrupt(struct ringcast_pub *pub)
{
	if (!pub)
		return;
	/* Seq-cst, before the bump: a wait re-checks intr after it. */
	atomic_store(&pub->intr, 1);
	if (rc_map_forked(&pub->m))
		return;
	/* + 2 changes the futex word and leaves RC_PUB_SLEEPING alone. */
	atomic_fetch_add(&pub->m.hdr->pub_wait, 2);
	rc_futex_wake(&pub->m.hdr->pub_wait, FUTEX_BITSET_MATCH_ANY);
}

RINGCAST_API int ringcast_pub_subscribers(struct ringcast_pub *pub)
{
	if (!pub)
		return -EINVAL;
	if (rc_map_forked(&pub->m))
		return -ECHILD;
	return (int)rc_table_live(&pub->m);
}

RINGCAST_API int ringcast_pub_wait_subscribers(struct ringcast_pub *pub,
					       unsigned int n,
					       int64_t timeout_ns)
{
	uint64_t start = rc_now_ns();
	int r;

	if (!pub)
		return -EINVAL;
	for (;;) {
		r = rc_pub_check(pub);
		if (r < 0)
			return r;
		r = (int)rc_table_live(&pub->m);
		if ((unsigned int)r >= n)
			return r;
		if (atomic_exchange(&pub->intr, 0))
			return -EINTR;
		if (timeout_ns == 0)
			return -EAGAIN;
		if (timeout_ns > 0 &&
		    rc_now_ns() - start >= (uint64_t)timeout_ns)
			return -ETIMEDOUT;
		/* Interruptible: ringcast_pub_interrupt() bumps the word. */
		rc_futex_wait(&pub->m.hdr->pub_wait,
			      READ_ONCE(pub->m.hdr->pub_wait),
			      FUTEX_BITSET_MATCH_ANY, 1000000);
	}
}

/*
 * A multi-publisher ring's reservation that will never be committed: make
 * it a hole now, or readers would wait at it for ever (a dead publisher's
 * is aborted by whoever reclaims its entry; ours is left by a free).
 */
static void rc_pub_drop_reservation(struct ringcast_pub *pub)
{
	if (pub->reserving && pub->multi && pub->entry >= 0)
		rc_claim_abort(&pub->m, (uint32_t)pub->entry);
	pub->reserving = false;
}

/*
 * Leave the ring (reservation, entry, then the lease), wake every sleeper,
 * so that they see the new state or find the lease free now rather than
 * at their timer, and free the handle.  In a forked child only the memory
 * is freed.
 */
static void rc_pub_free(struct ringcast_pub *pub)
{
	if (!rc_map_forked(&pub->m)) {
		rc_pub_drop_reservation(pub);
		if (pub->entry >= 0)
			rc_table_leave(&pub->m, pub->entry);
		rc_lease_drop(&pub->m);
		rc_wake_all(&pub->m);
	}
	rc_map_close(&pub->m);
	free(pub->peers);
	free(pub->gates);
	free(pub);
}

RINGCAST_API int ringcast_pub_close(struct ringcast_pub *pub)
{
	uint64_t life;
	int r = 0;

	if (!pub)
		return -EINVAL;
	if (rc_map_forked(&pub->m)) {
		rc_pub_free(pub);
		return -ECHILD;
	}
	life = pub->life;
	/*
	 * Release: every commit above is visible to a reader that sees the
	 * closed state (its smp_load_acquire() of life), so draining after
	 * it misses nothing.
	 */
	if (!atomic_compare_exchange_strong_explicit(
		    &pub->m.hdr->life, &life,
		    RC_LIFE(RC_LIFE_EPOCH(pub->life), RINGCAST_STATE_CLOSED),
		    memory_order_acq_rel, memory_order_acquire))
		r = rc_life_end(life);
	rc_pub_free(pub);
	return r;
}

RINGCAST_API void ringcast_pub_detach(struct ringcast_pub *pub)
{
	if (pub)
		rc_pub_free(pub);
}

RINGCAST_API int ringcast_pub_finish(struct ringcast_pub *pub)
{
	struct rc_map *m;
	uint32_t i, others = 0;

	if (!pub)
		return -EINVAL;
	if (!pub->multi || rc_map_forked(&pub->m)) {
		int r = ringcast_pub_close(pub);

		return r < 0 ? r : 1;
	}
	m = &pub->m;
	/*
	 * Seq-cst, before we look at the others: of two publishers finishing
	 * at once, at least one sees the other leaving (or gone) and closes.
	 */
	atomic_fetch_or(&pub->e->flags, RC_EF_LEAVING);
	for (i = 0; i < m->table_cap; i++) {
		const struct rc_entry *e = &m->table[i];

		if ((int)i == pub->entry ||
		    RC_ENTRY_KIND(atomic_load(&e->state)) !=
			    RC_ENTRY_PUBLISHER ||
		    (atomic_load(&e->flags) & RC_EF_LEAVING))
			continue;
		if (rc_lock_probe(m, RC_LOCK_ENTRY0 + (int)i) == 0)
			continue; /* dead */
		others++;
	}
	if (others) {
		ringcast_pub_detach(pub);
		return 0;
	}
	ringcast_pub_close(pub); /* -EPIPE: another closed it: as good */
	return 1;
}
