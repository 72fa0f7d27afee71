// SPDX-License-Identifier: MIT
/*
 * The publisher: the lease, takeover, and the publish path.
 *
 * Publishing event S into slot S & mask is a seqlock with a declared
 * intent.  The parties and their barriers:
 *
 *   publisher (rc_slot_begin/_end)        reader (sub.c: rc_sub_try)
 *   ------------------------------        -------------------------------
 *   stamp = (S + 1) | BUSY                s1 = load_acquire(stamp)     [B]
 *   smp_wmb()                        [A]  read type, len, payload
 *   write type, len, ts, payload          smp_rmb()                    [C]
 *   store_release(stamp, S + 1)      [D]  s2 = READ_ONCE(stamp)
 *   store_release(head, S + 1)       [E]  accept only if s2 == s1 == S + 1
 *
 * [D] pairs with [B]: a reader that sees S + 1 sees the whole event.
 * [A] pairs with [C]: a reader whose copy saw any byte of a later write
 * into the slot sees that write's BUSY mark (or a later stamp) in s2, so
 * a torn copy is always discarded.  Storing the new stamp last is not
 * enough on its own: without the BUSY mark a reader that re-checks before
 * it lands would accept a torn copy.
 *
 * Waking (DESIGN §4), with sub.c's rc_sub_sleep():
 *
 *   publisher                             sleeper
 *                                         g = wake_seq
 *   store_release(head)                   fetch_or(wake_bits, mine)
 *   smp_mb()                         [F]  smp_mb()                     [G]
 *   if (READ_ONCE(wake_bits) & bit)       if (head > cursor) don't sleep
 *     fetch_and(wake_bits, ~bit)          FUTEX_WAIT(wake_seq, g, mine)
 *     wake_seq++; FUTEX_WAKE(bit)
 *
 * [F] pairs with [G] (a store-buffering pattern): either the sleeper sees
 * the new head, or the publisher sees the sleeper's bit.  In the second
 * case the sleeper read g before its fetch_or, which came before the
 * publisher's fetch_and and so before its increment: a sleeper that set its
 * bit but has not yet entered FUTEX_WAIT finds wake_seq != g and does not
 * sleep.  The sleepers wait on wake_seq, not on the bitmap, because the
 * bitmap can return to a value a sleeper expects (a bit cleared by one
 * wake and set again by another sleeper of the bucket).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "barrier.h"
#include "compiler.h"
#include "copy.h"
#include "ring.h"

#define RC_PUB_ID_LEASE 0xffffffffu

struct ringcast_pub {
	struct rc_map m;
	uint64_t head; /* next sequence to write; ours alone */
	uint64_t life; /* the life word while we hold the ring */
	uint64_t refused;
	uint64_t wakes;
	uint32_t epoch_tag;
	uint32_t flags;
	uint32_t table_gen; /* table generation last counted */
	uint32_t registered; /* entries in use at that generation */
	size_t reserved; /* bytes reserved, or 0 */
	bool reserving;
};

static uint64_t rc_pub_ts(const struct ringcast_pub *pub)
{
	struct timespec ts;

	clock_gettime(pub->flags & RINGCAST_PUB_PRECISE ?
			      CLOCK_MONOTONIC :
			      CLOCK_MONOTONIC_COARSE,
		      &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

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

/* Remember how the epoch we take over ended (see rc_sub_end_code()). */
static void rc_pub_record_end(struct rc_hdr *hdr, uint64_t life)
{
	uint32_t i = READ_ONCE(hdr->ended_next) % RC_ENDED_MAX;

	WRITE_ONCE(hdr->ended[i].tag, (uint32_t)RC_LIFE_EPOCH(life));
	WRITE_ONCE(hdr->ended[i].state, RC_LIFE_STATE(life));
	WRITE_ONCE(hdr->ended_next, i + 1);
}

RINGCAST_API int ringcast_pub_attach(const char *name, unsigned int flags,
				     struct ringcast_pub **pubp)
{
	struct ringcast_pub *pub;
	struct rc_hdr *hdr;
	uint64_t life, epoch, head;
	uint32_t state;
	int r, tries;

	rc_set_detail("%s", "");
	if (!pubp || (flags & ~(RINGCAST_PUB_REOPEN | RINGCAST_PUB_PRECISE)))
		return -EINVAL;
	pub = calloc(1, sizeof(*pub));
	if (!pub)
		return -ENOMEM;
	pub->flags = flags;
	r = rc_map_open(name, true, &pub->m);
	if (r < 0)
		goto err_free;
	hdr = pub->m.hdr;

	/* Lock first, then touch the ring. */
	r = rc_lease_take(&pub->m);
	if (r < 0) {
		if (r == -EBUSY)
			rc_set_detail("ring '%s' has a live publisher", name);
		goto err_unmap;
	}

	life = smp_load_acquire(&hdr->life);
	for (tries = 0;; tries++) {
		r = rc_life_check(life);
		if (r < 0)
			goto err_drop;
		state = RC_LIFE_STATE(life);
		if (state == RINGCAST_STATE_CLOSED &&
		    !(flags & RINGCAST_PUB_REOPEN)) {
			rc_set_detail("ring '%s' is closed", name);
			r = -EPIPE;
			goto err_drop;
		}
		head = rc_pub_find_head(&pub->m);
		if (head == UINT64_MAX) {
			rc_set_detail("corrupted: head out of range");
			r = -EBADMSG;
			goto err_drop;
		}
		do {
			epoch = rc_random64() >> 8;
		} while (!(uint32_t)epoch ||
			 (uint32_t)epoch == (uint32_t)RC_LIFE_EPOCH(life));

		/*
		 * A reserved-but-uncommitted slot at head (stamp head + 1 with
		 * BUSY) needs nothing: the next publish marks it busy again
		 * and overwrites it, and readers wait at head meanwhile.
		 */
		WRITE_ONCE(hdr->epoch_start, head);
		if (state != RINGCAST_STATE_CREATED)
			rc_pub_record_end(hdr, life);
		WRITE_ONCE(hdr->pub_pid, (int32_t)getpid());
		WRITE_ONCE(hdr->pub_start, rc_proc_start_time(getpid()));
		smp_store_release(&hdr->head, head);
		pub->life = RC_LIFE(epoch, RINGCAST_STATE_LIVE);
		/*
		 * Release: the fields above (and ended[]) are visible to a
		 * reader that sees the new epoch (its smp_load_acquire() of
		 * life, or of a stamp this epoch commits).  Only
		 * subscribers marking the ring abandoned race with us here.
		 */
		if (atomic_compare_exchange_strong_explicit(
			    &hdr->life, &life, pub->life, memory_order_acq_rel,
			    memory_order_acquire))
			break;
		if (tries > 16) {
			r = -EBUSY;
			goto err_drop;
		}
	}
	pub->head = head;
	pub->epoch_tag = (uint32_t)epoch;
	pub->table_gen = READ_ONCE(hdr->table_gen);
	pub->registered = rc_table_count(&pub->m);
	pub->refused = READ_ONCE(hdr->refused);
	pub->wakes = READ_ONCE(hdr->wakes);
	*pubp = pub;
	return 0;

err_drop:
	rc_lease_drop(&pub->m);
err_unmap:
	rc_map_close(&pub->m);
err_free:
	free(pub);
	return r;
}

/* Subscribers registered: recounted only when the table changed. */
static int rc_pub_registered(struct ringcast_pub *pub)
{
	/* Pairs with the seq-cst increments of table_gen in table.c. */
	uint32_t gen = smp_load_acquire(&pub->m.hdr->table_gen);

	if (unlikely(gen != pub->table_gen)) {
		pub->table_gen = gen;
		pub->registered = rc_table_count(&pub->m);
	}
	return (int)pub->registered;
}

static int rc_pub_refuse(struct ringcast_pub *pub, int err)
{
	WRITE_ONCE(pub->m.hdr->refused, ++pub->refused);
	return err;
}

/* Checks shared by every publish call; 0 when publishing may go on. */
static int rc_pub_check(struct ringcast_pub *pub)
{
	if (unlikely(rc_map_forked(&pub->m)))
		return -ECHILD;
	if (unlikely(pub->reserving))
		return -EBUSY;
	/* Closed from outside (ringcast_ring_close())?  A cached line. */
	if (unlikely(READ_ONCE(pub->m.hdr->life) != pub->life))
		return rc_pub_refuse(pub, -EPIPE);
	return 0;
}

/* Declare the intent to overwrite the slot of seq: [A] in the table. */
static struct rc_slot *rc_slot_begin(struct ringcast_pub *pub, uint64_t seq)
{
	struct rc_slot *s = rc_slot_at(&pub->m, seq);

	WRITE_ONCE(s->stamp, (seq + 1) | RC_STAMP_BUSY);
	/* Pairs with smp_rmb() [C] in rc_sub_try() before its second load. */
	smp_wmb();
	return s;
}

static void rc_slot_end(struct ringcast_pub *pub, struct rc_slot *s,
			uint64_t seq, uint32_t type, uint32_t len, uint64_t ts)
{
	WRITE_ONCE(s->type, type);
	WRITE_ONCE(s->len, len);
	WRITE_ONCE(s->ts, ts);
	WRITE_ONCE(s->epoch, pub->epoch_tag);
	WRITE_ONCE(s->pub_id, RC_PUB_ID_LEASE);
	/* [D]: pairs with smp_load_acquire() [B] of stamp in rc_sub_try(). */
	smp_store_release(&s->stamp, seq + 1);
}

/* Publish the head once for what was committed, then look for sleepers. */
static void rc_pub_advance(struct ringcast_pub *pub, uint64_t n, uint32_t bits)
{
	struct rc_hdr *hdr = pub->m.hdr;
	uint32_t w, old;

	pub->head += n;
	/* [E]: pairs with smp_load_acquire() of head in readers. */
	smp_store_release(&hdr->head, pub->head);
	/* [F]: pairs with smp_mb() [G] in rc_sub_sleep(). */
	smp_mb();
	w = READ_ONCE(hdr->wake_bits);
	if (likely(!(w & bits)))
		return;
	/* One wake per sleep episode: whoever clears a bit wakes it. */
	old = atomic_fetch_and(&hdr->wake_bits, ~bits);
	if (old & bits) {
		rc_wake_seq(hdr, old & bits);
		WRITE_ONCE(hdr->wakes, ++pub->wakes);
	}
}

RINGCAST_API int ringcast_pub_publish(struct ringcast_pub *pub, uint32_t type,
				      const void *data, size_t len)
{
	struct rc_slot *s;
	int r;

	if (unlikely(!pub || (len && !data)))
		return -EINVAL;
	r = rc_pub_check(pub);
	if (unlikely(r < 0))
		return r;
	if (unlikely(len > pub->m.capacity))
		return rc_pub_refuse(pub, -EMSGSIZE);
	s = rc_slot_begin(pub, pub->head);
	/*
	 * The payload is written with plain stores while readers may copy it:
	 * the seqlock's one documented data race, resolved by [A]/[C].
	 */
	if (len)
		rc_copy_in(s->data, data, len);
	rc_slot_end(pub, s, pub->head, type, (uint32_t)len, rc_pub_ts(pub));
	rc_pub_advance(pub, 1, rc_type_bit(type) | RC_WAKE_ANY);
	return (int)rc_pub_registered(pub);
}

RINGCAST_API int ringcast_pub_publish_batch(struct ringcast_pub *pub,
					    const struct ringcast_msg *msgs,
					    unsigned int n)
{
	uint32_t bits = 0;
	uint64_t ts;
	unsigned int i;
	int r;

	if (unlikely(!pub || (n && !msgs)))
		return -EINVAL;
	r = rc_pub_check(pub);
	if (unlikely(r < 0))
		return r;
	for (i = 0; i < n; i++) {
		if (msgs[i].len > pub->m.capacity)
			return rc_pub_refuse(pub, -EMSGSIZE);
		if (msgs[i].len && !msgs[i].data)
			return -EINVAL;
	}
	if (!n)
		return (int)rc_pub_registered(pub);
	ts = rc_pub_ts(pub);
	for (i = 0; i < n; i++) {
		uint64_t seq = pub->head + i;
		struct rc_slot *s = rc_slot_begin(pub, seq);

		if (msgs[i].len)
			rc_copy_in(s->data, msgs[i].data, msgs[i].len);
		rc_slot_end(pub, s, seq, msgs[i].type, msgs[i].len, ts);
		bits |= rc_type_bit(msgs[i].type);
		/*
		 * A batch longer than the ring publishes its head once per
		 * ring, so a takeover's scan from the head (at most one ring
		 * long) always finds where a dead publisher stopped.
		 */
		if (unlikely(!((seq + 1) & pub->m.mask)) && i + 1 < n)
			smp_store_release(&pub->m.hdr->head, seq + 1);
	}
	rc_pub_advance(pub, n, bits | RC_WAKE_ANY);
	return (int)rc_pub_registered(pub);
}

RINGCAST_API int ringcast_pub_reserve(struct ringcast_pub *pub, size_t len,
				      void **bufp)
{
	struct rc_slot *s;
	int r;

	if (!pub || !bufp)
		return -EINVAL;
	r = rc_pub_check(pub);
	if (r < 0)
		return r;
	if (len > pub->m.capacity)
		return rc_pub_refuse(pub, -EMSGSIZE);
	s = rc_slot_begin(pub, pub->head);
	pub->reserving = true;
	pub->reserved = len;
	*bufp = s->data;
	return 0;
}

RINGCAST_API int ringcast_pub_commit(struct ringcast_pub *pub, uint32_t type,
				     size_t len)
{
	if (!pub)
		return -EINVAL;
	if (rc_map_forked(&pub->m))
		return -ECHILD;
	if (!pub->reserving || len > pub->reserved)
		return -EINVAL;
	pub->reserving = false;
	rc_slot_end(pub, rc_slot_at(&pub->m, pub->head), pub->head, type,
		    (uint32_t)len, rc_pub_ts(pub));
	rc_pub_advance(pub, 1, rc_type_bit(type) | RC_WAKE_ANY);
	return (int)rc_pub_registered(pub);
}

RINGCAST_API uint64_t ringcast_pub_head(const struct ringcast_pub *pub)
{
	return pub ? pub->head : 0;
}

static void rc_pub_free(struct ringcast_pub *pub)
{
	if (!rc_map_forked(&pub->m))
		rc_lease_drop(&pub->m);
	rc_map_close(&pub->m);
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
		r = -EPIPE;
	rc_wake_all(&pub->m);
	rc_pub_free(pub);
	return r;
}

RINGCAST_API void ringcast_pub_detach(struct ringcast_pub *pub)
{
	bool forked;

	if (!pub)
		return;
	forked = rc_map_forked(&pub->m);
	if (!forked)
		rc_lease_drop(&pub->m);
	/* Let sleepers find the lease free now rather than at their timer. */
	if (!forked)
		rc_wake_all(&pub->m);
	rc_map_close(&pub->m);
	free(pub);
}
